"""Fault injection: every on-disk artefact damaged → rebuilt (or ignored) with a warning.

Each cache the product keeps is damaged the ways disks and interrupted writes damage
files — cut short, emptied, zeroed, garbled, replaced by well-formed arrays of the wrong
shape or with NaNs — and the loader must log a warning naming the file, rebuild, and
hand back arrays that match the catalogue: never a traceback, never silently wrong data.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from recsys import cli
from recsys.adapter import Adapter, load_adapter, save_adapter
from recsys.cachefile import load_npz, save_npz
from recsys.cf import ALSConfig, cf_cache_path, fit_als
from recsys.data import load_dataset
from recsys.embed import index_path, load_item_index
from recsys.evaluation.encoding import encode_queries
from tests.test_data import LATEST, RATINGS, Server, build_zip

CONFIG = ALSConfig(factors=3, regularization=1.0, iterations=5)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _zeroed(path: Path) -> None:
    path.write_bytes(bytes(path.stat().st_size))


def _garbled(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 256] = bytes(b ^ 0xA5 for b in data[middle:middle + 256])
    path.write_bytes(bytes(data))


def _not_npz(path: Path) -> None:
    path.write_text("<html>502 Bad Gateway</html>\n", encoding="utf-8")


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated": _truncated, "empty": _empty, "zeroed": _zeroed, "garbled": _garbled,
    "not-npz": _not_npz,
}


def _warned(caplog: pytest.LogCaptureFixture, path: Path) -> bool:
    return any(r.levelno == logging.WARNING and path.name in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- ALS factors


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_als_cache_is_refitted_with_a_warning(tiny_catalogue, tmp_path, caplog, damage):
    good = fit_als(tiny_catalogue, CONFIG, cache_dir=tmp_path)
    path = cf_cache_path(tmp_path, tiny_catalogue, CONFIG)
    DAMAGES[damage](path)

    with caplog.at_level(logging.WARNING):
        model = fit_als(tiny_catalogue, CONFIG, cache_dir=tmp_path)

    assert _warned(caplog, path)
    assert model.item_factors.shape == (len(tiny_catalogue), CONFIG.factors)
    np.testing.assert_allclose(model.item_factors, good.item_factors, atol=1e-5)  # seeded refit
    caplog.clear()
    fit_als(tiny_catalogue, CONFIG, cache_dir=tmp_path)  # the rewritten file is good again
    assert not caplog.records


@pytest.mark.parametrize("arrays", [
    {"item_factors": np.zeros((5, 3)), "user_factors": np.zeros((2, 3)), "user_ids": np.arange(2)},
    {"item_factors": np.zeros((30, 7)), "user_factors": np.zeros((2, 7)), "user_ids": np.arange(2)},
    {"item_factors": np.full((30, 3), np.nan), "user_factors": np.zeros((2, 3)), "user_ids": np.arange(2)},
    {"item_factors": np.zeros((30, 3)), "user_factors": np.zeros((4, 3)), "user_ids": np.arange(2)},
    {"item_factors": np.zeros((30, 3))},
], ids=["few-items", "other-factors", "nan", "user-mismatch", "missing-arrays"])
def test_well_formed_but_wrong_als_cache_is_not_used(tiny_catalogue, tmp_path, caplog, arrays):
    path = cf_cache_path(tmp_path, tiny_catalogue, CONFIG)
    save_npz(path, **arrays)

    with caplog.at_level(logging.WARNING):
        model = fit_als(tiny_catalogue, CONFIG, cache_dir=tmp_path)

    assert _warned(caplog, path)
    assert model.item_factors.shape == (len(tiny_catalogue), CONFIG.factors)
    assert np.isfinite(model.item_factors).all() and model.has_factors.any()
    assert len(model.user_ids) == len(model.user_factors) > 2


# --------------------------------------------------------------------------- item embeddings


@pytest.fixture(scope="module")
def index_cache(tiny_catalogue, encoder, tmp_path_factory):
    folder = tmp_path_factory.mktemp("index")
    index = load_item_index(tiny_catalogue, encoder, folder)
    return folder, np.array(index.embeddings)


@pytest.mark.parametrize("damage", [*sorted(DAMAGES), "wrong-shape", "nan"])
def test_damaged_item_index_is_rebuilt_with_a_warning(tiny_catalogue, encoder, index_cache, tmp_path,
                                                      caplog, damage):
    source, embeddings = index_cache
    path = index_path(tmp_path, tiny_catalogue, encoder.model_id)
    shutil.copy(index_path(source, tiny_catalogue, encoder.model_id), path)
    if damage == "wrong-shape":
        save_npz(path, embeddings=embeddings[:-1], genre_embeddings=np.zeros((3, encoder.dim)))
    elif damage == "nan":
        with np.load(path) as stored:
            genres = stored["genre_embeddings"]
        save_npz(path, embeddings=np.where(np.arange(len(embeddings))[:, None] == 3, np.nan, embeddings),
                 genre_embeddings=genres)
    else:
        DAMAGES[damage](path)

    with caplog.at_level(logging.WARNING):
        index = load_item_index(tiny_catalogue, encoder, tmp_path)

    assert _warned(caplog, path)
    assert index.embeddings.shape == (len(tiny_catalogue), encoder.dim)
    assert index.genre_embeddings.shape == (len(index.genre_names), encoder.dim)
    np.testing.assert_allclose(index.embeddings, embeddings, atol=1e-4)
    assert load_npz(path, {"embeddings": (len(tiny_catalogue), encoder.dim)}) is not None


# --------------------------------------------------------------------------- adapter


def _adapter(n_items: int, dim: int = 384) -> Adapter:
    rng = np.random.default_rng(0)
    return Adapter(rng.normal(size=(4, dim)).astype(np.float32), rng.normal(size=(n_items, 4)).astype(np.float32),
                   np.zeros(n_items, dtype=np.float32), 0.5, "test", {"seconds": 1.0})


@pytest.mark.parametrize("damage", [*sorted(DAMAGES), "other-catalogue", "other-encoder", "bad-report"])
def test_damaged_adapter_is_ignored_with_a_warning(tmp_path, caplog, damage):
    path = tmp_path / "adapter-ml-tiny-0123.npz"
    save_adapter(_adapter(30), path)
    assert load_adapter(path, n_items=30, query_dim=384) is not None
    if damage == "other-catalogue":
        save_adapter(_adapter(29), path)
    elif damage == "other-encoder":
        save_adapter(_adapter(30, dim=768), path)
    elif damage == "bad-report":
        good = _adapter(30)
        save_npz(path, query_map=good.query_map, item_matrix=good.item_matrix, item_bias=good.item_bias,
                 weight=np.float32(0.5), report=np.array("{not json"))
    else:
        DAMAGES[damage](path)

    with caplog.at_level(logging.WARNING):
        assert load_adapter(path, n_items=30, query_dim=384) is None
    assert _warned(caplog, path)


def test_pipeline_replaces_a_damaged_adapter(tiny_dir, tmp_path, caplog):
    from recsys.pipeline import PipelineConfig, Recommender

    cache = tmp_path / "cache"
    config = PipelineConfig(als=CONFIG)
    rec = Recommender.load(tiny_dir, cache_dir=cache, config=config)
    path = rec.adapter_file(cache)
    save_adapter(_adapter(len(rec.catalogue)), path)
    assert Recommender.load(tiny_dir, cache_dir=cache, config=config).adapter is not None
    _truncated(path)

    with caplog.at_level(logging.WARNING):
        again = Recommender.load(tiny_dir, cache_dir=cache, config=config)

    # the damaged file is reported and replaced by a freshly trained adapter, never used
    assert _warned(caplog, path)
    assert again.adapter is not None and again.adapter.report.get("training_texts", 0) > 0
    assert len(again.recommend("space sci-fi", k=3).items) == 3


# --------------------------------------------------------------------------- evaluation query cache


@pytest.mark.parametrize("damage", [*sorted(DAMAGES), "wrong-shape"])
def test_damaged_query_cache_is_re_encoded(encoder, tmp_path, caplog, damage):
    queries = ["space opera", "a heist movie"]
    good = encode_queries(encoder, queries, tmp_path)
    (path,) = tmp_path.glob("queries-*.npz")
    if damage == "wrong-shape":
        save_npz(path, vectors=np.zeros((2, 7), dtype=np.float32))
    else:
        DAMAGES[damage](path)

    with caplog.at_level(logging.WARNING):
        again = encode_queries(encoder, queries, tmp_path)

    assert _warned(caplog, path)
    for query in queries:
        np.testing.assert_allclose(again[query], good[query], atol=1e-5)


# --------------------------------------------------------------------------- downloaded data set


@pytest.fixture
def downloaded(monkeypatch, tmp_path):
    for name in ("RECSYS_DATA_DIR", "RECSYS_DATA_URL", "RECSYS_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    server = Server(tmp_path / "www")
    server.publish("ml-latest-small", build_zip("ml-latest-small", LATEST))
    monkeypatch.setenv("RECSYS_DATA_URL", server.base_url)
    cache = tmp_path / "cache"
    monkeypatch.setenv("RECSYS_CACHE_DIR", str(cache))
    load_dataset()
    yield server, cache / "ml-latest-small"
    server.stop()


def _cut_last_line(path: Path) -> None:  # still a valid CSV: the dangerous, silent case
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")


@pytest.mark.parametrize("damage", ["truncated", "empty", "zeroed", "garbled", "cut-last-line"])
def test_damaged_cached_download_is_downloaded_again(downloaded, caplog, damage):
    server, folder = downloaded
    ratings = folder / "ratings.csv"
    (_cut_last_line if damage == "cut-last-line" else DAMAGES[damage])(ratings)
    server.requests.clear()

    with caplog.at_level(logging.WARNING):
        raw = load_dataset()

    assert len(raw.ratings) == len(RATINGS.strip().splitlines()) - 1
    assert ratings.read_text(encoding="utf-8") == RATINGS
    assert any("downloading it again" in r.getMessage() for r in caplog.records)
    assert any(p.endswith(".zip") for p in server.requests)


def test_damaged_cached_download_without_network_is_a_one_line_error(downloaded, capsys):
    server, folder = downloaded
    _zeroed(folder / "ratings.csv")
    server.stop()

    status = cli.main(["recommend", "sci-fi"])
    _, err = capsys.readouterr()
    assert status == 1 and err.startswith("error:") and "Traceback" not in err


# --------------------------------------------------------------------------- end to end, CLI


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_cli_recommends_from_a_damaged_cache_with_one_warning(tiny_dir, tmp_path, capsys, caplog, damage):
    cache = tmp_path / "cache"
    args = ["--data-dir", str(tiny_dir), "--cache-dir", str(cache), "recommend", "space sci-fi",
            "--k", "3", "--json"]
    assert cli.main(args) == 0
    capsys.readouterr()
    for path in sorted(cache.glob("*.npz")):
        DAMAGES[damage](path)

    with caplog.at_level(logging.WARNING):
        status = cli.main(args)
    out, err = capsys.readouterr()

    assert status == 0, err
    assert len(json.loads(out)["items"]) == 3
    assert "Traceback" not in err
    damaged = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    # one warning per damaged artefact (ALS, item index, the adapter trained at the first start)
    assert len(damaged) == len(list(cache.glob("*.npz")))
    assert any("ALS" in m for m in damaged) and any("item index" in m for m in damaged)
    assert any("adapter" in m for m in damaged)
