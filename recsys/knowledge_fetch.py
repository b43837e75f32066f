"""Fetch per-movie knowledge (overview, director, cast, keywords, popularity, Chinese title) online.

The pipeline reads one JSON object per movie with the schema of the shared
``ml-latest-small-metadata.jsonl`` (``movieId, title, imdbId, tmdbId, genres, overview,
director, cast, keywords, popularity, vote_count, title_zh`` plus ``<field>_src``, and
``poster_path``, ``wiki_href``, ``title_zh_aliases`` where a source has them; an empty field is
``None``). Offline the shared file stands in (``RECSYS_METADATA``); this module produces the
same records from two online sources.

Sources
-------
``"wikidata"`` — keyless, the default when online. Wikidata by IMDb id (``tt%07d``, property
P345; one SPARQL query per batch of 50 movies, then ``wbgetentities`` for the films and for
the people): ``director`` (P57), ``cast`` (P161, statement order, at most 15), ``title_zh``
(labels ``zh-cn`` > ``zh-hans`` > ``zh`` > ``zh-hant``; the other Chinese labels and aliases
in ``title_zh_aliases``) and the English Wikipedia page (``wiki_href``). Wikipedia's REST
summary of that page gives ``overview`` (its lead). ``_src``: ``"wikidata"`` / ``"wikipedia"``.
No keywords, popularity or vote counts.

``"tmdb"`` — with the user's TMDB key (``TMDB_API_KEY``: a v3 key is sent as the ``api_key``
query parameter, a v4 read-access token as ``Authorization: Bearer``). One call per movie by
``tmdbId`` (``append_to_response=keywords,credits,translations``): ``overview``,
``popularity``, ``vote_count``, ``poster_path``, ``keywords``, ``director`` (crew with job
Director), ``cast`` (by ``order``, at most 15) and ``title_zh`` (the zh-CN translation, else
zh-SG / zh-TW / zh-HK). ``_src``: ``"tmdb_api"``.

Licences — show :data:`ATTRIBUTIONS` wherever the data is used:

* TMDB: "This product uses the TMDB API but is not endorsed or certified by TMDB."
* Wikidata: CC0 1.0 (no attribution required; we credit it anyway).
* Wikipedia text (``overview_src == "wikipedia"``): CC BY-SA 4.0 — attribute Wikipedia and
  link the article (``https://en.wikipedia.org/wiki/<wiki_href>``).

Behaviour
---------
* Cache: ``<cache_dir>/knowledge-<source>.jsonl``, one record per movie, appended and flushed
  after every batch (50 movies for Wikidata, 1 for TMDB). A second run fetches only the
  movies not in the file; an interruption loses at most the batch in flight; a truncated last
  line (a crash mid-write) is cut off on resume. Movies a source does not know get a record
  with empty fields, so they are not asked for again.
* Every request has a whole-call deadline (connect, headers and body; a server trickling
  bytes is cut off), is retried with exponential backoff on 5xx, 429 (honouring
  ``Retry-After``), timeouts and dropped connections, and is paced (``min_interval``).
* Redirects are followed only within the same origin (scheme, host, port); a redirect to
  another site is refused, so a key is never sent there.
* Failures raise :class:`KnowledgeFetchError` with one line a user understands (bad key,
  repeated failures, a redirect elsewhere, an answer that is not JSON or has the wrong
  shape). The API key never appears in messages, logs (logger ``recsys.knowledge_fetch``),
  reprs or the cache file.

Environment: ``TMDB_API_KEY``; ``RECSYS_TMDB_BASE_URL`` (``https://api.themoviedb.org``),
``RECSYS_WIKIDATA_URL`` (``https://www.wikidata.org``), ``RECSYS_WIKIDATA_SPARQL_URL``
(``https://query.wikidata.org/sparql``), ``RECSYS_WIKIPEDIA_URL``
(``https://en.wikipedia.org``), ``RECSYS_FETCH_USER_AGENT`` (add your contact, as Wikimedia
asks).

Usage::

    from recsys.knowledge_fetch import Link, fetch_knowledge, read_knowledge, merge_knowledge
    links = [Link(1, "0114709", "862"), Link(2, "0113497", "8844")]     # or (movieId, imdbId, tmdbId)
    path = fetch_knowledge(links, "~/.cache/recsys/knowledge", source="auto")   # TMDB if a key is set
    records = read_knowledge(path)                                       # {movieId: record}
    wiki = read_knowledge(fetch_knowledge(links, "~/.cache/recsys/knowledge", source="wikidata"))
    merged = merge_knowledge(records.values(), wiki.values())            # TMDB first, Wikidata fills gaps
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import math
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol, get_args

from recsys import urls
from recsys.progress import Progress, report
from recsys.urls import safe_url

log = logging.getLogger(__name__)

TMDB_ATTRIBUTION = "This product uses the TMDB API but is not endorsed or certified by TMDB."
WIKIDATA_ATTRIBUTION = "Film data from Wikidata (https://www.wikidata.org), CC0 1.0."
WIKIPEDIA_ATTRIBUTION = ("Plot summaries from Wikipedia (https://en.wikipedia.org), "
                         "CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/).")
#: ``_src`` value → the attribution to show for it.
ATTRIBUTIONS: dict[str, str] = {
    "tmdb_api": TMDB_ATTRIBUTION,
    "wikidata": WIKIDATA_ATTRIBUTION,
    "wikipedia": WIKIPEDIA_ATTRIBUTION,
}

DEFAULT_TMDB_URL = "https://api.themoviedb.org"
DEFAULT_WIKIDATA_URL = "https://www.wikidata.org"
DEFAULT_SPARQL_URL = "https://query.wikidata.org/sparql"
DEFAULT_WIKIPEDIA_URL = "https://en.wikipedia.org"
DEFAULT_USER_AGENT = ("FirstReel-recsys/0.1 (cold-start movie recommender, research demo; "
                      "set RECSYS_FETCH_USER_AGENT to add a contact) Python-http.client")

#: Fields a source fills, each with a ``<field>_src``.
SOURCED_FIELDS: tuple[str, ...] = ("overview", "director", "cast", "keywords", "popularity",
                                   "vote_count", "title_zh", "poster_path")
#: Fields merged without a ``_src``.
PLAIN_FIELDS: tuple[str, ...] = ("title", "imdbId", "tmdbId", "genres", "wiki_href", "title_zh_aliases")
CAST_LIMIT = 15
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_HOPS = 5

Source = Literal["auto", "wikidata", "tmdb"]
SOURCES: tuple[Source, ...] = get_args(Source)


class KnowledgeFetchError(RuntimeError):
    """Fetching failed; ``str(error)`` is one secret-free line meant for users."""


# --------------------------------------------------------------------------- inputs


class Link(NamedTuple):
    """One movie to fetch: MovieLens id, IMDb id, TMDB id (``links.csv``), optionally the
    catalogue's title and genres (copied into the record, as in the shared file)."""

    movie_id: int
    imdb_id: str | int | None
    tmdb_id: str | int | None
    title: str | None = None
    genres: str | None = None


def links_from_frames(links: Any, movies: Any = None) -> list[Link]:
    """:class:`Link` rows from ``RawData.links`` (``movie_id, imdb_id, tmdb_id``) and,
    if given, titles and genres from ``RawData.movies`` (``movie_id, title, genres``)."""
    names: dict[int, tuple[str, str]] = {}
    if movies is not None:
        for mid, title, genres in zip(movies["movie_id"], movies["title"], movies["genres"]):
            names[int(mid)] = (str(title), str(genres))
    out = []
    for mid, imdb, tmdb in zip(links["movie_id"], links["imdb_id"], links["tmdb_id"]):
        title, genres = names.get(int(mid), (None, None))
        out.append(Link(int(mid), imdb, tmdb, title, genres))
    return out


def _imdb7(value: Any) -> str | None:
    """``"0114709"`` from ``"0114709"``, ``114709``, ``"tt0114709"``; ``None`` if not an id."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower().removeprefix("tt")
    if text.endswith(".0"):
        text = text[:-2]
    return f"{int(text):07d}" if text.isdigit() and int(text) > 0 else None


def _tmdb_id(value: Any) -> str | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or number <= 0 or number != int(number):
        return None
    return str(int(number))


def _normalise(link: Link | Sequence[Any]) -> Link:
    item = Link(*link)
    return Link(int(item.movie_id), _imdb7(item.imdb_id), _tmdb_id(item.tmdb_id), item.title, item.genres)


def blank_record(link: Link | Sequence[Any]) -> dict[str, Any]:
    """The record of a movie no source knows anything about (every field empty)."""
    item = _normalise(link)
    record: dict[str, Any] = {"movieId": item.movie_id, "title": item.title, "imdbId": item.imdb_id,
                              "tmdbId": item.tmdb_id, "genres": item.genres}
    for name in SOURCED_FIELDS:
        record[name] = None
        record[f"{name}_src"] = None
    record["wiki_href"] = None
    record["title_zh_aliases"] = None
    return record


def _put(record: dict[str, Any], name: str, value: Any, src: str) -> None:
    if not _is_empty(value):
        record[name] = value
        record[f"{name}_src"] = src


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) == 0 if not isinstance(value, str) else not value.strip()
    return False


# --------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class HttpPolicy:
    """How every request behaves.

    ``deadline``: seconds for a whole call (connect, headers, body, same-origin redirects);
    ``retries``: extra attempts after a 5xx, 429, timeout or dropped connection;
    ``backoff``: the first wait between attempts, doubled each time; ``max_wait``: the
    longest ``Retry-After`` honoured (a longer one fails at once); ``min_interval``: least
    seconds between two requests to one service (``None``: the source's polite default);
    ``max_bytes``: the largest answer accepted; ``sleep``: how to wait (tests pass a recorder).
    """

    deadline: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 120.0
    min_interval: float | None = None
    max_bytes: int = 20_000_000
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)


class _Timeout(Exception):
    pass


class _ConnectionFailed(Exception):
    pass


def scrub(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` (and its URL-encoded forms) replaced by ``***``; nothing else
    changes (used on cache lines, where "bearer of bad news" must survive)."""
    if secret:
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, "***")
    return text


def redact(text: str, secret: str | None) -> str:
    """For messages and logs: :func:`scrub`, and any ``api_key=…`` value or bearer token
    replaced by ``***``."""
    text = scrub(text, secret)
    text = re.sub(r"(?i)(api_key=)[^&\s\"']+", r"\1***", text)
    return re.sub(r"(?i)bearer\s+[^\s\"']+", "Bearer ***", text)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


_SSL: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context, made on first use (loading CA certificates takes time)."""
    global _SSL
    if _SSL is None:
        _SSL = ssl.create_default_context()
    return _SSL


class _Http:
    """GET → JSON for one service, with deadline, retries, pacing and redaction."""

    def __init__(self, service: str, policy: HttpPolicy, *, default_interval: float,
                 user_agent: str | None = None, secret: str | None = None,
                 headers: Mapping[str, str] | None = None,
                 secret_params: Mapping[str, str] | None = None,
                 redirect_origins: Iterable[str] = (),
                 kept: str = "movies fetched so far are kept") -> None:
        self.service = service
        self.policy = policy
        self.min_interval = default_interval if policy.min_interval is None else policy.min_interval
        self._secret = secret
        self._secret_params = dict(secret_params or {})
        #: origins (``scheme://host:port``) besides the request's own that a redirect may lead
        #: to (a download host the site hands files to); never used with a secret
        self._redirect_origins = frozenset(redirect_origins) if not secret else frozenset()
        self._kept = kept
        self._headers = {"User-Agent": user_agent or os.environ.get("RECSYS_FETCH_USER_AGENT")
                         or DEFAULT_USER_AGENT, "Accept": "application/json",
                         "Accept-Encoding": "identity", **(headers or {})}
        self._last = 0.0

    def __repr__(self) -> str:
        return f"_Http({self.service!r}, key={'***' if self._secret else None})"

    def redact(self, text: str) -> str:
        return redact(text, self._secret)

    def error(self, message: str) -> KnowledgeFetchError:
        return KnowledgeFetchError(self.redact(_one_line(message)))

    def get_json(self, url: str, params: Mapping[str, str] | None = None, *, what: str,
                 allow_404: bool | Callable[[Any], bool] = False, accept: str | None = None) -> Any:
        """The decoded JSON answer; ``None`` for a 404 when ``allow_404`` (or when it is a
        predicate and says yes to the 404's decoded body: "this movie is unknown")."""
        answer = self._request(url, params, what=what, allow_404=allow_404, accept=accept)
        return None if answer is None else self._decode(answer[0], answer[1], what)

    def get_bytes(self, url: str, params: Mapping[str, str] | None = None, *, what: str,
                  accept: str | None = None,
                  progress: Callable[[int, int | None], None] | None = None) -> bytes:
        """The raw body of a 200 answer, under the same deadline, retries, redirect rule and
        ``max_bytes`` as :meth:`get_json`; ``progress(bytes_so_far, content_length_or_None)``
        is called after every chunk read."""
        answer = self._request(url, params, what=what, allow_404=False, accept=accept,
                               progress=progress)
        assert answer is not None      # only an allowed 404 gives None
        return answer[0]

    def _request(self, url: str, params: Mapping[str, str] | None, *, what: str,
                 allow_404: bool | Callable[[Any], bool], accept: str | None,
                 progress: Callable[[int, int | None], None] | None = None
                 ) -> tuple[bytes, dict[str, str]] | None:
        """``(body, headers)`` of a 200 answer, ``None`` for an allowed 404; raises otherwise."""
        full = url + ("?" + urllib.parse.urlencode(params) if params else "")
        policy = self.policy
        attempts = max(1, policy.retries + 1)
        reason = ""
        for attempt in range(attempts):
            self._pace()
            wait = policy.backoff * (2 ** attempt)
            try:
                status, headers, body = self._get(full, accept, progress)
            except _Timeout:
                reason = f"no complete answer within {policy.deadline:g} s"
            except _ConnectionFailed as exc:
                reason = str(exc)
            else:
                if status == 200:
                    return body, headers
                if status == 404 and allow_404:
                    if allow_404 is True or allow_404(self._decode(body, headers, what, quiet=True)):
                        return None
                if status == 401:
                    if self._secret:
                        raise self.error(f"{self.service} rejected the API key (HTTP 401): check "
                                         "TMDB_API_KEY (a v3 API key or a v4 read access token)")
                    raise self.error(f"{self.service} refused the request (HTTP 401) for {what}")
                if status == 429:
                    hinted = _retry_after(headers.get("retry-after"))
                    if hinted is not None:
                        if hinted > policy.max_wait:
                            raise self.error(f"{self.service} is rate limiting us for {hinted:.0f} s; "
                                             f"try again later ({self._kept})")
                        wait = hinted
                    reason = "HTTP 429 (too many requests)"
                elif status >= 500:
                    reason = f"HTTP {status}"
                else:
                    hint = {403: "" if self._secret else " (set RECSYS_FETCH_USER_AGENT?)",
                            404: " (is the base URL right?)"}.get(status, "")
                    raise self.error(f"{self.service} answered HTTP {status} for {what}{hint}")
            if attempt + 1 < attempts:
                log.warning("%s", self.redact(f"{self.service}: {reason} for {what}; "
                                              f"retry {attempt + 1} of {attempts - 1} in {wait:.2f} s"))
                policy.sleep(wait)
        times = "once" if attempts == 1 else f"{attempts} times"
        raise self.error(f"{self.service} failed {times} for {what} (last: {reason}); "
                         f"try again later ({self._kept})")

    def _pace(self) -> None:
        if self.min_interval > 0:
            gap = self._last + self.min_interval - time.monotonic()
            if gap > 0:
                self.policy.sleep(gap)
        self._last = time.monotonic()

    def _decode(self, body: bytes, headers: Mapping[str, str], what: str, quiet: bool = False) -> Any:
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            if quiet:
                return None
            kind = headers.get("content-type", "no content type").split(";")[0]
            raise self.error(f"{self.service} sent an answer that is not JSON ({kind}) for {what}") from None

    def _with_secret(self, url: str) -> str:
        if not self._secret_params:
            return url
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        present = {k for k, _ in query}
        query += [(k, v) for k, v in self._secret_params.items() if k not in present]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def _get(self, url: str, accept: str | None,
             progress: Callable[[int, int | None], None] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One call (with same-origin redirects) under one deadline."""
        deadline_at = time.monotonic() + self.policy.deadline
        origin = urls.origin(url)
        current = url
        for _ in range(_MAX_HOPS + 1):
            log.debug("%s", self.redact(f"{self.service}: GET {safe_url(current)}"))
            status, headers, body = self._get_once(self._with_secret(current), deadline_at, accept,
                                                   progress)
            location = headers.get("location")
            if status not in _REDIRECTS or not location:
                return status, headers, body
            target = urllib.parse.urljoin(current, location)
            if urls.origin(target) != origin and urls.origin(target) not in self._redirect_origins:
                tail = "; the API key was not sent there" if self._secret else ""
                raise self.error(f"{self.service} redirected to another site ({safe_url(target)}); "
                                 f"not following it{tail}")
            current = target
        raise self.error(f"{self.service} redirected more than {_MAX_HOPS} times")

    def _get_once(self, url: str, deadline_at: float, accept: str | None,
                  progress: Callable[[int, int | None], None] | None = None
                  ) -> tuple[int, dict[str, str], bytes]:
        parts = urllib.parse.urlsplit(url)
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise _Timeout
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=remaining,
                                               context=_ssl_context())
        elif parts.scheme == "http":
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=remaining)
        else:
            raise self.error(f"{self.service}: unsupported URL {safe_url(url)} (http or https only)")
        expired = threading.Event()

        def _expire() -> None:
            # The watchdog: a trickling server cannot stretch the call past the deadline.
            expired.set()
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(remaining, _expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            headers = dict(self._headers)
            if accept:
                headers["Accept"] = accept
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            chunks: list[bytes] = []
            size = 0
            length = response.getheader("content-length")
            total = int(length) if length and length.strip().isdigit() else None
            while True:
                chunk = response.read1(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.policy.max_bytes:
                    raise self.error(f"{self.service} sent more than {self.policy.max_bytes:,} bytes "
                                     f"for {safe_url(url)}")
                chunks.append(chunk)
                if time.monotonic() > deadline_at:
                    raise _Timeout
                if progress is not None and response.status == 200:
                    progress(size, total)
            if expired.is_set():
                raise _Timeout
            answer = {k.lower(): v for k, v in response.getheaders()}
            return response.status, answer, b"".join(chunks)
        except (KnowledgeFetchError, _Timeout):
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if expired.is_set() or isinstance(exc, (TimeoutError, socket.timeout)):
                raise _Timeout from None
            detail = getattr(exc, "reason", None) or exc.__class__.__name__
            raise _ConnectionFailed(self.redact(_one_line(
                f"cannot reach {safe_url(url)} ({detail})"))) from None
        finally:
            watchdog.cancel()
            conn.close()


# --------------------------------------------------------------------------- sources


class KnowledgeSource(Protocol):
    """One online source: records for a batch of links, in the same order."""

    name: str
    batch_size: int

    def fetch_batch(self, links: Sequence[Link]) -> list[dict[str, Any]]:
        """One record per link (empty fields where the source knows nothing)."""
        ...

    def redact(self, text: str) -> str:
        """``text`` without this source's secret (applied to every cache line)."""
        ...


def _base(url: str | None, env: str, default: str) -> str:
    return (url or os.environ.get(env) or default).rstrip("/")


def _is_bearer(key: str) -> bool:
    """A v4 read-access token (a JWT) rather than a 32-character v3 API key."""
    return key.startswith("eyJ") or "." in key or len(key) > 40


class TMDBSource:
    """TMDB by ``tmdbId`` with the user's key: one call per movie."""

    name = "tmdb"
    batch_size = 1

    def __init__(self, api_key: str, *, base_url: str | None = None, policy: HttpPolicy | None = None,
                 user_agent: str | None = None, language: str = "en-US") -> None:
        key = (api_key or "").strip()
        if not key:
            raise KnowledgeFetchError("TMDB needs an API key: set TMDB_API_KEY (free at themoviedb.org)")
        if not re.fullmatch(r"[A-Za-z0-9._\-]+", key):
            raise KnowledgeFetchError("TMDB_API_KEY looks malformed (it should be letters, digits, "
                                      "dots, '-' or '_' only)")
        self.base_url = _base(base_url, "RECSYS_TMDB_BASE_URL", DEFAULT_TMDB_URL)
        self.language = language
        bearer = _is_bearer(key)
        self._key = key
        self._http = _Http("TMDB", policy or HttpPolicy(), default_interval=0.025, user_agent=user_agent,
                           secret=key,
                           headers={"Authorization": f"Bearer {key}"} if bearer else None,
                           secret_params=None if bearer else {"api_key": key})

    def __repr__(self) -> str:
        return f"TMDBSource(base_url={self.base_url!r}, api_key='***')"

    def redact(self, text: str) -> str:
        """``text`` without the key (only the key's own spellings are replaced)."""
        return scrub(text, self._key)

    def fetch_batch(self, links: Sequence[Link]) -> list[dict[str, Any]]:
        """One record per link; movies without a ``tmdbId`` or unknown to TMDB stay empty."""
        return [self.fetch_one(link) for link in links]

    def fetch_one(self, link: Link | Sequence[Any]) -> dict[str, Any]:
        """The record of one movie (raises :class:`KnowledgeFetchError`)."""
        item = _normalise(link)
        record = blank_record(item)
        if item.tmdb_id is None:
            return record
        what = f"movie {item.tmdb_id}"
        data = self._http.get_json(f"{self.base_url}/3/movie/{item.tmdb_id}",
                                   {"append_to_response": "keywords,credits,translations",
                                    "language": self.language}, what=what, allow_404=_tmdb_unknown)
        if data is None:
            return record
        if not isinstance(data, dict) or "id" not in data:
            raise self._http.error(f"TMDB sent an answer of the wrong shape for {what}")
        try:
            _tmdb_fill(record, data)
        except (TypeError, ValueError, AttributeError, KeyError):
            raise self._http.error(f"TMDB sent an answer of the wrong shape for {what}") from None
        return record


def _tmdb_unknown(body: Any) -> bool:
    """A TMDB 404 that means "no such movie" (status_code 34), not a wrong base URL."""
    return isinstance(body, dict) and body.get("status_code") == 34


def _strings(values: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for value in values:
        text = str(value).strip() if isinstance(value, str) else ""
        if text and text not in out:
            out.append(text)
    return out


def _dicts(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return [v for v in value if isinstance(v, dict)]


def _tmdb_fill(record: dict[str, Any], data: dict[str, Any]) -> None:
    src = "tmdb_api"
    if not record["title"] and isinstance(data.get("title"), str):
        record["title"] = data["title"]
    overview = data.get("overview")
    _put(record, "overview", overview.strip() if isinstance(overview, str) else None, src)
    for name in ("popularity", "vote_count"):
        value = data.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            _put(record, name, float(value) if name == "popularity" else int(value), src)
    poster = data.get("poster_path")
    _put(record, "poster_path", poster if isinstance(poster, str) else None, src)
    keywords = data.get("keywords") or {}
    _put(record, "keywords", _strings(k.get("name") for k in _dicts(keywords.get("keywords"))), src)
    credits = data.get("credits") or {}
    crew = _dicts(credits.get("crew"))
    _put(record, "director", _strings(c.get("name") for c in crew if c.get("job") == "Director"), src)
    cast = sorted(_dicts(credits.get("cast")),
                  key=lambda c: c["order"] if isinstance(c.get("order"), int) else 10 ** 6)
    _put(record, "cast", _strings(c.get("name") for c in cast)[:CAST_LIMIT], src)
    translations = _dicts((data.get("translations") or {}).get("translations"))
    by_region: dict[str, str] = {}
    for t in translations:
        title = (t.get("data") or {}).get("title")
        if t.get("iso_639_1") == "zh" and isinstance(title, str) and title.strip():
            by_region.setdefault(str(t.get("iso_3166_1") or ""), title.strip())
    ordered = [by_region[r] for r in ("CN", "SG", "TW", "HK") if r in by_region]
    ordered += [v for r, v in by_region.items() if r not in ("CN", "SG", "TW", "HK")]
    if data.get("original_language") in ("zh", "cn") and isinstance(data.get("original_title"), str):
        ordered.append(data["original_title"])
    names = _strings(ordered)
    _put(record, "title_zh", names[0] if names else None, src)
    record["title_zh_aliases"] = names[1:] or None


_ZH_ORDER = ("zh-cn", "zh-hans", "zh", "zh-hant")
_QID = re.compile(r"(Q[1-9][0-9]*)$")


class WikidataSource:
    """Wikidata (by IMDb id) and the English Wikipedia summary: keyless."""

    name = "wikidata"
    batch_size = 50

    def __init__(self, *, wikidata_url: str | None = None, sparql_url: str | None = None,
                 wikipedia_url: str | None = None, policy: HttpPolicy | None = None,
                 user_agent: str | None = None, overviews: bool = True) -> None:
        policy = policy or HttpPolicy()
        self.wikidata_url = _base(wikidata_url, "RECSYS_WIKIDATA_URL", DEFAULT_WIKIDATA_URL)
        self.sparql_url = _base(sparql_url, "RECSYS_WIKIDATA_SPARQL_URL", DEFAULT_SPARQL_URL)
        self.wikipedia_url = _base(wikipedia_url, "RECSYS_WIKIPEDIA_URL", DEFAULT_WIKIPEDIA_URL)
        self.overviews = overviews
        self._sparql = _Http("Wikidata query service", policy, default_interval=0.5, user_agent=user_agent)
        self._wikidata = _Http("Wikidata", policy, default_interval=0.1, user_agent=user_agent)
        self._wikipedia = _Http("Wikipedia", policy, default_interval=0.05, user_agent=user_agent)

    def __repr__(self) -> str:
        return f"WikidataSource(wikidata_url={self.wikidata_url!r}, wikipedia_url={self.wikipedia_url!r})"

    def redact(self, text: str) -> str:
        """``text`` (there is no secret)."""
        return text

    def fetch_batch(self, links: Sequence[Link]) -> list[dict[str, Any]]:
        """One record per link: SPARQL for the items, ``wbgetentities`` for films and people,
        then one Wikipedia summary per film with an English article."""
        items = [_normalise(link) for link in links]
        records = [blank_record(item) for item in items]
        imdb_ids = sorted({f"tt{item.imdb_id}" for item in items if item.imdb_id})
        if not imdb_ids:
            return records
        qids = self._items_by_imdb(imdb_ids)
        films = self._entities(sorted(set(qids.values()), key=_qnum),
                               "labels|aliases|claims|sitelinks",
                               "en|mul|" + "|".join(_ZH_ORDER), "films")
        people_ids: set[str] = set()
        for entity in films.values():
            for prop in ("P57", "P161"):
                people_ids.update(_claim_items(entity, prop)[:CAST_LIMIT if prop == "P161" else None])
        people = self._entities(sorted(people_ids, key=_qnum), "labels", "en|mul", "people")
        names = {qid: label for qid, entity in people.items()
                 if (label := _label(entity, ("en", "mul")))}
        for item, record in zip(items, records):
            qid = qids.get(f"tt{item.imdb_id}") if item.imdb_id else None
            film = films.get(qid) if qid else None
            if film:
                try:
                    self._fill(record, film, names)
                except (TypeError, AttributeError, KeyError):
                    raise self._wikidata.error(f"Wikidata sent an entity of the wrong shape ({qid})") from None
        if self.overviews:
            for record in records:
                if record["wiki_href"]:
                    _put(record, "overview", self._summary(record["wiki_href"]), "wikipedia")
        return records

    def _items_by_imdb(self, imdb_ids: list[str]) -> dict[str, str]:
        values = " ".join(f'"{i}"' for i in imdb_ids)
        query = f"SELECT ?item ?imdb WHERE {{ VALUES ?imdb {{ {values} }} ?item wdt:P345 ?imdb . }}"
        what = f"{len(imdb_ids)} IMDb ids"
        data = self._sparql.get_json(self.sparql_url, {"query": query, "format": "json"}, what=what,
                                     accept="application/sparql-results+json")
        try:
            bindings = data["results"]["bindings"]
            if not isinstance(bindings, list):
                raise TypeError
            found: dict[str, str] = {}
            for row in bindings:
                imdb = row["imdb"]["value"]
                match = _QID.search(row["item"]["value"])
                if match and imdb in imdb_ids:
                    qid = match.group(1)
                    if imdb not in found or _qnum(qid) < _qnum(found[imdb]):
                        found[imdb] = qid
        except (TypeError, KeyError, AttributeError):
            raise self._sparql.error(f"the Wikidata query service sent an answer of the wrong shape "
                                     f"for {what}") from None
        return found

    def _entities(self, ids: list[str], props: str, languages: str, what: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 50):
            chunk = ids[start:start + 50]
            params = {"action": "wbgetentities", "ids": "|".join(chunk), "props": props,
                      "languages": languages, "format": "json", "formatversion": "2"}
            if "sitelinks" in props:
                params["sitefilter"] = "enwiki"
            label = f"{len(chunk)} {what} ({chunk[0]}…)"
            data = self._wikidata.get_json(f"{self.wikidata_url}/w/api.php", params, what=label)
            if isinstance(data, dict) and isinstance(data.get("error"), dict):
                info = data["error"].get("info") or data["error"].get("code") or "unknown error"
                raise self._wikidata.error(f"Wikidata refused the request for {label}: {info}")
            entities = data.get("entities") if isinstance(data, dict) else None
            if not isinstance(entities, dict):
                raise self._wikidata.error(f"Wikidata sent an answer of the wrong shape for {label}")
            for qid, entity in entities.items():
                if isinstance(entity, dict) and "missing" not in entity:
                    out[qid] = entity
        return out

    def _fill(self, record: dict[str, Any], entity: dict[str, Any], names: Mapping[str, str]) -> None:
        src = "wikidata"
        if not record["title"]:
            record["title"] = _label(entity, ("en", "mul"))
        _put(record, "director", _strings(names.get(q) for q in _claim_items(entity, "P57")), src)
        _put(record, "cast", _strings(names.get(q) for q in _claim_items(entity, "P161"))[:CAST_LIMIT], src)
        labels = entity.get("labels") or {}
        aliases = entity.get("aliases") or {}
        zh = [(labels.get(lang) or {}).get("value") for lang in _ZH_ORDER]
        for lang in _ZH_ORDER:
            zh += [a.get("value") for a in (aliases.get(lang) or []) if isinstance(a, dict)]
        titles = _strings(zh)
        _put(record, "title_zh", titles[0] if titles else None, src)
        record["title_zh_aliases"] = titles[1:] or None
        page = ((entity.get("sitelinks") or {}).get("enwiki") or {}).get("title")
        if isinstance(page, str) and page.strip():
            record["wiki_href"] = page.strip().replace(" ", "_")

    def _summary(self, href: str) -> str | None:
        url = f"{self.wikipedia_url}/api/rest_v1/page/summary/{urllib.parse.quote(href, safe='')}"
        data = self._wikipedia.get_json(url, what=f"the page {href}", allow_404=True)
        if data is None:
            return None
        if not isinstance(data, dict):
            raise self._wikipedia.error(f"Wikipedia sent an answer of the wrong shape for the page {href}")
        if data.get("type") == "disambiguation" or not isinstance(data.get("extract"), str):
            return None
        return data["extract"].strip() or None


def _qnum(qid: str) -> int:
    return int(qid[1:]) if qid[1:].isdigit() else 1 << 62


def _label(entity: Mapping[str, Any], languages: Sequence[str]) -> str | None:
    labels = entity.get("labels") or {}
    for lang in languages:
        value = (labels.get(lang) or {}).get("value")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _claim_items(entity: Mapping[str, Any], prop: str) -> list[str]:
    """Item ids of ``prop``'s statements, in statement order, without deprecated ones."""
    out: list[str] = []
    for statement in (entity.get("claims") or {}).get(prop) or []:
        if not isinstance(statement, dict) or statement.get("rank") == "deprecated":
            continue
        snak = statement.get("mainsnak") or {}
        if snak.get("snaktype") != "value":
            continue
        value = (snak.get("datavalue") or {}).get("value") or {}
        qid = value.get("id") if isinstance(value, dict) else None
        if qid is None and isinstance(value, dict) and isinstance(value.get("numeric-id"), int):
            qid = f"Q{value['numeric-id']}"
        if isinstance(qid, str) and _QID.fullmatch(qid) and qid not in out:
            out.append(qid)
    return out


# --------------------------------------------------------------------------- cache


def cache_path(cache_dir: str | os.PathLike[str], source: str) -> Path:
    """``<cache_dir>/knowledge-<source>.jsonl`` (``source``: ``"wikidata"`` or ``"tmdb"``)."""
    return Path(cache_dir).expanduser() / f"knowledge-{source}.jsonl"


def _repair(path: Path) -> None:
    """Cut a truncated last line (a crash mid-write) off the cache file."""
    if not path.exists():
        return
    with path.open("rb+") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        data = path.read_bytes()
        keep = data.rfind(b"\n") + 1
        log.warning("knowledge cache %s: dropping a truncated last line (%d bytes)", path, size - keep)
        handle.truncate(keep)


def read_knowledge(path: str | os.PathLike[str]) -> dict[int, dict[str, Any]]:
    """``{movieId: record}`` from a knowledge JSONL file (the shared metadata file or a
    cache this module wrote). Unreadable lines (e.g. a truncated last one) are skipped; when a
    movie appears twice the later record wins. A missing file gives ``{}``."""
    out: dict[int, dict[str, Any]] = {}
    try:
        handle = Path(path).expanduser().open("r", encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return out
    with handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                out[int(record["movieId"])] = record
            except (ValueError, TypeError, KeyError):
                continue
    return out


# --------------------------------------------------------------------------- entry points


def choose_source(source: Source = "auto", api_key: str | None = None) -> Literal["wikidata", "tmdb"]:
    """``"tmdb"`` when asked for, or for ``"auto"`` when a key is given or ``TMDB_API_KEY``
    is set; otherwise ``"wikidata"``."""
    if source not in ("auto", "wikidata", "tmdb"):
        raise KnowledgeFetchError(f"unknown knowledge source {source!r} (auto, wikidata or tmdb)")
    if source == "auto":
        return "tmdb" if (api_key or os.environ.get("TMDB_API_KEY") or "").strip() else "wikidata"
    return source


def fetch_knowledge(links: Iterable[Link | Sequence[Any]], cache_dir: str | os.PathLike[str], *,
                    source: Source = "auto", api_key: str | None = None, progress: Progress | None = None,
                    limit: int | None = None, policy: HttpPolicy | None = None) -> Path:
    """Fetch knowledge for ``links`` into ``<cache_dir>/knowledge-<source>.jsonl`` and return it.

    ``links``: ``(movieId, imdbId, tmdbId[, title, genres])`` rows (:class:`Link`); ids as in
    ``links.csv`` (strings or numbers; missing ones may be ``None``/NaN); duplicates are
    fetched once. ``source``: ``"tmdb"``, ``"wikidata"`` or ``"auto"`` (TMDB when ``api_key``
    or ``TMDB_API_KEY`` is set). ``limit``: only the first ``limit`` links. Movies already in
    the file are skipped, so an interrupted run resumes; each batch is appended and flushed as
    soon as it is fetched. ``progress(fraction, message)`` is called after every batch.
    Raises :class:`KnowledgeFetchError` (one secret-free line); the records fetched before
    the failure stay in the file.
    """
    chosen = choose_source(source, api_key)
    fetcher: KnowledgeSource
    if chosen == "tmdb":
        key = (api_key or os.environ.get("TMDB_API_KEY") or "").strip()
        fetcher = TMDBSource(key, policy=policy)
    else:
        fetcher = WikidataSource(policy=policy)
    wanted: list[Link] = []
    seen: set[int] = set()
    for raw in links:
        try:
            item = _normalise(raw)
        except (TypeError, ValueError):
            raise KnowledgeFetchError(f"not a (movieId, imdbId, tmdbId) row: {str(raw)[:80]}") from None
        if item.movie_id not in seen:
            seen.add(item.movie_id)
            wanted.append(item)
    if limit is not None:
        wanted = wanted[:max(0, limit)]
    path = cache_path(cache_dir, chosen)
    path.parent.mkdir(parents=True, exist_ok=True)
    _repair(path)
    done = set(read_knowledge(path))
    todo = [item for item in wanted if item.movie_id not in done]
    total = len(wanted)
    fetched = total - len(todo)
    label = "TMDB" if chosen == "tmdb" else "Wikidata + Wikipedia"
    report(progress, fetched / total if total else 1.0, f"{label}: {fetched:,} / {total:,} movies")
    with path.open("a", encoding="utf-8") as out:
        for start in range(0, len(todo), fetcher.batch_size):
            batch = todo[start:start + fetcher.batch_size]
            records = fetcher.fetch_batch(batch)
            out.write("".join(fetcher.redact(json.dumps(r, ensure_ascii=False)) + "\n" for r in records))
            out.flush()
            fetched += len(batch)
            report(progress, fetched / total, f"{label}: {fetched:,} / {total:,} movies")
    log.info("knowledge: %d movies in %s", total, path)
    return path


def merge_records(primary: Mapping[str, Any] | None, secondary: Mapping[str, Any] | None) -> dict[str, Any]:
    """One record: ``primary``'s fields, each empty one (``None``, ``""``, ``[]``, NaN) filled
    from ``secondary`` field by field, with ``secondary``'s ``<field>_src`` for sourced fields.
    Neither input is modified; a missing input counts as all-empty."""
    out: dict[str, Any] = dict(primary or {})
    other = secondary or {}
    if "movieId" not in out and "movieId" in other:
        out["movieId"] = other["movieId"]
    for name in SOURCED_FIELDS:
        if _is_empty(out.get(name)) and not _is_empty(other.get(name)):
            out[name] = other[name]
            out[f"{name}_src"] = other.get(f"{name}_src")
        elif _is_empty(out.get(name)):
            out[name] = None
            out[f"{name}_src"] = None
    for name in PLAIN_FIELDS:
        if _is_empty(out.get(name)) and not _is_empty(other.get(name)):
            out[name] = other[name]
    return out


def merge_knowledge(primary: Iterable[Mapping[str, Any]],
                    secondary: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records joined by ``movieId`` and merged with :func:`merge_records` (``primary`` wins
    field by field); ``primary``'s order, then movies only ``secondary`` has."""
    second = {int(r["movieId"]): r for r in secondary}
    out: list[dict[str, Any]] = []
    used: set[int] = set()
    for record in primary:
        mid = int(record["movieId"])
        used.add(mid)
        out.append(merge_records(record, second.get(mid)))
    out += [merge_records(r, None) for mid, r in second.items() if mid not in used]
    return out


def reachable(source: Literal["wikidata", "tmdb"], timeout: float = 3.0) -> bool:
    """Whether ``source``'s host accepts a TCP connection within ``timeout`` seconds
    (:func:`url_reachable`)."""
    url = (_base(None, "RECSYS_TMDB_BASE_URL", DEFAULT_TMDB_URL) if source == "tmdb"
           else _base(None, "RECSYS_WIKIDATA_URL", DEFAULT_WIKIDATA_URL))
    return url_reachable(url, timeout)


def url_reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether the host of ``url`` accepts a TCP connection within ``timeout`` seconds (name
    lookup included: it runs in a daemon thread, so a hanging resolver cannot stall a start)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="recsys-reachable", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])
