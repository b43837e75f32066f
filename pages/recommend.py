"""Recommend — the new-user playground: a request in, the four stages and a final list out."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from pages import _html as h
from pages import _ui as ui
from recsys import charts
from recsys.compare import cf_adjustments, summarise_changes
from recsys.intent import InvalidRequestError

K_OPTIONS = [5, 10, 15, 20, 30, 50]


@st.cache_resource(show_spinner=False)
def _movie_options(_rec: Any, engine_key: str) -> tuple[list[int], dict[int, str]]:
    """Movie ids for the pickers, most-rated first, and their labels."""
    cat = _rec.catalogue
    order = np.argsort(-cat.n_ratings, kind="stable")
    ids = [int(cat.movie_ids[i]) for i in order]
    labels = {int(cat.movie_ids[i]): cat.label(int(i)) for i in order}
    return ids, labels


def _use_example() -> None:
    """An example chip was clicked: it becomes the request (and runs at once)."""
    label = st.session_state.get("example_pick")
    for prompt in ui.example_prompts():
        if prompt.get("label") == label:
            st.session_state["request_text"] = prompt["text"]
            break
    st.session_state["example_pick"] = None


# ----------------------------------------------------------------------------- request box
ui.md(h.page_intro(
    "What do you feel like watching?",
    "Describe it in your own words — English or 中文. No account, no history: every step from "
    "your sentence to the list is shown below.", eyebrow="Recommend"))

rec = ui.engine(wait=False)
examples = ui.example_prompts()

with st.container(border=True, key="request_box"):
    st.text_area(
        "Your request", key="request_text", height=92, max_chars=2000, persist_state="session",
        placeholder="e.g. mind-bending sci-fi like Inception, nothing gory, 90s is fine",
        label_visibility="collapsed")
    if examples:
        st.pills("Try an example", [p["label"] for p in examples], key="example_pick",
                 on_change=_use_example, label_visibility="visible")
    col_refine, col_k, col_go = st.columns([6, 2.2, 1.6], vertical_alignment="bottom", gap="medium")
    with col_refine:
        n_picked = len(st.session_state.get("liked_movies") or ()) + len(st.session_state.get("disliked_movies") or ())
        refine = st.expander(f"Movies you already know ({n_picked} picked)" if n_picked else
                             "Movies you already know (optional)", icon=":material/movie:", key="refine_open",
                             on_change="rerun")
        with refine:
            # 9,742 titles per picker: only sent to the browser while the panel is open.
            if refine.open:
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
    with col_k:
        st.select_slider("List length", K_OPTIONS, value=10, key="k", persist_state="session")
    with col_go:
        go = st.button("Recommend", key="go", type="primary", icon=":material/auto_awesome:", width="stretch")

text = (st.session_state.get("request_text") or "").strip()
liked = tuple(int(m) for m in st.session_state.get("liked_movies") or ())
disliked = tuple(int(m) for m in st.session_state.get("disliked_movies") or ())

if not text:
    if go:
        st.warning("Tell us what you'd like to watch first — a genre, a mood, a movie you loved, or pick "
                   "one of the examples above.", icon=":material/edit_note:")
    ui.md(h.how_it_works())
    ui.md(h.empty_state("Your recommendations will appear here",
                        "Type a request above or click an example. Try a negation (“no horror”), an era "
                        "(“90s”) or a title you loved — then watch each stage react."))
    if rec is None:
        ui.engine()          # shows the warm-up progress; then draw the page again, ready
        st.rerun()
    st.stop()

if rec is None:
    rec = ui.engine()        # progress bar while the models load (first start builds the index)

# ----------------------------------------------------------------------------- stage 1
try:
    intent = ui.parse(rec, text)
except InvalidRequestError as exc:
    st.warning(str(exc), icon=":material/edit_note:")
    st.stop()
except Exception as exc:  # noqa: BLE001 - never a traceback in the UI
    st.error(f"Sorry — the request could not be understood ({type(exc).__name__}). Try rephrasing it.",
             icon=":material/error:")
    st.stop()

ui.set_current_request(text, liked, disliked)
cat = rec.catalogue
stepper_slot = st.empty()
timing_slot = st.container()

parsed_by = "built-in rules" if intent.parser == "builtin" else f"LLM · {intent.parser}"
ui.md(h.stage_heading(1, "Parsed intent", "What the parser understood from your words",
                      aside=h.badge(f"parsed by {parsed_by}")))
for warning in intent.warnings:
    st.warning(warning, icon=":material/content_cut:")
if intent.fallback_reason:
    st.info(f"The generative LLM parser was not used ({intent.fallback_reason}); the built-in parser "
            "answered instead.", icon=":material/info:")

spans = [h.Span(a.start, a.end, a.kind, a.label, a.negated) for a in intent.annotations]
left, right = st.columns([3.2, 2], gap="large")
with left:
    ui.md(f'<div class="fr-quote">{h.highlight(intent.text, spans)}</div>{h.legend()}')
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
    if liked or disliked:
        picked = [h.chip(cat.label(i), "like") for i in cat.indices(list(liked))]
        picked += [h.chip(cat.label(i), "dislike") for i in cat.indices(list(disliked))]
        rows.append(h.chip_row("Picked", picked))
    ui.md('<div class="fr-chips">' + "".join(rows) + "</div>")
    if intent.query_text and intent.query_text != intent.text:
        ui.md(f'<div class="fr-query">What the encoder reads: <em>{h.esc(intent.query_text)}</em></div>')
with right:
    ui.md('<div class="fr-subhead">Genre interest</div>')
    st.plotly_chart(charts.genre_interest_bar(intent.genre_affinity, liked=intent.liked_genres,
                                              disliked=intent.disliked_genres),
                    config={"displayModeBar": False}, key="genre_interest", theme=None)
    st.caption("Zero-shot estimate from the request's embedding; green = asked for, red = avoided.")

# ----------------------------------------------------------------------------- stages 2-4 (computed)
try:
    with st.spinner(f"Scoring {len(cat):,} movies…"):
        result = ui.stages(rec, text, liked, disliked)
except InvalidRequestError as exc:
    st.warning(str(exc), icon=":material/edit_note:")
    st.stop()
except Exception as exc:  # noqa: BLE001
    st.error(f"Sorry — something went wrong while scoring ({type(exc).__name__}: {exc}). Try again, or "
             "rephrase the request.", icon=":material/error:")
    st.stop()

t = result.timings
n_candidates = len(result.relevance.candidates)
summary = [*intent.liked_genres[:2], *(f"no {g}" for g in intent.disliked_genres[:1])]
if intent.era:
    summary.append(intent.era.label or "era")
if intent.titles:
    summary.append(f"{len(intent.titles)} title{'s' if len(intent.titles) > 1 else ''}")
stepper_slot.markdown(h.stepper([
    h.Step("Parsed intent", " · ".join(summary) or "free text only"),
    h.Step("LLM-scored candidates", f"{len(cat):,} movies scored, top {n_candidates} kept"),
    h.Step("CF adjustments", f"{len(result.seeds)} seeds folded into ALS"),
    h.Step("Final list", "α·r̂ + β·ŝ + γ·b̂, explained"),
]), unsafe_allow_html=True)
with timing_slot:
    cols = st.columns(5)
    tiles = [("Intent", t.get("intent", 0), "Parsing: genres, negation, era, titles, zero-shot genres"),
             ("LLM scores", t.get("encode", 0) + t.get("llm_scores", 0), "Encoding the request and scoring r"),
             ("CF fold-in", t.get("cf", 0), "ALS fold-in of the pseudo-history and scoring s"),
             ("Blend + explain", t.get("blend", 0) + t.get("explain", 0), "Normalising, blending, explaining"),
             ("Total", t.get("total", 0), "The whole pipeline for this request (first run)")]
    for col, (label, ms, tip) in zip(cols, tiles):
        col.metric(label, h.fmt_ms(ms), help=tip, border=True)

# ----------------------------------------------------------------------------- stage 2
top_n = 15
cands = result.relevance.candidates
ui.md(h.stage_heading(2, "LLM-scored candidates",
                      f"Relevance r of every movie to your request; the top {n_candidates} go on to the blend"))
left, right = st.columns([1, 1], gap="large")
with left:
    idx = [int(i) for i in cands[:top_n]]
    comps = {name: np.asarray(values)[idx] for name, values in result.relevance.components.items()}
    fig = charts.relevance_bar([cat.label(i) for i in idx], comps, result.relevance.r[idx])
    ui.md(h.keyline(charts.legend_items(fig)))
    st.plotly_chart(fig, config={"displayModeBar": False}, key="relevance_bar", theme=None)
with right:
    idx = [int(i) for i in cands[:50]]
    comps = result.relevance.components
    boosts = sum((np.asarray(comps[c])[idx] for c in comps
                  if c not in ("similarity", "era", "disliked_genres", "disliked_keywords", "disliked_titles")),
                 np.zeros(len(idx)))
    penalties = sum((np.asarray(comps[c])[idx] for c in ("era", "disliked_genres", "disliked_keywords",
                                                          "disliked_titles") if c in comps), np.zeros(len(idx)))
    table = pd.DataFrame({
        "rank": range(1, len(idx) + 1),
        "movie": [cat.label(i) for i in idx],
        "genres": [", ".join(cat.genres[i]) for i in idx],
        "r": result.relevance.r[idx].astype(float),
        "similarity": result.relevance.similarity[idx].astype(float),
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
    st.caption(f"Top 50 of {n_candidates} candidates by r, the weighted sum of the terms in the chart "
               "(similarity, named titles, liked genres and keywords, minus era and dislike penalties).")


# ----------------------------------------------------------------------------- stages 3-4 (weights)
def _change_color(value: str) -> str:
    if value.startswith("▲"):
        return "color: #15803D; font-weight: 600"
    if value.startswith(("▼", "✕")):
        return "color: #B91C1C; font-weight: 600"
    if value.startswith("★"):
        return "color: #0F766E; font-weight: 700"
    return "color: #6B7085"


@st.fragment(key="blend")
def blend_view() -> None:
    """CF adjustments and the final list: rerun alone when a weight slider moves."""
    started = time.perf_counter()
    alpha, beta, gamma = ui.weights()
    if alpha + beta + gamma <= 0:
        ui.md(h.stage_heading(3, "CF adjustments", "What collaborative filtering changed"))
        st.warning("All three blend weights are 0 — move at least one slider in the sidebar above 0.",
                   icon=":material/balance:")
        return
    k = ui.current_k()
    t0 = time.perf_counter()
    final = result.reblend((alpha, beta, gamma), k)
    reblend_ms = (time.perf_counter() - t0) * 1000

    # ---- stage 3
    ui.md(h.stage_heading(3, "CF adjustments",
                          "The final list against the same blend without CF (β = 0): what CF promoted, "
                          "demoted and injected"))
    if beta == 0:
        st.info("β is 0, so collaborative filtering is switched off and changes nothing. Move the β slider "
                "to see what it adds.", icon=":material/info:")
    without = result.reblend((alpha, 0.0, gamma), k, explain=False) if alpha + gamma > 0 else None
    if without is not None:
        changes = cf_adjustments(without.blend.ranking, final.blend.ranking, result.relevance.candidates, k)
    else:
        changes = cf_adjustments(result.ranking("llm", len(result.pool)), final.blend.ranking,
                                 result.relevance.candidates, k)
    counts = summarise_changes(changes)
    tiles = st.columns(5)
    tiles[0].metric("Promoted", counts["promoted"], help="Moved up in the top k thanks to CF", border=True)
    tiles[1].metric("Injected by CF", counts["injected"],
                    help="In the final list but not among the LLM candidates: CF brought them in", border=True)
    tiles[2].metric("Demoted", counts["demoted"], help="Moved down within the top k", border=True)
    tiles[3].metric("Dropped out", counts["dropped"], help="In the top k without CF, pushed out by it",
                    border=True)
    tiles[4].metric("Seeds folded in", len(result.seeds),
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
        pool = np.asarray(result.pool)
        top = {int(i) for i in final.blend.ranking[:k]}
        llm = {int(i) for i in result.relevance.candidates}
        groups = ["injected" if (int(i) in top and int(i) not in llm) else "final" if int(i) in top
                  else "llm" if int(i) in llm else "cf" for i in pool]
        fig = charts.score_scatter(result.r_hat[pool], result.s_hat[pool], [cat.label(int(i)) for i in pool],
                                   groups, weights=(alpha, beta, gamma))
        ui.md(h.keyline(charts.legend_items(fig)))
        st.plotly_chart(fig, config={"displayModeBar": False}, key="score_scatter", theme=None)
    with st.expander(f"Pseudo-history folded into CF ({len(result.seeds)} seeds)", icon=":material/history:"):
        seeds = pd.DataFrame([{"movie": cat.label(s.item), "confidence": float(s.confidence), "why": s.reason}
                              for s in result.seeds], columns=["movie", "confidence", "why"])
        st.dataframe(seeds, hide_index=True, key="seed_table", column_config={
            "movie": st.column_config.TextColumn("Movie"),
            "confidence": st.column_config.NumberColumn("Confidence c", format="%+.2f",
                                                        help="negative = a movie you rejected"),
            "why": st.column_config.TextColumn("Why it is in the history", width="large")})

    # ---- stage 4
    ui.md(h.stage_heading(4, "Final list",
                          f"final = {alpha:.2f}·r̂ + {beta:.2f}·ŝ + {gamma:.2f}·b̂ — your top {k}"))
    ui.md(h.keyline([("LLM relevance α·r̂", h.SIGNAL_COLORS["r"]), ("collaborative filtering β·ŝ", h.SIGNAL_COLORS["s"]),
                     ("popularity prior γ·b̂", h.SIGNAL_COLORS["b"])], extra="bar length = score out of α + β + γ"))
    if not final.items:
        ui.md(h.empty_state("Nothing left to recommend",
                            "Every candidate was excluded by what you asked to avoid. Remove a dislike and "
                            "try again."))
        return
    per_row = 3
    weight_sum = alpha + beta + gamma
    for row_start in range(0, len(final.items), per_row):
        cols = st.columns(per_row, gap="medium")
        for col, item in zip(cols, final.items[row_start:row_start + per_row]):
            card = h.CardData(rank=item.rank, title=cat.display_titles[item.index], year=item.year,
                              genres=tuple(item.genres), score=item.score,
                              contributions=tuple(item.contributions),  # type: ignore[arg-type]
                              reasons=tuple((r.kind, r.text) for r in item.reasons),
                              llm_rank=item.llm_rank, cf_rank=item.cf_rank, movie_id=item.movie_id)
            with col, st.container(border=True, key=f"card-{item.rank}"):
                ui.md(h.movie_card(card, weight_sum=weight_sum))
                # 👍 / 👎 reactions go here (later issue): the card keeps a slot for them.
    with st.expander("Score breakdown chart", icon=":material/bar_chart:"):
        labels = [item.label for item in final.items]
        st.plotly_chart(charts.contribution_bar(labels, [it.contributions[0] for it in final.items],
                                                [it.contributions[1] for it in final.items],
                                                [it.contributions[2] for it in final.items]),
                        config={"displayModeBar": False}, key="contribution_bar", theme=None)
    foot = st.columns([1.2, 4], vertical_alignment="center")
    csv = pd.DataFrame([{"rank": it.rank, "movie_id": it.movie_id, "title": it.label, "genres": "|".join(it.genres),
                         "score": round(it.score, 4), "alpha_r": round(it.contributions[0], 4),
                         "beta_s": round(it.contributions[1], 4), "gamma_b": round(it.contributions[2], 4),
                         "why": it.explanation} for it in final.items]).to_csv(index=False)
    foot[0].download_button("Download the list (CSV)", csv, file_name="firstreel-recommendations.csv",
                            mime="text/csv", icon=":material/download:", key="download_list", on_click="ignore")
    total_ms = (time.perf_counter() - started) * 1000
    ui.md(f'<div class="fr-timing" id="blend-timing">Re-blended in {reblend_ms:.1f} ms · stages 3–4 '
          f'rendered in {total_ms:.0f} ms (server)</div>')


ui.register_weight_fragment("blend")
blend_view()
st.page_link(ui.PAGES["compare"], label="See how this list compares with the baselines", icon=":material/compare_arrows:")
