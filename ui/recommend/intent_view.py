"""Stage 1 — parsed intent: the request highlighted, what was understood as chips, genre interest."""

from __future__ import annotations

from typing import Any

import streamlit as st

from recsys import charts
from ui import components as h
from ui import figures
from ui import state as ui
from ui.language_model import ParserState
from ui.words import words


def intent_view(session: Any, state: ParserState, liked: tuple[int, ...], disliked: tuple[int, ...]) -> None:
    """Stage 1 of the live session's request (its words, not the reactions)."""
    intent, cat = session.base_intent, session.recommender.catalogue
    w = words(cat)
    ui.md(h.stage_heading(1, "Parsed intent", "What the parser understood from your words",
                          aside=h.badge(parsed_by(intent, state))))
    notices(intent, state)
    left, right = st.columns([3.2, 2], gap="large")
    with left:
        ui.md(f'<div class="fr-quote">{h.highlight(intent.text, h.spans_of(intent), category=w.category)}</div>'
              f'{h.legend(w.category)}')
        ui.md('<div class="fr-chips">' + "".join(chip_rows(intent, cat, liked, disliked)) + "</div>")
        if intent.similar_titles:
            st.caption("LLM suggests: titles suggested by the LLM, matched to the catalogue; they join "
                       "collaborative filtering as lighter seeds and are never shown back as named titles.")
        claims_table(intent)
        if intent.query_text and intent.query_text != intent.text:
            st.caption(f"What the encoder reads: <em>{h.esc(intent.query_text)}</em>", unsafe_allow_html=True)
    with right:
        st.markdown(f"**{w.Category} interest**")
        figures.chart("genre_interest", session.key, lambda: charts.genre_interest_bar(
            intent.genre_affinity, liked=intent.liked_genres, disliked=intent.disliked_genres,
            category=w.category))
        st.caption("Zero-shot estimate from the request's embedding; green = asked for, red = avoided.")


def parsed_by(intent: Any, state: ParserState) -> str:
    """``parsed by the LLM · <model>`` or ``parsed by built-in rules``."""
    if intent.parser != "llm":
        return "parsed by built-in rules"
    model = state.backend.split(" · ")[1].split(" @ ")[0] if " · " in state.backend else state.backend
    return f"parsed by the LLM · {model}"


def notices(intent: Any, state: ParserState) -> None:
    """Why the parser answered as it did: an LLM that could not be used, a request that was cut."""
    if state.problem:
        st.warning(state.problem, icon=":material/smart_toy:")
    for warning in intent.warnings:
        st.warning(warning, icon=":material/content_cut:")
    if intent.fallback_reason:
        st.info(f"The LLM parser could not be used — {intent.fallback_reason}. The built-in rules answered "
                "instead, so everything below still works. Press Recommend to ask the LLM again.",
                icon=":material/info:")


def claims_table(intent: Any) -> None:
    """The LLM's claims the request does not support, and what became of them."""
    questioned = [c for c in intent.llm_claims if c.reason]
    if not questioned:
        return
    with st.expander(f"Model claims not used as stated ({len(questioned)})", icon=":material/rule:"):
        st.caption("The LLM's answer is checked against your words: what the request does not "
                   "support is dropped or downgraded.")
        st.dataframe([{"claim": c.kind.replace("_", " "), "model said": c.value,
                       "became": c.use or "not used", "why": c.reason} for c in questioned],
                     hide_index=True, width="stretch")


def chip_rows(intent: Any, cat: Any, liked: tuple[int, ...], disliked: tuple[int, ...]) -> list[str]:
    """The chip rows of stage 1: likes, avoids, era, keywords, people, titles, suggestions, picks."""
    likes = [h.chip(g, "like") for g in intent.liked_genres]
    likes += [h.chip(g, "inferred", tip="inferred from your words (zero-shot)") for g in intent.inferred_genres
              if g not in intent.liked_genres]
    avoids = [h.chip(g, "dislike") for g in intent.disliked_genres]
    avoids += [h.chip(k, "dislike") for k in intent.disliked_keywords]
    avoids += [h.title_chip(t.title, t.score, negated=True, surface=t.surface) for t in intent.disliked_titles]
    era = [h.chip(intent.era.label or f"{intent.era.start or '…'}–{intent.era.end or '…'}", "era")] \
        if intent.era else []
    rows = [
        h.chip_row("Likes", likes, empty=f"no {words(cat).category} named"),
        h.chip_row("Avoids", avoids, empty="nothing"),
        h.chip_row("Era", era, empty="any"),
        h.chip_row("Keywords", [h.chip(k, "keyword") for k in intent.keywords], empty="none"),
    ]
    if intent.people:
        rows.append(h.chip_row("People", [h.chip(p, "person") for p in intent.people]))
    rows.append(h.chip_row("Titles", [h.title_chip(t.title, t.score, surface=t.surface) for t in intent.titles],
                           empty="none named"))
    if intent.similar_titles:
        rows.append(h.chip_row("LLM suggests", [h.title_chip(t.title, t.score, surface=t.surface, suggested=True)
                                                for t in intent.similar_titles]))
    if liked or disliked:
        picked = [h.chip(cat.label(i), "like") for i in cat.indices(list(liked))]
        picked += [h.chip(cat.label(i), "dislike") for i in cat.indices(list(disliked))]
        rows.append(h.chip_row("Picked", picked))
    return rows
