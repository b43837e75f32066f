"""ui.provenance: what the Data & about page says about where the adapter's requests came from."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from recsys.redial_fetch import requests_path
from ui.provenance import requests_origin


def _engine(catalogue, real_requests: int | None):  # type: ignore[no-untyped-def]
    adapter = None if real_requests is None else SimpleNamespace(report={"real_requests": real_requests})
    return SimpleNamespace(catalogue=catalogue, adapter=adapter)


def test_the_page_names_the_source_of_the_adapters_requests(tiny_catalogue, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECSYS_TRAIN_REQUESTS", raising=False)
    label, sentence = requests_origin(_engine(tiny_catalogue, None), tmp_path)
    assert label == "none — no adapter" and "no adapter runs" in sentence
    assert "python -m recsys fetch-requests" in sentence
    label, sentence = requests_origin(_engine(tiny_catalogue, 0), tmp_path)
    assert label == "none — synthetic only" and "python -m recsys fetch-requests" in sentence
    requests_path(tmp_path, tiny_catalogue).write_text('{"request": "x", "target_movie_ids": [1]}\n')
    label, sentence = requests_origin(_engine(tiny_catalogue, 800), tmp_path)
    assert label == "ReDial, downloaded" and "at most 1,200" in sentence
    # an adapter trained before the download still learned from no real request: say so
    assert requests_origin(_engine(tiny_catalogue, 0), tmp_path)[0] == "none — synthetic only"
    own = tmp_path / "my<requests>.jsonl"
    own.write_text('{"request": "x", "target_movie_ids": [1]}\n')
    monkeypatch.setenv("RECSYS_TRAIN_REQUESTS", str(own))
    label, sentence = requests_origin(_engine(tiny_catalogue, 12), tmp_path)
    assert label == "my<requests>.jsonl (RECSYS_TRAIN_REQUESTS)"
    assert "<code>my&lt;requests&gt;.jsonl</code>" in sentence          # escaped for the HTML


def test_without_an_adapter_the_page_says_why_and_what_brings_it(tiny_catalogue, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.provenance import missing_adapter

    monkeypatch.delenv("RECSYS_TRAIN_REQUESTS", raising=False)
    label, sentence = missing_adapter(_engine(tiny_catalogue, None), tmp_path)
    assert label == "Off: no real requests" and "python -m recsys fetch-requests" in sentence
    requests_path(tmp_path, tiny_catalogue).write_text('{"request": "x", "target_movie_ids": [1]}\n')
    label, sentence = missing_adapter(_engine(tiny_catalogue, None), tmp_path)
    assert label == "Not trained" and "python -m recsys train-adapter" in sentence
