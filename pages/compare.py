"""Compare — the current request ranked five ways, a scorecard, the ReDial benchmark and the
warm-up curves (quality after n reactions)."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from recsys import charts
from recsys.compare import (
    SYSTEMS,
    WARMUP_METRIC,
    evaluation_subsets,
    evaluation_table,
    is_warmup,
    list_measures,
    metric_label,
    overlap_matrix,
    read_evaluation,
    system_label,
    system_short,
    warmup_curves,
)
from recsys.evaluation.metrics import coverage, era_bounds
from ui import blocks, loader, requests
from ui import components as h
from ui import figures
from ui import language_model as lm
from ui import state as ui
from ui.words import words

logger = logging.getLogger(__name__)
WARMUP_FILE = "evaluation-warmup.json"


@st.cache_resource(show_spinner=False, max_entries=64)
def _prompt_lists(_rec: Any, engine_key: str, weights: tuple[float, float, float], k: int,
                  use_adapter: bool) -> dict[str, list[list[int]]]:
    """Each system's top-k for every example prompt (for catalogue coverage), parsed by the
    built-in rules: a dozen requests must never wait for a generative LLM."""
    out: dict[str, list[list[int]]] = {s: [] for s in SYSTEMS}
    for prompt in ui.example_prompts():
        try:
            result = requests.stages(_rec, prompt["text"], use_adapter=use_adapter, state=lm.builtin_state(_rec))
        except Exception:  # noqa: BLE001 - an odd prompt just does not count
            logger.info("example prompt skipped: %r", prompt.get("label"))
            continue
        blend = result.reblend(weights, k, explain=False)
        for system in SYSTEMS:
            ranking = blend.blend.ranking[:k] if system == "blend" else result.ranking(system, k)
            out[system].append([int(i) for i in ranking])
    return out


@st.cache_data(show_spinner=False)
def _evaluation_files(folder: str, stamp: tuple[tuple[str, float], ...]) -> list[tuple[str, dict[str, Any] | str]]:
    """``(file name, data or error message)`` for every evaluation-*.json (stamp = mtimes)."""
    out: list[tuple[str, dict[str, Any] | str]] = []
    for name, _ in stamp:
        try:
            out.append((name, read_evaluation(Path(folder) / name)))
        except (OSError, ValueError) as exc:
            out.append((name, str(exc)))
    return out


def page() -> None:
    """The current request ranked five ways (or example chips), then the ReDial benchmark and
    the warm-up curves."""
    ui.md(h.page_intro(
        "How does the blend stack up?",
        "The same request ranked five ways — a random cold start, plain popularity, relevance to your words "
        "alone, collaborative filtering alone, and the blend — then the benchmark on real typed requests.",
        eyebrow="Compare"))
    request = requests.current_request()
    rec = loader.engine()
    if request is None:
        nothing_to_compare()
    else:
        request_section(rec, request)
    if rec is not None and not words(rec).movies:
        st.caption("The benchmarks below this point were measured on MovieLens; they are shown when "
                   "the app runs on MovieLens.")
        return
    loaded = evaluation_files()
    benchmark_section([(n, d) for n, d in loaded if not _warm(n, d)])
    warmups = [(n, d) for n, d in loaded if _warm(n, d)]
    warmup_section(next((d for n, d in warmups if n == WARMUP_FILE), warmups[0][1] if warmups else None))


def nothing_to_compare() -> None:
    """No request yet: an empty state and the example requests."""
    ui.md(h.empty_state("Nothing to compare yet",
                        "Run a request on the Recommend page, or pick an example here to see it ranked five "
                        "ways."))
    blocks.example_chips("Pick an example request", "compare_example", on_pick=requests.set_current_request)


def request_section(rec: Any, request: dict[str, Any]) -> None:
    """The request, then the five lists and the scorecard (a fragment: follows the sliders)."""
    text, liked, disliked = request["text"], tuple(request["liked"]), tuple(request["disliked"])
    with blocks.request_errors("this request could not be ranked", "Try another one on the Recommend page."):
        result = requests.stages(rec, text, liked, disliked, use_adapter=bool(st.session_state.get("use_adapter", True)))
    intent = result.intent
    cat = rec.catalogue
    w = words(rec)
    top_left, top_right = st.columns([4, 1], vertical_alignment="center")
    top_left.markdown(f'<div class="fr-quote fr-quote-compact">{h.highlight(intent.text, h.spans_of(intent))}</div>',
                      unsafe_allow_html=True)
    top_right.page_link(ui.PAGES["recommend"], label="Change the request", icon=":material/edit:")

    @st.fragment(key="compare_lists")
    def compare_view() -> None:
        """The five lists and the scorecard: rerun alone when a weight slider moves."""
        weights = ui.weights()
        if not blocks.weights_ok(weights):
            return
        k = ui.current_k()
        final = result.reblend(weights, k, explain=False)
        lists = {s: [int(i) for i in (final.blend.ranking[:k] if s == "blend" else result.ranking(s, k))]
                 for s in SYSTEMS}
        liked_g = set(intent.liked_genres) | set(intent.inferred_genres)
        disliked_g = set(intent.disliked_genres)
        blend_set = set(lists["blend"])

        blocks.section(f"Side by side — top {k}",
                                f"Bold: also in the blend's list. Green edge: a {w.category} you asked for. "
                                f"Red: a {w.category} you said no to (an intent violation).")
        subtitles = {"random": "cold-start baseline", "popularity": "most rated × best rated",
                     "llm": "relevance r only", "cf": "ALS fold-in s only",
                     "blend": f"α {weights[0]:.2f} · β {weights[1]:.2f} · γ {weights[2]:.2f}"}
        cols = st.columns(len(SYSTEMS), gap="small")
        for col, system in zip(cols, SYSTEMS):
            rows = []
            for i in lists[system]:
                genres = set(cat.genres[i])
                state = ("violation" if genres & disliked_g else "match" if genres & liked_g else "")
                if system != "blend" and i in blend_set:
                    state += " shared"
                rows.append((cat.display_titles[i], int(cat.years[i]), state.strip()))
            col.markdown(h.ranked_list(system_label(system), rows, color=charts.SYSTEM_COLORS[system],
                                       subtitle=subtitles[system]), unsafe_allow_html=True)

        # ---- scorecard
        n_users = int(cat.ratings["user_id"].nunique()) if len(cat.ratings) else 1
        with st.spinner("Measuring catalogue coverage over the example prompts…"):
            prompt_lists = _prompt_lists(rec, ui.engine_key(rec), weights, k,
                                         bool(st.session_state.get("use_adapter", True)))
        measures = []
        for system in SYSTEMS:
            cover = coverage(prompt_lists[system] + [lists[system]], len(cat))
            measures.append(list_measures(system, lists[system], lists["blend"], genres=cat.genres,
                                          n_ratings=cat.n_ratings, n_users=n_users, liked=liked_g,
                                          disliked=disliked_g, years=cat.years,
                                          era=era_bounds(intent.era) if intent.era is not None else None,
                                          coverage_value=cover))
        blocks.section("Scorecard", "How each list serves this request, and how far it reaches into "
                                             "the catalogue")
        frame = pd.DataFrame([{
            "system": system_label(m.system),
            "overlap": m.overlap_with_blend,
            "liked": m.liked_genre_share,
            "disliked": m.disliked_shown,
            "violations": m.violations,
            "novelty": m.novelty,
            "popularity": m.mean_ratings,
            "coverage": m.coverage,
        } for m in measures])
        st.dataframe(frame, hide_index=True, key="scorecard", column_config={
            "system": st.column_config.TextColumn("System", width="medium"),
            "overlap": st.column_config.ProgressColumn("Overlap with blend", format="percent", min_value=0.0,
                                                       max_value=1.0, help="Share of this list also in the blend"),
            "liked": st.column_config.ProgressColumn(f"Liked-{w.category} match", format="percent", min_value=0.0,
                                                     max_value=1.0,
                                                     help=f"Share of items with a {w.category} you asked for "
                                                          "(empty when you named none)"),
            "disliked": st.column_config.NumberColumn(f"Disliked {w.categories} shown", format="%d",
                                                      help=f"Items showing a {w.category} you said no to"),
            "violations": st.column_config.ProgressColumn("Intent violations", format="percent", min_value=0.0,
                                                          max_value=1.0,
                                                          help=f"Share of the list with a {w.category} you said no to "
                                                               "or a year outside the era you asked for "
                                                               "(empty when you stated neither) — the "
                                                               "benchmark's violations@k"),
            "novelty": st.column_config.NumberColumn("Novelty (bits)", format="%.1f",
                                                     help="Mean −log₂ of an item's share of raters: higher = "
                                                          "less mainstream"),
            "popularity": st.column_config.NumberColumn(f"Avg. {w.ratings} / {w.item}", format="%.0f",
                                                        help=f"Mean number of {w.pick('MovieLens ratings', 'interactions')} "
                                                             f"of the listed {w.items}"),
            "coverage": st.column_config.ProgressColumn("Catalogue coverage", format="percent", min_value=0.0,
                                                        max_value=max(0.001, float(frame["coverage"].max())),
                                                        help="Share of the catalogue reached by this system's "
                                                             f"top {k} over the {len(ui.example_prompts())} "
                                                             "example prompts plus yours"),
        })
        labels = [system_short(s) for s in SYSTEMS]
        colors = [charts.SYSTEM_COLORS[s] for s in SYSTEMS]
        c1, c2, c3 = st.columns([1.25, 1, 1], gap="medium")
        with c1:
            figures.show(charts.overlap_heatmap(labels, overlap_matrix([lists[s] for s in SYSTEMS])),
                         "overlap_heatmap")
            st.caption("Overlap between every pair of lists (share of the row's list also in the column's).")
        with c2:
            figures.show(charts.metric_bars(labels, [m.liked_genre_share for m in measures],
                                            title=f"Liked-{w.category} match", colors=colors, maximum=1.0), "liked_bars")
        with c3:
            figures.show(charts.metric_bars(labels, [m.novelty for m in measures], title="Novelty (bits)",
                                            fmt=".1f", colors=colors), "novelty_bars")

    ui.register_weight_fragment("compare_lists")
    compare_view()


# ----------------------------------------------------------------------------- benchmark
def _file_label(name: str) -> str:
    return name.removeprefix("evaluation-").removesuffix(".json").replace("-", " ").replace("_", " ").title()


def benchmark_section(loaded: list[tuple[str, dict[str, Any] | str]]) -> None:
    """The ReDial benchmark: one metric per system with its interval, and the full table."""
    blocks.section("Benchmark on real typed requests",
                            "ReDial: requests people actually typed, with the movies they were later recommended "
                            "and liked as ground truth. Mean with a bootstrap 95 % interval.")
    if not loaded:
        st.info("No benchmark results yet. Produce them with\n\n"
                "```bash\npython -m recsys evaluate --json > assets/results/evaluation-redial.json\n```\n"
                "and they appear here.", icon=":material/science:")
        return
    good = [(name, data) for name, data in loaded if isinstance(data, dict)]
    for name, data in loaded:
        if not isinstance(data, dict):
            st.warning(f"{name} could not be read: {data}. Re-create it with `python -m recsys evaluate --json`.",
                       icon=":material/warning:")
    if not good:
        return

    choice = good[0][0]
    if len(good) > 1:
        choice = st.segmented_control("Protocol", [n for n, _ in good], format_func=_file_label, default=good[0][0],
                                      key="bench_file") or good[0][0]
    data = dict(good)[choice]
    subsets = evaluation_subsets(data)
    subset = "all"
    if len(subsets) > 1:
        subset = st.segmented_control(
            "Requests", list(subsets), key="bench_subset", default="all",
            format_func=lambda s: (f"All {data.get('n', '')} requests" if s == "all"
                                   else f"{s.replace('_', ' ').capitalize()} ({subsets[s].get('n', '?')})")) or "all"
    table = evaluation_table(subsets[subset])
    if table.empty:
        st.warning(f"{choice} holds no numeric results.", icon=":material/warning:")
        return

    meta = []
    if data.get("n"):
        meta.append(f"{data['n']} requests")
    if data.get("k"):
        meta.append(f"k = {data['k']}")
    if isinstance(data.get("weights"), dict):
        w = data["weights"]
        meta.append(f"blend α {w.get('alpha', 0):.2f} · β {w.get('beta', 0):.2f} · γ {w.get('gamma', 0):.2f}")
    if data.get("parser"):
        meta.append(f"parser {data['parser']}")
    if data.get("seconds"):
        meta.append(f"{data['seconds']:.0f} s")

    metrics = list(dict.fromkeys(table["metric"]))
    default_metric = next((m for m in ("recall@10", "ndcg@10") if m in metrics), metrics[0])
    metric = st.pills("Metric", metrics, default=default_metric, format_func=metric_label, key="bench_metric") \
        or default_metric
    rows = table[table["metric"] == metric]
    values = dict(zip(rows["system"], rows["value"]))
    left, right = st.columns([1.5, 1], gap="large")
    with left:
        systems = list(rows["system"])
        ci = [None if np.isnan(lo) else (lo, hi) for lo, hi in zip(rows["lo"], rows["hi"])]
        figures.show(charts.benchmark_bar([system_short(s) for s in systems], rows["value"].tolist(),
                                          metric=metric_label(metric), ci=ci,
                                          colors=[charts.SYSTEM_COLORS.get(s, charts.ACCENT_SOFT) for s in systems]),
                     "bench_bar")
    with right:
        if "blend" in values:
            ui.md(f'<div class="fr-subhead">{h.esc(metric_label(metric))} of the blend</div>')
            tiles = st.columns(2)
            tiles[0].metric("Blend", f"{values['blend']:.4f}" if abs(values["blend"]) < 1 else f"{values['blend']:.2f}",
                            border=True)
            if "popularity" in values:
                diff = values["blend"] - values["popularity"]
                tiles[1].metric("vs popularity", f"{diff:+.4f}" if abs(diff) < 1 else f"{diff:+.2f}",
                                help="Blend minus the popularity baseline", border=True)
            tiles = st.columns(2)
            for tile, other in zip(tiles, ("random", "llm")):
                if values.get(other):
                    tile.metric(f"× {system_short(other)}", f"{values['blend'] / values[other]:.1f}×",
                                help=f"Blend divided by {system_label(other)}", border=True)
        st.caption(" · ".join(meta) + ".")

    wide = table.assign(cell=[
        (f"{v:.4f}" if abs(v) < 1 else f"{v:.2f}") + ("" if np.isnan(lo) else
                                                      (f"  [{lo:.3f}, {hi:.3f}]" if abs(v) < 1 else f"  [{lo:.2f}, {hi:.2f}]"))
        for v, lo, hi in zip(table["value"], table["lo"], table["hi"])])
    pivot = wide.pivot(index="system", columns="metric", values="cell")
    pivot = pivot.reindex(index=list(dict.fromkeys(table["system"])), columns=metrics)
    pivot.index = [system_label(s) for s in pivot.index]
    pivot.columns = [metric_label(m) for m in pivot.columns]
    st.dataframe(pivot, key="bench_table", height=38 + 35 * len(pivot))
    st.caption("Requests from ReDial — Li, Kahou, Schulz, Michalski, Charlin, Pal, *Towards Deep Conversational "
               "Recommendations*, NeurIPS 2018 (CC BY 4.0), mapped to MovieLens.")


WARMUP_COMMAND = "python -m recsys evaluate --protocol warmup --json --out assets/results/evaluation-warmup.json"


def warmup_section(data: dict[str, Any] | str | None) -> None:
    """Quality after n reactions (the warm-up protocol), one curve per system."""
    curves = warmup_curves(data) if isinstance(data, dict) else {}
    steps = sorted({p[0] for points in curves.values() for p in points})
    metric = metric_label(str(data.get("metric") or WARMUP_METRIC)) if isinstance(data, dict) else "Recall@10"
    after = (", ".join(str(n) for n in steps[:-1]) + f" and {steps[-1]}") if len(steps) > 1 else "0, 1, 3, 5 and 10"
    blocks.section("Warming up with reactions",
                            f"How quickly each system improves as a new user reacts: {metric} after {after} "
                            "liked movies (0 = the cold start from words alone).")
    if data is None:
        st.info("No warm-up results yet. Produce them with\n\n"
                f"```bash\n{WARMUP_COMMAND}\n```\nand the curves appear here.", icon=":material/trending_up:")
        return
    if isinstance(data, str):
        st.warning(f"evaluation-warmup.json could not be read: {data}. Re-create it with `{WARMUP_COMMAND}`.",
                   icon=":material/warning:")
        return
    if not curves:
        st.warning("evaluation-warmup.json holds no curves (each system needs a \"curve\" of numbers by reaction "
                   f"count). Re-create it with `{WARMUP_COMMAND}`.", icon=":material/warning:")
        return
    left, right = st.columns([1.6, 1], gap="large")
    with left:
        fig = charts.warmup_curves(curves, metric=metric, labels={s: system_short(s) for s in curves},
                                   colors={s: charts.SYSTEM_COLORS.get(s, charts.ACCENT_SOFT) for s in curves},
                                   bands=("blend",), dashed=[s for s in curves if s.startswith("blend-")])
        ui.md(h.keyline(charts.legend_items(fig)))
        figures.show(fig, "warmup_curves")
    with right:
        rows = [{"system": system_short(system), "cold": points[0][1], "warm": points[-1][1],
                 "gain": points[-1][1] - points[0][1]} for system, points in curves.items()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="warmup_table", column_config={
            "system": st.column_config.TextColumn("System"),
            "cold": st.column_config.NumberColumn(f"{steps[0]} 👍", format="%.3f", width="small",
                                                  help=f"{metric} with {steps[0]} reactions"),
            "warm": st.column_config.NumberColumn(f"{steps[-1]} 👍", format="%.3f", width="small",
                                                  help=f"{metric} after {steps[-1]} reactions"),
            "gain": st.column_config.NumberColumn("Gain", format="%+.3f", width="small"),
        })
        if "blend" in curves and len(curves["blend"]) > 1:
            start, end = curves["blend"][0], curves["blend"][-1]
            ui.md(f'<div class="fr-best">The blend goes from <b>{start[1]:.3f}</b> to <b>{end[1]:.3f}</b> '
                  f'after {end[0]} reactions.</div>')
        meta = [str(data["requests"]) if data.get("requests") else (f"{data['n']} users" if data.get("n") else ""),
                f"k = {data['k']}" if data.get("k") else "",
                f"{data['seconds']:.0f} s" if isinstance(data.get("seconds"), (int, float)) else ""]
        note = " · ".join(m for m in meta if m)
        if data.get("reactions"):
            note += f". Reactions: {data['reactions']}"
        band = "blend" in curves and any(math.isfinite(p[2]) for p in curves["blend"])
        st.caption(note + (". " if note else "") + ("Shaded band: the blend's bootstrap 95 % interval." if band else ""))


def evaluation_files() -> list[tuple[str, dict[str, Any] | str]]:
    """Every evaluation-*.json in the results folder, read (or its error message)."""
    folder = ui.results_dir()
    files = sorted(folder.glob("evaluation-*.json")) if folder.is_dir() else []
    return _evaluation_files(str(folder), tuple((f.name, f.stat().st_mtime) for f in files)) if files else []


def _warm(name: str, data: dict[str, Any] | str) -> bool:
    return name == WARMUP_FILE or (isinstance(data, dict) and is_warmup(data, name))


page()
