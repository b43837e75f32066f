"""Tests for recsys.titles: parsing, normalisation, mention finding and lookup.

Most tests use a small fixture catalogue defined below. The integration tests at the
end run on the real MovieLens catalogue and are skipped unless ``RECSYS_DATA_DIR``
points at a directory holding ``movies.csv`` (and optionally ``ratings.csv``).
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from pathlib import Path

import pytest

from recsys.titles import (
    ParsedTitle,
    TitleMatcher,
    TitleMention,
    normalize_title,
    parse_movielens_title,
)

# (movie_id, MovieLens title, popularity)
FIXTURE: list[tuple[int, str, float]] = [
    (1, "Toy Story (1995)", 215),
    (3114, "Toy Story 2 (1999)", 97),
    (78499, "Toy Story 3 (2010)", 55),
    (2571, "Matrix, The (1999)", 278),
    (6365, "Matrix Reloaded, The (2003)", 82),
    (1214, "Alien (1979)", 146),
    (1200, "Aliens (1986)", 126),
    (9001, "Time to Die (2007)", 2),
    (9002, "No Time to Die (2021)", 8),
    (26693, "It (1990)", 8),
    (175303, "It (2017)", 12),
    (68954, "Up (2009)", 105),
    (106920, "Her (2013)", 56),
    (6, "Heat (1995)", 102),
    (1409, "Game, The (1997)", 88),
    (2797, "Big (1988)", 91),
    (47, "Seven (a.k.a. Se7en) (1995)", 203),
    (293, "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)", 133),
    (5782, "Professional, The (Le professionnel) (1981)", 19),
    (2916, "Total Recall (1990)", 100),
    (95875, "Total Recall (2012)", 20),
    (29, "City of Lost Children, The (Cité des enfants perdus, La) (1995)", 38),
    (79132, "Inception (2010)", 143),
    (109487, "Interstellar (2014)", 73),
    (318, "Shawshank Redemption, The (1994)", 317),
    (1954, "Rocky (1976)", 64),
    (2409, "Rocky II (1979)", 24),
    (2410, "Rocky III (1982)", 20),
    (6942, "Love Actually (2003)", 56),
    (1036, "Die Hard (1988)", 145),
    (170813, "Baywatch (2017)", 3),
    (3785, "Scary Movie (2000)", 40),
    (6874, "Kill Bill: Vol. 1 (2003)", 131),
    (7438, "Kill Bill: Vol. 2 (2004)", 110),
    (260, "Star Wars: Episode IV - A New Hope (1977)", 251),
    (1196, "Star Wars: Episode V - The Empire Strikes Back (1980)", 211),
    (162414, "Moonlight", 15),
    (1097, "E.T. the Extra-Terrestrial (1982)", 122),
    (5349, "Spider-Man (2002)", 122),
    (86911, "Hangover Part II, The (2011)", 48),
    (4973, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", 120),
    (58559, "Dark Knight, The (2008)", 149),
    (157296, "Keanu (2016)", 4),
    (3016, "Amityville II: The Possession (1982)", 3),
    (1690, "Alien: Resurrection (1997)", 41),
]


@pytest.fixture(scope="module")
def matcher() -> TitleMatcher:
    ids, titles, pop = zip(*FIXTURE)
    return TitleMatcher(list(ids), list(titles), list(pop))


def found(matcher: TitleMatcher, text: str) -> list[int]:
    """Movie ids mentioned in ``text``, in order of appearance."""
    return [m.movie_id for m in matcher.find_mentions(text)]


# ----------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Matrix, The (1999)", ParsedTitle("The Matrix", 1999, ())),
        (
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            ParsedTitle("The City of Lost Children", 1995, ("La Cité des enfants perdus",)),
        ),
        (
            "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)",
            ParsedTitle("Léon: The Professional", 1994, ("The Professional", "Léon")),
        ),
        ("Toy Story (1995)", ParsedTitle("Toy Story", 1995, ())),
        ("Babylon 5", ParsedTitle("Babylon 5", None, ())),
        ("96 Minutes (2011) ", ParsedTitle("96 Minutes", 2011, ())),
        ("Death Note: Desu nôto (2006–2007)", ParsedTitle("Death Note: Desu nôto", 2006, ())),
        ("(500) Days of Summer (2009)", ParsedTitle("(500) Days of Summer", 2009, ())),
        ("Avventura, L' (1960)", ParsedTitle("L'Avventura", 1960, ())),
    ],
)
def test_parse_movielens_title(raw: str, expected: ParsedTitle) -> None:
    assert parse_movielens_title(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Léon: The Professional", "leon the professional"),
        ("Pride & Prejudice", "pride and prejudice"),
        ("  The   MATRIX!! ", "the matrix"),
        ("E.T. the Extra-Terrestrial", "et the extra terrestrial"),
        ("Schindler's List", "schindlers list"),
        ("Amélie", "amelie"),
        ("", ""),
    ],
)
def test_normalize_title(text: str, expected: str) -> None:
    assert normalize_title(text) == expected


# ----------------------------------------------------------------------------- forms


@pytest.mark.parametrize(
    "text",
    [
        "the matrix",
        "Matrix",
        "The Matrix (1999)",
        "matrix, the",
        "I loved The Matrix.",
        "THE MATRIX",
    ],
)
def test_movielens_forms_find_the_matrix(matcher: TitleMatcher, text: str) -> None:
    assert found(matcher, text) == [2571]


def test_alias_in_parentheses_and_aka(matcher: TitleMatcher) -> None:
    assert found(matcher, "I loved The Professional") == [293]
    assert found(matcher, "I loved Léon") == [293]
    assert found(matcher, "movies like Se7en") == [47]


def test_french_article_title_and_alias(matcher: TitleMatcher) -> None:
    assert found(matcher, "I loved The City of Lost Children") == [29]
    assert found(matcher, "I loved La Cité des enfants perdus") == [29]
    assert found(matcher, "something like cite des enfants perdus") == [29]


def test_title_without_year_in_catalogue(matcher: TitleMatcher) -> None:
    assert found(matcher, "something like Moonlight (2016)") == [162414]


def test_punctuation_variants(matcher: TitleMatcher) -> None:
    assert found(matcher, "my kids loved E.T. the Extra-Terrestrial") == [1097]
    assert found(matcher, "I loved Spiderman and Amélie") == [5349, 4973]
    assert found(matcher, "I liked The Hangover 2") == [86911]


# ----------------------------------------------------------------------------- years


def test_year_picks_the_remake(matcher: TitleMatcher) -> None:
    assert found(matcher, "I liked Total Recall (2012)") == [95875]
    assert found(matcher, "I liked Total Recall (1990)") == [2916]


def test_year_tolerates_one_year_off(matcher: TitleMatcher) -> None:
    assert found(matcher, "I liked Total Recall (2011)") == [95875]


def test_without_year_the_most_popular_wins(matcher: TitleMatcher) -> None:
    assert found(matcher, "I liked Total Recall") == [2916]


def test_wrong_year_is_a_different_film(matcher: TitleMatcher) -> None:
    assert found(matcher, "I liked Total Recall (1975)") == []


def test_bare_year_after_the_title(matcher: TitleMatcher) -> None:
    assert found(matcher, "I liked Total Recall 2012 a lot") == [95875]


def test_year_is_part_of_the_span(matcher: TitleMatcher) -> None:
    text = "Something like Baywatch (2017) please"
    (m,) = matcher.find_mentions(text)
    assert (m.movie_id, m.surface, m.method, m.score) == (
        170813, "Baywatch (2017)", "exact+year", 1.0,
    )


def test_same_title_different_films(matcher: TitleMatcher) -> None:
    assert found(matcher, "I liked It (1990)") == [26693]
    assert found(matcher, "I liked It (2017)") == [175303]


# ----------------------------------------------------------------------------- sequels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I loved Toy Story", [1]),
        ("i loved toy story", [1]),
        ("toy story 2 was great", [3114]),
        ("Toy Story 3 made me cry", [78499]),
        ("I loved Toy Story 4", []),
        ("I liked Alien", [1214]),
        ("I liked Aliens", [1200]),
        ("I like Alien but not Aliens", [1214, 1200]),
        ("I liked Rocky 2", [2409]),
        ("I liked Rocky II", [2409]),
        ("I liked Rocky III and Rocky", [2410, 1954]),
        ("I liked The Matrix Reloaded", [6365]),
        ("I loved No Time to Die", [9002]),
        ("I loved Time to Die", [9001]),
    ],
)
def test_sequels_and_longest_match(
    matcher: TitleMatcher, text: str, expected: list[int]
) -> None:
    assert found(matcher, text) == expected


def test_title_inside_an_unknown_longer_title_is_not_matched() -> None:
    # the catalogue has "Time to Die" but not "No Time to Die"
    small = TitleMatcher([9001, 1], ["Time to Die (2007)", "Toy Story (1995)"])
    assert small.find_mentions("I loved No Time to Die") == []
    assert small.find_mentions("No Time to Die was great") == []
    assert [m.movie_id for m in small.find_mentions("I loved Time to Die")] == [9001]
    assert small.find_mentions("i loved no time to die") == []


@pytest.mark.parametrize(
    "text",
    [
        "Anything with Keanu Reeves?",  # a name, not the film "Keanu"
        "I loved Alien: Isolation",  # a longer title the catalogue lacks
        "horror like The Possession",  # only the subtitle of "Amityville II: ..."
    ],
)
def test_part_of_a_longer_name_is_not_a_mention(matcher: TitleMatcher, text: str) -> None:
    assert found(matcher, text) == []


def test_whole_text_title(matcher: TitleMatcher) -> None:
    assert found(matcher, "Inception") == [79132]
    assert found(matcher, "Matrix") == [2571]
    assert found(matcher, "Big") == []  # a common word on its own stays a word


def test_spans_do_not_overlap_and_follow_the_text(matcher: TitleMatcher) -> None:
    text = "I loved The Matrix Reloaded, Toy Story 2 and the matrix"
    mentions = matcher.find_mentions(text)
    assert [m.movie_id for m in mentions] == [6365, 3114, 2571]
    for m in mentions:
        assert text[m.start : m.end] == m.surface
        assert 0 < m.score <= 1
    for a, b in zip(mentions, mentions[1:]):
        assert a.end <= b.start


# ----------------------------------------------------------------------------- typos


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("movies like incepton", [79132]),
        ("I loved the matirx", [2571]),
        ("something similar to interstelar", [109487]),
        ("movies like incepton and interstelar", [79132, 109487]),
        ("I loved Inception and interstelar", [79132, 109487]),
        ('"Interstelar" was amazing', [109487]),
    ],
)
def test_typos_after_a_cue(matcher: TitleMatcher, text: str, expected: list[int]) -> None:
    mentions = matcher.find_mentions(text)
    assert [m.movie_id for m in mentions] == expected
    assert all(m.score < 0.9 for m in mentions if m.method.startswith("fuzzy"))


@pytest.mark.parametrize(
    "text",
    [
        "the incepton of the idea was odd",  # no evidence it names a film
        "movies like Upp",  # too short to correct
        "I loved Toy Stori 4",  # sequel number the catalogue lacks
        "I loved Alienz",  # singular/plural is not a typo: ambiguous
    ],
)
def test_no_typo_match_without_evidence(matcher: TitleMatcher, text: str) -> None:
    assert found(matcher, text) == []


# ----------------------------------------------------------------------------- common words


@pytest.mark.parametrize(
    "text",
    [
        "I like it when movies are up-beat",
        "I love action movies",
        "I'm looking for a good movie",
        "hi how are you",
        "I love her smile and the heat of summer",
        "Big fan of scary movie nights with the family",
        "Up for anything, it's the game night",
        "i love love actually",
        "I want to play a game with my kids",
    ],
)
def test_common_words_are_not_titles(matcher: TitleMatcher, text: str) -> None:
    assert found(matcher, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("movies like Up", [68954]),
        ("I liked Her (2013)", [106920]),
        ('"Heat" is great', [6]),
        ("I loved The Game and Big", [1409, 2797]),
        ("movies like Up and Her", [68954, 106920]),
        ("I thought Love Actually was sweet", [6942]),
        ("I don't like movies like Scary Movie (2000)", [3785]),
    ],
)
def test_common_word_titles_with_strong_evidence(
    matcher: TitleMatcher, text: str, expected: list[int]
) -> None:
    assert found(matcher, text) == expected


def test_lower_case_is_fine_for_distinctive_titles(matcher: TitleMatcher) -> None:
    assert found(matcher, "i loved the shawshank redemption") == [318]
    assert found(matcher, "i loved the matrix and toy story") == [2571, 1]


def test_franchise_prefix_needs_a_cue(matcher: TitleMatcher) -> None:
    assert found(matcher, "hi i want movies like Kill Bill") == [6874]
    assert found(matcher, "I love star wars") == [260]


# ----------------------------------------------------------------------------- languages


def test_english_titles_inside_chinese_text(matcher: TitleMatcher) -> None:
    text = "我喜欢Inception和星际穿越"
    (m,) = matcher.find_mentions(text)
    assert m.movie_id == 79132
    assert text[m.start : m.end] == "Inception"
    assert found(matcher, "我喜欢 The Matrix 和 Up") == [2571, 68954]


# ----------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    ("query", "year", "expected"),
    [
        ("The Matrix", None, 2571),
        ("Matrix, The", None, 2571),
        ("the matrix (1999)", None, 2571),
        ("matrix", None, 2571),
        ("the matirx", None, 2571),
        ("Toy Story", None, 1),
        ("toy story 2", None, 3114),
        ("The Professional", None, 293),
        ("Léon", None, 293),
        ("It", 2017, 175303),
        ("It", 1990, 26693),
        ("Total Recall", 2012, 95875),
        ("Total Recall (2012)", None, 95875),
        ("Star Wars: A New Hope", None, 260),
        ("The City of Lost Children", None, 29),
        ("Alien", None, 1214),
    ],
)
def test_lookup_best_candidate(
    matcher: TitleMatcher, query: str, year: int | None, expected: int
) -> None:
    results = matcher.lookup(query, year)
    assert results, query
    assert results[0].movie_id == expected
    assert results[0].start == 0 and results[0].end == len(query)
    assert results[0].surface == query


def test_lookup_returns_nothing_implausible(matcher: TitleMatcher) -> None:
    assert matcher.lookup("asdfghjkl") == []
    assert matcher.lookup("") == []
    assert matcher.lookup("   ") == []


def test_lookup_is_ranked_and_limited(matcher: TitleMatcher) -> None:
    results = matcher.lookup("Toy Story", limit=3)
    assert [m.movie_id for m in results] == [1, 3114, 78499]
    assert results[0].score > results[1].score >= results[2].score
    assert results[0].method == "exact"
    assert matcher.lookup("Toy Story", limit=1)[0].movie_id == 1


def test_lookup_year_mismatch_is_demoted(matcher: TitleMatcher) -> None:
    results = matcher.lookup("Heat", year=2013)
    assert results and results[0].movie_id == 6
    assert results[0].method == "title-only"
    assert results[0].score < 0.5


def test_lookup_exact_year_scores_one(matcher: TitleMatcher) -> None:
    (best, *_) = matcher.lookup("The Matrix (1999)")
    assert isinstance(best, TitleMention)
    assert (best.score, best.method) == (1.0, "exact+year")


def test_constructor_validates_lengths() -> None:
    with pytest.raises(ValueError):
        TitleMatcher([1, 2], ["Toy Story (1995)"])
    with pytest.raises(ValueError):
        TitleMatcher([1], ["Toy Story (1995)"], [1.0, 2.0])


def test_empty_text(matcher: TitleMatcher) -> None:
    assert matcher.find_mentions("") == []
    assert matcher.find_mentions("!!! ...") == []


# ----------------------------------------------------------------------------- real data

DATA_DIR = os.environ.get("RECSYS_DATA_DIR")
needs_data = pytest.mark.skipif(
    not DATA_DIR or not (Path(DATA_DIR) / "movies.csv").is_file(),
    reason="set RECSYS_DATA_DIR to the ml-latest-small directory (with movies.csv) "
    "to run the real-catalogue tests",
)


@pytest.fixture(scope="module")
def real() -> tuple[TitleMatcher, float]:
    assert DATA_DIR is not None
    data = Path(DATA_DIR)
    with (data / "movies.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    counts: Counter[int] = Counter()
    ratings = data / "ratings.csv"
    if ratings.is_file():
        with ratings.open(encoding="utf-8", newline="") as fh:
            counts.update(int(r["movieId"]) for r in csv.DictReader(fh))
    ids = [int(r["movieId"]) for r in rows]
    titles = [r["title"] for r in rows]
    pop = [float(counts[i]) for i in ids]
    t0 = time.perf_counter()
    built = TitleMatcher(ids, titles, pop)
    return built, time.perf_counter() - t0


def titles_found(m: TitleMatcher, text: str) -> list[str]:
    return [x.title for x in m.find_mentions(text)]


@needs_data
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mind-bending sci-fi like Inception, nothing gory", ["Inception (2010)"]),
        ("I loved the matrix and toy story", ["Matrix, The (1999)", "Toy Story (1995)"]),
        ("Something like Baywatch (2017)", ["Baywatch (2017)"]),
        ("I liked The Matrix (1999)", ["Matrix, The (1999)"]),
        ("matrix, the", ["Matrix, The (1999)"]),
        ("toy story 2 was fun", ["Toy Story 2 (1999)"]),
        ("I loved Toy Story", ["Toy Story (1995)"]),
        ("I liked Alien", ["Alien (1979)"]),
        ("I liked Aliens", ["Aliens (1986)"]),
        ("Rocky 2 was better than Rocky II", ["Rocky II (1979)", "Rocky II (1979)"]),
        ("I loved The Professional", [
            "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)"]),
        ("movies like incepton", ["Inception (2010)"]),
        ("I loved the matirx", ["Matrix, The (1999)"]),
        ("something like interstelar", ["Interstellar (2014)"]),
        ("movies like Up", ["Up (2009)"]),
        ("I liked Her (2013)", ["Her (2013)"]),
        ("i loved the shawshank redemption", ["Shawshank Redemption, The (1994)"]),
        ("我喜欢Inception和星际穿越", ["Inception (2010)"]),
        ("I liked It (2017)", ["It (2017)"]),
        ("I liked It (1990)", ["It (1990)"]),
        ("I loved The City of Lost Children", [
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)"]),
        ("I like it when movies are up-beat", []),
        ("I love action movies", []),
        ("I'm looking for a good movie", []),
        ("hi how are you", []),
        ("I loved Toy Story 4", []),
        ("Hi, I'm looking for a good comedy, something that came out in the last 10 years",
         []),
        ("Can you help me find a family movie for this weekend? lol", []),
    ],
)
def test_real_catalogue_examples(
    real: tuple[TitleMatcher, float], text: str, expected: list[str]
) -> None:
    assert titles_found(real[0], text) == expected


@needs_data
def test_real_catalogue_lookup(real: tuple[TitleMatcher, float]) -> None:
    m = real[0]
    assert m.lookup("The Matrix")[0].title == "Matrix, The (1999)"
    assert m.lookup("Toy Story")[0].title == "Toy Story (1995)"
    assert m.lookup("Se7en")[0].title == "Seven (a.k.a. Se7en) (1995)"
    assert m.lookup("Star Wars: A New Hope")[0].title.startswith("Star Wars: Episode IV")
    assert m.lookup("The Dark Knight", 2008)[0].title == "Dark Knight, The (2008)"
    assert m.lookup("zzqxv blorp") == []
