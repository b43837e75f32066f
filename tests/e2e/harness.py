"""A real-browser harness for the web app: ``streamlit run app.py`` + headless Chromium.

Used by the end-to-end tests (``tests/e2e``) and the speed bench (``bench/app_speed.py``).
The server binds 127.0.0.1 on a free port; Chromium is the Debian package
(``/usr/bin/chromium``) driven through the pip ``playwright`` package — never
``playwright install``. After each interaction :meth:`AppPage.settle` waits until the
app reports ``data-test-script-state="notRunning"``, the way Streamlit tests itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RUNNING = "[data-testid='stApp'][data-test-script-state='running']"


def chromium_path() -> str | None:
    """The system Chromium, if installed."""
    for candidate in (os.environ.get("RECSYS_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def skip_reason() -> str | None:
    """Why browser tests cannot run here (None when they can)."""
    if not os.environ.get("RECSYS_DATA_DIR"):
        return "browser test: set RECSYS_DATA_DIR to an ml-latest-small folder to run it"
    if chromium_path() is None:
        return "browser test: Chromium not found (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser test: the playwright pip package is not installed"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StreamlitServer:
    """``streamlit run app.py`` on 127.0.0.1 in a subprocess (stopped by :meth:`stop`)."""

    def __init__(self, *, port: int | None = None, env: dict[str, str] | None = None,
                 log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.log_path = log_path or (ROOT / "artifacts" / "streamlit-e2e.log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> StreamlitServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        return self
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"streamlit did not become healthy in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None


@contextmanager
def browser(width: int = 1440, height: int = 900) -> Iterator[Any]:
    """A headless Chromium browser (playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError("Chromium not found")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class AppPage:
    """One browser tab on the app, with helpers that wait the Streamlit way."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self, path: str = "", *, timeout: float = 60.0) -> float:
        """Load a page; return seconds until the app is idle with content drawn."""
        started = time.perf_counter()
        self.page.goto(f"{self.base_url}/{path}", wait_until="domcontentloaded", timeout=timeout * 1000)
        self.settle(timeout=timeout)
        return time.perf_counter() - started

    def settle(self, *, timeout: float = 30.0, started_grace: float = 0.5) -> None:
        """Wait until the script stops running (after an interaction or a load)."""
        page = self.page
        page.wait_for_selector("[data-testid='stApp']", timeout=timeout * 1000)
        # A rerun may take a moment to start after an input event.
        with contextlib.suppress(Exception):      # it may already have finished
            page.wait_for_selector(RUNNING, timeout=started_grace * 1000)
        page.wait_for_selector(IDLE, timeout=timeout * 1000)
        # Elements from the previous run fade out ("stale") until replaced: wait them out.
        page.wait_for_timeout(150)
        page.wait_for_selector(IDLE, timeout=timeout * 1000)

    def text(self) -> str:
        return str(self.page.inner_text("[data-testid='stMain']"))

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        """Save ``artifacts/screenshots/<name>.png``; ``full_page`` grows the viewport to the
        height of Streamlit's scrolling main area (the document itself does not scroll)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page = self.page
        size = page.viewport_size
        if full_page and size:
            height = int(page.evaluate(
                "() => { const m = document.querySelector('[data-testid=stMain]');"
                " return m ? m.scrollHeight : document.body.scrollHeight; }"))
            if height > size["height"]:
                page.set_viewport_size({"width": size["width"], "height": min(height, 16000)})
                page.wait_for_timeout(400)
                page.screenshot(path=str(path))
                page.set_viewport_size(size)
                page.wait_for_timeout(100)
                return path
        page.screenshot(path=str(path))
        return path

    def type_request(self, text: str) -> None:
        area = self.page.locator(".st-key-request_box textarea")
        area.click()
        area.fill(text)

    def click_button(self, name: str) -> None:
        self.page.get_by_role("button", name=name).first.click()

    def goto_page(self, title: str, *, timeout: float = 60.0) -> float:
        """Click a page in the top navigation; seconds until idle."""
        started = time.perf_counter()
        self.page.locator("[data-testid='stTopNavLink'], [data-testid='stSidebarNavLink']").filter(
            has_text=title).first.click()
        self.settle(timeout=timeout)
        return time.perf_counter() - started

    def slider_thumb(self, key: str) -> Any:
        return self.page.locator(f".st-key-{key} input[type='range'], .st-key-{key} [role='slider']").first

    def nudge_slider(self, key: str, steps: int) -> None:
        """Move a slider by keyboard (each step = the slider's step)."""
        thumb = self.slider_thumb(key)
        thumb.focus()
        keyname = "ArrowRight" if steps > 0 else "ArrowLeft"
        for _ in range(abs(steps)):
            thumb.press(keyname)
        # The slider commits its value after a short debounce: wait for the rerun to start.
        self.settle(started_grace=3.0)

    def scroll_to(self, selector: str) -> None:
        """Scroll the main area so ``selector`` sits at the top of the viewport."""
        self.page.eval_on_selector(selector, "e => e.scrollIntoView({block: 'start'})")
        self.page.wait_for_timeout(300)

    def card_ids(self) -> list[str]:
        """movieIds of the recommendation cards on screen, in rank order."""
        return [str(v) for v in self.page.eval_on_selector_all(
            ".fr-card", "cards => cards.map(c => c.getAttribute('data-movie-id'))")]

    def react(self, kind: str, movie_id: str, *, timeout: float = 30.0) -> None:
        """Click 👍 (``like``), 👎 (``dislike``) or "seen it" (``seen``) on a card and wait until
        that card has left the list and the app is idle."""
        self.page.locator(f".st-key-{kind}-{movie_id} button").first.click()
        self.page.wait_for_function(
            "(id) => !document.querySelector(`.fr-card[data-movie-id='${id}']`)", arg=movie_id,
            timeout=timeout * 1000)
        self.settle(timeout=timeout)

    def reaction_timing(self) -> tuple[float, float, float] | None:
        """The server-side (engine ms, list updated ms, stages done ms) of the last reaction."""
        loc = self.page.locator("#react-timing")
        if not loc.count():
            return None
        match = re.search(r"engine ([\d.]+) ms · list updated in ([\d.]+) ms · stages [\d–]+ done in ([\d.]+) ms",
                          loc.first.inner_text())
        return (float(match.group(1)), float(match.group(2)), float(match.group(3))) if match else None

    def reaction_settled_ms(self) -> float | None:
        """Server-side ms from the last reaction until stage 3, the last fragment to rerun, was done."""
        loc = self.page.locator("#react-all-timing")
        if not loc.count():
            return None
        value = loc.first.get_attribute("data-ms")
        return float(value) if value else None

    def blend_timing(self) -> tuple[float, float] | None:
        """The server-side (re-blend ms, list render ms) the Recommend page reports."""
        loc = self.page.locator("#blend-timing")
        if not loc.count():
            return None
        match = re.search(r"Re-blended in ([\d.]+) ms .* rendered in ([\d.]+) ms", loc.first.inner_text())
        return (float(match.group(1)), float(match.group(2))) if match else None
