"""Web-app speed, measured in a real browser: ``python bench/app_speed.py``.

Starts ``streamlit run app.py`` on 127.0.0.1 (warm disk caches expected: run
``python -m recsys index`` once before), drives headless Chromium through the pip
``playwright`` package (Debian ``/usr/bin/chromium``) and prints a Markdown table:

* server start → first paint of the Recommend page, and → models ready (warm disk caches);
* a new session on a running server → Recommend page rendered (the "first render");
* a typed request → the final list on screen;
* a weight-slider move → re-blend and re-render of the final list and the panel beside it,
  *server-side* (the page's own "Re-blended in … · rendered in … (server)" caption), plus
  what the browser sees from the key press to the new list (includes the slider's input
  debounce);
* a reaction (👍 / 👎 / seen it on a card, warm caches) → the live session's update, the
  updated list rendered and stages 2–4 done, *server-side* (the page's own "Last reaction:
  engine … · list updated in … · stages 2–4 done in … (server)" caption), plus the click →
  card gone in the browser;
* page switches (click in the navigation → page idle);
* how many times the engine was loaded across all of it (must be 1).

Needs ``RECSYS_DATA_DIR`` (and ``RECSYS_CACHE_DIR`` as used by ``python -m recsys index``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import AppPage, StreamlitServer, browser, skip_reason  # noqa: E402

REQUESTS = [
    "mind-bending sci-fi like Inception, nothing gory, 90s is fine",
    "a clever heist movie with a twist, no romance please",
    "我喜欢九十年代的科幻片，不要恐怖片",
]
PAGES = ["Compare", "Tune", "Data & about", "Recommend"]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(moves: int, rounds: int, reactions: int) -> list[tuple[str, str, str]]:
    log = ROOT / "artifacts" / "app-speed-server.log"
    started = time.perf_counter()
    server = StreamlitServer(log_path=log).start(timeout=120)
    rows: list[tuple[str, str, str]] = []
    try:
        with browser() as b:
            # --- a fresh server: first paint, then models ready
            page = b.new_page(viewport={"width": 1440, "height": 900})
            app = AppPage(page, server.url)
            page.goto(server.url, wait_until="domcontentloaded")
            page.wait_for_selector(".fr-page-title", timeout=300_000)
            first_paint = time.perf_counter() - started
            page.wait_for_selector(".fr-side-status:has-text('Ready')", timeout=300_000)
            app.settle(timeout=300)
            ready = time.perf_counter() - started
            rows.append(("fresh server → Recommend page painted (input usable)", f"{first_paint:.1f} s", ""))
            rows.append(("fresh server → models loaded, page ready (warm disk caches)", f"{ready:.1f} s", ""))
            page.close()

            # --- new sessions on the running server: the first render of Recommend
            paints, renders = [], []
            for _ in range(rounds):
                ctx = b.new_context(viewport={"width": 1440, "height": 900})
                p = ctx.new_page()
                t0 = time.perf_counter()
                p.goto(server.url, wait_until="domcontentloaded")
                p.wait_for_selector(".st-key-request_box textarea", timeout=60_000)
                paints.append(time.perf_counter() - t0)
                p.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
                renders.append(time.perf_counter() - t0)
                ctx.close()
            rows.append((f"first render of Recommend, new session: request box usable (median of {rounds})",
                         f"{_median(paints):.2f} s", "≤ 5 s"))
            rows.append((f"first render of Recommend, new session: page complete (median of {rounds})",
                         f"{_median(renders):.2f} s", "≤ 5 s"))

            # --- a typed request → final list
            ctx = b.new_context(viewport={"width": 1440, "height": 900})
            page = ctx.new_page()
            app = AppPage(page, server.url)
            app.open(timeout=60)
            firsts = []
            for text in REQUESTS:
                t0 = time.perf_counter()
                app.type_request(text)
                app.click_button("Recommend")
                page.wait_for_selector("#blend-timing", timeout=60_000)
                app.settle(timeout=60)
                firsts.append(time.perf_counter() - t0)
            rows.append((f"typed request → final list on screen (median of {len(firsts)})",
                         f"{_median(firsts):.2f} s", ""))

            # --- slider moves: server-side fragment time and browser round trip
            server_ms, reblend_ms, browser_ms = [], [], []
            direction = 1
            for n in range(moves):
                before = page.inner_text("#blend-timing")
                t0 = time.perf_counter()
                thumb = app.slider_thumb("beta")
                thumb.focus()
                thumb.press("ArrowRight" if direction > 0 else "ArrowLeft")
                page.wait_for_function(
                    "([b]) => { const e = document.querySelector('#blend-timing'); return e && e.innerText !== b; }",
                    arg=[before], timeout=30_000)
                browser_ms.append((time.perf_counter() - t0) * 1000)
                app.settle()
                timing = app.blend_timing()
                if timing:
                    reblend_ms.append(timing[0])
                    server_ms.append(timing[1])
                if n % 6 == 5:
                    direction = -direction
            rows.append((f"slider move → engine re-blend, server (median / p95 of {len(reblend_ms)})",
                         f"{_median(reblend_ms):.1f} / {_p95(reblend_ms):.1f} ms", ""))
            rows.append(("slider move → list and live panel re-blended and re-rendered, server (median / p95)",
                         f"{_median(server_ms):.0f} / {_p95(server_ms):.0f} ms", "≤ 300 ms"))
            rows.append(("slider move → new list in the browser, incl. the slider's input debounce (median)",
                         f"{_median(browser_ms):.0f} ms", ""))

            # --- reactions on cards: server-side update and render, browser round trip
            engine_ms, list_ms, done_ms, all_ms, gone_ms = [], [], [], [], []
            app.type_request(REQUESTS[0])
            app.click_button("Recommend")
            page.wait_for_selector("#blend-timing", timeout=60_000)
            app.settle(timeout=60)
            app.scroll_to("#stage-4")
            kinds = ("like", "dislike", "seen")
            for n in range(reactions):
                if n and n % 5 == 0:                       # a fresh profile every 5 reactions
                    page.locator(".st-key-reset_reactions button").first.click()
                    app.settle()
                ids = app.card_ids()
                target = ids[n % min(3, len(ids))]
                t0 = time.perf_counter()
                page.locator(f".st-key-{kinds[n % 3]}-{target} button").first.click()
                page.wait_for_function("(id) => !document.querySelector(`.fr-card[data-movie-id='${id}']`)",
                                       arg=target, timeout=30_000)
                gone_ms.append((time.perf_counter() - t0) * 1000)
                app.settle()
                timing = app.reaction_timing()
                if timing:
                    engine_ms.append(timing[0])
                    list_ms.append(timing[1])
                    done_ms.append(timing[2])
                settled = app.reaction_settled_ms()
                if settled is not None:
                    all_ms.append(settled)
            rows.append((f"reaction → live session updated (engine re-run), server (median / p95 of {len(engine_ms)})",
                         f"{_median(engine_ms):.0f} / {_p95(engine_ms):.0f} ms", ""))
            rows.append(("reaction → updated list rendered, server (median / p95)",
                         f"{_median(list_ms):.0f} / {_p95(list_ms):.0f} ms", "≤ 150 ms"))
            rows.append(("reaction → stages 2–4 and the live panel done, server (median / p95)",
                         f"{_median(done_ms):.0f} / {_p95(done_ms):.0f} ms", ""))
            rows.append(("reaction → whole page settled (stage 3, the last fragment), server (median / p95)",
                         f"{_median(all_ms):.0f} / {_p95(all_ms):.0f} ms", ""))
            rows.append(("reaction → card gone in the browser, click to repaint (median)",
                         f"{_median(gone_ms):.0f} ms", ""))

            # --- page switches
            switches: dict[str, list[float]] = {p: [] for p in PAGES}
            for _ in range(rounds):
                for title in PAGES:
                    switches[title].append(app.goto_page(title, timeout=120))
            for title in PAGES:
                rows.append((f"page switch → {title} (median of {rounds}; first visit included)",
                             f"{_median(switches[title]):.2f} s", ""))
            ctx.close()
    finally:
        server.stop()
    loads = log.read_text(encoding="utf-8", errors="replace").count("recsys-app: engine loaded")
    rows.append(("engine loads in the server process (all sessions and pages above)", str(loads), "1"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=20, help="slider moves to time (20)")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of renders and page switches (3)")
    parser.add_argument("--reactions", type=int, default=15, help="card reactions to time (15)")
    args = parser.parse_args()
    reason = skip_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    rows = run(args.moves, args.rounds, args.reactions)
    print(f"Browser: headless Chromium 1440×900 · {os.cpu_count()} cores · Python {platform.python_version()} · "
          "warm disk caches\n")
    print("| measure | result | target |")
    print("|---|---|---|")
    for measure, result, target in rows:
        print(f"| {measure} | {result} | {target} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
