"""Stage 2: item texts, the encoder and the on-disk item index."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.embed import EncoderUnavailableError, TextEncoder, load_item_index
from recsys.text import item_text, item_texts


def test_item_text_spells_out_title_year_genres_tags():
    text = item_text("The Matrix", 1999, ("Action", "Sci-Fi"), ("cyberpunk",))
    assert text == "The Matrix (1999). Genres: action, science fiction. Tags: cyberpunk."
    assert item_text("Untitled", 0, (), ()) == "Untitled."


def test_item_index_is_unit_norm_cached_and_read_only(tiny_catalogue, encoder, tmp_path, monkeypatch):
    index = load_item_index(tiny_catalogue, encoder, tmp_path)
    assert index.embeddings.shape == (len(tiny_catalogue), encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(index.embeddings, axis=1), 1.0, atol=1e-5)
    assert not index.embeddings.flags.writeable

    def fail(*args, **kwargs):
        raise AssertionError("a warm start must not re-encode")

    monkeypatch.setattr(encoder, "encode", fail)
    again = load_item_index(tiny_catalogue, encoder, tmp_path)
    assert np.array_equal(again.embeddings, index.embeddings)


def test_a_corrupt_index_file_is_rebuilt(tiny_catalogue, encoder, tmp_path):
    load_item_index(tiny_catalogue, encoder, tmp_path)
    path = next(tmp_path.glob("items-*.npz"))
    path.write_bytes(b"not a numpy file")
    index = load_item_index(tiny_catalogue, encoder, tmp_path)
    assert index.embeddings.shape[0] == len(tiny_catalogue)


def test_similar_texts_embed_close(encoder, tiny_catalogue):
    texts = item_texts(tiny_catalogue)
    vectors = encoder.encode(texts)
    query = encoder.encode_query("animated movie for kids about toys")
    best = int(np.argmax(vectors @ query))
    assert tiny_catalogue.display_titles[best].startswith("Toy Story")


def test_query_cache_returns_the_same_read_only_vector(encoder):
    a = encoder.encode_query("space opera")
    assert a is encoder.encode_query("space opera")
    assert not a.flags.writeable


def test_unknown_model_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    missing = tmp_path / "no-such-model"
    missing.mkdir()
    with pytest.raises(EncoderUnavailableError, match="RECSYS_EMBED_MODEL"):
        TextEncoder(str(missing))


def test_a_frozen_query_cache_serves_only_its_own_thread(monkeypatch):
    import threading

    enc = TextEncoder()                                # its own model and caches
    enc.encode_query("public example")
    enc.freeze_query_cache()
    calls: list[str] = []
    original = enc._model.encode
    monkeypatch.setattr(enc._model, "encode", lambda texts, **kw: calls.append(texts[0]) or original(texts, **kw))
    enc.encode_query("public example")                 # cached before the freeze: still a hit
    enc.encode_query("a private request")
    enc.encode_query("a private request")              # same thread (one script run): one encode
    assert calls == ["a private request"]
    other = threading.Thread(target=enc.encode_query, args=("a private request",))
    other.start()
    other.join()
    assert calls == ["a private request"] * 2          # another thread (session) encodes again
    with enc.public_queries():                         # public texts (examples) are shared
        enc.encode_query("an example prompt")
    other = threading.Thread(target=enc.encode_query, args=("an example prompt",))
    other.start()
    other.join()
    assert calls == ["a private request"] * 2 + ["an example prompt"]
