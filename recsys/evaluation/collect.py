"""Collecting stage scores: the pipeline run once per request, kept in a :class:`StageTable`.

:func:`collect_stages` runs :meth:`recsys.pipeline.Recommender.recommend` (``explain=False``;
a live session for requests with reactions) and keeps, per request, the lists of
``random``, ``popularity``, ``llm`` (``r``) and ``cf`` (``s``, popularity when nothing was
folded in), the blend's pool with ``(r̂, ŝ, b̂)``, and the intent's constraints (for
``violations``). Query texts are batch-encoded first (:mod:`recsys.evaluation.encoding`).
:func:`adapter_tables` collects the same requests with and without the trained adapter.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys.baseline import random_scores, request_seed
from recsys.blend import BlendWeights, normalise_on_pool
from recsys.evaluation.encoding import prefetching
from recsys.evaluation.metrics import era_bounds
from recsys.evaluation.requests import DEFAULT_SEED, LIST_LENGTH, EvalRequest, ProgressFn
from recsys.evaluation.stages import EvalContext, StageTable
from recsys.relevance import top_indices

if TYPE_CHECKING:
    from recsys.feedback import LiveSession
    from recsys.pipeline import Recommendation, Recommender

logger = logging.getLogger(__name__)


def collect_stages(recommender: Recommender, requests: Sequence[EvalRequest], *, length: int = LIST_LENGTH,
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
    fast = prefetching(recommender, [r.text for r in usable], cache_dir) if prefetch else recommender
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
    sessions: dict[tuple[str, str], tuple[LiveSession, tuple[int, ...]]] = {}
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
            eras.append(era_bounds(intent.era))
            constrained.append(bool(cols) or intent.era is not None)
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


def without_adapter(recommender: Recommender) -> Recommender:
    """A shallow copy of ``recommender`` whose ``r`` is zero-shot (adapter detached)."""
    if getattr(recommender, "adapter", None) is None:
        return recommender
    plain = copy.copy(recommender)
    plain.adapter = None
    return plain


def adapter_tables(recommender: Recommender, requests: Sequence[EvalRequest], **collect: Any
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


def _session_result(recommender: Recommender, request: EvalRequest, weights: BlendWeights,
                    sessions: dict[tuple[str, str], tuple[LiveSession, tuple[int, ...]]]) -> Recommendation:
    """The live session's list after ``request.reactions`` (👍, in order); a session is
    continued when an earlier request of the same user was a prefix of these reactions."""
    from recsys import feedback

    key = (request.group or request.id, request.text)
    session, done = sessions.get(key, (None, ()))
    if session is None or request.reactions[:len(done)] != done:
        session, done = feedback.LiveSession(recommender, request.text, weights=weights), ()
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
    """The first ``length`` of a precomputed ``order`` outside ``excluded`` (a full pass by
    ``scores`` when too few are left)."""
    kept = order[~excluded[order]][:length]
    if len(kept) < length:          # long histories: fall back to a full pass
        kept = top_indices(scores, length, excluded)
    return kept


def _pad(rows: list[np.ndarray], length: int) -> np.ndarray:
    """Rows as ``int[N, length]``, cut or padded with ``-1``."""
    out = np.full((len(rows), length), -1, dtype=np.int64)
    for n, row in enumerate(rows):
        out[n, :min(len(row), length)] = row[:length]
    return out
