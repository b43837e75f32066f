"""AppTest helpers for the web app (``streamlit.testing.v1``).

AppTest in Streamlit 1.67 re-detects a ``pages/`` folder before every run and then runs
the last page's script directly (the v1 multipage mode), skipping ``app.py``'s
``st.navigation``. A real server only does that before the first ``st.navigation`` call.
The ``_navigation_app`` fixture makes AppTest behave like the server for this app.
Since the page helpers moved to ``ui/``, ``pages/`` holds only the four page files listed
in ``app.py``'s ``st.navigation``, so the folder AppTest discovers matches the navigation.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
FIRST_RUN_TIMEOUT = 600      # a cold cache builds the item index and trains the adapter (~4 min on 2 cores)
RUN_TIMEOUT = 120


@pytest.fixture(autouse=True)
def _navigation_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import streamlit.testing.v1.app_test as app_test_module
    from streamlit.runtime.pages_manager import PagesManager

    class NavigationPagesManager(PagesManager):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    monkeypatch.setattr(app_test_module, "PagesManager", NavigationPagesManager)
    yield


@pytest.fixture
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty RECSYS_RESULTS_DIR (tests write example result files into it)."""
    folder = tmp_path / "results"
    folder.mkdir()
    monkeypatch.setenv("RECSYS_RESULTS_DIR", str(folder))
    return folder


@pytest.fixture
def new_app() -> Callable[[], object]:
    """Start the app in AppTest and run it once (the engine is shared across tests)."""
    from streamlit.testing.v1 import AppTest

    def start() -> object:
        at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
        at.run(timeout=FIRST_RUN_TIMEOUT)
        return at

    return start


def markdown_text(at) -> str:  # type: ignore[no-untyped-def]
    """All Markdown/HTML the page rendered, unescaped."""
    return html.unescape("\n".join(m.value for m in at.markdown))


def card_ids(at) -> list[int]:  # type: ignore[no-untyped-def]
    """movieIds of the recommendation cards, in rank order."""
    return [int(m) for m in re.findall(r'class="fr-card" data-movie-id="(\d+)"', markdown_text(at))]


def all_text(at) -> str:  # type: ignore[no-untyped-def]
    """Every element the app rendered — main area and sidebar, labels, help texts, chart
    specs — as one string (each element's protobuf in text form, unescaped)."""
    parts: list[str] = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return html.unescape("\n".join(parts))


def chart_spec(at, key: str) -> dict:  # type: ignore[no-untyped-def]
    """The plotly figure (JSON spec) of the chart with ``key``."""
    import json

    for chart in at.get("plotly_chart"):
        if chart.proto.id.endswith(f"-{key}"):
            return json.loads(chart.proto.spec)
    raise AssertionError(f"no plotly chart with key {key!r}")
