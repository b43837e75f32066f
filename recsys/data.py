"""Locate, download, read and validate MovieLens data.

:func:`load_dataset` is the entry point: it finds a MovieLens folder (explicit
argument, ``$RECSYS_DATA_DIR``, the local cache, or a verified download from
GroupLens), detects its layout (ml-latest / ml-25m CSVs, ml-1m ``.dat`` files or
ml-100k ``u.*`` files) and returns a :class:`RawData` with normalised column
names and dtypes.

Validation follows the product rule "never drop rows silently": every problem
raises :class:`DataError` whose message names the file, the 1-based physical
line (the CSV header is line 1) and what is wrong, plus how many more rows share
the problem. The checks are vectorised, so ml-latest-small loads in a fraction
of a second. Blank lines carry no data and are skipped (line numbers stay right).
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
from typing import Any, Literal, NoReturn

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
    """A validated MovieLens data set with normalised columns and dtypes.

    ``movies``: movie_id int64, title str, genres str ("A|B", or "(no genres listed)").
    ``ratings``: user_id int64, movie_id int64, rating float32, timestamp int64.
    ``tags``: user_id int64, movie_id int64, tag str, timestamp int64 (may be empty).
    ``links``: movie_id int64, imdb_id str, tmdb_id Int64, or None when absent.
    ``fingerprint``: hex SHA-1 over the contents of the files read.
    """

    name: str
    source_dir: Path
    movies: pd.DataFrame = field(repr=False)
    ratings: pd.DataFrame = field(repr=False)
    tags: pd.DataFrame = field(repr=False)
    links: pd.DataFrame | None = field(repr=False)
    fingerprint: str


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
    """Read and validate the MovieLens folder ``path``, detecting its layout from its files."""
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
                        f"holding movies.csv and ratings.csv.")
    if _complete_layout(folder) is None:
        try:
            _detect_layout(folder)
        except DataError as exc:
            raise DataError(f"{subject} is not a usable MovieLens folder: {exc}") from None


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
    """String columns of one file, with the physical line number of every row."""

    def __init__(self, path: Path, table: pa.Table, lines: np.ndarray) -> None:
        self.path, self.table, self.lines = path, table, lines

    def __len__(self) -> int:
        return self.table.num_rows

    def fail(self, rows: np.ndarray, describe: Callable[[int], str]) -> NoReturn:
        """Raise for the first of ``rows`` (positions), counting the others."""
        first = int(rows[0])
        raise DataError(f"{self.path} line {self.lines[first]}: {describe(first)}"
                        f"{_more(len(rows) - 1)}")

    def text(self, column: str) -> pa.ChunkedArray[Any]:
        return self.table.column(column)

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
    if not raw.strip():
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
                                      ignore_empty_lines=False, newlines_in_values=False,
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
                            f"0x{data[bad.start]:02x}); MovieLens CSV files are UTF-8.") from None
        raise DataError(f"{path}: cannot be parsed ({exc}).") from exc
    if invalid:
        number, expected, actual, text = invalid[0]
        text = text.replace("\x1f", "::")
        text = text if len(text) <= 80 else text[:77] + "..."
        raise DataError(f"{path} line {number}: expected {expected} fields, found {actual}: "
                        f"{text!r}{_more(len(invalid) - 1)}")
    result = _drop_blank_rows(_Table(path, table, np.arange(table.num_rows, dtype=np.int64)
                                     + (2 if header else 1)), columns)
    if require_rows and not len(result):
        raise DataError(f"{path}: the file has no data rows.")
    return result


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
        table.fail(dup, lambda _: f"duplicate {column} {value} (first on line {first})")
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


_Frames = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]
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
    return movies, ratings, tags, links


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
    return movies, _ratings_frame(rt, cols, movie_ids, "movies.dat", _STAR_SCALE), _empty_tags(), None


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
    return movies, _ratings_frame(rt, cols, movie_ids, "u.item", _STAR_SCALE), _empty_tags(), None


@dataclass(frozen=True)
class _Layout:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    reader: _Reader


_LAYOUTS = (
    _Layout("ml-latest", ("movies.csv", "ratings.csv"), ("tags.csv", "links.csv"), _read_latest),
    _Layout("ml-1m", ("movies.dat", "ratings.dat"), (), _read_1m),
    _Layout("ml-100k", ("u.item", "u.data"), (), _read_100k),
)
_EXPECTED = ("expected movies.csv and ratings.csv (ml-latest, ml-25m), movies.dat and "
             "ratings.dat (ml-1m), or u.item and u.data (ml-100k)")


def _complete_layout(folder: Path) -> _Layout | None:
    for layout in _LAYOUTS:
        if all((folder / name).is_file() for name in layout.required):
            return layout
    return None


def _detect_layout(folder: Path) -> _Layout:
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found.")
    layout = _complete_layout(folder)
    if layout is not None:
        return layout
    for layout in _LAYOUTS:
        present = [n for n in layout.required if (folder / n).exists()]
        if present:
            missing = [n for n in layout.required if n not in present]
            raise DataError(f"{folder / missing[0]}: file not found; an {layout.name} folder needs "
                            f"{' and '.join(layout.required)}.")
    raise DataError(f"{folder}: no MovieLens data found; {_EXPECTED}.")


def _read_dir(folder: Path, name: str, progress: Progress | None) -> RawData:
    layout = _detect_layout(folder)
    files = [n for n in (*layout.required, *layout.optional) if (folder / n).is_file()]
    sizes = {n: (folder / n).stat().st_size for n in files}
    total = max(1, sum(sizes.values()))
    done = 0

    def step(file_name: str) -> None:
        nonlocal done
        report(progress, done / total, f"Reading {file_name}")
        done += sizes.get(file_name, 0)

    fp = _Fingerprint()
    movies, ratings, tags, links = layout.reader(folder, fp, step)
    dup = int(ratings.duplicated(["user_id", "movie_id"]).sum())
    if dup:
        logger.warning("%s: %d (user, movie) pairs are rated more than once", folder, dup)
    report(progress, 1.0, f"Read {len(movies)} movies and {len(ratings)} ratings")
    logger.info("Read %s (%s layout) from %s: %d movies, %d ratings, %d tags", name, layout.name,
                folder, len(movies), len(ratings), len(tags))
    return RawData(name=name, source_dir=folder, movies=movies, ratings=ratings, tags=tags,
                   links=links, fingerprint=fp.hexdigest())
