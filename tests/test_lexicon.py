"""Shared word lists (recsys/lexicon.py): one list, read the same way by every module."""

from __future__ import annotations

import pytest

from recsys import lexicon
from recsys.grounding import era_supported
from recsys.intent import BuiltinIntentParser
from recsys.titles import TitleMatcher


@pytest.fixture(scope="module")
def parser(tiny_catalogue) -> BuiltinIntentParser:
    matcher = TitleMatcher(tiny_catalogue.movie_ids.tolist(), list(tiny_catalogue.titles),
                           tiny_catalogue.n_ratings.tolist())
    return BuiltinIntentParser(tiny_catalogue, matcher)


@pytest.mark.parametrize("word, decade", sorted(lexicon.DECADE_WORDS.items()))
def test_a_decade_word_means_the_same_decade_to_the_parser_and_to_grounding(parser, word, decade):
    text = f"a comedy from the {word}"
    era = parser.parse(text).era
    assert era is not None and (era.start, era.end) == (decade, decade + 9)
    # A model that reads the same decade from the same words is believed ...
    assert era_supported(decade, decade + 9, word, text) == (True, None)
    # ... and one that reads another decade is not.
    assert not era_supported(decade + 10, decade + 19, word, text)[0]


def test_the_match_stop_words_are_a_subset_of_the_stop_words():
    assert lexicon.MATCH_STOPWORDS <= lexicon.STOPWORDS
    assert {"movie", "film", "the"} <= lexicon.MATCH_STOPWORDS
