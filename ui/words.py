"""What the app calls the catalogue's things: movies and genres, or items and categories.

Pages and helpers take their nouns from :func:`words` instead of hard-coding "movie",
"genre" or "ratings", so the app speaks the language of the catalogue it runs on
(:attr:`recsys.catalogue.Catalogue.nouns`; "interactions" instead of "ratings", and no
star-rating wording, when the catalogue is implicit). On MovieLens every string reads
exactly as it always did.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recsys.catalogue import DOMAIN_NOUNS, Nouns

MOVIES = DOMAIN_NOUNS["movies"]


@dataclass(frozen=True)
class Words:
    """The nouns of one catalogue, lower case (``item``) and capitalised (``Item``)."""

    nouns: Nouns = MOVIES
    implicit: bool = False

    @property
    def movies(self) -> bool:
        """True on a movie catalogue (MovieLens): the app's own movie wording applies."""
        return self.nouns == MOVIES

    @property
    def item(self) -> str:
        return self.nouns.item

    @property
    def items(self) -> str:
        return self.nouns.items

    @property
    def category(self) -> str:
        return self.nouns.category

    @property
    def categories(self) -> str:
        return self.nouns.categories

    @property
    def Item(self) -> str:  # noqa: N802 - reads like the sentence it starts
        return self.nouns.item.capitalize()

    @property
    def Items(self) -> str:  # noqa: N802
        return self.nouns.items.capitalize()

    @property
    def Category(self) -> str:  # noqa: N802
        return self.nouns.category.capitalize()

    @property
    def Categories(self) -> str:  # noqa: N802
        return self.nouns.categories.capitalize()

    @property
    def ratings(self) -> str:
        """"ratings", or "interactions" when the catalogue is not MovieLens."""
        return "ratings" if self.movies else "interactions"

    @property
    def Ratings(self) -> str:  # noqa: N802
        return self.ratings.capitalize()

    def pick(self, movie_text: str, other_text: str) -> str:
        """``movie_text`` on a movie catalogue, else ``other_text`` (for whole sentences that
        only make sense for films: "What do you feel like watching?")."""
        return movie_text if self.movies else other_text

    def count(self, n: int) -> str:
        """``"9,742 movies"`` / ``"1 item"``."""
        return f"{n:,} {self.item if n == 1 else self.items}"


def words(rec: Any = None) -> Words:
    """The words of ``rec``'s catalogue (a Recommender or a Catalogue). While the engine is
    still loading (``rec`` is None) the data folder's layout decides: a folder with
    ``items.csv`` / ``items.parquet`` is your own catalogue, anything else MovieLens."""
    catalogue = getattr(rec, "catalogue", rec)
    if catalogue is not None and hasattr(catalogue, "nouns"):
        return Words(catalogue.nouns, bool(getattr(catalogue, "implicit", False)))
    folder = os.environ.get("RECSYS_DATA_DIR", "")
    if folder and any((Path(folder) / name).exists() for name in ("items.csv", "items.parquet")):
        return Words(DOMAIN_NOUNS["items"])
    return Words()


def example_prompts(rec: Any = None) -> list[dict[str, str]]:
    """Example requests for the chips: the movie examples (``assets/example_prompts.json``)
    on MovieLens; on another catalogue a few built from its own categories ("something in
    Garden, no Kitchen"), or none while it loads or when it has fewer than two categories."""
    from ui import state

    w = words(rec)
    if w.movies:
        return state.example_prompts()
    catalogue = getattr(rec, "catalogue", rec)
    names = [str(g) for g in getattr(catalogue, "genre_names", ()) or ()] if catalogue is not None else []
    if len(names) < 2:
        return []
    prompts = []
    for i, name in enumerate(names[:4]):
        other = names[(i + 1) % len(names)]
        prompts.append({"label": f"{name}, no {other}", "text": f"something in {name}, no {other}", "lang": "en"})
    return prompts
