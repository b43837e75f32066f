"""Bootstrap intervals and paired differences (``recsys.evaluation.stats``)."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.evaluation.stats import paired_differences, summarise


def test_bootstrap_interval_contains_the_mean_and_handles_clusters_and_gaps():
    rng = np.random.default_rng(0)
    values = rng.random(300)
    out = summarise({"a": {"m": values}, "b": {"m": values * 0.5}}, resamples=500)
    lo, hi = out["a"]["ci95"]["m"]
    assert out["a"]["m"] == pytest.approx(values.mean())
    assert lo < out["a"]["m"] < hi and hi - lo < 0.1
    b_lo, b_hi = out["b"]["ci95"]["m"]
    assert b_lo == pytest.approx(lo / 2) and b_hi == pytest.approx(hi / 2)   # same resamples
    # three near-identical cases per user: resampling users gives a wider interval
    clustered = np.repeat(rng.random(100), 3)
    groups = np.repeat(np.arange(100), 3)
    per_case = summarise({"s": {"m": clustered}}, resamples=500)["s"]["ci95"]["m"]
    per_user = summarise({"s": {"m": clustered}}, resamples=500, groups=groups)["s"]["ci95"]["m"]
    assert per_user[1] - per_user[0] > 1.3 * (per_case[1] - per_case[0])
    # undefined values (NaN) stay out of the mean; all-undefined gives null, not NaN
    gappy = summarise({"s": {"m": np.array([1.0, np.nan, 0.0, np.nan]),
                                "none": np.full(4, np.nan)}}, resamples=200)["s"]
    assert gappy["m"] == 0.5 and gappy["none"] is None and gappy["ci95"]["none"] == [None, None]
    # the old row-list input still works
    rows = summarise({"x": [{"m": 1.0}, {"m": 0.0}]}, resamples=200)
    assert rows["x"]["m"] == 0.5


def test_paired_differences_and_ratio():
    a = np.array([0.2, 0.4, 0.6, 0.8])
    b = a / 2
    out = paired_differences({"a": {"m": a}, "b": {"m": b}}, [("a", "b")], ["m"], resamples=200)
    entry = out["a - b"]["m"]
    assert entry["diff"] == pytest.approx(0.25) and entry["ratio"] == pytest.approx(2.0)
    assert entry["ci95"][0] > 0
