"""Lists before explanations across sessions (``ui.priority``): a run that has drawn its list
waits for the lists other sessions are still computing — never longer than the cap, never
for a run that died without saying its list was shown."""

from __future__ import annotations

import threading
import time

import pytest

from ui import priority


def _in_thread(target) -> threading.Thread:  # type: ignore[no-untyped-def]
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_charts_wait_until_another_sessions_list_is_shown() -> None:
    announced, release = threading.Event(), threading.Event()

    def other_session() -> None:
        with priority.list_first():
            announced.set()
            release.wait(5)

    other = _in_thread(other_session)
    announced.wait(5)
    _in_thread(lambda: (time.sleep(0.3), release.set()))
    waited = priority.wait_for_lists(timeout=5)
    other.join(5)
    assert 0.2 < waited < 2.0


def test_a_lone_session_never_waits_and_the_wait_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    assert priority.wait_for_lists(timeout=5) < 0.1
    announced, release = threading.Event(), threading.Event()

    def slow_session() -> None:
        priority.list_wanted()
        announced.set()
        release.wait(5)
        priority.list_shown()

    slow = _in_thread(slow_session)
    announced.wait(5)
    assert 0.15 < priority.wait_for_lists(timeout=0.2) < 1.0       # capped, not starved
    release.set()
    slow.join(5)


def test_a_run_that_never_said_its_list_was_shown_stops_holding_others_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(priority, "STALE", 0.2)
    _in_thread(priority.list_wanted).join(5)      # announced, then the run ended without list_shown
    time.sleep(0.25)
    assert priority.wait_for_lists(timeout=5) < 0.1
    priority._pending.clear()
