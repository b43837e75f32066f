"""Stage 1 shows what the LLM claimed but the request does not support (issue 16)."""

from __future__ import annotations

from tests.app.conftest import all_text, card_ids, markdown_text
from tests.app.test_pages import requires_data
from tests.chat_server import API_KEY, chat_server

pytestmark = requires_data

TEXT = "something fun and light for a rainy sunday"


def test_claims_the_request_does_not_support_are_listed_not_used(new_app, monkeypatch) -> None:
    with chat_server(monkeypatch) as server:
        server.intent = {"liked_genres": ["Comedy", "War"], "disliked_genres": [],
                         "era": {"start": 1980, "end": 1989, "words": "80s"}, "keywords": ["fun", "zombies"],
                         "titles": ["The Matrix"], "similar_titles": ["Groundhog Day (1993)"]}
        server.echo_auth = True                    # … and it echoes the API key
        at = new_app()
        at.text_area(key="request_text").input(TEXT).run()
        assert not at.exception
        expander = [e for e in at.expander if e.label.startswith("Model claims not used as stated")]
        assert expander, [e.label for e in at.expander]
        table = expander[0].dataframe[0].value
        said = dict(zip(table["model said"], table["why"]))
        assert "no era cue" in said["1980–1989"]
        assert "does not mention" in said["The Matrix"]          # downgraded to a suggestion
        assert "not in the request" in said["zombies"]
        assert "(hidden)" in said                                # the echoed key: hidden, not shown
        text = markdown_text(at)
        assert "Era" in text and "1980" not in text.split("Titles")[0].split("Era")[1]
        assert len(card_ids(at)) == 10
        assert API_KEY not in all_text(at)
