"""recsys.knowledge_fetch against a fake TMDB / Wikidata / Wikipedia on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.knowledge_fetch import (
    ATTRIBUTIONS,
    HttpPolicy,
    KnowledgeFetchError,
    Link,
    TMDBSource,
    WikidataSource,
    blank_record,
    choose_source,
    fetch_knowledge,
    merge_knowledge,
    merge_records,
    read_knowledge,
    redact,
)
from tests.knowledge_server import LINKS, TMDB_KEY, TMDB_TOKEN, Answer, Call, FakeWeb, Trickle, fake_web

SECRETS = (TMDB_KEY, TMDB_TOKEN)


class Sleeps(list[float]):
    """A ``sleep`` that records how long it was asked to wait and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def policy(sleeps: Sleeps) -> HttpPolicy:
    return HttpPolicy(deadline=3.0, retries=2, backoff=0.5, max_wait=30.0, min_interval=0.0, sleep=sleeps)


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeb]:
    with fake_web() as server:
        for name in ("RECSYS_TMDB_BASE_URL", "RECSYS_WIKIDATA_URL", "RECSYS_WIKIPEDIA_URL"):
            monkeypatch.setenv(name, server.url)
        monkeypatch.setenv("RECSYS_WIKIDATA_SPARQL_URL", server.url + "/sparql")
        monkeypatch.delenv("TMDB_API_KEY", raising=False)
        monkeypatch.delenv("RECSYS_FETCH_USER_AGENT", raising=False)
        yield server


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="recsys.knowledge_fetch")


def _no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
            assert secret[:16] not in text


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- good answers


def test_tmdb_good_answers(web: FakeWeb, policy: HttpPolicy, tmp_path: Path,
                           caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[float, str]] = []
    path = fetch_knowledge(LINKS, tmp_path, source="tmdb", api_key=TMDB_KEY, policy=policy,
                           progress=lambda f, m: seen.append((f, m)))
    assert path == tmp_path / "knowledge-tmdb.jsonl"
    records = read_knowledge(path)
    assert list(records) == [1, 2, 1573, 99]
    toy = records[1]
    assert toy["imdbId"] == "0114709" and toy["tmdbId"] == "862" and toy["title"] == "Toy Story"
    assert toy["overview"] == "Led by Woody, Andy's toys live happily." and toy["overview_src"] == "tmdb_api"
    assert toy["director"] == ["John Lasseter"] and toy["director_src"] == "tmdb_api"
    assert toy["cast"] == ["Tom Hanks", "Tim Allen", "Don Rickles"]          # by `order`
    assert toy["keywords"] == ["jealousy", "toy"]
    assert toy["popularity"] == 17.4765 and toy["vote_count"] == 19339
    assert toy["poster_path"] == "/toy.jpg"
    assert toy["title_zh"] == "玩具总动员" and toy["title_zh_src"] == "tmdb_api"    # zh-CN first
    assert toy["title_zh_aliases"] == ["玩具總動員"]
    jumanji = records[2]
    assert jumanji["keywords"] is None and jumanji["keywords_src"] is None     # empty → None, as in the shared file
    assert jumanji["cast"] is None and jumanji["poster_path"] is None and jumanji["title_zh"] is None
    assert records[99] == blank_record((99, "9999999", "999999"))             # unknown to TMDB (status 34)
    # one call per movie with everything appended, the v3 key as api_key
    movie_calls = [c for c in web.calls if c.path.startswith("/3/movie/")]
    assert [c.path for c in movie_calls] == ["/3/movie/862", "/3/movie/8844", "/3/movie/754", "/3/movie/999999"]
    assert movie_calls[0].query["append_to_response"] == "keywords,credits,translations"
    assert movie_calls[0].query["api_key"] == TMDB_KEY and "authorization" not in movie_calls[0].headers
    assert "FirstReel" in movie_calls[0].headers["user-agent"]
    assert seen[0][0] == 0.0 and seen[-1][0] == 1.0 and "4 / 4" in seen[-1][1]
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    _no_secret(path.read_text(encoding="utf-8"), caplog.text)


def test_tmdb_v4_token_goes_in_the_header_only(web: FakeWeb, policy: HttpPolicy, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMDB_API_KEY", TMDB_TOKEN)
    path = fetch_knowledge(LINKS[:1], tmp_path, policy=policy)                # auto → TMDB (key set)
    assert path.name == "knowledge-tmdb.jsonl"
    assert read_knowledge(path)[1]["director"] == ["John Lasseter"]
    call = web.calls[0]
    assert call.headers["authorization"] == f"Bearer {TMDB_TOKEN}" and "api_key" not in call.query
    assert TMDB_TOKEN not in repr(TMDBSource(TMDB_TOKEN)) and TMDB_KEY not in repr(TMDBSource(TMDB_KEY))


def test_wikidata_and_wikipedia_good_answers(web: FakeWeb, policy: HttpPolicy, tmp_path: Path) -> None:
    links = [Link(1, "0114709", "862", "Toy Story (1995)", "Adventure|Animation"),
             (2, 113497, 8844.0), (1573, "tt0119094", None), (99, "9999999", "999999"), (7, None, None)]
    path = fetch_knowledge(links, tmp_path, policy=policy)                     # auto → Wikidata (no key)
    assert path == tmp_path / "knowledge-wikidata.jsonl"
    records = read_knowledge(path)
    toy = records[1]
    assert toy["title"] == "Toy Story (1995)" and toy["genres"] == "Adventure|Animation"   # the catalogue's
    assert toy["director"] == ["John Lasseter"] and toy["director_src"] == "wikidata"
    assert toy["cast"] == ["Tom Hanks", "Tim Allen", "Don Rickles"]            # statement order
    assert toy["title_zh"] == "玩具总动员" and toy["title_zh_src"] == "wikidata"   # zh-cn before zh-hant
    assert toy["title_zh_aliases"] == ["玩具總動員", "反斗奇兵"]                   # other labels, then aliases
    assert toy["overview"] == "Toy Story is a 1995 American animated comedy film."
    assert toy["overview_src"] == "wikipedia" and toy["wiki_href"] == "Toy_Story"
    assert toy["keywords"] is None and toy["popularity"] is None              # Wikidata has neither
    assert records[2]["imdbId"] == "0113497" and records[2]["tmdbId"] == "8844"
    assert records[2]["director"] == ["Joe Johnston"] and records[2]["cast"] is None
    off = records[1573]
    assert off["title"] == "Face/Off" and off["cast"] == ["John Travolta", "Nicolas Cage"]   # "mul" labels
    assert off["director"] == ["John Woo"]                                    # a deprecated statement skipped
    assert off["overview"].startswith("Face/Off is")
    assert records[99]["director"] is None and records[7] == blank_record((7, None, None))
    # batched: one SPARQL query, one wbgetentities for the films, one for the people, one summary per film
    assert web.paths("/sparql") == ["/sparql"]
    entity_calls = [c for c in web.calls if c.path == "/w/api.php"]
    assert len(entity_calls) == 2 and entity_calls[0].query["ids"] == "Q171048|Q243439|Q379873"
    assert entity_calls[0].query["sitefilter"] == "enwiki"
    assert sorted(web.paths("/api/rest_v1/")) == ["/api/rest_v1/page/summary/Face/Off",
                                                  "/api/rest_v1/page/summary/Jumanji",
                                                  "/api/rest_v1/page/summary/Toy_Story"]
    assert any("Face%2FOff" in c.raw for c in web.calls)                      # a "/" in a title is encoded
    assert all("FirstReel" in c.headers["user-agent"] for c in web.calls)
    assert "CC BY-SA 4.0" in ATTRIBUTIONS["wikipedia"] and "not endorsed" in ATTRIBUTIONS["tmdb_api"]


def test_choose_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    assert choose_source("auto") == "wikidata" and choose_source("auto", TMDB_KEY) == "tmdb"
    monkeypatch.setenv("TMDB_API_KEY", TMDB_KEY)
    assert choose_source("auto") == "tmdb" and choose_source("wikidata") == "wikidata"
    monkeypatch.delenv("TMDB_API_KEY")
    with pytest.raises(KnowledgeFetchError, match="TMDB_API_KEY"):
        fetch_knowledge(LINKS, "/nonexistent", source="tmdb")
    with pytest.raises(KnowledgeFetchError, match="unknown knowledge source"):
        choose_source("imdb")  # type: ignore[arg-type]


def test_limit_takes_the_first_links(web: FakeWeb, policy: HttpPolicy, tmp_path: Path) -> None:
    path = fetch_knowledge(LINKS + LINKS[:1], tmp_path, api_key=TMDB_KEY, policy=policy, limit=2)
    assert list(read_knowledge(path)) == [1, 2]


# --------------------------------------------------------------------------- resume


def test_resume_after_a_failed_run(web: FakeWeb, policy: HttpPolicy, tmp_path: Path) -> None:
    web.override = lambda call: Answer(503, "down") if call.path == "/3/movie/754" else None
    with pytest.raises(KnowledgeFetchError, match="failed 3 times for movie 754") as err:
        fetch_knowledge(LINKS, tmp_path, api_key=TMDB_KEY, policy=policy)
    assert "fetched so far are kept" in str(err.value)
    path = tmp_path / "knowledge-tmdb.jsonl"
    assert [r["movieId"] for r in _lines(path)] == [1, 2]                      # written before the failure
    web.override = None
    web.calls.clear()
    fetch_knowledge(LINKS, tmp_path, api_key=TMDB_KEY, policy=policy)
    assert web.paths() == ["/3/movie/754", "/3/movie/999999"]                 # only what was missing
    assert [r["movieId"] for r in _lines(path)] == [1, 2, 1573, 99]
    web.calls.clear()
    fetch_knowledge(LINKS, tmp_path, api_key=TMDB_KEY, policy=policy)         # complete: no request at all
    assert web.calls == []


def test_a_truncated_last_line_is_ignored_on_resume(web: FakeWeb, policy: HttpPolicy, tmp_path: Path) -> None:
    fetch_knowledge(LINKS[:3], tmp_path, policy=policy)                        # a Wikidata batch
    path = tmp_path / "knowledge-wikidata.jsonl"
    text = path.read_text(encoding="utf-8")
    last = text.splitlines()[-1]
    path.write_text(text[:-len(last) - 1] + last[:40], encoding="utf-8")       # crash mid-write of 1573
    assert list(read_knowledge(path)) == [1, 2]
    web.calls.clear()
    fetch_knowledge(LINKS, tmp_path, policy=policy)
    sparql = [c for c in web.calls if c.path == "/sparql"]
    assert len(sparql) == 1 and "tt0114709" not in sparql[0].query["query"]   # only 1573 and 99 asked for
    records = _lines(path)                                                     # every line parses again
    assert [r["movieId"] for r in records] == [1, 2, 1573, 99]
    assert records[2]["director"] == ["John Woo"]


def test_wikidata_failure_loses_only_the_batch_in_flight(web: FakeWeb, policy: HttpPolicy,
                                                         tmp_path: Path) -> None:
    links = [(i, f"{1000000 + i:07d}", str(i)) for i in range(1, 121)]       # 3 batches of ≤ 50
    sparql_calls = 0

    def third_batch_fails(call: Call) -> Answer | None:
        nonlocal sparql_calls
        if call.path == "/sparql":
            sparql_calls += 1
            if sparql_calls >= 3:
                return Answer(500, "boom")
        return None

    web.override = third_batch_fails
    with pytest.raises(KnowledgeFetchError, match="Wikidata query service failed 3 times"):
        fetch_knowledge(links, tmp_path, source="wikidata", policy=policy)
    assert len(read_knowledge(tmp_path / "knowledge-wikidata.jsonl")) == 100


# --------------------------------------------------------------------------- retries and deadlines


def test_429_retry_after_is_honoured(web: FakeWeb, policy: HttpPolicy, sleeps: Sleeps, tmp_path: Path) -> None:
    answers = iter([Answer(429, {"status_code": 25}, {"Retry-After": "7"})])
    web.override = lambda call: next(answers, None)
    path = fetch_knowledge(LINKS[:1], tmp_path, api_key=TMDB_KEY, policy=policy)
    assert sleeps == [7.0] and len(web.calls) == 2
    assert read_knowledge(path)[1]["overview_src"] == "tmdb_api"


def test_429_with_a_retry_after_too_long_stops_at_once(web: FakeWeb, policy: HttpPolicy, sleeps: Sleeps,
                                                       tmp_path: Path) -> None:
    web.override = lambda call: Answer(429, {}, {"Retry-After": "3600"})
    with pytest.raises(KnowledgeFetchError, match="rate limiting us for 3600 s"):
        fetch_knowledge(LINKS[:1], tmp_path, api_key=TMDB_KEY, policy=policy)
    assert sleeps == [] and len(web.calls) == 1


def test_500_then_success_with_backoff(web: FakeWeb, policy: HttpPolicy, sleeps: Sleeps, tmp_path: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([Answer(500, "oops"), Answer(502, "bad gateway")])
    web.override = lambda call: next(answers, None)
    path = fetch_knowledge(LINKS[:1], tmp_path, api_key=TMDB_KEY, policy=policy)
    assert sleeps == [0.5, 1.0] and len(web.calls) == 3                       # exponential backoff
    assert read_knowledge(path)[1]["director"] == ["John Lasseter"]
    assert "HTTP 500" in caplog.text and "retry 1 of 2" in caplog.text
    _no_secret(caplog.text)


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_trickling_server_hits_the_deadline(web: FakeWeb, sleeps: Sleeps, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture, in_headers: bool) -> None:
    web.override = lambda call: Trickle(size=1000, interval=0.05, headers=in_headers)   # 50 s if waited for
    policy = HttpPolicy(deadline=0.4, retries=1, backoff=0.01, min_interval=0.0, sleep=sleeps)
    start = time.monotonic()
    with pytest.raises(KnowledgeFetchError, match=r"failed 2 times .*no complete answer within 0.4 s") as err:
        fetch_knowledge(LINKS[:1], tmp_path, api_key=TMDB_KEY, policy=policy)
    assert time.monotonic() - start < 2.5
    assert len(web.calls) == 2
    _no_secret(str(err.value), caplog.text)


def test_unreachable_server_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, policy: HttpPolicy,
                                             tmp_path: Path) -> None:
    with fake_web() as gone:
        url = gone.url
    monkeypatch.setenv("RECSYS_TMDB_BASE_URL", url)
    with pytest.raises(KnowledgeFetchError, match="cannot reach http://127.0.0.1") as err:
        fetch_knowledge(LINKS[:1], tmp_path, api_key=TMDB_KEY, policy=policy)
    _no_secret(str(err.value))


# --------------------------------------------------------------------------- redirects


def test_a_redirect_to_another_origin_never_gets_the_key(web: FakeWeb, policy: HttpPolicy, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    with fake_web() as elsewhere:
        web.override = lambda call: Answer(302, "", {"Location": f"{elsewhere.url}/steal?{call.raw.split('?')[1]}"})
        for key in SECRETS:
            with pytest.raises(KnowledgeFetchError, match="redirected to another site") as err:
                fetch_knowledge(LINKS[:1], tmp_path, api_key=key, policy=policy)
            assert "not sent there" in str(err.value)
            _no_secret(str(err.value))
        assert elsewhere.calls == []
    _no_secret(caplog.text)


def test_a_same_origin_redirect_is_followed_with_the_key(web: FakeWeb, policy: HttpPolicy,
                                                         tmp_path: Path) -> None:
    source = TMDBSource(TMDB_KEY, policy=policy)
    web.override = lambda call: (Answer(307, "", {"Location": "/3/movie/862"})
                                 if call.path == "/3/movie/863" else None)
    assert source.fetch_one((1, "0114709", "863"))["director"] == ["John Lasseter"]
    assert web.paths() == ["/3/movie/863", "/3/movie/862"] and web.calls[1].query["api_key"] == TMDB_KEY


# --------------------------------------------------------------------------- bad keys and nonsense


def test_401_is_a_clear_error_without_the_key(web: FakeWeb, policy: HttpPolicy, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    wrong = "ffffffffffffffffffffffffffffffff"
    with pytest.raises(KnowledgeFetchError) as err:
        fetch_knowledge(LINKS, tmp_path, api_key=wrong, policy=policy)
    message = str(err.value)
    assert "rejected the API key (HTTP 401)" in message and "TMDB_API_KEY" in message
    assert wrong not in message and wrong not in caplog.text and "\n" not in message
    assert len(web.calls) == 1                                                 # no retry of a bad key
    assert (tmp_path / "knowledge-tmdb.jsonl").read_text() == ""


@pytest.mark.parametrize("answer, expected", [
    (Answer(200, "<html>Gateway login</html>"), r"TMDB sent an answer that is not JSON \(text/html\) for movie 862"),
    (Answer(200, ["a", "list"]), "TMDB sent an answer of the wrong shape for movie 862"),
    (Answer(200, {"id": 862, "credits": {"cast": "nobody"}}), "wrong shape for movie 862"),
    (Answer(404, {"status_message": "no route"}), r"TMDB answered HTTP 404 for movie 862 \(is the base URL right\?\)"),
    (Answer(418, "teapot"), "TMDB answered HTTP 418 for movie 862"),
])
def test_nonsense_answers_are_clear_errors(web: FakeWeb, policy: HttpPolicy, tmp_path: Path,
                                           answer: Answer, expected: str) -> None:
    web.override = lambda call: answer
    with pytest.raises(KnowledgeFetchError, match=expected) as err:
        fetch_knowledge(LINKS[:1], tmp_path, api_key=TMDB_KEY, policy=policy)
    _no_secret(str(err.value))


@pytest.mark.parametrize("path, answer, expected", [
    ("/sparql", Answer(200, "<html>busy</html>"), "Wikidata query service sent an answer that is not JSON"),
    ("/sparql", Answer(200, {"results": []}), "query service sent an answer of the wrong shape"),
    ("/w/api.php", Answer(200, {"error": {"code": "maxlag", "info": "Waiting for a database"}}),
     "Wikidata refused the request for 3 films .*Waiting for a database"),
    ("/w/api.php", Answer(200, {"entities": ["Q1"]}), "Wikidata sent an answer of the wrong shape"),
    ("/api/rest_v1/page/summary/Toy_Story", Answer(200, ["x"]), "Wikipedia sent an answer of the wrong shape"),
    ("/w/api.php", Answer(403, "UA policy"), r"Wikidata answered HTTP 403 .*RECSYS_FETCH_USER_AGENT"),
])
def test_wikidata_nonsense_answers_are_clear_errors(web: FakeWeb, policy: HttpPolicy, tmp_path: Path,
                                                    path: str, answer: Answer, expected: str) -> None:
    web.override = lambda call: answer if call.path == path else None
    with pytest.raises(KnowledgeFetchError, match=expected):
        fetch_knowledge(LINKS, tmp_path, source="wikidata", policy=policy)
    assert not (tmp_path / "knowledge-wikidata.jsonl").read_text()           # the batch was not written


def test_the_key_never_reaches_the_cache_even_when_echoed(web: FakeWeb, policy: HttpPolicy, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    def echo(call: Call) -> Answer:
        return Answer(200, {"id": 862, "overview": f"you asked {call.raw} with {call.headers.get('authorization')}",
                            "keywords": {"keywords": [{"name": "the bearer of bad news"}, {"name": "api_key=x"}]}})

    web.override = echo
    for key in SECRETS:
        path = fetch_knowledge(LINKS[:1], tmp_path / key[:4], api_key=key, policy=policy)
        text = path.read_text(encoding="utf-8")
        assert "you asked /3/movie/862" in text
        assert read_knowledge(path)[1]["keywords"] == ["the bearer of bad news", "api_key=x"]   # data intact
        _no_secret(text)
    _no_secret(caplog.text)
    assert redact(f"x?api_key={TMDB_KEY}&y=1 Bearer {TMDB_TOKEN}", None) == "x?api_key=***&y=1 Bearer ***"


def test_malformed_key_is_refused_before_any_request(web: FakeWeb, policy: HttpPolicy, tmp_path: Path) -> None:
    with pytest.raises(KnowledgeFetchError, match="malformed") as err:
        fetch_knowledge(LINKS, tmp_path, api_key="abc def\nghi", policy=policy)
    assert "abc def" not in str(err.value) and web.calls == []


# --------------------------------------------------------------------------- merge


def test_merge_fills_empty_fields_from_the_second_source() -> None:
    tmdb = blank_record(Link(1, "0114709", "862", "Toy Story (1995)", "Animation"))
    tmdb.update(overview="From TMDB.", overview_src="tmdb_api", keywords=["toy"], keywords_src="tmdb_api",
                director=[], director_src=None, popularity=0.0, popularity_src="tmdb_api")
    wiki = blank_record((1, "0114709", "862"))
    wiki.update(overview="From Wikipedia.", overview_src="wikipedia", director=["John Lasseter"],
                director_src="wikidata", title_zh="玩具总动员", title_zh_src="wikidata", wiki_href="Toy_Story",
                popularity=float("nan"))
    merged = merge_records(tmdb, wiki)
    assert merged["overview"] == "From TMDB." and merged["overview_src"] == "tmdb_api"     # first wins
    assert merged["director"] == ["John Lasseter"] and merged["director_src"] == "wikidata"  # [] is empty
    assert merged["title_zh"] == "玩具总动员" and merged["title_zh_src"] == "wikidata"
    assert merged["popularity"] == 0.0 and merged["popularity_src"] == "tmdb_api"          # 0 is a value
    assert merged["wiki_href"] == "Toy_Story" and merged["title"] == "Toy Story (1995)"
    assert tmdb["director"] == []                                                          # inputs untouched
    out = merge_knowledge([tmdb], [wiki, {**blank_record((5, None, None)), "overview": "x", "overview_src": "w"}])
    assert [r["movieId"] for r in out] == [1, 5] and out[1]["overview_src"] == "w"


def test_merge_of_two_fetched_files(web: FakeWeb, policy: HttpPolicy, tmp_path: Path) -> None:
    tmdb = read_knowledge(fetch_knowledge(LINKS, tmp_path, api_key=TMDB_KEY, policy=policy))
    wiki = read_knowledge(fetch_knowledge(LINKS, tmp_path, source="wikidata", policy=policy))
    merged = {r["movieId"]: r for r in merge_knowledge(tmdb.values(), wiki.values())}
    assert merged[2]["keywords"] is None and merged[2]["overview_src"] == "tmdb_api"
    assert merged[2]["wiki_href"] == "Jumanji"
    assert merged[1]["title_zh_src"] == "tmdb_api"


def test_sources_have_safe_reprs() -> None:
    assert "***" in repr(TMDBSource(TMDB_KEY)) and TMDB_KEY not in repr(TMDBSource(TMDB_KEY))
    assert "WikidataSource(" in repr(WikidataSource())


def test_links_from_frames() -> None:
    import pandas as pd

    from recsys.knowledge_fetch import links_from_frames

    links = pd.DataFrame({"movie_id": [1, 2], "imdb_id": ["0114709", "0113497"],
                          "tmdb_id": pd.array([862, None], dtype="Int64")})
    movies = pd.DataFrame({"movie_id": [1], "title": ["Toy Story (1995)"], "genres": ["Animation"]})
    rows = links_from_frames(links, movies)
    assert rows[0] == Link(1, "0114709", 862, "Toy Story (1995)", "Animation")
    assert blank_record(rows[1])["tmdbId"] is None and blank_record(rows[0])["tmdbId"] == "862"
