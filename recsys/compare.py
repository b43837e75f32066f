"""Measures behind the web app's Compare and Tune pages: pure functions, no streamlit.

Per request, for each system's top-``k`` list ``L`` (item indices) and the request's
liked genres ``G⁺`` and disliked genres ``G⁻``::

    overlap(L, M)     = |L ∩ M| / |L|                    (share of L also in M)
    liked-genre share = |{i ∈ L : G_i ∩ G⁺ ≠ ∅}| / |L|   (n/a when G⁺ is empty)
    disliked shown    = |{i ∈ L : G_i ∩ G⁻ ≠ ∅}|         (a count of disliked-genre items)

``violations``, ``novelty``, ``coverage`` and the mean number of ratings are the
evaluation's metrics, imported from :mod:`recsys.evaluation.metrics` (formulas there), so
the scorecard and the benchmark tables on the Compare page mean the same thing:
``violations`` is the *share* of the list with a disliked genre or a year outside the asked
era (n/a when the request states neither), not a count.

What CF changed (:func:`cf_adjustments`) compares the final list with the list the same
weights give without CF (β = 0): *promoted* and *demoted* items moved within it,
*injected* items were not among the LLM candidates at all (CF brought them into the pool),
*dropped* items fell out of the top ``k``.

Results files written by ``python -m recsys evaluate --json`` and ``python -m recsys
sweep`` are parsed by :func:`evaluation_table` and :func:`read_sweep` (the Tune page's
quick sweep computes the same grid with :mod:`recsys.evaluation` itself). The warm-up protocol's file
(``evaluate --protocol warmup``: quality after ``n`` reactions) is read by
:func:`warmup_curves`.

What the trained adapter changes in ``r`` (:func:`top_changes`): the adapter's term is
additive, ``r = r⁰ + t``, so the ranking without it is the ranking of ``r − t``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsys.blend import normalise_weights
from recsys.evaluation.metrics import disliked_shown, novelty, popularity, violations
from recsys.evaluation.requests import SYSTEMS  # noqa: F401  (systems in display order; re-exported)

SYSTEM_LABELS = {
    "random": "Random",
    "popularity": "Popularity",
    "llm": "Relevance only (r)",
    "cf": "CF only (s)",
    "blend": "Blend",
    "blend-auto": "Blend, auto weights",
    "blend-tuned": "Blend, tuned weights",
    "llm_adapter": "Relevance only (r) + adapter",
    "blend_adapter": "Blend + adapter",
}

#: Short names for chart axes.
SYSTEM_SHORT = {"random": "Random", "popularity": "Popularity", "llm": "Relevance", "cf": "CF", "blend": "Blend",
                "blend-auto": "Blend (auto)", "blend-tuned": "Blend (tuned)",
                "llm_adapter": "Relevance + adapter", "blend_adapter": "Blend + adapter"}

_METRIC_NAMES = {"recall": "Recall", "ndcg": "NDCG", "hr": "HR", "mrr": "MRR", "precision": "Precision",
                 "map": "MAP", "hit": "Hit rate", "coverage": "Coverage", "novelty": "Novelty",
                 "ild": "ILD", "popularity": "Popularity", "violations": "Violations"}

#: Metrics where lower is better (everything else: higher is better).
LOWER_IS_BETTER = ("popularity", "violations")


def lower_is_better(metric: str) -> bool:
    """True for metrics such as ``violations@10`` where smaller values are better."""
    return metric.partition("@")[0].lower() in LOWER_IS_BETTER


def system_label(system: str) -> str:
    """``"llm"`` → ``"Relevance only (r)"``; unknown systems are title-cased."""
    return SYSTEM_LABELS.get(system, system.replace("_", " ").replace("-", " ").title())


def system_short(system: str) -> str:
    """``"llm"`` → ``"Relevance"`` (chart axes); unknown systems are title-cased."""
    return SYSTEM_SHORT.get(system, system.replace("_", " ").replace("-", " ").title())


def metric_label(metric: str) -> str:
    """``"recall@10"`` → ``"Recall@10"``, ``"mrr"`` → ``"MRR"``."""
    name, _, cut = metric.partition("@")
    pretty = _METRIC_NAMES.get(name.lower(), name.replace("_", " ").capitalize())
    return f"{pretty}@{cut}" if cut else pretty


# ----------------------------------------------------------------------------- list measures

def overlap(a: Sequence[int], b: Sequence[int]) -> float:
    """Share of ``a``'s items that are also in ``b`` (0 for an empty ``a``)."""
    if not len(a):
        return 0.0
    return len(set(map(int, a)) & set(map(int, b))) / len(a)


def overlap_matrix(lists: Sequence[Sequence[int]]) -> np.ndarray:
    """``M[i, j] = overlap(lists[i], lists[j])``."""
    n = len(lists)
    out = np.zeros((n, n), dtype=float)
    for i in range(n):
        for j in range(n):
            out[i, j] = overlap(lists[i], lists[j])
    return out


def liked_genre_share(item_genres: Sequence[Iterable[str]], liked: Iterable[str]) -> float | None:
    """Share of items carrying at least one liked genre; ``None`` when nothing is liked."""
    liked_set = set(liked)
    if not liked_set:
        return None
    if not len(item_genres):
        return 0.0
    return sum(1 for g in item_genres if liked_set & set(g)) / len(item_genres)


@dataclass(frozen=True)
class ListMeasures:
    """The Compare page's scorecard row for one system."""

    system: str
    overlap_with_blend: float
    liked_genre_share: float | None
    disliked_shown: int                #: items with a disliked genre (a count)
    violations: float | None           #: the evaluation's violations (a share; None: no constraint)
    novelty: float
    mean_ratings: float
    coverage: float | None = None


def list_measures(system: str, items: Sequence[int], blend_items: Sequence[int], *,
                  genres: Sequence[Iterable[str]], n_ratings: Sequence[float], n_users: int,
                  liked: Iterable[str], disliked: Iterable[str],
                  years: Sequence[int] = (), era: tuple[float, float] | None = None,
                  coverage_value: float | None = None) -> ListMeasures:
    """All per-list measures of the module docstring for one system's list.

    ``genres``, ``n_ratings`` and ``years`` are per catalogue item (indexed by the list's
    items); ``era`` is the asked era as ``(lo, hi)`` years
    (:func:`recsys.evaluation.metrics.era_bounds`), ``None`` when none was asked.
    """
    item_genres = [genres[int(i)] for i in items]
    counts = [float(n_ratings[int(i)]) for i in items]
    item_years = [int(years[int(i)]) for i in items] if era is not None else []
    disliked = list(disliked)
    return ListMeasures(
        system=system,
        overlap_with_blend=overlap(items, blend_items),
        liked_genre_share=liked_genre_share(item_genres, liked),
        disliked_shown=disliked_shown(item_genres, disliked),
        violations=violations(item_genres, disliked, item_years, era),
        novelty=novelty(counts, n_users),
        mean_ratings=popularity(counts),
        coverage=coverage_value,
    )


# ----------------------------------------------------------------------------- CF adjustments

@dataclass(frozen=True)
class RankChange:
    """One item whose place differs between the list without CF and the final list."""

    item: int
    kind: str              # "promoted" | "demoted" | "injected" | "dropped" | "same"
    rank_before: int | None  # 1-based rank without CF (None: below the ranking's end)
    rank_after: int | None   # 1-based rank in the final ranking (None: below its end)

    @property
    def delta(self) -> int | None:
        """Places gained (positive) or lost (negative); ``None`` when a rank is unknown."""
        if self.rank_before is None or self.rank_after is None:
            return None
        return self.rank_before - self.rank_after


def cf_adjustments(without_cf: Sequence[int], with_cf: Sequence[int], llm_candidates: Iterable[int],
                   k: int) -> list[RankChange]:
    """Classify the final top-``k`` against the same blend without CF (module docstring).

    ``without_cf`` and ``with_cf`` are full rankings (best first) of item indices; the
    result lists the final top-``k`` in order, then the items that dropped out of it.
    """
    before = {int(i): n + 1 for n, i in enumerate(without_cf)}
    after = {int(i): n + 1 for n, i in enumerate(with_cf)}
    candidates = {int(i) for i in llm_candidates}
    top_after = [int(i) for i in with_cf[:k]]
    top_before = [int(i) for i in without_cf[:k]]
    changes: list[RankChange] = []
    for item in top_after:
        rb, ra = before.get(item), after[item]
        if item not in candidates:
            kind = "injected"
        elif rb is None or rb > ra:
            kind = "promoted"
        elif rb < ra:
            kind = "demoted"
        else:
            kind = "same"
        changes.append(RankChange(item, kind, rb, ra))
    in_after = set(top_after)
    for item in top_before:
        if item not in in_after:
            changes.append(RankChange(item, "dropped", before[item], after.get(item)))
    return changes


def summarise_changes(changes: Sequence[RankChange]) -> dict[str, int]:
    """Counts per kind (every kind present, zero when absent)."""
    out = {kind: 0 for kind in ("promoted", "demoted", "injected", "dropped", "same")}
    for change in changes:
        out[change.kind] += 1
    return out


# ----------------------------------------------------------------------------- results files

def read_evaluation(path: str | Path) -> dict[str, Any]:
    """Load an ``evaluate --json`` file; raises ``ValueError`` with a readable reason."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{Path(path).name} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("systems"), dict) or not data["systems"]:
        raise ValueError(f"{Path(path).name} has no \"systems\" table")
    return data


def evaluation_table(data: Mapping[str, Any]) -> pd.DataFrame:
    """One row per system and metric: ``system, metric, value, lo, hi`` (CI may be NaN).

    Renders whatever systems and metrics the file holds; known systems come first in
    :data:`SYSTEMS` order.
    """
    rows: list[dict[str, Any]] = []
    systems = data.get("systems", {}) if isinstance(data.get("systems"), Mapping) else {}
    order = [s for s in SYSTEMS if s in systems] + [s for s in systems if s not in SYSTEMS]
    for system in order:
        values = systems[system]
        if not isinstance(values, Mapping):
            continue
        ci = values.get("ci95", {}) if isinstance(values.get("ci95"), Mapping) else {}
        for metric, value in values.items():
            if metric == "ci95" or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            lo, hi = math.nan, math.nan
            bounds = ci.get(metric)
            if isinstance(bounds, Sequence) and len(bounds) == 2 and all(
                    isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds):
                lo, hi = float(bounds[0]), float(bounds[1])
            rows.append({"system": system, "metric": metric, "value": float(value), "lo": lo, "hi": hi})
    return pd.DataFrame(rows, columns=["system", "metric", "value", "lo", "hi"])


def evaluation_subsets(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """``{"all": data, "<subset>": {...systems...}}`` — the whole set and any named subsets
    (e.g. ``language_only``) that carry their own ``systems`` table."""
    out: dict[str, Mapping[str, Any]] = {"all": data}
    subsets = data.get("subsets")
    if isinstance(subsets, Mapping):
        for name, sub in subsets.items():
            if isinstance(sub, Mapping) and isinstance(sub.get("systems"), Mapping) and sub["systems"]:
                out[str(name)] = sub
    return out


WARMUP_PROTOCOL = "warmup"
WARMUP_METRIC = "recall@10"


def is_warmup(data: Mapping[str, Any], name: str = "") -> bool:
    """True for the warm-up protocol's results (shown as curves, not in the benchmark table)."""
    return str(data.get("protocol", "")).lower() == WARMUP_PROTOCOL or name == "evaluation-warmup.json"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        return None
    return float(value)


def _bounds(value: Any) -> tuple[float, float]:
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        lo, hi = _number(value[0]), _number(value[1])
        if lo is not None and hi is not None:
            return lo, hi
    return math.nan, math.nan


def warmup_curves(data: Mapping[str, Any]) -> dict[str, list[tuple[int, float, float, float]]]:
    """``{system: [(n reactions, value, lo, hi), …]}`` from a warm-up results file, by ``n``.

    Each system holds ``"curve": {"0": value, "1": …}``; a point may also be an object
    (``{"value" | "mean" | <metric>: v, "ci95": [lo, hi]}``) and the interval may sit in the
    system's ``"ci95"`` (or ``"curve_ci95"``) keyed like the curve. Non-numeric steps and
    values are skipped; intervals are NaN when absent. Known systems come first in
    :data:`SYSTEMS` order.
    """
    raw_systems = data.get("systems")
    systems: Mapping[str, Any] = raw_systems if isinstance(raw_systems, Mapping) else {}
    metric = str(data.get("metric") or WARMUP_METRIC)
    out: dict[str, list[tuple[int, float, float, float]]] = {}
    order = [s for s in SYSTEMS if s in systems] + [s for s in systems if s not in SYSTEMS]
    for system in order:
        entry = systems[system]
        curve = entry.get("curve") if isinstance(entry, Mapping) else None
        if not isinstance(curve, Mapping):
            continue
        cis: Mapping[str, Any] = {}
        for key in ("ci95", "curve_ci95"):
            if isinstance(entry.get(key), Mapping):
                cis = entry[key]
                break
        points = []
        for step, raw in curve.items():
            try:
                n = int(str(step))
            except ValueError:
                continue
            lo, hi = _bounds(cis.get(str(step)))
            if isinstance(raw, Mapping):
                value = next((_number(raw.get(k)) for k in ("value", "mean", metric) if _number(raw.get(k)) is not None),
                             None)
                if "ci95" in raw:
                    lo, hi = _bounds(raw["ci95"])
            else:
                value = _number(raw)
            if value is not None and n >= 0:
                points.append((n, value, lo, hi))
        if points:
            out[str(system)] = sorted(points)
    return out


# ----------------------------------------------------------------------------- adapter

def top_changes(scores: np.ndarray, other: np.ndarray, n: int, excluded: np.ndarray | None = None
                ) -> tuple[list[int], list[int]]:
    """``(entered, left)``: items in the top ``n`` of ``scores`` but not of ``other``, and back.

    Both are item indices in rank order; ``excluded`` items never count.
    """
    a = np.asarray(scores, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    if excluded is not None and len(excluded):
        a = np.where(excluded, -np.inf, a)
        b = np.where(excluded, -np.inf, b)
    top_a = [int(i) for i in np.argsort(-a, kind="stable")[:n] if np.isfinite(a[i])]
    top_b = [int(i) for i in np.argsort(-b, kind="stable")[:n] if np.isfinite(b[i])]
    set_a, set_b = set(top_a), set(top_b)
    return [i for i in top_a if i not in set_b], [i for i in top_b if i not in set_a]


def adapter_facts(report: Mapping[str, Any], weight: float) -> list[tuple[str, str]]:
    """What the Data & about page says about a trained adapter: ``(label, value)`` pairs from
    its training report (missing fields are left out, never invented)."""
    facts: list[tuple[str, str]] = [("weight λ in r", f"{weight:g}")]
    named = _number(report.get("weight_named"))
    if named is not None and named != weight:
        facts.append(("λ when a movie is named", f"{named:g}"))
    real = _number(report.get("real_requests"))
    if real is not None:
        facts.append(("real requests learned from", f"{int(real):,}"))
    users = _number(report.get("training_users"))
    texts = _number(report.get("training_texts"))
    if users is not None:
        facts.append(("training users", f"{int(users):,}"))
    if texts is not None:
        facts.append(("training descriptions", f"{int(texts):,}"))
    params = _number(report.get("trainable_parameters"))
    if params is not None:
        facts.append(("trainable parameters", f"{params / 1e6:.2f} M" if params >= 1e5 else f"{int(params):,}"))
    loss = _number(report.get("final_val_loss"))
    if loss is not None:
        facts.append(("validation loss", f"{loss:.3f}"))
    recall = report.get("val_recall@10")
    if isinstance(recall, Mapping):
        with_it = _number(recall.get(f"lambda={weight:g}"))
        without = _number(recall.get("lambda=0"))
        if with_it is not None:
            text = f"{with_it:.3f}"
            if without is not None and weight != 0:
                text += f" (λ = 0: {without:.3f})"
            facts.append(("validation Recall@10", text))
    elif (value := _number(recall)) is not None:
        facts.append(("validation Recall@10", f"{value:.3f}"))
    seconds = _number(report.get("seconds"))
    if seconds is not None:
        facts.append(("training time", f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"))
    return facts


SWEEP_WEIGHTS = ("alpha", "beta", "gamma")


def read_sweep(path: str | Path) -> pd.DataFrame:
    """Load a sweep CSV (``alpha, beta, gamma, <metrics>…``); raises ``ValueError``.

    ``gamma`` is derived as ``1 − α − β`` when missing; rows are normalised to sum to 1.
    """
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{Path(path).name} is not a readable CSV ({exc})") from None
    return tidy_sweep(frame, name=Path(path).name)


def tidy_sweep(frame: pd.DataFrame, *, name: str = "sweep") -> pd.DataFrame:
    """Validate and normalise a sweep table (see :func:`read_sweep`)."""
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    if "alpha" not in frame or "beta" not in frame:
        raise ValueError(f"{name} needs columns alpha and beta (found: {', '.join(frame.columns)})")
    if "gamma" not in frame:
        frame = frame.assign(gamma=(1.0 - frame["alpha"] - frame["beta"]).clip(lower=0.0))
    metrics = metric_columns(frame)
    if not metrics:
        raise ValueError(f"{name} has no metric columns besides alpha, beta, gamma")
    frame = frame.dropna(subset=list(SWEEP_WEIGHTS)).copy()
    normalised: list[tuple[float, float, float] | None] = []
    for row in frame[list(SWEEP_WEIGHTS)].itertuples(index=False):
        try:   # the pipeline's rule (recsys.blend.normalise_weights); unusable rows are dropped
            normalised.append(normalise_weights(tuple(float(v) for v in row)))
        except (TypeError, ValueError):
            normalised.append(None)
    keep = np.array([w is not None for w in normalised], dtype=bool)
    frame = frame[keep].copy()
    values = np.array([w for w in normalised if w is not None], dtype=float).reshape(-1, 3)
    for n, col in enumerate(SWEEP_WEIGHTS):
        frame[col] = values[:, n].round(4)
    return frame.reset_index(drop=True)


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric columns of a sweep table that are not weights."""
    return [c for c in frame.columns if c not in SWEEP_WEIGHTS and pd.api.types.is_numeric_dtype(frame[c])]


def best_point(frame: pd.DataFrame, metric: str) -> tuple[float, float, float, float]:
    """``(α, β, γ, value)`` of the grid point with the highest ``metric``."""
    row = frame.loc[frame[metric].idxmax()]
    return float(row["alpha"]), float(row["beta"]), float(row["gamma"]), float(row[metric])
