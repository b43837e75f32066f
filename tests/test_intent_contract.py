"""The intent-parser contract: what every parser must do, run against each parser.

:class:`IntentParserContract` holds the tests; each subclass supplies a ``parser`` fixture:
the built-in rules, and the LLM parser behind a real chat server on 127.0.0.1
(tests/chat_server.py) — once with a model that answers well and once with a careless model
that invents titles, eras and genres. Whatever the model says, the user must get an
:class:`~recsys.intent.Intent` in which negated genres are disliked, the asked era is read,
no title appears that the request does not name, and odd text neither crashes nor leaks
through unreadable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from recsys.intent import MAX_REQUEST_CHARS, BuiltinIntentParser, Intent, InvalidRequestError
from recsys.llm import LLMIntentParser, OpenAICompatibleBackend
from recsys.titles import TitleMatcher
from tests.chat_server import ChatServer, completion

TOY_STORY, INCEPTION = 11, 3


class IntentParserContract:
    """Tests every :class:`recsys.intent.IntentParser` must pass (subclasses give ``parser``)."""

    def test_returns_an_intent_of_the_request(self, parser):
        intent = parser.parse("a funny comedy for tonight")
        assert isinstance(intent, Intent)
        assert intent.text == "a funny comedy for tonight"
        assert intent.parser == parser.name
        assert "Comedy" in intent.liked_genres
        assert intent.query_text.strip()

    @pytest.mark.parametrize("text", ["sci-fi please, but no horror", "I hate horror movies, give me sci-fi"])
    def test_a_negated_genre_is_disliked_never_liked(self, parser, text):
        intent = parser.parse(text)
        assert "Horror" in intent.disliked_genres
        assert "Horror" not in intent.liked_genres
        assert "Sci-Fi" in intent.liked_genres

    @pytest.mark.parametrize("text, era", [("a comedy from the 90s", (1990, 1999)),
                                           ("something made before 1980", (None, 1979)),
                                           ("我喜欢九十年代的科幻片，不要恐怖片", (1990, 1999))])
    def test_the_asked_era_is_read(self, parser, text, era):
        intent = parser.parse(text)
        assert intent.era is not None and (intent.era.start, intent.era.end) == era

    def test_no_era_without_an_era_in_the_text(self, parser):
        assert parser.parse("a funny comedy for tonight").era is None

    def test_named_titles_are_only_those_in_the_text(self, parser):
        assert [t.movie_id for t in parser.parse("I loved Toy Story, more like that").titles] == [TOY_STORY]
        assert parser.parse("something cosy to watch with my kids").titles == ()

    def test_a_named_title_is_never_recommended_as_similar(self, parser):
        intent = parser.parse("I loved Toy Story, more like that")
        assert TOY_STORY not in {t.movie_id for t in intent.similar_titles}

    @pytest.mark.parametrize("text", ["", "   \n\t ", "\u200b\u200d\ufeff", "\x00\x07"])
    def test_nothing_readable_is_refused_clearly(self, parser, text):
        with pytest.raises(InvalidRequestError):
            parser.parse(text)

    @pytest.mark.parametrize("text", [
        "🎬🍿 a comedy 😂",                       # emoji around words
        "ro\u200dmance \u202eplease\u202c",        # zero-width joiner, bidi override
        "Ｓｃｉ－Ｆｉ ｐｌｅａｓｅ",                 # full-width letters (NFKC)
        "sci\u2011fi with a twist",                 # non-breaking hyphen
        "comedy " * 600,                            # longer than the limit
        "ça me dit un film d'horreur? non merci",   # French
    ])
    def test_odd_unicode_gives_a_clean_intent(self, parser, text):
        intent = parser.parse(text)
        assert isinstance(intent, Intent)
        assert len(intent.text) <= MAX_REQUEST_CHARS
        assert not any(ch in intent.text for ch in "\u200b\u200d\u202e\u202c\x00")
        assert all(t.surface in intent.text for t in intent.titles if t.surface)

    def test_full_width_and_joined_words_are_still_understood(self, parser):
        assert "Sci-Fi" in parser.parse("Ｓｃｉ－Ｆｉ ｐｌｅａｓｅ").liked_genres
        assert "Romance" in parser.parse("ro\u200dmance please").liked_genres


@pytest.fixture(scope="module")
def builtin(tiny_catalogue) -> BuiltinIntentParser:
    matcher = TitleMatcher(tiny_catalogue.movie_ids.tolist(), list(tiny_catalogue.titles),
                           tiny_catalogue.n_ratings.tolist())
    return BuiltinIntentParser(tiny_catalogue, matcher)


class TestBuiltinParser(IntentParserContract):
    @pytest.fixture()
    def parser(self, builtin):
        return builtin


def _request(body: dict[str, Any]) -> str:
    """The request text of an intent prompt (the last message is ``Request (JSON string): "…"``)."""
    return json.loads(body["messages"][-1]["content"].split(":", 1)[1])


#: What a good model answers for each request of the contract (anything else: nothing found).
GOOD_ANSWERS: dict[str, dict[str, Any]] = {
    "a funny comedy for tonight": {"liked_genres": ["Comedy"], "keywords": ["funny"]},
    "sci-fi please, but no horror": {"liked_genres": ["Science Fiction"], "disliked_genres": ["Horror"]},
    "I hate horror movies, give me sci-fi": {"liked_genres": ["Sci-Fi"], "disliked_genres": ["Horror"]},
    "a comedy from the 90s": {"liked_genres": ["Comedy"], "era": {"start": 1990, "end": 1999, "words": "90s"}},
    "something made before 1980": {"era": {"start": None, "end": 1979, "words": "before 1980"}},
    "我喜欢九十年代的科幻片，不要恐怖片": {"liked_genres": ["Sci-Fi"], "disliked_genres": ["Horror"],
                                 "era": {"start": 1990, "end": 1999, "words": "九十年代"}},
    "I loved Toy Story, more like that": {"liked_genres": ["Animation"], "titles": ["Toy Story"],
                                          "similar_titles": ["Toy Story 2 (1999)", "Finding Nemo (2003)"]},
    "something cosy to watch with my kids": {"liked_genres": ["Children"], "keywords": ["cosy"],
                                             "similar_titles": ["Up (2009)"]},
}

#: A careless model: the same answer whatever the request — invented titles, an era nobody
#: asked for, the disliked genre as liked.
CARELESS_ANSWER = {"liked_genres": ["Horror", "Comedy", "Sci-Fi"], "disliked_genres": ["Romance"],
                   "era": {"start": 1970, "end": 1979, "words": "seventies"},
                   "keywords": ["gore", "cosy"], "titles": ["Inception", "Toy Story"],
                   "similar_titles": ["Toy Story (1995)", "Alien (1979)"]}

_EMPTY = {"liked_genres": [], "disliked_genres": [], "era": None, "keywords": [], "titles": [],
          "similar_titles": []}


@pytest.fixture(scope="module")
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.close()


def _llm_parser(server: ChatServer, builtin: BuiltinIntentParser, answer) -> LLMIntentParser:
    server.reply = lambda body: (200, completion({**_EMPTY, **answer(_request(body))}))
    return LLMIntentParser(OpenAICompatibleBackend(server.url, "test-model", None, 5.0), builtin)


class TestLLMParserWithAGoodModel(IntentParserContract):
    @pytest.fixture()
    def parser(self, chat_server, builtin):
        return _llm_parser(chat_server, builtin, lambda text: GOOD_ANSWERS.get(text, {}))

    def test_the_model_was_asked_and_used(self, parser, chat_server):
        intent = parser.parse("I loved Toy Story, more like that")
        assert intent.parser == "llm" and intent.fallback_reason is None
        assert {t.title for t in intent.similar_titles} == {"Toy Story 2 (1999)", "Finding Nemo (2003)"}
        assert chat_server.kinds()[-1] == "intent"


class TestLLMParserWithACarelessModel(IntentParserContract):
    @pytest.fixture()
    def parser(self, chat_server, builtin):
        return _llm_parser(chat_server, builtin, lambda text: CARELESS_ANSWER)

    def test_what_the_text_does_not_support_is_dropped_and_said(self, parser):
        intent = parser.parse("a funny comedy for tonight")
        assert INCEPTION not in {t.movie_id for t in intent.titles}
        assert "Horror" not in intent.liked_genres and intent.era is None
        dropped = {(c.kind, c.value) for c in intent.dropped_claims}
        assert {("liked_genre", "Horror"), ("era", "1970–1979"), ("keyword", "gore")} <= dropped
        # Titles the request does not name are at most suggestions, never named titles.
        assert intent.titles == () and INCEPTION in {t.movie_id for t in intent.similar_titles}
