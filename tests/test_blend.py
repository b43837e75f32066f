"""Stage 5: normalisation and blending."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.blend import BlendWeights, blend, normalise_on_pool


def test_normalisation_maps_the_pool_onto_0_1():
    values = np.array([5.0, -3.0, 1.0, 100.0])
    pool = np.array([0, 1, 2])
    out = normalise_on_pool(values, pool)
    np.testing.assert_allclose(out[pool], [1.0, 0.0, 0.5])
    assert out[3] == 1.0  # outside the pool: clipped
    assert not normalise_on_pool(np.ones(4), pool).any()  # constant signal carries no information


@pytest.mark.parametrize("weights", [(-1, 0, 0), (0, 0, 0), (float("nan"), 1, 1), (1, float("inf"), 0)])
def test_invalid_weights_are_refused_with_a_message(weights):
    with pytest.raises(ValueError, match="weight"):
        BlendWeights(*weights)


def test_blend_ranks_by_the_weighted_sum_and_skips_excluded():
    r = np.array([1.0, 0.0, 0.5, 0.9])
    s = np.array([0.0, 1.0, 0.5, 0.9])
    b = np.zeros(4)
    pool = np.arange(4)
    excluded = np.array([False, False, False, True])
    assert blend(r, s, b, BlendWeights(1, 0, 0), pool, excluded).ranking.tolist() == [0, 2, 1]
    assert blend(r, s, b, BlendWeights(0, 1, 0), pool, excluded).ranking.tolist() == [1, 2, 0]
    mixed = blend(r, s, b, BlendWeights(1, 1, 0), pool, excluded)
    assert mixed.ranking.tolist()[0] in (0, 1, 2) and 3 not in mixed.ranking
    assert mixed.final[3] == -np.inf


@pytest.mark.parametrize("weights", [(2, 1, 1), (2e39, 1e39, 1e39), (1e308, 5e307, 5e307),
                                     (2e-300, 1e-300, 1e-300), (1e-323, 5e-324, 5e-324)])
def test_weights_are_scale_free_even_at_extreme_finite_values(weights):
    assert BlendWeights(*weights).as_tuple() == pytest.approx((0.5, 0.25, 0.25), abs=1e-6)
    r = np.array([1.0, 0.0, 0.5, 0.9])
    s = np.array([0.0, 1.0, 0.5, 0.9])
    b = np.array([0.2, 0.1, 0.0, 0.3])
    pool, excluded = np.arange(4), np.zeros(4, dtype=bool)
    mixed = blend(r, s, b, BlendWeights(*weights), pool, excluded)
    reference = blend(r, s, b, BlendWeights(0.5, 0.25, 0.25), pool, excluded)
    assert mixed.ranking.tolist() == reference.ranking.tolist()
    np.testing.assert_allclose(mixed.final, reference.final, rtol=1e-6)


def test_weights_that_sum_to_one_are_kept_bit_for_bit():
    assert BlendWeights(0.1, 0.2, 0.7).as_tuple() == (0.1, 0.2, 0.7)
    assert BlendWeights(1e-300, 0, 0).as_tuple() == (1.0, 0.0, 0.0)


def test_weights_from_a_triple_are_normalised_and_weights_pass_through():
    w = BlendWeights.of((2, 1, 1))
    assert w.as_tuple() == pytest.approx((0.5, 0.25, 0.25))
    assert BlendWeights.of(w) is w
    with pytest.raises(ValueError):
        BlendWeights.of((0, 0, 0))
