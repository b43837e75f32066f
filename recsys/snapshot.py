"""Warm start: the validated catalogue and its indexes, saved once per data folder content.

Reading and validating a data folder, deriving the :class:`~recsys.catalogue.Catalogue`,
indexing its titles (:class:`~recsys.titles.TitleMatcher`) and, for a catalogue that brings
its own descriptions and people, its knowledge (:class:`~recsys.knowledge.KnowledgeIndex`)
take a second or two for ml-latest-small and minutes for a million items. All of it is a
pure function of the folder's files, so it is computed once and stored as one file::

    <cache>/engine-<name>-<key>.pkl     key = SHA-1 of the data files' names and bytes
                                             (:func:`recsys.data.folder_digest`) + RECIPE

The file is a pickle behind a header holding the payload's SHA-1; :func:`load` checks it
before unpickling, so a truncated, zeroed or garbled file is a cache miss (one warning, then
the folder is read again), never a crash or wrong data. A changed data file changes the key:
the folder is read and validated in full again. Reading the folder's bytes for the key costs
one pass over them. Like every cache here it lives in the user's own cache folder.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.cachefile import atomic_write

if TYPE_CHECKING:
    import pandas as pd

    from recsys.catalogue import Catalogue
    from recsys.knowledge import KnowledgeIndex
    from recsys.titles import TitleMatcher

logger = logging.getLogger(__name__)

#: Bump when the catalogue, the title matcher or the knowledge index change shape.
RECIPE = "engine/1"
_MAGIC = b"RECSYS-ENGINE-1\n"


@dataclass(frozen=True, eq=False)
class EngineData:
    """What a warm start needs from the data folder, derived once."""

    catalogue: Catalogue
    matcher: TitleMatcher
    links: pd.DataFrame | None
    warnings: tuple[str, ...] = ()
    knowledge: KnowledgeIndex | None = None   #: a catalogue's own knowledge (not movies)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle-collector passes inside the block (then back to the previous state): creating
    millions of small objects (unpickling, building a catalogue) would otherwise trigger
    collection after collection over everything allocated so far."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def snapshot_path(cache_dir: Path, name: str, digest: str) -> Path:
    """Where the snapshot of a folder with content ``digest`` lives."""
    key = hashlib.sha1(f"{RECIPE}\0{digest}".encode(), usedforsecurity=False).hexdigest()[:20]
    return Path(cache_dir) / f"engine-{name}-{key}.pkl"


def load(path: Path) -> EngineData | None:
    """The snapshot at ``path``, or ``None`` (missing: silently; damaged: one warning)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    else:
        head = len(_MAGIC) + 40
        if not data.startswith(_MAGIC) or len(data) < head:
            reason = "not a snapshot file"
        elif hashlib.sha1(memoryview(data)[head:], usedforsecurity=False).hexdigest() \
                != data[len(_MAGIC):head].decode("ascii", "replace"):
            reason = "checksum mismatch"
        else:
            try:
                with collector_paused():
                    out = pickle.loads(memoryview(data)[head:])
            except Exception as exc:  # noqa: BLE001 - a stale class layout is a plain miss
                out = None
                reason = f"{type(exc).__name__}"
            else:
                reason = "unexpected content"
            if isinstance(out, EngineData):
                return out
    logger.warning("The catalogue snapshot %s is damaged or stale (%s); reading the data again",
                   Path(path).name, reason)
    return None


def save(path: Path, engine: EngineData) -> bool:
    """Write ``engine`` to ``path`` atomically; ``False`` (with a warning) when it cannot."""
    path = Path(path)
    payload = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha1(payload, usedforsecurity=False).hexdigest().encode("ascii")
    try:
        with atomic_write(path) as tmp, open(tmp, "xb") as handle:
            handle.write(_MAGIC)
            handle.write(digest)
            handle.write(payload)
        return True
    except OSError as exc:
        logger.warning("Could not write the catalogue snapshot %s (%s); the next start reads "
                       "the data again", path.name, exc.strerror or exc)
        return False
