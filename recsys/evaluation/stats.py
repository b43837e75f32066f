"""Statistics of per-request metric values: bootstrap intervals, paired differences, lifts.

For per-request values ``v_n`` in groups (users) ``g(n)``, each of ``R`` resamples draws the
``G`` groups with replacement (``c_rg`` = times group ``g`` was drawn) and computes the
resampled mean ``Σ_g c_rg·S_g / Σ_g c_rg·N_g`` (``S_g``, ``N_g``: sum and count of group
``g``'s defined values). The 95 % interval is the 2.5th and 97.5th percentile of those
means; the point value is the plain mean of the defined (non-NaN) values. The same
resamples (same groups, seed and ``R``) serve every system, so intervals are comparable
and paired differences ``mean(a_n − b_n)`` are exact.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from recsys.evaluation.metrics import coverage
from recsys.evaluation.requests import DEFAULT_SEED, DEFAULTS


def bootstrap_counts(groups: Iterable[Any], resamples: int = DEFAULTS.resamples, seed: int = DEFAULT_SEED
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


def mean_ci(values: np.ndarray, group_of: np.ndarray, counts: np.ndarray
            ) -> tuple[float | None, list[float | None]]:
    """``(mean, [lo, hi])`` of ``values`` (NaN left out) with the bootstrap interval over the
    resamples ``counts`` of :func:`bootstrap_counts`; ``(None, [None, None])`` when no value
    is defined."""
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


def summarise(rows: Mapping[str, Any], *, resamples: int = DEFAULTS.resamples, seed: int = DEFAULT_SEED,
              groups: Sequence[Any] | np.ndarray | None = None, rankings: Mapping[str, np.ndarray] | None = None,
              k: int = DEFAULTS.k, n_items: int | None = None) -> dict[str, dict[str, Any]]:
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
            summary[metric], ci[metric] = mean_ci(values, group_of, counts)
        if rankings is not None and n_items and system in rankings and n:
            name = f"coverage@{k}"
            summary[name], ci[name] = coverage(rankings[system][:, :k], n_items), [None, None]
        summary["ci95"] = ci
        out[system] = summary
    return out


def paired_differences(rows: Mapping[str, Mapping[str, np.ndarray]], pairs: Iterable[tuple[str, str]],
                       metrics: Iterable[str], *, resamples: int = DEFAULTS.resamples, seed: int = DEFAULT_SEED,
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
            diff, ci = mean_ci(np.asarray(rows[a][metric]) - np.asarray(rows[b][metric]), group_of, counts)
            mean_b = float(np.nanmean(rows[b][metric])) if len(rows[b][metric]) else 0.0
            mean_a = float(np.nanmean(rows[a][metric])) if len(rows[a][metric]) else 0.0
            entry[metric] = {"diff": diff, "ci95": ci,
                             "ratio": (mean_a / mean_b) if mean_b > 0 else None}
        out[f"{a} - {b}"] = entry
    return out


def _as_columns(values: Any) -> dict[str, np.ndarray]:
    """``{metric: float[N]}`` from columns or from a list of ``{metric: value}`` rows."""
    if isinstance(values, Mapping):
        return {m: np.asarray(v, dtype=np.float64) for m, v in values.items()}
    values = list(values)
    if not values:
        return {}
    return {m: np.array([row[m] for row in values], dtype=np.float64) for m in values[0]}


def lift(systems: Mapping[str, Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
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
