"""The whole pipeline: what a user of the recommender would notice."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from recsys.blend import BlendWeights
from recsys.intent import InvalidRequestError
from tests.conftest import requires_data

# ----------------------------------------------------------------------------- tiny data

def test_every_stage_is_returned_and_the_list_is_explained(tiny_recommender):
    result = tiny_recommender.recommend("space sci-fi like Interstellar, no horror", k=5)
    assert result.intent.titles[0].movie_id == 4
    assert len(result.items) == 5
    assert len(result.llm_candidates) > 0 and len(result.pool) >= len(result.llm_candidates)
    assert any(seed.reason.startswith("you mentioned") for seed in result.seeds)
    for item in result.items:
        assert item.movie_id != 4                          # never the title the user named
        assert "Horror" not in item.genres                 # never a disliked genre
        alpha, beta, gamma = result.weights.as_tuple()
        assert item.score == pytest.approx(alpha * item.r + beta * item.s + gamma * item.b, abs=1e-5)
        assert item.explanation
    for key in ("intent", "encode", "relevance", "cf", "blend", "total"):
        assert result.timings[key] >= 0


def test_reblend_reuses_stage_scores(tiny_recommender, monkeypatch):
    result = tiny_recommender.recommend("funny romantic comedy", k=5)

    def fail(*args, **kwargs):
        raise AssertionError("re-blending must not encode or fold in again")

    monkeypatch.setattr(tiny_recommender.encoder, "encode_query", fail)
    monkeypatch.setattr(tiny_recommender.cf, "fold_in", fail)
    llm_only = result.reblend((1, 0, 0))
    assert [i.index for i in llm_only.items] == llm_only.ranking("llm", 5).tolist()
    cf_only = result.reblend(BlendWeights(0, 1, 0), k=3)
    assert len(cf_only.items) == 3
    assert [i.index for i in cf_only.items] == cf_only.ranking("cf", 3).tolist()


def test_reactions_change_the_list_and_are_never_shown(tiny_recommender):
    cold = tiny_recommender.recommend("something fun", k=5)
    first = cold.items[0].movie_id
    warm = tiny_recommender.recommend("something fun", k=5, liked=[11], disliked=[first], seen=[13])
    shown = [i.movie_id for i in warm.items]
    assert first not in shown and 11 not in shown and 13 not in shown
    assert any(s.reason.startswith("you liked") for s in warm.seeds)


def test_bad_requests_give_clear_errors(tiny_recommender):
    with pytest.raises(InvalidRequestError, match="describe"):
        tiny_recommender.recommend("   ")
    with pytest.raises(ValueError, match="k must"):
        tiny_recommender.recommend("comedy", k=0)
    with pytest.raises(ValueError, match="weights"):
        tiny_recommender.recommend("comedy", weights=(0, 0, 0))
    huge = tiny_recommender.recommend("comedy " * 5000, k=3)
    assert huge.intent.warnings and len(huge.items) == 3


def test_json_matches_the_cli_contract(tiny_recommender):
    data = tiny_recommender.recommend("90s sci-fi like the matrix", k=3).to_dict()
    assert set(data) >= {"intent", "items", "timing_ms"}
    assert data["intent"]["era"] == {"start": 1990, "end": 1999}
    assert data["intent"]["titles"][0]["movie_id"] == 1
    for item in data["items"]:
        assert set(item) >= {"movie_id", "title", "score", "r", "s", "b", "explanation"}
    assert data["timing_ms"]["total"] > 0


# ----------------------------------------------------------------------------- ml-latest-small

@requires_data
def test_sci_fi_without_horror_has_no_horror_in_the_top_10(recommender):
    result = recommender.recommend("sci-fi, no horror", k=10)
    assert result.intent.disliked_genres == ("Horror",)
    assert all("Horror" not in item.genres for item in result.items)
    assert sum("Sci-Fi" in item.genres for item in result.items) >= 8


@requires_data
def test_like_toy_story_returns_its_relatives_not_itself(recommender):
    result = recommender.recommend("like Toy Story", k=20)
    titles = [item.title for item in result.items]
    assert "Toy Story (1995)" not in titles
    pixar = {"Toy Story 2 (1999)", "Toy Story 3 (2010)", "Monsters, Inc. (2001)", "Finding Nemo (2003)",
             "Bug's Life, A (1998)", "Incredibles, The (2004)", "Up (2009)", "WALL·E (2008)"}
    assert pixar & set(titles), titles


@requires_data
def test_chinese_request_parses_as_asked(recommender):
    result = recommender.recommend("我喜欢九十年代的科幻片，不要恐怖片", k=10)
    intent = result.intent
    assert intent.liked_genres == ("Sci-Fi",) and intent.disliked_genres == ("Horror",)
    assert (intent.era.start, intent.era.end) == (1990, 1999)
    assert all("Horror" not in item.genres for item in result.items)
    assert sum(1990 <= item.year <= 1999 for item in result.items) >= 7


@requires_data
def test_llm_only_weights_reproduce_the_llm_order(recommender):
    result = recommender.recommend("mind-bending sci-fi like Inception, nothing gory, 90s is fine",
                                   weights=(1, 0, 0), k=20)
    assert [i.index for i in result.items] == result.llm_candidates[:20].tolist()
    assert [i.llm_rank for i in result.items] == list(range(1, 21))


@requires_data
def test_sessions_do_not_change_shared_arrays(recommender):
    snapshots = [a.copy() for a in (recommender.index.embeddings, recommender.cf.item_factors,
                                    recommender.baseline)]
    recommender.recommend("like the matrix", k=5, liked=[1], disliked=[2], seen=[3])
    for before, after in zip(snapshots, (recommender.index.embeddings, recommender.cf.item_factors,
                                         recommender.baseline)):
        assert np.array_equal(before, after) and not after.flags.writeable


@requires_data
def test_named_era_is_respected(recommender):
    result = recommender.recommend("a crime thriller from the 70s", k=10)
    assert sum(1970 <= item.year <= 1979 for item in result.items) >= 7


def test_json_says_which_cf_factors_answered(tiny_recommender):
    payload = tiny_recommender.recommend("space sci-fi", k=3).to_dict()
    assert payload["model"]["cf"]["engine"] == "implicit"


def test_cf_seeds_prefer_the_matches_people_watch():
    """Of two near-equal matches, the one people watch seeds CF first; without the pull the
    order of r stands, and every seed weight stays in [0, 1]."""
    from recsys.pipeline import candidate_seeds

    r = np.array([0.90, 0.89, 0.50, 0.10], dtype=np.float32)
    prior = np.array([0.05, 2.00, 1.00, 0.00], dtype=np.float32)   # item 1: a film people watch
    candidates = np.array([0, 1, 2, 3])
    plain = candidate_seeds(r, prior, candidates, 0.0)
    assert [i for i, _ in plain] == [0, 1, 2, 3]
    pulled = candidate_seeds(r, prior, candidates, 0.5)
    assert [i for i, _ in pulled][:2] == [1, 0]
    assert all(0.0 <= w <= 1.0 for _, w in pulled) and pulled[0][1] == 1.0


@requires_data
def test_a_plain_genre_request_seeds_cf_with_films_people_know(recommender):
    """Zero-shot r: 'I like thrillers' folds films more people watch into CF than the top
    matches by r alone would (w_b = 0), and as many of them."""
    from dataclasses import replace

    from recsys.pipeline import SeedRecipe

    text = "hi there I like thrillers. do you have any suggestions?"
    cat = recommender.catalogue

    def seeded(rec):
        result = rec.recommend(text, explain=False, use_adapter=False)
        return [s.item for s in result.seeds if "language-model match" in s.reason]

    by_r = copy.copy(recommender)
    by_r.config = replace(recommender.config, candidate_seeds=SeedRecipe(
        count=recommender.config.candidate_seeds.count, prior_weight=0.0))
    pulled, plain = seeded(recommender), seeded(by_r)
    assert len(pulled) == len(plain) == recommender.config.candidate_seeds.count
    assert cat.n_ratings[pulled].mean() > 1.5 * cat.n_ratings[plain].mean()


def test_a_reconfigured_recommender_shares_the_heavy_parts_and_recomputes_the_prior(tiny_recommender):
    from dataclasses import replace

    from recsys.pipeline import pipeline_prior

    base = tiny_recommender
    other = base.reconfigured(replace(base.config, prior_half_life=None))
    assert other.index is base.index and other.cf is base.cf and other.catalogue is base.catalogue
    assert other.adapter is None and other.config.prior_half_life is None
    assert np.array_equal(other.baseline, pipeline_prior(base.catalogue, other.config))
    assert other.recommend("a sci-fi movie", k=3).items          # it answers


@requires_data
def test_a_chinese_plot_word_is_not_read_as_a_title_inside_it(recommender):
    """超级英雄 ("superhero") holds 英雄, the Chinese title of *Hero* (2002): bare, it is the
    word; in 《》 it is the film."""
    intent = recommender.parse("不要超级英雄电影，想看烧脑的悬疑片")
    assert "superhero" in intent.disliked_keywords
    assert not intent.titles and not intent.disliked_titles
    quoted = recommender.parse("我喜欢《英雄》这样的电影")
    assert [t.title for t in quoted.titles] == ["Hero (Ying xiong) (2002)"]
