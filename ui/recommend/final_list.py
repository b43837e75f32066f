"""Stage 4 — the final list: drawn before anything else that explains it.

A fragment (``final_list``): a weight slider, the list length, the auto-weights toggle or a
reaction reruns it alone. The cards go out first; then the run waits until no other
session's list is pending (:mod:`ui.priority`) before the panel beside them and the rest.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from recsys import charts
from recsys import session as core
from recsys.rerank import RERANK_BUDGET, RERANK_MAX
from ui import blocks
from ui import components as h
from ui import figures, priority
from ui import state as ui
from ui.language_model import NOT_CONFIGURED_HELP, llm_backend
from ui.latency import add_rerank_time
from ui.recommend.live_panel import live_panel
from ui.recommend.reactions import rerank_toggled, react
from ui.requests import PageSession, current_live

HEADING = (4, "Final list")


@st.fragment(key="final_list")
def final_list() -> None:
    """The list for the current weights, list length and reactions, then the panel beside it."""
    started = time.perf_counter()
    run_started = st.session_state.pop("_run_started", None)      # set by the page in a full run
    session = current_live()
    if session is None:
        return
    with priority.list_first():
        _final_list(session, started, run_started or started)


def current_weights(session: PageSession) -> tuple[float, float, float] | None:
    """Follow the sliders, the list length and the auto toggle (a re-blend only); the weights
    in use, or None when every slider is 0."""
    sliders = ui.weights()
    if not core.weights_ok(sliders):
        return None
    session.apply(sliders, ui.current_k(), bool(st.session_state.get("auto_weights", False)))
    return session.effective_weights.as_tuple()


def _final_list(session: PageSession, started: float, run_started: float) -> None:
    problem = st.session_state.pop("_reaction_problem", None)
    if problem:
        st.warning(problem, icon=":material/warning:")
    t0 = time.perf_counter()
    effective = current_weights(session)
    reblend_ms = (time.perf_counter() - t0) * 1000
    sliders = ui.weights()
    if effective is None:
        blocks.weights_ok(sliders, heading=h.stage_heading(*HEADING, "Nothing to blend"))
        return
    auto, k = session.auto, session.k
    alpha, beta, gamma = effective
    ui.md(h.stage_heading(*HEADING, f"final = {alpha:.2f}·r̂ + {beta:.2f}·ŝ + {gamma:.2f}·b̂ — your top {k}",
                          aside=h.badge("auto weights", "accent") if auto else ""))
    ui.md(h.signal_key())
    list_col, panel_col = st.columns([2.15, 1], gap="large")
    with list_col:
        items, reranked = rerank_row(session)
        cards(items, session, weight_sum=alpha + beta + gamma, reranked=reranked)
    list_ms = (time.perf_counter() - run_started) * 1000       # this run's start → the cards drawn
    reaction = session.last_reaction
    if "started" in reaction:
        reaction["list_ms"] = (time.perf_counter() - reaction["started"]) * 1000
    priority.wait_for_lists()
    with panel_col:
        live_panel(session, sliders, effective, auto)
    score_breakdown(session)
    download(items)
    ui.md(f'<div class="fr-timing" id="blend-timing">Re-blended in {reblend_ms:.1f} ms · list and panel '
          f'rendered in {(time.perf_counter() - started) * 1000:.0f} ms (server)</div>'
          f'<span class="fr-hidden" id="list-server-timing" data-ms="{list_ms:.1f}"></span>')


def rerank_row(session: PageSession) -> tuple[list[Any], bool]:
    """The LLM rerank toggle and what it did; the items to show and whether the LLM ordered them."""
    backend = llm_backend()
    rerank_on = bool(st.session_state.get("llm_rerank")) and backend is not None
    items = list(session.result.items)
    m = min(len(items), RERANK_MAX)
    with st.container(horizontal=True, vertical_alignment="center", key="rerank_row", gap="medium", wrap=False):
        st.toggle("LLM rerank", key="llm_rerank", disabled=backend is None, on_change=rerank_toggled,
                  help=("Asks the generative LLM to re-order the top of the list for your words, within a "
                        f"{RERANK_BUDGET:.0f} s budget; if it fails or runs out of time the blend order stays.")
                  if backend is not None else "Needs a generative LLM: " + NOT_CONFIGURED_HELP)
        note = st.empty()
        if backend is None:
            note.caption("Needs a generative LLM — see Language model in the sidebar.")
        elif not rerank_on:
            note.caption(f"Off: the blend decides the order. On: the LLM re-orders the top {m} "
                         f"(time budget {RERANK_BUDGET:.0f} s).")
    if not (rerank_on and items):
        return items, False
    result = reranked(backend, session)
    outcome = result.rerank
    if outcome is not None and outcome.applied:
        note.caption(f"Re-ordered by the LLM in {h.fmt_ms(outcome.latency_ms)} · a card that moved shows "
                     "its blend rank.")
        return list(result.items), True
    note.caption("The blend order stays.")
    reason = outcome.reason if outcome is not None else "no answer"
    st.info(f"The LLM rerank was not used — {reason}. The list keeps the blend order.", icon=":material/info:")
    return items, False


def reranked(backend: Any, session: PageSession) -> Any:
    """The live list run again through :func:`recsys.session.run_request` with ``rerank=backend``
    (the library keeps the rerank's time budget), cached per list in this session."""
    result = session.result
    key = (backend.describe(), session.key, tuple(item.index for item in result.items))
    cache = st.session_state.setdefault("_rerank_cache", {})
    if key not in cache:
        m = min(len(result.items), RERANK_MAX)
        with st.spinner(f"Asking the LLM to re-order the top {m} (budget {RERANK_BUDGET:.0f} s)…"):
            cache[key] = core.run_request(
                session.recommender, core.ParsedRequest(session.current_intent(), 0.0, time.monotonic()),
                weights=session.effective_weights, k=session.k, liked=session.liked_picks,
                disliked=session.disliked_picks, seen=session.seen, use_adapter=session.use_adapter,
                rerank=backend)
        if cache[key].rerank is not None:
            add_rerank_time(cache[key].rerank.latency_ms)
    return cache[key]


def cards(items: list[Any], session: PageSession, *, weight_sum: float, reranked: bool) -> None:
    """The cards, two per row, each with 👍 / 👎 / seen; an empty state when nothing is left."""
    if not items:
        ui.md(h.empty_state("Nothing left to recommend",
                            "Every candidate was excluded by what you asked to avoid or marked as seen. "
                            "Remove a dislike, or reset your reactions."))
        return
    cat = session.recommender.catalogue
    per_row = 2
    for row_start in range(0, len(items), per_row):
        for col, (rank, item) in zip(st.columns(per_row, gap="medium"),
                                     enumerate(items[row_start:row_start + per_row], row_start + 1)):
            card = h.CardData(rank=rank, title=cat.display_titles[item.index], year=item.year,
                              genres=tuple(item.genres), score=item.score,
                              contributions=tuple(item.contributions),  # type: ignore[arg-type]
                              reasons=tuple((r.kind, r.text) for r in item.reasons),
                              llm_rank=item.llm_rank, cf_rank=item.cf_rank, movie_id=item.movie_id,
                              blend_rank=item.rank if reranked else None, poster_url=item.poster_url)
            with col, st.container(border=True, key=f"card-{rank}"):
                ui.md(h.movie_card(card, weight_sum=weight_sum))
                reaction_buttons(item.movie_id)


def reaction_buttons(mid: int) -> None:
    """👍 / 👎 / seen under a card (no tooltips: 30 of them cost the browser more than they say)."""
    with st.container(horizontal=True, key=f"react-{mid}", gap=None):
        st.button("", key=f"like-{mid}", icon=":material/thumb_up:", type="tertiary", on_click=react,
                  args=(mid, "like"))
        st.button("", key=f"dislike-{mid}", icon=":material/thumb_down:", type="tertiary", on_click=react,
                  args=(mid, "dislike"))
        st.button("Seen", key=f"seen-{mid}", icon=":material/visibility:", type="tertiary", on_click=react,
                  args=(mid, "seen"))


def score_breakdown(session: PageSession) -> None:
    """α·r̂, β·ŝ, γ·b̂ of every card as one chart, built only while the panel is open."""
    panel = st.expander("Score breakdown chart", icon=":material/bar_chart:", key="breakdown_open",
                        on_change="rerun")
    with panel:
        if not panel.open:
            return
        items = session.result.items
        figures.chart("contribution_bar", tuple((it.movie_id, it.contributions) for it in items),
                      lambda: charts.contribution_bar([it.label for it in items],
                                                      *([it.contributions[n] for it in items] for n in range(3))))


def download(items: list[Any]) -> None:
    """The list as CSV (built in the browser session; nothing is written on the server)."""
    csv = pd.DataFrame([{"rank": n, "movie_id": it.movie_id, "title": it.label, "genres": "|".join(it.genres),
                         "score": round(it.score, 4), "alpha_r": round(it.contributions[0], 4),
                         "beta_s": round(it.contributions[1], 4), "gamma_b": round(it.contributions[2], 4),
                         "why": it.explanation} for n, it in enumerate(items, 1)]).to_csv(index=False)
    st.download_button("Download the list (CSV)", csv, file_name="firstreel-recommendations.csv",
                       mime="text/csv", icon=":material/download:", key="download_list", on_click="ignore")
