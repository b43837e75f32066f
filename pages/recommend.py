"""Recommend — the new-user playground: a request in, the final list and how it was made.

Top to bottom: the request box; the four stages at a glance; the final list with "Your
taste, live" beside it; then how the list was made — the time each stage took, stage 1
(parsed intent), stage 2 (relevance-scored candidates), stage 3 (CF adjustments). The list is drawn first, the
explanations after it (see :mod:`ui.priority`). Reactions update this browser session's live
session (in memory only) and rerun only the fragments that change; the shared recommender
is only read.
"""

from __future__ import annotations

import time

import streamlit as st

from ui import blocks, loader, priority
from ui import components as h
from ui import state as ui
from ui.language_model import parser_state
from ui.latency import show_latency
from ui.recommend.cf_view import cf_view
from ui.recommend.final_list import final_list
from ui.recommend.intent_view import intent_view
from ui.recommend.overview import stepper, timing_tiles
from ui.recommend.relevance_view import relevance_view
from ui.recommend.request_box import busy_message, empty_page, request_box, request_inputs
from ui.requests import live_session, set_current_request
from ui.words import words


def page() -> None:
    """A request box; then the list and the stages of the request, or an empty state."""
    st.session_state["_run_started"] = time.perf_counter()      # for the list's server-side timing
    ui.md(h.page_intro(
        words(loader.engine_loader().recommender).pick("What do you feel like watching?", "What are you looking for?"),
        "Describe it in your own words — English or 中文. No account, no history: your list comes first, "
        "then every step from your sentence to it.", eyebrow="Recommend"))
    rec = loader.engine(wait=False)
    go = request_box(rec)
    text, liked, disliked = request_inputs()
    if not text:
        empty_page(asked=go, ready=rec is not None, rec=rec)
        return
    rec = rec or loader.engine()           # progress bar while the models load (first start builds the index)
    with priority.list_first():
        state = parser_state(rec)
        with blocks.request_errors("something went wrong while scoring", "Try again, or rephrase the request."):
            with st.spinner(busy_message(rec, state)):
                live = live_session(rec, text, liked, disliked, state, fresh=go)
        set_current_request(text, liked, disliked)
        stepper(live.result, rec.catalogue)
        for fragment in ("final_list", "stage3"):
            ui.register_weight_fragment(fragment)
        final_list()
    blocks.section("How this list was made", "Stage by stage, from your words to the ranking above")
    timing_tiles(live.result.timings, rec.catalogue)
    intent_view(live, state, liked, disliked)
    relevance_view()
    cf_view()
    st.page_link(ui.PAGES["compare"], label="See how this list compares with the baselines",
                 icon=":material/compare_arrows:")
    show_latency()


page()
