"""Every evaluation metric, defined once.

The CLI (``python -m recsys evaluate`` / ``sweep``, hence the README tables), the stage
table's vectorised scoring and the web app's Compare page all call these functions.

Accuracy, for a ranked list ``L`` (best first) and a target set ``T``::

    Recall@k = |L[:k] ∩ T| / |T|                 (0 when T is empty)
    HR@k     = 1[|L[:k] ∩ T| > 0]
    NDCG@k   = Σ_{i≤k, L_i∈T} 1/log2(i+1)  /  Σ_{i≤min(k,|T|)} 1/log2(i+1)
    MRR      = 1 / rank of the first target in L (0 if none; L is the top 50)

Beyond accuracy, on the top ``k`` (``n_i`` ratings of item ``i``, ``U`` users, ``e_i`` unit
item embeddings; all from the data the evaluated system was fitted on)::

    coverage@k    = |∪_requests L[:k]| / |catalogue|          (corpus level, no interval)
    popularity@k  = mean_{i∈L[:k]} n_i
    novelty@k     = mean_{i∈L[:k]} −log2(max(n_i, 1) / U)     bits
    ild@k         = mean_{i≠j∈L[:k]} (1 − e_iᵀe_j)            (undefined below 2 items)
    violations@k  = |{i ∈ L[:k] : G_i ∩ G⁻ ≠ ∅  or  year_i ∉ [era]}| / |L[:k]|

"Violations" has one meaning: the *share* of a list that contradicts the request as the
intent parser read it — a disliked genre ``G⁻``, or a known year (> 0) outside the asked
era. It is undefined (NaN / ``None``) for a request that states neither constraint, and
such requests are left out of its mean. The plain *count* of items showing a disliked
genre, which the Compare page also shows, is :func:`disliked_shown` (not a violation
rate: it ignores the era and the list length).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from recsys.intent import YearRange

# ---------------------------------------------------------------------------- one list


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


# ---------------------------------------------------------------------------- names

def accuracy_names(k: int = 10, protocol: str = "redial") -> list[str]:
    """The accuracy metrics reported for a protocol (table column order)."""
    if protocol == "sampled20":
        return ["ndcg@1", "ndcg@5", "ndcg@10", "ndcg@20", "hr@1", "hr@5", "hr@10", "recall@10", "mrr"]
    return [f"recall@{k}", "recall@50", f"ndcg@{k}", f"hr@{k}", "mrr"]


def beyond_names(k: int = 10) -> list[str]:
    """The beyond-accuracy metrics (table column order)."""
    return [f"coverage@{k}", f"popularity@{k}", f"novelty@{k}", f"ild@{k}", f"violations@{k}"]


METRIC_PATTERN = re.compile(r"^(recall|ndcg|hr)@(\d+)$")


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
        match = METRIC_PATTERN.match(name)
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


def needed_length(names: Iterable[str], k: int, limit: int) -> int:
    """How much of each list the metrics ``names`` (and beyond-accuracy at ``k``) read:
    the largest cut-off, the whole list (``limit``) for ``mrr``."""
    need = k
    for name in names:
        match = METRIC_PATTERN.match(name)
        need = max(need, int(match.group(2)) if match else limit)
    return min(max(need, 1), limit)


# ---------------------------------------------------------------------------- beyond accuracy

def coverage(lists: np.ndarray | Iterable[Sequence[int]], n_items: int) -> float:
    """Catalogue coverage ``|∪ lists| / n_items``: distinct items over all the lists
    (an ``int[N, k]`` array with ``-1`` pads, or any iterable of item lists); 0 for an
    empty catalogue.

    A corpus-level number: it has no per-request values, and a percentile bootstrap of it
    is biased low (a resample holds ~63 % of the requests), so it is reported without an
    interval (``ci95`` is ``[null, null]``)."""
    if n_items <= 0:
        return 0.0
    if isinstance(lists, np.ndarray):
        return float(len(np.unique(lists[lists >= 0])) / n_items)
    seen: set[int] = set()
    for items in lists:
        seen.update(int(i) for i in items if int(i) >= 0)
    return len(seen) / n_items


def self_information(n_ratings: Sequence[float] | np.ndarray, n_users: int) -> np.ndarray:
    """Per item ``−log2(max(n_i, 1) / U)`` bits (``U`` = ``max(n_users, 1)``): higher is
    less popular. :func:`novelty` is its mean over a list."""
    counts = np.asarray(n_ratings, dtype=np.float64)
    return -np.log2(np.maximum(counts, 1.0) / max(float(n_users), 1.0))


def novelty(n_ratings: Sequence[float], n_users: int) -> float:
    """``novelty`` of one list: mean self-information ``−log2(max(n_i, 1) / U)`` of its
    items' rating counts ``n_ratings`` (0 for an empty list)."""
    if not len(n_ratings):
        return 0.0
    return float(np.mean(self_information(n_ratings, n_users)))


def popularity(n_ratings: Sequence[float]) -> float:
    """``popularity`` of one list: mean number of ratings of its items (0 when empty)."""
    return float(np.mean(np.asarray(n_ratings, dtype=np.float64))) if len(n_ratings) else 0.0


def ild(embeddings: np.ndarray) -> float | None:
    """``ild`` of one list: mean pairwise ``1 − cos`` of its items' unit embeddings
    (``float[n, d]``); ``None`` below two items."""
    emb = np.asarray(embeddings, dtype=np.float64)
    n = len(emb)
    if n < 2:
        return None
    gram = emb @ emb.T
    return float((n * (n - 1) - (gram.sum() - np.trace(gram))) / (n * (n - 1)))


def era_bounds(era: YearRange | None) -> tuple[float, float]:
    """``(lo, hi)`` years of an intent's era (``start`` / ``end`` may be ``None``: open);
    ``(−inf, inf)`` without an era."""
    lo = -np.inf if era is None or era.start is None else float(era.start)
    hi = np.inf if era is None or era.end is None else float(era.end)
    return lo, hi


def violations(item_genres: Sequence[Iterable[str]], disliked: Iterable[str],
               years: Sequence[int] = (), era: tuple[float, float] | None = None) -> float | None:
    """``violations`` of one list: the share of its items with a ``disliked`` genre or a
    known year (> 0) outside ``era`` (``(lo, hi)``, inclusive; see :func:`era_bounds`).
    ``None`` when the request states no constraint (no disliked genre and no era); 0 for an
    empty list. ``years`` are per listed item (may be empty when ``era`` is ``None``)."""
    disliked_set = set(disliked)
    if not disliked_set and era is None:
        return None
    if not len(item_genres):
        return 0.0
    lo, hi = era if era is not None else (-math.inf, math.inf)
    bad = 0
    for n, genres in enumerate(item_genres):
        year = float(years[n]) if era is not None else 0.0
        if disliked_set & set(genres) or (year > 0 and (year < lo or year > hi)):
            bad += 1
    return bad / len(item_genres)


def disliked_shown(item_genres: Sequence[Iterable[str]], disliked: Iterable[str]) -> int:
    """Number of items showing a disliked genre (a count, not :func:`violations`)."""
    disliked_set = set(disliked)
    if not disliked_set:
        return 0
    return sum(1 for g in item_genres if disliked_set & set(g))


def beyond_metrics(top: np.ndarray, k: int, *, n_ratings: np.ndarray, self_info: np.ndarray,
                   embeddings: np.ndarray, genre_matrix: np.ndarray, years: np.ndarray,
                   disliked: np.ndarray, era: np.ndarray, constrained: np.ndarray) -> dict[str, np.ndarray]:
    """Vectorised per-list ``popularity@k``, ``novelty@k``, ``ild@k`` and ``violations@k``
    (formulas in the module docstring) of ``top`` (``int[N, k]`` item indices, ``-1`` pads).

    Per item: ``n_ratings``, ``self_info`` (:func:`self_information`), unit ``embeddings``,
    ``genre_matrix`` (bool), ``years`` (0 = unknown). Per list: ``disliked`` (bool genre
    columns), ``era`` (``float[N, 2]``, :func:`era_bounds`), ``constrained`` (NaN
    violations where false). Equal to the one-list functions above."""
    present = top >= 0
    items = np.where(present, top, 0)
    count = present.sum(axis=1)
    denom = np.maximum(count, 1)
    popularity_k = np.where(present, n_ratings[items], 0.0).sum(axis=1) / denom
    novelty_k = np.where(present, self_info[items], 0.0).sum(axis=1) / denom
    emb = embeddings[items] * present[..., None]
    gram = np.einsum("nid,njd->nij", emb, emb)
    pairs = count * (count - 1)
    off_diagonal = gram.sum(axis=(1, 2)) - np.einsum("nii->n", gram)
    ild_k = np.divide(pairs - off_diagonal, pairs, out=np.full(len(top), np.nan), where=pairs > 0)
    genre_bad = (genre_matrix[items] & disliked[:, None, :]).any(axis=2)
    item_years = years[items].astype(np.float64)
    era_bad = (item_years > 0) & ((item_years < era[:, :1]) | (item_years > era[:, 1:]))
    bad = (genre_bad | era_bad) & present
    violations_k = np.where(constrained, bad.sum(axis=1) / denom, np.nan)
    return {f"popularity@{k}": popularity_k, f"novelty@{k}": novelty_k, f"ild@{k}": ild_k,
            f"violations@{k}": violations_k}
