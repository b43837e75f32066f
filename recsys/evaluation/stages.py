"""The stage table: every request's weight-independent pipeline output, re-blended cheaply.

A :class:`StageTable` holds, per request, the ranked lists of the systems that do not
depend on the weights and the blend's candidate pool with its normalised signals
``(r̂, ŝ, b̂)``; :meth:`StageTable.blend_ranking` ranks the pool by
``final = α·r̂ + β·ŝ + γ·b̂`` in the pipeline's float32 arithmetic, identical to
``Recommendation.reblend`` (so a weight sweep is one vectorised pass per point).
:class:`EvalContext` holds the catalogue facts the beyond-accuracy metrics need.
Tables are built by :func:`recsys.evaluation.collect.collect_stages`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys.blend import BlendWeights, normalise_weights
from recsys.evaluation.metrics import accuracy_metrics, beyond_metrics, self_information
from recsys.evaluation.requests import EvalRequest

if TYPE_CHECKING:
    from recsys.pipeline import Recommender


@dataclass(eq=False)
class StageTable:
    """Weight-independent results of every request, ready for cheap re-blending.

    Per request ``n`` (row): ``fixed[system][n]`` the ranked item indices of the systems that
    do not depend on the weights (``-1`` pads); ``pool[n]`` the blend's candidate pool
    (item indices, excluded items removed, ``-1`` pads) with ``signals[:, n]`` = ``(r̂, ŝ,
    b̂)`` normalised exactly as the pipeline does; the intent's constraints (for the
    violation metric); the target item indices.
    """

    requests: list[EvalRequest]
    length: int
    targets: list[np.ndarray]
    fixed: dict[str, np.ndarray]
    pool: np.ndarray
    signals: np.ndarray
    valid: np.ndarray
    disliked_genres: np.ndarray
    era: np.ndarray
    constrained: np.ndarray
    context: EvalContext
    sampled: bool = False
    seconds: float = 0.0
    _target_keys: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n_items = self.context.n_items
        keys = [row * n_items + t for row, t in enumerate(self.targets)]
        self._target_keys = np.sort(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.requests)

    @property
    def n_targets(self) -> np.ndarray:
        """``int[N]``: number of targets per request."""
        return np.array([len(t) for t in self.targets], dtype=np.int64)

    @property
    def groups(self) -> np.ndarray:
        """Bootstrap cluster label per request (the user, or the request itself)."""
        return np.array([r.group or r.id for r in self.requests], dtype=object)

    def rows(self, predicate: Callable[[EvalRequest], bool]) -> np.ndarray:
        """Row numbers of the requests satisfying ``predicate``."""
        return np.array([n for n, r in enumerate(self.requests) if predicate(r)], dtype=np.int64)

    def rows_where(self, **fields: Any) -> np.ndarray:
        """Row numbers of the requests whose fields equal the given values
        (``rows_where(variant="titles")``, ``rows_where(has_mention=False)``)."""
        return self.rows(lambda r: all(getattr(r, name) == value for name, value in fields.items()))

    # ---------------------------------------------------------------- rankings
    def blend_ranking(self, weights: BlendWeights | Sequence[float], rows: np.ndarray | None = None,
                      length: int | None = None) -> np.ndarray:
        """``int[N, L]``: the blend's lists under ``weights`` (identical to the pipeline's
        ``reblend(weights).blend.ranking`` with the protocol's exclusions removed)."""
        alpha, beta, gamma = weight_tuple(weights)
        signals = self.signals if rows is None else self.signals[:, rows]
        valid = self.valid if rows is None else self.valid[rows]
        pool = self.pool if rows is None else self.pool[rows]
        # the pipeline's float32 arithmetic, term by term, so ties fall the same way
        final = (np.float32(alpha) * signals[0] + np.float32(beta) * signals[1]
                 + np.float32(gamma) * signals[2]).astype(np.float64)
        final[~valid] = -np.inf
        length = self.length if length is None else length
        order = top_order(-final, length)
        ranked = np.take_along_axis(pool, order, axis=1)
        ranked[~np.take_along_axis(valid, order, axis=1)] = -1
        if ranked.shape[1] < length:                     # small pools: pad to the list length
            ranked = np.pad(ranked, ((0, 0), (0, length - ranked.shape[1])), constant_values=-1)
        return ranked

    def ranking(self, system: str, weights: BlendWeights | Sequence[float] | None = None,
                rows: np.ndarray | None = None) -> np.ndarray:
        """``int[N, L]`` item indices of one system (``blend`` needs ``weights``)."""
        if system in self.fixed:
            return self.fixed[system] if rows is None else self.fixed[system][rows]
        if system in ("blend", "blend-tuned"):
            if weights is None:
                raise ValueError("the blend needs weights")
            return self.blend_ranking(weights, rows)
        raise ValueError(f"unknown system {system!r}")

    # ---------------------------------------------------------------- metrics
    def hits(self, ranked: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """``bool[N, L]``: which listed items are targets of their request."""
        row_ids = np.arange(len(self)) if rows is None else rows
        keys = row_ids[:, None] * self.context.n_items + ranked
        return np.isin(keys, self._target_keys) & (ranked >= 0)

    def metrics(self, ranked: np.ndarray, names: Iterable[str], k: int,
                rows: np.ndarray | None = None, beyond: bool = True) -> dict[str, np.ndarray]:
        """Per-request accuracy metrics ``names`` and, with ``beyond``, the per-request
        beyond-accuracy metrics at ``k`` (coverage is corpus-level: see :func:`summarise`)."""
        n_targets = self.n_targets if rows is None else self.n_targets[rows]
        out = accuracy_metrics(self.hits(ranked, rows), n_targets, names)
        if beyond:
            out.update(self.beyond(ranked[:, :k], k, rows))
        return out

    def beyond(self, top: np.ndarray, k: int, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Popularity, novelty, intra-list diversity and intent violations of ``top``."""
        ctx = self.context
        return beyond_metrics(
            top, k, n_ratings=ctx.n_ratings, self_info=ctx.self_information, embeddings=ctx.embeddings,
            genre_matrix=ctx.genre_matrix, years=ctx.years,
            disliked=self.disliked_genres if rows is None else self.disliked_genres[rows],
            era=self.era if rows is None else self.era[rows],
            constrained=self.constrained if rows is None else self.constrained[rows])


def top_order(keys: np.ndarray, length: int) -> np.ndarray:
    """Per row, the positions of the ``length`` smallest ``keys`` in order, ties by position
    — exactly ``np.argsort(keys, axis=1, kind="stable")[:, :length]``, but a partition
    first (rows whose ties straddle the cut fall back to the full stable sort)."""
    width = keys.shape[1]
    if length >= width or width <= 2 * length:
        return np.argsort(keys, axis=1, kind="stable")[:, :length]
    part = np.argpartition(keys, length - 1, axis=1)[:, :length]
    values = np.take_along_axis(keys, part, axis=1)
    order = np.lexsort((part, values), axis=1)
    out = np.take_along_axis(part, order, axis=1)
    cut = values.max(axis=1)
    straddle = (keys <= cut[:, None]).sum(axis=1) > length
    if straddle.any():
        out[straddle] = np.argsort(keys[straddle], axis=1, kind="stable")[:, :length]
    return out


@dataclass(frozen=True, eq=False)
class EvalContext:
    """Catalogue facts the metrics need (from the data the evaluated system was fitted on)."""

    n_items: int
    n_ratings: np.ndarray
    self_information: np.ndarray
    embeddings: np.ndarray
    genre_matrix: np.ndarray
    genre_column: Mapping[str, int]
    years: np.ndarray

    @classmethod
    def of(cls, recommender: Recommender) -> EvalContext:
        """From a recommender: its catalogue statistics, CF users and item embeddings."""
        cat = recommender.catalogue
        n_users = max(1, len(getattr(recommender.cf, "user_ids", ())) or
                      int(cat.ratings["user_id"].nunique()))
        n = cat.n_ratings.astype(np.float64)
        info = self_information(n, n_users)
        return cls(len(cat), n, info, recommender.index.embeddings, cat.genre_matrix,
                   cat.genre_column, cat.years)


def weight_tuple(weights: BlendWeights | Sequence[float]) -> tuple[float, float, float]:
    """``(α, β, γ)`` normalised exactly as the pipeline does (:func:`recsys.blend.normalise_weights`)."""
    if isinstance(weights, BlendWeights):
        return weights.as_tuple()
    return normalise_weights(tuple(weights))
