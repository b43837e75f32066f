"""Stage 5 — blend: ``final_i = α·r̂_i + β·ŝ_i + γ·b̂_i``.

Each signal is min-max normalised over the request's candidate pool ``P`` (the union of
the LLM top-N and the CF top-N) so that the three live on the same [0, 1] scale and the
weights mean what they say::

    x̂_i = clip((x_i − min_{j∈P} x_j) / (max_{j∈P} x_j − min_{j∈P} x_j), 0, 1)

(a constant signal normalises to 0). The weights are scale-free and normalised to sum to 1
(:func:`normalise_weights`), so ``final`` lies in [0, 1] whatever scale they were given in. Items outside the pool keep their normalised values
(clipped) so every item has a final score, but only pool items are listed. Excluded
items (named or disliked titles, disliked genres, seen items) get ``−∞``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np



def normalise_weights(values: Sequence[object]) -> tuple[float, float, float]:
    """The single source of truth for blend weights: validate ``(α, β, γ)`` and scale them
    to sum to 1.

    Weights are scale-free — ``(2, 1, 1)``, ``(0.5, 0.25, 0.25)`` and ``(2e39, 1e39, 1e39)``
    rank identically — so they are divided by their largest value, then by their sum (in
    that order, so neither 1e308 nor 1e-320 overflows or underflows). Weights that already
    sum to 1 (within 1e-9) are returned unchanged, bit for bit. Raises ``ValueError``
    unless there are three finite numbers ≥ 0, not all 0.
    """
    values = tuple(values)
    if len(values) != 3:
        raise ValueError("Weights are three numbers: α, β, γ.")
    if any(isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
           or not math.isfinite(v) or v < 0 for v in values):
        shown = ", ".join(f"{n}={v}" for n, v in zip("αβγ", values))
        raise ValueError(f"Blend weights must be finite numbers ≥ 0 (got {shown}).")
    floats = tuple(float(v) for v in values)  # type: ignore[arg-type]  # numbers, checked above
    if max(floats) <= 0:
        raise ValueError("At least one of the blend weights α, β, γ must be above 0.")
    if max(floats) <= 1.0 and abs(math.fsum(floats) - 1.0) <= 1e-9:
        return floats  # type: ignore[return-value]
    top = max(floats)
    scaled = [v / top for v in floats]
    total = math.fsum(scaled)
    return (scaled[0] / total, scaled[1] / total, scaled[2] / total)


@dataclass(frozen=True)
class BlendWeights:
    """The α, β, γ of the blend; non-negative, not all zero. The scale does not matter:
    the stored values are normalised to sum to 1 by :func:`normalise_weights`."""

    alpha: float = 0.5
    beta: float = 0.3
    gamma: float = 0.2

    def __post_init__(self) -> None:
        alpha, beta, gamma = normalise_weights((self.alpha, self.beta, self.gamma))
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "gamma", gamma)

    def as_tuple(self) -> tuple[float, float, float]:
        """``(α, β, γ)``."""
        return (float(self.alpha), float(self.beta), float(self.gamma))

    @classmethod
    def of(cls, weights: BlendWeights | Sequence[float]) -> BlendWeights:
        """``weights`` as :class:`BlendWeights` (a triple is normalised like any other; the one
        place a triple from a slider, a CLI flag or a table becomes weights)."""
        return weights if isinstance(weights, BlendWeights) else cls(*(float(w) for w in weights))


@dataclass(frozen=True, eq=False)
class Blend:
    """Normalised signals, final scores and the ranking over the pool (arrays read-only)."""

    weights: BlendWeights
    r_hat: np.ndarray
    s_hat: np.ndarray
    b_hat: np.ndarray
    final: np.ndarray
    ranking: np.ndarray


def normalise_on_pool(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Min-max normalise ``values`` with the pool's range, clipped to [0, 1]."""
    if len(pool) == 0 or not float(values[pool].max()) > float(values[pool].min()):
        out = np.zeros(len(values), dtype=np.float32)
    else:
        lo, hi = float(values[pool].min()), float(values[pool].max())
        out = np.clip((values.astype(np.float32) - lo) / (hi - lo), 0.0, 1.0)
    out.flags.writeable = False
    return out


def blend(r_hat: np.ndarray, s_hat: np.ndarray, b_hat: np.ndarray, weights: BlendWeights,
          pool: np.ndarray, excluded: np.ndarray) -> Blend:
    """Combine normalised signals and rank the pool (module docstring)."""
    alpha, beta, gamma = weights.as_tuple()
    final = (alpha * r_hat + beta * s_hat + gamma * b_hat).astype(np.float32)
    final[excluded] = -np.inf
    # only the pool is ranked: by final score, ties by item index (as top_indices does)
    ranked = pool[~excluded[pool] & np.isfinite(final[pool])].astype(np.int64)
    ranking = ranked[np.lexsort((ranked, -final[ranked]))]
    final.flags.writeable = False
    ranking.flags.writeable = False
    return Blend(weights, r_hat, s_hat, b_hat, final, ranking)
