"""What the list's controls do: 👍 / 👎 / seen on a card, reset, the adapter and rerank toggles.

Each updates this browser session's live session (in memory only) and reruns only the
fragments that change — the list first.
"""

from __future__ import annotations

import time

import streamlit as st

from ui import components as h
from ui.latency import record_run
from ui.requests import current_live

LIVE_FRAGMENTS = ["final_list", "stage2", "stage3", "latency"]   #: rerun after a reaction, the list first


def react(movie_id: int, kind: str) -> None:
    """👍 / 👎 / seen on a card: update this session's profile, rerun what changed."""
    session = current_live()
    if session is None:
        return
    started = time.perf_counter()
    before = session.interest()
    try:
        session.react(movie_id, kind)
    except ValueError as exc:
        st.session_state["_reaction_problem"] = str(exc)
        return
    session.previous_interest = before
    step = session.history[-1]
    session.last_reaction = {"started": started, "engine_ms": step.milliseconds, "kind": kind,
                             "label": step.label}
    record_run(f"{h.REACTION_NAMES[kind].lower()} · {step.label}", session.result.timings)
    st.rerun(LIVE_FRAGMENTS)


def reset() -> None:
    """Forget every reaction: back to the list for the words alone."""
    session = current_live()
    if session is None:
        return
    session.reset()
    session.previous_interest = None
    session.last_reaction = {}
    record_run("reset", session.result.timings)
    st.rerun(LIVE_FRAGMENTS)


def adapter_toggled() -> None:
    """The trained adapter switched on or off: r changes, so every stage from 2 on."""
    session = current_live()
    if session is None:
        return
    session.use_adapter = bool(st.session_state.get("use_adapter", True))
    session.refresh()
    record_run(f"adapter {'on' if session.use_adapter else 'off'}", session.result.timings)
    st.rerun(LIVE_FRAGMENTS)


def rerank_toggled() -> None:
    """The LLM rerank switched: only the list (and the sidebar latency) change."""
    st.session_state.pop("_rerank_cache", None)
    st.rerun(["final_list", "latency"])
