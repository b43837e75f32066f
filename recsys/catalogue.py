"""The catalogue: one row per item, aligned arrays that every stage indexes into.

Stage 1 (data) hands over raw frames (:class:`recsys.data.RawData`, from MovieLens or from
your own ``items`` / ``interactions`` files); this module turns them into a
:class:`Catalogue` whose item index ``i`` (0 … n−1, the row in ``movies.csv`` /
``items.csv`` order) is shared by the embeddings, the CF factors and every score array.

Derived per item: display title and year (``"Matrix, The (1999)"`` → ``"The Matrix"``,
1999), genre (category) tuple and a boolean genre matrix, tags (the catalogue's own tags in
their order, then the most-used user tags up to :data:`TAGS_PER_MOVIE` in all), and rating
statistics ``n_i`` (number of ratings / interactions) and ``μ_i`` (mean rating). A
catalogue's descriptions, people and popularity are carried along unchanged; ``domain``
("movies" or "items") and :attr:`Catalogue.nouns` tell a UI what to call things.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.data import RawData
from recsys.titles import parse_movielens_title

logger = logging.getLogger(__name__)

NO_GENRE = "(no genres listed)"
TAGS_PER_MOVIE = 6


class Nouns(NamedTuple):
    """What a UI calls the things in a catalogue ("movie" / "movies" / "genre" / "genres")."""

    item: str
    items: str
    category: str
    categories: str


#: ``Catalogue.domain`` → its nouns.
DOMAIN_NOUNS: dict[str, Nouns] = {
    "movies": Nouns("movie", "movies", "genre", "genres"),
    "items": Nouns("item", "items", "category", "categories"),
}


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Items (movies, or your own catalogue's) plus the per-item arrays shared by every stage
    (read-only).

    Attributes
    ----------
    name, fingerprint:
        Dataset name and content hash (keys every on-disk cache).
    movie_ids:
        MovieLens ``movieId`` (a catalogue's ``item_id``) per item index.
    titles:
        Raw MovieLens-style titles (``"Matrix, The (1999)"``; a catalogue's year is appended).
    display_titles:
        Reader-friendly titles (``"The Matrix"``).
    years:
        Release year per item, ``0`` when unknown.
    genres:
        Genre (category) names per item, as the data names them (``()`` for none).
    genre_names:
        All genre names in the catalogue, sorted.
    genre_matrix:
        ``bool[n_items, n_genres]``; column order is ``genre_names``.
    tags:
        Tags per item (lower-case): a catalogue's own in order, then the most-used user tags.
    n_ratings, mean_rating:
        Number of ratings and mean rating per item (mean 0 when unrated).
    ratings:
        The rating frame (``user_id, movie_id, rating, timestamp``) used by CF.
    descriptions:
        A catalogue's item descriptions ("" when none; MovieLens has none).
    people:
        A catalogue's people per item (authors, cast, …; ``()`` when none).
    popularity:
        A catalogue's own popularity per item (NaN where not given), or None without one.
    domain:
        "movies" (MovieLens layouts) or "items" (your own catalogue); see :attr:`nouns`.
    implicit:
        The interactions carried no ratings (each counts as :data:`recsys.data.IMPLICIT_RATING`).
    """

    name: str
    fingerprint: str
    movie_ids: np.ndarray
    titles: tuple[str, ...]
    display_titles: tuple[str, ...]
    years: np.ndarray
    genres: tuple[tuple[str, ...], ...]
    genre_names: tuple[str, ...]
    genre_matrix: np.ndarray
    tags: tuple[tuple[str, ...], ...]
    n_ratings: np.ndarray
    mean_rating: np.ndarray
    ratings: pd.DataFrame = field(repr=False)
    descriptions: tuple[str, ...] = field(default=(), repr=False)
    people: tuple[tuple[str, ...], ...] = field(default=(), repr=False)
    popularity: np.ndarray | None = field(default=None, repr=False)
    domain: str = "movies"
    implicit: bool = False

    def __len__(self) -> int:
        return len(self.movie_ids)

    @property
    def nouns(self) -> Nouns:
        """What to call items and categories in this catalogue (movies / genres, or items /
        categories)."""
        return DOMAIN_NOUNS.get(self.domain, DOMAIN_NOUNS["items"])

    @cached_property
    def index_of(self) -> dict[int, int]:
        """``movieId`` → item index."""
        return {int(m): i for i, m in enumerate(self.movie_ids)}

    @cached_property
    def genre_column(self) -> dict[str, int]:
        """Genre name → column of :attr:`genre_matrix`."""
        return {g: j for j, g in enumerate(self.genre_names)}

    @cached_property
    def tag_index(self) -> dict[str, np.ndarray]:
        """Lower-case tag → item indices carrying it (inverted index for keyword look-ups)."""
        postings: dict[str, list[int]] = defaultdict(list)
        for i, item_tags in enumerate(self.tags):
            for tag in item_tags:
                postings[tag].append(i)
        index = {tag: np.asarray(items, dtype=np.int64) for tag, items in postings.items()}
        for items in index.values():
            items.flags.writeable = False
        return index

    def items_with_genres(self, genre_names: tuple[str, ...] | list[str]) -> np.ndarray:
        """``bool[n_items]``: the item has at least one of ``genre_names``."""
        cols = [self.genre_column[g] for g in genre_names if g in self.genre_column]
        if not cols:
            return np.zeros(len(self), dtype=bool)
        return np.asarray(self.genre_matrix[:, cols].any(axis=1), dtype=bool)

    def label(self, index: int) -> str:
        """``"The Matrix (1999)"`` for an item index."""
        year = int(self.years[index])
        title = self.display_titles[index]
        return f"{title} ({year})" if year else title

    def indices(self, movie_ids: list[int] | tuple[int, ...]) -> list[int]:
        """Item indices of the given ``movieId``s, skipping ids not in the catalogue."""
        lookup = self.index_of
        return [lookup[m] for m in movie_ids if m in lookup]


def build_catalogue(raw: RawData) -> Catalogue:
    """Derive the :class:`Catalogue` from validated raw frames."""
    movies = raw.movies
    movie_ids = movies["movie_id"].to_numpy(dtype=np.int64)
    parsed = [parse_movielens_title(t) for t in movies["title"].tolist()]
    genres = tuple(
        tuple(g for g in str(s).split("|") if g and g != NO_GENRE) for s in movies["genres"].tolist()
    )
    genre_names = tuple(sorted({g for gs in genres for g in gs}))
    column = {g: j for j, g in enumerate(genre_names)}
    genre_matrix = np.zeros((len(movie_ids), len(genre_names)), dtype=bool)
    for i, gs in enumerate(genres):
        for g in gs:
            genre_matrix[i, column[g]] = True

    index_of = pd.Series(np.arange(len(movie_ids)), index=movie_ids)
    ratings = raw.ratings
    item_idx = index_of.reindex(ratings["movie_id"].to_numpy()).to_numpy()
    counts = np.bincount(item_idx, minlength=len(movie_ids)).astype(np.int64)
    sums = np.bincount(item_idx, weights=ratings["rating"].to_numpy(dtype=np.float64),
                       minlength=len(movie_ids))
    mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)

    popularity = None
    if "popularity" in movies.columns and movies["popularity"].notna().any():
        popularity = movies["popularity"].to_numpy(dtype=np.float64, copy=True)
    for array in (movie_ids, genre_matrix, counts, mean, popularity):
        if array is not None:
            array.flags.writeable = False
    years = np.asarray([p.year or 0 for p in parsed], dtype=np.int32)
    years.flags.writeable = False
    n = len(movie_ids)
    return Catalogue(
        name=raw.name,
        fingerprint=raw.fingerprint,
        movie_ids=movie_ids,
        titles=tuple(movies["title"].astype(str).str.strip().tolist()),
        display_titles=tuple(p.name for p in parsed),
        years=years,
        genres=genres,
        genre_names=genre_names,
        genre_matrix=genre_matrix,
        tags=_item_tags(movies, raw.tags, index_of),
        n_ratings=counts,
        mean_rating=mean,
        ratings=ratings,
        descriptions=tuple(_column(movies, "description", n)),
        people=tuple(tuple(p for p in v.split("|") if p) for v in _column(movies, "people", n)),
        popularity=popularity,
        domain=raw.domain,
        implicit=raw.implicit,
    )


def _column(movies: pd.DataFrame, name: str, n: int) -> list[str]:
    """A text column of the items frame as a list ("" per item when absent)."""
    if name not in movies.columns:
        return [""] * n
    return movies[name].fillna("").astype(str).tolist()


def _clean_tag(tag: str) -> str:
    return " ".join(tag.lower().split())


def _item_tags(movies: pd.DataFrame, tags: pd.DataFrame,
               index_of: pd.Series) -> tuple[tuple[str, ...], ...]:
    """The catalogue's own tags (``movies["tags"]``, in order, all kept), then the most-used
    user tags while fewer than :data:`TAGS_PER_MOVIE`; lower-case, no repeats."""
    user = _top_tags(tags, index_of, len(movies))
    if "tags" not in movies.columns:
        return user
    out = []
    for listed, extra in zip(_column(movies, "tags", len(movies)), user):
        own = list(dict.fromkeys(t for t in (_clean_tag(x) for x in listed.split("|")) if t))
        room = max(0, TAGS_PER_MOVIE - len(own))
        out.append(tuple(own + [t for t in extra if t not in own][:room]))
    return tuple(out)


def _top_tags(tags: pd.DataFrame, index_of: pd.Series, n_items: int) -> tuple[tuple[str, ...], ...]:
    """The :data:`TAGS_PER_MOVIE` most-used tags per item (ties broken alphabetically)."""
    per_item: list[Counter[str]] = [Counter() for _ in range(n_items)]
    if len(tags):
        items = index_of.reindex(tags["movie_id"].to_numpy()).to_numpy()
        for i, tag in zip(items, tags["tag"].astype(str).tolist()):
            clean = _clean_tag(tag)
            if clean:
                per_item[int(i)][clean] += 1
    return tuple(
        tuple(t for t, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:TAGS_PER_MOVIE])
        for c in per_item
    )
