"""Stage 3b: the trained adapter on the frozen encoder, and what it trains on."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recsys.adapter import AdapterConfig, load_adapter, save_adapter, train_adapter
from recsys.profiles import VARIANTS, describe
from recsys.splits import split_users
from tests.conftest import CLUSTERS

FAST = AdapterConfig(dim=8, epochs=25, descriptions_per_user=6, learning_rate=2e-2, min_liked=3,
                     validation_fraction=0.2, weight=None, weight_named=None)


@pytest.fixture(scope="module")
def trained(tiny_recommender):
    users = np.unique(tiny_recommender.catalogue.ratings["user_id"].to_numpy())
    return train_adapter(tiny_recommender, users, FAST)


def test_descriptions_use_only_the_given_items_and_vary(tiny_catalogue):
    cat = tiny_catalogue
    given = cat.indices([11, 12, 13])
    others = [t for i, t in enumerate(cat.display_titles) if i not in given]
    texts = {describe(cat, given, np.random.default_rng(seed), variant)
             for seed in range(30) for variant in VARIANTS}
    assert len(texts) > 20
    for text in texts:
        assert not any(title in text for title in others), text
    language = [describe(cat, given, np.random.default_rng(s), "language") for s in range(20)]
    assert not any("Toy Story" in t or "Finding Nemo" in t for t in language)
    assert any(word in " ".join(language).lower() for word in ("animated", "family", "kids"))
    titled = describe(cat, given, np.random.default_rng(1), "titles")
    assert any(cat.display_titles[i] in titled for i in given)
    assert describe(cat, given, np.random.default_rng(5)) == describe(cat, given, np.random.default_rng(5))


def test_user_split_is_seeded_disjoint_and_a_fifth(tiny_catalogue):
    train, heldout = split_users(tiny_catalogue)
    users = np.unique(tiny_catalogue.ratings["user_id"])
    assert len(heldout) == round(0.2 * len(users))
    assert not set(train) & set(heldout) and set(train) | set(heldout) == set(users)
    again_train, again_heldout = split_users(tiny_catalogue)
    assert np.array_equal(heldout, again_heldout)


def test_training_reports_loss_metric_and_weight(trained):
    report = trained.report
    assert report["training_texts"] > 0 and report["trainable_parameters"] > 0
    losses = [h["train_loss"] for h in report["history"]]
    assert losses[-1] < losses[0]
    assert trained.weight in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    assert "lambda=0" in report["val_recall@10"]


def test_the_adapter_learns_which_items_a_description_points_to(trained, tiny_recommender):
    cat = tiny_recommender.catalogue
    query = tiny_recommender.encoder.encode_query("I'm looking for animated family movies for the kids")
    scores = trained.scores(query)
    kids = cat.indices(CLUSTERS["kids"])
    horror = cat.indices([5, 6, 23, 24, 25])
    assert scores[kids].mean() > scores[horror].mean()


def test_pipeline_adds_the_adapter_term_only_when_asked(trained, tiny_recommender):
    rec = tiny_recommender
    try:
        rec.adapter = replace(trained, weight=1.0)
        with_adapter = rec.recommend("something to watch with the kids", k=5)
        without = rec.recommend("something to watch with the kids", k=5, use_adapter=False)
        assert "adapter" in with_adapter.relevance.components
        assert "adapter" not in without.relevance.components
        assert not np.allclose(with_adapter.relevance.r, without.relevance.r)
        rec.adapter = replace(trained, weight=0.0)
        zero = rec.recommend("something to watch with the kids", k=5)
        assert np.allclose(zero.relevance.r, without.relevance.r)
    finally:
        rec.adapter = None


def test_the_adapter_cannot_lift_a_movie_outside_the_asked_era(tiny_recommender):
    from recsys.adapter import Adapter

    rec = tiny_recommender
    cat = rec.catalogue
    godfather, heat = cat.indices([27, 26])  # The Godfather (1972), Heat (1995)
    bias = np.zeros(len(cat), dtype=np.float32)
    bias[[godfather, heat]] = 10.0                # the adapter adores both
    dim = rec.index.embeddings.shape[1]
    rec.adapter = Adapter(query_map=np.zeros((4, dim), dtype=np.float32),
                          item_matrix=np.zeros((len(cat), 4), dtype=np.float32),
                          item_bias=bias, weight=1.0, key="test")
    try:
        nineties = rec.recommend("crime movies from the 90s", k=5).relevance.components["adapter"]
        any_era = rec.recommend("crime movies", k=5).relevance.components["adapter"]
    finally:
        rec.adapter = None
    assert any_era[godfather] > 0 and any_era[heat] > 0
    assert nineties[heat] > 0                                        # in the era: still lifted
    assert nineties[godfather] == 0                                  # 18 years out: not lifted at all


def test_the_adapter_cannot_lift_a_movie_outside_the_asked_genres(tiny_recommender):
    """"90s sci-fi" must not fill up with popular 90s dramas the adapter likes."""
    from recsys.adapter import Adapter

    rec = tiny_recommender
    cat = rec.catalogue
    matrix, heat = cat.indices([1, 26])       # The Matrix (Sci-Fi), Heat (Crime)
    bias = np.zeros(len(cat), dtype=np.float32)
    bias[[matrix, heat]] = 10.0
    dim = rec.index.embeddings.shape[1]
    rec.adapter = Adapter(query_map=np.zeros((4, dim), dtype=np.float32),
                          item_matrix=np.zeros((len(cat), 4), dtype=np.float32),
                          item_bias=bias, weight=1.0, key="test")
    try:
        asked = rec.recommend("sci-fi please", k=5).relevance.components["adapter"]
        open_request = rec.recommend("something I will enjoy tonight", k=5)
    finally:
        rec.adapter = None
    assert asked[matrix] > 0 and asked[heat] == 0          # asked genre: lifted; other: not
    if open_request.intent.liked_genres == ():              # no genre asked: both lifted
        assert open_request.relevance.components["adapter"][heat] > 0


def test_saved_adapter_loads_back_identically(trained, tmp_path):
    path = tmp_path / "adapter.npz"
    save_adapter(trained, path)
    loaded = load_adapter(path)
    assert loaded is not None and loaded.weight == trained.weight
    assert np.array_equal(loaded.item_matrix, trained.item_matrix)
    assert loaded.report["training_texts"] == trained.report["training_texts"]
    path.write_bytes(b"broken")
    assert load_adapter(path) is None
    assert load_adapter(tmp_path / "missing.npz") is None


def test_head_variants_train_save_and_load(tiny_recommender, tmp_path):
    users = np.unique(tiny_recommender.catalogue.ratings["user_id"].to_numpy())
    quick = replace(FAST, epochs=3)
    two_layer = train_adapter(tiny_recommender, users, replace(quick, hidden=16))
    assert two_layer.hidden_map is not None and two_layer.hidden_map.shape[0] == 16
    save_adapter(two_layer, tmp_path / "two.npz")
    loaded = load_adapter(tmp_path / "two.npz")
    query = tiny_recommender.encoder.encode_query("a funny movie")
    np.testing.assert_allclose(loaded.scores(query), two_layer.scores(query), rtol=1e-5)
    popularity = train_adapter(tiny_recommender, users, replace(quick, items="bias"))
    other = tiny_recommender.encoder.encode_query("a scary movie")
    np.testing.assert_allclose(popularity.scores(query), popularity.scores(other))
    with pytest.raises(ValueError, match="items must be one of"):
        train_adapter(tiny_recommender, users, replace(quick, items="posters"))


def test_real_requests_teach_the_adapter_what_people_ask_for(tiny_recommender):
    """A phrase no synthetic description uses ("a cosy sunday with the little ones") is learned
    from real requests: afterwards it points at the kids' films they asked for."""
    rec = tiny_recommender
    users = np.unique(rec.catalogue.ratings["user_id"].to_numpy())
    kids = rec.catalogue.indices(CLUSTERS["kids"])
    requests = [("a cosy sunday with the little ones", kids)] * 6 + \
               [("date night with my partner", rec.catalogue.indices(CLUSTERS["romcom"]))] * 6
    fixed = replace(FAST, weight=0.75, weight_named=0.25)
    adapter = train_adapter(rec, users, fixed, requests=requests)
    assert adapter.report["real_requests"] == 12
    assert adapter.weight == 0.75 and adapter.weight_named == 0.25       # no λ search
    query = rec.encoder.encode_query("a cosy sunday with the little ones")
    top = np.argsort(-adapter.scores(query))[:5]
    assert len(set(top.tolist()) & set(kids)) >= 4


def test_training_requests_skip_unknown_movies_and_refuse_evaluation_files(tiny_catalogue, tmp_path,
                                                                           caplog):
    from recsys.adapter import training_requests

    path = tmp_path / "train.jsonl"
    path.write_text('{"request": "kids films", "target_movie_ids": [11, 12]}\n'
                    '{"request": "nothing known", "target_movie_ids": [999999]}\n'
                    'not json\n', encoding="utf-8")
    got = training_requests(tiny_catalogue, path)
    assert got == [("kids films", tiny_catalogue.indices([11, 12]))]
    assert "2 lines skipped" in caplog.text
    dev = tmp_path / "redial_dev.jsonl"
    dev.write_text(path.read_text())
    assert training_requests(tiny_catalogue, dev) == []
