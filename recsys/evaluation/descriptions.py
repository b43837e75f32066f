"""Synthetic cases written from held-out users' histories.

:func:`describe_user` writes a natural-language description of a user's earlier liked
items in one variant — ``language`` (liked genres, era, train users' tags, a disliked
genre, in varied phrasing), ``titles`` (2-3 titles) or ``both`` — seeded per (seed, user,
variant) and never naming a target (:class:`TitleGuard`). This generator is separate from
the one the adapter trains on (:mod:`recsys.profiles`), so the adapter is not judged on
its own templates. :mod:`recsys.evaluation.cases` turns the descriptions into cases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from recsys.evaluation.heldout import UserHistory
from recsys.evaluation.requests import DEFAULT_SEED, VARIANTS
from recsys.lexicon import META_TAGS

if TYPE_CHECKING:
    from recsys.catalogue import Catalogue



_GENRE_PHRASES: dict[str, tuple[str, ...]] = {
    "Action": ("action movies", "action films", "action-packed movies", "a good action flick"),
    "Adventure": ("adventure movies", "big adventures", "adventure films"),
    "Animation": ("animated movies", "animation", "animated films"),
    "Children": ("family movies", "kids' movies", "movies for the whole family"),
    "Comedy": ("comedies", "funny movies", "a good comedy", "something that makes me laugh"),
    "Crime": ("crime movies", "crime stories", "crime films"),
    "Documentary": ("documentaries", "a good documentary"),
    "Drama": ("dramas", "serious dramas", "drama"),
    "Fantasy": ("fantasy", "fantasy movies", "fantasy films"),
    "Film-Noir": ("film noir", "noir films"),
    "Horror": ("horror movies", "scary movies", "horror"),
    "Musical": ("musicals", "movies with singing and dancing"),
    "Mystery": ("mysteries", "mystery movies", "a good mystery"),
    "Romance": ("romantic movies", "love stories", "romance"),
    "Sci-Fi": ("sci-fi", "science fiction", "sci-fi movies"),
    "Thriller": ("thrillers", "suspenseful movies", "a tense thriller"),
    "War": ("war movies", "war films"),
    "Western": ("westerns", "cowboy movies"),
}
_DISLIKE_NAMES: dict[str, tuple[str, ...]] = {
    "Action": ("action",), "Adventure": ("adventure movies",), "Animation": ("animation", "cartoons"),
    "Children": ("kids' movies", "family movies"), "Comedy": ("comedies", "comedy"),
    "Crime": ("crime movies",), "Documentary": ("documentaries",), "Drama": ("heavy dramas", "dramas"),
    "Fantasy": ("fantasy",), "Film-Noir": ("film noir",), "Horror": ("horror", "scary movies"),
    "Musical": ("musicals",), "Mystery": ("mysteries",), "Romance": ("romance", "romantic movies"),
    "Sci-Fi": ("sci-fi",), "Thriller": ("thrillers",), "War": ("war movies",), "Western": ("westerns",),
}
_DECADE_WORDS = {1950: ("50s", "fifties"), 1960: ("60s", "sixties"), 1970: ("70s", "seventies"),
                 1980: ("80s", "eighties"), 1990: ("90s", "nineties"), 2000: ("2000s",),
                 2010: ("2010s",)}
#: Tags a description never quotes (exact match): the bookkeeping tags, ratings and opinions.
_META_TAGS = META_TAGS | {"seen more than once", "own", "to see", "watched", "library", "tivo", "r", "pg-13", "unrated",
              "boring", "overrated", "bad", "stupid", "predictable", "remake", "sequel", "based on a book",
              "franchise", "oscar (best picture)", "criterion", "afi 100"}
_LANG_OPENERS = (
    "I'm in the mood for {core}.", "Looking for {core}.", "Can you recommend {core}?",
    "I usually enjoy {core}.", "I really like {core}.", "Any suggestions for {core}?",
    "I'm a big fan of {core}.", "Please find me {core}.", "My favourite kind of movie: {core}.",
    "Tonight I want {core}.", "What would you suggest for someone who loves {core}?",
    "I tend to watch {core}.",
)
_TAG_CLAUSES = (" Themes I enjoy: {tags}.", " Bonus points for {tags}.", " I'm into stuff like {tags}.",
                " Extra points for anything with {tags}.", " Things I look for: {tags}.",
                " Keywords that usually work for me: {tags}.")
_DISLIKE_CLAUSES = (" No {x}, please.", " But I'm not into {x}.", " Nothing with {x} though.",
                    " I can't stand {x}.", " Not a fan of {x}.")
_TITLE_OPENERS = (
    "I loved {titles}.", "Movies like {titles}, please.", "My favourites include {titles}.",
    "I recently enjoyed {titles} — what should I watch next?", "Something similar to {titles}?",
    "I'm a fan of {titles}.", "Big fan of {titles}. What else would I like?",
    "Recommend me films like {titles}.", "{titles} are among my all-time favourites.",
    "I just watched {titles} and loved them.",
)
_BOTH_BRIDGES = ("{lang} For example, I loved {titles}.", "{titles_sentence} In general, {lang_lower}",
                 "{lang} Think {titles}.", "{lang} Favourites so far: {titles}.",
                 "{titles_sentence} {lang}")


def _join(parts: Sequence[str], rng: np.random.Generator, conj: str = "and") -> str:
    """``"a, b and c"`` (``rng`` unused: kept so every phrase helper has one signature)."""
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {conj} " + parts[-1]


def _pick(options: Sequence[str], rng: np.random.Generator) -> str:
    """One of ``options``, drawn with ``rng``."""
    return options[int(rng.integers(len(options)))]


def _title_forms(title: str) -> set[str]:
    """A title lower-cased, with and without a leading article."""
    low = " ".join(title.lower().split())
    forms = {low}
    stripped = re.sub(r"^(the|a|an)\s+", "", low)
    if stripped:
        forms.add(stripped)
    return {f for f in forms if f}


def names_title(text: str, title: str) -> bool:
    """Whether ``title`` occurs in ``text`` as whole words (case-insensitive), also without
    a leading article ("The Matrix" → "Matrix")."""
    return TitleGuard([title]).found_in(text)


class TitleGuard:
    """Finds any of ``titles`` in a text (whole words, case-insensitive, with and without a
    leading article); one compiled pattern for all of them."""

    def __init__(self, titles: Iterable[str]) -> None:
        forms = sorted({f for t in titles for f in _title_forms(t)}, key=len, reverse=True)
        self._pattern = re.compile(r"(?<![\w])(?:" + "|".join(re.escape(f) for f in forms) + r")(?![\w])") \
            if forms else None

    def found_in(self, text: str) -> bool:
        """True when ``text`` names one of the titles."""
        return bool(self._pattern and self._pattern.search(" ".join(text.lower().split())))


@dataclass(frozen=True)
class Profile:
    """What a user's described history says: liked genres, era, tags, a disliked genre,
    and the titles a user would name."""

    genres: tuple[str, ...]
    decades: tuple[int, ...]
    tags: tuple[str, ...]
    disliked_genre: str | None
    titles: tuple[int, ...]            #: catalogue indices of the titles to name (best first)


def user_profile(catalogue: Catalogue, history: UserHistory, rng: np.random.Generator) -> Profile:
    """Summarise the described items (content only: genres, years, train users' tags)."""
    idx = catalogue.indices(list(history.earlier))
    genre_count: dict[str, int] = {}
    for i in idx:
        for g in catalogue.genres[i]:
            if g in _GENRE_PHRASES:
                genre_count[g] = genre_count.get(g, 0) + 1
    n = max(1, len(idx))
    base = catalogue.genre_matrix.mean(axis=0)
    lift = {g: c / n - 0.5 * float(base[catalogue.genre_column[g]]) for g, c in genre_count.items()}
    ranked = sorted(genre_count, key=lambda g: (-lift[g], g))
    genres = tuple(g for g in ranked if genre_count[g] >= max(1, round(0.25 * n)))[: int(rng.integers(1, 4))]
    if not genres and ranked:
        genres = (ranked[0],)
    years = np.array([catalogue.years[i] for i in idx if catalogue.years[i] > 0])
    decades: tuple[int, ...] = ()
    if len(years):
        dec, counts = np.unique((years // 10) * 10, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        if counts[order[0]] / len(years) >= 0.6:
            decades = (int(dec[order[0]]),)
        elif len(order) > 1 and (counts[order[0]] + counts[order[1]]) / len(years) >= 0.8 \
                and abs(int(dec[order[0]]) - int(dec[order[1]])) == 10:
            decades = tuple(sorted((int(dec[order[0]]), int(dec[order[1]]))))
    tag_count: dict[str, int] = {}
    genre_words = {w.lower() for g in catalogue.genre_names for w in (g, g.replace("-", " "))}
    for i in idx:
        for t in catalogue.tags[i]:
            if t in _META_TAGS or t in genre_words or len(t) < 3 or any(ch.isdigit() for ch in t):
                continue
            tag_count[t] = tag_count.get(t, 0) + 1
    min_count = 2 if len(idx) >= 6 else 1
    tags = tuple(t for t, c in sorted(tag_count.items(), key=lambda kv: (-kv[1], kv[0]))
                 if c >= min_count)[: int(rng.integers(1, 4))]
    disliked_genre = None
    bad_idx = catalogue.indices(list(history.disliked))
    if bad_idx:
        bad_count: dict[str, int] = {}
        for i in bad_idx:
            for g in catalogue.genres[i]:
                bad_count[g] = bad_count.get(g, 0) + 1
        for g, c in sorted(bad_count.items(), key=lambda kv: (-kv[1], kv[0])):
            if c >= 3 and genre_count.get(g, 0) <= 0.05 * n and g in _DISLIKE_NAMES:
                disliked_genre = g
                break
    ratings = np.array(history.earlier_ratings)
    jitter = rng.random(len(history.earlier))
    order = np.lexsort((jitter, -ratings))
    titles = tuple(catalogue.index_of[history.earlier[j]] for j in order
                   if history.earlier[j] in catalogue.index_of)
    return Profile(genres, decades, tags, disliked_genre, titles)


def _era_phrase(decades: tuple[int, ...], rng: np.random.Generator) -> tuple[str, bool]:
    """(phrase, is_prefix): "90s" goes before the genre words, "from the 90s" after."""
    if not decades:
        return "", False
    words = [_pick(_DECADE_WORDS.get(d, (f"{d}s",)), rng) for d in decades]
    if len(words) == 1:
        form = int(rng.integers(3))
        if form == 0:
            return words[0], True
        if form == 1:
            return f"from the {words[0]}", False
        return f"made in the {words[0]}", False
    return f"from the {words[0]} and {words[1]}", False


def _language_text(catalogue: Catalogue, profile: Profile, rng: np.random.Generator) -> str:
    """The ``language`` variant: genres (with the era), tags and a disliked genre."""
    phrases = [_pick(_GENRE_PHRASES[g], rng) for g in profile.genres] or ["good movies"]
    era, prefix = _era_phrase(profile.decades, rng)
    if era and prefix:
        phrases[0] = _prefix_era(phrases[0], era)
        core = _join(phrases, rng)
    elif era:
        core = _join(phrases, rng) + " " + era
    else:
        core = _join(phrases, rng)
    text = _pick(_LANG_OPENERS, rng).format(core=core)
    if profile.tags and rng.random() < 0.85:
        text += _pick(_TAG_CLAUSES, rng).format(tags=_join(profile.tags, rng, "or"))
    if profile.disliked_genre and rng.random() < 0.8:
        text += _pick(_DISLIKE_CLAUSES, rng).format(x=_pick(_DISLIKE_NAMES[profile.disliked_genre], rng))
    return text


def _prefix_era(phrase: str, era: str) -> str:
    """Put an era word before a genre phrase ("a good 90s comedy")."""
    if phrase.startswith(("something ", "movies ")):
        return f"{phrase} from the {era}"
    for article in ("a good ", "a tense ", "a "):
        if phrase.startswith(article):
            return article + era + " " + phrase[len(article):]
    return f"{era} {phrase}"


def _title_label(catalogue: Catalogue, i: int, rng: np.random.Generator) -> str:
    """A display title, with its year 30 % of the time."""
    title = catalogue.display_titles[i]
    year = int(catalogue.years[i])
    return f"{title} ({year})" if year and rng.random() < 0.3 else title


def _titles_sentence(catalogue: Catalogue, titles: Sequence[int], rng: np.random.Generator) -> str:
    """The ``titles`` variant: a sentence naming ``titles`` (catalogue indices)."""
    labels = [_title_label(catalogue, i, rng) for i in titles]
    template = _pick(_TITLE_OPENERS, rng)
    if len(labels) == 1:
        template = template.replace(" are among", " is among").replace("loved them", "loved it")
    return template.format(titles=_join(labels, rng))


def describe_user(catalogue: Catalogue, history: UserHistory, variant: str, *, seed: int = DEFAULT_SEED,
                  forbidden: Iterable[str] | TitleGuard = (), attempts: int = 12) -> str | None:
    """A natural-language description of ``history.earlier`` in one variant
    (``language`` | ``titles`` | ``both``), seeded per (seed, user, variant). It never
    contains a ``forbidden`` title (the targets'); ``None`` when no attempt avoids them."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    code = VARIANTS.index(variant)
    guard = forbidden if isinstance(forbidden, TitleGuard) else TitleGuard(t for t in forbidden if t.strip())
    for attempt in range(attempts):
        rng = np.random.default_rng([seed, history.user_id, code, attempt])
        profile = user_profile(catalogue, history, rng)
        if attempt >= attempts // 2:        # later attempts drop the tags (the usual culprit)
            profile = replace(profile, tags=())
        n_titles = int(rng.integers(2, 4))
        chosen: list[int] = []
        for i in profile.titles:            # best first; never a title that names a target
            if len(chosen) == n_titles:
                break
            if not guard.found_in(catalogue.display_titles[i]):
                chosen.append(i)
        if variant == "language":
            text = _language_text(catalogue, profile, rng)
        elif variant == "titles":
            if not chosen:
                return None
            text = _titles_sentence(catalogue, chosen, rng)
        else:
            if not chosen:
                return None
            lang = _language_text(catalogue, profile, rng)
            labels = _join([_title_label(catalogue, i, rng) for i in chosen[:max(1, n_titles - 1)]], rng)
            bridge = _pick(_BOTH_BRIDGES, rng)
            text = bridge.format(lang=lang, titles=labels, lang_lower=lang[0].lower() + lang[1:],
                                 titles_sentence=_titles_sentence(catalogue, chosen[:2], rng))
        if not guard.found_in(text):
            return text
    return None
