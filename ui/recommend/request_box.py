"""The request box: what the user types or picks, and the page before any request."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from recsys.intent import MAX_REQUEST_CHARS
from ui import blocks
from ui import components as h
from ui import loader
from ui import state as ui
from ui.language_model import ParserState
from ui.words import words

K_OPTIONS = [5, 10, 15, 20, 30, 50]


@st.cache_resource(show_spinner=False)
def _movie_options(_rec: Any, engine_key: str) -> tuple[list[int], dict[int, str]]:
    """Movie ids for the pickers, most-rated first, and their labels."""
    cat = _rec.catalogue
    order = np.argsort(-cat.n_ratings, kind="stable")
    ids = [int(cat.movie_ids[i]) for i in order]
    labels = {int(cat.movie_ids[i]): cat.label(int(i)) for i in order}
    return ids, labels


def request_box(rec: Any) -> bool:
    """The request, example chips, the optional movie pickers, the list length and the
    Recommend button; True when the button was pressed."""
    w = words(rec)
    with st.container(border=True, key="request_box"):
        st.text_area(
            "Your request", key="request_text", height=92, persist_state="session",  # long pastes are cut below
            placeholder=w.pick("e.g. mind-bending sci-fi like Inception, nothing gory, 90s is fine",
                               f"Describe the {w.item} you are looking for — a {w.category}, what to avoid, "
                               f"an {w.item} you liked"),
            label_visibility="collapsed")
        blocks.example_chips("Try an example", "example_pick", rec=rec)
        col_refine, col_k, col_go = st.columns([6, 2.2, 1.6], vertical_alignment="bottom", gap="medium")
        with col_refine:
            movie_pickers(rec)
        with col_k:
            st.select_slider("List length", K_OPTIONS, value=10, key="k", persist_state="session")
        with col_go:
            return st.button("Recommend", key="go", type="primary", icon=":material/auto_awesome:",
                             width="stretch")


def movie_pickers(rec: Any) -> None:
    """"Movies you already know": loved / disliked pickers (sent to the browser only when open)."""
    w = words(rec)
    n_picked = len(st.session_state.get("liked_movies") or ()) + len(st.session_state.get("disliked_movies") or ())
    refine = st.expander(f"{w.Items} you already know ({n_picked} picked)" if n_picked else
                         f"{w.Items} you already know (optional)", icon=w.pick(":material/movie:", ":material/category:"),
                         key="refine_open",
                         on_change="rerun")
    with refine:
        # 9,742 titles per picker: only sent to the browser while the panel is open.
        if not refine.open:
            return
        if rec is not None:
            ids, labels = _movie_options(rec, ui.engine_key(rec))
            disabled, placeholder = False, f"Search {w.count(len(rec.catalogue))}…"
        else:
            ids, labels = [], {}
            disabled, placeholder = True, "Loading the catalogue…"
        left, right = st.columns(2)
        for col, key, label, tip in (
                (left, "liked_movies", ":material/thumb_up: Loved",
                 "Folded into collaborative filtering as strong positive history."),
                (right, "disliked_movies", ":material/thumb_down: Didn't like",
                 "Never shown, and steers collaborative filtering away from them.")):
            col.multiselect(label, ids, key=key, format_func=lambda m: labels.get(m, str(m)), max_selections=10,
                            placeholder=placeholder, disabled=disabled, persist_state="session", help=tip)


def request_inputs() -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """(text, loved ids, disliked ids). No max_chars on the box (the browser would drop a longer
    paste without a word): the parser cuts at MAX_REQUEST_CHARS and says so in stage 1; a huge
    paste is trimmed here first."""
    text = (st.session_state.get("request_text") or "").strip()[: 4 * MAX_REQUEST_CHARS]
    liked = tuple(int(m) for m in st.session_state.get("liked_movies") or ())
    disliked = tuple(int(m) for m in st.session_state.get("disliked_movies") or ())
    return text, liked, disliked


def empty_page(*, asked: bool, ready: bool, rec: Any = None) -> None:
    """No request yet: how it works and what to try (a nudge when Recommend was pressed)."""
    w = words(rec)
    if asked:
        st.warning(w.pick("Tell us what you'd like to watch first — a genre, a mood, a movie you loved, or pick "
                          "one of the examples above.",
                          f"Tell us what you are looking for first — a {w.category}, a use, an {w.item} you "
                          "liked, or pick one of the examples above."), icon=":material/edit_note:")
    ui.md(h.how_it_works(w, len(rec.catalogue) if rec is not None else None))
    ui.md(h.empty_state("Your recommendations will appear here",
                        w.pick("Type a request above or click an example. Try a negation (“no horror”), an era "
                               "(“90s”) or a title you loved — then watch each stage react.",
                               f"Type a request above or click an example. Try a negation (“no <{w.category}>”) "
                               f"or an {w.item} you liked — then watch each stage react.")))
    if not ready:
        loader.engine()      # shows the warm-up progress; then draw the page again, ready
        st.rerun()


def busy_message(rec: Any, state: ParserState) -> str:
    """What the spinner says while the request runs."""
    return (f"Reading your request with the LLM ({state.backend.split(' @ ')[0]})…" if state.uses_llm
            else f"Scoring {words(rec).count(len(rec.catalogue))}…")
