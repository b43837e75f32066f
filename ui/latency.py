"""The sidebar's per-stage latency of this session's last pipeline run (timings computed by the library)."""

from __future__ import annotations

import logging

import streamlit as st

logger = logging.getLogger(__name__)

LATENCY_STAGES = (("parse", "Parse (rules)"), ("llm_call", "LLM call"), ("encode", "Encode request"),
                  ("relevance", "Relevance r"), ("cf", "CF fold-in"), ("blend", "Blend"),
                  ("explain", "Explain"), ("rerank", "LLM rerank"))


def record_run(label: str, timings: dict[str, float]) -> None:
    """Remember the per-stage latency of the last pipeline run (this session only).

    ``timings`` are ``Recommendation.timings`` as the library computed them (``llm_call`` is
    the part of ``intent`` spent waiting for the generative LLM).
    """
    t: dict[str, float] = {}
    intent_ms = float(timings.get("intent", 0.0))
    llm_ms = timings.get("llm_call")
    if llm_ms:
        t["parse"] = max(0.0, intent_ms - float(llm_ms))
        t["llm_call"] = float(llm_ms)
    elif intent_ms >= 0.05:
        t["parse"] = intent_ms
    for key in ("encode", "relevance", "cf", "blend", "explain", "rerank"):
        if key in timings:
            t[key] = float(timings[key])
    t["total"] = float(timings.get("total", sum(t.values())))
    st.session_state["_last_run"] = {"label": label, "timings": t}


def add_rerank_time(ms: float) -> None:
    """Book an LLM rerank to the last run's latency."""
    run = st.session_state.get("_last_run")
    if isinstance(run, dict) and "rerank" not in run["timings"]:
        run["timings"]["rerank"] = ms
        run["timings"]["total"] = run["timings"].get("total", 0.0) + ms


def latency_rows() -> tuple[list[tuple[str, float]], str]:
    """``([(stage, ms)…, ("Total", ms)], label)`` of the last run ([] before any)."""
    run = st.session_state.get("_last_run")
    if not isinstance(run, dict):
        return [], ""
    t = run["timings"]
    rows = [(name, float(t[key])) for key, name in LATENCY_STAGES if key in t]
    rows.append(("Total", float(t.get("total", sum(ms for _, ms in rows)))))
    return rows, str(run.get("label", ""))


def show_latency() -> None:
    """Redraw the sidebar's latency panel with the last run (full runs only)."""
    from ui import components as h

    slot = st.session_state.get("_latency_slot")
    if slot is None:
        return
    rows, label = latency_rows()
    try:
        slot.markdown(h.latency_panel(rows, title="Last run · per stage",
                                      note=f"after {label}" if label else ""), unsafe_allow_html=True)
    except Exception:  # noqa: BLE001 - a stale slot from another run: the next full run redraws it
        logger.debug("latency slot not writable in this run")
