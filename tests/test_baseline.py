"""Stage 4b: the popularity/quality prior and the random cold start."""

from __future__ import annotations

import numpy as np

import pandas as pd
import pytest

from recsys.baseline import SECONDS_PER_YEAR, baseline_prior, random_scores, recency_weights


def _ratings(catalogue, counts, means, ages_years=None):
    """A ratings frame: ``counts[i]`` ratings of item ``i`` averaging ``means[i]``, each
    ``ages_years[i]`` years before the newest rating (all at the same time without ages)."""
    rows = []
    end = 1_600_000_000
    for i, (n, mean) in enumerate(zip(counts, means)):
        age = 0.0 if ages_years is None else ages_years[i]
        for _ in range(n):
            rows.append((1, int(catalogue.movie_ids[i]), float(mean), int(end - age * SECONDS_PER_YEAR)))
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def test_prior_prefers_many_good_ratings(tiny_catalogue):
    n = [0, 1, 50, 50] + [1] * (len(tiny_catalogue) - 4)
    mean = [0.0, 5.0, 4.5, 2.0] + [3.0] * (len(tiny_catalogue) - 4)
    b = baseline_prior(tiny_catalogue, ratings=_ratings(tiny_catalogue, n, mean))
    assert b[0] == 0.0                    # unrated
    assert b[2] > b[3]                    # same count, better ratings
    assert b[2] > b[1]                    # one 5-star rating does not beat fifty good ones
    assert not b.flags.writeable


def test_half_life_prefers_what_is_watched_now(tiny_catalogue):
    # item 0: 40 ratings ten years ago; item 1: 10 ratings this year, same mean rating
    n = [40, 10] + [1] * (len(tiny_catalogue) - 2)
    ages = [10.0, 0.0] + [5.0] * (len(tiny_catalogue) - 2)
    ratings = _ratings(tiny_catalogue, n, [4.0] * len(n), ages)
    all_time = baseline_prior(tiny_catalogue, ratings=ratings)
    recent = baseline_prior(tiny_catalogue, ratings=ratings, half_life=1.0)
    assert all_time[0] > all_time[1]          # counted alike, the old hit wins
    assert recent[1] > recent[0]              # weighted by age, this year's film wins


def test_recency_weights_halve_every_half_life_and_ignore_missing_times():
    t = np.array([0, SECONDS_PER_YEAR, 2 * SECONDS_PER_YEAR])
    assert np.allclose(recency_weights(t, 1.0), [0.25, 0.5, 1.0])
    assert np.allclose(recency_weights(np.zeros(3), 1.0), 1.0)   # a log without times
    assert np.allclose(recency_weights(t, None), 1.0)
    with pytest.raises(ValueError):
        recency_weights(t, 0.0)


def test_random_baseline_is_stable_per_request_and_differs_across_requests():
    a = random_scores(1000, "sci-fi please")
    assert np.array_equal(a, random_scores(1000, "sci-fi please"))
    assert not np.array_equal(np.argsort(a), np.argsort(random_scores(1000, "a comedy")))
    assert not np.array_equal(np.argsort(a), np.argsort(random_scores(1000, "sci-fi please", seed=1)))
