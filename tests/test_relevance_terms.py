"""Every term of the relevance formula (recsys/relevance.py, module docstring), one at a time.

The catalogue is the tiny one of tests/conftest.py (30 movies); the embeddings are chosen by
hand so that every cosine is 0, 1 or 1/√2: item ``i`` is the basis vector ``u_i``, except
*Matrix Reloaded* (index 1), which is ``(u_0 + u_1)/√2`` — half-way to *The Matrix*. Each test
asserts the formula's value for the term it names, on the items where it matters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys.intent import Intent, TitleRef, YearRange
from recsys.knowledge import KnowledgeIndex, load_knowledge
from recsys.relevance import RelevanceConfig, score_relevance
from tests.test_knowledge import write_knowledge

CONFIG = RelevanceConfig()
HALF = 1 / math.sqrt(2)
# Catalogue indices (movieId − 1 in the tiny catalogue).
MATRIX, RELOADED, INCEPTION, INTERSTELLAR, ALIEN, ALIENS = 0, 1, 2, 3, 4, 5
TWELVE_MONKEYS, TOY_STORY, TOY_STORY_2, NEMO, HEAT, GODFATHER, UP = 9, 10, 11, 12, 25, 26, 28


@pytest.fixture(scope="module")
def embeddings(tiny_catalogue) -> np.ndarray:
    n = len(tiny_catalogue)
    e = np.eye(n, dtype=np.float32)
    e[RELOADED] = 0.0
    e[RELOADED, [MATRIX, RELOADED]] = HALF
    return e


@pytest.fixture(scope="module")
def knowledge(tiny_catalogue, tmp_path_factory) -> KnowledgeIndex:
    path = write_knowledge(tmp_path_factory.mktemp("relevance-knowledge"))
    return KnowledgeIndex.build(load_knowledge(tiny_catalogue, path), tiny_catalogue)


def query(*items: int, n: int = 30) -> np.ndarray:
    q = np.zeros(n, dtype=np.float32)
    q[list(items)] = 1.0
    return q / np.linalg.norm(q)


def score(catalogue, embeddings, intent, q=None, **kwargs):
    q = query(TWELVE_MONKEYS) if q is None else q
    return score_relevance(catalogue, embeddings, q, intent, CONFIG, **kwargs)


def ref(movie_id: int, score: float = 1.0, source: str = "text") -> TitleRef:
    return TitleRef(movie_id, f"movie {movie_id}", score, source=source)  # type: ignore[arg-type]


def test_similarity_is_the_cosine_to_the_request(tiny_catalogue, embeddings):
    out = score(tiny_catalogue, embeddings, Intent("x"), q=query(MATRIX, INCEPTION))
    sim = out.components["similarity"]
    assert sim[MATRIX] == pytest.approx(HALF) and sim[INCEPTION] == pytest.approx(HALF)
    assert sim[RELOADED] == pytest.approx(0.5)       # cos((u0+u1)/√2, (u0+u2)/√2)
    assert sim[TOY_STORY] == pytest.approx(0.0)
    assert set(out.components) == {"similarity"}     # no other term without an intent
    np.testing.assert_allclose(out.r, sim, rtol=1e-6)


def test_titles_mix_similarity_with_the_nearest_named_title(tiny_catalogue, embeddings):
    w_t = CONFIG.title_weight
    intent = Intent("like the matrix", titles=(ref(1, score=0.9),))
    out = score(tiny_catalogue, embeddings, intent, q=query(MATRIX))
    # sim_i is scaled by (1 − w_t); nb_i = c_t · cos(e_t, e_i)
    assert out.components["similarity"][MATRIX] == pytest.approx((1 - w_t) * 1.0)
    assert out.components["titles"][MATRIX] == pytest.approx(w_t * 0.9)
    assert out.components["titles"][RELOADED] == pytest.approx(w_t * 0.9 * HALF)
    assert out.components["titles"][TOY_STORY] == pytest.approx(0.0)
    assert out.nearest_title[RELOADED] == 0


def test_a_model_suggested_title_counts_lambda_prime_as_much(tiny_catalogue, embeddings):
    w_t = CONFIG.title_weight
    intent = Intent("x", titles=(ref(1, 1.0),), similar_titles=(ref(26, 1.0, source="llm"),))
    out = score(tiny_catalogue, embeddings, intent)
    assert out.components["titles"][MATRIX] == pytest.approx(w_t * 1.0)
    assert out.components["titles"][HEAT] == pytest.approx(w_t * RelevanceConfig().suggestion_weight * 1.0)
    assert out.nearest_title[HEAT] == 1     # the suggestion is nearest to Heat


def test_genres_reward_the_share_of_liked_genres_matched(tiny_catalogue, embeddings):
    out = score(tiny_catalogue, embeddings, Intent("x", liked_genres=("Sci-Fi", "Thriller")))
    g = out.components["genres"]
    assert g[MATRIX] == pytest.approx(CONFIG.genre_weight)           # Action|Sci-Fi|Thriller
    assert g[ALIEN] == pytest.approx(CONFIG.genre_weight / 2)        # Horror|Sci-Fi
    assert g[TOY_STORY] == pytest.approx(0.0)


def test_keywords_reward_the_share_of_keywords_carried_as_tags(tiny_catalogue, embeddings):
    out = score(tiny_catalogue, embeddings, Intent("x", keywords=("pixar", "toys")))
    k = out.components["keywords"]
    assert k[TOY_STORY] == pytest.approx(CONFIG.keyword_weight)       # pixar and toys
    assert k[NEMO] == pytest.approx(CONFIG.keyword_weight / 2)        # pixar only
    assert k[MATRIX] == pytest.approx(0.0)
    assert sorted(out.keyword_hits["toys"].tolist()) == [TOY_STORY, TOY_STORY_2]


def test_people_reward_films_the_named_people_directed(tiny_catalogue, embeddings, knowledge):
    out = score(tiny_catalogue, embeddings, Intent("x", people=("Christopher Nolan",)), knowledge=knowledge)
    p = out.components["people"]
    # ρ = 1 for a director; (1/|P|) Σ ρ with one person
    assert p[INCEPTION] == pytest.approx(CONFIG.people_weight) and p[INTERSTELLAR] == pytest.approx(CONFIG.people_weight)
    assert p[MATRIX] == pytest.approx(0.0)
    two = score(tiny_catalogue, embeddings, Intent("x", people=("Christopher Nolan", "Keanu Reeves")),
                knowledge=knowledge).components["people"]
    assert two[INCEPTION] == pytest.approx(CONFIG.people_weight / 2)   # one of the two people


def test_disliked_people_push_their_films_down(tiny_catalogue, embeddings, knowledge):
    out = score(tiny_catalogue, embeddings, Intent("x", disliked_people=("Al Pacino",)), knowledge=knowledge)
    q = out.components["disliked_people"]
    # lead billing (first three of the cast): ρ = 1
    assert q[HEAT] == pytest.approx(-CONFIG.disliked_people_penalty)
    assert q[GODFATHER] == pytest.approx(-CONFIG.disliked_people_penalty)
    assert q[MATRIX] == pytest.approx(0.0)


def test_lexical_rewards_plot_words_max_scaled(tiny_catalogue, embeddings, knowledge):
    out = score(tiny_catalogue, embeddings, Intent("x", query_text="something with a wormhole"),
                knowledge=knowledge)
    lex = out.components["lexical"]
    assert out.plot_words == ("wormhole",)
    assert lex[INTERSTELLAR] == pytest.approx(CONFIG.lexical_weight)   # the best BM25 scales to 1
    assert lex[MATRIX] == pytest.approx(0.0)


def test_a_disliked_genre_costs_its_full_penalty_and_excludes(tiny_catalogue, embeddings):
    out = score(tiny_catalogue, embeddings, Intent("x", disliked_genres=("Horror",)))
    d = out.components["disliked_genres"]
    assert d[ALIEN] == pytest.approx(-CONFIG.disliked_genre_penalty)
    assert d[MATRIX] == pytest.approx(0.0)
    assert out.excluded[ALIEN] and not out.excluded[MATRIX]
    assert ALIEN not in out.candidates.tolist()


def test_disliked_keywords_cost_the_share_carried(tiny_catalogue, embeddings):
    out = score(tiny_catalogue, embeddings, Intent("x", disliked_keywords=("space", "pixar")))
    x = out.components["disliked_keywords"]
    assert x[ALIEN] == pytest.approx(-CONFIG.disliked_keyword_penalty / 2)   # space
    assert x[UP] == pytest.approx(-CONFIG.disliked_keyword_penalty / 2)      # pixar
    assert x[MATRIX] == pytest.approx(0.0)


def test_era_costs_one_tenth_per_year_outside_up_to_ten(tiny_catalogue, embeddings):
    out = score(tiny_catalogue, embeddings, Intent("x", era=YearRange(1990, 1999, "90s")))
    e = out.components["era"]
    assert e[MATRIX] == pytest.approx(0.0)                               # 1999
    assert e[RELOADED] == pytest.approx(-CONFIG.era_penalty * 0.4)       # 2003: 4 years out
    assert e[ALIEN] == pytest.approx(-CONFIG.era_penalty)                # 1979: 11 years, capped


def test_a_disliked_title_pushes_its_neighbours_down(tiny_catalogue, embeddings):
    out = score(tiny_catalogue, embeddings, Intent("x", disliked_titles=(ref(1),)))
    n = out.components["disliked_titles"]
    assert n[RELOADED] == pytest.approx(-CONFIG.disliked_title_penalty * HALF)
    assert n[TOY_STORY] == pytest.approx(0.0)
    assert out.excluded[MATRIX]                  # the disliked title itself is never listed


def test_feedback_is_the_mean_reaction_over_an_items_genres(tiny_catalogue, embeddings):
    intent = Intent("x", genre_feedback=(("Sci-Fi", 0.5), ("Horror", -1.0)))
    f = score(tiny_catalogue, embeddings, intent).components["feedback"]
    assert f[ALIEN] == pytest.approx(CONFIG.feedback_weight * (0.5 - 1.0) / 2)    # Horror|Sci-Fi
    assert f[INTERSTELLAR] == pytest.approx(CONFIG.feedback_weight * 0.5 / 2)     # Sci-Fi|IMAX
    assert f[TOY_STORY] == pytest.approx(0.0)


def test_r_is_the_sum_of_the_terms(tiny_catalogue, embeddings, knowledge):
    intent = Intent("x", liked_genres=("Sci-Fi",), disliked_genres=("Horror",), keywords=("space",),
                    era=YearRange(1990, 1999, "90s"), titles=(ref(1),), people=("Christopher Nolan",),
                    genre_feedback=(("Comedy", 0.5),))
    out = score(tiny_catalogue, embeddings, intent, knowledge=knowledge)
    assert {"similarity", "titles", "genres", "keywords", "people", "disliked_genres", "era",
            "feedback"} <= set(out.components)
    np.testing.assert_allclose(out.r, np.sum(list(out.components.values()), axis=0), rtol=1e-5, atol=1e-6)


class FixedAdapter:
    """An adapter whose term is given: ``t`` whatever the request (recsys.adapter.Adapter.term)."""

    def __init__(self, term: np.ndarray) -> None:
        self.t = term.astype(np.float32)
        self.calls: list[bool] = []

    def term(self, query, r0, *, names_movie: bool) -> np.ndarray:
        self.calls.append(names_movie)
        return self.t.copy()


def test_the_adapter_lift_fades_with_the_era_miss(tiny_catalogue, embeddings):
    t = np.zeros(30)
    t[[MATRIX, RELOADED, ALIEN]] = 0.2
    t[INCEPTION] = -0.2
    adapter = FixedAdapter(t)
    out = score(tiny_catalogue, embeddings, Intent("x", era=YearRange(1990, 1999, "90s")), adapter=adapter)
    a = out.components["adapter"]
    assert a[MATRIX] == pytest.approx(0.2)                 # inside the era: m = 0
    assert a[RELOADED] == pytest.approx(0.2 * (1 - 0.4))   # m = 0.4
    assert a[ALIEN] == pytest.approx(0.0)                  # m = 1: the era rules it out
    assert a[INCEPTION] == pytest.approx(-0.2)             # a push down never fades
    r0 = np.sum([v for k, v in out.components.items() if k != "adapter"], axis=0)
    np.testing.assert_allclose(out.r, r0 + a, rtol=1e-5, atol=1e-6)
    assert adapter.calls == [False]                         # no named movie in this request


def test_the_adapter_cannot_lift_a_movie_outside_the_asked_genres(tiny_catalogue, embeddings):
    t = np.full(30, 0.2)
    t[TOY_STORY] = -0.1
    asked = score(tiny_catalogue, embeddings, Intent("x", liked_genres=("Horror",)),
                  adapter=FixedAdapter(t)).components["adapter"]
    assert asked[ALIEN] == pytest.approx(0.2) and asked[MATRIX] == pytest.approx(0.0)
    assert asked[TOY_STORY] == pytest.approx(-0.1)
    # Genres the zero-shot step guessed are not asked: h_i = 0, the lift stays.
    guessed = score(tiny_catalogue, embeddings,
                    Intent("x", liked_genres=("Horror",), inferred_genres=("Horror",)),
                    adapter=FixedAdapter(t)).components["adapter"]
    assert guessed[MATRIX] == pytest.approx(0.2)
    named = FixedAdapter(t)
    score(tiny_catalogue, embeddings, Intent("x", titles=(ref(1),)), adapter=named)
    assert named.calls == [True]


def test_the_candidate_set_is_the_top_n_not_excluded(tiny_catalogue, embeddings):
    small = RelevanceConfig(candidates=3)
    intent = Intent("x", titles=(ref(1),), disliked_genres=("Horror",))
    out = score_relevance(tiny_catalogue, embeddings, query(MATRIX, RELOADED, ALIEN), intent, small)
    assert len(out.candidates) == 3
    assert MATRIX not in out.candidates.tolist() and ALIEN not in out.candidates.tolist()
    assert out.candidates[0] == RELOADED
