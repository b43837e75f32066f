"""Stage 4b — the non-personalised baseline prior ``b`` and the random cold-start ranker.

Baseline prior (popularity × quality), per item ``i`` with ``n_i`` ratings of mean
``μ_i``, global mean ``μ`` and ``m`` pseudo-ratings of damping::

    μ̃_i = (n_i·μ_i + m·μ) / (n_i + m)          (damped mean rating)
    b_i  = log(1 + n_i) · μ̃_i / 5

Unrated items get ``b_i = 0``. With knowledge (a current popularity signal ``v_i``, the TMDB
vote count) the prior mixes both, each scaled to [0, 1]::

    b_i ← (1 − w_v) · b_i / max_j b_j  +  w_v · log(1 + v_i) / max_j log(1 + v_j)

(MovieLens' raters are a small, older crowd; ``v`` says what people at large know.) The "popularity" system of the Compare page ranks by ``b``.

Random cold start: a uniformly random permutation of the catalogue, seeded per request
(``seed ⊕ hash(text)``) so the same request shows the same random list.
"""

from __future__ import annotations

import hashlib

import numpy as np

from recsys.catalogue import Catalogue

DAMPING = 10.0


def baseline_prior(catalogue: Catalogue, *, damping: float = DAMPING,
                   n_ratings: np.ndarray | None = None,
                   mean_rating: np.ndarray | None = None, votes: np.ndarray | None = None,
                   votes_weight: float = 0.0) -> np.ndarray:
    """``b`` for every item (module docstring); read-only.

    ``n_ratings`` / ``mean_rating`` override the catalogue's statistics (evaluation
    computes them from training users only); ``votes`` and ``votes_weight`` mix in the
    knowledge's popularity signal.
    """
    n = (catalogue.n_ratings if n_ratings is None else n_ratings).astype(np.float64)
    mu_i = (catalogue.mean_rating if mean_rating is None else mean_rating).astype(np.float64)
    total = n.sum()
    mu = float((n * mu_i).sum() / total) if total else 0.0
    damped = (n * mu_i + damping * mu) / (n + damping)
    b = np.log1p(n) * damped / 5.0
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
