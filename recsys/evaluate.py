"""Offline evaluation: three protocols, six systems, accuracy and beyond-accuracy metrics.

Protocols
---------
``redial``
    Real typed requests (ReDial mapped to MovieLens). The system sees only the request
    text; the whole catalogue is ranked with the movies the request names left out; the
    targets are the movies the seeker was later recommended and liked. The language-only
    subset (``request_has_movie_mention`` false) is reported as well.
``simulated``
    Held-out MovieLens users as new users (Sanner et al., RecSys 2023: language- versus
    item-based preferences). A seeded 20 % of the users is held out (the product's shared
    split, :func:`recsys.splits.split_users`); the item index (item texts carry user tags),
    CF, the popularity prior, the title matcher's popularity and — when the product has
    one — the trained adapter are rebuilt from the other users only
    (:func:`split_recommender`). Each held-out user's
    liked items (rating ≥ 4) are ordered by time; the earlier half becomes a preference
    description in three variants — ``language`` (genres, era, tags, dislikes in varied
    phrasing), ``titles`` (2-3 titles), ``both`` — and the later liked items are the
    targets. Everything the user rated up to the split is left out of the ranking.
``warmup``
    The ``simulated`` users' language-only descriptions followed by ``n`` 👍 reactions in a
    live session (as in the app), ``n`` = 0, 1, 2, 3, 5, 10: quality as the cold start warms
    up, for fixed weights and for the app's auto-weight schedule (``blend-auto``).
``sampled20``
    Hou et al., "Large Language Models are Zero-Shot Rankers" (ECIR 2024): per held-out
    user, rank the true next liked item plus 19 random items the user never rated, given
    the user's earlier liked items. Here "given" means: the request text is the titles-only
    description (2-3 earlier titles, like an in-context prompt) and the pipeline receives
    every earlier liked item as a liked reaction (joins the CF fold-in). Only the 20
    candidates are scored: ``r``, ``s`` and ``b`` are min-max normalised over the
    candidates (the candidate set is the blend's pool) and ties are broken at random.

Metrics, for a ranked list ``L`` and targets ``T``::

    Recall@k = |L[:k] ∩ T| / |T|        HR@k = 1[|L[:k] ∩ T| > 0]
    NDCG@k   = Σ_{i≤k, L_i∈T} 1/log2(i+1)  /  Σ_{i≤min(k,|T|)} 1/log2(i+1)
    MRR      = 1 / rank of the first target in the top 50 (0 if none)

Beyond accuracy, on the top ``k``: ``coverage`` (distinct items recommended over all
requests ÷ catalogue size), ``popularity`` (mean number of ratings of the items, from the
data the system was fitted on), ``novelty`` (mean self-information ``−log2(n_i / U)``
bits, ``U`` users), ``ild`` (intra-list diversity: mean pairwise ``1 − cos`` of the item
embeddings) and ``violations`` (share of the items that contradict the request as the
intent parser read it: a disliked genre, or a known year outside the requested era;
averaged over the requests that state such a constraint).

Every number is a mean with a bootstrap 95 % interval; the same resamples serve every
system (so intervals are comparable and paired differences are exact), and resampling is
by user when one user contributes several cases. Coverage is a corpus-level count, so it
has no interval. "blend" ranks only the blend's candidate pool, exactly the list the
product shows.

Systems: ``random`` (seeded per request), ``popularity`` (the prior ``b``), ``llm`` (``r``
alone, α=1), ``cf`` (``s`` alone, β=1), ``blend`` (the given weights) and ``blend-tuned``
(weights tuned on a separate split, never on the reported cases: two-fold cross-fitting
over seeded halves of the requests for ``redial``; validation users split off the
training users, with their own models, for ``simulated`` and ``sampled20``).

Speed: stage scores are computed once per request (:func:`collect_stages`; query
embeddings batch-encoded up front and cached on disk per request set); a blend at new
weights is one vectorised pass over the stored pools (:meth:`StageTable.blend_ranking`,
identical to ``Recommendation.reblend``), so weight sweeps are cheap.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from recsys.baseline import baseline_prior, random_scores, request_seed
from recsys.blend import BlendWeights, normalise_on_pool, normalise_weights
from recsys.cachefile import load_npz, save_npz
from recsys.llm_scores import top_indices

logger = logging.getLogger(__name__)

SYSTEMS = ("random", "popularity", "llm", "cf", "blend")
ALL_SYSTEMS = SYSTEMS + ("blend-tuned",)
PROTOCOLS = ("redial", "simulated", "sampled20", "warmup")
LIST_LENGTH = 50
LIKED_RATING = 4.0           #: a rating at or above it is a "liked" item (simulated, sampled20)
MIN_LIKED = 4                #: held-out users need ≥ 4 liked items (≥ 2 described, ≥ 2 targets)
HOLDOUT = 0.2                #: share of users held out (simulated, sampled20)
SAMPLED_CANDIDATES = 20
DEFAULT_SEED = 0
TUNE_METRIC = "ndcg@10"
VARIANTS = ("language", "titles", "both")

#: Hou et al. (ECIR 2024), Table 2, MovieLens-1M, 1 true + 19 sampled candidates (× 100).
HOU_ML1M = {
    "random": {"ndcg@1": 5.00, "ndcg@5": 13.33, "ndcg@10": 22.72, "ndcg@20": 28.16},
    "BM25": {"ndcg@10": 17.88},
    "popularity": {"ndcg@10": 52.33},
    "BPRMF": {"ndcg@10": 64.29},
    "SASRec": {"ndcg@10": 78.89},
    "ChatGPT (in-context)": {"ndcg@10": 45.83},
    "GPT-4": {"ndcg@10": 46.74},
}

ProgressFn = Callable[[float, str], None]


# ============================================================================ requests

@dataclass(frozen=True)
class EvalRequest:
    """One evaluation case: text in, target ``movieId``s out.

    ``named`` are left out of every system's ranking (the movies a ReDial request names;
    the history a simulated user's description was written from). ``liked`` are handed to
    the pipeline as liked reactions (sampled20). ``candidates``, when given, are the only
    items ranked (sampled20). ``group`` clusters cases of one user for the bootstrap.
    ``reactions`` are 👍 given one by one in a live session (:class:`recsys.feedback.LiveSession`,
    exactly as the app does; warm-up protocol).
    """

    id: str
    text: str
    targets: tuple[int, ...]
    named: tuple[int, ...] = ()
    has_mention: bool = False
    liked: tuple[int, ...] = ()
    candidates: tuple[int, ...] = ()
    group: str = ""
    variant: str = ""
    reactions: tuple[int, ...] = ()


def load_requests(path: str | Path) -> list[EvalRequest]:
    """Read ReDial-style JSON lines (``id``, ``request``, ``target_movie_ids``, …)."""
    requests: list[EvalRequest] = []
    with Path(path).open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                requests.append(EvalRequest(
                    id=str(row["id"]), text=str(row["request"]),
                    targets=tuple(int(m) for m in row.get("target_movie_ids", [])),
                    named=tuple(int(m) for m in row.get("mentioned_movie_ids", []))
                    + tuple(int(m) for m in row.get("mentioned_disliked_movie_ids", [])),
                    has_mention=bool(row.get("request_has_movie_mention", False))))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ValueError(f"{path} line {line_no}: not a request record ({exc})") from None
    return requests


# ============================================================================ metrics (one list)

def recall_at(ranked: Sequence[int], targets: set[int], k: int) -> float:
    """Share of the targets found in the first ``k``."""
    return len(targets.intersection(ranked[:k])) / len(targets) if targets else 0.0


def hit_at(ranked: Sequence[int], targets: set[int], k: int) -> float:
    """1 if any target is in the first ``k``."""
    return float(bool(targets.intersection(ranked[:k])))


def ndcg_at(ranked: Sequence[int], targets: set[int], k: int) -> float:
    """Binary-relevance NDCG@k."""
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in targets)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(targets))))
    return dcg / ideal if ideal else 0.0


def reciprocal_rank(ranked: Sequence[int], targets: set[int]) -> float:
    """1 / rank of the first target in ``ranked`` (0 when absent)."""
    for i, item in enumerate(ranked):
        if item in targets:
            return 1.0 / (i + 1)
    return 0.0


def accuracy_names(k: int = 10, protocol: str = "redial") -> list[str]:
    """The accuracy metrics reported for a protocol (table column order)."""
    if protocol == "sampled20":
        return ["ndcg@1", "ndcg@5", "ndcg@10", "ndcg@20", "hr@1", "hr@5", "hr@10", "recall@10", "mrr"]
    return [f"recall@{k}", "recall@50", f"ndcg@{k}", f"hr@{k}", "mrr"]


def beyond_names(k: int = 10) -> list[str]:
    """The beyond-accuracy metrics (table column order)."""
    return [f"coverage@{k}", f"popularity@{k}", f"novelty@{k}", f"ild@{k}", f"violations@{k}"]


_METRIC = re.compile(r"^(recall|ndcg|hr)@(\d+)$")


def accuracy_metrics(hits: np.ndarray, n_targets: np.ndarray, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Vectorised accuracy metrics: ``hits`` is ``bool[N, L]`` (row = a ranked list),
    ``n_targets`` ``int[N]``; one value per row for each name (``recall@k``, ``ndcg@k``,
    ``hr@k``, ``mrr``). Same definitions as the one-list functions above."""
    hits = np.asarray(hits, dtype=bool)
    n_targets = np.asarray(n_targets, dtype=np.float64)
    length = hits.shape[1]
    discount = 1.0 / np.log2(np.arange(2, length + 2))
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name == "mrr":
            any_hit = hits.any(axis=1)
            first = np.argmax(hits, axis=1)
            out[name] = np.where(any_hit, 1.0 / (first + 1), 0.0)
            continue
        match = _METRIC.match(name)
        if match is None:
            raise ValueError(f"unknown metric {name!r}")
        kind, k = match.group(1), int(match.group(2))
        top = hits[:, :k]
        found = top.sum(axis=1).astype(np.float64)
        if kind == "recall":
            out[name] = np.divide(found, n_targets, out=np.zeros_like(found), where=n_targets > 0)
        elif kind == "hr":
            out[name] = (found > 0).astype(np.float64)
        else:
            dcg = (top * discount[:top.shape[1]]).sum(axis=1)
            ideal_cum = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
            ideal = ideal_cum[np.minimum(n_targets.astype(np.int64), k)]
            out[name] = np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)
    return out


# ============================================================================ stage table

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
        alpha, beta, gamma = _weight_tuple(weights)
        signals = self.signals if rows is None else self.signals[:, rows]
        valid = self.valid if rows is None else self.valid[rows]
        pool = self.pool if rows is None else self.pool[rows]
        # the pipeline's float32 arithmetic, term by term, so ties fall the same way
        final = (np.float32(alpha) * signals[0] + np.float32(beta) * signals[1]
                 + np.float32(gamma) * signals[2]).astype(np.float64)
        final[~valid] = -np.inf
        length = self.length if length is None else length
        order = _top_order(-final, length)
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
        present = top >= 0
        items = np.where(present, top, 0)
        count = present.sum(axis=1)
        denom = np.maximum(count, 1)
        popularity = np.where(present, ctx.n_ratings[items], 0.0).sum(axis=1) / denom
        novelty = np.where(present, ctx.self_information[items], 0.0).sum(axis=1) / denom
        emb = ctx.embeddings[items] * present[..., None]
        gram = np.einsum("nid,njd->nij", emb, emb)
        pairs = count * (count - 1)
        off_diagonal = gram.sum(axis=(1, 2)) - np.einsum("nii->n", gram)
        ild = np.divide(pairs - off_diagonal, pairs, out=np.full(len(top), np.nan), where=pairs > 0)
        disliked = self.disliked_genres if rows is None else self.disliked_genres[rows]
        era = self.era if rows is None else self.era[rows]
        constrained = self.constrained if rows is None else self.constrained[rows]
        genre_bad = (ctx.genre_matrix[items] & disliked[:, None, :]).any(axis=2)
        years = ctx.years[items].astype(np.float64)
        era_bad = (years > 0) & ((years < era[:, :1]) | (years > era[:, 1:]))
        bad = (genre_bad | era_bad) & present
        violations = np.where(constrained, bad.sum(axis=1) / denom, np.nan)
        return {f"popularity@{k}": popularity, f"novelty@{k}": novelty, f"ild@{k}": ild,
                f"violations@{k}": violations}


def _top_order(keys: np.ndarray, length: int) -> np.ndarray:
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
    def of(cls, recommender: Any) -> EvalContext:
        """From a recommender: its catalogue statistics, CF users and item embeddings."""
        cat = recommender.catalogue
        n_users = max(1, len(getattr(recommender.cf, "user_ids", ())) or
                      int(cat.ratings["user_id"].nunique()))
        n = cat.n_ratings.astype(np.float64)
        info = -np.log2(np.maximum(n, 1.0) / n_users)
        return cls(len(cat), n, info, recommender.index.embeddings, cat.genre_matrix,
                   cat.genre_column, cat.years)


def _weight_tuple(weights: BlendWeights | Sequence[float]) -> tuple[float, float, float]:
    """``(α, β, γ)`` normalised exactly as the pipeline does (:func:`recsys.blend.normalise_weights`)."""
    if isinstance(weights, BlendWeights):
        return weights.as_tuple()
    return normalise_weights(tuple(weights))


# ============================================================================ collecting

class _PrefetchedEncoder:
    """An encoder whose query embeddings were computed in one batch: ``encode_query`` reads
    them, any other text goes to the wrapped encoder. Batched and single encodes agree to
    ~1e-7 (checked), so rankings are those of the product."""

    def __init__(self, encoder: Any, vectors: Mapping[str, np.ndarray]) -> None:
        self._encoder = encoder
        self._vectors = vectors

    def encode_query(self, text: str) -> np.ndarray:
        hit = self._vectors.get(text)
        return hit if hit is not None else self._encoder.encode_query(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._encoder, name)


QUERY_CACHE_RECIPE = "eval-queries/v1"


def encode_queries(encoder: Any, queries: Sequence[str], cache_dir: Path | None = None
                   ) -> dict[str, np.ndarray]:
    """Unit embeddings of ``queries``, batch-encoded with one torch thread (on a shared
    2-core machine a second thread made batches 2× slower), and cached in ``cache_dir``
    under (model, recipe, the query set) when given."""
    unique = sorted({q for q in queries if q})
    if not unique:
        return {}
    path = None
    if cache_dir is not None:
        digest = hashlib.sha1(json.dumps([str(getattr(encoder, "model_id", "")), QUERY_CACHE_RECIPE,
                                          unique]).encode()).hexdigest()[:20]
        path = Path(cache_dir) / f"queries-{digest}.npz"
        stored = load_npz(path, {"vectors": (len(unique), getattr(encoder, "dim", None))},
                          what="query cache")
        if stored is not None:
            return _frozen_rows(unique, stored["vectors"])
    threads = None
    try:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch ships with the encoder
        torch = None  # type: ignore[assignment]
    try:
        vectors = np.asarray(encoder.encode(unique, batch_size=32), dtype=np.float32)
    finally:
        if threads is not None:
            torch.set_num_threads(threads)
    if path is not None:
        save_npz(path, vectors=vectors)
    return _frozen_rows(unique, vectors)


def _frozen_rows(texts: Sequence[str], vectors: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for text, vector in zip(texts, vectors):
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        vector.flags.writeable = False
        out[text] = vector
    return out


def _prefetching(recommender: Any, texts: Sequence[str], cache_dir: Path | None = None) -> Any:
    """A shallow copy of ``recommender`` (every component shared, the adapter included)
    whose query embeddings for ``texts`` were batch-encoded (:func:`encode_queries`).
    Only for the built-in parser; otherwise the recommender itself."""
    from recsys.intent import GenreZeroShot, InvalidRequestError

    builtin = getattr(recommender, "builtin_parser", None)
    if builtin is None or recommender.parser is not builtin:
        return recommender
    plain = builtin.with_encoder(None, None)  # query text only
    queries = []
    for text in texts:
        try:
            queries.append(plain.parse(text).query_text)
        except InvalidRequestError:
            continue
    encoder = _PrefetchedEncoder(recommender.encoder,
                                 encode_queries(recommender.encoder, queries, cache_dir))
    index = recommender.index
    zero_shot = GenreZeroShot(index.genre_names, index.genre_embeddings, recommender.catalogue.genre_names)
    parser = builtin.with_encoder(encoder.encode_query, zero_shot)
    fast = copy.copy(recommender)
    fast.encoder = encoder
    fast.builtin_parser = parser
    fast.parser = parser
    return fast


def collect_stages(recommender: Any, requests: Sequence[EvalRequest], *, length: int = LIST_LENGTH,
                   seed: int = DEFAULT_SEED, prefetch: bool = True, cache_dir: Path | None = None,
                   progress: ProgressFn | None = None) -> StageTable:
    """Run the pipeline once per request (``explain=False``) and keep what every system
    and every weight point needs. Requests without targets are skipped.

    Either every request has ``candidates`` (sampled protocol: ``length`` becomes the
    number of candidates) or none has. ``prefetch`` batch-encodes the query texts first
    (cached in ``cache_dir`` when given).
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    from recsys.intent import InvalidRequestError

    started = time.perf_counter()
    usable = [r for r in requests if r.targets]
    sampled = bool(usable) and bool(usable[0].candidates)
    if any(bool(r.candidates) != sampled for r in usable):
        raise ValueError("mix of sampled-candidate and full-catalogue requests")
    if sampled:
        length = len(usable[0].candidates)
        if any(len(r.candidates) != length for r in usable):
            raise ValueError("sampled requests must have the same number of candidates")
    cat = recommender.catalogue
    n_items = len(cat)
    weights = recommender.config.weights
    fast = _prefetching(recommender, [r.text for r in usable], cache_dir) if prefetch else recommender
    baseline = np.asarray(recommender.baseline)
    pop_order = top_indices(baseline, min(n_items, length + 200))

    kept: list[EvalRequest] = []
    targets: list[np.ndarray] = []
    fixed: dict[str, list[np.ndarray]] = {s: [] for s in ("random", "popularity", "llm", "cf")}
    pools: list[np.ndarray] = []
    sigs: list[np.ndarray] = []
    disliked_rows: list[np.ndarray] = []
    eras: list[tuple[float, float]] = []
    constrained: list[bool] = []
    n_genres = cat.genre_matrix.shape[1]
    sessions: dict[tuple[str, str], tuple[Any, tuple[int, ...]]] = {}
    # One BLAS / OpenMP thread: the per-request work is small, and idle BLAS threads
    # spinning next to torch's made the loop 2-3× slower on 2 cores.
    with threadpool_limits(1):
        for n, request in enumerate(usable):
            target_idx = np.asarray(cat.indices(list(dict.fromkeys(request.targets))), dtype=np.int64)
            if not len(target_idx):
                continue
            try:
                if request.reactions:
                    result = _session_result(fast, request, weights, sessions)
                else:
                    result = fast.recommend(request.text, weights, k=10, liked=request.liked, explain=False)
            except InvalidRequestError as exc:
                logger.warning("request %s skipped: %s", request.id, exc)
                continue
            intent = result.intent
            if sampled:
                cand = np.asarray(cat.indices(list(request.candidates)), dtype=np.int64)
                rng = np.random.default_rng(request_seed(request.id, seed))
                cand = cand[rng.permutation(len(cand))]            # random tie-breaking
                r = result.relevance.r
                s = result.s if result.seeds else baseline
                sig = np.stack([normalise_on_pool(r, cand)[cand], normalise_on_pool(result.s, cand)[cand],
                                normalise_on_pool(baseline, cand)[cand]]).astype(np.float32)
                fixed["random"].append(cand)
                fixed["popularity"].append(cand[np.argsort(-baseline[cand], kind="stable")])
                fixed["llm"].append(cand[np.argsort(-r[cand], kind="stable")])
                fixed["cf"].append(cand[np.argsort(-s[cand], kind="stable")])
                pool = cand
            else:
                protocol = np.zeros(n_items, dtype=bool)
                protocol[cat.indices(list(request.named))] = True
                excluded = result.excluded | protocol
                fixed["random"].append(top_indices(random_scores(n_items, request.text, seed),
                                                   length, protocol))
                fixed["popularity"].append(_first_allowed(pop_order, protocol, length, baseline))
                fixed["llm"].append(_top_from(result.relevance.candidates, protocol, length,
                                              result.relevance.r, excluded))
                if result.seeds:
                    fixed["cf"].append(_top_from(result.cf_candidates, protocol, length, result.s, excluded))
                else:
                    fixed["cf"].append(_first_allowed(pop_order, excluded, length, baseline))
                pool = result.pool[~excluded[result.pool]]
                sig = np.stack([result.r_hat[pool], result.s_hat[pool], result.b_hat[pool]])
            kept.append(request)
            targets.append(target_idx)
            pools.append(pool)
            sigs.append(sig)
            bad = np.zeros(n_genres, dtype=bool)
            cols = [cat.genre_column[g] for g in intent.disliked_genres if g in cat.genre_column]
            bad[cols] = True
            disliked_rows.append(bad)
            era = intent.era
            lo = -np.inf if era is None or era.start is None else float(era.start)
            hi = np.inf if era is None or era.end is None else float(era.end)
            eras.append((lo, hi))
            constrained.append(bool(cols) or era is not None)
            if progress is not None and (n % 25 == 0 or n + 1 == len(usable)):
                progress((n + 1) / len(usable), f"{n + 1}/{len(usable)} requests")

    width = max((len(p) for p in pools), default=0)
    pool_arr = np.full((len(pools), width), -1, dtype=np.int64)
    sig_arr = np.zeros((3, len(pools), width), dtype=np.float32)
    valid = np.zeros((len(pools), width), dtype=bool)
    for n, (p, s) in enumerate(zip(pools, sigs)):
        pool_arr[n, :len(p)] = p
        sig_arr[:, n, :len(p)] = s
        valid[n, :len(p)] = True
    fixed_arr = {name: _pad(rows, length) for name, rows in fixed.items()}
    return StageTable(
        requests=kept, length=length, targets=targets, fixed=fixed_arr, pool=pool_arr,
        signals=sig_arr, valid=valid,
        disliked_genres=np.array(disliked_rows, dtype=bool).reshape(len(kept), n_genres),
        era=np.array(eras, dtype=np.float64).reshape(len(kept), 2),
        constrained=np.array(constrained, dtype=bool), context=EvalContext.of(recommender),
        sampled=sampled, seconds=time.perf_counter() - started)


def without_adapter(recommender: Any) -> Any:
    """A shallow copy of ``recommender`` whose ``r`` is zero-shot (adapter detached)."""
    if getattr(recommender, "adapter", None) is None:
        return recommender
    plain = copy.copy(recommender)
    plain.adapter = None
    return plain


def adapter_tables(recommender: Any, requests: Sequence[EvalRequest], **collect: Any
                   ) -> tuple[StageTable, StageTable | None]:
    """Stage tables of the same requests with zero-shot ``r`` and, when ``recommender`` has
    a trained adapter, with the adapter's term in ``r`` (``None`` otherwise)."""
    plain = collect_stages(without_adapter(recommender), requests, **collect)
    if getattr(recommender, "adapter", None) is None:
        return plain, None
    collect = {k: v for k, v in collect.items() if k != "progress"}
    adapted = collect_stages(recommender, requests, **collect)
    if [r.id for r in adapted.requests] != [r.id for r in plain.requests]:
        raise RuntimeError("the adapter run kept other requests than the zero-shot run")
    return plain, adapted


def adapter_rankings(adapted: StageTable | None, weights: BlendWeights | Sequence[float],
                     rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``llm_adapter`` (r with the adapter) and ``blend_adapter`` (the blend at ``weights``
    on the adapter run's signals); empty without an adapter."""
    if adapted is None:
        return {}
    return {"llm_adapter": adapted.ranking("llm", rows=rows),
            "blend_adapter": adapted.blend_ranking(weights, rows)}


def _session_result(recommender: Any, request: EvalRequest, weights: BlendWeights,
                    sessions: dict[tuple[str, str], tuple[Any, tuple[int, ...]]]) -> Any:
    """The live session's list after ``request.reactions`` (👍, in order); a session is
    continued when an earlier request of the same user was a prefix of these reactions."""
    from recsys.feedback import LiveSession

    key = (request.group or request.id, request.text)
    session, done = sessions.get(key, (None, ()))
    if session is None or request.reactions[:len(done)] != done:
        session, done = LiveSession(recommender, request.text, weights=weights), ()
    for movie_id in request.reactions[len(done):]:
        session.react(movie_id, "like")
    sessions[key] = (session, tuple(request.reactions))
    return session.result


def _top_from(candidates: np.ndarray, protocol: np.ndarray, length: int, scores: np.ndarray,
              excluded: np.ndarray) -> np.ndarray:
    """The top ``length`` by ``scores`` outside ``excluded``, read off the pipeline's own
    top-N ``candidates`` (already without its exclusions) when they are enough."""
    kept = candidates[~protocol[candidates]]
    if len(kept) >= length:
        return kept[:length]
    return top_indices(scores, length, excluded)


def _first_allowed(order: np.ndarray, excluded: np.ndarray, length: int, scores: np.ndarray) -> np.ndarray:
    kept = order[~excluded[order]][:length]
    if len(kept) < length:          # long histories: fall back to a full pass
        kept = top_indices(scores, length, excluded)
    return kept


def _pad(rows: list[np.ndarray], length: int) -> np.ndarray:
    out = np.full((len(rows), length), -1, dtype=np.int64)
    for n, row in enumerate(rows):
        out[n, :min(len(row), length)] = row[:length]
    return out


# ============================================================================ summaries

def bootstrap_counts(groups: Iterable[Any], resamples: int = 1000, seed: int = DEFAULT_SEED
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(group_of_row int[N], counts int[R, G])``: each resample draws the ``G`` groups
    with replacement; ``counts[r, g]`` is how often group ``g`` was drawn."""
    return _bootstrap_counts(tuple(str(g) for g in groups), int(resamples), int(seed))


@functools.lru_cache(maxsize=16)
def _bootstrap_counts(groups: tuple[str, ...], resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    labels, group_of = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    n_groups = len(labels)
    rng = np.random.default_rng(seed)
    if n_groups == 0:
        return group_of, np.zeros((resamples, 0), dtype=np.float64)
    draws = rng.integers(0, n_groups, size=(resamples, n_groups))
    offsets = (np.arange(resamples) * n_groups)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=resamples * n_groups)
    counts = counts.reshape(resamples, n_groups).astype(np.float64)
    group_of.flags.writeable = False
    counts.flags.writeable = False
    return group_of, counts


def _mean_ci(values: np.ndarray, group_of: np.ndarray, counts: np.ndarray
             ) -> tuple[float | None, list[float | None]]:
    values = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(values)
    if not ok.any():
        return None, [None, None]
    mean = float(values[ok].mean())
    n_groups = counts.shape[1]
    sums = np.bincount(group_of, weights=np.where(ok, values, 0.0), minlength=n_groups)
    sizes = np.bincount(group_of, weights=ok.astype(np.float64), minlength=n_groups)
    num = counts @ sums
    den = counts @ sizes
    means = num[den > 0] / den[den > 0]
    if not len(means):
        return mean, [None, None]
    return mean, [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def coverage(top: np.ndarray, n_items: int) -> float:
    """Catalogue coverage: distinct items in the lists ``top`` (``-1`` pads) ÷ ``n_items``.

    A corpus-level number: it has no per-request values, and a percentile bootstrap of it
    is biased low (a resample holds ~63 % of the requests), so it is reported without an
    interval (``ci95`` is ``[null, null]``)."""
    return float(len(np.unique(top[top >= 0])) / n_items) if n_items else 0.0


def summarise(rows: Mapping[str, Any], *, resamples: int = 1000, seed: int = DEFAULT_SEED,
              groups: Sequence[Any] | np.ndarray | None = None, rankings: Mapping[str, np.ndarray] | None = None,
              k: int = 10, n_items: int | None = None) -> dict[str, dict[str, Any]]:
    """Mean of each metric per system with a bootstrap 95 % interval.

    ``rows`` maps a system to its per-request metrics, either ``{metric: float[N]}`` or a
    list of ``{metric: value}`` rows. The same resampled request sets (of ``groups``, when
    several requests belong to one user) are used for every system, so intervals of
    different systems are comparable. NaN values (metric undefined for a request) are left
    out of the mean. With ``rankings`` (``int[N, ≥k]`` per system) and ``n_items``,
    ``coverage@k`` is added (a point value: see :func:`coverage`).
    """
    columns = {system: _as_columns(values) for system, values in rows.items()}
    lengths = [len(values) for metrics in columns.values() for values in metrics.values()]
    n = lengths[0] if lengths else 0
    group_of, counts = bootstrap_counts(range(n) if groups is None else groups, resamples, seed)
    out: dict[str, dict[str, Any]] = {}
    for system, metrics in columns.items():
        if not metrics:
            continue
        summary: dict[str, Any] = {}
        ci: dict[str, list[float | None]] = {}
        for metric, values in metrics.items():
            summary[metric], ci[metric] = _mean_ci(values, group_of, counts)
        if rankings is not None and n_items and system in rankings and n:
            name = f"coverage@{k}"
            summary[name], ci[name] = coverage(rankings[system][:, :k], n_items), [None, None]
        summary["ci95"] = ci
        out[system] = summary
    return out


def paired_differences(rows: Mapping[str, Mapping[str, np.ndarray]], pairs: Iterable[tuple[str, str]],
                       metrics: Iterable[str], *, resamples: int = 1000, seed: int = DEFAULT_SEED,
                       groups: Sequence[Any] | np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    """``{"a − b": {metric: {"diff", "ci95", "ratio"}}}``: paired bootstrap of per-request
    differences (same requests, same resamples); ``ratio`` = mean(a) / mean(b)."""
    metrics = list(metrics)
    out: dict[str, dict[str, Any]] = {}
    for a, b in pairs:
        if a not in rows or b not in rows:
            continue
        n = len(next(iter(rows[a].values())))
        group_of, counts = bootstrap_counts(range(n) if groups is None else groups, resamples, seed)
        entry: dict[str, Any] = {}
        for metric in metrics:
            if metric not in rows[a] or metric not in rows[b]:
                continue
            diff, ci = _mean_ci(np.asarray(rows[a][metric]) - np.asarray(rows[b][metric]), group_of, counts)
            mean_b = float(np.nanmean(rows[b][metric])) if len(rows[b][metric]) else 0.0
            mean_a = float(np.nanmean(rows[a][metric])) if len(rows[a][metric]) else 0.0
            entry[metric] = {"diff": diff, "ci95": ci,
                             "ratio": (mean_a / mean_b) if mean_b > 0 else None}
        out[f"{a} - {b}"] = entry
    return out


def _as_columns(values: Any) -> dict[str, np.ndarray]:
    if isinstance(values, Mapping):
        return {m: np.asarray(v, dtype=np.float64) for m, v in values.items()}
    values = list(values)
    if not values:
        return {}
    return {m: np.array([row[m] for row in values], dtype=np.float64) for m in values[0]}


# ============================================================================ weights

def weight_grid(step: float = 0.1) -> list[tuple[float, float, float]]:
    """Every ``(α, β, γ)`` on a simplex grid (α+β+γ = 1): 66 points for step 0.1."""
    n = round(1.0 / step)
    if n <= 0 or abs(n * step - 1.0) > 1e-9:
        raise ValueError(f"the step must divide 1 (got {step})")
    return [(round(i / n, 10), round(j / n, 10), round((n - i - j) / n, 10))
            for i in range(n + 1) for j in range(n + 1 - i)]


def sweep_table(table: StageTable, grid: Sequence[tuple[float, float, float]], *, k: int = 10,
                rows: np.ndarray | None = None, names: Sequence[str] | None = None,
                beyond: bool = True) -> list[dict[str, float]]:
    """Mean quality of the blend at every weight point (``rows``: a subset of requests)."""
    names = list(names or accuracy_names(k, "sampled20" if table.sampled else "redial"))
    length = _needed_length(names, k if beyond else 0, table.length)
    out = []
    for weights in grid:
        ranked = table.blend_ranking(weights, rows, length)
        metrics = table.metrics(ranked, names, k, rows, beyond=beyond and not table.sampled)
        row: dict[str, float] = {"alpha": weights[0], "beta": weights[1], "gamma": weights[2]}
        for name, values in metrics.items():
            row[name] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        if beyond and not table.sampled:
            row[f"coverage@{k}"] = coverage(ranked[:, :k], table.context.n_items)
        out.append(row)
    return out


def _needed_length(names: Iterable[str], k: int, limit: int) -> int:
    """How much of each list the metrics ``names`` (and beyond-accuracy at ``k``) read."""
    need = k
    for name in names:
        match = _METRIC.match(name)
        need = max(need, int(match.group(2)) if match else limit)
    return min(max(need, 1), limit)


def tune_weights(table: StageTable, rows: np.ndarray, *, metric: str = TUNE_METRIC, k: int = 10,
                 grid: Sequence[tuple[float, float, float]] | None = None,
                 prefer: Sequence[float] = (0.5, 0.3, 0.2)) -> tuple[tuple[float, float, float], float]:
    """The grid point with the best mean ``metric`` over ``rows`` (ties: closest to
    ``prefer``), and that mean."""
    grid = list(grid or weight_grid())
    results = sweep_table(table, grid, k=k, rows=rows, names=[metric], beyond=False)
    best = max(results, key=lambda row: (round(row[metric], 12),
                                         -sum(abs(row[w] - p) for w, p in zip(("alpha", "beta", "gamma"),
                                                                              prefer))))
    return (best["alpha"], best["beta"], best["gamma"]), best[metric]


def seeded_halves(n: int, seed: int = DEFAULT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint halves of ``range(n)`` (seeded), each sorted."""
    order = np.random.default_rng([seed, 2]).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2:])


def cross_fitted_ranking(table: StageTable, *, metric: str = TUNE_METRIC, k: int = 10,
                         seed: int = DEFAULT_SEED, prefer: Sequence[float] = (0.5, 0.3, 0.2)
                         ) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """``blend-tuned`` by two-fold cross-fitting: weights tuned on one seeded half rank the
    other half, and vice versa — no request is ranked with weights tuned on it."""
    halves = seeded_halves(len(table), seed)
    ranked = np.full((len(table), table.length), -1, dtype=np.int64)
    folds = []
    for tune_rows, report_rows in (halves, halves[::-1]):
        weights, score = tune_weights(table, tune_rows, metric=metric, k=k, prefer=prefer)
        ranked[report_rows] = table.blend_ranking(weights, report_rows)
        folds.append({"weights": dict(zip(("alpha", "beta", "gamma"), weights)),
                      "tuned_on": len(tune_rows), "reported_on": len(report_rows),
                      f"{metric}_on_tuning_half": score})
    return ranked, folds


# ============================================================================ reporting

def evaluate_table(table: StageTable, *, weights: BlendWeights | Sequence[float], k: int = 10,
                   protocol: str = "redial", tuned: np.ndarray | None = None,
                   resamples: int = 1000, seed: int = DEFAULT_SEED,
                   subsets: Mapping[str, np.ndarray] | None = None,
                   extra: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Summaries of every system on ``table`` (and on each row subset).

    ``extra`` adds rankings of other systems over the same rows (e.g. ``llm_adapter`` and
    ``blend_adapter`` from :func:`adapter_rankings`)."""
    names = accuracy_names(k, protocol)
    beyond = not table.sampled
    rankings = {system: table.ranking(system) for system in ("random", "popularity", "llm", "cf")}
    rankings["blend"] = table.blend_ranking(weights)
    if tuned is not None:
        rankings["blend-tuned"] = tuned
    rankings.update(extra or {})
    groups = table.groups

    def block(rows: np.ndarray | None) -> dict[str, Any]:
        sub = {s: (r if rows is None else r[rows]) for s, r in rankings.items()}
        metrics = {s: table.metrics(r, names, k, rows, beyond=beyond) for s, r in sub.items()}
        g = groups if rows is None else groups[rows]
        systems = summarise(metrics, resamples=resamples, seed=seed, groups=g,
                            rankings=sub if beyond else None, k=k, n_items=table.context.n_items)
        pairs = [("blend", "popularity"), ("blend", "random"), ("blend", "cf"), ("blend", "llm"),
                 ("blend-tuned", "blend"), ("blend-tuned", "popularity"),
                 ("llm_adapter", "llm"), ("blend_adapter", "blend"), ("blend_adapter", "popularity")]
        pairs = [(a, b) for a, b in pairs if a in rankings and b in rankings]
        paired = paired_differences(metrics, pairs, names, resamples=resamples, seed=seed, groups=g)
        constrained = table.constrained if rows is None else table.constrained[rows]
        return {"n": len(g), "users": len(set(g.tolist())), "systems": systems,
                "paired": paired, "lift": _lift(systems, names),
                "requests_with_constraints": int(constrained.sum())}

    out = block(None)
    out["subsets"] = {name: block(rows) for name, rows in (subsets or {}).items() if len(rows)}
    return out


def _lift(systems: Mapping[str, Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Ratio of each system's mean to random's and popularity's."""
    out: dict[str, Any] = {}
    for base in ("random", "popularity"):
        if base not in systems:
            continue
        entry = {}
        for system, summary in systems.items():
            if system == base:
                continue
            entry[system] = {m: (summary[m] / systems[base][m]) if systems[base].get(m) else None
                             for m in names if summary.get(m) is not None}
        out[f"over_{base}"] = entry
    return out


# ============================================================================ redial protocol

def run_redial(recommender: Any, requests: Sequence[EvalRequest], *,
               weights: BlendWeights | None = None, k: int = 10, resamples: int = 1000,
               seed: int = DEFAULT_SEED, tune_metric: str = TUNE_METRIC,
               cache_dir: Path | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """The ``redial`` protocol: every system on the requests, the language-only subset,
    and ``blend-tuned`` by two-fold cross-fitting. Returns the JSON payload's body."""
    weights = weights or recommender.config.weights
    table, adapted = adapter_tables(recommender, requests, length=max(LIST_LENGTH, k), seed=seed,
                                    cache_dir=cache_dir, progress=progress)
    prefer = recommender.config.weights.as_tuple()
    tuned, folds = cross_fitted_ranking(table, metric=tune_metric, k=k, seed=seed, prefer=prefer)
    subsets = {"language_only": table.rows_where(has_mention=False),
               "with_mention": table.rows_where(has_mention=True)}
    body = evaluate_table(table, weights=weights, k=k, tuned=tuned, resamples=resamples, seed=seed,
                          subsets=subsets, extra=adapter_rankings(adapted, weights))
    body["tuning"] = {"method": "two-fold cross-fitting: weights tuned on one seeded half of the "
                                "requests rank the other half", "metric": tune_metric,
                      "grid": "α+β+γ=1, step 0.1 (66 points)", "seed": seed, "folds": folds}
    body["collect_seconds"] = round(table.seconds + (adapted.seconds if adapted else 0.0), 2)
    body["engine"] = engine_facts(recommender)
    return body


def engine_facts(recommender: Any) -> dict[str, Any]:
    """What the numbers were computed with: item index, ALS, adapter (when loaded), parser."""
    adapter = getattr(recommender, "adapter", None)
    facts: dict[str, Any] = {"item_index": getattr(recommender.index, "key", None),
                             "encoder": getattr(recommender.encoder, "model_id", None),
                             "als_factors": int(recommender.cf.item_factors.shape[1]),
                             "cf_users": len(recommender.cf.user_ids),
                             "parser": getattr(recommender.parser, "name", None),
                             "adapter": None}
    if adapter is not None:
        report = getattr(adapter, "report", {}) or {}
        facts["adapter"] = {"key": getattr(adapter, "key", None), "weight": getattr(adapter, "weight", None),
                            "training_users": report.get("training_users"),
                            "recipe": report.get("recipe")}
    return facts


# ============================================================================ user split

@dataclass(frozen=True)
class UserSplit:
    """Which users train the models and which are held out (seeded)."""

    train: np.ndarray
    held_out: np.ndarray
    seed: int
    fraction: float

    def to_dict(self) -> dict[str, Any]:
        """Sizes and the recipe (for the JSON payload)."""
        return {"seed": self.seed, "held_out_fraction": self.fraction,
                "train_users": len(self.train), "held_out_users": len(self.held_out)}


def split_users(user_ids: Iterable[int], fraction: float = HOLDOUT, seed: int = DEFAULT_SEED) -> UserSplit:
    """Hold out ``round(fraction · n)`` users with :func:`recsys.splits.split_user_ids` — the
    split every learned component shares, so the default split here is the product's."""
    from recsys.splits import split_user_ids

    train, held = split_user_ids(user_ids, fraction, seed)
    return UserSplit(train, held, seed, fraction)


def train_only_data(raw: Any, users: np.ndarray, label: str = "") -> Any:
    """The data set restricted to ``users``' ratings and tags (movies kept, so item indices
    do not change); a new fingerprint keys every cache built from it."""
    users = np.asarray(users, dtype=np.int64)
    ratings = raw.ratings[raw.ratings["user_id"].isin(users)].reset_index(drop=True)
    tags = raw.tags[raw.tags["user_id"].isin(users)].reset_index(drop=True)
    digest = hashlib.sha1(np.sort(users).tobytes()).hexdigest()[:16]
    fingerprint = hashlib.sha1(f"{raw.fingerprint}|users:{digest}|{label}".encode()).hexdigest()
    return replace(raw, ratings=ratings, tags=tags, fingerprint=fingerprint)


def split_index(catalogue: Any, base_catalogue: Any, base_index: Any, encoder: Any,
                cache_dir: Path, progress: ProgressFn | None = None) -> Any:
    """The item index of a train-only catalogue: items whose text (tags) changed are
    re-encoded, the rest keep the base index's embeddings; cached like any item index."""
    from recsys.embed import index_path, load_item_index
    from recsys.text import item_texts

    path = index_path(cache_dir, catalogue, encoder.model_id)
    if load_npz(path, {"embeddings": (len(catalogue), encoder.dim)}, what="item index") is None:
        new_texts = item_texts(catalogue)
        old_texts = item_texts(base_catalogue)
        changed = [i for i, (a, b) in enumerate(zip(new_texts, old_texts)) if a != b]
        logger.info("train-only index: re-encoding %d of %d item texts", len(changed), len(new_texts))
        embeddings = np.array(base_index.embeddings, dtype=np.float32, copy=True)
        if changed:
            embeddings[changed] = encoder.encode([new_texts[i] for i in changed], progress=progress)
        save_npz(path, embeddings=embeddings, genre_embeddings=np.asarray(base_index.genre_embeddings))
    return load_item_index(catalogue, encoder, cache_dir)


def split_recommender(base: Any, raw: Any, users: np.ndarray, *, cache_dir: Path | None = None,
                      label: str = "train", progress: ProgressFn | None = None) -> Any:
    """A :class:`~recsys.pipeline.Recommender` whose data-derived parts — item tags in the
    item texts and keyword index, ALS, the popularity prior, the title matcher's popularity —
    come from ``users`` only. The encoder and the configuration are shared with ``base``."""
    from recsys.catalogue import build_catalogue
    from recsys.cf import fit_als
    from recsys.data import default_cache_dir
    from recsys.pipeline import Recommender
    from recsys.titles import TitleMatcher

    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    catalogue = build_catalogue(train_only_data(raw, users, label))
    if not np.array_equal(catalogue.movie_ids, base.catalogue.movie_ids):
        raise ValueError("the train-only catalogue must keep the base catalogue's items")
    index = split_index(catalogue, base.catalogue, base.index, base.encoder, cache, progress)
    cf = fit_als(catalogue, base.config.als, cache_dir=cache, users=np.asarray(users),
                 cache_tag=f"eval-{label}")
    matcher = TitleMatcher(catalogue.movie_ids.tolist(), list(catalogue.titles),
                           catalogue.n_ratings.tolist())
    parser = None if base.parser is base.builtin_parser else base.parser
    knowledge = None
    if getattr(base, "knowledge", None) is not None:
        # External knowledge stays; the user tags inside its plot-word index are train-only.
        from recsys.knowledge import KnowledgeIndex

        knowledge = KnowledgeIndex.build(base.knowledge.knowledge, catalogue)
    prior = baseline_prior(catalogue, votes=knowledge.knowledge.votes if knowledge else None,
                           votes_weight=base.config.prior_votes_weight)
    recommender = Recommender(catalogue, base.encoder, index, cf, prior, matcher,
                              parser=parser, config=base.config, knowledge=knowledge)
    if getattr(base, "adapter", None) is not None:
        recommender.adapter = split_adapter(recommender, users, cache, progress)
    return recommender


def split_adapter(recommender: Any, users: np.ndarray, cache_dir: Path,
                  progress: ProgressFn | None = None) -> Any:
    """The trained adapter of a train-only recommender: trained on ``users`` with that
    recommender's item index and ALS (the product's adapter saw every user's tags and ALS
    factors, so it would leak held-out users), cached like the product's adapter.
    ``None`` when the adapter module is not available."""
    try:
        from recsys.adapter import adapter_path, load_adapter, save_adapter, train_adapter
    except ImportError:  # pragma: no cover - the adapter is optional
        return None
    from recsys.adapter import training_requests

    # The same recipe as the product's adapter (real requests included: they are other
    # people than MovieLens' held-out users), with MovieLens users restricted to ``users``.
    config = recommender.config.adapter
    requests = training_requests(recommender.catalogue)
    path = adapter_path(cache_dir, recommender, np.asarray(users), config, requests)
    adapter = load_adapter(path, n_items=len(recommender.catalogue), query_dim=recommender.encoder.dim)
    if adapter is None:
        logger.info("training the adapter on %d train-only users (once; cached)", len(users))
        adapter = train_adapter(recommender, np.asarray(users), config, requests=requests,
                                progress=progress)
        save_adapter(adapter, path)
        adapter = load_adapter(path) or adapter
    return adapter


# ============================================================================ user histories

@dataclass(frozen=True)
class UserHistory:
    """One held-out user's time-ordered ratings split into what is described and what is
    predicted."""

    user_id: int
    earlier: tuple[int, ...]           #: liked movieIds described (time order)
    earlier_ratings: tuple[float, ...]
    history: tuple[int, ...]           #: every movieId rated up to the split (left out of rankings)
    disliked: tuple[int, ...]          #: movieIds rated ≤ 2.5 up to the split
    targets: tuple[int, ...]           #: liked movieIds after the split (time order)
    rated: frozenset[int]              #: every movieId the user ever rated


def user_histories(ratings: Any, users: Iterable[int], *, liked_rating: float = LIKED_RATING,
                   min_liked: int = MIN_LIKED) -> list[UserHistory]:
    """Split each user's liked items by time: the earlier half is described, the later half
    is the targets. Users with fewer than ``min_liked`` liked items are skipped."""
    wanted = {int(u) for u in users}
    frame = ratings[ratings["user_id"].isin(list(wanted))]
    frame = frame.sort_values(["user_id", "timestamp", "movie_id"], kind="stable")
    out = []
    for user_id, rows in frame.groupby("user_id", sort=True):
        movies = rows["movie_id"].to_numpy(dtype=np.int64)
        values = rows["rating"].to_numpy(dtype=np.float64)
        liked_pos = np.flatnonzero(values >= liked_rating)
        if len(liked_pos) < min_liked:
            continue
        n_described = len(liked_pos) // 2
        cut = liked_pos[n_described - 1]           # position of the last described liked item
        earlier_pos = liked_pos[:n_described]
        later_pos = liked_pos[n_described:]
        targets = tuple(dict.fromkeys(int(m) for m in movies[later_pos]))
        history = tuple(dict.fromkeys(int(m) for m in movies[:cut + 1] if int(m) not in targets))
        out.append(UserHistory(
            user_id=int(user_id), earlier=tuple(int(m) for m in movies[earlier_pos]),
            earlier_ratings=tuple(float(v) for v in values[earlier_pos]), history=history,
            disliked=tuple(int(m) for m, v in zip(movies[:cut + 1], values[:cut + 1]) if v <= 2.5),
            targets=targets, rated=frozenset(int(m) for m in movies)))
    return out


# ============================================================================ descriptions

_GENRE_PHRASES: dict[str, tuple[str, ...]] = {
    "Action": ("action movies", "action films", "action-packed movies", "a good action flick"),
    "Adventure": ("adventure movies", "big adventures", "adventure films"),
    "Animation": ("animated movies", "animation", "animated films"),
    "Children": ("family movies", "kids' movies", "movies for the whole family"),
    "Comedy": ("comedies", "funny movies", "a good comedy", "something that makes me laugh"),
    "Crime": ("crime movies", "crime stories", "crime films"),
    "Documentary": ("documentaries", "a good documentary"),
    "Drama": ("dramas", "serious dramas", "drama"),
    "Fantasy": ("fantasy", "fantasy movies", "fantasy films"),
    "Film-Noir": ("film noir", "noir films"),
    "Horror": ("horror movies", "scary movies", "horror"),
    "Musical": ("musicals", "movies with singing and dancing"),
    "Mystery": ("mysteries", "mystery movies", "a good mystery"),
    "Romance": ("romantic movies", "love stories", "romance"),
    "Sci-Fi": ("sci-fi", "science fiction", "sci-fi movies"),
    "Thriller": ("thrillers", "suspenseful movies", "a tense thriller"),
    "War": ("war movies", "war films"),
    "Western": ("westerns", "cowboy movies"),
}
_DISLIKE_NAMES: dict[str, tuple[str, ...]] = {
    "Action": ("action",), "Adventure": ("adventure movies",), "Animation": ("animation", "cartoons"),
    "Children": ("kids' movies", "family movies"), "Comedy": ("comedies", "comedy"),
    "Crime": ("crime movies",), "Documentary": ("documentaries",), "Drama": ("heavy dramas", "dramas"),
    "Fantasy": ("fantasy",), "Film-Noir": ("film noir",), "Horror": ("horror", "scary movies"),
    "Musical": ("musicals",), "Mystery": ("mysteries",), "Romance": ("romance", "romantic movies"),
    "Sci-Fi": ("sci-fi",), "Thriller": ("thrillers",), "War": ("war movies",), "Western": ("westerns",),
}
_DECADE_WORDS = {1950: ("50s", "fifties"), 1960: ("60s", "sixties"), 1970: ("70s", "seventies"),
                 1980: ("80s", "eighties"), 1990: ("90s", "nineties"), 2000: ("2000s",),
                 2010: ("2010s",)}
_META_TAGS = {"in netflix queue", "imdb top 250", "bd-r", "clv", "seen more than once", "dvd",
              "netflix", "own", "to see", "seen", "watched", "library", "tivo", "r", "pg-13", "unrated",
              "boring", "overrated", "bad", "stupid", "predictable", "remake", "sequel", "based on a book",
              "franchise", "oscar (best picture)", "criterion", "afi 100"}
_LANG_OPENERS = (
    "I'm in the mood for {core}.", "Looking for {core}.", "Can you recommend {core}?",
    "I usually enjoy {core}.", "I really like {core}.", "Any suggestions for {core}?",
    "I'm a big fan of {core}.", "Please find me {core}.", "My favourite kind of movie: {core}.",
    "Tonight I want {core}.", "What would you suggest for someone who loves {core}?",
    "I tend to watch {core}.",
)
_TAG_CLAUSES = (" Themes I enjoy: {tags}.", " Bonus points for {tags}.", " I'm into stuff like {tags}.",
                " Extra points for anything with {tags}.", " Things I look for: {tags}.",
                " Keywords that usually work for me: {tags}.")
_DISLIKE_CLAUSES = (" No {x}, please.", " But I'm not into {x}.", " Nothing with {x} though.",
                    " I can't stand {x}.", " Not a fan of {x}.")
_TITLE_OPENERS = (
    "I loved {titles}.", "Movies like {titles}, please.", "My favourites include {titles}.",
    "I recently enjoyed {titles} — what should I watch next?", "Something similar to {titles}?",
    "I'm a fan of {titles}.", "Big fan of {titles}. What else would I like?",
    "Recommend me films like {titles}.", "{titles} are among my all-time favourites.",
    "I just watched {titles} and loved them.",
)
_BOTH_BRIDGES = ("{lang} For example, I loved {titles}.", "{titles_sentence} In general, {lang_lower}",
                 "{lang} Think {titles}.", "{lang} Favourites so far: {titles}.",
                 "{titles_sentence} {lang}")


def _join(parts: Sequence[str], rng: np.random.Generator, conj: str = "and") -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {conj} " + parts[-1]


def _pick(options: Sequence[str], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _title_forms(title: str) -> set[str]:
    low = " ".join(title.lower().split())
    forms = {low}
    stripped = re.sub(r"^(the|a|an)\s+", "", low)
    if stripped:
        forms.add(stripped)
    return {f for f in forms if f}


def names_title(text: str, title: str) -> bool:
    """Whether ``title`` occurs in ``text`` as whole words (case-insensitive), also without
    a leading article ("The Matrix" → "Matrix")."""
    return TitleGuard([title]).found_in(text)


class TitleGuard:
    """Finds any of ``titles`` in a text (whole words, case-insensitive, with and without a
    leading article); one compiled pattern for all of them."""

    def __init__(self, titles: Iterable[str]) -> None:
        forms = sorted({f for t in titles for f in _title_forms(t)}, key=len, reverse=True)
        self._pattern = re.compile(r"(?<![\w])(?:" + "|".join(re.escape(f) for f in forms) + r")(?![\w])") \
            if forms else None

    def found_in(self, text: str) -> bool:
        """True when ``text`` names one of the titles."""
        return bool(self._pattern and self._pattern.search(" ".join(text.lower().split())))


@dataclass(frozen=True)
class Profile:
    """What a user's described history says: liked genres, era, tags, a disliked genre,
    and the titles a user would name."""

    genres: tuple[str, ...]
    decades: tuple[int, ...]
    tags: tuple[str, ...]
    disliked_genre: str | None
    titles: tuple[int, ...]            #: catalogue indices of the titles to name (best first)


def user_profile(catalogue: Any, history: UserHistory, rng: np.random.Generator) -> Profile:
    """Summarise the described items (content only: genres, years, train users' tags)."""
    idx = catalogue.indices(list(history.earlier))
    genre_count: dict[str, int] = {}
    for i in idx:
        for g in catalogue.genres[i]:
            if g in _GENRE_PHRASES:
                genre_count[g] = genre_count.get(g, 0) + 1
    n = max(1, len(idx))
    base = catalogue.genre_matrix.mean(axis=0)
    lift = {g: c / n - 0.5 * float(base[catalogue.genre_column[g]]) for g, c in genre_count.items()}
    ranked = sorted(genre_count, key=lambda g: (-lift[g], g))
    genres = tuple(g for g in ranked if genre_count[g] >= max(1, round(0.25 * n)))[: int(rng.integers(1, 4))]
    if not genres and ranked:
        genres = (ranked[0],)
    years = np.array([catalogue.years[i] for i in idx if catalogue.years[i] > 0])
    decades: tuple[int, ...] = ()
    if len(years):
        dec, counts = np.unique((years // 10) * 10, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        if counts[order[0]] / len(years) >= 0.6:
            decades = (int(dec[order[0]]),)
        elif len(order) > 1 and (counts[order[0]] + counts[order[1]]) / len(years) >= 0.8 \
                and abs(int(dec[order[0]]) - int(dec[order[1]])) == 10:
            decades = tuple(sorted((int(dec[order[0]]), int(dec[order[1]]))))
    tag_count: dict[str, int] = {}
    genre_words = {w.lower() for g in catalogue.genre_names for w in (g, g.replace("-", " "))}
    for i in idx:
        for t in catalogue.tags[i]:
            if t in _META_TAGS or t in genre_words or len(t) < 3 or any(ch.isdigit() for ch in t):
                continue
            tag_count[t] = tag_count.get(t, 0) + 1
    min_count = 2 if len(idx) >= 6 else 1
    tags = tuple(t for t, c in sorted(tag_count.items(), key=lambda kv: (-kv[1], kv[0]))
                 if c >= min_count)[: int(rng.integers(1, 4))]
    disliked_genre = None
    bad_idx = catalogue.indices(list(history.disliked))
    if bad_idx:
        bad_count: dict[str, int] = {}
        for i in bad_idx:
            for g in catalogue.genres[i]:
                bad_count[g] = bad_count.get(g, 0) + 1
        for g, c in sorted(bad_count.items(), key=lambda kv: (-kv[1], kv[0])):
            if c >= 3 and genre_count.get(g, 0) <= 0.05 * n and g in _DISLIKE_NAMES:
                disliked_genre = g
                break
    ratings = np.array(history.earlier_ratings)
    jitter = rng.random(len(history.earlier))
    order = np.lexsort((jitter, -ratings))
    titles = tuple(catalogue.index_of[history.earlier[j]] for j in order
                   if history.earlier[j] in catalogue.index_of)
    return Profile(genres, decades, tags, disliked_genre, titles)


def _era_phrase(decades: tuple[int, ...], rng: np.random.Generator) -> tuple[str, bool]:
    """(phrase, is_prefix): "90s" goes before the genre words, "from the 90s" after."""
    if not decades:
        return "", False
    words = [_pick(_DECADE_WORDS.get(d, (f"{d}s",)), rng) for d in decades]
    if len(words) == 1:
        form = int(rng.integers(3))
        if form == 0:
            return words[0], True
        if form == 1:
            return f"from the {words[0]}", False
        return f"made in the {words[0]}", False
    return f"from the {words[0]} and {words[1]}", False


def _language_text(catalogue: Any, profile: Profile, rng: np.random.Generator) -> str:
    phrases = [_pick(_GENRE_PHRASES[g], rng) for g in profile.genres] or ["good movies"]
    era, prefix = _era_phrase(profile.decades, rng)
    if era and prefix:
        phrases[0] = _prefix_era(phrases[0], era)
        core = _join(phrases, rng)
    elif era:
        core = _join(phrases, rng) + " " + era
    else:
        core = _join(phrases, rng)
    text = _pick(_LANG_OPENERS, rng).format(core=core)
    if profile.tags and rng.random() < 0.85:
        text += _pick(_TAG_CLAUSES, rng).format(tags=_join(profile.tags, rng, "or"))
    if profile.disliked_genre and rng.random() < 0.8:
        text += _pick(_DISLIKE_CLAUSES, rng).format(x=_pick(_DISLIKE_NAMES[profile.disliked_genre], rng))
    return text


def _prefix_era(phrase: str, era: str) -> str:
    if phrase.startswith(("something ", "movies ")):
        return f"{phrase} from the {era}"
    for article in ("a good ", "a tense ", "a "):
        if phrase.startswith(article):
            return article + era + " " + phrase[len(article):]
    return f"{era} {phrase}"


def _title_label(catalogue: Any, i: int, rng: np.random.Generator) -> str:
    title = catalogue.display_titles[i]
    year = int(catalogue.years[i])
    return f"{title} ({year})" if year and rng.random() < 0.3 else title


def _titles_sentence(catalogue: Any, titles: Sequence[int], rng: np.random.Generator) -> str:
    labels = [_title_label(catalogue, i, rng) for i in titles]
    template = _pick(_TITLE_OPENERS, rng)
    if len(labels) == 1:
        template = template.replace(" are among", " is among").replace("loved them", "loved it")
    return template.format(titles=_join(labels, rng))


def describe_user(catalogue: Any, history: UserHistory, variant: str, *, seed: int = DEFAULT_SEED,
                  forbidden: Iterable[str] | TitleGuard = (), attempts: int = 12) -> str | None:
    """A natural-language description of ``history.earlier`` in one variant
    (``language`` | ``titles`` | ``both``), seeded per (seed, user, variant). It never
    contains a ``forbidden`` title (the targets'); ``None`` when no attempt avoids them."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    code = VARIANTS.index(variant)
    guard = forbidden if isinstance(forbidden, TitleGuard) else TitleGuard(t for t in forbidden if t.strip())
    for attempt in range(attempts):
        rng = np.random.default_rng([seed, history.user_id, code, attempt])
        profile = user_profile(catalogue, history, rng)
        if attempt >= attempts // 2:        # later attempts drop the tags (the usual culprit)
            profile = replace(profile, tags=())
        n_titles = int(rng.integers(2, 4))
        chosen: list[int] = []
        for i in profile.titles:            # best first; never a title that names a target
            if len(chosen) == n_titles:
                break
            if not guard.found_in(catalogue.display_titles[i]):
                chosen.append(i)
        if variant == "language":
            text = _language_text(catalogue, profile, rng)
        elif variant == "titles":
            if not chosen:
                return None
            text = _titles_sentence(catalogue, chosen, rng)
        else:
            if not chosen:
                return None
            lang = _language_text(catalogue, profile, rng)
            labels = _join([_title_label(catalogue, i, rng) for i in chosen[:max(1, n_titles - 1)]], rng)
            bridge = _pick(_BOTH_BRIDGES, rng)
            text = bridge.format(lang=lang, titles=labels, lang_lower=lang[0].lower() + lang[1:],
                                 titles_sentence=_titles_sentence(catalogue, chosen[:2], rng))
        if not guard.found_in(text):
            return text
    return None


def simulated_requests(catalogue: Any, histories: Sequence[UserHistory], *, seed: int = DEFAULT_SEED,
                       variants: Sequence[str] = VARIANTS) -> list[EvalRequest]:
    """Three descriptions per held-out user (targets = later liked items; the history up to
    the split is left out of rankings). Cases whose description cannot avoid a target
    title are dropped (logged)."""
    out = []
    for h in histories:
        forbidden = TitleGuard(_target_titles(catalogue, h.targets))
        for variant in variants:
            text = describe_user(catalogue, h, variant, seed=seed, forbidden=forbidden)
            if text is None:
                logger.info("user %s: no %s description avoids the target titles", h.user_id, variant)
                continue
            out.append(EvalRequest(id=f"user-{h.user_id}-{variant}", text=text, targets=h.targets,
                                   named=h.history, has_mention=variant != "language",
                                   group=f"user-{h.user_id}", variant=variant))
    return out


def sampled_requests(catalogue: Any, histories: Sequence[UserHistory], universe: np.ndarray, *,
                     seed: int = DEFAULT_SEED, n_candidates: int = SAMPLED_CANDIDATES) -> list[EvalRequest]:
    """Per user: the next liked item plus ``n_candidates − 1`` random items the user never
    rated (from ``universe``, movieIds); the text is the titles-only description and every
    earlier liked item is passed as a liked reaction."""
    out = []
    universe = np.asarray(universe, dtype=np.int64)
    for h in histories:
        target = h.targets[0]
        forbidden = TitleGuard(_target_titles(catalogue, (target,)))
        text = describe_user(catalogue, h, "titles", seed=seed, forbidden=forbidden)
        if text is None:
            continue
        rng = np.random.default_rng([seed, h.user_id, 20])
        allowed = universe[~np.isin(universe, np.fromiter(h.rated, dtype=np.int64))]
        negatives = rng.choice(allowed, size=n_candidates - 1, replace=False)
        out.append(EvalRequest(id=f"user-{h.user_id}-sampled", text=text, targets=(target,),
                               liked=h.earlier, candidates=(target, *(int(m) for m in negatives)),
                               group=f"user-{h.user_id}", variant="titles"))
    return out


def _target_titles(catalogue: Any, movie_ids: Iterable[int]) -> list[str]:
    return [catalogue.display_titles[i] for i in catalogue.indices(list(movie_ids))]


# ============================================================================ held-out protocols

@dataclass
class HeldOutSetup:
    """The models and cases of the simulated / sampled20 protocols."""

    split: UserSplit
    inner: UserSplit
    test_rec: Any
    tune_rec: Any
    test_histories: list[UserHistory]
    tune_histories: list[UserHistory]
    universe: np.ndarray
    skipped_users: int
    facts: dict[str, Any] = field(default_factory=dict)


def held_out_setup(base: Any, raw: Any, *, seed: int = DEFAULT_SEED, fraction: float = HOLDOUT,
                   users: int | None = None, cache_dir: Path | None = None,
                   progress: ProgressFn | None = None) -> HeldOutSetup:
    """Split users, build the train-only recommender (reported on held-out users) and a
    tuning recommender (train users minus a seeded validation share, tuned on that share).

    Held-out users never reach CF, popularity, tags, the title matcher or tuning.
    ``users`` subsamples the held-out users (seeded) for quick runs.
    """
    all_users = raw.ratings["user_id"].to_numpy()
    split = split_users(all_users, fraction, seed)
    inner = split_users(split.train, fraction, seed + 1000)
    test_rec = split_recommender(base, raw, split.train, cache_dir=cache_dir, label=f"train-s{seed}",
                                 progress=progress)
    tune_rec = split_recommender(base, raw, inner.train, cache_dir=cache_dir, label=f"inner-s{seed}",
                                 progress=progress)
    held = split.held_out
    if users is not None and users < len(held):
        held = np.sort(np.random.default_rng([seed, 3]).choice(held, size=users, replace=False))
    validation = inner.held_out
    if users is not None and users < len(validation):
        validation = np.sort(np.random.default_rng([seed, 4]).choice(validation, size=users, replace=False))
    test_histories = user_histories(raw.ratings, held)
    tune_histories = user_histories(raw.ratings, validation)
    universe = np.unique(raw.ratings["movie_id"].to_numpy())
    facts = {"tags_total": len(raw.tags),
             "tags_by_held_out_users": int(raw.tags["user_id"].isin(split.held_out).sum()),
             "tags_by_validation_users": int(raw.tags["user_id"].isin(inner.held_out).sum()),
             "item_texts_changed_by_removing_held_out_tags": _changed_texts(base.catalogue, test_rec.catalogue),
             "item_texts_changed_for_tuning_models": _changed_texts(base.catalogue, tune_rec.catalogue)}
    return HeldOutSetup(split, inner, test_rec, tune_rec, test_histories, tune_histories, universe,
                        skipped_users=len(held) - len(test_histories), facts=facts)


def _changed_texts(a: Any, b: Any) -> int:
    from recsys.text import item_texts

    return sum(x != y for x, y in zip(item_texts(a), item_texts(b)))


def run_held_out(setup: HeldOutSetup, protocol: str, *, weights: BlendWeights | None = None,
                 k: int = 10, resamples: int = 1000, seed: int = DEFAULT_SEED,
                 tune_metric: str = TUNE_METRIC, cache_dir: Path | None = None,
                 progress: ProgressFn | None = None) -> dict[str, Any]:
    """The ``simulated`` or ``sampled20`` protocol on a :class:`HeldOutSetup`."""
    weights = weights or setup.test_rec.config.weights
    if protocol == "simulated":
        test_cases = simulated_requests(setup.test_rec.catalogue, setup.test_histories, seed=seed)
        tune_cases = simulated_requests(setup.tune_rec.catalogue, setup.tune_histories, seed=seed)
        length = max(LIST_LENGTH, k)
    elif protocol == "sampled20":
        test_cases = sampled_requests(setup.test_rec.catalogue, setup.test_histories, setup.universe,
                                      seed=seed)
        tune_cases = sampled_requests(setup.tune_rec.catalogue, setup.tune_histories, setup.universe,
                                      seed=seed)
        length = SAMPLED_CANDIDATES
        tune_metric = tune_metric if tune_metric in accuracy_names(k, protocol) else "ndcg@10"
    else:
        raise ValueError(f"unknown held-out protocol {protocol!r}")
    half = None if progress is None else (lambda f, m: progress(0.5 * f, "tuning split: " + m))
    tune_table = collect_stages(without_adapter(setup.tune_rec), tune_cases, length=length, seed=seed,
                                cache_dir=cache_dir, progress=half)
    prefer = setup.test_rec.config.weights.as_tuple()
    tuned_weights, tuned_score = tune_weights(tune_table, np.arange(len(tune_table)), metric=tune_metric,
                                              k=k, prefer=prefer)
    rest = None if progress is None else (lambda f, m: progress(0.5 + 0.5 * f, "held-out users: " + m))
    table, adapted = adapter_tables(setup.test_rec, test_cases, length=length, seed=seed,
                                    cache_dir=cache_dir, progress=rest)
    tuned = table.blend_ranking(tuned_weights)
    subsets = {}
    if protocol == "simulated":
        subsets = {v: table.rows_where(variant=v) for v in VARIANTS}
    body = evaluate_table(table, weights=weights, k=k, protocol=protocol, tuned=tuned,
                          resamples=resamples, seed=seed, subsets=subsets,
                          extra=adapter_rankings(adapted, weights))
    body["split"] = {**setup.split.to_dict(), **setup.facts, "liked_rating": LIKED_RATING,
                     "min_liked": MIN_LIKED,
                     "evaluated_users": len({r.group for r in table.requests}),
                     "skipped_users_with_too_few_likes": setup.skipped_users,
                     "fitted_on_train_users_only": ["ALS", "popularity prior", "item tags (item texts and keyword index)",
                                                    "title-matcher popularity", "adapter (when the product has one)"]}
    body["tuning"] = {
        "method": "tuned on validation users split off the training users (seeded 20 %), with "
                  "ALS, popularity and tags refitted without them; never on held-out users",
        "metric": tune_metric, "grid": "α+β+γ=1, step 0.1 (66 points)",
        "validation_users": len({r.group for r in tune_table.requests}), "validation_cases": len(tune_table),
        "weights": dict(zip(("alpha", "beta", "gamma"), tuned_weights)),
        f"{tune_metric}_on_validation": tuned_score}
    body["collect_seconds"] = round(tune_table.seconds + table.seconds
                                    + (adapted.seconds if adapted else 0.0), 2)
    body["engine"] = engine_facts(setup.test_rec)
    body["engine_tuning"] = engine_facts(setup.tune_rec)
    if protocol == "sampled20":
        body["reference"] = {"source": "Hou et al., ECIR 2024, MovieLens-1M (different data set: "
                                       "compare orders of magnitude, not digits)",
                             "ndcg_x100": HOU_ML1M}
        body["given"] = ("text: 2-3 earlier liked titles; pipeline: every earlier liked item as a "
                         "liked reaction (CF fold-in); 20 candidates normalised as the blend's pool")
    else:
        body["examples"] = {v: next((r.text for r in table.requests if r.variant == v), None)
                            for v in VARIANTS}
    return body


# ============================================================================ warm-up protocol

WARMUP_STEPS = (0, 1, 2, 3, 5, 10)


def warmup_requests(catalogue: Any, histories: Sequence[UserHistory], *, seed: int = DEFAULT_SEED,
                    steps: Sequence[int] = WARMUP_STEPS) -> list[EvalRequest]:
    """Per user with at least ``max(steps)`` described items: the language-only description,
    then ``n`` 👍 for each step — the user's most recent described items, most recent first;
    targets and exclusions as in ``simulated``. The same users at every step."""
    out = []
    need = max(steps)
    for h in histories:
        if len(h.earlier) < need:
            continue
        text = describe_user(catalogue, h, "language", seed=seed,
                             forbidden=TitleGuard(_target_titles(catalogue, h.targets)))
        if text is None:
            continue
        recent = tuple(reversed(h.earlier))
        for n in steps:
            out.append(EvalRequest(id=f"user-{h.user_id}-warm{n}", text=text, targets=h.targets,
                                   named=h.history, group=f"user-{h.user_id}", variant=str(n),
                                   reactions=recent[:n]))
    return out


def run_warmup(setup: HeldOutSetup, *, weights: BlendWeights | None = None, k: int = 10,
               resamples: int = 1000, seed: int = DEFAULT_SEED, steps: Sequence[int] = WARMUP_STEPS,
               cache_dir: Path | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Quality after ``n`` reactions for held-out users: each step is a live session
    (:class:`recsys.feedback.LiveSession`) that received ``n`` 👍. Systems: the usual five
    and ``blend-auto`` (the app's auto-weight schedule, :func:`recsys.feedback.auto_weights`).

    Returns ``systems[s] = {"curve": {"n": mean}, "curve_ci95": {"n": [lo, hi]},
    "ndcg@k": {"n": mean}, ...}`` with the curve in ``recall@k``."""
    from recsys.feedback import auto_weights

    weights = weights or setup.test_rec.config.weights
    cases = warmup_requests(setup.test_rec.catalogue, setup.test_histories, seed=seed, steps=steps)
    table, adapted = adapter_tables(setup.test_rec, cases, length=max(LIST_LENGTH, k), seed=seed,
                                    cache_dir=cache_dir, progress=progress)
    names = [f"recall@{k}", f"ndcg@{k}", f"hr@{k}", "mrr"]
    metric = f"recall@{k}"
    systems: dict[str, dict[str, Any]] = {}
    for n in steps:
        rows = table.rows_where(variant=str(n))
        if not len(rows):
            continue
        rankings = {s: table.ranking(s, rows=rows) for s in ("random", "popularity", "llm", "cf")}
        rankings["blend"] = table.blend_ranking(weights, rows)
        rankings["blend-auto"] = table.blend_ranking(auto_weights(_as_blend(weights), n), rows)
        rankings.update(adapter_rankings(adapted, weights, rows))
        metrics = {s: table.metrics(r, names, k, rows, beyond=False) for s, r in rankings.items()}
        summary = summarise(metrics, resamples=resamples, seed=seed, groups=table.groups[rows])
        for system, values in summary.items():
            entry = systems.setdefault(system, {"curve": {}, "curve_ci95": {}})
            entry["curve"][str(n)] = values[metric]
            entry["curve_ci95"][str(n)] = values["ci95"][metric]
            for other in names[1:]:
                entry.setdefault(other, {})[str(n)] = values[other]
    auto = {str(n): dict(zip(("alpha", "beta", "gamma"), auto_weights(_as_blend(weights), n).as_tuple()))
            for n in steps}
    return {"n": len({r.group for r in table.requests}), "metric": metric, "steps": list(steps),
            "systems": systems, "auto_weights": auto, "split": setup.split.to_dict(),
            "reactions": "👍 on the user's most recent described (earlier) liked items, in a live "
                         "session: each joins the intent's titles and the CF history and updates the "
                         "genre feedback, as in the app",
            "collect_seconds": round(table.seconds + (adapted.seconds if adapted else 0.0), 2),
            "engine": engine_facts(setup.test_rec)}


def _as_blend(weights: BlendWeights | Sequence[float]) -> BlendWeights:
    return weights if isinstance(weights, BlendWeights) else BlendWeights(*_weight_tuple(weights))


# ============================================================================ sweeps

SWEEP_COLUMNS = ("alpha", "beta", "gamma", "recall@10", "ndcg@10", "recall@50", "hr@10", "mrr")


def sweep_rows(table: StageTable, *, step: float = 0.1,
               subsets: Mapping[str, np.ndarray] | None = None) -> list[dict[str, float]]:
    """Sweep CSV rows: the contract's columns, beyond-accuracy columns, and ``recall@10`` /
    ``ndcg@10`` on each named subset (suffix ``_<subset>``)."""
    grid = weight_grid(step)
    rows = sweep_table(table, grid, k=10)
    for name, sub in (subsets or {}).items():
        if not len(sub):
            continue
        extra = sweep_table(table, grid, k=10, rows=sub, names=["recall@10", "ndcg@10"], beyond=False)
        for row, more in zip(rows, extra):
            row[f"recall@10_{name}"] = more["recall@10"]
            row[f"ndcg@10_{name}"] = more["ndcg@10"]
    for row in rows:
        row["n"] = len(table)
    return rows


def write_csv(rows: Sequence[Mapping[str, float]], path: str | Path) -> list[str]:
    """Write sweep rows (contract columns first); returns the header."""
    import csv

    extra = [c for c in rows[0] if c not in SWEEP_COLUMNS] if rows else []
    header = list(SWEEP_COLUMNS) + extra
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_value(row.get(c)) for c in header])
    return header


def _csv_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) >= 1 else f"{value:.6f}".rstrip("0").rstrip(".") or "0"
    return str(value)
