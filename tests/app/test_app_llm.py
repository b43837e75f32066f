"""The app with a generative LLM: a real chat-completions server on 127.0.0.1 (started by
the test) behind ``RECSYS_LLM_BASE_URL`` / ``RECSYS_LLM_MODEL`` / ``RECSYS_LLM_API_KEY``.

A good answer is shown as the LLM's parse with its suggested titles; a broken or slow
server is a fallback the page explains while the list still appears; the API key never
reaches the page; the optional rerank re-orders the top of the list.
"""

from __future__ import annotations

import pytest

from tests.app.conftest import all_text, card_ids, markdown_text
from tests.app.test_pages import REQUEST, requires_data
from tests.chat_server import API_KEY, MODEL, chat_server

pytestmark = requires_data


def _ask(at, text: str = REQUEST):  # type: ignore[no-untyped-def]
    at.text_area(key="request_text").input(text).run()
    assert not at.exception
    return at


def _sidebar_text(at) -> str:  # type: ignore[no-untyped-def]
    import html

    return html.unescape("\n".join(m.value for m in at.sidebar.markdown))


def test_a_good_answer_is_shown_as_the_llm_parse_with_its_suggestions(new_app, monkeypatch) -> None:
    with chat_server(monkeypatch) as server:
        at = _ask(new_app())
        text = markdown_text(at)
        assert f"parsed by the LLM · {MODEL}" in text
        # Titles the model suggested, resolved to the catalogue, as chips of their own.
        assert "LLM suggests" in text and "suggested by the LLM" in text
        assert "Memento (2000)" in text and "Dark City (1998)" in text
        assert "A Film That Does Not Exist" not in text           # unresolvable suggestions are dropped
        assert len(card_ids(at)) == 10
        assert not at.info                                         # no fallback to explain
        # Sidebar: backend, health and the LLM call in the per-stage latency.
        side = _sidebar_text(at)
        assert f"openai-compatible · {MODEL} @ {server.url}" in side and "healthy" in side
        assert "LLM call" in side and "Relevance r" in side
        assert any(m.label == "LLM call" for m in at.metric)
        # The key was sent to the server — and never shown anywhere.
        assert server.kinds() == ["intent"]
        assert server.calls[0]["auth"] == f"Bearer {API_KEY}"
        everything = all_text(at)
        assert API_KEY not in everything and "DO-NOT-SHOW" not in everything
        for page in ("pages/compare.py", "pages/about.py"):
            at.switch_page(page).run()
            assert not at.exception
            assert API_KEY not in all_text(at)


@pytest.mark.parametrize(("setup", "reason"), [
    ({"status": 500}, "the LLM server answered HTTP 500"),
    ({"delay": 2.5, "timeout": 0.8}, "did not answer within 0.8 s"),
])
def test_a_failing_llm_falls_back_and_the_list_still_appears(new_app, monkeypatch, setup, reason) -> None:
    with chat_server(monkeypatch, timeout=setup.get("timeout")) as server:
        server.status = setup.get("status", 200)
        server.delay = setup.get("delay", 0.0)
        at = _ask(new_app())
        assert not at.exception and not at.error
        notes = "\n".join(i.value for i in at.info)
        assert reason in notes and "built-in rules answered" in notes
        assert "parsed by built-in rules" in markdown_text(at)
        assert len(card_ids(at)) == 10
        assert API_KEY not in all_text(at)


def test_choosing_the_llm_without_one_configured_is_explained(new_app, monkeypatch) -> None:
    for name in ("RECSYS_LLM_BASE_URL", "RECSYS_LLM_MODEL", "RECSYS_LLM_LOCAL", "RECSYS_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    at = new_app()
    assert "No generative LLM configured" in _sidebar_text(at)
    at.segmented_control(key="parser_choice").set_value("llm").run()
    at = _ask(at)
    assert not at.error
    assert any("no generative LLM is configured" in w.value for w in at.warning)
    assert "RECSYS_LLM_BASE_URL" in _sidebar_text(at)
    assert "parsed by built-in rules" in markdown_text(at)
    assert len(card_ids(at)) == 10
    # The rerank toggle is there, switched off and disabled, with the reason beside it.
    toggle = at.toggle(key="llm_rerank")
    assert toggle.disabled and not toggle.value
    assert any("Needs a generative LLM" in c.value for c in at.caption)


def test_the_llm_rerank_reorders_the_top_of_the_list(new_app, monkeypatch) -> None:
    with chat_server(monkeypatch) as server:
        at = _ask(new_app())
        before = card_ids(at)
        at.toggle(key="llm_rerank").set_value(True).run()
        assert not at.exception
        after = card_ids(at)
        # The server ranked candidates 3, 1, 2 first; the rest keep the blend order.
        assert after[:3] == [before[2], before[0], before[1]] and after[3:] == before[3:]
        assert server.kinds().count("rerank") == 1
        assert any("Re-ordered by the LLM" in c.value for c in at.caption)
        assert "blend #3" in markdown_text(at)                       # a moved card names its blend rank
        assert "LLM rerank" in _sidebar_text(at)
        at.run()                                                      # cached: the LLM is not asked again
        assert server.kinds().count("rerank") == 1 and card_ids(at) == after
        # A failing rerank keeps the blend order and says why.
        server.rerank_status = 500
        at.toggle(key="llm_rerank").set_value(False).run()
        at.toggle(key="llm_rerank").set_value(True).run()
        assert card_ids(at) == before
        assert any("rerank was not used" in i.value and "HTTP 500" in i.value for i in at.info)
        assert API_KEY not in all_text(at)


def test_an_unreachable_llm_is_shown_unhealthy_and_auto_uses_the_rules(new_app, monkeypatch) -> None:
    with chat_server(monkeypatch) as server:
        pass                                                       # closed: its port now refuses connections
    at = _ask(new_app())
    side = _sidebar_text(at)
    assert "unavailable" in side and "connection refused" in side and "fr-dot-bad" in side
    assert "parsed by built-in rules" in markdown_text(at)
    assert not at.info and len(card_ids(at)) == 10                 # auto: the rules, nothing to apologise for
    assert server.calls == [] and API_KEY not in all_text(at)
