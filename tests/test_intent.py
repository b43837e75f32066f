"""Stage 1: what the built-in parser understands of a request."""

from __future__ import annotations

import pytest

from recsys.intent import MAX_REQUEST_CHARS, BuiltinIntentParser, InvalidRequestError, clean_request
from recsys.titles import TitleMatcher


@pytest.fixture(scope="module")
def parser(tiny_catalogue) -> BuiltinIntentParser:
    matcher = TitleMatcher(tiny_catalogue.movie_ids.tolist(), list(tiny_catalogue.titles),
                           tiny_catalogue.n_ratings.tolist())
    return BuiltinIntentParser(tiny_catalogue, matcher)


@pytest.mark.parametrize("text, liked, disliked", [
    ("sci-fi, no horror", {"Sci-Fi"}, {"Horror"}),
    ("I'm not into romance, give me a thriller", {"Thriller"}, {"Romance"}),
    ("I hate musicals", set(), {"Musical"}),
    ("anything but westerns", set(), {"Western"}),
    ("I like comedies but not romance", {"Comedy"}, {"Romance"}),
    ("I don't like horror but love thrillers", {"Thriller"}, {"Horror"}),
    ("no horror, gore or slashers please", set(), {"Horror"}),
    ("no romance, comedy is ok", {"Comedy"}, {"Romance"}),
    ("I hate musicals and love westerns", {"Western"}, {"Musical"}),
    ("horror is not my thing, but a good mystery works", {"Mystery"}, {"Horror"}),
    ("I don't mind horror", {"Horror"}, set()),
    ("not sure what I want, maybe a comedy", {"Comedy"}, set()),
    ("a comedy without romance", {"Comedy"}, {"Romance"}),
    ("I love comedy, not romantic comedies though", {"Comedy"}, {"Romance"}),
    ("mind-bending sci-fi like Inception, nothing gory, 90s is fine", {"Sci-Fi"}, {"Horror"}),
    ("Not a huge fan of horror films. Westerns are great", {"Western"}, {"Horror"}),
])
def test_liked_and_disliked_genres_follow_negation_scope(parser, text, liked, disliked):
    intent = parser.parse(text)
    assert set(intent.liked_genres) == liked
    assert set(intent.disliked_genres) == disliked


def test_chinese_request_parses_genres_negation_and_decade(parser):
    intent = parser.parse("我喜欢九十年代的科幻片，不要恐怖片")
    assert intent.liked_genres == ("Sci-Fi",)
    assert intent.disliked_genres == ("Horror",)
    assert (intent.era.start, intent.era.end) == (1990, 1999)
    assert intent.language == "zh"
    # The encoder is English-only: it sees an English rendering of the intent.
    assert "science fiction" in intent.query_text and "1990s" in intent.query_text


@pytest.mark.parametrize("text, start, end", [
    ("something from the 90s", 1990, 1999),
    ("1980s action", 1980, 1989),
    ("late 90s thrillers", 1995, 1999),
    ("early 2000s comedies", 2000, 2004),
    ("movies before 2000", None, 1999),
    ("anything after 2010", 2011, None),
    ("since 2005 please", 2005, None),
    ("between 1980 and 1995", 1980, 1995),
    ("I love the eighties", 1980, 1989),
    ("80s or 90s sci-fi", 1980, 1999),
    ("nothing before 1980", 1980, None),
    ("2000年以前的电影", None, 1999),
    ("80年代的动作片", 1980, 1989),
])
def test_era_phrases_become_year_ranges(parser, text, start, end):
    era = parser.parse(text).era
    assert era is not None, text
    assert (era.start, era.end) == (start, end)


def test_recent_and_classic_are_relative_to_the_catalogue(parser, tiny_catalogue):
    newest = int(tiny_catalogue.years.max())
    recent = parser.parse("something recent").era
    assert recent.end is None and newest - 10 < recent.start <= newest
    classic = parser.parse("old classics").era
    assert classic.start is None and classic.end < 1980


def test_no_era_is_invented(parser):
    assert parser.parse("I'm in my 30s and like comedies").era is None
    # The year of a named title is not an era request.
    assert parser.parse("Something like Toy Story (1995)").era is None


def test_titles_are_matched_and_negated_titles_are_disliked(parser):
    intent = parser.parse("I loved the matrix but I didn't like Toy Story 2")
    assert [t.movie_id for t in intent.titles] == [1]
    assert [t.movie_id for t in intent.disliked_titles] == [12]


def test_genre_words_inside_titles_do_not_count(parser):
    # "Aliens" is a title here, not the Sci-Fi keyword "aliens".
    intent = parser.parse("Aliens (1986) is my favourite")
    assert [t.movie_id for t in intent.titles] == [6]
    assert intent.liked_genres == ()


def test_keywords_come_from_tags_and_mood_words(parser):
    intent = parser.parse("a mind-bending story about time travel, nothing creepy")
    assert "mind-bending" in intent.keywords
    assert "time travel" in intent.keywords
    assert "creepy" not in intent.keywords


def test_clean_request_limits_and_normalises():
    with pytest.raises(InvalidRequestError):
        clean_request("   \n\t ")
    with pytest.raises(InvalidRequestError):
        clean_request("?!… 🙂")
    text, warnings = clean_request("sci-fi " * 1000)
    assert len(text) <= MAX_REQUEST_CHARS and warnings
    text, _ = clean_request("ｓｃｉ－ｆｉ\u200b please\x00")
    assert text == "sci-fi please"


def test_odd_unicode_does_not_break_the_parser(parser):
    for text in ["🎬🍿 sci-fi!!", "Ünïcödé cömédy", "\u202eevil bidi text", "ＲＯＭＡＮＣＥ"]:
        intent = parser.parse(text)
        assert intent.text
    assert parser.parse("ＲＯＭＡＮＣＥ").liked_genres == ("Romance",)


def test_intent_json_has_the_cli_contract_keys(parser):
    data = parser.parse("90s sci-fi like the matrix, no horror").to_dict()
    for key in ("liked_genres", "disliked_genres", "era", "keywords", "titles", "parser"):
        assert key in data
    assert data["era"] == {"start": 1990, "end": 1999}
    assert data["titles"][0]["movie_id"] == 1 and 0 < data["titles"][0]["score"] <= 1
    assert data["parser"] == "builtin"


def test_zero_shot_adds_genres_only_when_rules_find_none(tiny_recommender):
    intent = tiny_recommender.parse("something that will make me laugh out loud")
    assert "Comedy" in intent.liked_genres
    assert intent.genre_affinity[0][0] == "Comedy"
    explicit = tiny_recommender.parse("a western")
    assert explicit.liked_genres == ("Western",)
    assert explicit.inferred_genres == ()


@pytest.mark.parametrize("mark", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",
                                  "\u200e", "\u202e", "\u2066"])
def test_zero_width_and_bidi_marks_do_not_split_words(parser, mark):
    intent = parser.parse(f"a comedy, no ro{mark}mance")
    assert intent.disliked_genres == ("Romance",)
    assert "Romance" not in intent.liked_genres
    assert clean_request(f"no ro{mark}mance")[0] == "no romance"


@pytest.mark.parametrize("text, gone, kept", [
    ("I hate superhero movies. Give me something smart and quiet.", ["hate", "superhero"], ["smart", "quiet"]),
    ("I don't like horror, give me a comedy", ["like", "horror"], ["comedy"]),
    ("sci-fi, no horror", ["no", "horror"], ["sci-fi"]),
])
def test_the_embedded_text_drops_what_the_user_does_not_want(parser, text, gone, kept):
    """Neither the disliked words nor the cue that negated them reach the encoder, so "I hate
    superhero movies" cannot match a title with "hate" in it."""
    query = parser.parse(text).query_text.lower()
    words = set(query.replace(",", " ").replace(".", " ").split())
    assert not words & set(gone), query
    assert all(k in query for k in kept), query


@pytest.mark.parametrize("text, liked, disliked", [
    ("我想看关于太空和外星人的电影", {"space", "aliens"}, set()),
    ("推荐几部时间旅行的电影，不要外星人", {"time travel"}, {"aliens"}),
])
def test_chinese_plot_words_become_keywords_with_their_negation(parser, text, liked, disliked):
    intent = parser.parse(text)
    assert set(intent.keywords) == liked and set(intent.disliked_keywords) == disliked
    assert all(k in intent.query_text for k in liked)        # the encoder reads them in English
