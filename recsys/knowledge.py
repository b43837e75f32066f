"""Stage 2b — movie knowledge: plots, people, keywords, popularity and Chinese titles.

What the catalogue lacks about a movie, aligned with its item index ``i``:

* ``overview_i`` — a one-paragraph plot summary,
* ``directors_i``, ``cast_i`` — names, cast in billing order,
* ``keywords_i`` — plot keywords,
* ``votes_i`` — a current popularity signal (TMDB vote count),
* ``title_zh_i`` — a Chinese title where known.

Where it comes from (:func:`knowledge_source`): the JSONL file named by ``RECSYS_METADATA``
(the schema of ``movie-metadata/ml-latest-small-metadata.jsonl``), else a file fetched earlier
into the cache folder (:mod:`recsys.knowledge_fetch`), else nothing — every stage then works
as without knowledge and :attr:`Knowledge.available` is ``False``.

Two indexes are built from it, each used by one term of ``r`` (:mod:`recsys.relevance`):

People (:class:`PeopleIndex`), with a role weight per credit::

    ρ(p, i) = 1            p directed i, or is among its first 3 billed actors
            = 0.6          billed 4th – 8th
            = 0.3          billed later
    people_i = (1/|P|) Σ_{p∈P} ρ(p, i)          P: the people the request names

Plot words (:class:`LexicalIndex`), Okapi BM25 over ``keywords ×2 + overview + tags``
(``k₁ = 1.2``, ``b = 0.75``)::

    bm25_i = Σ_{t∈q} idf_t · f_ti (k₁+1) / (f_ti + k₁ (1 − b + b·|d_i|/avgdl))
    idf_t  = log(1 + (N − n_t + 0.5) / (n_t + 0.5))
    lex_i  = bm25_i / max_j bm25_j                               (0 when nothing matches)
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from recsys import lexicon
from recsys.catalogue import Catalogue

logger = logging.getLogger(__name__)

#: Environment variable naming a metadata JSONL file (offline / CI).
METADATA_ENV = "RECSYS_METADATA"

ATTRIBUTIONS: dict[str, str] = {
    "tmdb": "This product uses the TMDB API but is not endorsed or certified by TMDB.",
    "wikipedia": "Plot summaries from Wikipedia, CC BY-SA 4.0.",
    "wikidata": "People and titles from Wikidata, CC0.",
    "imdb": "Some people data from IMDb datasets (personal and non-commercial use).",
    "hetrec": "Directors from HetRec 2011 (Cantador et al., RecSys 2011).",
    "douban": "Some Chinese titles from Douban.",
}

_SOURCE_FAMILY = {
    "tmdb_api_ml": "tmdb", "tmdb5000": "tmdb", "tmd_keywords": "tmdb", "tmdb": "tmdb",
    "imdb5000": "imdb", "imdb_top1000": "imdb", "wikipedia_prust": "wikipedia",
    "wikipedia": "wikipedia", "wikidata": "wikidata", "hetrec": "hetrec",
    "douban_top250": "douban", "tmdb_api": "tmdb",
}

LEAD_BILLING = 3
MID_BILLING = 8
_NAME_NOTE = re.compile(r"^\(.*\)$")


def normalise_name(name: str) -> str:
    """``"Samuel L. Jackson"`` → ``"samuel l jackson"``; accents and punctuation dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[’'`.\-]", " ", text)
    text = re.sub(r"[^a-z0-9 ]", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class PersonMention:
    """A person named in the request text: ``text[start:end]`` refers to ``name``."""

    start: int
    end: int
    name: str
    surface: str


class PeopleIndex:
    """Directors and cast → the items they made, with a role weight ``ρ(p, i)``.

    :meth:`find` locates people in free text: full names (accents, dots and case ignored,
    a middle initial optional), a possessive ("Nolan's films"), the surname alone when it
    is capitalised in the text and names exactly one person with at least three films
    here, and the Chinese names of :data:`recsys.lexicon.PEOPLE_ZH`.

    Examples
    --------
    >>> idx = PeopleIndex([("Christopher Nolan",), ()], [("Leonardo DiCaprio",), ("Tom Hanks",)])
    >>> [m.name for m in idx.find("something by christopher nolan with tom hanks")]
    ['Christopher Nolan', 'Tom Hanks']
    """

    def __init__(self, directors: Sequence[Sequence[str]], cast: Sequence[Sequence[str]]) -> None:
        credits: dict[str, dict[int, float]] = defaultdict(dict)
        display: dict[str, str] = {}
        for i, names in enumerate(directors):
            for name in names:
                key = normalise_name(name)
                if key:
                    credits[key][i] = 1.0
                    display.setdefault(key, name.strip())
        for i, names in enumerate(cast):
            position = 0
            for name in names:
                if _NAME_NOTE.match(name.strip()):
                    continue
                key = normalise_name(name)
                if not key:
                    continue
                weight = 1.0 if position < LEAD_BILLING else 0.6 if position < MID_BILLING else 0.3
                position += 1
                credits[key][i] = max(credits[key].get(i, 0.0), weight)
                display.setdefault(key, name.strip())
        self.names: dict[str, str] = display
        self._items: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, films in credits.items():
            items = np.fromiter(films.keys(), dtype=np.int64, count=len(films))
            weights = np.fromiter(films.values(), dtype=np.float32, count=len(films))
            self._items[key] = (items, weights)
        self._lookup: dict[str, str] = {}
        surname_owner: dict[str, list[str]] = defaultdict(list)
        for key in credits:
            words = key.split()
            if len(words) < 2 or all(w in lexicon.STOPWORDS for w in words):
                continue            # a one-word credit ("Madonna") is too ambiguous to find in text
            self._lookup.setdefault(key, key)
            if len(words) >= 3 and len(words[1]) == 1:      # "samuel l jackson" → "samuel jackson"
                self._lookup.setdefault(f"{words[0]} {' '.join(words[2:])}", key)
            if len(credits[key]) >= 3 and len(words) >= 2:
                surname_owner[words[-1]].append(key)
        self._surnames = {s: owners[0] for s, owners in surname_owner.items()
                          if len(owners) == 1 and len(s) >= 4 and s not in lexicon.STOPWORDS
                          and s not in _COMMON_SURNAME_WORDS}
        self._zh = {zh: self._lookup[normalise_name(en)] for zh, en in lexicon.PEOPLE_ZH.items()
                    if normalise_name(en) in self._lookup}
        self._max_words = max((len(k.split()) for k in self._lookup), default=0)

    def __len__(self) -> int:
        return len(self._items)

    def films(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Item indices and role weights ``ρ`` of one person (display or normalised name)."""
        key = self._lookup.get(normalise_name(name))
        if key is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return self._items[key]

    def find(self, text: str) -> list[PersonMention]:
        """People named in ``text``, left to right, without overlaps."""
        found: list[PersonMention] = []
        words = [(m.start(), m.end(), m.group()) for m in _NAME_WORD.finditer(text)]
        norm = [normalise_name(w) for _, _, w in words]
        i = 0
        while i < len(words):
            hit = None
            for n in range(min(self._max_words, 4, len(words) - i), 1, -1):
                phrase = " ".join(norm[i:i + n])
                key = self._lookup.get(phrase) or self._lookup.get(_strip_possessive(phrase))
                if key:
                    hit = (n, key)
                    break
            if hit is None:
                start, end, word = words[i]
                surname = _strip_possessive(norm[i])
                key = self._surnames.get(surname)
                if key and (word[:1].isupper() or norm[i].endswith(" s")):
                    hit = (1, key)
            if hit:
                n, key = hit
                start, end = words[i][0], words[i + n - 1][1]
                found.append(PersonMention(start, end, self.names[key], text[start:end]))
                i += n
            else:
                i += 1
        for zh, key in self._zh.items():
            at = text.find(zh)
            if at >= 0 and not any(m.start <= at < m.end for m in found):
                found.append(PersonMention(at, at + len(zh), self.names[key], zh))
        found.sort(key=lambda m: m.start)
        return found

    def scores(self, names: Iterable[str], n_items: int) -> np.ndarray:
        """``(1/|P|) Σ_p ρ(p, i)`` for every item (module docstring); zeros when ``P`` is empty."""
        out = np.zeros(n_items, dtype=np.float32)
        names = list(dict.fromkeys(names))
        used = 0
        for name in names:
            items, weights = self.films(name)
            if len(items):
                out[items] += weights
                used += 1
        return out / max(len(names), 1) if used else out


_NAME_WORD = re.compile(r"(?<!\w)[^\W\d_][\w’'.\-]*", re.UNICODE)
_COMMON_SURNAME_WORDS = set("""
love young wood stone bell hill king black white green brown gray grey rose hunt may long
rock ford price law wells lane fox bird day night baker cook miller walker washington
hope star north west church sharp little smart short power grant jones park chase mann
nice good best holiday moore rich bond hardy page glover english french
""".split())


def _strip_possessive(phrase: str) -> str:
    return phrase[:-2] if phrase.endswith(" s") else phrase


_TOKEN = re.compile(r"[a-z0-9]+")
#: Words of a request that say nothing about the plot ("a good movie I'd like to watch").
REQUEST_FILLER = set("""
movie movies film films flick flicks watch watched watching see seen recommend recommendation
recommendations suggest suggestion suggestions like liked likes love loved loves enjoy enjoyed
enjoys looking look want wanted need something anything stuff kind kinds type types sort good
great really pretty lot lots favorite favourite favorites genre genres thing things hi hello
hey thanks thank please maybe also know think prefer mostly especially recently lately new old
one ones fan fans big huge today tonight night weekend whatever etc im ive id dont cant
""".split())


def _stem(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """Lower-case, stemmed content words of ``text`` (stop words dropped)."""
    return [_stem(t) for t in _TOKEN.findall(text.lower())
            if t not in lexicon.STOPWORDS and len(t) > 1 and not t.isdigit()]


class LexicalIndex:
    """BM25 over each item's keywords (twice), overview and tags (module docstring).

    ``scores(words)`` is one sparse column sum over the query's terms (well under 5 ms
    for 9,742 items).
    """

    K1 = 1.2
    B = 0.75

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counts: list[float] = []
        lengths = np.zeros(len(documents), dtype=np.float64)
        for i, doc in enumerate(documents):
            tf: dict[int, int] = defaultdict(int)
            for tok in doc:
                tf[vocab.setdefault(tok, len(vocab))] += 1
            lengths[i] = len(doc)
            for j, c in tf.items():
                rows.append(i)
                cols.append(j)
                counts.append(c)
        self.vocabulary = vocab
        n = len(documents)
        if not vocab:
            self._matrix = sparse.csc_matrix((n, 0), dtype=np.float32)
            return
        tf_matrix = sparse.csr_matrix((counts, (rows, cols)), shape=(n, len(vocab)), dtype=np.float64)
        df = np.bincount(np.asarray(cols), minlength=len(vocab)).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) or 1.0
        norm = self.K1 * (1 - self.B + self.B * lengths / avgdl)
        data = tf_matrix.data
        row_of = np.repeat(np.arange(n), np.diff(tf_matrix.indptr))
        weighted = data * (self.K1 + 1) / (data + norm[row_of]) * idf[tf_matrix.indices]
        self._matrix = sparse.csr_matrix((weighted.astype(np.float32), tf_matrix.indices,
                                          tf_matrix.indptr), shape=tf_matrix.shape).tocsc()

    def scores(self, words: Iterable[str]) -> np.ndarray:
        """``lex_i`` in [0, 1] for every item (BM25 over the known query terms, max-scaled)."""
        ids = sorted({self.vocabulary[w] for w in words if w in self.vocabulary})
        n = self._matrix.shape[0]
        if not ids:
            return np.zeros(n, dtype=np.float32)
        bm25 = np.asarray(self._matrix[:, ids].sum(axis=1)).ravel().astype(np.float32)
        top = float(bm25.max())
        return bm25 / top if top > 0 else bm25

    def matched_terms(self, words: Iterable[str]) -> list[str]:
        """The query words the index knows (for highlighting and explanations)."""
        return [w for w in dict.fromkeys(words) if w in self.vocabulary]


@dataclass(frozen=True, eq=False)
class Knowledge:
    """Per-item knowledge aligned with a catalogue (every tuple and array has one entry per item).

    ``source`` says where it came from (a path, or ``""`` when there is none);
    ``coverage`` gives, per field, the share of items that have it.
    """

    source: str
    overview: tuple[str, ...]
    directors: tuple[tuple[str, ...], ...]
    cast: tuple[tuple[str, ...], ...]
    keywords: tuple[tuple[str, ...], ...]
    votes: np.ndarray
    title_zh: tuple[str, ...]
    posters: tuple[str, ...]
    coverage: dict[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    fingerprint: str = ""        #: content hash of the source (keys caches built from it)

    @property
    def available(self) -> bool:
        """Whether any knowledge was loaded."""
        return bool(self.source)

    @property
    def attributions(self) -> list[str]:
        """The attribution lines the data's licences ask for (for the app and README)."""
        return [ATTRIBUTIONS[s] for s in self.sources if s in ATTRIBUTIONS]

    def people_index(self) -> PeopleIndex:
        """Directors and cast as a :class:`PeopleIndex`."""
        return PeopleIndex(self.directors, self.cast)

    def lexical_index(self, catalogue: Catalogue) -> LexicalIndex:
        """BM25 over keywords ×2, overview and the catalogue's tags."""
        docs = []
        for i in range(len(self.overview)):
            words: list[str] = []
            for kw in self.keywords[i]:
                words += tokens(kw) * 2
            words += tokens(self.overview[i])
            for tag in catalogue.tags[i]:
                words += tokens(tag)
            docs.append(words)
        return LexicalIndex(docs)

    def people_of(self, i: int, limit: int = 4) -> tuple[str, ...]:
        """Directors then lead cast of item ``i`` (for cards and explanations)."""
        names = [n for n in self.directors[i]] + [n for n in self.cast[i] if not _NAME_NOTE.match(n)]
        return tuple(dict.fromkeys(names))[:limit]

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue) -> Knowledge:
        """The knowledge a generic catalogue carries itself (``description``, ``people`` and
        ``popularity`` columns of ``items``): descriptions as plot text, people as cast (in
        the given order), popularity as the vote signal. Empty when it carries none."""
        n = len(catalogue)
        descriptions = tuple(catalogue.descriptions) if len(catalogue.descriptions) == n else ("",) * n
        people = tuple(catalogue.people) if len(catalogue.people) == n else ((),) * n
        popularity = catalogue.popularity
        votes = np.zeros(n, dtype=np.float32) if popularity is None else \
            np.nan_to_num(np.asarray(popularity, dtype=np.float32), nan=0.0).clip(min=0)
        if not any(descriptions) and not any(people) and not votes.any():
            return cls.empty(n)
        votes.flags.writeable = False
        none: tuple[tuple[str, ...], ...] = ((),) * n
        coverage = {"overview": sum(bool(x) for x in descriptions) / n,
                    "cast": sum(bool(x) for x in people) / n, "popularity": float((votes > 0).mean())}
        return cls(f"the catalogue's own items file ({catalogue.name})", descriptions, none, people, none,
                   votes, ("",) * n, ("",) * n, coverage)

    @classmethod
    def empty(cls, n_items: int) -> Knowledge:
        """No knowledge: every field empty."""
        blank = ("",) * n_items
        none: tuple[tuple[str, ...], ...] = ((),) * n_items
        return cls("", blank, none, none, none, np.zeros(n_items, dtype=np.float32), blank, blank)


TMDB_IMAGE_BASE = "https://image.tmdb.org/t/p/w342"


def poster_url(path: str) -> str:
    """The TMDB image URL of a ``poster_path`` (``"/abc.jpg"``); ``""`` when there is none."""
    path = path.strip()
    if path.startswith("https://"):
        return path
    return f"{TMDB_IMAGE_BASE}{path}" if re.fullmatch(r"/[\w.\-]+", path) else ""


def knowledge_source(cache_dir: Path | None = None) -> Path | None:
    """The metadata file to read: ``$RECSYS_METADATA``, else one fetched into ``cache_dir``
    by :func:`recsys.knowledge_fetch.fetch_knowledge` (TMDB preferred over Wikidata)."""
    env = os.environ.get(METADATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    if cache_dir is not None:
        from recsys.knowledge_fetch import cache_path

        for source in ("tmdb", "wikidata"):
            fetched = cache_path(cache_dir, source)
            if fetched.is_file() and fetched.stat().st_size > 0:
                return fetched
    return None


class KnowledgeError(ValueError):
    """The metadata file cannot be used (the message names the file and line)."""


def load_knowledge(catalogue: Catalogue, path: str | Path | None) -> Knowledge:
    """Read a metadata JSONL (one object per movie, keyed by ``movieId``) aligned to ``catalogue``.

    Unknown ``movieId``s are ignored; movies without a record get empty fields. A missing
    file raises :class:`KnowledgeError`; a broken line is skipped with a warning (a truncated
    download keeps every complete record); a file with no usable record raises.
    """
    n = len(catalogue)
    if path is None:
        return Knowledge.empty(n)
    path = Path(path)
    if not path.is_file():
        raise KnowledgeError(f"{path}: metadata file not found (set {METADATA_ENV} to a JSONL file)")
    overview = [""] * n
    directors: list[tuple[str, ...]] = [()] * n
    cast: list[tuple[str, ...]] = [()] * n
    keywords: list[tuple[str, ...]] = [()] * n
    votes = np.zeros(n, dtype=np.float32)
    title_zh = [""] * n
    posters = [""] * n
    families: set[str] = set()
    matched = 0
    bad = 0
    index_of = catalogue.index_of
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot read ({exc.strerror or exc})") from None
    digest = hashlib.sha1()
    with handle:
        for line_no, line in enumerate(handle, 1):
            digest.update(line.encode("utf-8", "replace"))
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                i = index_of.get(int(row["movieId"]))
            except (ValueError, KeyError, TypeError):
                bad += 1
                if bad <= 3:
                    logger.warning("%s line %d: not a metadata record; skipped", path, line_no)
                continue
            if i is None:
                continue
            matched += 1
            overview[i] = _text(row.get("overview"))
            directors[i] = _names(row.get("director"))
            cast[i] = _names(row.get("cast"))
            keywords[i] = tuple(k.lower() for k in _names(row.get("keywords")))
            votes[i] = _number(row.get("vote_count"))
            title_zh[i] = _text(row.get("title_zh"))
            posters[i] = _text(row.get("poster_path"))
            for key, value in row.items():
                if key.endswith("_src") and isinstance(value, str):
                    families.add(_SOURCE_FAMILY.get(value, value))
    if not matched:
        raise KnowledgeError(f"{path}: no record matches a movie of the catalogue")
    votes.flags.writeable = False
    coverage = {
        "overview": sum(bool(x) for x in overview) / n, "director": sum(bool(x) for x in directors) / n,
        "cast": sum(bool(x) for x in cast) / n, "keywords": sum(bool(x) for x in keywords) / n,
        "popularity": float((votes > 0).mean()), "title_zh": sum(bool(x) for x in title_zh) / n,
    }
    return Knowledge(str(path), tuple(overview), tuple(directors), tuple(cast), tuple(keywords), votes,
                     tuple(title_zh), tuple(posters), coverage,
                     tuple(sorted(f for f in families if f in ATTRIBUTIONS)), digest.hexdigest()[:16])


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


@dataclass(frozen=True, eq=False)
class KnowledgeIndex:
    """The knowledge plus the two indexes built from it once per recommender."""

    knowledge: Knowledge
    people: PeopleIndex
    lexical: LexicalIndex
    zh_titles: dict[str, tuple[int, str]]
    keyword_index: dict[str, np.ndarray] = field(default_factory=dict)

    def keyword_items(self, keyword: str) -> np.ndarray | None:
        """Items whose plot keywords include ``keyword`` (lower-case), or ``None``."""
        return self.keyword_index.get(keyword)

    @classmethod
    def build(cls, knowledge: Knowledge, catalogue: Catalogue) -> KnowledgeIndex:
        """Index people and plot words; Chinese titles from the knowledge and
        :data:`recsys.lexicon.TITLES_ZH` (``中文 → (movieId, MovieLens title)``)."""
        zh: dict[str, tuple[int, str]] = {}
        by_title = {t: i for i, t in enumerate(catalogue.titles)}
        for title_zh_, title in lexicon.TITLES_ZH.items():
            i = by_title.get(title)
            if i is not None:
                zh[title_zh_] = (int(catalogue.movie_ids[i]), title)
        for i, name in enumerate(knowledge.title_zh):
            for alias in re.split(r"[/|]", name):
                alias = alias.strip()
                if len(alias) >= 2 and alias not in zh:
                    zh[alias] = (int(catalogue.movie_ids[i]), catalogue.titles[i])
        postings: dict[str, list[int]] = defaultdict(list)
        for i, words in enumerate(knowledge.keywords):
            for kw in dict.fromkeys(words):
                if _usable_keyword(kw):
                    postings[kw].append(i)
        keyword_index = {kw: np.asarray(items, dtype=np.int64) for kw, items in postings.items()
                         if len(items) >= MIN_KEYWORD_MOVIES}
        for items in keyword_index.values():
            items.flags.writeable = False
        return cls(knowledge, knowledge.people_index(), knowledge.lexical_index(catalogue), zh,
                   keyword_index)


#: A plot keyword joins the request vocabulary when this many movies carry it.
MIN_KEYWORD_MOVIES = 3
#: Bookkeeping keywords that say nothing a viewer asks for.
_JUNK_KEYWORDS = {"duringcreditsstinger", "aftercreditsstinger", "woman director", "independent film",
                  "3d", "imax", "remake", "sequel", "prequel", "based on novel", "based on comic",
                  "based on novel or book", "film", "movie", "no opening credits",
                  # words a request uses to say what it likes, not what a film is about
                  "hate", "love", "like", "dislike", "enjoy", "fan", "want", "need", "favorite",
                  "fun", "good", "bad", "great", "best"}


def _usable_keyword(keyword: str) -> bool:
    words = keyword.split()
    return (1 <= len(words) <= 3 and keyword not in _JUNK_KEYWORDS and len(keyword) >= 3
            and all(w.isalpha() or "-" in w for w in words)
            and not (len(words) == 1 and keyword in lexicon.STOPWORDS))


def plot_words(query_text: str, exclude: Iterable[str] = ()) -> list[str]:
    """The content words of a request for the lexical index: :func:`tokens` without request
    filler ("a good movie to watch") and without the words of ``exclude`` (titles and people
    the request names, which other terms already use)."""
    skip = {w for phrase in exclude for w in tokens(phrase)}
    return [w for w in dict.fromkeys(tokens(query_text)) if w not in skip and w not in REQUEST_FILLER]
