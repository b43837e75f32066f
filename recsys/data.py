"""Locate, download, read and validate MovieLens data or your own catalogue.

:func:`load_dataset` is the entry point: it finds a data folder (explicit
argument, ``$RECSYS_DATA_DIR``, the local cache, or a verified download from
GroupLens), detects its layout (ml-latest / ml-25m CSVs, ml-1m ``.dat`` files,
ml-100k ``u.*`` files, or the generic catalogue layout below) and returns a
:class:`RawData` with normalised column names and dtypes.

Validation follows the product rule "never drop rows silently": every problem
raises :class:`DataError` whose message names the file, the 1-based physical
line (the CSV header is line 1; a quoted field spanning lines is counted right) or,
in Parquet files, the 1-based row, and what is wrong, plus how many more rows share
the problem. The checks are vectorised (10M interactions are read by pyarrow / numpy,
never a Python loop per row), so ml-latest-small loads in a fraction of a second.
Blank lines carry no data and are skipped (line numbers stay right). Nothing parsed is
cached: a folder is read and validated whole on every load, so no half-validated data
can reach a cache (the caches built from it are keyed by :attr:`RawData.fingerprint`).

Your own catalogue (``domain`` "items")
---------------------------------------
A folder holding ``items.csv`` or ``items.parquet`` and ``interactions.csv`` or
``interactions.parquet`` (not both formats of one file). CSV files are UTF-8 with a
header line; columns are found by name and other columns are ignored; only a quoted
``description`` may span lines (a line break anywhere else, or one that swallows the rest
of the file or a row-like line, means an unclosed quote: an error).

``items``: ``item_id`` (integer, unique) and ``title`` (not empty) are required;
optional ``year`` (integer 1-9999), ``categories``, ``tags`` and ``people``
(``|``-separated; in Parquet also lists), ``description`` (text) and ``popularity``
(number ≥ 0); a whole number may be written "1999.0". Empty optional cells mean
"unknown". Titles follow the MovieLens
conventions: the year is appended as ``"Title (1999)"`` (a title already ending in a
different year is an error; one ending in a year with no ``year`` given keeps it as its
year), ``"Matrix, The"`` displays as "The Matrix" and trailing parentheses are
alternative titles. Categories come from the file (any names); tags keep their order.

``interactions``: ``user_id`` (text; integers are kept, other ids are numbered 1… in
sorted order) and ``item_id`` are required; optional ``rating`` (a number 0-5; rescale
other scales) and ``timestamp`` (Unix seconds or ISO 8601). Without a ``rating`` column
the feedback is implicit: every interaction is a like with rating
:data:`IMPLICIT_RATING` (4.0: ALS confidence 2, "liked" in evaluation), and repeated
(user, item) rows each add that confidence.

What is rejected (:class:`DataError`) and what is skipped:

* rejected: a missing or unreadable file (a truncated Parquet file included), a missing
  required column, bytes that are not UTF-8, a line with the wrong number of fields, an
  unclosed quote, an empty or non-numeric id, a duplicate ``item_id`` (naming both
  lines), an empty title, a bad year / popularity / rating / timestamp, no data rows,
  interactions none of whose items are in ``items``;
* skipped with a warning (logged, and in :attr:`RawData.warnings`): interactions whose
  ``item_id`` is not in ``items`` — counted, the first one named;
* kept: items nobody interacted with, duplicate (user, item) pairs (a warning for rated
  data, as for MovieLens).
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from recsys.progress import Progress, report, scaled

logger = logging.getLogger(__name__)

DEFAULT_DATASET = "ml-latest-small"
DEFAULT_BASE_URL = "https://files.grouplens.org/datasets/movielens"
ENV_DATA_DIR = "RECSYS_DATA_DIR"
ENV_CACHE_DIR = "RECSYS_CACHE_DIR"
ENV_DATA_URL = "RECSYS_DATA_URL"
DOWNLOAD_TIMEOUT_S = 30.0

# MD5 of the official zips of the frozen data sets, as published by GroupLens in
# <name>.zip.md5 (quoted identically by several public projects). The "latest"
# sets change over time, so they rely on the published .md5 file only.
_KNOWN_MD5: dict[str, str] = {
    "ml-100k": "0e33842e24a9c977be4e0107933c0723",
    "ml-1m": "c4d9eecfca2ab87c1945afe126590906",
    "ml-20m": "cd245b17a1ae2cc31bb14903e1204af3",
    "ml-25m": "6b51fb2759a8657d3bfcbfc42b592ada",
}
_FINGERPRINT_SALT = b"recsys.data/1\0"  # bump when the normalisation changes
_DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_INT = r"^-?\d{1,18}$"
_FLOAT = r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_LATEST_SCALE = (0.5, 5.0)
_STAR_SCALE = (1.0, 5.0)
_EMPTY = pa.scalar("")
# ml-100k u.genre order, mapped to today's MovieLens names.
_GENRES_100K = (
    ("unknown", "(no genres listed)"), ("Action", "Action"), ("Adventure", "Adventure"),
    ("Animation", "Animation"), ("Children's", "Children"), ("Comedy", "Comedy"),
    ("Crime", "Crime"), ("Documentary", "Documentary"), ("Drama", "Drama"),
    ("Fantasy", "Fantasy"), ("Film-Noir", "Film-Noir"), ("Horror", "Horror"),
    ("Musical", "Musical"), ("Mystery", "Mystery"), ("Romance", "Romance"),
    ("Sci-Fi", "Sci-Fi"), ("Thriller", "Thriller"), ("War", "War"), ("Western", "Western"),
)


class DataError(Exception):
    """A data problem, with a complete, user-facing one-paragraph message."""


class DataUnavailableError(DataError):
    """The data is not available locally and could not be downloaded."""


@dataclass(frozen=True, eq=False)
class RawData:
    """A validated data set (MovieLens or your own catalogue) with normalised columns and dtypes.

    ``movies``: movie_id int64, title str (MovieLens style: a catalogue's year is appended
    as "Title (1999)"), genres str ("A|B", or "(no genres listed)"); a catalogue adds
    description str, tags str ("a|b", in the given order), people str ("A|B") and
    popularity float64 (NaN when not given).
    ``ratings``: user_id int64, movie_id int64, rating float32, timestamp int64 (0 when not given).
    ``tags``: user_id int64, movie_id int64, tag str, timestamp int64 (may be empty).
    ``links``: movie_id int64, imdb_id str, tmdb_id Int64, or None when absent.
    ``fingerprint``: hex SHA-1 over the contents of the files read.
    ``domain``: "movies" for MovieLens layouts, "items" for the catalogue layout.
    ``implicit``: the interactions had no rating column (every rating is :data:`IMPLICIT_RATING`).
    ``warnings``: rows skipped while reading, one sentence each (also logged).
    """

    name: str
    source_dir: Path
    movies: pd.DataFrame = field(repr=False)
    ratings: pd.DataFrame = field(repr=False)
    tags: pd.DataFrame = field(repr=False)
    links: pd.DataFrame | None = field(repr=False)
    fingerprint: str
    domain: str = "movies"
    implicit: bool = False
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- locating


def default_cache_dir() -> Path:
    """Return ``$RECSYS_CACHE_DIR``, else ``$XDG_CACHE_HOME/recsys``, else ``~/.cache/recsys``.

    The folder is not created here.
    """
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "recsys"
    return Path.home() / ".cache" / "recsys"


def resolve_data_dir(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    dataset: str = DEFAULT_DATASET,
    cache_dir: Path | None = None,
    download: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Return a folder holding MovieLens files, downloading them if needed.

    Order: ``data_dir``; ``$RECSYS_DATA_DIR`` (if set and non-empty it must be valid:
    there is no fall-back); ``<cache_dir>/<dataset>/``; else a verified download of the GroupLens
    zip (base URL overridable with ``$RECSYS_DATA_URL``) into the cache. Raises
    :class:`DataError`, or :class:`DataUnavailableError` when the download fails.
    """
    return _resolve(data_dir, dataset, cache_dir, download, progress)[0]


def load_dataset(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    dataset: str = DEFAULT_DATASET,
    cache_dir: Path | None = None,
    download: bool = True,
    progress: Progress | None = None,
) -> RawData:
    """Resolve the data folder (see :func:`resolve_data_dir`), then read and validate it."""
    downloading = False

    def _download_progress(fraction: float, message: str) -> None:
        nonlocal downloading
        downloading = True
        report(progress, 0.9 * fraction, message)

    path, name, raw = _resolve(data_dir, dataset, cache_dir, download,
                               _download_progress if progress is not None else None)
    if raw is not None:  # freshly downloaded: already read and validated
        report(progress, 1.0, f"Loaded {raw.name}")
        return raw
    from_cache = data_dir is None and not os.environ.get(ENV_DATA_DIR, "").strip()
    try:
        raw = _read_dir(path, name, scaled(progress, 0.9 if downloading else 0.0, 1.0))
        if from_cache:
            _check_manifest(path, raw)
        return raw
    except DataError as exc:
        if not from_cache or not download:
            raise
        logger.warning("The cached MovieLens data in %s is damaged (%s); downloading it again",
                       path, " ".join(str(exc).split()))
    raw = _download(dataset, _dataset_url(dataset), path.parent, progress, replace_damaged=True)[2]
    report(progress, 1.0, f"Loaded {raw.name}")
    return raw


_MANIFEST = ".recsys-fingerprint"


def _check_manifest(folder: Path, raw: RawData) -> None:
    """Raise :class:`DataError` when a downloaded folder no longer holds what was verified
    at download time (its fingerprint is stored next to the files; older caches have none)."""
    try:
        expected = (folder / _MANIFEST).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return
    if expected != raw.fingerprint:
        raise DataError(f"the files in {folder} changed since they were downloaded and verified")


def read_movielens_dir(path: str | os.PathLike[str], *, progress: Progress | None = None) -> RawData:
    """Read and validate the data folder ``path`` (a MovieLens layout or your own catalogue),
    detecting its layout from its files."""
    folder = Path(path).expanduser()
    return _read_dir(folder, folder.resolve().name, progress)


def _resolve(
    data_dir: str | os.PathLike[str] | None,
    dataset: str,
    cache_dir: Path | None,
    download: bool,
    progress: Progress | None,
) -> tuple[Path, str, RawData | None]:
    """Return (folder, data set name, RawData if it was just downloaded and validated)."""
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        _check_folder(folder, f"The data folder {str(folder)!r}")
        return folder, folder.resolve().name, None
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    if env:
        folder = Path(env).expanduser()
        _check_folder(folder, f"{ENV_DATA_DIR} is set to {env!r}, but that path")
        logger.debug("Using MovieLens data from %s=%s", ENV_DATA_DIR, folder)
        return folder, folder.resolve().name, None
    if not _DATASET_NAME.fullmatch(dataset):
        raise DataError(f"{dataset!r} is not a valid data set name: use a GroupLens name such "
                        f"as {DEFAULT_DATASET!r}, 'ml-100k' or 'ml-1m'.")
    root = _cache_root(cache_dir)
    cached = root / dataset
    if _complete_layout(cached) is not None:
        logger.debug("Using cached MovieLens data in %s", cached)
        return cached, dataset, None
    url = _dataset_url(dataset)
    if not download:
        raise DataUnavailableError(
            f"The MovieLens data set {dataset!r} is not in the cache ({cached}) and downloading is "
            f"disabled. Set {ENV_DATA_DIR} to a local copy (the unpacked folder holding movies.csv "
            f"and ratings.csv), or allow the download from {_redact(url)}.")
    return _download(dataset, url, root, progress)


def _cache_root(cache_dir: Path | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def _check_folder(folder: Path, subject: str) -> None:
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"{subject} {what}. Point it at an unpacked MovieLens folder, e.g. one "
                        f"holding movies.csv and ratings.csv, or at a catalogue folder holding "
                        f"items.csv and interactions.csv.")
    if _complete_layout(folder) is None:
        try:
            _detect_layout(folder)
        except DataError as exc:
            raise DataError(f"{subject} is not a usable data folder: {exc}") from None


# --------------------------------------------------------------------------- download


def _dataset_url(dataset: str) -> str:
    base = os.environ.get(ENV_DATA_URL, "").strip() or DEFAULT_BASE_URL
    url = f"{base.rstrip('/')}/{dataset}.zip"
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DataError(f"{ENV_DATA_URL} must be an http:// or https:// URL; got {_redact(base)!r}.")
    return url


def _redact(url: str) -> str:
    """Drop credentials, query and fragment from ``url`` before it is shown or logged."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _unavailable(dataset: str, url: str, reason: str) -> DataUnavailableError:
    return DataUnavailableError(
        f"Could not download the MovieLens data set {dataset!r} from {_redact(url)}: {reason}. "
        f"If this machine is offline or the server is unreachable, download and unpack that zip "
        f"elsewhere and set {ENV_DATA_DIR} to the unpacked folder (the one holding movies.csv "
        f"and ratings.csv).")


def _download(dataset: str, url: str, root: Path, progress: Progress | None, *,
              replace_damaged: bool = False) -> tuple[Path, str, RawData]:
    try:
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{dataset}-", suffix=".partial", dir=root))
    except OSError as exc:
        raise DataError(f"Cannot write to the cache folder {root} ({exc.strerror or exc}). Set "
                        f"{ENV_CACHE_DIR} to a writable folder, or {ENV_DATA_DIR} to a local "
                        f"copy of the data.") from exc
    try:
        archive = work / f"{dataset}.zip"
        logger.info("Downloading %s", _redact(url))
        digest = _fetch(url, archive, dataset, progress)
        report(progress, 0.91, f"Verifying {archive.name}")
        _verify_md5(dataset, url, digest)
        extracted = _extract(archive, work / "extracted", dataset, url)
        try:
            raw = _read_dir(extracted, dataset, scaled(progress, 0.95, 1.0))
        except DataError as exc:
            raise DataError(f"The data downloaded from {_redact(url)} failed validation, so it "
                            f"was not cached: {exc}") from exc
        target = root / dataset
        (extracted / _MANIFEST).write_text(raw.fingerprint, encoding="ascii")
        _install(extracted, target, work, replace_damaged=replace_damaged)
        report(progress, 1.0, f"Downloaded {dataset}")
        logger.info("Cached MovieLens data set %s in %s", dataset, target)
        return target, dataset, replace(raw, source_dir=target)
    except OSError as exc:
        raise DataError(f"Could not save the downloaded data set in the cache folder {root} "
                        f"({exc.strerror or exc}). Set {ENV_CACHE_DIR} to a writable folder, or "
                        f"{ENV_DATA_DIR} to a local copy of the data.") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fetch(url: str, dest: Path, dataset: str, progress: Progress | None) -> str:
    """Stream ``url`` into ``dest``, reporting progress; return the MD5 hex digest."""
    request = urllib.request.Request(url, headers={"User-Agent": "recsys-data/1"})
    md5 = hashlib.md5(usedforsecurity=False)
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response, \
                dest.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done, last_step = 0, -1
            while chunk := response.read(1 << 16):
                out.write(chunk)
                md5.update(chunk)
                done += len(chunk)
                step = done * 200 // total if total else done >> 20
                if step != last_step:
                    last_step = step
                    size = f"{done / 1e6:.1f} / {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
                    report(progress, 0.9 * done / total if total else 0.0,
                           f"Downloading {dest.name} ({size})")
            if total and done != total:
                raise _unavailable(dataset, url, f"the transfer stopped after {done} of {total} bytes")
    except _NETWORK_ERRORS as exc:
        raise _unavailable(dataset, url, _network_reason(exc)) from exc
    return md5.hexdigest()


# ValueError covers http.client.InvalidURL; URLError and TimeoutError are OSErrors.
_NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError,
                   http.client.HTTPException, ValueError)


def _network_reason(exc: BaseException) -> str:
    """Describe a network failure in a few words, without echoing the URL."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"could not connect ({exc.reason})"
    if isinstance(exc, TimeoutError):
        return f"no answer within {DOWNLOAD_TIMEOUT_S:.0f} s"
    if isinstance(exc, ValueError):
        return "the URL is not valid"
    return f"the connection broke off ({type(exc).__name__}: {exc})"


def _published_md5(url: str) -> str | None:
    """The digest in GroupLens' ``<zip>.md5`` ("MD5 (x.zip) = <hex>"), or None."""
    try:
        with urllib.request.urlopen(url + ".md5", timeout=DOWNLOAD_TIMEOUT_S) as response:
            text = response.read(4096).decode("ascii", errors="replace")
    except _NETWORK_ERRORS as exc:
        logger.warning("No published checksum at %s.md5: %s", _redact(url), _network_reason(exc))
        return None
    match = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    if match is None:
        logger.warning("%s.md5 holds no MD5 digest; ignoring it", _redact(url))
        return None
    return match.group(0).lower()


def _verify_md5(dataset: str, url: str, actual: str) -> None:
    expected = {"published next to the zip": _published_md5(url),
                f"known for {dataset}": _KNOWN_MD5.get(dataset)}
    checked = False
    for source, digest in expected.items():
        if digest is None:
            continue
        checked = True
        if digest != actual:
            raise DataError(
                f"The download of {dataset}.zip from {_redact(url)} failed its integrity check: "
                f"its MD5 is {actual}, but the checksum {source} is {digest}. The file may be "
                f"corrupt or tampered with; nothing was cached. Try again later, or unpack a "
                f"trusted copy and set {ENV_DATA_DIR} to that folder.")
    if not checked:
        logger.warning("No MD5 checksum available for %s.zip; relying on the zip CRCs and the "
                       "data validation", dataset)


def _extract(archive: Path, dest: Path, dataset: str, url: str) -> Path:
    """Test and unpack ``archive`` into ``dest``; return the folder holding the data files."""
    def corrupt(detail: str) -> DataError:
        return DataError(f"The download of {dataset}.zip from {_redact(url)} is corrupt "
                         f"({detail}); nothing was cached. Try again, or unpack a trusted copy "
                         f"and set {ENV_DATA_DIR} to that folder.")

    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise corrupt(f"CRC mismatch in {bad}")
            for member in zf.namelist():
                parts = Path(member).parts
                if member.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                    raise corrupt(f"unsafe path {member!r} in the archive")
            zf.extractall(dest)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise corrupt(str(exc) or type(exc).__name__) from exc
    candidates = [dest, *sorted(p for p in dest.iterdir() if p.is_dir())]
    for folder in candidates:
        if _complete_layout(folder) is not None:
            return folder
    raise corrupt("it holds no MovieLens files: " + _EXPECTED)


def _install(source: Path, target: Path, work: Path, *, replace_damaged: bool = False) -> None:
    """Move ``source`` to ``target`` with renames on one file system (no half states);
    ``replace_damaged`` replaces a complete but damaged ``target`` too."""
    if target.exists():
        if _complete_layout(target) is not None and not replace_damaged:  # another process finished first
            return
        os.replace(target, work / "stale")
    try:
        os.rename(source, target)
    except OSError:
        if _complete_layout(target) is None:
            raise


# --------------------------------------------------------------------------- reading


class _Fingerprint:
    def __init__(self) -> None:
        self._sha = hashlib.sha1(_FINGERPRINT_SALT, usedforsecurity=False)

    def add(self, name: str, data: bytes) -> None:
        self._sha.update(f"{name}\0{len(data)}\0".encode())
        self._sha.update(data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


class _Table:
    """Columns of one file, with the physical line number of every row.

    CSV tables hold strings only; Parquet tables keep their types (``unit`` "row":
    ``lines`` are then 1-based row numbers). :meth:`text`, :meth:`ints` and
    :meth:`floats` accept either.
    """

    def __init__(self, path: Path, table: pa.Table, lines: np.ndarray, unit: str = "line") -> None:
        self.path, self.table, self.lines, self.unit = path, table, lines, unit
        self.spans_lines = False  # CSV: some record spans several lines (quoted line breaks)
        self.odd_quotes = False  # CSV: the file holds an odd number of '"' (one is never closed)

    def __len__(self) -> int:
        return self.table.num_rows

    def take(self, rows: np.ndarray) -> _Table:
        """The rows at positions ``rows`` (line numbers kept)."""
        return _Table(self.path, self.table.take(rows), self.lines[rows], self.unit)

    def fail(self, rows: np.ndarray, describe: Callable[[int], str]) -> NoReturn:
        """Raise for the first of ``rows`` (positions), counting the others."""
        first = int(rows[0])
        raise DataError(f"{self.path} {self.unit} {self.lines[first]}: {describe(first)}"
                        f"{_more(len(rows) - 1)}")

    def text(self, column: str) -> pa.ChunkedArray[Any]:
        """``column`` as strings; Parquet nulls read as "" and lists as "a|b"."""
        col = self.table.column(column)
        if pa.types.is_string(col.type) and col.null_count == 0:
            return col
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pc.binary_join(pc.cast(col, pa.list_(pa.string())), "|")
        return pc.fill_null(pc.cast(col, pa.string()), "")

    def nonempty_text(self, column: str) -> pd.Series:
        col = self.text(column)
        empty = np.flatnonzero(pc.equal(col, _EMPTY).to_numpy(zero_copy_only=False))
        if len(empty):
            self.fail(empty, lambda _: f"{column} is empty")
        return _str_series(col)

    def ints(self, column: str) -> np.ndarray:
        return self._numbers(column, pa.int64(), _INT, "an integer")

    def floats(self, column: str) -> np.ndarray:
        return self._numbers(column, pa.float64(), _FLOAT, "a number")

    def _numbers(self, column: str, dtype: pa.DataType, pattern: str, kind: str) -> np.ndarray:
        typed = self.table.column(column)
        if pa.types.is_integer(typed.type) or pa.types.is_floating(typed.type):
            return self._typed_numbers(column, typed, dtype, kind)
        col = self.text(column)
        try:
            return np.asarray(col.cast(dtype).to_numpy(), dtype=dtype.to_pandas_dtype())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            bad = np.flatnonzero(~pc.match_substring_regex(col, pattern).to_numpy(zero_copy_only=False))
            if not len(bad):
                raise DataError(f"{self.path}: column {column} cannot be read as {kind} "
                                f"({exc})") from exc
            values = col.take(bad[:1]).to_pylist()
            self.fail(bad, lambda _: f"{column} is empty" if values[0] == ""
                      else f"{column} {values[0]!r} is not {kind}")

    def _typed_numbers(self, column: str, col: pa.ChunkedArray[Any], dtype: pa.DataType,
                       kind: str) -> np.ndarray:
        """A numeric Parquet column: nulls, NaN and (for integers) fractions are errors."""
        values = col.to_numpy(zero_copy_only=False)
        if col.null_count:
            bad = np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))
            self.fail(bad, lambda _: f"{column} is empty")
        if pa.types.is_floating(col.type):
            bad = np.flatnonzero(~np.isfinite(values))
            if len(bad):
                self.fail(bad, lambda i: f"{column} {values[i]!r} is not {kind}")
            if pa.types.is_integer(dtype):
                bad = np.flatnonzero(values != np.round(values))
                if len(bad):
                    self.fail(bad, lambda i: f"{column} {values[i]:g} is not {kind}")
        return np.asarray(values, dtype=dtype.to_pandas_dtype())


def _str_series(col: pa.ChunkedArray[Any]) -> pd.Series:
    return pd.Series(col.to_pandas(), dtype="str")


def _read_table(
    path: Path,
    columns: Sequence[str],
    fingerprint: _Fingerprint,
    *,
    header: bool = True,
    delimiter: str = ",",
    encoding: str = "utf-8",
    require_rows: bool = True,
) -> _Table:
    """Read ``columns`` of ``path`` as strings, rejecting rows with a wrong field count.

    With ``header`` the columns are looked up by name (extra columns are ignored);
    without it the file must have exactly ``columns`` fields, unquoted (MovieLens
    .dat / u.* files). ``delimiter`` "::" is supported.
    """
    if not path.is_file():
        raise DataError(f"{path}: file not found.")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    fingerprint.add(path.name, raw)
    if not raw or raw.isspace():  # (isspace stops at the first non-space byte; no copy)
        raise DataError(f"{path}: the file is empty.")
    data = raw
    if delimiter == "::":
        data, delimiter = data.replace(b"::", b"\x1f"), "\x1f"
    if encoding != "utf-8":
        data = data.decode(encoding).encode("utf-8")
    if header:
        _check_header(path, data, delimiter, columns)

    invalid: list[tuple[int | None, int, int, str]] = []

    def _invalid(row: pcsv.InvalidRow) -> Literal["skip", "error"]:
        invalid.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    read_options = pcsv.ReadOptions(use_threads=False, block_size=1 << 22,
                                    column_names=None if header else list(columns))
    parse_options = pcsv.ParseOptions(delimiter=delimiter, quote_char='"' if header else False,
                                      ignore_empty_lines=False, newlines_in_values=header,
                                      invalid_row_handler=_invalid)
    convert_options = pcsv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                          include_columns=list(columns), strings_can_be_null=False)
    try:
        table = pcsv.read_csv(pa.BufferReader(data),  # type: ignore[arg-type]  # stubs omit NativeFile
                              read_options=read_options,
                              parse_options=parse_options, convert_options=convert_options)
    except pa.ArrowInvalid as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            line = data.count(b"\n", 0, bad.start) + 1
            raise DataError(f"{path} line {line}: not valid UTF-8 text (byte "
                            f"0x{data[bad.start]:02x}); CSV files must be UTF-8.") from None
        raise DataError(f"{path}: cannot be parsed ({exc}).") from exc
    records = table.num_rows + len(invalid) + 1
    one_per_line = data.count(b"\n") + (not data.endswith(b"\n")) == records
    starts = _record_lines(data) if header and not one_per_line else None

    def line_of(record: int) -> int:  # 0-based record, the header included
        return int(starts[record]) if starts is not None and record < len(starts) else record + 1

    if invalid:
        number, expected, actual, text = invalid[0]
        number = line_of(number - 1) if number is not None else None
        text = text.replace("\x1f", "::")
        hint = "; is a quote not closed?" if header and text.count('"') % 2 else ""
        text = text if len(text) <= 80 else text[:77] + "..."
        raise DataError(f"{path} line {number}: expected {expected} fields, found {actual}: "
                        f"{text!r}{hint}{_more(len(invalid) - 1)}")
    lines = np.arange(table.num_rows, dtype=np.int64) + (2 if header else 1)
    if starts is not None and len(starts) > table.num_rows:
        lines = starts[1:table.num_rows + 1]
    result = _drop_blank_rows(_Table(path, table, lines), columns)
    result.spans_lines = starts is not None
    result.odd_quotes = result.spans_lines and data.count(b'"') % 2 == 1
    if require_rows and not len(result):
        raise DataError(f"{path}: the file has no data rows.")
    return result


def _record_lines(data: bytes) -> np.ndarray | None:
    """The physical line (1-based) on which each CSV record starts, when a quoted field
    spans lines; None when every record is one line (then record ``k`` is line ``k + 1``).

    A line break ends a record when an even number of ``"`` precede it (escaped quotes
    come in pairs, so the parity holds).
    """
    if b'"' not in data:
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buf == ord('"'))
    newlines = np.flatnonzero(buf == ord("\n"))
    ends = np.searchsorted(quotes, newlines) % 2 == 0
    if ends.all():
        return None
    return np.concatenate(([1], np.flatnonzero(ends) + 2)).astype(np.int64)


def _more(count: int) -> str:
    return f" (and {count} more row{'s' if count > 1 else ''})" if count else ""


def _check_header(path: Path, data: bytes, delimiter: str, columns: Sequence[str]) -> None:
    first = data.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        names = next(csv.reader([first.decode("utf-8-sig")], delimiter=delimiter), [])
    except UnicodeDecodeError:
        raise DataError(f"{path} line 1: the header is not valid UTF-8 text.") from None
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(f'{path}: missing column "{missing[0]}" (found: {", ".join(names)}).')


def _drop_blank_rows(table: _Table, columns: Sequence[str]) -> _Table:
    """Drop blank lines (they read as rows of empty fields), keeping line numbers."""
    blank = pc.equal(table.text(columns[0]), _EMPTY)
    for name in columns[1:]:
        blank = pc.and_(blank, pc.equal(table.text(name), _EMPTY))
    if not pc.any(blank).as_py():
        return table
    keep = pc.invert(blank)
    kept = _Table(table.path, table.table.filter(keep), table.lines[keep.to_numpy(zero_copy_only=False)])
    logger.info("%s: skipped %d blank line(s)", table.path, len(table) - len(kept))
    return kept


def _unique_ids(table: _Table, column: str) -> np.ndarray:
    ids = table.ints(column)
    dup = np.flatnonzero(pd.Series(ids).duplicated().to_numpy())
    if len(dup):
        value = ids[dup[0]]
        first = table.lines[np.flatnonzero(ids == value)[0]]
        table.fail(dup, lambda _: f"duplicate {column} {value} (first on {table.unit} {first})")
    return ids


def _known_ids(table: _Table, column: str, movie_ids: np.ndarray, movies_file: str) -> np.ndarray:
    ids = table.ints(column)
    unknown = np.flatnonzero(~np.isin(ids, movie_ids))
    if len(unknown):
        table.fail(unknown, lambda i: f"{column} {ids[i]} is not in {movies_file}")
    return ids


def _ratings_frame(table: _Table, cols: Sequence[str], movie_ids: np.ndarray, movies_file: str,
                   scale: tuple[float, float]) -> pd.DataFrame:
    user, movie, rating, stamp = cols
    users = table.ints(user)
    movies = _known_ids(table, movie, movie_ids, movies_file)
    values = table.floats(rating)
    low, high = scale
    outside = np.flatnonzero(~((values >= low) & (values <= high)))
    if len(outside):
        table.fail(outside, lambda i: f"{rating} {values[i]:g} is outside the rating scale "
                                      f"{low:g}-{high:g}")
    return pd.DataFrame({"user_id": users, "movie_id": movies,
                         "rating": values.astype(np.float32), "timestamp": table.ints(stamp)})


def _movies_frame(ids: np.ndarray, titles: pd.Series, genres: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"movie_id": ids, "title": titles.to_numpy(), "genres": genres.to_numpy()}
                        ).astype({"title": "str", "genres": "str"})


def _empty_tags() -> pd.DataFrame:
    return pd.DataFrame({"user_id": pd.Series(dtype="int64"), "movie_id": pd.Series(dtype="int64"),
                         "tag": pd.Series(dtype="str"), "timestamp": pd.Series(dtype="int64")})


class _Frames(NamedTuple):
    """What a layout reader returns."""

    movies: pd.DataFrame
    ratings: pd.DataFrame
    tags: pd.DataFrame
    links: pd.DataFrame | None
    implicit: bool = False
    warnings: tuple[str, ...] = ()


_Reader = Callable[[Path, _Fingerprint, Callable[[str], None]], _Frames]


def _read_latest(folder: Path, fp: _Fingerprint, step: Callable[[str], None]) -> _Frames:
    """ml-latest(-small) / ml-20m / ml-25m: UTF-8 CSVs with headers."""
    step("movies.csv")
    mt = _read_table(folder / "movies.csv", ("movieId", "title", "genres"), fp)
    movie_ids = _unique_ids(mt, "movieId")
    movies = _movies_frame(movie_ids, mt.nonempty_text("title"), mt.nonempty_text("genres"))
    step("ratings.csv")
    rt = _read_table(folder / "ratings.csv", ("userId", "movieId", "rating", "timestamp"), fp)
    ratings = _ratings_frame(rt, ("userId", "movieId", "rating", "timestamp"), movie_ids,
                             "movies.csv", _LATEST_SCALE)
    tags = _empty_tags()
    if (folder / "tags.csv").exists():
        step("tags.csv")
        tt = _read_table(folder / "tags.csv", ("userId", "movieId", "tag", "timestamp"), fp,
                         require_rows=False)
        tags = pd.DataFrame({"user_id": tt.ints("userId"),
                             "movie_id": _known_ids(tt, "movieId", movie_ids, "movies.csv"),
                             "tag": _str_series(tt.text("tag")).to_numpy(),
                             "timestamp": tt.ints("timestamp")}).astype({"tag": "str"})
    links = None
    if (folder / "links.csv").exists():
        step("links.csv")
        lt = _read_table(folder / "links.csv", ("movieId", "imdbId", "tmdbId"), fp,
                         require_rows=False)
        link_ids = _known_ids(lt, "movieId", movie_ids, "movies.csv")
        tmdb = lt.text("tmdbId")
        given = np.flatnonzero(pc.not_equal(tmdb, _EMPTY).to_numpy(zero_copy_only=False))
        tmdb_ids = pd.array([pd.NA] * len(lt), dtype="Int64")
        if len(given):
            sub = _Table(lt.path, lt.table.take(given), lt.lines[given])
            tmdb_ids[given] = sub.ints("tmdbId")
        links = pd.DataFrame({"movie_id": link_ids, "imdb_id": _str_series(lt.text("imdbId")).to_numpy(),
                              "tmdb_id": tmdb_ids}).astype({"imdb_id": "str"})
    return _Frames(movies, ratings, tags, links)


def _read_1m(folder: Path, fp: _Fingerprint, step: Callable[[str], None]) -> _Frames:
    """ml-1m: "::"-separated latin-1 .dat files without header."""
    step("movies.dat")
    mt = _read_table(folder / "movies.dat", ("MovieID", "Title", "Genres"), fp, header=False,
                     delimiter="::", encoding="latin-1")
    movie_ids = _unique_ids(mt, "MovieID")
    genres = mt.nonempty_text("Genres").str.replace("Children's", "Children", regex=False)
    movies = _movies_frame(movie_ids, mt.nonempty_text("Title"), genres)
    step("ratings.dat")
    cols = ("UserID", "MovieID", "Rating", "Timestamp")
    rt = _read_table(folder / "ratings.dat", cols, fp, header=False, delimiter="::",
                     encoding="latin-1")
    return _Frames(movies, _ratings_frame(rt, cols, movie_ids, "movies.dat", _STAR_SCALE),
                   _empty_tags(), None)


def _read_100k(folder: Path, fp: _Fingerprint, step: Callable[[str], None]) -> _Frames:
    """ml-100k: pipe-separated latin-1 u.item with genre flags, tab-separated u.data."""
    step("u.item")
    flags = [name for name, _ in _GENRES_100K]
    mt = _read_table(folder / "u.item", ("movie id", "movie title", "release date",
                                         "video release date", "IMDb URL", *flags), fp,
                     header=False, delimiter="|", encoding="latin-1")
    movie_ids = _unique_ids(mt, "movie id")
    matrix = np.column_stack([mt.text(f).to_numpy(zero_copy_only=False) for f in flags])
    bad_rows, bad_cols = np.nonzero((matrix != "0") & (matrix != "1"))
    if len(bad_rows):
        flag, value = flags[bad_cols[0]], matrix[bad_rows[0], bad_cols[0]]
        mt.fail(np.unique(bad_rows), lambda _: f"genre flag {flag!r} is {value!r}, not 0 or 1")
    modern = np.array([name for _, name in _GENRES_100K[1:]], dtype=object)
    on = matrix[:, 1:] == "1"
    genres = pd.Series(["|".join(modern[row]) or "(no genres listed)" for row in on])
    movies = _movies_frame(movie_ids, mt.nonempty_text("movie title"), genres)
    step("u.data")
    cols = ("user id", "item id", "rating", "timestamp")
    rt = _read_table(folder / "u.data", cols, fp, header=False, delimiter="\t")
    return _Frames(movies, _ratings_frame(rt, cols, movie_ids, "u.item", _STAR_SCALE),
                   _empty_tags(), None)


# --------------------------------------------------------------------------- your own catalogue

IMPLICIT_RATING = 4.0
"""The rating an interaction without one counts as: a "like" (``recsys.evaluation.heldout.LIKED_RATING``),
confidence ``1 + 2·(4 − 3.5) = 2`` in ALS (see :mod:`recsys.cf`)."""
ITEM_COLUMNS = ("item_id", "title", "year", "categories", "description", "tags", "people",
                "popularity")
INTERACTION_COLUMNS = ("user_id", "item_id", "rating", "timestamp")
_ITEM_SCALE = (0.0, 5.0)
_MAX_YEAR = 9999


def _single(folder: Path, stem: str) -> Path:
    """``<stem>.csv`` or ``<stem>.parquet`` in ``folder``; both at once is ambiguous."""
    found = [folder / f"{stem}{ext}" for ext in (".csv", ".parquet") if (folder / f"{stem}{ext}").is_file()]
    if len(found) > 1:
        raise DataError(f"{folder}: holds both {stem}.csv and {stem}.parquet; keep one of them.")
    if not found:
        raise DataError(f"{folder / (stem + '.csv')}: file not found.")
    return found[0]


def _csv_columns(path: Path) -> list[str]:
    """The header fields of the CSV file ``path`` ([] when it cannot tell; reading reports why)."""
    try:
        with path.open("rb") as fh:
            first = fh.readline(1 << 20)
    except OSError:
        return []
    try:
        text = first.rstrip(b"\r\n").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path} line 1: the header is not valid UTF-8 text.") from None
    return next(csv.reader([text]), [])


def _read_any(path: Path, required: Sequence[str], optional: Sequence[str], fp: _Fingerprint) -> _Table:
    """``required`` and the present ``optional`` columns of a CSV or Parquet file."""
    if path.suffix == ".parquet":
        return _read_parquet(path, required, optional, fp)
    names = _csv_columns(path)
    return _read_table(path, [*required, *(c for c in optional if c in names)], fp)


def _read_parquet(path: Path, required: Sequence[str], optional: Sequence[str],
                  fp: _Fingerprint) -> _Table:
    """Read a Parquet file whole (typed columns; rows numbered from 1)."""
    import pyarrow.parquet as pq

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    fp.add(path.name, raw)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(raw))  # type: ignore[arg-type]
        names = parquet.schema_arrow.names
        missing = [c for c in required if c not in names]
        if missing:
            raise DataError(f'{path}: missing column "{missing[0]}" (found: {", ".join(names)}).')
        table = parquet.read(columns=[*required, *(c for c in optional if c in names)])
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc}); it may be truncated or "
                        f"not Parquet at all.") from None
    if not table.num_rows:
        raise DataError(f"{path}: the file has no data rows.")
    return _Table(path, table, np.arange(1, table.num_rows + 1, dtype=np.int64), unit="row")


def _clean_text(table: _Table, column: str) -> pd.Series:
    """``column`` with surrounding white space removed ("" where empty or absent)."""
    if column not in table.table.column_names:
        return pd.Series([""] * len(table), dtype="str")
    return _str_series(pc.utf8_trim_whitespace(table.text(column)))


def _pipe_list(table: _Table, column: str) -> list[str]:
    """Per row: the ``|``-separated values of ``column``, trimmed, empty and repeated ones
    dropped, joined again by ``|``."""
    out = []
    for value in _clean_text(table, column).tolist():
        parts = (p.strip() for p in value.split("|")) if value else ()
        out.append("|".join(dict.fromkeys(p for p in parts if p)))
    return out


def _optional_numbers(table: _Table, column: str, *, integer: bool) -> np.ndarray:
    """``column`` as float64 with NaN where it is empty (or absent); surrounding spaces are
    ignored, and with ``integer`` a whole number may be written "1999.0" (as pandas does for
    a column with gaps)."""
    values = np.full(len(table), np.nan)
    if column not in table.table.column_names:
        return values
    col = table.table.column(column)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        col = pc.utf8_trim_whitespace(table.text(column))
    numbers = _Table(table.path, pa.table({column: col}), table.lines, table.unit)
    given = np.flatnonzero(pc.invert(pc.equal(numbers.text(column), _EMPTY))
                           .to_numpy(zero_copy_only=False))
    if len(given):
        sub = numbers.take(given)
        found = sub.floats(column)
        if integer:
            fraction = np.flatnonzero(found != np.round(found))
            if len(fraction):
                sub.fail(fraction, lambda i: f"{column} {found[i]:g} is not a whole number")
        values[given] = found
    return values


def _check_line_breaks(table: _Table, multi_line: Sequence[str] = ()) -> None:
    """Only ``multi_line`` columns may hold line breaks (quoted CSV fields spanning lines);
    anywhere else, or running to the end of a file whose quotes do not pair up, a line
    break means a quote was not closed and later rows were swallowed."""
    if not table.spans_lines:
        return
    for name in table.table.column_names:
        col = table.table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        rows = np.flatnonzero(pc.fill_null(pc.match_substring(col, "\n"), False)
                              .to_numpy(zero_copy_only=False))
        if not len(rows):
            continue
        if name not in multi_line:
            table.fail(rows, lambda _: f"{name} spans several lines; is a quote not closed?")
        if table.odd_quotes and rows[-1] == len(table) - 1:
            table.fail(rows[-1:], lambda _: f"{name} runs to the end of the file; is a quote "
                                            f"not closed?")
        swallowed = np.flatnonzero(pc.match_substring_regex(col.take(rows), r"\n-?\d+,")
                                   .to_numpy(zero_copy_only=False))
        if len(swallowed):
            table.fail(rows[swallowed], lambda _: f"{name} holds a line that looks like a row "
                                                  f"(a line break, then '<id>,'); is a quote "
                                                  f"not closed?")


def _compose_titles(table: _Table, titles: pd.Series, years: np.ndarray) -> list[str]:
    """MovieLens-style titles: "Title (1999)" when a year is given and the title has none.

    A title ending in a different year than its ``year`` column is an error.
    """
    from recsys.titles import parse_movielens_title

    out = titles.tolist()
    for i in np.flatnonzero(~np.isnan(years)):
        year = int(years[i])
        own = parse_movielens_title(out[i]).year
        if own is None:
            out[i] = f"{out[i]} ({year})"
        elif own != year:
            table.fail(np.array([i]), lambda _: f"year {year} contradicts the year {own} at the end "
                                                f"of the title {out[i]!r}")
    return out


def _try_int64(col: pa.ChunkedArray[Any]) -> np.ndarray | None:
    """``col`` as int64 when every value is a plain integer, else None (the slow path decides)."""
    try:
        return np.asarray(col.cast(pa.int64()).to_numpy(), dtype=np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _user_ids(table: _Table) -> np.ndarray:
    """Integer user ids as they are; any other non-empty text is numbered 1… in sorted order."""
    typed = table.table.column("user_id")
    if pa.types.is_integer(typed.type) or pa.types.is_floating(typed.type):
        return table.ints("user_id")
    fast = _try_int64(table.text("user_id"))
    if fast is not None:
        return fast
    text = pc.utf8_trim_whitespace(table.text("user_id"))
    empty = np.flatnonzero(pc.equal(text, _EMPTY).to_numpy(zero_copy_only=False))
    if len(empty):
        table.fail(empty, lambda _: "user_id is empty")
    if pc.all(pc.match_substring_regex(text, _INT)).as_py():
        return np.asarray(text.cast(pa.int64()).to_numpy(), dtype=np.int64)
    codes, _ = pd.factorize(_str_series(text), sort=True)
    return (codes + 1).astype(np.int64)


def _timestamps(table: _Table) -> np.ndarray:
    """Unix seconds: integers, Parquet timestamps or ISO 8601 text ("2024-05-01T12:00:00Z")."""
    typed = table.table.column("timestamp")
    if pa.types.is_timestamp(typed.type) or pa.types.is_date(typed.type):
        if typed.null_count:
            table.fail(np.flatnonzero(typed.is_null().to_numpy(zero_copy_only=False)),
                       lambda _: "timestamp is empty")
        seconds = pc.cast(pc.cast(typed, pa.timestamp("s")), pa.int64())
        return np.asarray(seconds.to_numpy(), dtype=np.int64)
    if pa.types.is_integer(typed.type):
        return table.ints("timestamp")
    if pa.types.is_floating(typed.type):  # fractional seconds are dropped
        return np.floor(table.floats("timestamp")).astype(np.int64)
    fast = _try_int64(table.text("timestamp"))
    if fast is not None:
        return fast
    text = pc.utf8_trim_whitespace(table.text("timestamp"))
    numeric = pc.match_substring_regex(text, _INT).to_numpy(zero_copy_only=False)
    out = np.zeros(len(table), dtype=np.int64)
    if numeric.any():
        out[numeric] = table.take(np.flatnonzero(numeric)).ints("timestamp")
    other = np.flatnonzero(~numeric)
    if len(other):
        values = _str_series(text.take(other))
        parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            shown = values.iloc[int(bad[0])]
            table.fail(other[bad], lambda _: "timestamp is empty" if not shown else
                       f"timestamp {shown!r} is neither Unix seconds nor an ISO 8601 date")
        out[other] = (parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return out


def _read_items(folder: Path, fp: _Fingerprint, step: Callable[[str], None]) -> _Frames:
    """Your own catalogue: items.csv|parquet + interactions.csv|parquet (module docstring)."""
    fp.add("layout", b"items/1")  # bump when this normalisation changes
    items_path, inter_path = _single(folder, "items"), _single(folder, "interactions")
    step(items_path.name)
    it = _read_any(items_path, ITEM_COLUMNS[:2], ITEM_COLUMNS[2:], fp)
    _check_line_breaks(it, multi_line=("description",))
    item_ids = _unique_ids(it, "item_id")
    titles = _clean_text(it, "title")
    empty = np.flatnonzero((titles == "").to_numpy())
    if len(empty):
        it.fail(empty, lambda _: "title is empty")
    years = _optional_numbers(it, "year", integer=True)
    bad = np.flatnonzero((years < 1) | (years > _MAX_YEAR))
    if len(bad):
        it.fail(bad, lambda i: f"year {years[i]:.0f} is not a year (1-{_MAX_YEAR})")
    popularity = _optional_numbers(it, "popularity", integer=False)
    bad = np.flatnonzero(popularity < 0)
    if len(bad):
        it.fail(bad, lambda i: f"popularity {popularity[i]:g} is negative")
    categories = [c or "(no genres listed)" for c in _pipe_list(it, "categories")]
    movies = pd.DataFrame({
        "movie_id": item_ids, "title": _compose_titles(it, titles, years), "genres": categories,
        "description": _clean_text(it, "description").to_numpy(), "tags": _pipe_list(it, "tags"),
        "people": _pipe_list(it, "people"), "popularity": popularity,
    }).astype({"title": "str", "genres": "str", "description": "str", "tags": "str", "people": "str"})

    step(inter_path.name)
    rt = _read_any(inter_path, INTERACTION_COLUMNS[:2], INTERACTION_COLUMNS[2:], fp)
    _check_line_breaks(rt)
    columns = rt.table.column_names
    users = _user_ids(rt)
    items = rt.ints("item_id")
    implicit = "rating" not in columns
    if implicit:
        ratings = np.full(len(rt), IMPLICIT_RATING, dtype=np.float64)
    else:
        ratings = rt.floats("rating")
        low, high = _ITEM_SCALE
        outside = np.flatnonzero(~((ratings >= low) & (ratings <= high)))
        if len(outside):
            rt.fail(outside, lambda i: f"rating {ratings[i]:g} is outside the rating scale "
                                       f"{low:g}-{high:g} (rescale yours, or leave the column out "
                                       f"for implicit feedback)")
    stamps = _timestamps(rt) if "timestamp" in columns else np.zeros(len(rt), dtype=np.int64)
    known = np.isin(items, item_ids)
    warnings: list[str] = []
    if not known.all():
        unknown = np.flatnonzero(~known)
        first = f"{rt.unit} {rt.lines[unknown[0]]}: item_id {items[unknown[0]]}"
        if len(unknown) == len(rt):
            raise DataError(f"{inter_path}: none of its {len(rt)} interactions has an item_id "
                            f"that is in {items_path.name} (first: {first}); is it the right file?")
        warnings.append(f"{inter_path}: skipped {len(unknown)} of {len(rt)} interactions whose "
                        f"item_id is not in {items_path.name} (first: {first}).")
        logger.warning("%s", warnings[-1])
    frame = pd.DataFrame({"user_id": users, "movie_id": items, "rating": ratings.astype(np.float32),
                          "timestamp": stamps})
    if warnings:
        frame = frame[known].reset_index(drop=True)
    return _Frames(movies, frame, _empty_tags(), None, implicit=implicit, warnings=tuple(warnings))


@dataclass(frozen=True)
class _Layout:
    """A folder layout; a file name may list alternatives ("items.csv|items.parquet")."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    reader: _Reader
    domain: str = "movies"


_LAYOUTS = (
    _Layout("ml-latest", ("movies.csv", "ratings.csv"), ("tags.csv", "links.csv"), _read_latest),
    _Layout("ml-1m", ("movies.dat", "ratings.dat"), (), _read_1m),
    _Layout("ml-100k", ("u.item", "u.data"), (), _read_100k),
    _Layout("items", ("items.csv|items.parquet", "interactions.csv|interactions.parquet"), (),
            _read_items, domain="items"),
)
_EXPECTED = ("expected movies.csv and ratings.csv (ml-latest, ml-25m), movies.dat and "
             "ratings.dat (ml-1m), u.item and u.data (ml-100k), or items.csv and "
             "interactions.csv (your own catalogue; .parquet works too)")


def _present(folder: Path, spec: str) -> list[str]:
    """The existing files among the alternatives of ``spec``."""
    return [n for n in spec.split("|") if (folder / n).is_file()]


def _complete_layout(folder: Path) -> _Layout | None:
    for layout in _LAYOUTS:
        if all(_present(folder, spec) for spec in layout.required):
            return layout
    return None


def _detect_layout(folder: Path) -> _Layout:
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found.")
    layout = _complete_layout(folder)
    if layout is not None:
        return layout
    for layout in _LAYOUTS:
        present = [spec for spec in layout.required if _present(folder, spec)]
        if present:
            missing = [spec for spec in layout.required if spec not in present]
            needs = " and ".join(spec.split("|")[0] for spec in layout.required)
            raise DataError(f"{folder / missing[0].split('|')[0]}: file not found; an "
                            f"{layout.name} folder needs {needs}.")
    raise DataError(f"{folder}: no MovieLens data found; {_EXPECTED}.")


def _repeated_pairs(ratings: pd.DataFrame) -> int:
    """How many rows repeat an earlier (user, movie) pair (one sorted int64 key per row)."""
    users, _ = pd.factorize(ratings["user_id"].to_numpy())
    movies, distinct = pd.factorize(ratings["movie_id"].to_numpy())
    key = np.sort(users.astype(np.int64) * max(len(distinct), 1) + movies)
    return int(np.count_nonzero(key[1:] == key[:-1]))


def folder_digest(folder: str | os.PathLike[str]) -> str:
    """SHA-1 over the layout and the names and bytes of the data files a load would read
    (keys the warm-start snapshot, :mod:`recsys.snapshot`)."""
    folder = Path(folder).expanduser()
    layout = _detect_layout(folder)
    sha = hashlib.sha1(_FINGERPRINT_SALT + layout.name.encode(), usedforsecurity=False)
    for name in sorted(n for spec in (*layout.required, *layout.optional) for n in _present(folder, spec)):
        sha.update(f"\0{name}\0".encode())
        with open(folder / name, "rb") as handle:
            while block := handle.read(1 << 22):
                sha.update(block)
    return sha.hexdigest()


def _read_dir(folder: Path, name: str, progress: Progress | None) -> RawData:
    layout = _detect_layout(folder)
    files = [n for spec in (*layout.required, *layout.optional) for n in _present(folder, spec)]
    sizes = {n: (folder / n).stat().st_size for n in files}
    total = max(1, sum(sizes.values()))
    done = 0

    def step(file_name: str) -> None:
        nonlocal done
        report(progress, done / total, f"Reading {file_name}")
        done += sizes.get(file_name, 0)

    fp = _Fingerprint()
    frames = layout.reader(folder, fp, step)
    movies, ratings, tags = frames.movies, frames.ratings, frames.tags
    if not frames.implicit:
        dup = _repeated_pairs(ratings)
        if dup:
            logger.warning("%s: %d (user, movie) pairs are rated more than once", folder, dup)
    what = ("movies", "ratings") if layout.domain == "movies" else ("items", "interactions")
    report(progress, 1.0, f"Read {len(movies)} {what[0]} and {len(ratings)} {what[1]}")
    logger.info("Read %s (%s layout) from %s: %d %s, %d %s, %d tags", name, layout.name,
                folder, len(movies), what[0], len(ratings), what[1], len(tags))
    return RawData(name=name, source_dir=folder, movies=movies, ratings=ratings, tags=tags,
                   links=frames.links, fingerprint=fp.hexdigest(), domain=layout.domain,
                   implicit=frames.implicit, warnings=frames.warnings)
