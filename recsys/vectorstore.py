"""A large embedding matrix on disk: built in chunks, resumable, memory-mapped, verified.

For catalogues too big to encode in one go (a million items take hours on 2 cores) the item
embeddings live in two files next to each other::

    <stem>.npy    float16[n, dim], a NumPy array file read back with mmap_mode="r"
    <stem>.json   {"n", "dim", "dtype", "chunk", "done", "digests": [sha1 per chunk], "complete"}

:func:`build` fills the array ``chunk`` rows at a time, flushes them and records the chunk's
SHA-1 in the JSON (written atomically) before the next one: an interruption (Ctrl-C, a
crash, a power cut) loses at most the chunk in flight, and the next build resumes after the
last recorded chunk once the recorded ones still verify. :func:`open_vectors` memory-maps a
complete store after checking every chunk against its digest (about 1 s per GB), so a
truncated, zeroed or garbled file is a cache miss — one warning, then a rebuild — never
wrong numbers. float16 halves the disk and page-cache footprint; cosine scores move by
under 1e-3, below anything a ranking notices.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.format import open_memmap

from recsys.cachefile import atomic_write
from recsys.progress import Progress, report

logger = logging.getLogger(__name__)

#: Rows encoded and committed at a time (a resumed build repeats at most this many).
DEFAULT_CHUNK = 8192
_FORMAT = "vectors/1"


def paths(stem: Path) -> tuple[Path, Path]:
    """The array file and the state file of a store."""
    return stem.with_suffix(".npy"), stem.with_suffix(".json")


def _digest(block: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(block).tobytes(), usedforsecurity=False).hexdigest()


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        logger.warning("The embedding store state %s is damaged (%s); starting over",
                       path.name, type(exc).__name__)
        return None
    return state if isinstance(state, dict) and state.get("format") == _FORMAT else None


def _write_state(path: Path, state: dict[str, Any]) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(state), encoding="utf-8")


def _verified_chunks(array: np.ndarray, state: dict[str, Any]) -> int:
    """How many leading chunks of ``array`` match their recorded digests."""
    chunk = int(state["chunk"])
    for k, digest in enumerate(state.get("digests", [])):
        block = array[k * chunk:(k + 1) * chunk]
        if len(block) == 0 or _digest(block) != digest:
            return k
    return len(state.get("digests", []))


def open_vectors(stem: Path, n: int, dim: int, *, what: str = "embedding store"
                 ) -> np.ndarray | None:
    """The complete, verified store as a read-only ``float16[n, dim]`` memory map, or ``None``
    (a warning when a store is there but incomplete, damaged or of another shape)."""
    array_path, state_path = paths(stem)
    state = _read_state(state_path)
    if state is None or not array_path.exists():
        return None
    if not state.get("complete"):
        return None                                  # a build in progress: resume, no warning
    reason = None
    try:
        if (state.get("n"), state.get("dim")) != (n, dim):
            reason = f"shape {state.get('n')}×{state.get('dim')}, expected {n}×{dim}"
        else:
            array = np.load(array_path, mmap_mode="r")
            if array.shape != (n, dim) or array.dtype != np.float16:
                reason = f"array of shape {array.shape} and dtype {array.dtype}"
            elif _verified_chunks(array, state) * int(state["chunk"]) < n:
                reason = "a chunk does not match its checksum"
            else:
                return array
    except Exception as exc:  # noqa: BLE001 - any damage is a cache miss, by contract
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    logger.warning("The %s %s is damaged or stale (%s); rebuilding it", what, array_path.name, reason)
    return None


def build(stem: Path, n: int, dim: int, encode: Callable[[int, int], np.ndarray], *,
          chunk: int = DEFAULT_CHUNK, progress: Progress | None = None,
          label: str = "items") -> np.ndarray:
    """Fill the store with ``encode(start, stop)`` (rows ``start…stop−1``, unit vectors),
    resuming a previous partial build, and return the read-only memory map.

    Each chunk is checked (finite values) before it is committed; a chunk that fails raises
    ``ValueError`` and leaves the committed part intact.
    """
    array_path, state_path = paths(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    state = _read_state(state_path)
    start_chunk = 0
    array = None
    if (state is not None and (state.get("n"), state.get("dim"), state.get("chunk")) == (n, dim, chunk)
            and array_path.exists()):
        try:
            array = open_memmap(array_path, mode="r+")
            if array.shape != (n, dim) or array.dtype != np.float16:
                array = None
            else:
                start_chunk = _verified_chunks(array, state)
        except Exception:  # noqa: BLE001 - a damaged partial build starts over
            array = None
    if array is None:
        state = {"format": _FORMAT, "n": n, "dim": dim, "dtype": "float16", "chunk": chunk,
                 "digests": [], "complete": False}
        array = open_memmap(array_path, mode="w+", dtype=np.float16, shape=(n, dim))
    assert state is not None
    state["digests"] = state["digests"][:start_chunk]
    state["complete"] = False
    if start_chunk:
        logger.info("Resuming the %s build after %d of %d rows", label, min(n, start_chunk * chunk), n)
    chunks = (n + chunk - 1) // chunk
    for k in range(start_chunk, chunks):
        lo, hi = k * chunk, min(n, (k + 1) * chunk)
        block = np.asarray(encode(lo, hi), dtype=np.float32)
        if block.shape != (hi - lo, dim) or not np.isfinite(block).all():
            raise ValueError(f"the encoder returned a bad block for rows {lo}-{hi}")
        array[lo:hi] = block.astype(np.float16)
        array.flush()
        state["digests"].append(_digest(array[lo:hi]))
        state["done"] = hi
        _write_state(state_path, state)
        report(progress, hi / n, f"Encoded {hi:,} / {n:,} {label}")
    state["complete"] = True
    _write_state(state_path, state)
    del array
    # every chunk was hashed as it was committed: map it read-only, no second pass over it
    out: np.ndarray = np.load(array_path, mmap_mode="r")
    return out
