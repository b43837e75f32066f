"""Blend weights: the α/β/γ grid, sweeps over it, tuning, and two-fold cross-fitting.

The grid is every ``(α, β, γ)`` with ``α + β + γ = 1`` on steps of ``step`` (66 points for
0.1). A sweep scores the blend of a :class:`StageTable` at every point (mean of each
metric over the requests; coverage at ``k`` as a corpus number). Tuning picks the point
with the best mean ``metric`` (ties: smallest L1 distance to the preferred weights);
cross-fitting tunes on one seeded half of the requests and ranks the other, so no request
is ranked with weights tuned on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys.blend import BlendWeights
from recsys.evaluation.metrics import accuracy_names, coverage, needed_length
from recsys.evaluation.requests import DEFAULT_SEED, DEFAULTS, TUNE_METRIC, ProgressFn
from recsys.evaluation.stages import StageTable

if TYPE_CHECKING:
    from recsys.pipeline import Recommender

#: The pipeline's default (α, β, γ): the tie-break preference of tuning.
DEFAULT_WEIGHTS = BlendWeights().as_tuple()
#: The sweep CSV's leading columns (the contract the Tune page and README read).
SWEEP_COLUMNS = ("alpha", "beta", "gamma", "recall@10", "ndcg@10", "recall@50", "hr@10", "mrr")


def weight_grid(step: float = DEFAULTS.sweep_step) -> list[tuple[float, float, float]]:
    """Every ``(α, β, γ)`` on a simplex grid (α+β+γ = 1): 66 points for step 0.1."""
    n = round(1.0 / step)
    if n <= 0 or abs(n * step - 1.0) > 1e-9:
        raise ValueError(f"the step must divide 1 (got {step})")
    return [(round(i / n, 10), round(j / n, 10), round((n - i - j) / n, 10))
            for i in range(n + 1) for j in range(n + 1 - i)]


def sweep_table(table: StageTable, grid: Sequence[tuple[float, float, float]], *, k: int = DEFAULTS.k,
                rows: np.ndarray | None = None, names: Sequence[str] | None = None,
                beyond: bool = True) -> list[dict[str, float]]:
    """Mean quality of the blend at every weight point (``rows``: a subset of requests)."""
    names = list(names or accuracy_names(k, "sampled20" if table.sampled else "redial"))
    length = needed_length(names, k if beyond else 0, table.length)
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


def tune_weights(table: StageTable, rows: np.ndarray, *, metric: str = TUNE_METRIC, k: int = DEFAULTS.k,
                 grid: Sequence[tuple[float, float, float]] | None = None,
                 prefer: Sequence[float] = DEFAULT_WEIGHTS) -> tuple[tuple[float, float, float], float]:
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


def cross_fitted_ranking(table: StageTable, *, metric: str = TUNE_METRIC, k: int = DEFAULTS.k,
                         seed: int = DEFAULT_SEED, prefer: Sequence[float] = DEFAULT_WEIGHTS
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


def sweep_rows(table: StageTable, *, step: float = DEFAULTS.sweep_step,
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


def quick_sweep(recommender: Recommender, path: str | Path, size: int,
                progress: ProgressFn | None = None) -> tuple[list[dict[str, float]], int]:
    """The weight grid on a seeded sample of ``size`` requests from ``path``, with the
    evaluation's own code (stage scores once per request, then one blend per point), and how
    many requests were left out because the adapter trained on their dialogues
    (:func:`recsys.evaluation.requests.drop_trained`; :class:`LeakageError` when none are left).
    ``ValueError`` when no sampled request could be scored."""
    from recsys.evaluation.collect import collect_stages
    from recsys.evaluation.requests import drop_trained, load_requests

    requests, dropped = drop_trained([r for r in load_requests(path) if r.targets], recommender)
    if size < len(requests):
        pick = np.random.default_rng(DEFAULT_SEED).choice(len(requests), size=size, replace=False)
        requests = [requests[i] for i in sorted(pick)]
    table = collect_stages(recommender, requests, prefetch=False, progress=progress)
    if not len(table):
        raise ValueError("none of the sampled requests could be scored")
    return sweep_rows(table), dropped
