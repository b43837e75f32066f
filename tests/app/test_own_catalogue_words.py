"""The app on your own catalogue speaks of items and categories, never of movies or genres.

A small shop catalogue (the one of ``tests/test_catalogue_categories.py``: implicit
interactions, no years) is loaded by the real app through AppTest; the Recommend page
(before and after a request) and the Data & about page are read as a user would see them.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from tests.app.conftest import markdown_text
from tests.test_catalogue_categories import write_shop


@pytest.fixture
def shop_app(tmp_path: Path, encoder, monkeypatch: pytest.MonkeyPatch, new_app):  # type: ignore[no-untyped-def]
    """The app started on the shop catalogue (its own cache folder: a new engine)."""
    folder = write_shop(tmp_path / "shop")
    monkeypatch.setenv("RECSYS_DATA_DIR", str(folder))
    monkeypatch.setenv("RECSYS_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("RECSYS_METADATA", "RECSYS_TRAIN_REQUESTS", "RECSYS_DATA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("recsys.pipeline.TextEncoder", lambda *args, **kwargs: encoder)
    at = new_app()
    at.run()                          # the engine is ready: draw the page with it
    assert not at.exception
    return at


def visible_text(at) -> str:  # type: ignore[no-untyped-def]
    """What a user reads: headings, Markdown/HTML (tags and attributes dropped), captions,
    alerts, metric and widget labels, placeholders and help, table headers — not the data
    frames' raw column keys, nor the charts (their term names are recsys.charts' own)."""
    parts: list[str] = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        proto = getattr(node, "proto", None)
        if proto is not None:
            kind = proto.DESCRIPTOR.name
            if kind in ("Markdown", "Caption", "Alert", "Heading", "Text"):
                body = re.sub(r"<style>.*?</style>", " ", getattr(proto, "body", ""), flags=re.S)
                parts.append(re.sub(r"<[^>]*>", " ", html.unescape(body)))
            elif kind == "Dataframe":                # a table: its column_config (labels, help), not its data
                parts.extend(str(c.get(f, "")) for c in json.loads(proto.columns or "{}").values()
                             for f in ("label", "help"))
            elif kind not in ("Html", "PlotlyChart"):     # chart labels come from recsys.charts
                parts.append(re.sub(r"^\s*(?:id|key|form_id): .*$", "", str(proto), flags=re.M))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return html.unescape("\n".join(parts))


def _no_movie_words(text: str) -> None:
    for word in ("movie", "genre", "film", "MovieLens", "★", "watching"):
        assert word.lower() not in text.lower(), (word, re.findall(rf".{{0,60}}{word}.{{0,60}}", text, re.I)[:3])


def test_recommend_and_about_speak_of_items_and_categories(shop_app) -> None:
    at = shop_app
    before = visible_text(at)
    assert "What are you looking for?" in before
    assert "Items you already know" in before
    assert "Garden, no Kitchen" in before or "Board games, no Garden" in before   # chips from its categories
    _no_movie_words(before)

    at.text_area(key="request_text").input("something in Garden, no Kitchen").run()
    assert not at.exception and not at.error
    after = visible_text(at)
    assert "Parsed intent" in after and "10 items scored" in after
    assert "Category interest" in after and "no category named" not in after
    assert "fr-card" in markdown_text(at)                       # the list is there
    _no_movie_words(after)

    at.switch_page("pages/about.py").run()
    assert not at.exception and not at.error
    about = visible_text(at)
    labels = {m.label: m.value for m in at.metric}
    assert labels["Items"] == "10" and labels["Interactions"] == "50" and labels["Categories"] == "4"
    assert "Release years" not in labels and "Items per category" in about
    assert "Rating distribution" not in about
    _no_movie_words(about)


def test_compare_speaks_of_categories_and_leaves_the_movie_benchmarks_out(shop_app) -> None:
    at = shop_app
    at.text_area(key="request_text").input("a board game, no Kitchen").run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error
    text = visible_text(at)
    assert "Liked-category match" in text and "Avg. interactions / item" in text
    note = ("The benchmarks below this point were measured on MovieLens; they are shown when the app "
            "runs on MovieLens.")
    assert note in text
    _no_movie_words(text.replace(note, ""))
