"""Batch query encoding for evaluation runs, cached on disk per request set.

:func:`encode_queries` embeds every distinct query text in one batch (one torch thread)
and caches the unit vectors under (model, recipe, query set). :func:`prefetching` gives a
shallow copy of a recommender whose encoder answers ``encode_query`` from that batch
(other texts go to the real encoder); batched and single encodes agree to ~1e-7, so the
rankings are the product's.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys.cachefile import load_npz, save_npz

if TYPE_CHECKING:
    from recsys.embed import TextEncoder
    from recsys.pipeline import Recommender


class _PrefetchedEncoder:
    """An encoder whose query embeddings were computed in one batch: ``encode_query`` reads
    them, any other text goes to the wrapped encoder. Batched and single encodes agree to
    ~1e-7 (checked), so rankings are those of the product."""

    def __init__(self, encoder: TextEncoder, vectors: Mapping[str, np.ndarray]) -> None:
        self._encoder = encoder
        self._vectors = vectors

    def encode_query(self, text: str) -> np.ndarray:
        hit = self._vectors.get(text)
        return hit if hit is not None else self._encoder.encode_query(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._encoder, name)


QUERY_CACHE_RECIPE = "eval-queries/v1"


def encode_queries(encoder: TextEncoder, queries: Sequence[str], cache_dir: Path | None = None
                   ) -> dict[str, np.ndarray]:
    """Unit embeddings of ``queries``, batch-encoded with one torch thread (on a shared
    2-core machine a second thread made batches 2× slower), and cached in ``cache_dir``
    under (model, recipe, the query set) when given."""
    unique = sorted({q for q in queries if q})
    if not unique:
        return {}
    path = None
    if cache_dir is not None:
        digest = hashlib.sha1(json.dumps([str(getattr(encoder, "model_id", "")), QUERY_CACHE_RECIPE,
                                          unique]).encode()).hexdigest()[:20]
        path = Path(cache_dir) / f"queries-{digest}.npz"
        stored = load_npz(path, {"vectors": (len(unique), getattr(encoder, "dim", None))},
                          what="query cache")
        if stored is not None:
            return _frozen_rows(unique, stored["vectors"])
    threads = None
    try:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch ships with the encoder
        torch = None  # type: ignore[assignment]
    try:
        vectors = np.asarray(encoder.encode(unique, batch_size=32), dtype=np.float32)
    finally:
        if threads is not None:
            torch.set_num_threads(threads)
    if path is not None:
        save_npz(path, vectors=vectors)
    return _frozen_rows(unique, vectors)


def _frozen_rows(texts: Sequence[str], vectors: np.ndarray) -> dict[str, np.ndarray]:
    """``{text: read-only float32 vector}``."""
    out = {}
    for text, vector in zip(texts, vectors):
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        vector.flags.writeable = False
        out[text] = vector
    return out


def prefetching(recommender: Recommender, texts: Sequence[str], cache_dir: Path | None = None
                ) -> Recommender:
    """A shallow copy of ``recommender`` (every component shared, the adapter included)
    whose query embeddings for ``texts`` were batch-encoded (:func:`encode_queries`).
    Only for the built-in parser; otherwise the recommender itself."""
    from recsys.intent import GenreZeroShot, InvalidRequestError

    builtin = recommender.builtin_parser
    if recommender.parser is not builtin:
        return recommender
    plain = builtin.with_encoder(None, None)  # query text only
    queries = []
    for text in texts:
        try:
            queries.append(plain.parse(text).query_text)
        except InvalidRequestError:
            continue
    encoder = _PrefetchedEncoder(recommender.encoder,
                                 encode_queries(recommender.encoder, queries, cache_dir))
    index = recommender.index
    zero_shot = GenreZeroShot(index.genre_names, index.genre_embeddings, recommender.catalogue.genre_names)
    parser = builtin.with_encoder(encoder.encode_query, zero_shot)
    fast = copy.copy(recommender)
    fast.encoder = encoder  # type: ignore[assignment]  # duck-typed TextEncoder
    fast.builtin_parser = parser
    fast.parser = parser
    return fast
