"""Synthetic preference descriptions written from the movies a user liked.

A MovieLens user has ratings, not words. To train the adapter (:mod:`recsys.adapter`) and to
simulate new users, we write what such a user might type, from a set of items they liked:

* ``"language"`` — genres (the 1–3 most frequent among the items), often an era (the modal
  decade when it covers ≥ 40 % of the items), moods / themes / people from the items' most
  used tags, sometimes a genre they avoid; in varied conversational phrasing (greetings,
  questions, casing, punctuation);
* ``"titles"`` — 2–3 of the items' titles ("I loved X and Y, what else?");
* ``"both"`` — the two together.

A description only ever uses the items it is given, so held-out targets cannot leak into it.
All randomness comes from the ``numpy.random.Generator`` passed in (seeded by the caller).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from recsys.catalogue import Catalogue
from recsys.lexicon import META_TAGS

#: What a synthetic description is written from (module docstring).
Variant = Literal["language", "titles", "both"]
VARIANTS: tuple[Variant, ...] = get_args(Variant)

_GENRE_PHRASES = {
    "Action": ["action", "action-packed"], "Adventure": ["adventure"], "Animation": ["animated"],
    "Children": ["family", "kids"], "Comedy": ["comedy", "funny"], "Crime": ["crime"],
    "Documentary": ["documentary"], "Drama": ["drama"], "Fantasy": ["fantasy"],
    "Film-Noir": ["film noir"], "Horror": ["horror", "scary"], "Musical": ["musical"],
    "Mystery": ["mystery"], "Romance": ["romantic", "romance"], "Sci-Fi": ["sci-fi", "science fiction"],
    "Thriller": ["thriller", "suspenseful"], "War": ["war"], "Western": ["western"],
}
_GREETINGS = ["", "", "", "Hi! ", "Hello, ", "Hey there. ", "hi ", "Hello! ", "Good evening! "]
_OPENERS = [
    "I'm looking for {g} movies", "I want to watch a {g} movie", "Can you recommend some {g} movies?",
    "Do you know any good {g} films?", "I really like {g} movies", "I'm in the mood for something {g}",
    "Any suggestions for {g} movies?", "I love {g} films", "looking for a good {g} movie",
    "I'd like to see a {g} movie tonight", "What {g} movies would you suggest?",
    "I enjoy {g} movies", "my favourite movies are {g} ones",
]
_ERA = ["from the {d}", "preferably from the {d}", "maybe something from the {d}", "{d} stuff is great",
        "I grew up on the {d}"]
_TAGS = ["something {t}", "ideally {t}", "with a {t} feel", "I like it {t}", "bonus points if it's {t}"]
_PEOPLE = ["I like anything with {p}", "{p} is great", "something with {p} maybe"]
_AVOID = ["but no {g} please", "not into {g} though", "nothing {g}", "I don't like {g} movies"]
_TITLES = ["I loved {a} and {b}", "I really enjoyed {a} and {b}, what else would I like?",
           "Something like {a} or {b}", "My favourites are {a}, {b}", "I just watched {a} and loved it",
           "movies like {a} please", "{a} and {b} are two of my favorite movies"]
_NOT_MOOD = tuple(sorted(META_TAGS))   # matched as substrings ("seen it twice")


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def describe(catalogue: Catalogue, items: Sequence[int], rng: np.random.Generator,
             variant: Variant = "language", people: frozenset[str] = frozenset()) -> str:
    """A request a user who liked ``items`` (catalogue indices) might type.

    ``people`` (lower-case tags that are person names) lets the text name an actor or
    director the items are tagged with.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    items = list(items)
    if not items:
        raise ValueError("describe() needs at least one liked item")
    parts: list[str] = []
    if variant in ("language", "both"):
        parts.append(_language(catalogue, items, rng, people))
    if variant in ("titles", "both"):
        parts.append(_titles(catalogue, items, rng))
    text = _pick(rng, _GREETINGS) + ". ".join(p for p in parts if p)
    if rng.random() < 0.15:
        text = text.lower()
    if not text.rstrip().endswith(("?", "!", ".")) and rng.random() < 0.6:
        text += _pick(rng, [".", "!", " :)", "?"])
    return text


def _language(catalogue: Catalogue, items: list[int], rng: np.random.Generator,
              people: frozenset[str]) -> str:
    counts = Counter(g for i in items for g in catalogue.genres[i] if g != "IMAX")
    top = [g for g, _ in counts.most_common(3)]
    n_genres = int(rng.integers(1, min(3, len(top)) + 1)) if top else 0
    chosen = [_pick(rng, _GENRE_PHRASES.get(g, [g.lower()])) for g in top[:n_genres]]
    sentence = _pick(rng, _OPENERS).format(g=_join(chosen) if chosen else "good")
    extras: list[str] = []
    years = [int(catalogue.years[i]) // 10 * 10 for i in items if catalogue.years[i]]
    if years:
        decade, share = Counter(years).most_common(1)[0]
        if share / len(years) >= 0.4 and rng.random() < 0.5:
            extras.append(_pick(rng, _ERA).format(d=f"{decade % 100:02d}s" if rng.random() < 0.5
                                                   else f"{decade}s"))
    tags = Counter(t for i in items for t in catalogue.tags[i] if not any(x in t for x in _NOT_MOOD))
    names = [t for t, _ in tags.most_common(6) if t in people]
    moods = [t for t, _ in tags.most_common(6) if t not in people and len(t) <= 30]
    if moods and rng.random() < 0.6:
        k = int(rng.integers(1, min(2, len(moods)) + 1))
        extras.append(_pick(rng, _TAGS).format(t=" and ".join(moods[:k])))
    if names and rng.random() < 0.5:
        extras.append(_pick(rng, _PEOPLE).format(p=names[0].title()))
    avoid = [g for g in ("Horror", "Romance", "Musical", "Western", "War", "Documentary", "Children")
             if counts.get(g, 0) == 0]
    if avoid and rng.random() < 0.25:
        extras.append(_pick(rng, _AVOID).format(g=_pick(rng, _GENRE_PHRASES[_pick(rng, avoid)])))
    rng.shuffle(extras)
    return ", ".join([sentence.rstrip("?")] + extras) + ("?" if sentence.endswith("?") else "")


def _titles(catalogue: Catalogue, items: list[int], rng: np.random.Generator) -> str:
    k = min(len(items), int(rng.integers(2, 4)))
    picked = [items[int(j)] for j in rng.choice(len(items), size=k, replace=False)]
    names = [catalogue.display_titles[i] for i in picked]
    template = _pick(rng, _TITLES)
    if "{b}" in template and len(names) < 2:
        template = "I loved {a}"
    text = template.format(a=names[0], b=names[1] if len(names) > 1 else "")
    if len(names) > 2 and rng.random() < 0.5:
        text += f" and {names[2]}"
    return text
