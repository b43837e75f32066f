"""Stage 2 — relevance-scored candidates: r of every item, its terms, the top of the ranking.

r is embedding similarity plus the intent's rules (named titles, genres, keywords, era and
dislike penalties) and, when one is trained, the adapter's learned term. A fragment
(``stage2``): a reaction or the adapter toggle reruns it alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from recsys import charts
from recsys.compare import top_changes
from ui import components as h
from ui import figures
from ui import state as ui
from ui.recommend.reactions import adapter_toggled
from ui.requests import current_live
from ui.words import words

TOP_CHART = 15           #: candidates in the chart
TOP_TABLE = 50           #: candidates in the table
PENALTY_TERMS = ("era", "disliked_genres", "disliked_keywords", "disliked_titles")


@st.fragment(key="stage2")
def relevance_view() -> None:
    """Heading, the adapter toggle, the chart of the top candidates and the table."""
    session = current_live()
    if session is None:
        return
    rel = session.result.relevance
    shaped = adapter_shaped(rel)
    w = words(session.recommender)
    ui.md(h.stage_heading(2, "Relevance-scored candidates",
                          f"Relevance r of every {w.item} to your request; the top {len(rel.candidates)} go on to "
                          "the blend", aside=h.badge("r shaped by the trained adapter", "good") if shaped else ""))
    if session.recommender.adapter is not None:
        adapter_row(session, shaped)
    if session.reactions:
        n = len(session.reactions)
        st.caption(f"{'Your reaction is' if n == 1 else f'Your {n} reactions are'} part of r: {w.items} you liked act "
                   f"as named titles, and the Reactions term lifts or lowers {w.categories}.")
    left, right = st.columns([1, 1], gap="large")
    with left:
        relevance_chart(session)
    with right:
        candidate_table(session)
        st.caption(f"Top {TOP_TABLE} of {len(rel.candidates)} candidates by r, the weighted sum of the terms in "
                   f"the chart (similarity, named titles, liked {w.categories} and keywords, minus era and dislike "
                   "penalties" + (", plus the trained adapter" if shaped else "") + ").")


def adapter_shaped(rel: Any) -> bool:
    """True when the trained adapter's term moved r."""
    term = rel.components.get("adapter")
    return term is not None and bool(np.any(np.abs(np.asarray(term)) > 1e-9))


def adapter_row(session: Any, shaped: bool) -> None:
    """The adapter toggle and what the adapter changed in the top of r."""
    rec, rel = session.recommender, session.result.relevance
    w = words(rec)
    with st.container(horizontal=True, vertical_alignment="center", key="adapter_row", gap="medium", wrap=False):
        st.toggle("Trained adapter in r", key="use_adapter", value=True, on_change=adapter_toggled,
                  help="Compare r with and without the trained adapter (a learned term of r: "
                       f"λ = {rec.adapter.weight:g}). Off: r is the text-only score.")
        if not shaped:
            st.caption("Switched off: r is the text-only score. Switch it on to see what the adapter adds.")
            return
        entered, left_out = top_changes(rel.r, np.asarray(rel.r) - np.asarray(rel.components["adapter"]),
                                        TOP_CHART, rel.excluded)
        if entered:
            names = ", ".join(rec.catalogue.label(i) for i in entered[:3]) + ("…" if len(entered) > 3 else "")
            st.caption(f"The adapter brought {len(entered)} of the top {TOP_CHART} in ({names}) and pushed "
                       f"{len(left_out)} out.")
        else:
            st.caption(f"The adapter re-orders the top {TOP_CHART} without changing which {w.items} are in it.")


def relevance_chart(session: Any) -> None:
    """The top candidates' r split into its weighted terms, with the colour key above."""
    rel, cat = session.result.relevance, session.recommender.catalogue
    idx = [int(i) for i in rel.candidates[:TOP_CHART]]
    w = words(cat)
    fig = figures.figure("relevance_bar", (session.key, tuple(session.reactions.items()), session.use_adapter),
                         lambda: charts.relevance_bar([cat.label(i) for i in idx],
                                                      {name: np.asarray(v)[idx] for name, v in rel.components.items()},
                                                      rel.r[idx], category=w.category))
    ui.md(h.keyline(charts.legend_items(fig)))
    figures.show(fig, "relevance_bar")


def candidate_table(session: Any) -> None:
    """The top 50 candidates by r (their terms summed into boosts and penalties)."""
    rel, cat = session.result.relevance, session.recommender.catalogue
    idx = [int(i) for i in rel.candidates[:TOP_TABLE]]
    comps = rel.components
    boosts = sum((np.asarray(comps[c])[idx] for c in comps if c not in ("similarity", *PENALTY_TERMS)),
                 np.zeros(len(idx)))
    penalties = sum((np.asarray(comps[c])[idx] for c in PENALTY_TERMS if c in comps), np.zeros(len(idx)))
    table = pd.DataFrame({
        "rank": range(1, len(idx) + 1),
        "movie": [cat.label(i) for i in idx],
        "genres": [", ".join(cat.genres[i]) for i in idx],
        "r": rel.r[idx].astype(float),
        "similarity": rel.similarity[idx].astype(float),
        "boosts": np.asarray(boosts, dtype=float),
        "penalties": np.asarray(penalties, dtype=float),
        "movie_id": [int(cat.movie_ids[i]) for i in idx],
    })
    st.dataframe(
        table, hide_index=True, height=36 * min(len(idx), 15) + 38, key="llm_table",
        column_order=["rank", "movie", "genres", "r"],
        column_config={
            "rank": st.column_config.NumberColumn("#", width=32),
            "movie": st.column_config.TextColumn(words(cat).Item, width=195),
            "genres": st.column_config.TextColumn(words(cat).Categories, width=135),
            "r": st.column_config.ProgressColumn("Relevance r", format="%.3f", min_value=0.0,
                                                 max_value=float(max(1e-6, table["r"].max())), width=100),
        })
