"""Large catalogues: the resumable float16 vector store, the ANN index, the warm-start snapshot,
and the approximate request path — each on small data, with the switches a million items
would flip set low."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from recsys import ann, snapshot, vectorstore
from recsys.catalogue import build_catalogue
from recsys.data import folder_digest, load_dataset
from recsys.embed import IndexConfig, load_item_index
from recsys.pipeline import PipelineConfig, Recommender, load_engine_data
from recsys.relevance import score_relevance
from tests.test_faults import DAMAGES


def _clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    x = centres[rng.integers(0, 20, n)] + 0.5 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _warned(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(r.levelno == logging.WARNING and text in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- vector store


def test_store_is_built_in_chunks_and_resumes_after_an_interruption(tmp_path):
    vectors = _clustered(1000)
    calls: list[tuple[int, int]] = []

    def failing(lo: int, hi: int) -> np.ndarray:
        if lo >= 600:
            raise KeyboardInterrupt
        calls.append((lo, hi))
        return vectors[lo:hi]

    stem = tmp_path / "items-x"
    with pytest.raises(KeyboardInterrupt):
        vectorstore.build(stem, 1000, 32, failing, chunk=200)
    assert vectorstore.open_vectors(stem, 1000, 32) is None      # incomplete: not usable

    def counting(lo: int, hi: int) -> np.ndarray:
        calls.append((lo, hi))
        return vectors[lo:hi]

    calls.clear()
    stored = vectorstore.build(stem, 1000, 32, counting, chunk=200)
    assert calls == [(600, 800), (800, 1000)]                    # only what was missing
    assert stored.dtype == np.float16 and not stored.flags.writeable
    np.testing.assert_allclose(np.asarray(stored, dtype=np.float32), vectors, atol=1e-3)
    again = vectorstore.open_vectors(stem, 1000, 32)
    assert again is not None and np.array_equal(again, stored)


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_store_is_refused_with_a_warning_and_rebuilt(tmp_path, caplog, damage):
    vectors = _clustered(500)
    stem = tmp_path / "items-y"
    vectorstore.build(stem, 500, 32, lambda lo, hi: vectors[lo:hi], chunk=128)
    array_path, _ = vectorstore.paths(stem)
    DAMAGES[damage](array_path)

    with caplog.at_level(logging.WARNING):
        assert vectorstore.open_vectors(stem, 500, 32) is None
    assert _warned(caplog, array_path.name)
    rebuilt = vectorstore.build(stem, 500, 32, lambda lo, hi: vectors[lo:hi], chunk=128)
    np.testing.assert_allclose(np.asarray(rebuilt, dtype=np.float32), vectors, atol=1e-3)


def test_a_store_for_another_shape_is_not_used(tmp_path, caplog):
    vectors = _clustered(300)
    stem = tmp_path / "items-z"
    vectorstore.build(stem, 300, 32, lambda lo, hi: vectors[lo:hi], chunk=128)
    with caplog.at_level(logging.WARNING):
        assert vectorstore.open_vectors(stem, 301, 32) is None
    assert _warned(caplog, "stale")


def test_an_encoder_returning_nan_stops_the_build_without_committing_it(tmp_path):
    vectors = _clustered(300)
    bad = vectors.copy()
    bad[250] = np.nan
    stem = tmp_path / "items-nan"
    with pytest.raises(ValueError, match="bad block"):
        vectorstore.build(stem, 300, 32, lambda lo, hi: bad[lo:hi], chunk=128)
    assert vectorstore.open_vectors(stem, 300, 32) is None


# --------------------------------------------------------------------------- ANN


def test_exact_top_matches_a_full_sort():
    vectors = _clustered(3000)
    queries = _clustered(5, seed=1)
    expected = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :50]
    found = ann.exact_top(vectors.astype(np.float16), queries, 50, block=700)
    assert all(len(np.intersect1d(f, e)) >= 48 for f, e in zip(found, expected))  # float16 ties


def test_ann_reaches_its_recall_target_and_survives_a_round_trip(tmp_path):
    vectors = _clustered(20000).astype(np.float16)
    built = ann.build(tmp_path / "v-ann", vectors)
    assert built.recall >= ann.TARGET_RECALL
    queries = ann.calibration_queries(vectors, np.random.default_rng(42), count=30)
    exact = ann.exact_top(vectors, queries, 200)
    assert ann.recall_at([built.search(q, 200) for q in queries], exact) >= 0.95

    loaded = ann.load(tmp_path / "v-ann", *vectors.shape)
    assert loaded is not None and loaded.nprobe == built.nprobe
    assert np.array_equal(loaded.search(queries[0], 50), built.search(queries[0], 50))


@pytest.mark.parametrize("damage", ["truncated", "garbled", "empty"])
def test_a_damaged_ann_index_is_rebuilt_with_a_warning(tmp_path, caplog, damage):
    vectors = _clustered(3000).astype(np.float16)
    ann.build(tmp_path / "w-ann", vectors)
    DAMAGES[damage](tmp_path / "w-ann.faiss")
    with caplog.at_level(logging.WARNING):
        found = ann.load_or_build(tmp_path / "w-ann", vectors)
    assert _warned(caplog, "w-ann.faiss")
    assert len(found.search(vectors[0].astype(np.float32), 10)) == 10


# --------------------------------------------------------------------------- snapshot


def test_a_warm_start_reads_the_snapshot_instead_of_the_files(tiny_dir, tmp_path, monkeypatch):
    cold = load_engine_data(tiny_dir, "ml-latest-small", tmp_path)

    def no_reading(*args, **kwargs):
        raise AssertionError("the data folder was read again")

    monkeypatch.setattr("recsys.pipeline.load_dataset", no_reading)
    warm = load_engine_data(tiny_dir, "ml-latest-small", tmp_path)
    assert warm.catalogue.fingerprint == cold.catalogue.fingerprint
    assert warm.catalogue.titles == cold.catalogue.titles
    assert [m.title for m in warm.matcher.find_mentions("I loved Toy Story")] == \
        [m.title for m in cold.matcher.find_mentions("I loved Toy Story")]


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_snapshot_means_reading_the_data_again(tiny_dir, tmp_path, caplog, damage):
    cold = load_engine_data(tiny_dir, "ml-latest-small", tmp_path)
    (path,) = tmp_path.glob("engine-*.pkl")
    DAMAGES[damage](path)
    with caplog.at_level(logging.WARNING):
        again = load_engine_data(tiny_dir, "ml-latest-small", tmp_path)
    assert _warned(caplog, path.name)
    assert again.catalogue.titles == cold.catalogue.titles
    assert snapshot.load(path) is not None                      # rewritten whole


def test_a_changed_data_file_is_read_and_validated_again(tiny_dir, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(tiny_dir, folder)
    before = folder_digest(folder)
    load_engine_data(folder, "ml-latest-small", tmp_path / "cache")
    with open(folder / "movies.csv", "a", encoding="utf-8") as handle:
        handle.write('999,"A Brand New Film (2024)",Drama\n')
    assert folder_digest(folder) != before
    engine = load_engine_data(folder, "ml-latest-small", tmp_path / "cache")
    assert "A Brand New Film (2024)" in engine.catalogue.titles


# --------------------------------------------------------------------------- approximate requests


@pytest.fixture(scope="module")
def tiny_large(tiny_dir, encoder, tmp_path_factory):
    """The tiny catalogue indexed the way a million items are (store + ANN)."""
    catalogue = build_catalogue(load_dataset(tiny_dir))
    cache = tmp_path_factory.mktemp("large")
    dense = load_item_index(catalogue, encoder, cache)
    small = IndexConfig(dense_max_items=5, ann_candidates=10, chunk=16)
    large = load_item_index(catalogue, encoder, cache, config=small)
    return catalogue, dense, large


def test_the_large_index_keeps_the_same_vectors_in_float16(tiny_large):
    catalogue, dense, large = tiny_large
    assert large.ann is not None and dense.ann is None
    assert large.embeddings.dtype == np.float16 and large.embeddings.shape == dense.embeddings.shape
    np.testing.assert_allclose(np.asarray(large.embeddings, dtype=np.float32), dense.embeddings,
                               atol=2e-3)


def test_approximate_similarity_is_exact_for_the_nearest_and_never_lower_elsewhere(tiny_large, encoder):
    catalogue, dense, large = tiny_large
    query = encoder.encode_query("space adventure with aliens")
    exact = dense.embeddings @ query
    approx = large.similarity(query)
    nearest = np.argsort(-exact)[:5]
    np.testing.assert_allclose(approx[nearest], exact[nearest], atol=3e-3)
    assert np.all(approx >= exact - 3e-3)       # unseen items count as the lowest of the nearest
    lifted = np.argsort(exact)[:3]               # the least similar items, lifted by another term
    with_extra = large.similarity(query, lifted)
    np.testing.assert_allclose(with_extra[lifted], exact[lifted], atol=3e-3)


def test_requests_on_the_large_path_rank_like_the_exact_path(tiny_large, tiny_recommender, encoder):
    catalogue, dense, large = tiny_large
    parser = tiny_recommender.builtin_parser
    for text in ("space adventure with aliens", "a romantic comedy", "scary horror, no gore"):
        intent = parser.parse(text)
        query = encoder.encode_query(intent.query_text)
        exact = score_relevance(catalogue, dense.embeddings, query, intent)
        approx = score_relevance(catalogue, large, query, intent)
        top_exact, top_approx = exact.candidates[:5], approx.candidates[:5]
        assert len(np.intersect1d(top_exact, top_approx)) >= 4, text


def test_the_recommender_answers_on_the_large_path(tiny_dir, tmp_path):
    config = PipelineConfig(index=IndexConfig(dense_max_items=5, ann_candidates=10, chunk=16),
                            train_adapter=False)
    rec = Recommender.load(tiny_dir, cache_dir=tmp_path, config=config)
    assert rec.index.ann is not None and rec.adapter is None
    result = rec.recommend("space adventure with aliens, no horror", k=5)
    assert len(result.items) == 5
    assert not any("Horror" in rec.catalogue.genres[item.index] for item in result.items)
