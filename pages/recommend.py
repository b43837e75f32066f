"""Recommend — the new-user playground: a request in, the four stages and a final list out.

The list is live: 👍 / 👎 / "seen it" on a card updates this browser session's profile
(:class:`ui.state.PageSession`, in memory only) and reruns only the fragments that change
— stage 2 (``stage2``), stages 3–4 with the "Your taste, live" panel (``blend``) and the
sidebar latency (``latency``). The shared recommender is only read.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ui import components as h
from ui import state as ui
from recsys import charts
from recsys.compare import cf_adjustments, summarise_changes, top_changes
from recsys.feedback import AUTO_BETA_MAX, AUTO_TAU
from recsys.intent import MAX_REQUEST_CHARS
from recsys.rerank import RERANK_BUDGET, RERANK_MAX
from ui import blocks

K_OPTIONS = [5, 10, 15, 20, 30, 50]
LIVE_FRAGMENTS = ["blend", "stage2", "latency"]   #: rerun after a reaction, the list first
REACTION_VERBS = {"like": "you liked", "dislike": "not for you:", "seen": "seen:"}
AUTO_HELP = (f"With auto weights on, CF's weight grows with the evidence: after n liked movies "
             f"β(n) = β₀ + ({AUTO_BETA_MAX:g} − β₀)·(1 − e^(−n/{AUTO_TAU:g})), and α and γ share the rest in the "
             "sliders' proportion (β₀ etc.: the sidebar sliders). Off: the sliders rule.")


@st.cache_resource(show_spinner=False)
def _movie_options(_rec: Any, engine_key: str) -> tuple[list[int], dict[int, str]]:
    """Movie ids for the pickers, most-rated first, and their labels."""
    cat = _rec.catalogue
    order = np.argsort(-cat.n_ratings, kind="stable")
    ids = [int(cat.movie_ids[i]) for i in order]
    labels = {int(cat.movie_ids[i]): cat.label(int(i)) for i in order}
    return ids, labels


# ----------------------------------------------------------------------------- the page
def page() -> None:
    """A request box; then the four stages of the request, or an empty state."""
    ui.md(h.page_intro(
        "What do you feel like watching?",
        "Describe it in your own words — English or 中文. No account, no history: every step from "
        "your sentence to the list is shown below.", eyebrow="Recommend"))
    rec = ui.engine(wait=False)
    go = request_box(rec)
    text, liked, disliked = request_inputs()
    if not text:
        empty_page(asked=go, ready=rec is not None)
        return
    rec = rec or ui.engine()       # progress bar while the models load (first start builds the index)
    state = ui.parser_state(rec)
    with blocks.request_errors("something went wrong while scoring", "Try again, or rephrase the request."):
        with st.spinner(busy_message(rec, state)):
            live = ui.live_session(rec, text, liked, disliked, state, fresh=go)
    ui.set_current_request(text, liked, disliked)
    stepper_slot, timing_slot = st.empty(), st.container()
    stage1(live.base_intent, state, rec.catalogue, liked, disliked)
    with stepper_slot:
        stepper(live.result, rec.catalogue)
    with timing_slot:
        timing_tiles(live.result.timings, live.base_intent)
    stage2_view()
    ui.register_weight_fragment("blend")
    blend_view()
    st.page_link(ui.PAGES["compare"], label="See how this list compares with the baselines",
                 icon=":material/compare_arrows:")
    ui.show_latency()


def request_box(rec: Any) -> bool:
    """The request, example chips, the optional movie pickers, the list length and the
    Recommend button; True when the button was pressed."""
    with st.container(border=True, key="request_box"):
        st.text_area(
            "Your request", key="request_text", height=92, persist_state="session",  # long pastes are cut below
            placeholder="e.g. mind-bending sci-fi like Inception, nothing gory, 90s is fine",
            label_visibility="collapsed")
        blocks.example_chips("Try an example", "example_pick")
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
    n_picked = len(st.session_state.get("liked_movies") or ()) + len(st.session_state.get("disliked_movies") or ())
    refine = st.expander(f"Movies you already know ({n_picked} picked)" if n_picked else
                         "Movies you already know (optional)", icon=":material/movie:", key="refine_open",
                         on_change="rerun")
    with refine:
        # 9,742 titles per picker: only sent to the browser while the panel is open.
        if not refine.open:
            return
        if rec is not None:
            ids, labels = _movie_options(rec, ui.engine_key(rec))
            disabled, placeholder = False, "Search 9,742 movies…"
        else:
            ids, labels = [], {}
            disabled, placeholder = True, "Loading the catalogue…"
        c1, c2 = st.columns(2)
        c1.multiselect(":material/thumb_up: Loved", ids, key="liked_movies",
                       format_func=lambda m: labels.get(m, str(m)), max_selections=10,
                       placeholder=placeholder, disabled=disabled, persist_state="session",
                       help="Folded into collaborative filtering as strong positive history.")
        c2.multiselect(":material/thumb_down: Didn't like", ids, key="disliked_movies",
                       format_func=lambda m: labels.get(m, str(m)), max_selections=10,
                       placeholder=placeholder, disabled=disabled, persist_state="session",
                       help="Never shown, and steers collaborative filtering away from them.")


def request_inputs() -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """(text, loved ids, disliked ids). No max_chars on the box (the browser would drop a longer
    paste without a word): the parser cuts at MAX_REQUEST_CHARS and says so in stage 1; a huge
    paste is trimmed here first."""
    text = (st.session_state.get("request_text") or "").strip()[: 4 * MAX_REQUEST_CHARS]
    liked = tuple(int(m) for m in st.session_state.get("liked_movies") or ())
    disliked = tuple(int(m) for m in st.session_state.get("disliked_movies") or ())
    return text, liked, disliked


def empty_page(*, asked: bool, ready: bool) -> None:
    """No request yet: how it works and what to try (a nudge when Recommend was pressed)."""
    if asked:
        st.warning("Tell us what you'd like to watch first — a genre, a mood, a movie you loved, or pick "
                   "one of the examples above.", icon=":material/edit_note:")
    ui.md(h.how_it_works())
    ui.md(h.empty_state("Your recommendations will appear here",
                        "Type a request above or click an example. Try a negation (“no horror”), an era "
                        "(“90s”) or a title you loved — then watch each stage react."))
    if not ready:
        ui.engine()          # shows the warm-up progress; then draw the page again, ready
        st.rerun()


def busy_message(rec: Any, state: Any) -> str:
    return (f"Reading your request with the LLM ({state.backend.split(' @ ')[0]})…" if state.uses_llm
            else f"Scoring {len(rec.catalogue):,} movies…")


def stage1(intent: Any, state: Any, cat: Any, liked: tuple[int, ...], disliked: tuple[int, ...]) -> None:
    """Parsed intent: the request highlighted, what was understood as chips, genre interest."""
    if intent.parser == "llm":
        model = state.backend.split(" · ")[1].split(" @ ")[0] if " · " in state.backend else state.backend
        parsed_by = h.badge(f"parsed by the LLM · {model}")
    else:
        parsed_by = h.badge("parsed by built-in rules")
    ui.md(h.stage_heading(1, "Parsed intent", "What the parser understood from your words", aside=parsed_by))
    if state.problem:
        st.warning(state.problem, icon=":material/smart_toy:")
    for warning in intent.warnings:
        st.warning(warning, icon=":material/content_cut:")
    if intent.fallback_reason:
        st.info(f"The LLM parser could not be used — {intent.fallback_reason}. The built-in rules answered "
                "instead, so everything below still works. Press Recommend to ask the LLM again.",
                icon=":material/info:")
    left, right = st.columns([3.2, 2], gap="large")
    with left:
        ui.md(f'<div class="fr-quote">{h.highlight(intent.text, h.spans_of(intent))}</div>{h.legend()}')
        ui.md('<div class="fr-chips">' + "".join(_intent_rows(intent, cat, liked, disliked)) + "</div>")
        if intent.similar_titles:
            ui.md('<div class="fr-query">LLM suggests: titles suggested by the LLM, matched to the catalogue; '
                  'they join collaborative filtering as lighter seeds and are never shown back as named '
                  'titles.</div>')
        questioned = [c for c in intent.llm_claims if c.reason]
        if questioned:
            with st.expander(f"Model claims not used as stated ({len(questioned)})", icon=":material/rule:"):
                st.caption("The LLM's answer is checked against your words: what the request does not "
                           "support is dropped or downgraded.")
                st.dataframe([{"claim": c.kind.replace("_", " "), "model said": c.value,
                               "became": c.use or "not used", "why": c.reason} for c in questioned],
                             hide_index=True, width="stretch")
        if intent.query_text and intent.query_text != intent.text:
            ui.md(f'<div class="fr-query">What the encoder reads: <em>{h.esc(intent.query_text)}</em></div>')
    with right:
        ui.md('<div class="fr-subhead">Genre interest</div>')
        st.plotly_chart(charts.genre_interest_bar(intent.genre_affinity, liked=intent.liked_genres,
                                                  disliked=intent.disliked_genres),
                        config={"displayModeBar": False}, key="genre_interest", theme=None)
        st.caption("Zero-shot estimate from the request's embedding; green = asked for, red = avoided.")


def _intent_rows(intent: Any, cat: Any, liked: tuple[int, ...], disliked: tuple[int, ...]) -> list[str]:
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
        h.chip_row("Likes", likes, empty="no genre named"),
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


def stepper(result: Any, cat: Any) -> None:
    """The four stages at a glance, above stage 1."""
    intent = result.intent
    summary = [*intent.liked_genres[:2], *(f"no {g}" for g in intent.disliked_genres[:1])]
    if intent.era:
        summary.append(intent.era.label or "era")
    if intent.titles:
        summary.append(f"{len(intent.titles)} title{'s' if len(intent.titles) > 1 else ''}")
    ui.md(h.stepper([
        h.Step("Parsed intent", " · ".join(summary) or "free text only"),
        h.Step("LLM-scored candidates", f"{len(cat):,} movies scored, top {len(result.relevance.candidates)} kept"),
        h.Step("CF adjustments", f"{len(result.seeds)} seeds folded into ALS"),
        h.Step("Final list", "α·r̂ + β·ŝ + γ·b̂, explained"),
    ]))


def timing_tiles(t: dict[str, float], intent: Any) -> None:
    """Per-stage latency of the request as metrics (timings computed by the library)."""
    llm_ms = t.get("llm_call")
    tiles = [("Intent", t.get("intent", 0), "Parsing: genres, negation, era, titles, zero-shot genres"
              + (" — including the LLM call" if llm_ms else ""))]
    if llm_ms:
        tiles.append(("LLM call", llm_ms, "Waiting for the generative LLM's answer (part of Intent)"))
    tiles += [("Relevance", t.get("encode", 0) + t.get("relevance", 0), "Encoding the request and scoring r"),
              ("CF fold-in", t.get("cf", 0), "ALS fold-in of the pseudo-history and scoring s"),
              ("Blend + explain", t.get("blend", 0) + t.get("explain", 0), "Normalising, blending, explaining"),
              ("Total", t.get("total", 0), "The whole pipeline for this request")]
    for col, (label, ms, tip) in zip(st.columns(len(tiles)), tiles):
        col.metric(label, h.fmt_ms(ms), help=tip, border=True)


# ----------------------------------------------------------------------------- callbacks
def _react(movie_id: int, kind: str) -> None:
    """👍 / 👎 / seen on a card: update this session's profile, rerun what changed."""
    session = ui.current_live()
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
    ui.record_run(f"{h.REACTION_NAMES[kind].lower()} · {step.label}", session.result.timings)
    st.rerun(LIVE_FRAGMENTS)


def _reset() -> None:
    session = ui.current_live()
    if session is None:
        return
    session.reset()
    session.previous_interest = None
    session.last_reaction = {}
    ui.record_run("reset", session.result.timings)
    st.rerun(LIVE_FRAGMENTS)


def _adapter_toggled() -> None:
    session = ui.current_live()
    if session is None:
        return
    session.use_adapter = bool(st.session_state.get("use_adapter", True))
    session.refresh()
    ui.record_run(f"adapter {'on' if session.use_adapter else 'off'}", session.result.timings)
    st.rerun(LIVE_FRAGMENTS)


def _rerank_toggled() -> None:
    st.session_state.pop("_rerank_cache", None)
    st.rerun(["blend", "latency"])


# ----------------------------------------------------------------------------- stage 2
@st.fragment(key="stage2")
def stage2_view() -> None:
    """Relevance r: reruns with each reaction (the "Reactions" term) and the adapter toggle."""
    session = ui.current_live()
    if session is None:
        return
    rec = session.recommender
    cat = rec.catalogue
    rel = session.result.relevance
    top_n = 15
    cands = rel.candidates
    n_cands = len(cands)
    adapter_term = rel.components.get("adapter")
    shaped = adapter_term is not None and bool(np.any(np.abs(np.asarray(adapter_term)) > 1e-9))
    aside = h.badge("r shaped by the trained adapter", "good") if shaped else ""
    ui.md(h.stage_heading(2, "LLM-scored candidates",
                          f"Relevance r of every movie to your request; the top {n_cands} go on to the blend",
                          aside=aside))
    if rec.adapter is not None:
        with st.container(horizontal=True, vertical_alignment="center", key="adapter_row", gap="medium", wrap=False):
            st.toggle("Trained adapter in r", key="use_adapter", value=True, on_change=_adapter_toggled,
                      help="Compare r with and without the trained adapter (a learned term of r: "
                           f"λ = {rec.adapter.weight:g}). Off: r is the text-only score.")
            if shaped:
                entered, left_out = top_changes(rel.r, np.asarray(rel.r) - np.asarray(adapter_term), top_n,
                                                rel.excluded)
                if entered:
                    names = ", ".join(cat.label(i) for i in entered[:3]) + ("…" if len(entered) > 3 else "")
                    note = (f"The adapter brought {len(entered)} of the top {top_n} in ({names}) and pushed "
                            f"{len(left_out)} out.")
                else:
                    note = f"The adapter re-orders the top {top_n} without changing which movies are in it."
            else:
                note = "Switched off: r is the text-only score. Switch it on to see what the adapter adds."
            st.caption(note)
    if session.reactions:
        n = len(session.reactions)
        st.caption(f"{'Your reaction is' if n == 1 else f'Your {n} reactions are'} part of r: movies you liked act "
                   "as named titles, and the Reactions term lifts or lowers genres.")
    left_col, right_col = st.columns([1, 1], gap="large")
    with left_col:
        idx = [int(i) for i in cands[:top_n]]
        comps = {name: np.asarray(values)[idx] for name, values in rel.components.items()}
        fig = charts.relevance_bar([cat.label(i) for i in idx], comps, rel.r[idx])
        ui.md(h.keyline(charts.legend_items(fig)))
        st.plotly_chart(fig, config={"displayModeBar": False}, key="relevance_bar", theme=None)
    with right_col:
        idx = [int(i) for i in cands[:50]]
        comps = rel.components
        penalty_terms = ("era", "disliked_genres", "disliked_keywords", "disliked_titles")
        boosts = sum((np.asarray(comps[c])[idx] for c in comps if c not in ("similarity", *penalty_terms)),
                     np.zeros(len(idx)))
        penalties = sum((np.asarray(comps[c])[idx] for c in penalty_terms if c in comps), np.zeros(len(idx)))
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
                "movie": st.column_config.TextColumn("Movie", width=195),
                "genres": st.column_config.TextColumn("Genres", width=135),
                "r": st.column_config.ProgressColumn("Relevance r", format="%.3f", min_value=0.0,
                                                     max_value=float(max(1e-6, table["r"].max())), width=100),
            })
        # After a reaction this fragment reruns last (LIVE_FRAGMENTS): note when the page settled
        # (read by the speed bench; not shown).
        settled = ""
        if "started" in session.last_reaction:
            ms = (time.perf_counter() - session.last_reaction.pop("started")) * 1000
            settled = f'<span class="fr-hidden" id="react-all-timing" data-ms="{ms:.1f}"></span>'
        st.caption(f"Top 50 of {n_cands} candidates by r, the weighted sum of the terms in the chart "
                   "(similarity, named titles, liked genres and keywords, minus era and dislike penalties"
                   + (", plus the trained adapter" if shaped else "") + ")." + settled, unsafe_allow_html=True)


# ----------------------------------------------------------------------------- stages 3-4 (weights, reactions)
def _change_color(value: str) -> str:
    if value.startswith("▲"):
        return "color: #15803D; font-weight: 600"
    if value.startswith(("▼", "✕")):
        return "color: #B91C1C; font-weight: 600"
    if value.startswith("★"):
        return "color: #0F766E; font-weight: 700"
    return "color: #6B7085"


def _rerank(backend: Any, session: Any, items: list[Any]) -> Any:
    """The library's LLM rerank of ``items`` (:func:`recsys.rerank.rerank_items`, which keeps
    its own time budget), cached per list in this session: ``(items, outcome)``."""
    from recsys.rerank import rerank_items

    key = (backend.describe(), session.text, tuple(item.index for item in items))
    cache = st.session_state.setdefault("_rerank_cache", {})
    if key not in cache:
        with st.spinner(f"Asking the LLM to re-order the top {len(items)} (budget {RERANK_BUDGET:.0f} s)…"):
            cache[key] = rerank_items(backend, session.text, items, top=len(items),
                                      budget_seconds=RERANK_BUDGET)
        ui.add_rerank_time(cache[key][1].latency_ms)
    return cache[key]


def _live_panel(session: Any, sliders: tuple[float, float, float], effective: tuple[float, float, float],
                auto: bool) -> None:
    """"Your taste, live": reactions so far, auto weights, the interest distribution, history, reset."""
    ui.md('<div class="fr-live-head"><div class="fr-live-title">Your taste, live</div>'
          '<div class="fr-live-sub">From your words and your reactions — this browser session only, never '
          'stored.</div></div>' + h.reaction_counts(len(session.liked), len(session.disliked), len(session.seen)))
    st.toggle("Auto weights", key="auto_weights", help=AUTO_HELP)
    if auto:
        n = len(session.liked)
        ui.md(h.mix_bar(effective) + f'<div class="fr-auto-note">In use: <b>{h.esc(h.weights_line(effective))}</b> '
              f'after {n} liked movie{"" if n == 1 else "s"} · sliders {h.esc(h.weights_line(sliders))}</div>')
    else:
        st.caption("Off: the sidebar sliders set the weights. On: CF counts more with every movie you like.")
    interest = session.interest()
    before = session.previous_interest
    genres_tab, decades_tab = st.tabs(["Genres", "Decades"])
    with genres_tab:
        st.plotly_chart(charts.interest_distribution(interest.genres, before.genres if before else None,
                                                     avoided=session.base_intent.disliked_genres),
                        config={"displayModeBar": False}, key="interest_genres", theme=None)
    with decades_tab:
        st.plotly_chart(charts.interest_distribution(interest.decades, before.decades if before else None,
                                                     by="name"),
                        config={"displayModeBar": False}, key="interest_decades", theme=None)
    st.caption("Share of your estimated interest" + (" · dark ticks: before your last reaction" if before else "")
               + ".")
    ui.md('<div class="fr-subhead">What each reaction changed</div>' + h.history_list(session.history))
    st.button("Reset reactions", key="reset_reactions", icon=":material/restart_alt:", on_click=_reset,
              disabled=not session.reactions, width="stretch",
              help="Forget every reaction and go back to the list for your words alone.")


def _stage3(final: Any, k: int, weights: tuple[float, float, float], cat: Any) -> None:
    """CF adjustments: the final list against the same blend without CF."""
    alpha, beta, gamma = weights
    ui.md(h.stage_heading(3, "CF adjustments",
                          "The final list against the same blend without CF (β = 0): what CF promoted, "
                          "demoted and injected"))
    if beta == 0:
        st.info("β is 0, so collaborative filtering is switched off and changes nothing. Move the β slider "
                "to see what it adds.", icon=":material/info:")
    without = final.reblend((alpha, 0.0, gamma), k, explain=False) if alpha + gamma > 0 else None
    if without is not None:
        changes = cf_adjustments(without.blend.ranking, final.blend.ranking, final.relevance.candidates, k)
    else:
        changes = cf_adjustments(final.ranking("llm", len(final.pool)), final.blend.ranking,
                                 final.relevance.candidates, k)
    counts = summarise_changes(changes)
    tiles = st.columns(5)
    tiles[0].metric("Promoted", counts["promoted"], help="Moved up in the top k thanks to CF", border=True)
    tiles[1].metric("Injected by CF", counts["injected"],
                    help="In the final list but not among the LLM candidates: CF brought them in", border=True)
    tiles[2].metric("Demoted", counts["demoted"], help="Moved down within the top k", border=True)
    tiles[3].metric("Dropped out", counts["dropped"], help="In the top k without CF, pushed out by it",
                    border=True)
    tiles[4].metric("Seeds folded in", len(final.seeds),
                    help="Pseudo-history items folded into the ALS model for this new user", border=True)
    left, right = st.columns([1.05, 1], gap="large")
    with left:
        rows = []
        for ch in changes:
            if ch.kind == "same":
                change = "= same"
            elif ch.kind == "injected":
                change = "★ new, from CF"
            elif ch.kind == "dropped":
                change = "✕ dropped out"
            else:
                change = f"▲ {ch.delta}" if (ch.delta or 0) > 0 else f"▼ {-(ch.delta or 0)}"
            rows.append({"movie": cat.label(ch.item), "change": change,
                         "without": ch.rank_before, "with": ch.rank_after})
        frame = pd.DataFrame(rows, columns=["movie", "change", "without", "with"])
        styled = frame.style.map(_change_color, subset=["change"])
        st.dataframe(styled, hide_index=True, key="cf_table", height=min(38 + 35 * max(len(frame), 1), 456),
                     column_config={
                         "movie": st.column_config.TextColumn("Movie", width=200),
                         "change": st.column_config.TextColumn("Effect of CF", width=112),
                         "without": st.column_config.NumberColumn("Rank w/o CF", format="%d", width=86,
                                                                  help="Rank under the same weights with β = 0"),
                         "with": st.column_config.NumberColumn("Rank", format="%d", width=56,
                                                               help="Rank in the final list"),
                     })
    with right:
        pool = np.asarray(final.pool)
        top = {int(i) for i in final.blend.ranking[:k]}
        llm = {int(i) for i in final.relevance.candidates}
        groups = ["injected" if (int(i) in top and int(i) not in llm) else "final" if int(i) in top
                  else "llm" if int(i) in llm else "cf" for i in pool]
        fig = charts.score_scatter(final.r_hat[pool], final.s_hat[pool], [cat.label(int(i)) for i in pool],
                                   groups, weights=(alpha, beta, gamma))
        ui.md(h.keyline(charts.legend_items(fig)))
        st.plotly_chart(fig, config={"displayModeBar": False}, key="score_scatter", theme=None)
    with st.expander(f"Pseudo-history folded into CF ({len(final.seeds)} seeds)", icon=":material/history:"):
        seeds = pd.DataFrame([{"movie": cat.label(s.item), "confidence": float(s.confidence), "why": s.reason}
                              for s in final.seeds], columns=["movie", "confidence", "why"])
        st.dataframe(seeds, hide_index=True, key="seed_table", column_config={
            "movie": st.column_config.TextColumn("Movie"),
            "confidence": st.column_config.NumberColumn("Confidence c", format="%+.2f",
                                                        help="negative = a movie you rejected"),
            "why": st.column_config.TextColumn("Why it is in the history", width="large")})



@st.fragment(key="blend")
def blend_view() -> None:
    """CF adjustments, the final list and the live panel: rerun alone when a weight slider
    moves, a toggle flips or a card gets a reaction."""
    started = time.perf_counter()
    session = ui.current_live()
    if session is None:
        return
    problem = st.session_state.pop("_reaction_problem", None)
    if problem:
        st.warning(problem, icon=":material/warning:")
    sliders = ui.weights()
    if not blocks.weights_ok(sliders, heading=h.stage_heading(3, "CF adjustments",
                                                              "What collaborative filtering changed")):
        return
    cat = session.recommender.catalogue
    k = ui.current_k()
    auto = bool(st.session_state.get("auto_weights", False))
    t0 = time.perf_counter()
    session.apply(sliders, k, auto)
    reblend_ms = (time.perf_counter() - t0) * 1000
    final = session.result
    alpha, beta, gamma = effective = session.effective_weights.as_tuple()

    # Stage 3 sits above the list but is drawn after it: after a reaction the list the user is
    # looking at updates first.
    stage3_box = st.container()

    # ---- stage 4
    backend = ui.llm_backend()
    rerank_on = bool(st.session_state.get("llm_rerank")) and backend is not None
    items = list(final.items)
    outcome = None
    badges = []
    if auto:
        badges.append(h.badge("auto weights", "accent"))
    ui.md(h.stage_heading(4, "Final list",
                          f"final = {alpha:.2f}·r̂ + {beta:.2f}·ŝ + {gamma:.2f}·b̂ — your top {k}",
                          aside="".join(badges)))
    ui.md(h.keyline([("LLM relevance α·r̂", h.SIGNAL_COLORS["r"]), ("collaborative filtering β·ŝ", h.SIGNAL_COLORS["s"]),
                     ("popularity prior γ·b̂", h.SIGNAL_COLORS["b"])], extra="bar length = score out of α + β + γ"))
    list_col, panel_col = st.columns([2.15, 1], gap="large")
    with list_col:
        m = min(len(items), RERANK_MAX)
        with st.container(horizontal=True, vertical_alignment="center", key="rerank_row", gap="medium", wrap=False):
            st.toggle("LLM rerank", key="llm_rerank", disabled=backend is None,
                      on_change=_rerank_toggled,
                      help=("Asks the generative LLM to re-order the top of the list for your words, within a "
                            f"{RERANK_BUDGET:.0f} s budget; if it fails or runs out of time the blend order stays.")
                      if backend is not None else
                      "Needs a generative LLM: " + ui.NOT_CONFIGURED_HELP)
            note = st.empty()
            if backend is None:
                note.caption("Needs a generative LLM — see Language model in the sidebar.")
            elif not rerank_on:
                note.caption(f"Off: the blend decides the order. On: the LLM re-orders the top {m} "
                             f"(time budget {RERANK_BUDGET:.0f} s).")
        if rerank_on and items:
            head, outcome = _rerank(backend, session, items[:m])
            if outcome.used_llm:
                items = head + items[m:]
                note.caption(f"Re-ordered by the LLM in {h.fmt_ms(outcome.latency_ms)} · a card that moved shows "
                             "its blend rank.")
            else:
                note.caption("The blend order stays.")
                st.info(f"The LLM rerank was not used — {outcome.fallback_reason}. The list keeps the blend "
                        "order.", icon=":material/info:")
        if not items:
            ui.md(h.empty_state("Nothing left to recommend",
                                "Every candidate was excluded by what you asked to avoid or marked as seen. "
                                "Remove a dislike, or reset your reactions."))
        weight_sum = alpha + beta + gamma
        per_row = 2
        for row_start in range(0, len(items), per_row):
            cols = st.columns(per_row, gap="medium")
            for offset, (col, item) in enumerate(zip(cols, items[row_start:row_start + per_row])):
                rank = row_start + offset + 1
                card = h.CardData(rank=rank, title=cat.display_titles[item.index], year=item.year,
                                  genres=tuple(item.genres), score=item.score,
                                  contributions=tuple(item.contributions),  # type: ignore[arg-type]
                                  reasons=tuple((r.kind, r.text) for r in item.reasons),
                                  llm_rank=item.llm_rank, cf_rank=item.cf_rank, movie_id=item.movie_id,
                                  blend_rank=item.rank if outcome is not None and outcome.used_llm else None,
                                  poster_url=item.poster_url)
                mid = item.movie_id
                with col, st.container(border=True, key=f"card-{rank}"):
                    ui.md(h.movie_card(card, weight_sum=weight_sum))
                    with st.container(horizontal=True, key=f"react-{mid}", gap=None):
                        st.button("", key=f"like-{mid}", icon=":material/thumb_up:", type="tertiary",
                                  help="More like this (👍)", on_click=_react, args=(mid, "like"))
                        st.button("", key=f"dislike-{mid}", icon=":material/thumb_down:", type="tertiary",
                                  help="Not for me (👎)", on_click=_react, args=(mid, "dislike"))
                        st.button("Seen", key=f"seen-{mid}", icon=":material/visibility:", type="tertiary",
                                  help="Seen it — don't show it again", on_click=_react, args=(mid, "seen"))
    reaction = session.last_reaction
    if "started" in reaction:
        reaction["list_ms"] = (time.perf_counter() - reaction["started"]) * 1000
    # The panel beside the list is drawn after it: a reaction's new list goes out first.
    with panel_col, st.container(key="live_panel"):
        _live_panel(session, sliders, effective, auto)
    with stage3_box:
        _stage3(final, k, effective, cat)
    with st.expander("Score breakdown chart", icon=":material/bar_chart:"):
        labels = [item.label for item in final.items]
        st.plotly_chart(charts.contribution_bar(labels, [it.contributions[0] for it in final.items],
                                                [it.contributions[1] for it in final.items],
                                                [it.contributions[2] for it in final.items]),
                        config={"displayModeBar": False}, key="contribution_bar", theme=None)
    foot = st.columns([1.2, 4], vertical_alignment="center")
    csv = pd.DataFrame([{"rank": n, "movie_id": it.movie_id, "title": it.label, "genres": "|".join(it.genres),
                         "score": round(it.score, 4), "alpha_r": round(it.contributions[0], 4),
                         "beta_s": round(it.contributions[1], 4), "gamma_b": round(it.contributions[2], 4),
                         "why": it.explanation} for n, it in enumerate(items, 1)]).to_csv(index=False)
    foot[0].download_button("Download the list (CSV)", csv, file_name="firstreel-recommendations.csv",
                            mime="text/csv", icon=":material/download:", key="download_list", on_click="ignore")
    total_ms = (time.perf_counter() - started) * 1000
    timing = (f'<div class="fr-timing" id="blend-timing">Re-blended in {reblend_ms:.1f} ms · stages 3–4 '
              f'rendered in {total_ms:.0f} ms (server)</div>')
    if "started" in reaction:
        reaction["page_ms"] = (time.perf_counter() - reaction["started"]) * 1000
    if "page_ms" in reaction:
        timing += (f'<div class="fr-timing" id="react-timing">Last reaction: engine {reaction["engine_ms"]:.0f} ms '
                   f'· list updated in {reaction["list_ms"]:.0f} ms · stages 3–4 done in {reaction["page_ms"]:.0f} ms '
                   '(server)</div>')
    ui.md(timing)


page()
