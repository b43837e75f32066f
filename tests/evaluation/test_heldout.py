"""Held-out users (``recsys.evaluation.heldout``): the split, histories, no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.evaluation.heldout import split_recommender, split_users, user_histories


def test_user_split_is_seeded_disjoint_and_the_products_split():
    users = np.arange(1, 611)
    split = split_users(users, 0.2, 0)
    assert len(split.held_out) == 122 and len(split.train) == 488
    assert not set(split.train) & set(split.held_out)
    assert np.array_equal(split.held_out, split_users(users[::-1], 0.2, 0).held_out)
    assert not np.array_equal(split.held_out, split_users(users, 0.2, 1).held_out)
    splits = pytest.importorskip("recsys.splits")
    catalogue = type("C", (), {"ratings": pd.DataFrame({"user_id": users})})()
    train, held = splits.split_users(catalogue)
    assert np.array_equal(train, split.train) and np.array_equal(held, split.held_out)


def test_user_histories_split_liked_items_by_time():
    ratings = pd.DataFrame({
        "user_id": [7] * 8 + [8] * 3,
        "movie_id": [10, 11, 12, 13, 14, 15, 16, 17, 10, 11, 12],
        "rating": [5.0, 2.0, 4.5, 4.0, 1.0, 4.0, 5.0, 3.0, 5.0, 5.0, 5.0],
        "timestamp": [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3]})
    (h,) = user_histories(ratings, [7, 8])          # user 8 has too few liked items
    assert h.user_id == 7
    assert h.earlier == (10, 12) and h.targets == (13, 15, 16)
    assert h.history == (10, 11, 12)                   # everything rated up to the split
    assert h.disliked == (11,) and h.rated == frozenset(range(10, 18))


def _tiny_raw(tiny_dir):
    from recsys.data import load_dataset

    return load_dataset(tiny_dir)


def test_train_only_recommender_never_sees_held_out_users(tiny_recommender, tiny_dir, tmp_path):
    from recsys.pipeline import pipeline_prior

    raw = _tiny_raw(tiny_dir)
    users = np.unique(raw.ratings["user_id"])
    held_out = np.array([1, 2, 13, 25])                # user 1 wrote every tag
    train = np.setdiff1d(users, held_out)
    rec = split_recommender(tiny_recommender, raw, train, cache_dir=tmp_path)
    assert not set(rec.cf.user_ids.tolist()) & set(held_out.tolist())
    assert set(rec.catalogue.ratings["user_id"]) == set(train.tolist())
    kept = raw.ratings[raw.ratings["user_id"].isin(train)]
    counts = kept.groupby("movie_id").size().reindex(rec.catalogue.movie_ids, fill_value=0).to_numpy()
    assert np.array_equal(rec.catalogue.n_ratings, counts)
    assert np.array_equal(rec.baseline, pipeline_prior(rec.catalogue, rec.config))
    assert not np.array_equal(rec.baseline, tiny_recommender.baseline)
    assert all(tags == () for tags in rec.catalogue.tags)           # the held-out user's tags are gone
    assert np.array_equal(rec.catalogue.movie_ids, tiny_recommender.catalogue.movie_ids)
    assert not np.allclose(rec.index.embeddings, tiny_recommender.index.embeddings)
    assert rec.catalogue.fingerprint != tiny_recommender.catalogue.fingerprint
