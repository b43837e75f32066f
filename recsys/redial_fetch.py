"""Download ReDial's public release and turn its training dialogues into request records.

ReDial (Li, Kahou, Schulz, Michalski, Charlin, Pal. *Towards Deep Conversational
Recommendations*, NeurIPS 2018; CC BY 4.0, attribution required wherever it is used:
:data:`ATTRIBUTION`) is 11,348 crowd-sourced dialogues in which a *seeker* asks a
*recommender* for movies. The adapter (:mod:`recsys.adapter`) learns how real people ask from
the seeker's opening words and the movies they went on to like. This module gives a real user
the same training file CI reads from the shared folder (``redial_train.jsonl``).

Contract
--------
:func:`fetch_requests` ``(catalogue, cache_dir)`` → the path of a JSON-lines file of request
records for *that* catalogue, with the schema of the shared ``redial_train.jsonl`` (one object a
line; ids ``redial-train-<conversationId>``)::

    id, source ("redial_train"), conversation_id, request, mentioned_movie_ids,
    target_movie_ids, mentioned_titles, target_titles, mentioned_disliked_movie_ids,
    target_unseen_movie_ids, target_turn_delay, n_seeker_turns, request_has_movie_mention,
    n_request_mentions_unmapped, n_targets_unmapped, label_source

The release (default :data:`DEFAULT_URL`, or ``$RECSYS_REDIAL_URL``) is a zip with
``train_data.jsonl`` (10,006 dialogues), ``test_data.jsonl`` (1,342) and
``movies_with_mentions.csv`` (``movieId,movieName,nbMentions``); a top-level folder inside the zip
is fine. **Only the training split is ever read**: ReDial's test dialogues never reach the
adapter. A dialogue is ``{conversationId, initiatorWorkerId, respondentWorkerId, messages:
[{messageId, text, senderWorkerId, timeOffset}], movieMentions: {id: "Title (Year)"},
initiatorQuestions / respondentQuestions: {id: {suggested, seen, liked}}}``; the initiator is
the seeker, ``@<id>`` in a message names a movie, ``suggested`` is 1 for the recommender's
suggestions, ``seen`` / ``liked`` are 0 (no), 1 (yes) or 2 (did not say).

How a record is built (the rules of the shared file's README)
-------------------------------------------------------------
* Turns are runs of messages by one sender. The **request** is the seeker's first one to three
  turns before the recommender's first recommendation (a recommender turn naming a movie the
  forms mark as suggested, or one the seeker has not named); ``@id`` becomes "Title (Year)".
* **Targets** are movies the forms mark as suggested by the recommender and liked by the seeker
  (the seeker's own form answers; the recommender's when the seeker left none:
  ``label_source``), named after the request, in the order they come up; never one of the
  request's own movies. ``target_turn_delay``: seeker turns between the request and the
  target's first mention (0: named in the recommender's first reply).
* Titles are mapped to the catalogue by normalised title and year (:class:`TitleIndex`:
  accents, case and punctuation dropped, "&" = "and", MovieLens' trailing articles moved to the
  front, its alternative titles in parentheses accepted; the year must match, or be off by one
  when exactly one movie is; a title without a year must be unique; as a stricter fallback a
  leading article may be missing on one side when the year matches exactly). Two or more
  candidates leave the title unmapped.
* Dropped: dialogues without a seeker turn before the first recommendation, requests with
  neither a movie nor a preference cue (:func:`has_preference_cue`: "hi, how are you?"), and
  requests without a mapped target.

Behaviour
---------
* One download: the whole call has a deadline (:data:`DOWNLOAD_DEADLINE`), at most
  :data:`MAX_DOWNLOAD_BYTES` are accepted, redirects stay on the URL's origin (plus GitHub's
  file hosts for a ``github.com`` URL), with retries on 5xx and timeouts (the HTTP client of
  :mod:`recsys.knowledge_fetch`). The default URL's answer must have the SHA-256 of the release
  pinned in :data:`RELEASE_SHA256`.
* Every failure — offline, HTTP error, a trickling server, a truncated, damaged or non-zip
  answer, a zip without ``train_data.jsonl`` or of the wrong shape, a huge member — raises
  :class:`RedialFetchError` with one line a user understands, and leaves no file behind: the
  zip (``<cache>/redial/redial_dataset.zip``, kept so that another catalogue is mapped without a
  new download) and the records (``<cache>/redial-train-<key>.jsonl``, keyed by the catalogue's
  fingerprint and :data:`BUILD_VERSION`) are each written atomically
  (:func:`recsys.cachefile.atomic_write`) and only once they are known to be good.
* Idempotent: a finished records file is reused (``force=True`` downloads and maps again).
  Progress goes to ``progress(fraction, message)`` (:mod:`recsys.progress`).

The adapter trains on at most :data:`recsys.adapter.MAX_TRAIN_REQUESTS` (1,200) of these
records (a stable sample of the ~8,000 a full download should map to ml-latest-small, an
estimate from the shared file, which kept 82 % of its dialogues): the first
index build must stay within about five minutes on two cores, and 1,129 requests — the shared
file's size, the largest measured — train in about three. Beyond that size neither the training
time nor the gain was measured.

Usage::

    from recsys.redial_fetch import fetch_requests
    path = fetch_requests(catalogue, "~/.cache/recsys")      # or python -m recsys fetch-requests
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import urllib.parse
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recsys import lexicon, urls
from recsys.cachefile import atomic_write
from recsys.progress import Progress, report, scaled
from recsys.titles import normalize_title, parse_movielens_title

if TYPE_CHECKING:
    from recsys.catalogue import Catalogue
    from recsys.knowledge_fetch import HttpPolicy

log = logging.getLogger(__name__)

#: Where ReDial's authors publish the release (GitHub hands the file to one of
#: :data:`GITHUB_FILE_ORIGINS`).
DEFAULT_URL = "https://github.com/ReDialData/website/raw/data/redial_dataset.zip"
#: Overrides :data:`DEFAULT_URL` (a mirror, or a local server in tests).
URL_ENV = "RECSYS_REDIAL_URL"
#: SHA-256 of the release at :data:`DEFAULT_URL` (the checksum ParlAI's ReDial task pins for the
#: same URL); a download from the default URL must match it. A URL of your own is not checked.
RELEASE_SHA256 = "b48756681ec6f84e0af36979c5e9baa21ea8d9e7036b8764ea9b787bb0baf69b"
#: Hosts github.com redirects a ``/raw/`` download to (plain files, Git LFS, release assets).
GITHUB_FILE_ORIGINS: tuple[str, ...] = tuple(urls.origin(f"https://{host}/") for host in (
    "raw.githubusercontent.com", "media.githubusercontent.com", "objects.githubusercontent.com"))
#: Whole-call deadline of the download, seconds (the zip is about 5.8 MB).
DOWNLOAD_DEADLINE = 300.0
#: The largest answer accepted (the release is about 5.8 MB).
MAX_DOWNLOAD_BYTES = 64_000_000
#: The largest uncompressed member read from the zip (``train_data.jsonl`` is about 13.5 MB).
MAX_MEMBER_BYTES = 256_000_000
TRAIN_MEMBER = "train_data.jsonl"
MOVIES_MEMBER = "movies_with_mentions.csv"
#: Part of the records file's key: a new version re-maps every cached download.
BUILD_VERSION = "redial-train/v1"
#: The seeker's first turns that make up a request, at most.
MAX_REQUEST_TURNS = 3
ATTRIBUTION = ("ReDial — Raymond Li, Samira Ebrahimi Kahou, Hannes Schulz, Vincent Michalski, "
               "Laurent Charlin, Chris Pal. Towards Deep Conversational Recommendations. NeurIPS 2018. "
               "CC BY 4.0 (https://redialdata.github.io/website/).")
#: Records of a dialogue that does not parse are skipped; more than this share of them fails.
_MAX_BAD_SHARE = 0.01

_MENTION = re.compile(r"@(\d+)")


class RedialFetchError(RuntimeError):
    """Downloading or reading ReDial failed; ``str(error)`` is one line meant for users."""


# --------------------------------------------------------------------------- paths


def archive_path(cache_dir: str | os.PathLike[str]) -> Path:
    """``<cache_dir>/redial/redial_dataset.zip``: the verified download."""
    return Path(cache_dir).expanduser() / "redial" / "redial_dataset.zip"


def requests_path(cache_dir: str | os.PathLike[str], catalogue: Catalogue) -> Path:
    """``<cache_dir>/redial-train-<key>.jsonl``: the records mapped to ``catalogue`` (the key
    is its content fingerprint and :data:`BUILD_VERSION`, so another catalogue re-maps)."""
    key = hashlib.sha1(json.dumps([catalogue.fingerprint, BUILD_VERSION]).encode()).hexdigest()[:16]
    return Path(cache_dir).expanduser() / f"redial-train-{key}.jsonl"


def release_url() -> str:
    """``$RECSYS_REDIAL_URL``, else :data:`DEFAULT_URL`."""
    return os.environ.get(URL_ENV, "").strip() or DEFAULT_URL


# --------------------------------------------------------------------------- preference cues

def _words(patterns: Iterable[str]) -> str:
    return r"(?<![\w'-])(?:" + "|".join(patterns) + r")(?![\w-])"


#: Words that say something about what the seeker wants: genres and moods (the intent parser's
#: lists), eras, and the words people use to ask for, describe or rule out a kind of movie.
_CUE_WORDS: tuple[str, ...] = (
    *(pattern for pattern, _, _ in lexicon.GENRE_TERMS_EN),
    *(re.escape(term) for term in lexicon.MOOD_TERMS), *lexicon.DECADE_WORDS,
    r"(?:19|20)?\d0['’]?s", r"(?:18|19|20)\d\d",
    r"like[sd]?", r"lov(?:e[sd]?|ing)", r"enjoy(?:s|ed|ing)?", r"prefer(?:s|red|ably)?",
    r"want(?:s|ed|ing)?", r"wish(?:es|ing)?", r"hop(?:e|es|ed|ing)", r"need(?:s|ed)?", r"looking",
    r"look for", r"search(?:ing)?", r"seek(?:ing)?", r"interested", r"in the mood", r"into", r"fan",
    r"favou?rites?", r"fav", r"hate[sd]?", r"dislike[sd]?", r"recc?omm?end\w*", r"suggest\w*", r"seen",
    r"watch(?:ed|ing)?", r"new(?:er|est)?", r"recent(?:ly)?", r"latest", r"old(?:er)?",
    r"classics?", r"releases?", r"theat(?:er|re)s?", r"genres?", r"starring", r"based on",
    r"actors?", r"actress(?:es)?", r"directors?", r"directed", r"films?", r"movies?", r"flicks?",
    r"shows?", r"child", r"teens?",
)
_CUE = re.compile(_words(_CUE_WORDS), re.IGNORECASE)


def has_preference_cue(text: str) -> bool:
    """Whether ``text`` says anything about the movie wanted (a genre, mood, era, a person, a
    "looking for" or "I like"); greetings and small talk ("hi, how are you?") do not."""
    return _CUE.search(text) is not None


# --------------------------------------------------------------------------- titles


@dataclass(frozen=True)
class _Candidate:
    movie_id: int
    year: int       #: 0 when the catalogue gives none


class TitleIndex:
    """ReDial's "Title (Year)" → the catalogue's ``movieId`` (module docstring, "How a record
    is built"); ``None`` when no movie or more than one fits."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._exact: dict[str, set[_Candidate]] = {}
        self._bare: dict[str, set[_Candidate]] = {}
        self._looked_up: dict[str, int | None] = {}
        self.titles: dict[int, str] = {}
        for movie_id, raw, year in zip(catalogue.movie_ids.tolist(), catalogue.titles,
                                       catalogue.years.tolist()):
            candidate = _Candidate(int(movie_id), int(year or 0))
            self.titles[int(movie_id)] = str(raw)
            parsed = parse_movielens_title(str(raw))
            for name in (parsed.name, *parsed.aliases):
                key = normalize_title(name)
                if key:
                    self._exact.setdefault(key, set()).add(candidate)
                    self._bare.setdefault(_bare(key), set()).add(candidate)

    def lookup(self, name: str) -> int | None:
        """The ``movieId`` of ReDial's ``name`` (``"The Matrix (1999)"``), or ``None``."""
        if name not in self._looked_up:            # names repeat across dialogues
            self._looked_up[name] = self._lookup(name)
        return self._looked_up[name]

    def _lookup(self, name: str) -> int | None:
        parsed = parse_movielens_title(" ".join(str(name).split()))
        keys = [k for k in (normalize_title(n) for n in (parsed.name, *parsed.aliases)) if k]
        found: set[_Candidate] = set()
        for key in keys:
            found |= self._exact.get(key, set())
        if found:
            return _choose(found, parsed.year)
        if parsed.year is None:
            return None
        loose: set[_Candidate] = set()
        for key in keys:
            loose |= self._bare.get(_bare(key), set())
        return _choose({c for c in loose if c.year == parsed.year}, parsed.year)


def _bare(key: str) -> str:
    """``key`` without a leading English article ("the matrix" → "matrix")."""
    head, _, rest = key.partition(" ")
    return rest if head in ("the", "a", "an") and rest else key


def _choose(candidates: set[_Candidate], year: int | None) -> int | None:
    """The one movie that fits ``year`` (exact, else ±1), or ``None`` (none, or ambiguous)."""
    ids = {c.movie_id for c in candidates}
    if year is None:
        return next(iter(ids)) if len(ids) == 1 else None
    for tolerance in (0, 1):
        fitting = {c.movie_id for c in candidates if c.year and abs(c.year - year) <= tolerance}
        if len(fitting) == 1:
            return next(iter(fitting))
        if len(fitting) > 1:
            return None
    return None


# --------------------------------------------------------------------------- building


@dataclass
class BuildStats:
    """What happened to the dialogues (for logs and the CLI)."""

    dialogues: int = 0
    requests: int = 0
    language_only: int = 0
    no_request: int = 0       #: the recommender recommended before the seeker said anything
    no_cue: int = 0           #: neither a movie nor a preference cue in the request
    no_target: int = 0        #: no liked recommendation in the catalogue
    unreadable: int = 0       #: dialogues of the wrong shape (skipped)


@dataclass(frozen=True)
class _Turn:
    seeker: bool
    texts: tuple[str, ...]
    mentions: tuple[str, ...]      #: ``@id`` ids in order, repeats kept


def _as_dict(value: Any) -> dict[str, Any]:
    """ReDial writes an empty mapping as ``[]`` in some dialogues."""
    return value if isinstance(value, dict) else {}


def _label(entry: Any, name: str) -> int | None:
    try:
        return int(entry[name])
    except (KeyError, TypeError, ValueError):
        return None


def _turns(messages: Sequence[Mapping[str, Any]], seeker: Any) -> list[_Turn]:
    turns: list[_Turn] = []
    for message in messages:
        text = message.get("text")
        if not isinstance(text, str):
            continue
        is_seeker = str(message.get("senderWorkerId")) == str(seeker)
        mentions = tuple(_MENTION.findall(text))
        if turns and turns[-1].seeker == is_seeker:
            last = turns[-1]
            turns[-1] = _Turn(is_seeker, last.texts + (text,), last.mentions + mentions)
        else:
            turns.append(_Turn(is_seeker, (text,), mentions))
    return turns


def build_request(dialogue: Mapping[str, Any], titles: TitleIndex,
                  names: Mapping[str, str] | None = None) -> tuple[dict[str, Any] | None, str]:
    """One dialogue → ``(record, "")``, or ``(None, reason)`` with reason ``"no_request"``,
    ``"no_cue"`` or ``"no_target"`` (rules: module docstring). ``names`` (``movieId`` →
    "Title (Year)", from ``movies_with_mentions.csv``) fills in names a dialogue lacks.
    Raises ``KeyError`` / ``TypeError`` / ``ValueError`` for a dialogue of the wrong shape."""
    conversation = str(dialogue["conversationId"]).strip()
    if not conversation:
        raise ValueError("empty conversationId")
    messages = dialogue["messages"]
    if not isinstance(messages, list):
        raise TypeError("messages is not a list")
    mentioned_names = {str(k): v for k, v in _as_dict(dialogue.get("movieMentions")).items()}

    def name_of(movie: str) -> str | None:
        name = mentioned_names.get(movie) or (names or {}).get(movie)
        return " ".join(name.split()) if isinstance(name, str) and name.strip() else None

    labels = {str(k): v for k, v in _as_dict(dialogue.get("initiatorQuestions")).items()}
    label_source = "initiatorQuestions"
    if not labels:
        labels = {str(k): v for k, v in _as_dict(dialogue.get("respondentQuestions")).items()}
        label_source = "respondentQuestions"

    turns = _turns(messages, dialogue["initiatorWorkerId"])
    request: list[int] = []
    named: set[str] = set()
    for index, turn in enumerate(turns):
        if turn.seeker:
            if len(request) == MAX_REQUEST_TURNS:
                break
            request.append(index)
            named.update(turn.mentions)
        elif any(_recommends(movie, labels, named) for movie in turn.mentions if name_of(movie)):
            break
    if not request:
        return None, "no_request"
    end = request[-1]

    def replace(match: re.Match[str]) -> str:
        return name_of(match.group(1)) or match.group(0)

    text = " ".join(" ".join(_MENTION.sub(replace, t) for t in turns[i].texts) for i in request)
    text = " ".join(text.split())
    own = list(dict.fromkeys(m for i in request for m in turns[i].mentions if name_of(m)))
    if not own and not has_preference_cue(text):
        return None, "no_cue"

    mentioned: list[int] = []
    disliked: list[int] = []
    unmapped_own = 0
    for movie in own:
        movie_id = titles.lookup(name_of(movie) or "")
        if movie_id is None:
            unmapped_own += 1
            continue
        bucket = disliked if _label(labels.get(movie), "liked") == 0 else mentioned
        if movie_id not in mentioned and movie_id not in disliked:
            bucket.append(movie_id)

    first_seen: dict[str, int] = {}       # movie → index of the turn that first names it, after the request
    for index in range(end + 1, len(turns)):
        for movie in turns[index].mentions:
            first_seen.setdefault(movie, index)
    found: list[tuple[int, int, str]] = []
    for movie, entry in labels.items():
        if (_label(entry, "suggested") != 1 or _label(entry, "liked") != 1 or movie in own
                or movie not in first_seen or not name_of(movie)):
            continue
        order = turns[first_seen[movie]].mentions.index(movie)
        found.append((first_seen[movie], order, movie))
    targets: list[int] = []
    unseen: list[int] = []
    delays: list[int] = []
    unmapped_targets = 0
    for index, _, movie in sorted(found):
        movie_id = titles.lookup(name_of(movie) or "")
        if movie_id is None:
            unmapped_targets += 1
            continue
        if movie_id in targets or movie_id in mentioned or movie_id in disliked:
            continue
        targets.append(movie_id)
        delays.append(sum(1 for t in turns[end + 1:index] if t.seeker))
        if _label(labels.get(movie), "seen") == 0:
            unseen.append(movie_id)
    if not targets:
        return None, "no_target"
    return {
        "id": f"redial-train-{conversation}", "source": "redial_train",
        "conversation_id": conversation, "request": text,
        "mentioned_movie_ids": mentioned, "target_movie_ids": targets,
        "mentioned_titles": [titles.titles[m] for m in mentioned],
        "target_titles": [titles.titles[m] for m in targets],
        "mentioned_disliked_movie_ids": disliked, "target_unseen_movie_ids": unseen,
        "target_turn_delay": delays, "n_seeker_turns": len(request),
        "request_has_movie_mention": bool(own), "n_request_mentions_unmapped": unmapped_own,
        "n_targets_unmapped": unmapped_targets, "label_source": label_source,
    }, ""


def _recommends(movie: str, labels: Mapping[str, Any], named: set[str]) -> bool:
    """A recommender naming ``movie`` recommends it: the forms say it was suggested, or (no
    form answer) the seeker has not named it."""
    suggested = _label(labels.get(movie), "suggested")
    return suggested == 1 if suggested is not None else movie not in named


def build_requests(dialogues: Iterable[Mapping[str, Any]], catalogue: Catalogue,
                   names: Mapping[str, str] | None = None,
                   progress: Progress | None = None, total: int | None = None
                   ) -> tuple[list[dict[str, Any]], BuildStats]:
    """Records for every usable dialogue (:func:`build_request`), in the release's order; a
    dialogue of the wrong shape is skipped and counted in ``stats.unreadable``."""
    titles = TitleIndex(catalogue)
    stats = BuildStats()
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, dialogue in enumerate(dialogues, 1):
        stats.dialogues += 1
        try:
            record, reason = build_request(dialogue, titles, names)
        except (KeyError, TypeError, ValueError, AttributeError):
            stats.unreadable += 1
            continue
        if record is None:
            setattr(stats, reason, getattr(stats, reason) + 1)
            continue
        if record["id"] in seen:          # a dialogue listed twice counts once
            continue
        seen.add(record["id"])
        out.append(record)
        stats.requests += 1
        stats.language_only += not record["request_has_movie_mention"]
        if total and number % 500 == 0:
            report(progress, number / total, f"ReDial: mapped {number:,} of {total:,} dialogues")
    return out, stats


# --------------------------------------------------------------------------- the release


def _member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    """The member called ``name`` at the top or in one folder (the shallowest), never one of
    macOS's ``__MACOSX`` copies."""
    found = [info for info in archive.infolist()
             if not info.is_dir() and info.filename.rsplit("/", 1)[-1] == name
             and not info.filename.startswith("__MACOSX/")]
    return min(found, key=lambda info: info.filename.count("/"), default=None)


def read_release(data: bytes | Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The training dialogues and the names of ``movies_with_mentions.csv`` (``{}`` when the
    zip has none) from the release zip (its bytes or its path). ReDial's test file is never
    opened. Raises :class:`RedialFetchError` for anything that is not such a zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
            train = _member(archive, TRAIN_MEMBER)
            if train is None:
                raise RedialFetchError(f"the download is a zip but has no {TRAIN_MEMBER}: not the "
                                       "ReDial release")
            movies = _member(archive, MOVIES_MEMBER)
            for info in (train, movies):
                if info is not None and info.file_size > MAX_MEMBER_BYTES:
                    raise RedialFetchError(f"{info.filename} in the download unpacks to "
                                           f"{info.file_size:,} bytes (more than "
                                           f"{MAX_MEMBER_BYTES:,}): not the ReDial release")
            text = archive.read(train).decode("utf-8")
            names = _names(archive.read(movies).decode("utf-8", errors="replace")) if movies else {}
    except UnicodeDecodeError:
        raise RedialFetchError(f"{TRAIN_MEMBER} in the ReDial download is not UTF-8 text") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        head = data[:4] if isinstance(data, bytes) else _head(data)
        if not head.startswith(b"PK"):
            shown = head.decode("ascii", errors="replace") or "nothing"
            raise RedialFetchError(f"the ReDial download is not a zip archive (it starts with "
                                   f"{shown!r})") from None
        raise RedialFetchError(f"the ReDial download is truncated or damaged ({_one_line(exc)})") from None
    except OSError as exc:
        raise RedialFetchError(f"cannot read the ReDial download ({exc.strerror or exc})") from None
    return _dialogues(text), names


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(4)
    except OSError:
        return b""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _dialogues(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(row, dict) and "messages" in row and "conversationId" in row:
            out.append(row)
        else:
            bad += 1
    if not out or bad > _MAX_BAD_SHARE * (len(out) + bad):
        raise RedialFetchError(f"{TRAIN_MEMBER} in the download is not ReDial's dialogue format "
                               f"({bad:,} of {len(out) + bad:,} lines are not dialogues)")
    if bad:
        log.warning("ReDial: %d unreadable lines of %s skipped", bad, TRAIN_MEMBER)
    return out


def _names(text: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        movie, name = (row.get("movieId") or "").strip(), (row.get("movieName") or "").strip()
        if movie and name:
            names[movie] = name
    return names


def download_release(url: str, *, policy: HttpPolicy | None = None,
                     allowed_redirects: Iterable[str] | None = None,
                     progress: Progress | None = None) -> bytes:
    """The release's bytes from ``url`` (module docstring, "Behaviour"); raises
    :class:`RedialFetchError`."""
    from recsys.knowledge_fetch import HttpPolicy, KnowledgeFetchError, _Http

    if _scheme(url) not in ("http", "https"):
        raise RedialFetchError(f"{URL_ENV} must be an http:// or https:// URL (got "
                               f"{urls.safe_url(url)!r})")
    policy = policy or HttpPolicy(deadline=DOWNLOAD_DEADLINE, retries=2, backoff=2.0,
                                  max_bytes=MAX_DOWNLOAD_BYTES)
    if allowed_redirects is None:
        host = urls.origin(url)
        allowed_redirects = GITHUB_FILE_ORIGINS if host == urls.origin("https://github.com/") else ()
    client = _Http("ReDial download", policy, default_interval=0.0,
                   redirect_origins=allowed_redirects, kept="nothing was written")

    def on_chunk(done: int, total: int | None) -> None:
        size = f" of {total / 1e6:.1f}" if total else ""
        report(progress, done / total if total else 0.0, f"ReDial: {done / 1e6:.1f}{size} MB downloaded")

    report(progress, 0.0, f"ReDial: downloading {urls.safe_url(url)}")
    try:
        return client.get_bytes(url, what="the ReDial release",
                                accept="application/zip, application/octet-stream;q=0.9, */*;q=0.1",
                                progress=on_chunk)
    except KnowledgeFetchError as exc:
        raise RedialFetchError(str(exc)) from None


def _scheme(url: str) -> str:
    try:
        return urllib.parse.urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def _write_lines(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_write(path) as tmp, open(tmp, "wb") as out:
        out.write(data)


def fetch_requests(catalogue: Catalogue, cache_dir: str | os.PathLike[str] | None = None, *,
                   force: bool = False, url: str | None = None,
                   expected_sha256: str | None = None,
                   policy: HttpPolicy | None = None, allowed_redirects: Iterable[str] | None = None,
                   progress: Progress | None = None) -> Path:
    """ReDial's training requests mapped to ``catalogue``, in the cache: download (once) and
    map (once per catalogue); return the records file (module docstring).

    ``url``: default ``$RECSYS_REDIAL_URL`` or :data:`DEFAULT_URL`. ``expected_sha256``: the
    checksum the download must have (default: :data:`RELEASE_SHA256` for :data:`DEFAULT_URL`,
    none for another URL). ``force``: download and map again even when both are cached.
    ``allowed_redirects``: origins a redirect may lead to besides the URL's own (default: GitHub's
    file hosts for a github.com URL). Raises :class:`RedialFetchError`; nothing half-written
    stays behind.
    """
    from recsys.data import default_cache_dir

    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    out = requests_path(cache, catalogue)
    if out.exists() and not force:
        report(progress, 1.0, "ReDial requests: already in the cache")
        return out
    url = url or release_url()
    checksum = expected_sha256 or (RELEASE_SHA256 if url == DEFAULT_URL else None)
    archive = archive_path(cache)
    dialogues: list[dict[str, Any]] | None = None
    names: dict[str, str] = {}
    if archive.exists() and not force:
        try:
            dialogues, names = read_release(archive)
        except RedialFetchError as exc:
            log.warning("The cached ReDial download %s is unusable (%s); downloading it again",
                        archive, exc)
    if dialogues is None:
        data = download_release(url, policy=policy, allowed_redirects=allowed_redirects,
                                progress=scaled(progress, 0.0, 0.8))
        if checksum and hashlib.sha256(data).hexdigest() != checksum.lower():
            raise RedialFetchError(
                f"the download from {urls.safe_url(url)} is not the ReDial release this project "
                f"was built on (SHA-256 {hashlib.sha256(data).hexdigest()[:12]}…, expected "
                f"{checksum[:12]}…); set {URL_ENV} to a copy you trust")
        dialogues, names = read_release(data)
        try:
            _write_bytes(archive, data)
        except OSError as exc:
            raise RedialFetchError(f"cannot write {archive} ({exc.strerror or exc})") from None
    report(progress, 0.8, f"ReDial: mapping {len(dialogues):,} dialogues to the catalogue")
    records, stats = build_requests(dialogues, catalogue, names, scaled(progress, 0.8, 0.98),
                                    total=len(dialogues))
    if not records:
        raise RedialFetchError(f"none of ReDial's {stats.dialogues:,} training dialogues has a request "
                               f"whose liked recommendations are in the catalogue {catalogue.name}")
    try:
        _write_lines(out, records)
    except OSError as exc:
        raise RedialFetchError(f"cannot write {out} ({exc.strerror or exc})") from None
    log.info("ReDial: %d requests (%d language only) from %d training dialogues → %s "
             "(dropped: %d without a request, %d without a preference cue, %d without a target "
             "in the catalogue; %d unreadable)", stats.requests, stats.language_only, stats.dialogues,
             out, stats.no_request, stats.no_cue, stats.no_target, stats.unreadable)
    report(progress, 1.0, f"ReDial: {len(records):,} training requests")
    return out


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records of a requests file (unreadable lines skipped)."""
    with Path(path).open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                yield row


def reachable(url: str | None = None, timeout: float = 3.0) -> bool:
    """Whether the release's host (``url`` or :func:`release_url`) answers within ``timeout`` s."""
    from recsys.knowledge_fetch import url_reachable

    return url_reachable(url or release_url(), timeout)
