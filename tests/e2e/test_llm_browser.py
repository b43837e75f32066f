"""End-to-end with a generative LLM: the real app against a chat-completions server on
127.0.0.1 started by the test (``RECSYS_LLM_*`` point at it), in headless Chromium.

The LLM's parse shows its suggested titles, the sidebar shows the backend, its health and
the LLM call in the per-stage latency, the optional rerank re-orders the list — and the
API key appears nowhere on the page. Screenshots: ``e2e-11-llm-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chat_server import API_KEY, MODEL, ChatServer
from tests.e2e.harness import AppPage, StreamlitServer, browser, skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

REQUEST = "mind-bending sci-fi like Inception, nothing gory, 90s is fine"


@pytest.fixture(scope="module")
def llm_app() -> Iterator[tuple[AppPage, ChatServer]]:
    chat = ChatServer()
    server = StreamlitServer(env={"RECSYS_LLM_BASE_URL": chat.url, "RECSYS_LLM_MODEL": MODEL,
                                  "RECSYS_LLM_API_KEY": API_KEY, "RECSYS_LLM_TIMEOUT": "10"}).start()
    try:
        with browser() as b:
            page = b.new_page(viewport={"width": 1440, "height": 900})
            app = AppPage(page, server.url)
            page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
            page.wait_for_selector(".fr-side-status:has-text('Ready')", timeout=300_000)
            app.settle(timeout=300)
            yield app, chat
    finally:
        server.stop()
        chat.close()


def test_the_llm_parse_and_its_suggestions_are_shown(llm_app: tuple[AppPage, ChatServer]) -> None:
    app, chat = llm_app
    page = app.page
    app.type_request(REQUEST)
    app.click_button("Recommend")
    page.wait_for_selector(".fr-card", timeout=120_000)
    app.settle(timeout=120)
    assert page.locator(".fr-badge", has_text=f"parsed by the LLM · {MODEL}").count() == 1
    assert page.locator(".chip-suggested", has_text="Memento").count() == 1
    sidebar = page.inner_text("[data-testid='stSidebar']")
    assert MODEL in sidebar and "healthy" in sidebar and "LLM call" in sidebar
    assert page.locator(".fr-card").count() == 10
    assert chat.calls and chat.calls[0]["auth"] == f"Bearer {API_KEY}"
    assert API_KEY not in page.content()
    assert page.locator("[data-testid='stException']").count() == 0
    app.screenshot("e2e-11-llm-parse", full_page=False)
    app.scroll_to("#stage-1")
    app.screenshot("e2e-11-llm-intent", full_page=False)


def test_the_llm_rerank_reorders_the_list(llm_app: tuple[AppPage, ChatServer]) -> None:
    app, chat = llm_app
    page = app.page
    before = app.card_ids()
    app.scroll_to("#stage-4")
    page.locator(".st-key-llm_rerank label").first.click()
    page.wait_for_function("(first) => document.querySelector('.fr-card').getAttribute('data-movie-id') !== first",
                           arg=before[0], timeout=60_000)
    app.settle()
    after = app.card_ids()
    assert after[:3] == [before[2], before[0], before[1]]
    assert "rerank" in [c["kind"] for c in chat.calls]
    assert page.locator(".fr-prov", has_text="blend #3").count() == 1
    assert API_KEY not in page.content()
    page.wait_for_timeout(300)
    app.screenshot("e2e-11-llm-rerank", full_page=False)
