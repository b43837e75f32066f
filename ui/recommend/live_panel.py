""""Your taste, live" beside the list: reactions so far, auto weights, interest, history, reset."""

from __future__ import annotations

from typing import Any

import streamlit as st

from recsys import charts
from recsys.feedback import AUTO_BETA_MAX, AUTO_TAU
from ui import components as h
from ui import figures
from ui import state as ui
from ui.recommend.reactions import reset
from ui.words import words

AUTO_HELP = ("With auto weights on, CF's weight grows with the evidence: after n liked {items} "
             f"β(n) = β₀ + ({AUTO_BETA_MAX:g} − β₀)·(1 − e^(−n/{AUTO_TAU:g})), and α and γ share the rest in the "
             "sliders' proportion (β₀ etc.: the sidebar sliders). Off: the sliders rule.")


def live_panel(session: Any, sliders: tuple[float, float, float], effective: tuple[float, float, float],
               auto: bool) -> None:
    """The panel, in a sticky container (``live_panel``) beside the cards."""
    with st.container(key="live_panel"):
        ui.md('<div class="fr-live-head"><div class="fr-live-title">Your taste, live</div>'
              '<div class="fr-live-sub">From your words and your reactions — this browser session only, never '
              'stored.</div></div>' + h.reaction_counts(len(session.liked), len(session.disliked),
                                                        len(session.seen)))
        auto_weights(session, sliders, effective, auto)
        interest(session)
        ui.md('<div class="fr-subhead">What each reaction changed</div>' + h.history_list(session.history,
                                                                                  items=words(session.recommender).items))
        st.button("Reset reactions", key="reset_reactions", icon=":material/restart_alt:", on_click=reset,
                  disabled=not session.reactions, width="stretch",
                  help="Forget every reaction and go back to the list for your words alone.")


def auto_weights(session: Any, sliders: tuple[float, float, float], effective: tuple[float, float, float],
                 auto: bool) -> None:
    """The auto-weights toggle and, when on, the weights in use."""
    w = words(session.recommender)
    st.toggle("Auto weights", key="auto_weights", help=AUTO_HELP.replace("{items}", w.items))
    if auto:
        n = len(session.liked)
        ui.md(h.mix_bar(effective) + f'<div class="fr-auto-note">In use: <b>{h.esc(h.weights_line(effective))}</b> '
              f'after {n} liked {w.item if n == 1 else w.items} · sliders {h.esc(h.weights_line(sliders))}</div>')
    else:
        st.caption(f"Off: the sidebar sliders set the weights. On: CF counts more with every {w.item} you like.")


def interest(session: Any) -> None:
    """The estimated interest distribution over genres and decades, before and after the last reaction."""
    now, before = session.interest(), session.previous_interest
    key = (session.key, tuple(session.reactions.items()), tuple(item.movie_id for item in session.result.items))
    # Only the open tab's chart is built and sent (a tab switch reruns the list's fragment).
    genres_tab, decades_tab = st.tabs([words(session.recommender).Categories, "Decades"], key="interest_tab", on_change="rerun")
    if genres_tab.open is not False:
        with genres_tab:
            figures.chart("interest_genres", key, lambda: charts.interest_distribution(
                now.genres, before.genres if before else None, avoided=session.base_intent.disliked_genres))
    if decades_tab.open:
        with decades_tab:
            figures.chart("interest_decades", key, lambda: charts.interest_distribution(
                now.decades, before.decades if before else None, by="name"))
    st.caption("Share of your estimated interest" + (" · dark ticks: before your last reaction" if before else "")
               + ".")
