"""Real-time personalisation on the Recommend page: 👍 / 👎 / "seen it" on a card, the
history of what entered and left the list, reset, auto weights, and independent sessions
over one shared, read-only recommender."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from tests.app.conftest import card_ids, chart_spec, markdown_text
from tests.app.test_pages import REQUEST, requires_data

pytestmark = requires_data


def _ask(at, text: str = REQUEST):  # type: ignore[no-untyped-def]
    at.text_area(key="request_text").input(text).run()
    assert not at.exception
    return at


def _react(at, kind: str, movie_id: int):  # type: ignore[no-untyped-def]
    at.button(key=f"{kind}-{movie_id}").click().run()
    assert not at.exception and not at.error
    return at


def _history(at) -> str:  # type: ignore[no-untyped-def]
    text = markdown_text(at)
    match = re.search(r'<ol class="fr-history">.*?</ol>', text, re.DOTALL)
    return match.group(0) if match else ""


def _label(movie_id: int) -> str:
    from ui import state as _ui

    cat = _ui.engine_loader().recommender.catalogue
    return cat.label(cat.index_of[movie_id])


def test_a_like_removes_the_card_and_the_history_shows_what_entered_and_left(new_app) -> None:
    at = _ask(new_app())
    before = card_ids(at)
    assert "No reactions yet" in markdown_text(at)
    cold = chart_spec(at, "interest_genres")
    assert [t.get("name") for t in cold["data"]][:1] == ["now"]
    at = _react(at, "like", before[0])
    after = card_ids(at)
    assert len(after) == 10 and before[0] not in after
    history = _history(at)
    assert _label(before[0]) in history
    entered = [m for m in after if m not in before]
    left = [m for m in before if m not in after]
    assert entered and left
    assert all(_label(m) in history for m in entered[:3])
    assert "+ in" in history and "− out" in history
    text = markdown_text(at)
    assert "<b>1</b> liked" in text
    assert "Last reaction: engine" in text and 'id="react-timing"' in text
    # The interest chart now shows where each genre was before the reaction.
    warm = chart_spec(at, "interest_genres")
    assert "before your last reaction" in [t.get("name") for t in warm["data"]]
    # Stage 2 reran too: the liked movie now acts as a named title in r.
    assert any("Your reaction is part of r" in c.value for c in at.caption)


def test_a_dislike_and_seen_it_also_take_a_movie_off_the_list(new_app) -> None:
    at = _ask(new_app())
    first = card_ids(at)
    at = _react(at, "dislike", first[1])
    second = card_ids(at)
    assert first[1] not in second and len(second) == 10
    at = _react(at, "seen", second[0])
    third = card_ids(at)
    assert second[0] not in third and first[1] not in third and len(third) == 10
    history = _history(at)
    assert history.index(_label(second[0])) < history.index(_label(first[1]))      # newest first
    assert 'class="fr-step-seen"' in history and 'class="fr-step-dislike"' in history
    text = markdown_text(at)
    assert "<b>1</b> not for me" in text and "<b>1</b> seen" in text


def test_reset_restores_the_cold_list(new_app) -> None:
    at = _ask(new_app())
    cold = card_ids(at)
    assert at.button(key="reset_reactions").disabled
    at = _react(at, "like", cold[0])
    at = _react(at, "dislike", card_ids(at)[0])
    assert card_ids(at) != cold
    at.button(key="reset_reactions").click().run()
    assert not at.exception
    assert card_ids(at) == cold
    assert "No reactions yet" in markdown_text(at)


def test_auto_weights_change_the_effective_weights_shown(new_app) -> None:
    from recsys.blend import BlendWeights
    from recsys.feedback import auto_weights

    at = _ask(new_app())
    first = card_ids(at)
    at = _react(at, "like", first[0])
    at = _react(at, "like", card_ids(at)[0])
    assert "final = 0.50·r̂ + 0.30·ŝ + 0.20·b̂" in markdown_text(at)     # off: the sliders rule
    at.toggle(key="auto_weights").set_value(True).run()
    assert not at.exception
    alpha, beta, gamma = auto_weights(BlendWeights(0.5, 0.3, 0.2), 2).as_tuple()
    assert beta > 0.3
    text = markdown_text(at)
    assert f"In use: <b>α {alpha:.2f} · β {beta:.2f} · γ {gamma:.2f}</b>" in text
    assert f"final = {alpha:.2f}·r̂ + {beta:.2f}·ŝ + {gamma:.2f}·b̂" in text
    assert "auto weights" in text
    # The sliders themselves did not move.
    assert [at.slider(key=k).value for k in ("alpha", "beta", "gamma")] == pytest.approx([0.5, 0.3, 0.2])
    at.toggle(key="auto_weights").set_value(False).run()
    assert "final = 0.50·r̂ + 0.30·ŝ + 0.20·b̂" in markdown_text(at)


def _fingerprint(rec) -> str:  # type: ignore[no-untyped-def]
    digest = hashlib.sha1()
    for array in (rec.index.embeddings, rec.baseline, rec.cf.item_factors):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def test_two_sessions_do_not_see_each_others_reactions(new_app) -> None:
    from ui import state as _ui

    first, second = _ask(new_app()), _ask(new_app())
    cold = card_ids(first)
    assert card_ids(second) == cold
    rec = _ui.engine_loader().recommender
    shared = _fingerprint(rec)
    first = _react(first, "like", cold[0])
    first = _react(first, "seen", card_ids(first)[0])
    assert card_ids(first) != cold
    second.run()
    assert card_ids(second) == cold
    assert "No reactions yet" in markdown_text(second) and "<b>0</b> liked" in markdown_text(second)
    # Reacting never wrote into the shared model arrays.
    assert _fingerprint(rec) == shared
    mine = card_ids(first)
    second = _react(second, "dislike", cold[3])
    assert cold[3] not in card_ids(second)
    first.run()
    assert card_ids(first) == mine and "<b>0</b> not for me" in markdown_text(first)
