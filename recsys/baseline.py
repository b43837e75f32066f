"""Stage 4b — the non-personalised baseline prior ``b`` and the random cold-start ranker.

Baseline prior (recent popularity × quality). Per item ``i`` with ratings ``u`` at times
``t_ui``, the log's latest time ``t_end`` and a half-life ``h`` (years)::

    w_ui = 2^(−(t_end − t_ui) / h)               (1 for every rating when h is None or the
                                                   interactions carry no times)
    ñ_i  = Σ_u w_ui                               (recency-weighted number of ratings)
    μ̃_i  = (n_i·μ_i + m·μ) / (n_i + m)           (damped mean rating, all ratings: quality
                                                   does not age; ``m`` pseudo-ratings)
    b_i  = log(1 + ñ_i) · μ̃_i / 5

Unrated items get ``b_i = 0``. "Popular" means popular *now*, at the end of the log, which
is when a new user asks: with h = 1, a rating from two years before the newest counts a
quarter as much as one from this week. On ReDial's training requests (typed in 2017–2018) a
half-life of one year was chosen over none, 4, 2, 0.5 and 0.25 years by blend Recall@10
(``bench/popularity.py --grid``; README "Popular now").

With knowledge (a popularity signal ``v_i`` from outside, the TMDB vote count) the prior
can mix both, each scaled to [0, 1]::

    b_i ← (1 − w_v) · b_i / max_j b_j  +  w_v · log(1 + v_i) / max_j log(1 + v_j)

(w_v = 0 by default: it lowered language-only recall on ReDial's training requests.) The
"popularity" system of the Compare page ranks by ``b``.

Random cold start: a uniformly random permutation of the catalogue, seeded per request
(``seed ⊕ hash(text)``) so the same request shows the same random list.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from recsys.catalogue import Catalogue

DAMPING = 10.0
SECONDS_PER_YEAR = 365.25 * 86_400


def recency_weights(timestamps: np.ndarray, half_life: float | None) -> np.ndarray:
    """``w = 2^(−(t_end − t) / h)`` per interaction (years; all ones without a half-life or
    without times: every timestamp 0, as a log without times is stored)."""
    t = np.asarray(timestamps, dtype=np.float64)
    if half_life is None or not len(t) or not float(t.max()) > 0:
        return np.ones(len(t), dtype=np.float64)
    if half_life <= 0:
        raise ValueError(f"half_life must be positive, got {half_life}")
    age = np.maximum(float(t.max()) - t, 0.0) / SECONDS_PER_YEAR
    return np.exp2(-age / half_life)


def baseline_prior(catalogue: Catalogue, *, damping: float = DAMPING, half_life: float | None = None,
                   ratings: pd.DataFrame | None = None, votes: np.ndarray | None = None,
                   votes_weight: float = 0.0) -> np.ndarray:
    """``b`` for every item (module docstring); read-only.

    ``ratings`` overrides the catalogue's interactions (evaluation passes the training
    users' only; columns ``movie_id``, ``rating``, ``timestamp``); ``half_life`` (years)
    weights each rating by its age; ``votes`` and ``votes_weight`` mix in the knowledge's
    popularity signal.
    """
    frame = catalogue.ratings if ratings is None else ratings
    n_items = len(catalogue)
    items = pd.Index(catalogue.movie_ids).get_indexer(frame["movie_id"].to_numpy())
    known = items >= 0
    items = items[known].astype(np.int64)
    values = frame["rating"].to_numpy(dtype=np.float64)[known]
    n = np.bincount(items, minlength=n_items).astype(np.float64)
    sums = np.bincount(items, weights=values, minlength=n_items)
    mu_i = np.divide(sums, n, out=np.zeros_like(sums), where=n > 0)
    recent = n if half_life is None else np.bincount(
        items, weights=recency_weights(frame["timestamp"].to_numpy()[known], half_life),
        minlength=n_items)
    total = n.sum()
    mu = float(sums.sum() / total) if total else 0.0
    damped = (n * mu_i + damping * mu) / (n + damping)
    b = np.log1p(recent) * damped / 5.0
    b[n == 0] = 0.0
    if votes is not None and votes_weight > 0 and np.any(votes > 0) and b.max() > 0:
        v = np.log1p(np.maximum(np.asarray(votes, dtype=np.float64), 0.0))
        b = (1 - votes_weight) * b / b.max() + votes_weight * v / v.max()
    b = b.astype(np.float32)
    b.flags.writeable = False
    return b


def request_seed(text: str, seed: int = 0) -> int:
    """A stable 32-bit seed for ``text`` (independent of Python's hash randomisation)."""
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return (int.from_bytes(digest[:4], "little") ^ seed) & 0xFFFFFFFF


def random_scores(n_items: int, text: str = "", seed: int = 0) -> np.ndarray:
    """Scores in [0, 1) whose order is a uniformly random permutation (seeded per request)."""
    return np.random.default_rng(request_seed(text, seed)).random(n_items).astype(np.float32)
