"""Stage 3 — CF adjustments: the final list against the same blend without CF (β = 0).

A fragment (``stage3``), the last one to rerun after a reaction or a weight move; it notes
when the page settled (read by the speed bench).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from recsys import charts
from recsys.compare import cf_adjustments, summarise_changes
from ui import components as h
from ui import figures
from ui import state as ui
from ui.recommend.final_list import current_weights
from ui.requests import current_live
from ui.words import words

CHANGE_COLORS = {"▲": "color: #15803D; font-weight: 600", "▼": "color: #B91C1C; font-weight: 600",
                 "✕": "color: #B91C1C; font-weight: 600", "★": "color: #0F766E; font-weight: 700"}
TILES = (("Promoted", "promoted", "Moved up in the top k thanks to CF"),
         ("Injected by CF", "injected", "In the final list but not among the relevance candidates: CF brought "
                                        "them in"),
         ("Demoted", "demoted", "Moved down within the top k"),
         ("Dropped out", "dropped", "In the top k without CF, pushed out by it"))


@st.fragment(key="stage3")
def cf_view() -> None:
    """Heading, the counts, the with/without-CF table, the r̂–ŝ scatter and the seeds."""
    session = current_live()
    if session is None:
        return
    weights = current_weights(session)
    if weights is not None:
        _cf_view(session, weights)
    page_settled(session)


def _cf_view(session: Any, weights: tuple[float, float, float]) -> None:
    final, cat, k = session.result, session.recommender.catalogue, session.k
    alpha, beta, gamma = weights
    ui.md(h.stage_heading(3, "CF adjustments",
                          "The final list against the same blend without CF (β = 0): what CF promoted, "
                          "demoted and injected"))
    if beta == 0:
        st.info("β is 0, so collaborative filtering is switched off and changes nothing. Move the β slider "
                "to see what it adds.", icon=":material/info:")
    without = final.reblend((alpha, 0.0, gamma), k, explain=False) if alpha + gamma > 0 else None
    before = without.blend.ranking if without is not None else final.ranking("llm", len(final.pool))
    changes = cf_adjustments(before, final.blend.ranking, final.relevance.candidates, k)
    counts = summarise_changes(changes)
    tiles = st.columns(5)
    for col, (label, name, tip) in zip(tiles, TILES):
        col.metric(label, counts[name], help=tip, border=True)
    tiles[4].metric("Seeds folded in", len(final.seeds),
                    help="Pseudo-history items folded into the ALS model for this new user", border=True)
    left, right = st.columns([1.05, 1], gap="large")
    with left:
        change_table(changes, cat)
    with right:
        scatter(session, weights)
    seed_table(final, cat)


def change_table(changes: list[Any], cat: Any) -> None:
    """Each movie's rank with and without CF, and the effect of CF, coloured."""
    rows = [{"movie": cat.label(ch.item), "change": change_label(ch), "without": ch.rank_before,
             "with": ch.rank_after} for ch in changes]
    frame = pd.DataFrame(rows, columns=["movie", "change", "without", "with"])
    styled = frame.style.map(lambda v: CHANGE_COLORS.get(v[:1], "color: #6B7085"), subset=["change"])
    st.dataframe(styled, hide_index=True, key="cf_table", height=min(38 + 35 * max(len(frame), 1), 456),
                 column_config={
                     "movie": st.column_config.TextColumn(words(cat).Item, width=200),
                     "change": st.column_config.TextColumn("Effect of CF", width=112),
                     "without": st.column_config.NumberColumn("Rank w/o CF", format="%d", width=86,
                                                              help="Rank under the same weights with β = 0"),
                     "with": st.column_config.NumberColumn("Rank", format="%d", width=56,
                                                           help="Rank in the final list"),
                 })


def change_label(ch: Any) -> str:
    """``= same``, ``★ new, from CF``, ``✕ dropped out``, ``▲ 3`` or ``▼ 2``."""
    if ch.kind == "same":
        return "= same"
    if ch.kind == "injected":
        return "★ new, from CF"
    if ch.kind == "dropped":
        return "✕ dropped out"
    delta = ch.delta or 0
    return f"▲ {delta}" if delta > 0 else f"▼ {-delta}"


def scatter(session: Any, weights: tuple[float, float, float]) -> None:
    """r̂ against ŝ over the candidate pool: what made the list, what CF injected."""
    final, cat, k = session.result, session.recommender.catalogue, session.k

    def build() -> Any:
        pool = np.asarray(final.pool)
        top = {int(i) for i in final.blend.ranking[:k]}
        relevant = {int(i) for i in final.relevance.candidates}
        groups = ["injected" if (int(i) in top and int(i) not in relevant) else "final" if int(i) in top
                  else "llm" if int(i) in relevant else "cf" for i in pool]
        return charts.score_scatter(final.r_hat[pool], final.s_hat[pool], [cat.label(int(i)) for i in pool],
                                    groups, weights=weights)

    fig = figures.figure("score_scatter", (session.key, tuple(session.reactions.items()), session.use_adapter,
                                           weights, k), build)
    ui.md(h.keyline(charts.legend_items(fig)))
    figures.show(fig, "score_scatter")


def seed_table(final: Any, cat: Any) -> None:
    """The pseudo-history folded into CF, in a collapsed panel (the table is sent only while it is open)."""
    panel = st.expander(f"Pseudo-history folded into CF ({len(final.seeds)} seeds)", icon=":material/history:",
                        key="seeds_open", on_change="rerun")
    with panel:
        if not panel.open:
            return
        seeds = pd.DataFrame([{"movie": cat.label(s.item), "confidence": float(s.confidence), "why": s.reason}
                              for s in final.seeds], columns=["movie", "confidence", "why"])
        st.dataframe(seeds, hide_index=True, key="seed_table", column_config={
            "movie": st.column_config.TextColumn(words(cat).Item),
            "confidence": st.column_config.NumberColumn("Confidence c", format="%+.2f",
                                                        help=f"negative = a{'n' if words(cat).item[:1] in 'aeiou' else ''} "
                                                             f"{words(cat).item} you rejected"),
            "why": st.column_config.TextColumn("Why it is in the history", width="large")})


def page_settled(session: Any) -> None:
    """After a reaction: how long the engine, the list and the whole page took (server side)."""
    reaction = session.last_reaction
    marker = ""
    if "started" in reaction:
        reaction["page_ms"] = ms = (time.perf_counter() - reaction.pop("started")) * 1000
        marker = f'<span class="fr-hidden" id="react-all-timing" data-ms="{ms:.1f}"></span>'
    if "page_ms" in reaction:
        ui.md(f'<div class="fr-timing" id="react-timing">Last reaction: engine {reaction["engine_ms"]:.0f} ms · '
              f'list updated in {reaction.get("list_ms", reaction["page_ms"]):.0f} ms · stages 2–4 done in '
              f'{reaction["page_ms"]:.0f} ms (server)</div>{marker}')
