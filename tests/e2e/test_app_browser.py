"""End-to-end: the real app in a real headless Chromium, the way a stakeholder uses it.

``streamlit run app.py`` on 127.0.0.1 (free port) + Debian Chromium through the pip
``playwright`` package. Skipped, with the reason, when Chromium or ``RECSYS_DATA_DIR`` is
missing. Screenshots (1440×900, full page) go to ``artifacts/screenshots/e2e-*.png``.
The first page load may have to build the item index on a cold cache (~90 s): only that
wait has a long timeout.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import ROOT, AppPage, StreamlitServer, browser, skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

FIRST_LOAD_TIMEOUT = 300.0     # cold caches: import torch, encode 9,742 movies, fit ALS
REQUEST = "mind-bending sci-fi like Inception, nothing gory, 90s is fine"


def _results_dir(folder: Path) -> Path:
    """Results for the Compare and Tune pages: the real files ($RECSYS_RESULTS_DIR, else
    assets/results) when present, otherwise small example files written here (never into the
    repository)."""
    folder.mkdir(parents=True, exist_ok=True)
    real = Path(os.environ.get("RECSYS_RESULTS_DIR") or ROOT / "assets" / "results")
    for name in ("evaluation-redial.json", "evaluation-warmup.json", "sweep-redial.csv"):
        if (real / name).exists():
            shutil.copy(real / name, folder / name)
    if not (folder / "evaluation-redial.json").exists():
        systems = {s: {"recall@10": v, "ndcg@10": v * 0.7, "ci95": {"recall@10": [v * 0.8, v * 1.2]}}
                   for s, v in (("random", 0.001), ("popularity", 0.03), ("llm", 0.04), ("cf", 0.06),
                                ("blend", 0.1))}
        (folder / "evaluation-redial.json").write_text(json.dumps(
            {"protocol": "redial", "n": 751, "k": 10, "parser": "builtin", "systems": systems}))
    if not (folder / "evaluation-warmup.json").exists():
        steps = ["0", "1", "3", "5", "10"]
        curves = {"random": [0.002] * 5, "popularity": [0.03] * 5, "llm": [0.04, 0.05, 0.06, 0.065, 0.07],
                  "cf": [0.0, 0.05, 0.09, 0.11, 0.14], "blend": [0.06, 0.08, 0.11, 0.13, 0.16]}
        (folder / "evaluation-warmup.json").write_text(json.dumps(
            {"protocol": "warmup", "n": 120, "k": 10,
             "systems": {s: {"curve": dict(zip(steps, v)),
                             "ci95": {k: [x * 0.85, x * 1.15] for k, x in zip(steps, v)}} for s, v in curves.items()}}))
    if not (folder / "sweep-redial.csv").exists():
        from recsys.evaluation.tuning import weight_grid

        rows = ["alpha,beta,gamma,recall@10,ndcg@10"]
        rows += [f"{a},{b},{g},{0.1 - (a - 0.4) ** 2 - (b - 0.4) ** 2:.4f},{0.05 - (a - 0.4) ** 2:.4f}"
                 for a, b, g in weight_grid(0.1)]
        (folder / "sweep-redial.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppPage]:
    results = _results_dir(tmp_path_factory.mktemp("results"))
    server = StreamlitServer(env={"RECSYS_RESULTS_DIR": str(results)}).start()
    try:
        with browser() as b:
            page = b.new_page(viewport={"width": 1440, "height": 900})
            app = AppPage(page, server.url)
            # The page draws at once and shows a progress bar while the models warm up.
            page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
            page.wait_for_selector(".fr-page-title", timeout=FIRST_LOAD_TIMEOUT * 1000)
            app.screenshot("e2e-00-first-paint", full_page=False)
            page.wait_for_selector(".fr-side-status:has-text('Ready')", timeout=FIRST_LOAD_TIMEOUT * 1000)
            app.settle(timeout=FIRST_LOAD_TIMEOUT)
            yield app
    finally:
        server.stop()


def _no_exception(app: AppPage) -> None:
    assert app.page.locator("[data-testid='stException']").count() == 0, "the page shows an exception"


def _cards(app: AppPage) -> Any:
    return app.page.locator(".fr-card")


def test_typed_request_shows_the_four_stages_and_a_list(app: AppPage) -> None:
    app.type_request(REQUEST)
    app.click_button("Recommend")
    page = app.page
    page.wait_for_selector("#stage-4 >> text=Final list", timeout=120_000)
    page.wait_for_selector(".fr-card", timeout=120_000)
    app.settle(timeout=120)
    for title in ("Parsed intent", "Relevance-scored candidates", "CF adjustments", "Final list"):
        assert page.locator(".fr-stage-title", has_text=title).count() == 1, title
    # Stage 1: the request is highlighted — liked genre, the named title, struck-out dislike.
    assert page.locator(".fr-quote .hl-genre", has_text="sci-fi").count() >= 1
    assert page.locator(".fr-quote .hl-title", has_text="Inception").count() == 1
    assert page.locator(".fr-quote .hl-neg").count() >= 1
    assert page.locator(".chip-title", has_text="Inception").count() >= 1
    # Stages 2-3 render their charts; stage 4 the cards with a contribution bar each.
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 3
    assert _cards(app).count() == 10
    assert page.locator(".fr-card .fr-contrib-bar").count() == 10
    _no_exception(app)
    app.screenshot("e2e-01-recommend")
    app.screenshot("e2e-01-recommend-top", full_page=False)


def test_moving_a_slider_reblends_the_list(app: AppPage) -> None:
    page = app.page
    mix_before = page.inner_text(".fr-mix-labels")
    timing_before = page.inner_text("#blend-timing")
    app.nudge_slider("beta", 8)               # β 0.30 → 0.70
    page.wait_for_function(
        "([before]) => { const e = document.querySelector('#blend-timing'); return e && e.innerText !== before; }",
        arg=[timing_before], timeout=30_000)
    app.settle()
    assert page.inner_text(".fr-mix-labels") != mix_before
    # the formula shows the weights actually applied: sliders 0.5 / 0.7 / 0.2 rescaled to sum 1
    assert "0.50·ŝ" in page.inner_text("#stage-4")
    assert _cards(app).count() == 10
    _no_exception(app)
    app.screenshot("e2e-02-after-slider")


def test_a_like_changes_the_list_at_once(app: AppPage) -> None:
    page = app.page
    before = app.card_ids()
    assert len(before) == 10
    liked = page.locator(f".fr-card[data-movie-id='{before[0]}'] .fr-card-title").get_attribute("title")
    app.scroll_to("#stage-4")
    app.react("like", before[0])
    after = app.card_ids()
    assert len(after) == 10 and before[0] not in after and after != before
    assert page.locator(".fr-history li .fr-history-t").first.inner_text() == liked
    assert page.locator(".fr-history .fr-moved-in").count() == 1          # what entered the list…
    assert page.locator(".fr-history .fr-moved-out").count() == 1         # …and what left it
    assert page.locator(".fr-count-like b").inner_text() == "1"
    timing = app.reaction_timing()
    assert timing is not None and timing[1] > 0
    # The sidebar's latency follows the reaction.
    assert "after liked" in page.inner_text("[data-testid='stSidebar']")
    _no_exception(app)
    page.wait_for_timeout(300)
    app.screenshot("e2e-10-after-like", full_page=False)
    # The live panel stays in view beside the cards while the list scrolls (sticky).
    page.locator(".fr-card").nth(7).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = page.locator(".st-key-live_panel").bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    app.screenshot("e2e-10-after-like-scrolled", full_page=False)
    app.screenshot("e2e-10-after-like-full")


def test_chinese_example_prompt(app: AppPage) -> None:
    page = app.page
    page.locator(".st-key-example_pick button", has_text="九十年代科幻").click()
    page.wait_for_selector(".fr-quote:has-text('九十年代')", timeout=120_000)
    page.wait_for_selector(".fr-card", timeout=120_000)
    app.settle(timeout=120)
    assert page.locator(".fr-quote .hl-era").count() >= 1          # 九十年代 → 1990s
    assert page.locator(".chip-like", has_text="Sci-Fi").count() >= 1
    assert page.locator(".chip-dislike", has_text="Horror").count() >= 1
    assert _cards(app).count() == 10
    _no_exception(app)
    app.screenshot("e2e-03-chinese")


@pytest.mark.parametrize(("title", "marker", "shot"), [
    ("Compare", "How does the blend stack up?", "e2e-04-compare"),
    ("Tune", "Tune the blend", "e2e-05-tune"),
    ("Data & about", "Data licences and attributions", "e2e-06-data-about"),
    ("Recommend", "What do you feel like watching?", "e2e-07-back-to-recommend"),
])
def test_every_page_renders(app: AppPage, title: str, marker: str, shot: str) -> None:
    app.goto_page(title, timeout=120)
    app.page.wait_for_selector(f"[data-testid='stMain'] >> text={marker}", timeout=120_000)
    app.settle(timeout=120)
    assert marker in app.text()
    _no_exception(app)
    if title == "Compare":
        assert app.page.locator(".fr-list").count() == 5           # random, popularity, LLM, CF, blend
    if title == "Data & about":
        assert "Harper" in app.text() and "CC BY 4.0" in app.text()
    if title == "Recommend":
        # The request and the weights survived the page switches.
        assert _cards(app).count() == 10
        assert "0.70" in app.page.inner_text(".st-key-beta")
    app.screenshot(shot)


def test_clicking_a_tune_square_moves_the_sliders(app: AppPage) -> None:
    page = app.page
    app.goto_page("Tune", timeout=120)
    square = page.locator(".st-key-tune_grid .scatterlayer .trace").first.locator("path.point").nth(20)
    square.wait_for(timeout=30_000)
    before = [page.inner_text(f".st-key-{k} [data-testid='stSliderThumbValue']") for k in ("alpha", "beta", "gamma")]
    box = square.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "([before]) => ['alpha', 'beta', 'gamma'].some((k, i) => { const e = document.querySelector("
        "`.st-key-${k} [data-testid='stSliderThumbValue']`); return e && e.innerText !== before[i]; })",
        arg=[before], timeout=60_000)
    app.settle(started_grace=1.0)
    after = [page.inner_text(f".st-key-{k} [data-testid='stSliderThumbValue']") for k in ("alpha", "beta", "gamma")]
    assert after != before
    assert sum(float(v) for v in after) == pytest.approx(1.0)
    _no_exception(app)
    app.screenshot("e2e-09-tune-after-click")
    app.goto_page("Recommend", timeout=120)


def test_empty_prompt_gives_a_friendly_message(app: AppPage) -> None:
    page = app.page
    area = page.locator(".st-key-request_box textarea")
    area.fill("")
    app.click_button("Recommend")
    page.wait_for_selector("[data-testid='stAlert']:has-text(\"Tell us what you'd like to watch\")", timeout=60_000)
    app.settle()
    assert page.locator("[data-testid='stAlert']", has_text="Tell us what you'd like to watch").count() == 1
    assert _cards(app).count() == 0
    _no_exception(app)
    app.screenshot("e2e-08-empty-prompt", full_page=False)
