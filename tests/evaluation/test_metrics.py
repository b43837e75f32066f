"""Metrics (``recsys.evaluation.metrics``): hand-computed values, vectorised = one-list."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys.evaluation.metrics import (
    accuracy_metrics,
    beyond_metrics,
    coverage,
    disliked_shown,
    hit_at,
    ild,
    ndcg_at,
    novelty,
    popularity,
    recall_at,
    reciprocal_rank,
    self_information,
    violations,
)


RANKED = [5, 3, 9, 1, 7, 8]
TARGETS = {3, 7, 42}


def test_metric_functions_match_hand_computed_values():
    assert recall_at(RANKED, TARGETS, 2) == pytest.approx(1 / 3)
    assert recall_at(RANKED, TARGETS, 5) == pytest.approx(2 / 3)
    assert hit_at(RANKED, TARGETS, 1) == 0.0 and hit_at(RANKED, TARGETS, 2) == 1.0
    # hits at ranks 2 and 5; ideal: three targets in the first three places
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(RANKED, TARGETS, 5) == pytest.approx(dcg / ideal)
    assert ndcg_at(RANKED, TARGETS, 5) == pytest.approx(0.47763, abs=1e-5)
    assert ndcg_at([3, 7], {3, 7}, 10) == pytest.approx(1.0)
    assert reciprocal_rank(RANKED, TARGETS) == 0.5
    assert reciprocal_rank(RANKED, {42}) == 0.0
    assert recall_at(RANKED, set(), 10) == 0.0


def test_vectorised_metrics_equal_the_one_list_functions():
    rng = np.random.default_rng(3)
    names = ["recall@10", "recall@50", "ndcg@10", "hr@10", "mrr", "ndcg@1", "hr@5"]
    lists, target_sets = [], []
    for _ in range(200):
        lists.append(rng.permutation(300)[:50])
        target_sets.append(set(rng.choice(300, size=int(rng.integers(1, 12)), replace=False).tolist()))
    hits = np.array([[item in t for item in row] for row, t in zip(lists, target_sets)])
    got = accuracy_metrics(hits, np.array([len(t) for t in target_sets]), names)
    for n, (row, t) in enumerate(zip(lists, target_sets)):
        row = row.tolist()
        assert got["recall@10"][n] == pytest.approx(recall_at(row, t, 10))
        assert got["recall@50"][n] == pytest.approx(recall_at(row, t, 50))
        assert got["ndcg@10"][n] == pytest.approx(ndcg_at(row, t, 10))
        assert got["ndcg@1"][n] == pytest.approx(ndcg_at(row, t, 1))
        assert got["hr@10"][n] == hit_at(row, t, 10) and got["hr@5"][n] == hit_at(row, t, 5)
        assert got["mrr"][n] == pytest.approx(reciprocal_rank(row, t))


def test_novelty_rewards_less_popular_items() -> None:
    popular = novelty([300, 250], n_users=610)
    niche = novelty([2, 1], n_users=610)
    assert niche > popular > 0
    assert novelty([609], n_users=609) == pytest.approx(0.0)


def test_coverage_counts_distinct_items() -> None:
    assert coverage([[1, 2], [2, 3], [3]], n_items=10) == 0.3
    assert coverage([], n_items=0) == 0.0
    # the stage table's padded array form gives the same number (-1 pads are not items)
    assert coverage(np.array([[1, 2], [2, 3], [3, -1]]), n_items=10) == 0.3


def test_violations_is_the_share_of_a_list_breaking_a_disliked_genre_or_the_era() -> None:
    genres = [("Horror",), ("Drama",), ("Comedy",), ("Drama", "Horror")]
    years = [1995, 1985, 0, 1997]                     # 0: unknown year, never a violation
    # "no horror, 90s": item 0 (Horror), item 1 (1985) and item 3 (Horror) break it
    assert violations(genres, ["Horror"], years, (1990.0, 1999.0)) == pytest.approx(3 / 4)
    assert violations(genres, [], years, (1990.0, 1999.0)) == pytest.approx(1 / 4)
    assert violations(genres, ["Horror"]) == pytest.approx(2 / 4)
    assert violations(genres, []) is None              # no constraint stated: undefined
    assert violations([], ["Horror"]) == 0.0
    # the count of disliked-genre items is a different measure with its own name
    assert disliked_shown(genres, ["Horror"]) == 2 and disliked_shown(genres, []) == 0


def test_one_list_beyond_metrics_equal_the_vectorised_ones() -> None:
    rng = np.random.default_rng(5)
    n_items, n_genres, k = 60, 5, 10
    n_ratings = rng.integers(0, 300, size=n_items).astype(np.float64)
    emb = rng.normal(size=(n_items, 8))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    genre_matrix = rng.random((n_items, n_genres)) < 0.3
    years = rng.choice([0, 1975, 1985, 1995, 2005], size=n_items)
    names = [f"g{j}" for j in range(n_genres)]
    genres = [tuple(names[j] for j in np.flatnonzero(row)) for row in genre_matrix]
    top = np.array([rng.permutation(n_items)[:k] for _ in range(30)])
    top[3, 7:] = -1                                    # a short list
    disliked = rng.random((30, n_genres)) < 0.2
    era = np.array([(1980.0, 1999.0) if n % 3 == 0 else (-np.inf, np.inf) for n in range(30)])
    constrained = disliked.any(axis=1) | (np.arange(30) % 3 == 0)
    got = beyond_metrics(top, k, n_ratings=n_ratings, self_info=self_information(n_ratings, 610),
                         embeddings=emb, genre_matrix=genre_matrix, years=years, disliked=disliked,
                         era=era, constrained=constrained)
    for n, row in enumerate(top):
        items = row[row >= 0]
        assert got[f"popularity@{k}"][n] == pytest.approx(popularity(n_ratings[items]))
        assert got[f"novelty@{k}"][n] == pytest.approx(novelty(n_ratings[items], 610))
        assert got[f"ild@{k}"][n] == pytest.approx(ild(emb[items]))
        one = violations([genres[i] for i in items], [names[j] for j in np.flatnonzero(disliked[n])],
                         [int(years[i]) for i in items], tuple(era[n]) if n % 3 == 0 else None)
        if one is None:
            assert np.isnan(got[f"violations@{k}"][n])
        else:
            assert got[f"violations@{k}"][n] == pytest.approx(one)
