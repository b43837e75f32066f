"""A fake TMDB + Wikidata + Wikipedia on 127.0.0.1, for the knowledge-fetch tests.

One :class:`FakeWeb` answers every service by path, from the small tables below:

* ``GET /3/movie/<tmdbId>`` — TMDB details with keywords, credits and translations; the key
  must come as ``api_key`` (v3) or ``Authorization: Bearer`` (v4), else 401; unknown ids 404
  with TMDB's ``status_code`` 34.
* ``GET /sparql?query=…`` — the Wikidata query service: the ``VALUES`` IMDb ids it knows.
* ``GET /w/api.php?action=wbgetentities&ids=…`` — films and people, ``missing`` otherwise.
* ``GET /api/rest_v1/page/summary/<title>`` — Wikipedia summaries, 404 otherwise.

Every request is recorded in :attr:`FakeWeb.calls`. :attr:`FakeWeb.override` can answer a
request instead (return ``None`` to fall through to the tables): an :class:`Answer`, or a
:class:`Trickle` that sends its body one byte at a time.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TMDB_KEY = "0123456789abcdef0123456789abcdef"          # a v3-shaped key
TMDB_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJzZWNyZXQifQ.c2VjcmV0LXNpZ25hdHVyZQ"  # a v4-shaped token

# movieId, imdbId, tmdbId (as in links.csv)
LINKS = [(1, "0114709", "862"), (2, "0113497", "8844"), (1573, "0119094", "754"), (99, "9999999", "999999")]

TMDB_MOVIES: dict[str, dict[str, Any]] = {
    "862": {
        "id": 862, "title": "Toy Story", "imdb_id": "tt0114709", "original_language": "en",
        "original_title": "Toy Story", "overview": "Led by Woody, Andy's toys live happily.",
        "popularity": 17.4765, "vote_count": 19339, "poster_path": "/toy.jpg",
        "keywords": {"keywords": [{"id": 1, "name": "jealousy"}, {"id": 2, "name": "toy"}]},
        "credits": {
            "cast": [{"name": "Don Rickles", "order": 2}, {"name": "Tom Hanks", "order": 0},
                     {"name": "Tim Allen", "order": 1}],
            "crew": [{"name": "John Lasseter", "job": "Director"}, {"name": "Randy Newman", "job": "Original Music Composer"}],
        },
        "translations": {"translations": [
            {"iso_639_1": "zh", "iso_3166_1": "TW", "data": {"title": "玩具總動員"}},
            {"iso_639_1": "zh", "iso_3166_1": "CN", "data": {"title": "玩具总动员"}},
            {"iso_639_1": "fr", "iso_3166_1": "FR", "data": {"title": "Toy Story"}},
        ]},
    },
    "8844": {
        "id": 8844, "title": "Jumanji", "original_language": "en", "overview": "A magical board game.",
        "popularity": 5.5, "vote_count": 10000, "poster_path": None,
        "keywords": {"keywords": []}, "credits": {"cast": [], "crew": [{"name": "Joe Johnston", "job": "Director"}]},
        "translations": {"translations": []},
    },
    "754": {
        "id": 754, "title": "Face/Off", "overview": "Two enemies swap faces.", "popularity": 3.0,
        "vote_count": 5000, "keywords": {"keywords": [{"name": "face transplant"}]},
        "credits": {"cast": [{"name": "John Travolta", "order": 0}, {"name": "Nicolas Cage", "order": 1}],
                    "crew": [{"name": "John Woo", "job": "Director"}]},
        "translations": {"translations": []},
    },
}

WD_FILMS: dict[str, dict[str, Any]] = {
    "tt0114709": {"id": "Q171048", "labels": {"en": "Toy Story", "zh-hant": "玩具總動員", "zh-cn": "玩具总动员"},
                  "aliases": {"zh": ["反斗奇兵"]}, "P57": ["Q134077"], "P161": ["Q2263", "Q208649", "Q312705"],
                  "enwiki": "Toy Story"},
    "tt0113497": {"id": "Q243439", "labels": {"en": "Jumanji"}, "aliases": {}, "P57": ["Q95008"],
                  "P161": [], "enwiki": "Jumanji"},
    "tt0119094": {"id": "Q379873", "labels": {"mul": "Face/Off"}, "aliases": {}, "P57": ["Q45249", "-Q1"],
                  "P161": ["Q80938", "Q42869"], "enwiki": "Face/Off"},
}
WD_PEOPLE = {"Q134077": "John Lasseter", "Q2263": "Tom Hanks", "Q208649": "Tim Allen", "Q312705": "Don Rickles",
             "Q95008": "Joe Johnston", "Q45249": "John Woo", "Q80938": "John Travolta"}
WD_PEOPLE_MUL = {"Q42869": "Nicolas Cage"}     # only a "mul" label, as many people have now
WIKI_SUMMARIES = {"Toy Story": "Toy Story is a 1995 American animated comedy film.",
                  "Jumanji": "Jumanji is a 1995 American fantasy adventure film.",
                  "Face/Off": "Face/Off is a 1997 American science fiction action thriller film."}


@dataclass
class Call:
    """One request as the server saw it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: str                     #: the request target exactly as sent (path and query)


@dataclass
class Answer:
    status: int = 200
    body: Any = None             #: dict/list → JSON, str/bytes as they are
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Trickle:
    """A 200 that promises ``size`` bytes and sends one every ``interval`` seconds."""

    size: int = 1000
    interval: float = 0.05
    headers: bool = False        #: trickle a header line instead of the body


Override = Callable[[Call], "Answer | Trickle | None"]


class FakeWeb:
    """``http://127.0.0.1:<port>`` playing TMDB, the Wikidata query service, Wikidata and Wikipedia."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.override: Override | None = None
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                call = Call(urllib.parse.unquote(parts.path), dict(urllib.parse.parse_qsl(parts.query)),
                            {k.lower(): v for k, v in self.headers.items()}, self.path)
                web.calls.append(call)
                answer = (web.override(call) if web.override else None) or web.answer(call)
                try:
                    if isinstance(answer, Trickle) and answer.headers:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                        for _ in range(answer.size):
                            self.wfile.write(b"z")
                            self.wfile.flush()
                            time.sleep(answer.interval)
                        return
                    if isinstance(answer, Trickle):
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(answer.size))
                        self.end_headers()
                        for _ in range(answer.size):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(answer.interval)
                        return
                    body = answer.body
                    if isinstance(body, (dict, list)):
                        data, kind = json.dumps(body).encode(), "application/json; charset=utf-8"
                    else:
                        data = body.encode() if isinstance(body, str) else (body or b"")
                        kind = "text/html; charset=utf-8"
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.headers.get("Content-Type", kind))
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in answer.headers.items():
                        if name != "Content-Type":
                            self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-web", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self, prefix: str = "") -> list[str]:
        """Paths of the calls so far that start with ``prefix``."""
        return [c.path for c in self.calls if c.path.startswith(prefix)]

    # ------------------------------------------------------------------ the tables

    def answer(self, call: Call) -> Answer:
        if call.path.startswith("/3/movie/"):
            return self._tmdb(call)
        if call.path == "/sparql":
            return self._sparql(call)
        if call.path == "/w/api.php":
            return self._wbgetentities(call)
        if call.path.startswith("/api/rest_v1/page/summary/"):
            title = call.path.removeprefix("/api/rest_v1/page/summary/").replace("_", " ")
            if title in WIKI_SUMMARIES:
                return Answer(200, {"type": "standard", "title": title, "extract": WIKI_SUMMARIES[title]})
            return Answer(404, {"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found"})
        return Answer(404, "<html>not here</html>")

    def _tmdb(self, call: Call) -> Answer:
        auth = call.headers.get("authorization", "")
        if call.query.get("api_key") != TMDB_KEY and auth != f"Bearer {TMDB_TOKEN}":
            return Answer(401, {"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key.",
                                "success": False})
        movie = TMDB_MOVIES.get(call.path.removeprefix("/3/movie/"))
        if movie is None:
            return Answer(404, {"status_code": 34, "status_message": "The resource you requested could not be found.",
                                "success": False})
        return Answer(200, movie)

    def _sparql(self, call: Call) -> Answer:
        ids = re.findall(r'"(tt\d+)"', call.query.get("query", ""))
        rows = [{"item": {"type": "uri", "value": f"http://www.wikidata.org/entity/{WD_FILMS[i]['id']}"},
                 "imdb": {"type": "literal", "value": i}} for i in ids if i in WD_FILMS]
        return Answer(200, {"head": {"vars": ["item", "imdb"]}, "results": {"bindings": rows}},
                      {"Content-Type": "application/sparql-results+json"})

    def _wbgetentities(self, call: Call) -> Answer:
        if call.query.get("action") != "wbgetentities":
            return Answer(200, {"error": {"code": "badvalue", "info": "Unrecognized value for parameter action"}})
        films = {f["id"]: f for f in WD_FILMS.values()}
        entities: dict[str, Any] = {}
        for qid in call.query.get("ids", "").split("|"):
            if qid in films:
                film = films[qid]
                entities[qid] = {
                    "id": qid, "type": "item",
                    "labels": {lang: {"language": lang, "value": v} for lang, v in film["labels"].items()},
                    "aliases": {lang: [{"language": lang, "value": v} for v in vs] for lang, vs in film["aliases"].items()},
                    "claims": {prop: [_statement(prop, q) for q in film[prop]] for prop in ("P57", "P161")},
                    "sitelinks": {"enwiki": {"site": "enwiki", "title": film["enwiki"], "badges": []}},
                }
            elif qid in WD_PEOPLE or qid in WD_PEOPLE_MUL:
                lang = "en" if qid in WD_PEOPLE else "mul"
                name = WD_PEOPLE.get(qid) or WD_PEOPLE_MUL[qid]
                entities[qid] = {"id": qid, "type": "item", "labels": {lang: {"language": lang, "value": name}}}
            else:
                entities[qid] = {"id": qid, "missing": ""}
        return Answer(200, {"entities": entities, "success": 1})


def _statement(prop: str, qid: str) -> dict[str, Any]:
    """A statement; ``-Q…`` is a deprecated one (which readers must skip)."""
    rank = "deprecated" if qid.startswith("-") else "normal"
    qid = qid.lstrip("-")
    return {"mainsnak": {"snaktype": "value", "property": prop, "datatype": "wikibase-item",
                         "datavalue": {"value": {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid},
                                       "type": "wikibase-entityid"}},
            "type": "statement", "rank": rank}


@contextmanager
def fake_web() -> Iterator[FakeWeb]:
    """A running :class:`FakeWeb` for the duration of the block."""
    web = FakeWeb()
    try:
        yield web
    finally:
        web.close()
