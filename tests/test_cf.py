"""Stage 4: ALS training, fold-in of a new user's pseudo-history, explanations."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.cf import ALSConfig, Seed, fit_als
from tests.conftest import CLUSTERS, requires_data


@pytest.fixture(scope="module")
def tiny_cf(tiny_catalogue, tmp_path_factory):
    return fit_als(tiny_catalogue, ALSConfig(factors=3, regularization=1.0, iterations=20),
                   cache_dir=tmp_path_factory.mktemp("cf"))


def _top(cf, catalogue, seeds, k):
    scores = cf.scores(cf.fold_in(seeds))
    seeded = [s.item for s in seeds]
    scores[seeded] = -np.inf
    return {int(catalogue.movie_ids[i]) for i in np.argsort(-scores)[:k]}


@pytest.mark.parametrize("cluster", sorted(CLUSTERS))
def test_fold_in_of_two_titles_recommends_their_cluster(tiny_cf, tiny_catalogue, cluster):
    items = CLUSTERS[cluster]
    seeds = [Seed(i, 6.0, "named") for i in tiny_catalogue.indices(items[:2])]
    top = _top(tiny_cf, tiny_catalogue, seeds, 4)
    assert top <= set(items), f"{cluster}: {top}"


def test_empty_history_scores_nothing(tiny_cf):
    assert not tiny_cf.scores(tiny_cf.fold_in([])).any()


def test_contributions_decompose_the_score(tiny_cf, tiny_catalogue):
    seeds = [Seed(i, c, "x") for i, c in zip(tiny_catalogue.indices([11, 12, 17]), (6.0, 3.0, -4.0))]
    scores = tiny_cf.scores(tiny_cf.fold_in(seeds))
    items = list(range(len(tiny_catalogue)))
    contributions = tiny_cf.contributions(seeds, items)
    assert contributions.shape == (len(items), 3)
    np.testing.assert_allclose(contributions.sum(axis=1), scores, rtol=1e-3, atol=1e-4)


def test_a_disliked_seed_pushes_its_neighbours_down(tiny_cf, tiny_catalogue):
    liked = [Seed(i, 6.0, "liked") for i in tiny_catalogue.indices([11])]
    disliked = liked + [Seed(tiny_catalogue.index_of[17], -6.0, "disliked")]
    romcom = tiny_catalogue.indices([18, 19])
    before = tiny_cf.scores(tiny_cf.fold_in(liked))[romcom]
    after = tiny_cf.scores(tiny_cf.fold_in(disliked))[romcom]
    assert (after < before).all()


def test_fold_in_never_changes_the_shared_factors(tiny_cf, tiny_catalogue):
    before = tiny_cf.item_factors.copy()
    tiny_cf.fold_in([Seed(0, 6.0, "x")])
    assert np.array_equal(before, tiny_cf.item_factors)
    with pytest.raises(ValueError):
        tiny_cf.item_factors[0, 0] = 1.0


def test_cached_factors_are_reused(tiny_catalogue, tmp_path):
    config = ALSConfig(factors=4, iterations=3)
    first = fit_als(tiny_catalogue, config, cache_dir=tmp_path)
    second = fit_als(tiny_catalogue, config, cache_dir=tmp_path)
    assert np.array_equal(first.item_factors, second.item_factors)
    (next(tmp_path.glob("als-*.npz"))).write_bytes(b"broken")
    third = fit_als(tiny_catalogue, config, cache_dir=tmp_path)
    assert third.item_factors.shape == first.item_factors.shape


@requires_data
def test_folding_in_a_training_users_items_reproduces_their_als_ranking(recommender):
    cf = recommender.cf
    catalogue = recommender.catalogue
    from recsys.cf import confidence_matrix

    matrix, user_ids = confidence_matrix(catalogue, cf.config)
    overlaps = []
    for row in range(0, len(user_ids), 61):
        user = int(user_ids[row])
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        seeds = [Seed(int(i), float(c), "history")
                 for i, c in zip(matrix.indices[start:end], matrix.data[start:end])]
        rated = matrix.indices[start:end]
        folded = cf.scores(cf.fold_in(seeds))
        trained = cf.scores(cf.user_vector(user))
        folded[rated] = trained[rated] = -np.inf
        top_folded = set(np.argsort(-folded)[:20].tolist())
        top_trained = set(np.argsort(-trained)[:20].tolist())
        overlaps.append(len(top_folded & top_trained) / 20)
    assert np.mean(overlaps) >= 0.8, overlaps
