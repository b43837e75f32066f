"""Offline evaluation: real typed requests (ReDial) against the catalogue.

Protocol ``redial``: the system sees only the request text; the whole catalogue is ranked
with the movies the request names left out; the targets are the movies the seeker was
later recommended and liked. For a ranked list ``L`` and targets ``T``::

    Recall@k = |L[:k] ∩ T| / |T|        HR@k = 1[|L[:k] ∩ T| > 0]
    NDCG@k   = Σ_{i≤k, L_i∈T} 1/log2(i+1)  /  Σ_{i≤min(k,|T|)} 1/log2(i+1)
    MRR      = 1 / rank of the first target (0 if none in the list)

Every system ranks the same requests: ``random`` (seeded per request), ``popularity``
(the prior ``b``), ``llm`` (``r``), ``cf`` (``s``) and ``blend``. Stage scores are computed
once per request; re-weighting only re-blends.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recsys.baseline import random_scores
from recsys.blend import BlendWeights
from recsys.llm_scores import top_indices

logger = logging.getLogger(__name__)

SYSTEMS = ("random", "popularity", "llm", "cf", "blend")
LIST_LENGTH = 50


@dataclass(frozen=True)
class EvalRequest:
    """One evaluation case: text in, target ``movieId``s out."""

    id: str
    text: str
    targets: tuple[int, ...]
    named: tuple[int, ...] = ()
    has_mention: bool = False


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
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path} line {line_no}: not a request record ({exc})") from None
    return requests


# ----------------------------------------------------------------------------- metrics

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


def metrics_for(ranked: Sequence[int], targets: set[int], k: int = 10) -> dict[str, float]:
    """The per-request metric row."""
    return {f"recall@{k}": recall_at(ranked, targets, k), "recall@50": recall_at(ranked, targets, 50),
            f"ndcg@{k}": ndcg_at(ranked, targets, k), f"hr@{k}": hit_at(ranked, targets, k),
            "mrr": reciprocal_rank(ranked, targets)}


# ----------------------------------------------------------------------------- running

def system_rankings(recommender: Any, request: EvalRequest, weights: BlendWeights,
                    systems: Iterable[str] = SYSTEMS, length: int = LIST_LENGTH) -> dict[str, list[int]]:
    """``movieId`` lists per system for one request (the request's named movies excluded)."""
    catalogue = recommender.catalogue
    result = recommender.recommend(request.text, weights, k=min(length, 100))
    protocol_excluded = np.zeros(len(catalogue), dtype=bool)
    protocol_excluded[catalogue.indices(list(request.named))] = True
    pipeline_excluded = result.excluded | protocol_excluded
    out: dict[str, list[int]] = {}
    for system in systems:
        if system == "random":
            idx = top_indices(random_scores(len(catalogue), request.text), length, protocol_excluded)
        elif system == "popularity":
            idx = top_indices(recommender.baseline, length, protocol_excluded)
        elif system == "llm":
            idx = top_indices(result.relevance.r, length, pipeline_excluded)
        elif system == "cf":
            idx = top_indices(result.s, length, pipeline_excluded) if result.seeds else \
                top_indices(recommender.baseline, length, pipeline_excluded)
        elif system == "blend":
            final = result.blend.final.copy()
            final[protocol_excluded] = -np.inf
            idx = top_indices(final, length, ~np.isfinite(final))
        else:
            raise ValueError(f"unknown system {system!r}")
        out[system] = catalogue.movie_ids[idx].tolist()
    return out


def evaluate_requests(recommender: Any, requests: Sequence[EvalRequest], *,
                      weights: BlendWeights | None = None, systems: Iterable[str] = SYSTEMS,
                      k: int = 10, progress: Callable[[float, str], None] | None = None
                      ) -> dict[str, list[dict[str, float]]]:
    """Per-request metric rows per system, over the requests that have targets."""
    weights = weights or recommender.config.weights
    systems = tuple(systems)
    rows: dict[str, list[dict[str, float]]] = {s: [] for s in systems}
    usable = [r for r in requests if r.targets]
    for n, request in enumerate(usable):
        rankings = system_rankings(recommender, request, weights, systems)
        targets = set(request.targets)
        for system, ranked in rankings.items():
            rows[system].append(metrics_for(ranked, targets, k))
        if progress is not None:
            progress((n + 1) / len(usable), f"{n + 1}/{len(usable)} requests")
    return rows


def summarise(rows: dict[str, list[dict[str, float]]], *, resamples: int = 1000,
              seed: int = 0) -> dict[str, dict[str, Any]]:
    """Mean of each metric per system with a bootstrap 95 % interval.

    The same resampled request sets are used for every system, so intervals of
    different systems are comparable.
    """
    out: dict[str, dict[str, Any]] = {}
    n = len(next(iter(rows.values()), []))
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, n, size=(resamples, n)) if n else np.zeros((0, 0), dtype=int)
    for system, values in rows.items():
        if not values:
            continue
        summary: dict[str, Any] = {}
        ci: dict[str, list[float]] = {}
        for metric in values[0]:
            column = np.array([row[metric] for row in values])
            summary[metric] = float(column.mean())
            means = column[samples].mean(axis=1)
            ci[metric] = [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]
        summary["ci95"] = ci
        out[system] = summary
    return out
