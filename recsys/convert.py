"""Write a loaded data set in the generic catalogue layout (``python -m recsys convert``).

:func:`convert_dataset` writes ``items.<fmt>`` and ``interactions.<fmt>`` (``fmt`` "csv" or
"parquet") so that reading them back (:func:`recsys.data.load_dataset`) gives the same
catalogue the pipeline saw: identical item ids and order, catalogue titles, display titles,
years, categories, tags (in order), ratings and timestamps — hence identical item texts,
ALS input, title index and recommendations. Only the data set's name and fingerprint
differ, so its caches are its own.

Columns written:

* ``items``: ``item_id, title, year, categories, tags`` plus ``description, people,
  popularity`` when the source has them. ``title`` is the MovieLens title without its
  trailing ``(year)`` when that year is in ``year`` (``"Matrix, The"``, 1999), else the
  whole title; ``tags`` are the catalogue's tags (for MovieLens: the
  :data:`recsys.catalogue.TAGS_PER_MOVIE` most-used user tags, most used first).
* ``interactions``: ``user_id, item_id, rating, timestamp`` (no ``rating`` when the source
  was implicit feedback).

The files are written to temporary names in ``out`` and renamed into place once both are
complete; ``out`` must be new or empty, so an earlier conversion is never half-overwritten.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from recsys.catalogue import build_catalogue
from recsys.data import DataError, RawData
from recsys.titles import parse_movielens_title

Format = Literal["csv", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "parquet")


@dataclass(frozen=True)
class Converted:
    """What :func:`convert_dataset` wrote."""

    items_path: Path
    interactions_path: Path
    n_items: int
    n_interactions: int


def split_title(title: str) -> tuple[str, int | None]:
    """``"Matrix, The (1999)"`` → ``("Matrix, The", 1999)``, such that the catalogue reader
    rebuilds exactly ``title`` from the pair (``(title, None)`` when no year can be split off;
    then the reader still finds the year in the title itself)."""
    title = title.strip()
    year = parse_movielens_title(title).year
    if year is None:
        return title, None
    match = re.fullmatch(rf"(.*\S) \({year}\)", title)
    if match and parse_movielens_title(match.group(1)).year is None:
        return match.group(1), year
    return title, None


def items_frame(raw: RawData) -> pd.DataFrame:
    """The ``items`` table of ``raw`` (module docstring)."""
    catalogue = build_catalogue(raw)
    pairs = [split_title(t) for t in catalogue.titles]
    frame = pd.DataFrame({
        "item_id": catalogue.movie_ids.astype(np.int64),
        "title": [t for t, _ in pairs],
        "year": pd.array([y for _, y in pairs], dtype="Int64"),
        "categories": ["|".join(g) for g in catalogue.genres],
        "tags": ["|".join(t) for t in catalogue.tags],
    })
    for i, values in enumerate(zip(catalogue.tags, catalogue.people)):
        bad = next((v for group in values for v in group if "|" in v), None)
        if bad is not None:
            raise DataError(f"{raw.name}: item {catalogue.movie_ids[i]} has the tag or name "
                            f"{bad!r}, which contains '|', the list separator of the catalogue "
                            f"layout; it cannot be converted faithfully.")
    movies = raw.movies
    if "description" in movies.columns and any(catalogue.descriptions):
        frame["description"] = list(catalogue.descriptions)
    if "people" in movies.columns and any(catalogue.people):
        frame["people"] = ["|".join(p) for p in catalogue.people]
    if catalogue.popularity is not None:
        frame["popularity"] = catalogue.popularity
    return frame


def interactions_frame(raw: RawData) -> pd.DataFrame:
    """The ``interactions`` table of ``raw`` (module docstring)."""
    ratings = raw.ratings
    frame = pd.DataFrame({"user_id": ratings["user_id"].to_numpy(np.int64),
                          "item_id": ratings["movie_id"].to_numpy(np.int64)})
    if not raw.implicit:
        frame["rating"] = ratings["rating"].to_numpy(np.float32)
    frame["timestamp"] = ratings["timestamp"].to_numpy(np.int64)
    return frame


def convert_dataset(raw: RawData, out: str | os.PathLike[str], *, fmt: Format = "csv") -> Converted:
    """Write ``raw`` into ``out`` in the catalogue layout; return what was written.

    Raises :class:`DataError` when ``out`` is a file or a non-empty folder, or cannot be
    written; nothing is left behind then.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    folder = Path(out).expanduser()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DataError(f"{folder} is not an empty folder; choose a new one for the converted "
                        f"catalogue.")
    items, interactions = items_frame(raw), interactions_frame(raw)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".convert-", dir=folder))
    except OSError as exc:
        raise DataError(f"Cannot write to {folder} ({exc.strerror or exc}).") from exc
    try:
        names = {"items": f"items.{fmt}", "interactions": f"interactions.{fmt}"}
        for name, frame in (("items", items), ("interactions", interactions)):
            _write(frame, work / names[name], fmt)
        for name in names.values():
            os.replace(work / name, folder / name)
    except OSError as exc:
        for name in (f"items.{fmt}", f"interactions.{fmt}"):
            (folder / name).unlink(missing_ok=True)
        raise DataError(f"Cannot write to {folder} ({exc.strerror or exc}).") from exc
    finally:
        for leftover in work.iterdir() if work.exists() else ():
            leftover.unlink()
        if work.exists():
            work.rmdir()
    return Converted(folder / f"items.{fmt}", folder / f"interactions.{fmt}", len(items),
                     len(interactions))


def _write(frame: pd.DataFrame, path: Path, fmt: Format) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    else:
        frame.to_parquet(path, index=False, engine="pyarrow")


# ---------------------------------------------------------------------------- command line


def add_parser(sub: Any) -> None:
    """Register ``convert`` on the CLI's sub-command parsers."""
    cv = sub.add_parser("convert", help="write the data set in the generic catalogue layout "
                                        "(items + interactions)")
    cv.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    cv.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or parquet")


def run(args: argparse.Namespace) -> int:
    """``python -m recsys convert``: load the data set the other commands use, write it to
    ``--out``; print one summary line."""
    from recsys.cli import EXIT_DATA, CLIError
    from recsys.data import load_dataset

    try:
        raw = load_dataset(args.data_dir, dataset=args.dataset, cache_dir=args.cache_dir)
        written = convert_dataset(raw, args.out, fmt=args.format)
    except DataError as exc:
        raise CLIError(" ".join(str(exc).split()), EXIT_DATA) from None
    print(f"{raw.name}: wrote {written.n_items:,} items to {written.items_path} and "
          f"{written.n_interactions:,} interactions to {written.interactions_path}")
    return 0
