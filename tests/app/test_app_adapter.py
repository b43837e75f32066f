"""The trained adapter in the app: when one is loaded the pipeline uses it and the app says
so — a badge on stage 2, the "Trained adapter" term in the chart, a toggle to compare r
with and without it, and its training report on the Data & about page.

A UI test, so the adapter is a small random one of the right shapes (training is tested in
``tests/test_adapter.py``), attached to the shared recommender for the test only.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tests.app.conftest import card_ids, chart_spec, markdown_text
from tests.app.test_pages import REQUEST, requires_data

pytestmark = requires_data

REPORT = {"training_users": 390, "validation_users": 70, "training_texts": 3900, "trainable_parameters": 712_345,
          "final_train_loss": 7.1, "final_val_loss": 7.345, "seconds": 95.0, "weight": 0.5,
          "val_recall@10": {"lambda=0": 0.081, "lambda=0.5": 0.094, "best_lambda": 1.0, "standard_error": 0.01}}


@pytest.fixture
def adapter(new_app, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A random adapter on the shared (already loaded) recommender, removed afterwards."""
    from ui import state as _ui
    from recsys.adapter import Adapter

    new_app()                                           # the engine is loaded once a page has run
    rec = _ui.engine_loader().recommender
    rng = np.random.default_rng(7)
    n, dim, d = len(rec.catalogue), rec.index.embeddings.shape[1], 8
    made = Adapter(query_map=rng.normal(size=(d, dim)).astype(np.float32),
                   item_matrix=rng.normal(size=(n, d)).astype(np.float32),
                   item_bias=rng.normal(scale=0.1, size=n).astype(np.float32),
                   weight=0.5, key="ui-test-adapter", report=REPORT)
    monkeypatch.setattr(rec, "adapter", made)
    yield made


def _ask(at, text: str = REQUEST):  # type: ignore[no-untyped-def]
    at.text_area(key="request_text").input(text).run()
    assert not at.exception
    return at


def test_the_page_says_when_the_adapter_shaped_r(new_app, adapter) -> None:
    at = _ask(new_app())
    text = markdown_text(at)
    assert "r shaped by the trained adapter" in text
    names = [t.get("name") for t in chart_spec(at, "relevance_bar")["data"]]
    assert "Trained adapter" in names
    toggle = at.toggle(key="use_adapter")
    assert toggle.value is True
    assert any("The adapter" in c.value and "top 15" in c.value for c in at.caption)
    with_adapter = card_ids(at)
    # Switched off: r is the text-only score; the badge and the chart term go away.
    toggle.set_value(False).run()
    assert not at.exception
    assert "r shaped by the trained adapter" not in markdown_text(at)
    assert "Trained adapter" not in [t.get("name") for t in chart_spec(at, "relevance_bar")["data"]]
    assert any("Switched off" in c.value for c in at.caption)
    without = card_ids(at)
    assert len(without) == 10 and without != with_adapter     # a random adapter moves the list
    at.toggle(key="use_adapter").set_value(True).run()
    assert card_ids(at) == with_adapter


def test_about_lists_the_adapter_and_its_training_report(new_app, adapter) -> None:
    at = new_app()
    at.switch_page("pages/about.py").run()
    assert not at.exception
    text = markdown_text(at)
    assert "3b · Trained adapter" in text and "In use" in text
    for needle in ("390", "3,900", "0.71 M", "7.345", "0.094 (λ = 0: 0.081)", "95 s", "weight λ in r"):
        assert needle in text, needle
    # where its real requests came from, in the card and next to ReDial's citation
    assert "real requests from" in text and "Here " in text.split("Towards Deep Conversational")[1]


def test_about_says_how_to_train_the_adapter_when_there_is_none(new_app, monkeypatch) -> None:
    from ui import state as _ui

    at = new_app()
    monkeypatch.setattr(_ui.engine_loader().recommender, "adapter", None)   # even if the cache holds one
    at.switch_page("pages/about.py").run()
    text = markdown_text(at)
    assert "Not trained" in text and "python -m recsys train-adapter" in text
    at.switch_page("pages/recommend.py").run()
    at = _ask(at)
    assert "r shaped by the trained adapter" not in markdown_text(at)
    with pytest.raises(KeyError):
        at.toggle(key="use_adapter")
