"""Stage 2a — item text: one English sentence per movie for the encoder.

Recipe (:data:`TEXT_RECIPE` names it; changing it invalidates the embedding cache)::

    "<Title> (<year>). Genres: <genre words>. Tags: <most-used tags>."

Genre names are written as words the encoder knows ("Sci-Fi" → "science fiction").
The same genre words describe each genre for the zero-shot genre detector in
:mod:`recsys.intent`.
"""

from __future__ import annotations

from recsys.catalogue import Catalogue

TEXT_RECIPE = "title-year-genres-tags/v1"

#: MovieLens genre → the words used for it in item texts.
GENRE_WORDS: dict[str, str] = {
    "Action": "action",
    "Adventure": "adventure",
    "Animation": "animation",
    "Children": "children's family",
    "Comedy": "comedy",
    "Crime": "crime",
    "Documentary": "documentary",
    "Drama": "drama",
    "Fantasy": "fantasy",
    "Film-Noir": "film noir",
    "Horror": "horror",
    "IMAX": "IMAX",
    "Musical": "musical",
    "Mystery": "mystery",
    "Romance": "romance",
    "Sci-Fi": "science fiction",
    "Thriller": "thriller",
    "War": "war",
    "Western": "western",
}

#: MovieLens genre → a one-line description the zero-shot genre detector compares requests with.
GENRE_DESCRIPTIONS: dict[str, str] = {
    "Action": "an action movie with fights, chases, explosions and stunts",
    "Adventure": "an adventure movie about a journey, quest or exploration",
    "Animation": "an animated cartoon movie",
    "Children": "a family movie for kids and children",
    "Comedy": "a funny comedy movie that makes you laugh",
    "Crime": "a crime movie about gangsters, heists, the mafia or criminals",
    "Documentary": "a documentary film about real events and real people",
    "Drama": "a serious emotional drama movie",
    "Fantasy": "a fantasy movie with magic, wizards, dragons and mythical worlds",
    "Film-Noir": "a classic black and white film noir about detectives and femme fatales",
    "Horror": "a scary horror movie with monsters, ghosts, gore and terror",
    "Musical": "a musical movie with singing and dancing",
    "Mystery": "a mystery movie with a puzzle, a detective and a whodunit",
    "Romance": "a romantic movie about love and relationships",
    "Sci-Fi": "a science fiction movie about space, aliens, robots, the future and technology",
    "Thriller": "a suspenseful thriller movie full of tension",
    "War": "a war movie about soldiers, battles and the military",
    "Western": "a western movie about cowboys and the wild west",
}


def item_text(title: str, year: int, genres: tuple[str, ...], tags: tuple[str, ...]) -> str:
    """The encoder's text for one movie (see the module docstring for the recipe)."""
    parts = [f"{title} ({year})." if year else f"{title}."]
    if genres:
        parts.append("Genres: " + ", ".join(GENRE_WORDS.get(g, g.lower()) for g in genres) + ".")
    if tags:
        parts.append("Tags: " + ", ".join(tags) + ".")
    return " ".join(parts)


def item_texts(catalogue: Catalogue) -> list[str]:
    """:func:`item_text` for every item, in item-index order."""
    return [
        item_text(catalogue.display_titles[i], int(catalogue.years[i]), catalogue.genres[i],
                  catalogue.tags[i])
        for i in range(len(catalogue))
    ]
