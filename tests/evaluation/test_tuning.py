"""The weight grid (``recsys.evaluation.tuning``)."""

from __future__ import annotations

import pytest

from recsys.evaluation.tuning import weight_grid


def test_weight_grid_has_66_points_on_the_simplex():
    grid = weight_grid(0.1)
    assert len(grid) == 66 and len(set(grid)) == 66
    for point in grid:
        assert sum(point) == pytest.approx(1.0) and all(0 <= w <= 1 for w in point)
        assert all(round(w * 10) == pytest.approx(w * 10) for w in point)
    assert (0.5, 0.3, 0.2) in grid and (1.0, 0.0, 0.0) in grid
    assert len(weight_grid(0.5)) == 6
    with pytest.raises(ValueError):
        weight_grid(0.3)
