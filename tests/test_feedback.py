"""Real-time personalisation: reactions change the list at once, per session."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.blend import BlendWeights
from recsys.feedback import LiveSession, auto_weights


@pytest.fixture()
def session(tiny_recommender) -> LiveSession:
    return LiveSession(tiny_recommender, "something fun to watch", k=6)


def test_a_like_removes_the_movie_and_lifts_its_neighbours(tiny_recommender):
    session = LiveSession(tiny_recommender, "an animated movie", k=6)
    before = session.result
    liked = 11  # Toy Story
    after = session.react(liked, "like")
    assert liked not in [i.movie_id for i in after.items]
    assert any(s.reason == "you liked Toy Story (1995)" for s in after.seeds)
    toy_story_2 = tiny_recommender.catalogue.index_of[12]
    assert after.blend.final[toy_story_2] >= before.blend.final[toy_story_2]
    assert after.intent.liked_genres == before.intent.liked_genres  # updated, not replaced


def test_a_dislike_pushes_its_genres_down(tiny_recommender):
    session = LiveSession(tiny_recommender, "something to watch tonight", k=8)
    cat = tiny_recommender.catalogue
    romcoms = [cat.index_of[m] for m in (18, 19)]
    before = session.result.relevance.r[romcoms].copy()
    after = session.react(17, "dislike")  # Notting Hill: Comedy|Romance
    assert (after.relevance.r[romcoms] < before).all()
    assert 17 not in [i.movie_id for i in after.items]
    assert dict(after.intent.genre_feedback)["Romance"] < 0


def test_seen_items_are_never_shown_again(session):
    shown = [i.movie_id for i in session.result.items[:3]]
    for movie_id in shown:
        session.react(movie_id, "seen")
    session.react(session.result.items[0].movie_id, "like")
    assert not set(shown) & {i.movie_id for i in session.result.items}


def test_history_records_what_entered_and_left(session):
    first = session.result.items[0]
    session.react(first.movie_id, "dislike")
    step = session.history[-1]
    assert step.kind == "dislike" and step.movie_id == first.movie_id
    assert first.label in step.left
    assert len(step.entered) == len(step.left)  # the list stays k long
    session.reset()
    assert session.history == [] and session.reactions == {}


def test_interest_distribution_moves_with_reactions(tiny_recommender):
    session = LiveSession(tiny_recommender, "a movie, no horror", k=6)
    before = dict(session.interest().genres)
    assert sum(before.values()) == pytest.approx(1.0, abs=1e-3)
    assert before.get("Horror", 0.0) == 0.0
    session.react(21, "like")   # The Hangover: Comedy|Crime
    session.react(22, "like")   # Superbad: Comedy
    after = session.interest()
    assert dict(after.genres)["Comedy"] > before.get("Comedy", 0.0)
    assert sum(p for _, p in after.decades) == pytest.approx(1.0, abs=1e-3)


def test_auto_weights_grow_cf_with_evidence():
    base = BlendWeights(0.5, 0.3, 0.2)
    betas = [auto_weights(base, n).beta for n in range(0, 12)]
    assert betas[0] == pytest.approx(0.3)
    assert all(b2 > b1 for b1, b2 in zip(betas, betas[1:]))
    assert betas[-1] < 0.75
    w = auto_weights(base, 5)
    assert sum(w.as_tuple()) == pytest.approx(1.0)
    assert w.alpha / w.gamma == pytest.approx(0.5 / 0.2)


def test_auto_toggle_changes_weights_only_when_on(session):
    session.react(session.result.items[0].movie_id, "like")
    assert session.effective_weights == session.weights
    session.set_weights(session.weights, auto=True)
    assert session.effective_weights.beta > session.weights.beta
    assert session.result.weights == session.effective_weights


def test_sessions_do_not_see_each_others_reactions(tiny_recommender):
    a = LiveSession(tiny_recommender, "a fun movie", k=6)
    b = LiveSession(tiny_recommender, "a fun movie", k=6)
    untouched = [i.movie_id for i in b.result.items]
    factors = tiny_recommender.cf.item_factors.copy()
    for item in list(a.result.items[:3]):
        a.react(item.movie_id, "dislike")
    assert [i.movie_id for i in b.result.items] == untouched
    assert [i.movie_id for i in LiveSession(tiny_recommender, "a fun movie", k=6).result.items] == untouched
    assert np.array_equal(factors, tiny_recommender.cf.item_factors)


def test_bad_reactions_are_refused_clearly(session):
    with pytest.raises(ValueError, match="like, dislike, seen"):
        session.react(11, "love")
    with pytest.raises(ValueError, match="not in the catalogue"):
        session.react(999999, "like")


def test_a_parsed_intent_and_picked_movies_are_used_as_given(tiny_recommender, monkeypatch):
    intent = tiny_recommender.parse("an animated movie")

    def fail(*args, **kwargs):
        raise AssertionError("a session given an intent must not parse again")

    monkeypatch.setattr(tiny_recommender, "parse", fail)
    session = LiveSession(tiny_recommender, "an animated movie", intent=intent, k=5,
                          liked_picks=(11,), disliked_picks=(17,))
    shown = [i.movie_id for i in session.result.items]
    assert 11 not in shown and 17 not in shown
    reasons = [s.reason for s in session.result.seeds]
    assert "you liked Toy Story (1995)" in reasons and "you disliked Notting Hill (1999)" in reasons
    session.react(shown[0], "seen")
    refreshed = session.refresh()
    assert shown[0] not in [i.movie_id for i in refreshed.items]
    assert session.reactions == {shown[0]: "seen"}
