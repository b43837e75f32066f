"""Tune — quality over a grid of α/β/γ on the development requests; a click sets the sliders."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import components as h
from ui import figures
from ui import loader
from ui import state as ui
from recsys import charts
from recsys.compare import best_point, metric_columns, metric_label, read_sweep, tidy_sweep

QUICK_SIZES = (50, 100, 200)

@st.cache_data(show_spinner=False)
def _read_sweep(path: str, mtime: float) -> pd.DataFrame | str:
    try:
        return read_sweep(path)
    except (OSError, ValueError) as exc:
        return str(exc)


@st.cache_resource(show_spinner=False)
def _sweep_store() -> dict[tuple[str, str, int], tuple[pd.DataFrame, int]]:
    """Quick sweeps already computed in this process (shared by all sessions; not user data)."""
    return {}


def _quick_sweep(_rec: Any, path: str, size: int, _progress: Any = None) -> tuple[pd.DataFrame, int]:
    """The grid on a seeded sample of development requests (:func:`recsys.evaluation.tuning.quick_sweep`)."""
    from recsys.evaluation.tuning import quick_sweep

    rows, dropped = quick_sweep(_rec, path, size, _progress)
    return pd.DataFrame(rows), dropped


def _apply_point(a: float, b: float, g: float) -> None:
    """Move the sidebar sliders (a callback: runs before they are drawn), then rerun the app."""
    for key, value in zip(ui.WEIGHT_KEYS, (a, b, g)):
        st.session_state[key] = round(float(value), 2)
    st.session_state["_weights_backup"] = (round(a, 2), round(b, 2), round(g, 2))
    st.rerun()          # the whole app: the sliders live outside this page's fragment


def _on_grid_select() -> None:
    """A square on the grid was clicked: move the sliders (callbacks run before the sidebar)."""
    state = st.session_state.get("tune_grid")
    points = []
    try:
        points = state["selection"]["points"]
    except (KeyError, TypeError):
        pass
    for point in points:
        custom = point.get("customdata") if isinstance(point, dict) else None
        if custom and len(custom) >= 3:
            _apply_point(*custom[:3])
            return


# ----------------------------------------------------------------------------- the page
def page() -> None:
    """The sweep (file, or a quick one run here) as a clickable grid with the best points;
    without one, how to get one."""
    ui.md(h.page_intro(
        "Tune the blend",
        "Quality of the final list over a grid of weights (α + β + γ = 1, step 0.1) on the ReDial development "
        "requests. Click a square to move the sidebar sliders there.", eyebrow="Tune"))
    sweep, source = load_sweep()
    if sweep is None:
        how_to_get_a_sweep()
        return
    ui.register_weight_fragment("tune_view")
    tune_view(sweep, source)


def load_sweep() -> tuple[pd.DataFrame | None, str]:
    """``(sweep, where it comes from)``: the results folder's sweep-redial.csv, else the quick
    sweep asked for in this session; ``(None, "")`` when there is neither (errors shown)."""
    path = ui.results_dir() / "sweep-redial.csv"
    if path.exists():
        loaded = _read_sweep(str(path), path.stat().st_mtime)
        if not isinstance(loaded, str):
            return loaded, f"{path.name} · all development requests"
        st.error(f"{path.name} could not be read: {loaded}. Re-create it with `python -m recsys sweep`.",
                 icon=":material/error:")
    dev = ui.redial_dir() / "redial_dev.jsonl"
    quick = st.session_state.get("_quick_sweep_size")
    if not (quick and dev.exists()):
        return None, ""
    rec = loader.engine()
    store = _sweep_store()
    key = (ui.engine_key(rec), str(dev), int(quick))
    try:
        if key not in store:
            bar = st.progress(0.0, text="Starting the quick sweep")
            store[key] = _quick_sweep(rec, str(dev), int(quick),
                                      lambda f, m: bar.progress(min(1.0, f), text=f"Scoring: {m}"))
            bar.empty()
        frame, dropped = store[key]
        left_out = (f"; {dropped:,} left out: the adapter trained on their dialogues" if dropped else "")
        return (tidy_sweep(frame.drop(columns=["n"]), name="quick sweep"),
                f"quick sweep · a seeded sample of {quick} development requests (indicative only{left_out})")
    except (OSError, ValueError) as exc:
        st.error(f"The quick sweep could not run: {exc}. Try `python -m recsys sweep` instead.",
                 icon=":material/error:")
        return None, ""


def how_to_get_a_sweep() -> None:
    """No sweep yet: the command for the full one, and a quick one on a sample right here."""
    dev = ui.redial_dir() / "redial_dev.jsonl"
    if st.session_state.get("_quick_sweep_size") and dev.exists():
        return          # a quick sweep was asked for and failed: its error is already shown
    with st.container(border=True):
        st.markdown("**No sweep results yet.** The full sweep over all 751 development requests is one "
                    "command (about a minute):")
        st.code("python -m recsys sweep", language="bash")
        st.caption(f"It writes `assets/results/sweep-redial.csv` (read from {ui.results_dir()}).")
        if dev.exists():
            st.markdown("Or run a quick, indicative sweep on a sample of the requests right here:")
            cols = st.columns([1.4, 1, 3], vertical_alignment="bottom")
            size = cols[0].selectbox("Sample size", QUICK_SIZES, index=1, key="quick_size",
                                     format_func=lambda n: f"{n} requests")
            if cols[1].button("Run quick sweep", type="primary", icon=":material/play_arrow:"):
                st.session_state["_quick_sweep_size"] = int(size)
                st.rerun()
        else:
            st.caption(f"The ReDial development requests were not found at {dev} "
                       f"(set {ui.REDIAL_ENV} to their folder).")


@st.fragment(key="tune_view")
def tune_view(sweep: pd.DataFrame, source: str) -> None:
    """Grid and best point; reruns alone when a slider moves (the 'your sliders' marker)."""
    metrics = metric_columns(sweep)
    default_metric = next((m for m in ("ndcg@10", "recall@10") if m in metrics), metrics[0])
    top = st.columns([3, 2], vertical_alignment="bottom")
    metric = top[0].segmented_control("Quality measure", metrics, default=default_metric,
                                      format_func=metric_label, key="tune_metric") or default_metric
    top[1].caption(f"Source: {source}")
    current = ui.weights()
    total = sum(current)
    best = best_point(sweep, metric)
    left, right = st.columns([1.6, 1], gap="large")
    with left:
        figures.show(charts.weight_grid(sweep["alpha"], sweep["beta"], sweep[metric], metric=metric_label(metric),
                                        current=current if total > 0 else None, best=best[:3]),
                     "tune_grid", on_select=_on_grid_select, selection_mode="points")
    with right:
        c1, c2 = st.columns(2)
        c1.metric(f"Best {metric_label(metric)}", f"{best[3]:.4f}",
                  help="The highest value on the grid", border=True)
        if total > 0:
            near = sweep.assign(_d=(sweep["alpha"] - current[0] / total).abs()
                                + (sweep["beta"] - current[1] / total).abs()
                                + (sweep["gamma"] - current[2] / total).abs()).sort_values("_d").iloc[0]
            c2.metric("Your sliders", f"{float(near[metric]):.4f}",
                      delta=f"{float(near[metric]) - best[3]:+.4f} vs best", delta_color="normal", border=True,
                      help=f"Nearest grid point: α {near['alpha']:.1f} · β {near['beta']:.1f} · γ {near['gamma']:.1f}")
        else:
            c2.metric("Your sliders", "no weights set", border=True,
                      help="α, β and γ are all 0: move a slider above 0 (the list keeps its last weights)")
        ui.md(f'<div class="fr-best">Best: <b>α {best[0]:.1f} · β {best[1]:.1f} · γ {best[2]:.1f}</b></div>')
        st.button("Use the best weights", type="primary", icon=":material/star:", on_click=_apply_point,
                  args=best[:3], width="stretch", key="use_best")
        ui.md('<div class="fr-subhead" style="margin-top:18px">Top 10 weight settings</div>')
        ranked = sweep.sort_values(metric, ascending=False).head(10)
        table = pd.DataFrame({"α": ranked["alpha"], "β": ranked["beta"], "γ": ranked["gamma"],
                              metric_label(metric): ranked[metric]})
        st.dataframe(table, hide_index=True, key="tune_top", height=38 + 35 * len(table), column_config={
            "α": st.column_config.NumberColumn(format="%.1f"), "β": st.column_config.NumberColumn(format="%.1f"),
            "γ": st.column_config.NumberColumn(format="%.1f"),
            metric_label(metric): st.column_config.ProgressColumn(format="%.4f", min_value=0.0,
                                                                  max_value=float(sweep[metric].max()))})
        options = [tuple(map(float, row)) for row in sweep[["alpha", "beta", "gamma"]].itertuples(index=False)]
        pick = st.selectbox("Or pick any grid point", options, index=None, key="tune_pick",
                            placeholder="α · β · γ",
                            format_func=lambda w: f"α {w[0]:.1f} · β {w[1]:.1f} · γ {w[2]:.1f}")
        if pick is not None:
            st.button("Apply to the sliders", on_click=_apply_point, args=pick, key="apply_pick",
                      icon=":material/tune:")
    st.caption("Each square is one weight setting; darker = better. The red outline is where your sliders are "
               "(normalised to sum 1), the star the best point. Weights tuned here are tuned on the development "
               "requests — report quality on other requests.")


page()
