"""Plotly figure builders for the web app: pure functions, plain data in, a figure out.

Nothing here imports streamlit or touches the engine's objects: each builder takes lists,
arrays or mappings, so the figures can be unit-tested (``tests/test_charts.py``) where
``streamlit.testing`` cannot look inside a chart. Every figure shares one visual language:
the app's font, a transparent background, light grid lines, and one colour per signal
(``r`` indigo — the accent, ``s`` teal, ``b`` slate grey) so a stacked bar means the same
thing on every page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

FONT = '"Source Sans", "Source Sans Pro", "Helvetica Neue", Arial, sans-serif'
TEXT = "#1E2235"
MUTED = "#6B7085"
GRID = "#EEF0F6"
ACCENT = "#4F46E5"
ACCENT_SOFT = "#C7CBF8"
GOOD = "#16A34A"
BAD = "#DC2626"

#: One colour per blended signal (relevance r, CF s, prior b).
SIGNAL_COLORS = {"r": ACCENT, "s": "#14B8A6", "b": "#94A3B8"}
SIGNAL_NAMES = {"r": "Relevance α·r̂", "s": "Collaborative filtering β·ŝ", "b": "Popularity prior γ·b̂"}

#: Terms of the relevance score r (``RelevanceScores.components``): label and colour.
COMPONENT_STYLE: dict[str, tuple[str, str]] = {
    "similarity": ("Text similarity", ACCENT),
    "titles": ("Named title", "#8B5CF6"),
    "genres": ("Liked genre", "#10B981"),
    "keywords": ("Keyword", "#0EA5E9"),
    "people": ("Named person", "#0D9488"),
    "lexical": ("Plot words", "#06B6D4"),
    "era": ("Era", "#F59E0B"),
    "feedback": ("Reactions", "#EC4899"),
    "adapter": ("Trained adapter", "#A16207"),
    "disliked_genres": ("Disliked genre", "#EF4444"),
    "disliked_keywords": ("Disliked keyword", "#F97316"),
    "disliked_titles": ("Disliked title", "#DB2777"),
    "disliked_people": ("Unwanted person", "#B91C1C"),
}

#: Systems of the Compare page, in display order, with their colours.
SYSTEM_COLORS = {"random": "#CBD5E1", "popularity": "#94A3B8", "llm": "#A5B4FC", "cf": "#5EEAD4",
                 "blend": ACCENT, "blend-auto": "#7C3AED", "blend-tuned": "#3730A3",
                 "llm_adapter": "#FCD34D", "blend_adapter": "#A16207"}


#: A small template of our own: plotly's named templates cost ~25 ms to apply per figure.
_TEMPLATE = {"layout": {"colorway": [ACCENT, SIGNAL_COLORS["s"], SIGNAL_COLORS["b"], "#F59E0B", "#EC4899"],
                        "hovermode": "closest"}}


def _axis(**extra: object) -> dict:
    axis = {"gridcolor": GRID, "zerolinecolor": "#D8DBE8", "linecolor": GRID, "automargin": True,
            "tickfont": {"color": MUTED}, "title": {"font": {"color": MUTED, "size": 12}}}
    return _merge(axis, extra)


def _merge(base: dict, extra: dict) -> dict:
    """Recursive dict merge (``extra`` wins); a ``title`` string becomes ``{"text": …}``."""
    out = dict(base)
    for key, value in extra.items():
        if key == "title" and isinstance(value, str):
            value = {"text": value}
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _figure(data: list[dict], *, height: int, show_legend: bool = True, title: str | None = None,
            xaxis: dict | None = None, yaxis: dict | None = None, **layout: object) -> go.Figure:
    """Build a figure from plain trace dicts with the shared look (font, margins, transparent
    background, horizontal legend). One validation pass: fast enough for every rerun."""
    base: dict = {
        "template": _TEMPLATE,
        "height": height,
        "margin": {"l": 8, "r": 16, "t": 44 if title else (34 if show_legend else 10), "b": 8},
        "font": {"family": FONT, "size": 13, "color": TEXT},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": show_legend,
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
                   "font": {"size": 12, "color": MUTED}, "bgcolor": "rgba(0,0,0,0)"},
        "hoverlabel": {"bgcolor": "white", "bordercolor": "#D8DBE8",
                       "font": {"family": FONT, "size": 12, "color": TEXT}},
        "bargap": 0.28,
        "xaxis": _axis(**(xaxis or {})),
        "yaxis": _merge(_axis(tickfont={"color": TEXT}), yaxis or {}),
    }
    if title:
        base["title"] = {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15, "color": TEXT}}
    return go.Figure(data=data, layout=_merge(base, layout))


def empty_figure(message: str, *, height: int = 220) -> go.Figure:
    """A blank figure that says why there is nothing to plot."""
    return _figure([], height=height, show_legend=False, xaxis={"visible": False}, yaxis={"visible": False},
                   annotations=[{"text": message, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
                                 "showarrow": False, "font": {"size": 14, "color": MUTED}}])


def shorten(label: str, width: int = 34) -> str:
    """Cut a label to ``width`` characters with an ellipsis (axis ticks stay readable)."""
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def legend_items(fig: go.Figure) -> list[tuple[str, str]]:
    """``(name, colour)`` of a figure's named traces, for a legend drawn outside the figure.

    Plotly wraps a horizontal legend at the plot area's width, which beside long tick labels
    leaves one entry per line; the pages draw these as a compact HTML key instead.
    """
    out = []
    for trace in fig.data:
        if not trace.name or trace.showlegend is False:
            continue
        marker = getattr(trace, "marker", None)
        color = getattr(marker, "color", None) if marker is not None else None
        if not isinstance(color, str):
            line = getattr(marker, "line", None) if marker is not None else None
            color = getattr(line, "color", None) if line is not None else None
        if not isinstance(color, str):
            line = getattr(trace, "line", None)
            color = getattr(line, "color", None) if line is not None else None
        out.append((str(trace.name), color if isinstance(color, str) else MUTED))
    return out


def _bar_height(n: int, *, per_bar: int = 26, extra: int = 70, minimum: int = 200) -> int:
    return max(minimum, per_bar * n + extra)


def _floats(values: Sequence[float] | np.ndarray) -> list[float]:
    return [float(v) for v in values]


def _dark(color: str) -> bool:
    """True for a dark ``#RRGGBB`` colour (white text reads better on it)."""
    c = color.lstrip("#")
    if len(c) != 6:
        return False
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b < 150


# --------------------------------------------------------------------------- Recommend page

def genre_interest_bar(affinity: Sequence[tuple[str, float]], *, liked: Sequence[str] = (),
                       disliked: Sequence[str] = (), top: int = 8,
                       category: str = "genre") -> go.Figure:
    """Horizontal bars of the zero-shot genre interest distribution (largest on top).

    Liked genres are green, disliked genres red, the rest the soft accent.
    """
    rows = [(g, float(v)) for g, v in affinity if v is not None and math.isfinite(float(v))]
    rows = sorted(rows, key=lambda gv: -gv[1])[:top]
    if not rows:
        return empty_figure(f"No {category} signal in this request")
    rows.reverse()
    liked_set, disliked_set = set(liked), set(disliked)
    colors = [GOOD if g in liked_set else BAD if g in disliked_set else ACCENT_SOFT for g, _ in rows]
    trace = {"type": "bar", "orientation": "h", "x": [v for _, v in rows], "y": [g for g, _ in rows],
             "marker": {"color": colors}, "text": [f"{v:.0%}" for _, v in rows], "textposition": "outside",
             "cliponaxis": False, "textfont": {"color": MUTED, "size": 12},
             "hovertemplate": "%{y}: %{x:.1%}<extra></extra>"}
    return _figure([trace], height=_bar_height(len(rows), per_bar=24, extra=20), show_legend=False,
                   xaxis={"visible": False, "showgrid": False, "range": [0, max(v for _, v in rows) * 1.25]},
                   yaxis={"showgrid": False})


def interest_distribution(current: Sequence[tuple[str, float]],
                          previous: Sequence[tuple[str, float]] | None = None, *, top: int = 8,
                          by: str = "share", avoided: Sequence[str] = ()) -> go.Figure:
    """The estimated interest distribution (shares summing to 1) as horizontal bars.

    ``by="share"`` keeps the ``top`` largest, largest on top (genres); ``by="name"`` keeps
    every entry in name order, earliest on top (decades). With ``previous`` (the
    distribution before the last reaction) each bar gets a dark tick where it was and its
    label the change in points, so the chart visibly moves with each reaction. Entries in
    ``avoided`` (genres the request said no to) are drawn red.
    """
    rows = [(str(n), float(v)) for n, v in current if v is not None and math.isfinite(float(v))]
    before = {str(n): float(v) for n, v in (previous or ()) if v is not None and math.isfinite(float(v))}
    avoided_set = set(avoided)
    if by == "name":
        rows = sorted(rows)
    else:
        rows = sorted(rows, key=lambda nv: -nv[1])[:top]
    if not rows:
        return empty_figure("No interest signal yet", height=160)
    rows.reverse()                      # plotly draws the first row at the bottom
    names = [n for n, _ in rows]
    values = [v for _, v in rows]
    colors = [BAD if n in avoided_set else ACCENT for n in names]
    text = []
    for n, v in rows:
        label = f" {v:.0%}"           # a leading space keeps the label clear of a tick
        if previous is not None:
            delta = (v - before.get(n, 0.0)) * 100
            if abs(delta) >= 0.5:
                label += f" {'▲' if delta > 0 else '▼'}{abs(delta):.0f}"
        text.append(label)
    was = [before.get(n, 0.0) for n in names] if previous is not None else values
    data: list[dict] = [{
        "type": "bar", "orientation": "h", "x": values, "y": names, "name": "now",
        "marker": {"color": colors}, "hovertemplate": "%{y}: %{x:.1%}<extra></extra>"}]
    if previous is not None:
        data.append({"type": "scatter", "mode": "markers", "x": was, "y": names,
                     "name": "before your last reaction",
                     "marker": {"symbol": "line-ns", "size": 14, "line": {"width": 2.5, "color": TEXT}},
                     "hovertemplate": "%{y} before: %{x:.1%}<extra></extra>"})
    # Labels sit right of both the bar and its tick, so they never collide with either.
    data.append({"type": "scatter", "mode": "text", "x": [max(v, w) for v, w in zip(values, was)], "y": names,
                 "text": text, "textposition": "middle right", "showlegend": False, "hoverinfo": "skip",
                 "cliponaxis": False, "textfont": {"color": MUTED, "size": 12}})
    top_value = max(values + was + [0.01])
    return _figure(data, height=_bar_height(len(rows), per_bar=24, extra=20, minimum=120), show_legend=False,
                   xaxis={"visible": False, "showgrid": False, "range": [0, top_value * 1.45]},
                   yaxis={"showgrid": False, "tickfont": {"size": 12}}, bargap=0.32)


def relevance_bar(labels: Sequence[str], components: Mapping[str, Sequence[float] | np.ndarray],
                  totals: Sequence[float] | np.ndarray, *, category: str = "genre") -> go.Figure:
    """Top relevance-scored candidates: each bar is ``r`` split into its weighted terms (best on top).

    ``components`` maps a term name (``RelevanceScores.components`` keys) to one value per
    label; penalties are negative and stack to the left of zero. A dark tick marks ``r``.
    """
    n = len(labels)
    if n == 0:
        return empty_figure("No candidates")
    y = [f"{i + 1}. {shorten(lab, 30)}" for i, lab in enumerate(labels)]
    data: list[dict] = []
    order = [c for c in COMPONENT_STYLE if c in components] + \
        [c for c in components if c not in COMPONENT_STYLE]
    for name in order:
        values = np.asarray(components[name], dtype=float)
        if values.shape != (n,) or not np.any(np.abs(values) > 1e-9):
            continue
        label, color = COMPONENT_STYLE.get(name, (name.replace("_", " ").capitalize(), "#CBD5E1"))
        label = label.replace("genre", category)        # "Liked category" on your own catalogue
        data.append({"type": "bar", "orientation": "h", "x": _floats(values), "y": y, "name": label,
                     "marker": {"color": color},
                     "hovertemplate": f"{label}: %{{x:+.3f}}<extra>%{{y}}</extra>"})
    data.append({"type": "scatter", "mode": "markers", "x": _floats(totals), "y": y, "name": "r",
                 "marker": {"symbol": "line-ns", "size": 16, "line": {"width": 3, "color": TEXT}},
                 "hovertemplate": "r = %{x:.3f}<extra>%{y}</extra>"})
    return _figure(data, height=_bar_height(n, per_bar=30, extra=110), barmode="relative",
                   show_legend=False,
                   yaxis={"autorange": "reversed", "tickfont": {"size": 12}, "showgrid": False},
                   xaxis={"title": "relevance r = sum of the terms"})


def score_scatter(r_hat: Sequence[float], s_hat: Sequence[float], labels: Sequence[str],
                  groups: Sequence[str], *, weights: tuple[float, float, float] | None = None) -> go.Figure:
    """Relevance r̂ (x) against CF score ŝ (y) over the candidate pool.

    ``groups`` names each point's role: ``"final"`` (in the final list), ``"injected"``
    (in the final list, brought in by CF), ``"llm"`` (relevance candidate), ``"cf"`` (CF
    candidate only). Points in the final list are drawn on top. With ``weights``, a dotted
    line marks the cut-off ``α·r̂ + β·ŝ`` of the last item in the final list.
    """
    style = {
        "cf": ("CF candidate", "#99F6E4", 7, "circle"),
        "llm": ("Relevance candidate", "#C7CBF8", 7, "circle"),
        "final": ("In the final list", ACCENT, 12, "circle"),
        "injected": ("Final list, injected by CF", "#0D9488", 13, "diamond"),
    }
    r = np.asarray(r_hat, dtype=float)
    s = np.asarray(s_hat, dtype=float)
    groups = list(groups)
    if len(r) == 0:
        return empty_figure("No candidates")
    data: list[dict] = []
    for group, (name, color, size, symbol) in style.items():
        idx = [i for i, g in enumerate(groups) if g == group]
        if not idx:
            continue
        data.append({"type": "scatter", "mode": "markers", "name": name, "x": _floats(r[idx]),
                     "y": _floats(s[idx]), "text": [labels[i] for i in idx],
                     "marker": {"color": color, "size": size, "symbol": symbol,
                                "opacity": 0.95 if size > 8 else 0.75,
                                "line": {"width": 1 if size > 8 else 0, "color": "white"}},
                     "hovertemplate": "<b>%{text}</b><br>r̂ %{x:.2f} · ŝ %{y:.2f}<extra></extra>"})
    if weights is not None:
        alpha, beta, _ = weights
        final_idx = [i for i, g in enumerate(groups) if g in ("final", "injected")]
        if alpha > 0 and beta > 0 and final_idx:
            last = min(final_idx, key=lambda i: alpha * r[i] + beta * s[i])
            level = alpha * r[last] + beta * s[last]
            xs = np.linspace(0, 1, 41)
            ys = (level - alpha * xs) / beta
            keep = (ys >= -0.05) & (ys <= 1.05)
            if keep.any():
                data.append({"type": "scatter", "mode": "lines", "name": "cut-off α·r̂ + β·ŝ",
                             "x": _floats(xs[keep]), "y": _floats(ys[keep]), "hoverinfo": "skip",
                             "line": {"color": MUTED, "width": 1, "dash": "dot"}})
    return _figure(data, height=400, show_legend=False,
                   xaxis={"title": "Relevance r̂", "range": [-0.04, 1.06], "zeroline": False},
                   yaxis={"title": "CF score ŝ", "range": [-0.04, 1.06], "zeroline": False})


def contribution_bar(labels: Sequence[str], alpha_r: Sequence[float], beta_s: Sequence[float],
                     gamma_b: Sequence[float]) -> go.Figure:
    """Final list: each score split into α·r̂, β·ŝ and γ·b̂ (stacked, best on top)."""
    n = len(labels)
    if n == 0:
        return empty_figure("No recommendations")
    y = [f"{i + 1}. {shorten(lab, 30)}" for i, lab in enumerate(labels)]
    data: list[dict] = []
    for key, values in (("r", alpha_r), ("s", beta_s), ("b", gamma_b)):
        data.append({"type": "bar", "orientation": "h", "x": _floats(values), "y": y, "name": SIGNAL_NAMES[key],
                     "marker": {"color": SIGNAL_COLORS[key]},
                     "hovertemplate": f"{SIGNAL_NAMES[key]}: %{{x:.3f}}<extra>%{{y}}</extra>"})
    totals = [float(a) + float(b) + float(c) for a, b, c in zip(alpha_r, beta_s, gamma_b)]
    data.append({"type": "scatter", "mode": "text", "x": totals, "y": y, "text": [f"{t:.2f}" for t in totals],
                 "textposition": "middle right", "showlegend": False, "hoverinfo": "skip",
                 "textfont": {"color": MUTED, "size": 12}})
    return _figure(data, height=_bar_height(n, per_bar=26, extra=96), barmode="stack",
                   yaxis={"autorange": "reversed", "tickfont": {"size": 12}, "showgrid": False},
                   xaxis={"title": "final score", "range": [0, max(totals + [0.01]) * 1.12]})


# --------------------------------------------------------------------------- Compare page

def overlap_heatmap(systems: Sequence[str], matrix: Sequence[Sequence[float]] | np.ndarray) -> go.Figure:
    """Pairwise overlap of the systems' lists (share of shared items, 0–1)."""
    z = np.asarray(matrix, dtype=float)
    if z.size == 0:
        return empty_figure("No lists to compare")
    trace = {"type": "heatmap", "z": z.tolist(), "x": list(systems), "y": list(systems), "zmin": 0, "zmax": 1,
             "text": [[f"{v:.0%}" for v in row] for row in z], "texttemplate": "%{text}",
             "colorscale": [[0, "#F4F5FA"], [1, ACCENT]], "showscale": False, "xgap": 3, "ygap": 3,
             "textfont": {"size": 13}, "hovertemplate": "%{y} ∩ %{x}: %{z:.0%}<extra></extra>"}
    return _figure([trace], height=320, show_legend=False,
                   yaxis={"autorange": "reversed", "showgrid": False},
                   xaxis={"showgrid": False, "side": "top", "tickfont": {"color": TEXT}, "tickangle": 0})


def benchmark_bar(systems: Sequence[str], values: Sequence[float], *, metric: str,
                  ci: Sequence[tuple[float, float] | None] | None = None,
                  colors: Sequence[str] | None = None) -> go.Figure:
    """One metric per system with its 95 % interval as error bars (value labels on bars)."""
    if not len(systems):
        return empty_figure("No results")
    vals = _floats(values)
    trace: dict = {"type": "bar", "x": list(systems), "y": vals,
                   "marker": {"color": list(colors) if colors else ACCENT},
                   "text": [f"{v:.3f}" for v in vals], "textposition": "outside", "cliponaxis": False,
                   "textfont": {"color": TEXT, "size": 12},
                   "hovertemplate": f"%{{x}}: {metric} %{{y:.4f}}<extra></extra>"}
    upper = list(vals)
    if ci is not None and any(c is not None for c in ci):
        plus = [max(0.0, c[1] - v) if c else 0.0 for v, c in zip(vals, ci)]
        minus = [max(0.0, v - c[0]) if c else 0.0 for v, c in zip(vals, ci)]
        trace["error_y"] = {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                            "color": MUTED, "thickness": 1.4, "width": 6}
        # Values sit inside the bars, at the base, so they never collide with the error bars.
        trace["textposition"] = "inside"
        trace["insidetextanchor"] = "start"
        bar_colors = list(colors) if colors else [ACCENT] * len(vals)
        trace["textfont"] = {"size": 12, "color": ["white" if _dark(c) else TEXT for c in bar_colors]}
        upper = [v + p for v, p in zip(vals, plus)]
    top = max(upper + [1e-6])
    return _figure([trace], height=340, show_legend=False,
                   yaxis={"title": metric, "range": [0, top * 1.15], "tickfont": {"color": MUTED}},
                   xaxis={"showgrid": False, "tickfont": {"color": TEXT}})


def metric_bars(systems: Sequence[str], values: Sequence[float | None], *, title: str,
                fmt: str = ".0%", colors: Sequence[str] | None = None,
                maximum: float | None = None) -> go.Figure:
    """A small bar chart of one per-request measure across systems (``None`` = n/a)."""
    if not len(systems):
        return empty_figure("No lists")
    ys = [None if v is None else float(v) for v in values]
    labels = ["n/a" if v is None else format(float(v), fmt) for v in values]
    finite = [v for v in ys if v is not None and math.isfinite(v)]
    top = maximum if maximum is not None else (max(finite) if finite else 1.0)
    trace = {"type": "bar", "x": list(systems), "y": [0.0 if v is None else v for v in ys], "text": labels,
             "textposition": "outside", "cliponaxis": False,
             "marker": {"color": list(colors) if colors else ACCENT},
             "textfont": {"color": TEXT, "size": 12}, "hovertemplate": "%{x}: %{text}<extra></extra>"}
    return _figure([trace], height=230, show_legend=False, title=title,
                   yaxis={"visible": False, "range": [0, (top or 1.0) * 1.3]},
                   xaxis={"showgrid": False, "tickfont": {"size": 12, "color": TEXT}})


def warmup_curves(curves: Mapping[str, Sequence[tuple[int, float, float, float]]], *, metric: str,
                  labels: Mapping[str, str] | None = None, colors: Mapping[str, str] | None = None,
                  bands: Sequence[str] | None = None, dashed: Sequence[str] = ()) -> go.Figure:
    """Quality after ``n`` reactions, one line per system (``(n, value, lo, hi)`` points).

    A 95 % interval, when the points carry one (finite ``lo``/``hi``), is a light band —
    for every system, or only those in ``bands``. Systems in ``dashed`` (variants of
    another line) are dashed. The blend is drawn last, on top, and thicker.
    """
    systems = [s for s in curves if curves[s]]
    if not systems:
        return empty_figure("No warm-up curves")
    systems.sort(key=lambda s: s == "blend")
    data: list[dict] = []
    for system in systems:
        points = sorted(curves[system], key=lambda p: p[0])
        name = (labels or {}).get(system, system)
        color = (colors or {}).get(system, ACCENT_SOFT)
        xs = [int(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        band = [(x, float(p[2]), float(p[3])) for x, p in zip(xs, points)
                if math.isfinite(float(p[2])) and math.isfinite(float(p[3]))]
        if len(band) >= 2 and (bands is None or system in bands):
            data.append({"type": "scatter", "mode": "lines", "showlegend": False, "hoverinfo": "skip",
                         "x": [b[0] for b in band] + [b[0] for b in reversed(band)],
                         "y": [b[2] for b in band] + [b[1] for b in reversed(band)],
                         "fill": "toself", "fillcolor": _rgba(color, 0.14), "line": {"width": 0},
                         "name": f"{name} 95% interval"})
        wide = system == "blend"
        data.append({"type": "scatter", "mode": "lines+markers", "x": xs, "y": ys, "name": name,
                     "line": {"color": color, "width": 3.2 if wide else 2,
                              "dash": "dash" if system in dashed else "solid"},
                     "marker": {"color": color, "size": 9 if wide else 7, "line": {"width": 1, "color": "white"}},
                     "hovertemplate": f"{name} after %{{x}} reactions: {metric} %{{y:.4f}}<extra></extra>"})
    steps = sorted({int(p[0]) for s in systems for p in curves[s]})
    return _figure(data, height=340, show_legend=False,
                   xaxis={"title": "reactions so far", "tickvals": steps, "zeroline": False,
                          "showgrid": False},
                   yaxis={"title": metric, "rangemode": "tozero", "tickfont": {"color": MUTED}})


def _rgba(color: str, alpha: float) -> str:
    c = color.lstrip("#")
    if len(c) != 6:
        return f"rgba(79,70,229,{alpha})"
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


# --------------------------------------------------------------------------- Tune page

def weight_grid(alpha: Sequence[float], beta: Sequence[float], values: Sequence[float], *,
                metric: str, current: tuple[float, float, float] | None = None,
                best: tuple[float, float, float] | None = None) -> go.Figure:
    """Quality over the α/β/γ simplex as a triangular heat map (γ = 1 − α − β).

    Each grid point is a square marker at (α, β) coloured by the metric, so a click
    selects exactly one weight triple (``customdata`` = α, β, γ, value). The current
    slider position (normalised to sum 1) and the best point are marked.
    """
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    v = np.asarray(values, dtype=float)
    if a.size == 0:
        return empty_figure("No grid points")
    g = np.clip(1.0 - a - b, 0.0, 1.0)
    data: list[dict] = [{
        "type": "scatter", "mode": "markers", "name": "grid point", "x": _floats(a), "y": _floats(b),
        "customdata": np.stack([a, b, g, v], axis=1).tolist(), "showlegend": False,
        "marker": {"symbol": "square", "size": 31, "color": _floats(v),
                   "colorscale": [[0, "#EEF0FB"], [0.5, "#A5B4FC"], [1, "#3730A3"]], "showscale": True,
                   "colorbar": {"title": {"text": metric, "side": "right"}, "thickness": 12, "outlinewidth": 0,
                                "len": 0.85},
                   "line": {"width": 1, "color": "white"}},
        # A click selects a square; keep every square fully drawn instead of dimming the rest.
        "selected": {"marker": {"opacity": 1.0}}, "unselected": {"marker": {"opacity": 1.0}},
        "hovertemplate": ("α %{customdata[0]:.1f} · β %{customdata[1]:.1f} · γ %{customdata[2]:.1f}"
                          f"<br>{metric} %{{customdata[3]:.4f}}<extra></extra>")}]
    if best is not None:
        data.append({"type": "scatter", "mode": "markers", "name": "best", "x": [best[0]], "y": [best[1]],
                     "marker": {"symbol": "star", "size": 17, "color": "#FDE68A", "line": {"width": 1.5, "color": TEXT}},
                     "hoverinfo": "skip"})
    if current is not None:
        total = sum(current) or 1.0
        data.append({"type": "scatter", "mode": "markers", "name": "your sliders",
                     "x": [current[0] / total], "y": [current[1] / total],
                     "marker": {"symbol": "square-open", "size": 37, "color": BAD, "line": {"width": 3, "color": BAD}},
                     "hovertemplate": "your sliders: α %{x:.2f} · β %{y:.2f}<extra></extra>"})
    return _figure(
        data, height=540, legend={"y": -0.12, "yanchor": "top"}, margin={"t": 10, "b": 10, "l": 8, "r": 8},
        xaxis={"title": "α  (relevance r)", "range": [-0.07, 1.07], "dtick": 0.1, "zeroline": False,
               "showgrid": False, "fixedrange": True},
        yaxis={"title": "β  (collaborative filtering s)", "range": [-0.07, 1.07], "dtick": 0.1, "zeroline": False,
               "showgrid": False, "fixedrange": True, "tickfont": {"color": MUTED}},
        annotations=[{"text": "γ = 1 − α − β  (popularity prior b)", "x": 0.98, "y": 0.98, "xref": "paper",
                      "yref": "paper", "showarrow": False, "xanchor": "right", "font": {"size": 12, "color": MUTED}}])


# --------------------------------------------------------------------------- Data page

def rating_histogram(ratings: Sequence[float]) -> go.Figure:
    """How many ratings of each star value (0.5 … 5)."""
    values = np.asarray(ratings, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return empty_figure("No ratings")
    stars, counts = np.unique(np.round(values * 2) / 2, return_counts=True)
    trace = {"type": "bar", "x": _floats(stars), "y": [int(c) for c in counts], "marker": {"color": ACCENT},
             "hovertemplate": "★%{x}: %{y:,} ratings<extra></extra>"}
    return _figure([trace], height=300, show_legend=False,
                   xaxis={"title": "rating (stars)", "dtick": 0.5, "showgrid": False},
                   yaxis={"title": "ratings", "tickformat": "~s", "tickfont": {"color": MUTED}})


def long_tail(n_ratings: Sequence[int], *, head_share: float = 0.2, items: str = "movies",
              ratings: str = "ratings") -> go.Figure:
    """Ratings per movie, most popular first: the popularity long tail.

    The head (the ``head_share`` most-rated movies) is shaded and its share of all
    ratings is annotated.
    """
    counts = np.sort(np.asarray(n_ratings, dtype=float))[::-1]
    if counts.size == 0 or counts.sum() <= 0:
        return empty_figure(f"No {ratings}")
    rank = np.arange(1, counts.size + 1)
    head = max(1, round(counts.size * head_share))
    share = counts[:head].sum() / counts.sum()
    plotted = np.maximum(counts, 0.8)        # log axis: unrated movies sit just above 1
    # ~600 log-spaced points draw the same curve as every movie, ~20× lighter.
    keep = np.unique(np.concatenate([np.geomspace(1, counts.size, 600).astype(int) - 1, [head - 1]]))
    rank, plotted = rank[keep], plotted[keep]
    head_n = int(np.searchsorted(rank, head, side="right"))
    data = [
        {"type": "scatter", "mode": "lines", "fill": "tozeroy", "x": rank[:head_n].tolist(),
         "y": _floats(plotted[:head_n]), "line": {"color": ACCENT, "width": 1.5},
         "fillcolor": "rgba(79,70,229,0.25)", "name": f"head: top {head_share:.0%} of {items}",
         "hovertemplate": f"#%{{x}}: %{{y:,}} {ratings}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "fill": "tozeroy", "x": rank[head_n - 1:].tolist(),
         "y": _floats(plotted[head_n - 1:]), "line": {"color": "#94A3B8", "width": 1.5},
         "fillcolor": "rgba(148,163,184,0.18)", "name": "long tail",
         "hovertemplate": f"#%{{x}}: %{{y:,}} {ratings}<extra></extra>"},
    ]
    note = {"x": head, "y": float(np.log10(max(counts[0], 1.0))) * 0.75, "xref": "x", "yref": "y",
            "text": f"top {head_share:.0%} of {items} hold <b>{share:.0%}</b> of all {ratings}", "showarrow": False,
            "xanchor": "left", "xshift": 12, "font": {"color": TEXT, "size": 12}}
    return _figure(data, height=300, annotations=[note],
                   yaxis={"type": "log", "title": f"{ratings} (log scale)", "tickfont": {"color": MUTED},
                          "tickvals": [1, 10, 100, 1000], "ticktext": ["1", "10", "100", "1,000"]},
                   xaxis={"title": f"{items}, most rated first" if ratings == "ratings" else f"{items}, most {ratings} first", "showgrid": False})


def genre_counts(counts: Mapping[str, int], *, items: str = "movies") -> go.Figure:
    """Movies per genre (a movie counts once in each of its genres), largest on top."""
    rows = sorted(((g, int(c)) for g, c in counts.items() if c), key=lambda gc: gc[1])
    if not rows:
        return empty_figure("No genres")
    trace = {"type": "bar", "orientation": "h", "x": [c for _, c in rows], "y": [g for g, _ in rows],
             "marker": {"color": ACCENT}, "text": [f"{c:,}" for _, c in rows], "textposition": "outside",
             "cliponaxis": False, "textfont": {"color": MUTED, "size": 11},
             "hovertemplate": f"%{{y}}: %{{x:,}} {items}<extra></extra>"}
    return _figure([trace], height=_bar_height(len(rows), per_bar=21, extra=20), show_legend=False,
                   xaxis={"visible": False, "range": [0, rows[-1][1] * 1.15]},
                   yaxis={"tickfont": {"size": 12}, "showgrid": False})


def movies_per_decade(years: Sequence[int]) -> go.Figure:
    """Movies by release decade (unknown years left out)."""
    y = np.asarray(years, dtype=int)
    y = y[y > 0]
    if y.size == 0:
        return empty_figure("No release years")
    decades, counts = np.unique((y // 10) * 10, return_counts=True)
    trace = {"type": "bar", "x": [f"{d}s" for d in decades], "y": [int(c) for c in counts],
             "marker": {"color": ACCENT}, "hovertemplate": "%{x}: %{y:,} movies<extra></extra>"}
    return _figure([trace], height=300, show_legend=False, xaxis={"showgrid": False, "tickangle": -45},
                   yaxis={"title": "movies", "tickfont": {"color": MUTED}})
