"""Stage 4b: the popularity/quality prior and the random cold start."""

from __future__ import annotations

import numpy as np

from recsys.baseline import baseline_prior, random_scores


def test_prior_prefers_many_good_ratings(tiny_catalogue):
    n = np.array([0, 1, 50, 50] + [1] * (len(tiny_catalogue) - 4))
    mean = np.array([0.0, 5.0, 4.5, 2.0] + [3.0] * (len(tiny_catalogue) - 4))
    b = baseline_prior(tiny_catalogue, n_ratings=n, mean_rating=mean)
    assert b[0] == 0.0                    # unrated
    assert b[2] > b[3]                    # same count, better ratings
    assert b[2] > b[1]                    # one 5-star rating does not beat fifty good ones
    assert not b.flags.writeable


def test_random_baseline_is_stable_per_request_and_differs_across_requests():
    a = random_scores(1000, "sci-fi please")
    assert np.array_equal(a, random_scores(1000, "sci-fi please"))
    assert not np.array_equal(np.argsort(a), np.argsort(random_scores(1000, "a comedy")))
    assert not np.array_equal(np.argsort(a), np.argsort(random_scores(1000, "sci-fi please", seed=1)))
