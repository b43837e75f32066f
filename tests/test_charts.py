"""The web app's plotly figure builders (``recsys/charts.py``): AppTest cannot look inside a
plotly chart, so the figures are checked here — right data, right order, right colours."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from recsys import charts


def _serialisable(fig: go.Figure) -> dict:
    """What Streamlit sends to the browser."""
    return json.loads(pio.to_json(fig, validate=False))


def test_every_builder_returns_a_serialisable_figure_with_the_shared_look() -> None:
    figures = [
        charts.genre_interest_bar([("Sci-Fi", 0.7), ("Drama", 0.2)]),
        charts.relevance_bar(["A (1999)"], {"similarity": [0.5]}, [0.5]),
        charts.score_scatter([0.1], [0.2], ["A"], ["llm"]),
        charts.contribution_bar(["A"], [0.4], [0.2], [0.1]),
        charts.overlap_heatmap(["a", "b"], [[1, 0.5], [0.5, 1]]),
        charts.benchmark_bar(["a", "b"], [0.1, 0.2], metric="Recall@10"),
        charts.metric_bars(["a", "b"], [0.5, None], title="Liked-genre match"),
        charts.weight_grid([0.5], [0.3], [0.1], metric="NDCG@10"),
        charts.rating_histogram([4.0, 3.5, 5.0]),
        charts.long_tail([10, 5, 1, 0]),
        charts.genre_counts({"Drama": 3, "Comedy": 2}),
        charts.movies_per_decade([1994, 1999, 2001]),
        charts.interest_distribution([("Sci-Fi", 0.6), ("Drama", 0.4)], [("Sci-Fi", 0.5)]),
        charts.warmup_curves({"blend": [(0, 0.05, 0.04, 0.06), (1, 0.08, float("nan"), float("nan"))]},
                             metric="Recall@10"),
    ]
    for fig in figures:
        assert isinstance(fig, go.Figure)
        spec = _serialisable(fig)
        assert spec["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
        assert "Source Sans" in spec["layout"]["font"]["family"]


def test_empty_inputs_give_a_figure_that_says_so() -> None:
    for fig in (charts.genre_interest_bar([]), charts.relevance_bar([], {}, []), charts.score_scatter([], [], [], []),
                charts.contribution_bar([], [], [], []), charts.overlap_heatmap([], []),
                charts.benchmark_bar([], [], metric="x"), charts.weight_grid([], [], [], metric="x"),
                charts.rating_histogram([]), charts.long_tail([]), charts.genre_counts({}),
                charts.movies_per_decade([0, 0]), charts.interest_distribution([]), charts.warmup_curves({}, metric="x")):
        assert len(fig.data) == 0
        assert fig.layout.annotations and fig.layout.annotations[0].text


def test_genre_interest_is_sorted_capped_and_coloured_by_intent() -> None:
    affinity = [("Drama", 0.1), ("Sci-Fi", 0.6), ("Horror", 0.2), ("Comedy", 0.05), ("War", 0.05)]
    fig = charts.genre_interest_bar(affinity, liked=["Sci-Fi"], disliked=["Horror"], top=3)
    bar = fig.data[0]
    assert list(bar.y) == ["Drama", "Horror", "Sci-Fi"]           # largest drawn on top (last)
    colours = dict(zip(bar.y, bar.marker.color))
    assert colours["Sci-Fi"] == charts.GOOD and colours["Horror"] == charts.BAD
    assert colours["Drama"] == charts.ACCENT_SOFT
    assert list(bar.text) == ["10%", "20%", "60%"]


def test_relevance_bar_stacks_the_terms_of_r_and_marks_the_total() -> None:
    comps = {"similarity": [0.5, 0.4], "genres": [0.1, 0.0], "disliked_genres": [0.0, -0.2],
             "keywords": [0.0, 0.0], "mystery_term": [0.05, 0.05]}
    fig = charts.relevance_bar(["Alpha (1999)", "Beta (2001)"], comps, [0.65, 0.25])
    names = [t.name for t in fig.data]
    assert names[:3] == ["Text similarity", "Liked genre", "Disliked genre"]
    assert "Keyword" not in names                            # all-zero terms are left out
    assert "Mystery term" in names                                 # unknown terms still shown
    assert fig.layout.barmode == "relative"                        # penalties stack left of 0
    total = fig.data[-1]
    assert total.name == "r" and list(total.x) == [0.65, 0.25]
    key = dict(charts.legend_items(fig))                           # the page draws the legend itself
    assert key["Text similarity"] == charts.ACCENT and key["r"] == charts.TEXT
    assert list(fig.data[0].y) == ["1. Alpha (1999)", "2. Beta (2001)"]
    assert fig.layout.yaxis.autorange == "reversed"                # rank 1 on top


def test_score_scatter_groups_points_and_draws_the_cutoff() -> None:
    r = [0.9, 0.8, 0.2, 0.5]
    s = [0.9, 0.1, 0.8, 0.3]
    fig = charts.score_scatter(r, s, ["a", "b", "c", "d"], ["final", "llm", "injected", "cf"],
                               weights=(0.5, 0.5, 0.0))
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["In the final list"].x) == [0.9]
    assert list(by_name["Final list, injected by CF"].text) == ["c"]
    assert list(by_name["CF candidate"].y) == [0.3]
    line = by_name["cut-off α·r̂ + β·ŝ"]
    # The cut-off passes through the weakest listed item: α·r̂ + β·ŝ = 0.5 (item c).
    xs, ys = np.asarray(line.x), np.asarray(line.y)
    assert np.allclose(0.5 * xs + 0.5 * ys, 0.5)


def test_score_scatter_without_cf_weight_has_no_cutoff() -> None:
    fig = charts.score_scatter([0.9], [0.9], ["a"], ["final"], weights=(1.0, 0.0, 0.0))
    assert all("cut-off" not in (t.name or "") for t in fig.data)


def test_contribution_bar_stacks_alpha_beta_gamma_with_signal_colours() -> None:
    fig = charts.contribution_bar(["A", "B"], [0.5, 0.2], [0.3, 0.4], [0.1, 0.0])
    bars = [t for t in fig.data if t.type == "bar"]
    assert [b.marker.color for b in bars] == [charts.SIGNAL_COLORS[k] for k in "rsb"]
    assert fig.layout.barmode == "stack"
    labels = fig.data[-1]
    assert list(labels.text) == ["0.90", "0.60"]


def test_overlap_heatmap_is_bounded_and_labelled() -> None:
    fig = charts.overlap_heatmap(["Random", "Blend"], [[1.0, 0.0], [0.25, 1.0]])
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax) == (0, 1)
    assert heat.text[1][0] == "25%"


def test_benchmark_bar_error_bars_follow_the_intervals() -> None:
    fig = charts.benchmark_bar(["Random", "Blend"], [0.001, 0.1], metric="Recall@10",
                               ci=[(0.0, 0.003), (0.08, 0.11)], colors=["#CBD5E1", charts.ACCENT])
    bar = fig.data[0]
    assert list(bar.error_y.array) == pytest.approx([0.002, 0.01])
    assert list(bar.error_y.arrayminus) == pytest.approx([0.001, 0.02])
    assert fig.layout.yaxis.range[1] >= 0.11                        # the top of the interval is visible
    assert list(bar.textfont.color) == [charts.TEXT, "white"]       # readable on light and dark bars


def test_metric_bars_mark_missing_values() -> None:
    fig = charts.metric_bars(["a", "b"], [0.5, None], title="Liked-genre match")
    assert list(fig.data[0].text) == ["50%", "n/a"]


def test_weight_grid_puts_each_triple_in_customdata_and_marks_best_and_current() -> None:
    from recsys.evaluation.tuning import weight_grid as grid

    points = grid(0.5)                                             # 6 points
    a = [p[0] for p in points]
    b = [p[1] for p in points]
    v = [p[0] for p in points]
    fig = charts.weight_grid(a, b, v, metric="NDCG@10", current=(1.0, 1.0, 0.0), best=(1.0, 0.0, 0.0))
    cells = fig.data[0]
    assert len(cells.x) == 6
    for (alpha, beta, gamma, value) in cells.customdata:
        assert alpha + beta + gamma == pytest.approx(1.0)
        assert value == pytest.approx(alpha)
    by_name = {t.name: t for t in fig.data}
    assert (by_name["best"].x[0], by_name["best"].y[0]) == (1.0, 0.0)
    assert (by_name["your sliders"].x[0], by_name["your sliders"].y[0]) == (0.5, 0.5)   # normalised


def test_rating_histogram_counts_half_stars() -> None:
    fig = charts.rating_histogram([0.5, 4.0, 4.0, 4.5, np.nan])
    assert list(fig.data[0].x) == [0.5, 4.0, 4.5]
    assert list(fig.data[0].y) == [1, 2, 1]


def test_long_tail_shades_the_head_and_states_its_share() -> None:
    counts = [100] * 10 + [1] * 90                                 # top 10 % of movies: 1000 of 1090 ratings
    fig = charts.long_tail(counts, head_share=0.1)
    head, tail = fig.data
    assert max(head.x) == 10 and min(tail.x) == 10                 # the two areas meet at the head's edge
    assert "92%" in fig.layout.annotations[0].text
    assert fig.layout.yaxis.type == "log"


def test_long_tail_of_a_large_catalogue_is_downsampled() -> None:
    fig = charts.long_tail(np.arange(10_000))
    assert sum(len(t.x) for t in fig.data) < 1_000
    assert max(fig.data[-1].x) == 10_000                           # the tail still reaches the end


def test_genre_counts_and_decades() -> None:
    fig = charts.genre_counts({"Drama": 10, "Comedy": 7, "Empty": 0})
    assert list(fig.data[0].y) == ["Comedy", "Drama"]              # largest on top, zeros dropped
    fig = charts.movies_per_decade([1994, 1999, 2001, 0])
    assert list(fig.data[0].x) == ["1990s", "2000s"] and list(fig.data[0].y) == [2, 1]


def test_shorten_keeps_short_labels() -> None:
    assert charts.shorten("Heat (1995)") == "Heat (1995)"
    assert charts.shorten("x" * 50, 10) == "x" * 9 + "…"


def test_interest_distribution_keeps_the_top_genres_largest_on_top() -> None:
    shares = [("Drama", 0.1), ("Sci-Fi", 0.5), ("Thriller", 0.25), ("Comedy", 0.1), ("War", 0.05)]
    fig = charts.interest_distribution(shares, top=3, avoided=["Comedy", "Drama"])
    bar = fig.data[0]
    assert list(bar.y) == ["Drama", "Thriller", "Sci-Fi"]            # largest drawn on top (last)
    assert dict(zip(bar.y, bar.marker.color)) == {"Drama": charts.BAD, "Thriller": charts.ACCENT,
                                                 "Sci-Fi": charts.ACCENT}
    labels = fig.data[-1]
    assert [t.strip() for t in labels.text] == ["10%", "25%", "50%"]
    assert all(t.name != "before your last reaction" for t in fig.data)    # no previous: no ticks


def test_interest_distribution_shows_where_each_share_was_before() -> None:
    before = [("Sci-Fi", 0.75), ("Action", 0.05)]
    now = [("Sci-Fi", 0.62), ("Action", 0.13), ("Drama", 0.05)]
    fig = charts.interest_distribution(now, before)
    by_name = {t.name: t for t in fig.data}
    ticks = by_name["before your last reaction"]
    assert dict(zip(ticks.y, ticks.x)) == {"Drama": 0.0, "Action": 0.05, "Sci-Fi": 0.75}
    labels = {y: t.strip() for y, t in zip(fig.data[-1].y, fig.data[-1].text)}
    assert labels == {"Sci-Fi": "62% ▼13", "Action": "13% ▲8", "Drama": "5% ▲5"}
    # Labels sit right of the bar or the tick, whichever is further out.
    assert dict(zip(fig.data[-1].y, fig.data[-1].x))["Sci-Fi"] == 0.75
    assert fig.layout.xaxis.range[1] > 0.75


def test_interest_distribution_by_name_orders_decades_in_time() -> None:
    fig = charts.interest_distribution([("2000s", 0.2), ("1990s", 0.7), ("1980s", 0.1)], by="name")
    assert list(fig.data[0].y) == ["2000s", "1990s", "1980s"]           # 1980s on top, 2000s at the bottom


def test_warmup_curves_draw_a_line_per_system_and_bands_where_intervals_exist() -> None:
    nan = float("nan")
    curves = {"blend": [(0, 0.05, 0.04, 0.06), (3, 0.1, 0.08, 0.12), (1, 0.07, 0.06, 0.08)],
              "random": [(0, 0.001, nan, nan), (3, 0.001, nan, nan)]}
    fig = charts.warmup_curves(curves, metric="Recall@10", labels={"blend": "Blend", "random": "Random"},
                               colors={"blend": charts.ACCENT, "random": "#CBD5E1"})
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["Random", "Blend"]              # the blend is drawn last, on top
    blend = lines[-1]
    assert list(blend.x) == [0, 1, 3] and list(blend.y) == [0.05, 0.07, 0.1]
    assert blend.line.width > lines[0].line.width
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(bands) == 1 and list(bands[0].x) == [0, 1, 3, 3, 1, 0]      # along the top, back along the bottom
    assert list(bands[0].y) == [0.06, 0.08, 0.12, 0.08, 0.06, 0.04]
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 3]


def test_the_adapter_term_has_its_own_label() -> None:
    fig = charts.relevance_bar(["A (1999)"], {"similarity": [0.5], "adapter": [0.1]}, [0.6])
    assert [t.name for t in fig.data] == ["Text similarity", "Trained adapter", "r"]


def test_warmup_curves_can_limit_bands_and_dash_variants() -> None:
    curves = {"blend": [(0, 0.05, 0.04, 0.06), (1, 0.07, 0.06, 0.08)],
              "blend-auto": [(0, 0.05, 0.04, 0.06), (1, 0.09, 0.08, 0.1)]}
    fig = charts.warmup_curves(curves, metric="Recall@10", bands=("blend",), dashed=("blend-auto",))
    assert len([t for t in fig.data if t.fill == "toself"]) == 1
    dash = {t.name: t.line.dash for t in fig.data if t.mode == "lines+markers"}
    assert dash == {"blend-auto": "dash", "blend": "solid"}


def test_charts_name_your_catalogue_categories() -> None:
    import numpy as np

    from recsys import charts

    fig = charts.relevance_bar(["Rose shears", "Catan"], {"similarity": np.array([0.5, 0.4]),
                                                          "genres": np.array([0.1, 0.0])},
                               np.array([0.6, 0.4]), category="category")
    names = [trace.name for trace in fig.data]
    assert "Liked category" in names and not any("genre" in n for n in names)
    empty = charts.genre_interest_bar([], category="category")
    assert "No category signal" in str(empty.layout)
