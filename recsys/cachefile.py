"""On-disk artefacts (``.npz`` caches): atomic writes and loads that never crash.

Every cache this package keeps (item embeddings, ALS factors, the adapter, evaluation
query vectors) is derived data: losing it costs time, never correctness. So:

* :func:`save_npz` writes to a temporary file in the same folder, flushes it to disk and
  renames it over the target, so a reader sees the old file or the new one, never half of
  one. A write that fails (read-only or full disk) is logged and skipped.
* :func:`load_npz` treats *any* unreadable file — missing, truncated, zeroed, garbled,
  not a zip, a missing array, an array of the wrong shape or dtype kind, a NaN/∞ in a
  float array — as a cache miss: it logs one warning naming the file and the reason, and
  returns ``None`` so the caller rebuilds. It never raises and never returns arrays that
  do not match what the caller expects.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

#: An expected shape: one entry per axis, ``None`` for "any length".
Shape = tuple[int | None, ...]


class _Invalid(Exception):
    """An array that is present but not what the caller expects."""


@contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """A fresh temporary path beside ``path`` for the block to write; afterwards it is flushed
    to disk and renamed over ``path``, so readers see the old file or the new one, never half
    of one. If the block (or the rename) raises, the temporary file is removed and the
    exception propagates. Every cache file of the package is written through this."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_npz(path: Path, **arrays: np.ndarray) -> bool:
    """Write ``arrays`` to ``path`` atomically (:func:`atomic_write`).

    Returns ``True`` when the file is in place; on an ``OSError`` (read-only folder,
    full disk) logs a warning, leaves no temporary file and returns ``False``.
    """
    path = Path(path)
    try:
        with atomic_write(path) as tmp, open(tmp, "xb") as handle:   # umask applies
            np.savez(handle, allow_pickle=True, **arrays)  # numpy's default, named so no array binds to it
        return True
    except OSError as exc:
        logger.warning("Could not write the cache file %s (%s); it will be rebuilt next time",
                       path.name, exc.strerror or exc)
        return False


def load_npz(path: Path, expected: Mapping[str, Shape | None], *, what: str = "cache file",
             optional: Mapping[str, Shape | None] | None = None) -> dict[str, np.ndarray] | None:
    """The arrays of ``path`` named in ``expected`` (and those of ``optional`` present),
    or ``None`` — with a warning — when the file cannot be trusted.

    ``expected`` maps array names to shapes (``None`` entries match any length; a ``None``
    shape accepts any shape). Numeric float arrays must be finite. A missing file returns
    ``None`` silently (a plain miss). Never raises.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        out: dict[str, np.ndarray] = {}
        with np.load(path, allow_pickle=False) as stored:
            names = set(stored.files)
            for name, shape in {**expected, **(optional or {})}.items():
                if name not in names:
                    if name in expected:
                        raise _Invalid(f"no array {name!r}")
                    continue
                array = np.asarray(stored[name])
                _check(name, array, shape)
                out[name] = array
        return out
    except _Invalid as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - any damage is a cache miss, by contract
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    logger.warning("The %s %s is damaged or stale (%s); rebuilding it", what, path.name, reason)
    return None


def _check(name: str, array: np.ndarray, shape: Shape | None) -> None:
    """Raise :class:`_Invalid` unless ``array`` is numeric (or text), has ``shape`` and, if
    floating point, only finite values."""
    if array.dtype.kind not in "biuf" and array.dtype.kind != "U":
        raise _Invalid(f"{name!r} has dtype {array.dtype}")
    if shape is not None:
        if array.ndim != len(shape) or any(want is not None and got != want
                                           for got, want in zip(array.shape, shape)):
            raise _Invalid(f"{name!r} has shape {array.shape}, expected "
                           f"({', '.join('any' if s is None else str(s) for s in shape)})")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise _Invalid(f"{name!r} holds NaN or infinite values")
