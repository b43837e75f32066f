"""Stage 1 — intent understanding: free text → a typed :class:`Intent`.

The built-in parser (:class:`BuiltinIntentParser`) always runs; generative LLM parsers
implement the same :class:`IntentParser` protocol and fall back to it.

How the built-in parser reads a request:

1. **Clean**: NFKC, control / zero-width characters removed, whitespace collapsed, cut to
   :attr:`IntentConfig.max_request_chars` (with a warning).
2. **Titles**: :class:`recsys.titles.TitleMatcher` finds referenced movies; their spans and
   any ``(YYYY)`` are masked so that "Scary Movie" or "Star Wars" do not read as genres.
3. **Negation scope**: the text is cut into clauses at ``. ! ? ;`` and contrast words
   ("but", "however", 但是 …). Inside a clause a negation cue ("no", "not into", "hate",
   "anything but", 不要, 讨厌 …) negates everything after it until a positive cue ("love",
   "want", 喜欢 …) or the clause ends; a comma ends it too unless what follows is a bare
   list ("no horror, gore or slashers"). Post-posed cues ("horror is not my thing",
   对恐怖片不感兴趣) negate what precedes them.
4. **Terms**: genre words (English, Chinese, and French / Spanish / German / Italian) become
   liked or disliked genres by scope; titles in a negated scope become disliked titles (Chinese
   titles such as 《阿甘正传》 are found through the knowledge's aliases); era phrases ("90s",
   "late 80s", "before 2000", "recent", 九十年代) become a :class:`YearRange`; tag-vocabulary
   phrases, plot keywords of the movie knowledge and mood words become keywords (or disliked
   keywords); people the knowledge knows ("Tom Hanks", "Nolan's films", 周星驰) and name-like
   tags become people (or disliked people: "no Brad Pitt").
5. **Zero-shot genres**: the encoder embeds the positive part of the request; its cosine
   to each genre description gives ``affinity_g = softmax_g(cos(q, d_g) / τ)``. When the
   request is English, names no title or person and the rules found no liked genre, genres
   with ``cos(q, d_g) ≥`` :attr:`IntentConfig.zero_shot_min_cosine` and within
   :attr:`IntentConfig.zero_shot_margin` of the best (at most two) are added as liked.
6. **Query text**: what the encoder sees — the request with negated spans removed; for
   Chinese and other languages the English encoder cannot read, an English rendering of the
   intent.
"""

from __future__ import annotations

import copy
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

import numpy as np

from recsys import lexicon
from recsys.catalogue import Catalogue
from recsys.text import GENRE_WORDS
from recsys.titles import TitleMatcher, TitleMention

if TYPE_CHECKING:
    from recsys.grounding import Claim
    from recsys.knowledge import PeopleIndex

logger = logging.getLogger(__name__)

#: Where a :class:`TitleRef` came from: the user named it, a generative model suggested it,
#: a 👍 reaction, a 👎 reaction.
TitleSource = Literal["text", "llm", "liked", "reaction"]
#: What an :class:`Annotation` marks in the request text.
AnnotationKind = Literal["genre", "title", "era", "keyword", "person", "negation"]
#: The intent parser a user may pick: the built-in rules, the configured generative model, or
#: the model when it is configured and healthy, else the rules (:func:`recsys.llm.select_parser`).
ParserChoice = Literal["builtin", "llm", "auto"]
PARSER_CHOICES: tuple[ParserChoice, ...] = get_args(ParserChoice)
#: Which parser produced an :class:`Intent` (``"llm"`` also when it fell back to the rules
#: inside the LLM parser: ``fallback_reason`` then says why).
ParserKind = Literal["builtin", "llm"]
#: The request's language: Chinese, English, or another language the encoder cannot read.
Language = Literal["en", "zh", "xx"]



@dataclass(frozen=True)
class IntentConfig:
    """The built-in parser's tunables (module docstring, steps 1, 4 and 5)."""

    #: Requests are cut to this many characters (with a warning).
    max_request_chars: int = 2000
    #: Zero-shot genres: the least ``cos(q, d_g)`` for a genre to count as liked.
    zero_shot_min_cosine: float = 0.30
    #: Zero-shot genres: a liked genre is at most this far below the best genre's cosine.
    zero_shot_margin: float = 0.03
    #: τ of the genre affinity ``softmax_g(cos(q, d_g) / τ)``.
    zero_shot_temperature: float = 0.05
    #: "recent" / "new" means the last this many years of the catalogue.
    recent_years: int = 8
    #: "old" / "classic" means released before this year.
    classic_before: int = 1980

    def __post_init__(self) -> None:
        if self.max_request_chars < 1:
            raise ValueError("max_request_chars must be at least 1")
        if not -1.0 <= self.zero_shot_min_cosine <= 1.0 or self.zero_shot_margin < 0:
            raise ValueError("zero_shot_min_cosine must be a cosine in [-1, 1] and the margin ≥ 0")
        if self.zero_shot_temperature <= 0:
            raise ValueError("zero_shot_temperature must be above 0")
        if self.recent_years < 1:
            raise ValueError("recent_years must be at least 1")


DEFAULT_CONFIG = IntentConfig()
#: The default request length limit (read-only alias for the pages that quote it).
MAX_REQUEST_CHARS = DEFAULT_CONFIG.max_request_chars


class InvalidRequestError(ValueError):
    """The request cannot be used (empty, not text); the message is user-facing."""


@dataclass(frozen=True)
class YearRange:
    """Inclusive release-year range; ``None`` on a side means open-ended."""

    start: int | None
    end: int | None
    label: str = ""

    def distance(self, years: np.ndarray) -> np.ndarray:
        """Years outside the range per item (0 inside; unknown years → 5)."""
        years = years.astype(np.float64)
        lo = -np.inf if self.start is None else self.start
        hi = np.inf if self.end is None else self.end
        out = np.maximum(lo - years, 0.0) + np.maximum(years - hi, 0.0)
        out[years <= 0] = 5.0
        return out

    def to_dict(self) -> dict[str, int | None]:
        """``{"start": …, "end": …}`` as in the CLI's JSON."""
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class TitleRef:
    """A catalogue movie the request refers to.

    ``source`` is ``"text"`` (the user named it), ``"llm"`` (a generative model suggested it
    as similar), ``"liked"`` (a 👍 reaction) or ``"reaction"`` (a 👎 reaction).
    """

    movie_id: int
    title: str
    score: float
    surface: str = ""
    method: str = ""
    source: TitleSource = "text"

    @classmethod
    def from_mention(cls, mention: TitleMention, source: TitleSource = "text") -> TitleRef:
        """Wrap a :class:`recsys.titles.TitleMention`."""
        return cls(mention.movie_id, mention.title, round(float(mention.score), 3), mention.surface,
                   mention.method, source)

    def to_dict(self) -> dict[str, Any]:
        """``{"movie_id", "title", "score"}`` plus provenance."""
        return {"movie_id": self.movie_id, "title": self.title, "score": self.score,
                "surface": self.surface, "source": self.source}


@dataclass(frozen=True)
class Annotation:
    """A span of the request and what the parser made of it (for highlighting in the UI)."""

    start: int
    end: int
    kind: AnnotationKind
    label: str
    negated: bool = False


@dataclass(frozen=True)
class Intent:
    """What the new user asked for.

    Genre names are the catalogue's own (MovieLens: "Sci-Fi", "Horror", …).
    """

    text: str
    liked_genres: tuple[str, ...] = ()
    disliked_genres: tuple[str, ...] = ()
    era: YearRange | None = None
    keywords: tuple[str, ...] = ()
    disliked_keywords: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    disliked_people: tuple[str, ...] = ()
    titles: tuple[TitleRef, ...] = ()
    disliked_titles: tuple[TitleRef, ...] = ()
    similar_titles: tuple[TitleRef, ...] = ()
    genre_affinity: tuple[tuple[str, float], ...] = ()
    genre_feedback: tuple[tuple[str, float], ...] = ()
    inferred_genres: tuple[str, ...] = ()
    query_text: str = ""
    language: Language = "en"
    parser: ParserKind = "builtin"
    fallback_reason: str | None = None
    warnings: tuple[str, ...] = ()
    llm_ms: float | None = None
    llm_claims: tuple[Claim, ...] = ()   #: what a model said, used or not
    annotations: tuple[Annotation, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``intent`` object of the CLI's JSON contract (plus a few extra fields)."""
        return {
            "liked_genres": list(self.liked_genres),
            "disliked_genres": list(self.disliked_genres),
            "era": self.era.to_dict() if self.era else None,
            "keywords": list(self.keywords),
            "titles": [t.to_dict() for t in self.titles],
            "parser": self.parser,
            "fallback_reason": self.fallback_reason,
            "disliked_titles": [t.to_dict() for t in self.disliked_titles],
            "similar_titles": [t.to_dict() for t in self.similar_titles],
            "disliked_keywords": list(self.disliked_keywords),
            "people": list(self.people),
            "disliked_people": list(self.disliked_people),
            "inferred_genres": list(self.inferred_genres),
            "era_label": self.era.label if self.era else None,
            "query_text": self.query_text,
            "language": self.language,
            "warnings": list(self.warnings),
            "llm_ms": None if self.llm_ms is None else round(self.llm_ms, 1),
            "llm_claims": [c.to_dict() for c in self.llm_claims if c.used],
            "dropped_claims": [c.to_dict() for c in self.dropped_claims],
        }

    @property
    def dropped_claims(self) -> tuple[Claim, ...]:
        """The model's claims that were not used, each with its reason."""
        return tuple(c for c in self.llm_claims if not c.used)

    def with_changes(self, **changes: Any) -> Intent:
        """A copy with some fields replaced (intents are immutable)."""
        return replace(self, **changes)


class IntentParser(Protocol):
    """Anything that turns request text into an :class:`Intent` (built-in rules or an LLM)."""

    name: ParserKind

    def parse(self, text: str) -> Intent:
        """Parse ``text``; must not raise on odd input (the built-in parser is the fallback)."""
        ...


# --------------------------------------------------------------------------- cleaning

_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")


def clean_request(text: object, limit: int = DEFAULT_CONFIG.max_request_chars) -> tuple[str, tuple[str, ...]]:
    """Normalise request text; return ``(clean_text, warnings)``.

    Format characters (category Cf: zero-width spaces and joiners, bidi marks and
    isolates, soft hyphens, BOMs) are removed, so "ro\u200dmance" stays one word; other
    control, surrogate, private-use and unassigned characters become spaces. Raises
    :class:`InvalidRequestError` when nothing readable is left.
    """
    if not isinstance(text, str):
        raise InvalidRequestError("The request must be text.")
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        ch if ch in "\n\t" or (category := unicodedata.category(ch)) not in _INVISIBLE
        else ("" if category == "Cf" else " ") for ch in text
    )
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r"\s*\n\s*", "\n", text).strip()
    warnings: list[str] = []
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit].rstrip()
        warnings.append(f"The request was cut to its first {limit:,} characters.")
    if not re.search(r"\w", text):
        raise InvalidRequestError(
            "Please describe what you would like to watch, e.g. "
            "\"mind-bending sci-fi like Inception, nothing gory\"."
        )
    return text, tuple(warnings)


def guess_language(text: str) -> Language:
    """``"zh"`` (mostly CJK), ``"xx"`` (mostly French / Spanish / German / Italian function
    words: the English encoder cannot read it) or ``"en"``."""
    if is_mostly_cjk(text):
        return "zh"
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(w in lexicon.FOREIGN_MARKERS for w in words)
    english = sum(w in lexicon.STOPWORDS for w in words)
    return "xx" if foreign >= 2 and foreign > english else "en"


def is_mostly_cjk(text: str) -> bool:
    """True when at least a fifth of the visible characters are CJK."""
    visible = [c for c in text if not c.isspace()]
    return bool(visible) and len(_CJK.findall(text)) / len(visible) >= 0.2


# --------------------------------------------------------------------------- regexes

def _en(patterns: Iterable[str]) -> str:
    return r"(?<![\w'-])(?:" + "|".join(patterns) + r")(?![\w-])"


def _alt(patterns: Iterable[str]) -> str:
    return "(?:" + "|".join(patterns) + ")"


_GENRE_RULES = [(re.compile(_en([p]), re.I), liked, disliked)
                for p, liked, disliked in lexicon.GENRE_TERMS_EN]
_GENRE_RULES += [(re.compile(p), liked, disliked) for p, liked, disliked in lexicon.GENRE_TERMS_ZH]
_GENRE_RULES += [(re.compile(_en([p]), re.I), liked, disliked)
                 for p, liked, disliked in lexicon.GENRE_TERMS_EU]
_NEGATION = re.compile(_en(lexicon.NEGATION_EN + lexicon.NEGATION_EU) + "|" + _alt(lexicon.NEGATION_ZH),
                       re.I)
_NOT_NEGATION = re.compile(_en(lexicon.NOT_NEGATION_EN), re.I)
_POSITIVE = re.compile(_en(lexicon.POSITIVE_EN) + "|" + _alt(lexicon.POSITIVE_ZH), re.I)
_POST_NEGATION = re.compile(_en(lexicon.POST_NEGATION_EN) + "|" + _alt(lexicon.POST_NEGATION_ZH), re.I)
_STRONG_BOUNDARY = re.compile(
    r"[.!?;\n。！？；]+|(?<!anything )(?<!everything )(?<!all )" + _en([lexicon.CONTRAST_EN])
    + "|" + lexicon.CONTRAST_ZH, re.I)
_WEAK_BOUNDARY = re.compile(r"[,，、:：]")
_AND = re.compile(r"(?<![\w'])(?:and|&)(?![\w'])|和|还有", re.I)
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
#: :data:`recsys.lexicon.KEYWORDS_ZH`, compiled once, longest phrase first.
_ZH_KEYWORDS = tuple((phrase, re.compile(re.escape(phrase)))
                     for phrase in sorted(lexicon.KEYWORDS_ZH, key=len, reverse=True))
_PAREN_YEAR = re.compile(r"\(\s*(?:18|19|20)\d{2}\s*\)")

_DECADE_WORDS = lexicon.DECADE_WORDS
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_ERA_DECADE = re.compile(
    r"(?<!my )(?<!our )(?<!his )(?<!her )(?<!their )(?<![\w'])"
    r"(?:(?P<part>early|mid|late)[\s-]+)?(?:the\s+)?(?:'|’)?(?P<num>(?:1[89]|20)?\d0)(?:'|’)?s(?![\w])"
    r"|(?<![\w])(?:(?P<part2>early|mid|late)[\s-]+)?(?:the\s+)?(?P<word>"
    + "|".join(_DECADE_WORDS) + r")(?![\w])",
    re.I)
_ERA_BEFORE = re.compile(
    r"(?<![\w])(?:before|pre|prior to|older than|earlier than|until|up to|up until)[\s-]*"
    r"(?:the\s+)?(?P<year>(?:18|19|20)\d{2})(?P<s>s)?(?![\w])", re.I)
_ERA_AFTER = re.compile(
    r"(?<![\w])(?:after|post|since|newer than|later than)[\s-]*(?:the\s+)?"
    r"(?P<year>(?:18|19|20)\d{2})(?P<s>s)?(?![\w])", re.I)
_ERA_OPEN = re.compile(
    r"(?<![\w])(?:from\s+)?(?P<year>(?:18|19|20)\d{2})\s*(?:\+|(?:or|and) (?P<dir>later|newer|after|"
    r"earlier|older|before)|onwards?|on(?![\w]))", re.I)
_ERA_BETWEEN = re.compile(
    r"(?<![\w])(?:between\s+|from\s+)?(?P<a>(?:18|19|20)\d{2})\s*(?:-|–|to|and|until)\s*"
    r"(?P<b>(?:18|19|20)\d{2})(?![\w])", re.I)
_ERA_YEAR = re.compile(r"(?<![\w(])(?P<year>(?:19|20)\d{2})(?![\w)])")
_ERA_RECENT = re.compile(
    r"(?<![\w])(?:recent(?:ly released)?|latest|newest|new releases?|newer|modern|current"
    r"|(?:last|past) (?:few|couple of|\d+) years|these days|nowadays|this year"
    r"|new (?:movies?|films?|ones?|stuff))(?![\w])|最近|最新|近几年|近年|新片", re.I)
_ERA_OLD = re.compile(
    r"(?<![\w])(?:classics|classic (?:movies?|films?)|old(?:er)? (?:movies?|films?|ones?|stuff)"
    r"|oldies|golden age|black and white|silent (?:movies?|films?))(?![\w])|老电影|老片|经典老片|怀旧",
    re.I)
_ERA_ZH_DECADE = re.compile(r"(?P<num>[一二三四五六七八九零〇]十|[一二三四五六七八九零〇]{2}|\d0|(?:19|20)\d0)年代")
_ERA_ZH_OPEN = re.compile(r"(?P<year>(?:19|20)\d{2})年?(?P<dir>以前|之前|前|以后|之后|后)")


# --------------------------------------------------------------------------- scopes

def _negation_mask(text: str, list_words: Callable[[int, int], bool]) -> np.ndarray:
    """``bool[len(text)]``: character lies in a negated scope (see module docstring)."""
    mask = np.zeros(len(text), dtype=bool)
    clause_starts = [0] + [m.end() for m in _STRONG_BOUNDARY.finditer(text)]
    clause_ends = [m.start() for m in _STRONG_BOUNDARY.finditer(text)] + [len(text)]
    exceptions = [m.span() for m in _NOT_NEGATION.finditer(text)]

    def inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
        return any(a <= span[0] < b or a < span[1] <= b for a, b in spans)

    negations = [m.span() for m in _NEGATION.finditer(text) if not inside(m.span(), exceptions)]
    positives = [m.span() for m in _POSITIVE.finditer(text)
                 if not inside(m.span(), negations) and not inside(m.span(), exceptions)]
    events = sorted([(a, b, True) for a, b in negations] + [(a, b, False) for a, b in positives])

    for c_start, c_end in zip(clause_starts, clause_ends):
        if c_end <= c_start:
            continue
        seg_bounds = [c_start] + [m.end() for m in _WEAK_BOUNDARY.finditer(text, c_start, c_end)]
        seg_ends = [m.start() for m in _WEAK_BOUNDARY.finditer(text, c_start, c_end)] + [c_end]
        negated = False
        for s_start, s_end in zip(seg_bounds, seg_ends):
            if negated and not list_words(s_start, s_end):
                negated = False
            cursor = s_start
            for a, b, is_negation in events:
                if a < s_start or a >= s_end:
                    continue
                if negated:
                    mask[cursor:a] = True
                negated = is_negation
                cursor = b
            if negated:
                mask[cursor:s_end] = True
        for m in _POST_NEGATION.finditer(text, c_start, c_end):
            seg_start = max([s for s in seg_bounds if s <= m.start()], default=c_start)
            stops = [b for a, b, neg in events if not neg and seg_start <= a and b <= m.start()]
            stops += [am.end() for am in _AND.finditer(text, seg_start, m.start())]
            start = max(stops, default=seg_start)
            mask[start:m.start()] = True
    return mask


# --------------------------------------------------------------------------- parser

@dataclass(frozen=True)
class _Term:
    start: int
    end: int
    label: str


class GenreZeroShot:
    """Zero-shot genre affinity from embeddings: ``softmax_g(cos(q, d_g) / τ)``."""

    def __init__(self, genre_names: tuple[str, ...], genre_embeddings: np.ndarray,
                 catalogue_genres: tuple[str, ...], config: IntentConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        keep = [j for j, g in enumerate(genre_names) if g in catalogue_genres]
        self.genre_names = tuple(genre_names[j] for j in keep)
        self.prototypes = np.asarray(genre_embeddings)[keep]

    def cosines(self, query: np.ndarray) -> np.ndarray:
        """``cos(q, d_g)`` per genre (prototype rows are unit vectors)."""
        return self.prototypes @ query

    def affinity(self, query: np.ndarray) -> tuple[tuple[str, float], ...]:
        """Genre → probability, most likely first (``()`` without genre prototypes)."""
        if not self.genre_names:
            return ()
        cos = self.cosines(query)
        z = np.exp((cos - cos.max()) / self.config.zero_shot_temperature)
        p = z / z.sum()
        order = np.argsort(-p)
        return tuple((self.genre_names[j], round(float(p[j]), 4)) for j in order)

    def confident(self, query: np.ndarray) -> list[str]:
        """Genres close enough to the request to count as liked."""
        if not self.genre_names:
            return []
        cos = self.cosines(query)
        best = float(cos.max())
        least, margin = self.config.zero_shot_min_cosine, self.config.zero_shot_margin
        if best < least:
            return []
        return [self.genre_names[j] for j in np.argsort(-cos)
                if cos[j] >= least and cos[j] >= best - margin][:2]


class BuiltinIntentParser:
    """Rules + title matcher + zero-shot genres; never needs a network or a generative model.

    Parameters
    ----------
    catalogue:
        Supplies genre names, the tag vocabulary (keywords, people) and the newest year.
    matcher:
        Finds referenced titles.
    encode:
        ``text → unit vector``; enables zero-shot genres (optional).
    zero_shot:
        Genre prototypes for the zero-shot step (optional).
    """

    name: ParserKind = "builtin"

    def __init__(self, catalogue: Catalogue, matcher: TitleMatcher,
                 encode: Callable[[str], np.ndarray] | None = None,
                 zero_shot: GenreZeroShot | None = None, *,
                 people: PeopleIndex | None = None,
                 zh_titles: Mapping[str, tuple[int, str]] | None = None,
                 keywords: Iterable[str] = (), config: IntentConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self.genre_names = tuple(catalogue.genre_names)
        self._genres = set(catalogue.genre_names)
        # a catalogue's own categories ("Garden", "Board games") are request words too
        self._rules, self._sets = _category_rules(self.genre_names)
        self.matcher = matcher
        self._encode = encode
        self._zero_shot = zero_shot
        known_years = catalogue.years[catalogue.years > 0]
        self.newest_year = int(known_years.max()) if len(known_years) else 2020
        self._keywords, self._people, self._surnames = _keyword_vocabulary(catalogue)
        for keyword in keywords:                 # plot keywords from the movie knowledge
            if keyword not in self._people:
                self._keywords.setdefault(keyword, keyword)
        self.people_tags = frozenset(self._people)
        self._people_index = people
        self._zh_titles = sorted((zh_titles or {}).items(), key=lambda kv: -len(kv[0]))

    # ----------------------------------------------------------------- public
    def with_encoder(self, encode: Callable[[str], np.ndarray] | None,
                     zero_shot: GenreZeroShot | None) -> BuiltinIntentParser:
        """The same rules, vocabularies and knowledge with another encoder (or none)."""
        twin = copy.copy(self)
        twin._encode = encode
        twin._zero_shot = zero_shot
        return twin

    def parse(self, text: str) -> Intent:
        """Parse a request (see the module docstring). Raises :class:`InvalidRequestError`
        only for empty / non-text input."""
        text, warnings = clean_request(text, self.config.max_request_chars)
        mentions = self.matcher.find_mentions(text)
        mentions += self._zh_mentions(text, mentions)
        masked = _mask(text, [(m.start, m.end) for m in mentions]
                       + [m.span() for m in _PAREN_YEAR.finditer(text)])
        lowered = masked.lower()

        genre_terms = self._genre_terms(masked)
        keyword_terms = self._keyword_terms(lowered, genre_terms)
        people_terms = self._people_terms(lowered, masked)
        if self._people_index is not None:
            # the knowledge's spelling of a name wins over a user tag's ("Leonardo DiCaprio")
            people_terms = _merge_terms([_Term(m.start, m.end, m.name)
                                         for m in self._people_index.find(masked)], people_terms)
        covered = [(t.start, t.end) for t in genre_terms + keyword_terms + people_terms]
        mask = _negation_mask(masked, lambda start, end: _is_bare_list(start, end, covered, masked))

        liked: list[str] = []
        disliked: list[str] = []
        annotations: list[Annotation] = []
        for term, (liked_g, disliked_g) in ((t, self._sets[t.label]) for t in genre_terms):
            negated = bool(mask[term.start])
            target = disliked if negated else liked
            for g in (disliked_g if negated else liked_g):
                if g in self._genres and g not in target:
                    target.append(g)
            annotations.append(Annotation(term.start, term.end, "genre",
                                          ", ".join(disliked_g if negated else liked_g), negated))
        liked = [g for g in liked if g not in disliked]

        titles: list[TitleRef] = []
        disliked_titles: list[TitleRef] = []
        for m in mentions:
            negated = bool(mask[m.start:m.end].any()) or _negated_before(mask, m.start)
            (disliked_titles if negated else titles).append(TitleRef.from_mention(m))
            annotations.append(Annotation(m.start, m.end, "title", m.title, negated))

        keywords, disliked_keywords = _split_by_scope(keyword_terms, mask, annotations, "keyword")
        people, disliked_people = _split_by_scope(people_terms, mask, annotations, "person")
        era, era_spans = self._era(masked, mask)
        annotations += [Annotation(a, b, "era", era.label if era else "") for a, b in era_spans]
        annotations += _negation_annotations(mask)

        language = guess_language(text)
        intent = Intent(
            text=text, liked_genres=tuple(liked), disliked_genres=tuple(disliked), era=era,
            keywords=tuple(keywords), disliked_keywords=tuple(disliked_keywords),
            people=tuple(people), disliked_people=tuple(disliked_people), titles=_dedupe(titles),
            disliked_titles=_dedupe(disliked_titles), language=language, parser=self.name,
            warnings=warnings, annotations=tuple(sorted(annotations, key=lambda a: a.start)),
        )
        intent = intent.with_changes(query_text=self.query_text(intent, mask))
        return self._with_zero_shot(intent)

    def query_text(self, intent: Intent, mask: np.ndarray | None = None) -> str:
        """The English text the encoder embeds for ``intent``: negated spans removed, and the
        cues that opened them ("I hate superhero movies" → "I"), so "hate" itself is not
        matched against titles ("10 Things I Hate About You")."""
        text = intent.text
        if mask is not None and mask.any() and len(mask) == len(text):
            keep = ~mask
            for m in _NEGATION.finditer(text):
                if mask[m.end():m.end() + 2].any():          # a cue whose scope was removed
                    keep[m.start():m.end()] = False
            text = "".join(ch for ch, kept in zip(text, keep) if kept)
        text = re.sub(r"\s+([,.;!?])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,;.")
        letters = re.findall(r"[A-Za-z]", text)
        if intent.language != "en" or len(letters) < 3:
            return describe_intent(intent) or "popular well-liked movies"
        return text

    # ----------------------------------------------------------------- pieces
    def _genre_terms(self, masked: str) -> list[_Term]:
        terms: list[_Term] = []
        taken = np.zeros(len(masked), dtype=bool)
        for index, (regex, _, _) in enumerate(self._rules):
            for m in regex.finditer(masked):
                if not taken[m.start():m.end()].any():
                    taken[m.start():m.end()] = True
                    terms.append(_Term(m.start(), m.end(), str(index)))
        return sorted(terms, key=lambda t: t.start)

    def _keyword_terms(self, lowered: str, genre_terms: list[_Term]) -> list[_Term]:
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(lowered)]
        terms: list[_Term] = []
        i = 0
        while i < len(words):
            found = None
            for n in (3, 2, 1):
                if i + n > len(words):
                    continue
                start, end = words[i][0], words[i + n - 1][1]
                phrase = " ".join(w for _, _, w in words[i:i + n])
                variants = (phrase, lowered[start:end])
                key = next((v for v in variants if v in self._keywords), None)
                if key is None or (n == 1 and phrase in lexicon.STOPWORDS):
                    continue
                if any(g.start <= start and end <= g.end for g in genre_terms):
                    continue
                found = (_Term(start, end, self._keywords[key]), n)
                break
            if found:
                terms.append(found[0])
                i += found[1]
            else:
                i += 1
        for phrase, start, end in self._zh_keyword_spans(lowered):
            taken = any(t.start < end and start < t.end for t in terms + genre_terms)
            choice = next((k for k in lexicon.KEYWORDS_ZH[phrase] if k in self._keywords), None)
            if choice is not None and not taken:
                terms.append(_Term(start, end, self._keywords[choice]))
        return sorted(terms, key=lambda t: t.start)

    @staticmethod
    def _zh_keyword_spans(text: str) -> list[tuple[str, int, int]]:
        """Chinese plot words (:data:`recsys.lexicon.KEYWORDS_ZH`) in ``text``, longest first
        where they overlap (时间旅行 before 旅行); nothing to search without Chinese script."""
        spans: list[tuple[str, int, int]] = []
        if not _CJK.search(text):
            return spans
        for phrase, pattern in _ZH_KEYWORDS:
            for m in pattern.finditer(text):
                if not any(s < m.end() and m.start() < e for _, s, e in spans):
                    spans.append((phrase, m.start(), m.end()))
        return spans

    def _people_terms(self, lowered: str, masked: str) -> list[_Term]:
        terms: list[_Term] = []
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(lowered)]
        i = 0
        while i < len(words):
            hit = None
            for n in (3, 2):
                if i + n <= len(words):
                    phrase = " ".join(w for _, _, w in words[i:i + n])
                    if phrase in self._people:
                        hit = (_Term(words[i][0], words[i + n - 1][1], self._people[phrase]), n)
                        break
            if hit is None:
                start, end, word = words[i]
                if word in self._surnames and masked[start:start + 1].isupper():
                    hit = (_Term(start, end, self._surnames[word]), 1)
            if hit:
                terms.append(hit[0])
                i += hit[1]
            else:
                i += 1
        return terms

    def _zh_mentions(self, text: str, found: list[TitleMention]) -> list[TitleMention]:
        """Chinese titles (《阿甘正传》 or bare 阿甘正传), longest first, not inside another match;
        a bare title inside a longer plot word is that word, not the film (超级英雄 "superhero"
        is not 英雄 *Hero*)."""
        if not self._zh_titles or not _CJK.search(text):
            return []
        taken = [(m.start, m.end) for m in found]
        words = [(a, b) for _, a, b in self._zh_keyword_spans(text)]
        out: list[TitleMention] = []
        for zh, (movie_id, title) in self._zh_titles:
            at = text.find(zh)
            while at >= 0:
                end = at + len(zh)
                quoted = at > 0 and text[at - 1] in "《「“\"'"
                in_word = not quoted and any(a <= at and end <= b and b - a > end - at for a, b in words)
                if not in_word and not any(a < end and at < b for a, b in taken):
                    out.append(TitleMention(movie_id, title, 1.0 if quoted else 0.9, at, end, zh,
                                            "zh-alias"))
                    taken.append((at, end))
                    break
                at = text.find(zh, end)
        return out

    def _era(self, masked: str, mask: np.ndarray) -> tuple[YearRange | None, list[tuple[int, int]]]:
        ranges: list[tuple[int | None, int | None, str]] = []
        spans: list[tuple[int, int]] = []
        taken = np.zeros(len(masked), dtype=bool)

        def add(m: re.Match[str], start: int | None, end: int | None, label: str) -> None:
            if taken[m.start():m.end()].any():
                return
            taken[m.start():m.end()] = True
            spans.append(m.span())
            if mask[m.start()]:
                # "nothing before 1980" → from 1980 on; "no old movies" → 1980 on; a negated
                # decade cannot be expressed as one range and is ignored.
                if start is None and end is not None:
                    after = end + 1
                    start, end, label = after, None, f"from {after}"
                elif end is None and start is not None:
                    before = start
                    start, end, label = None, before - 1, f"before {before}"
                else:
                    return
            ranges.append((start, end, label))

        for m in _ERA_BETWEEN.finditer(masked):
            a, b = sorted((int(m["a"]), int(m["b"])))
            add(m, a, b, f"{a}–{b}")
        for m in _ERA_BEFORE.finditer(masked):
            year = int(m["year"])
            add(m, None, year - 1, f"before {year}")
        for m in _ERA_AFTER.finditer(masked):
            year = int(m["year"])
            if m.group().lower().startswith("since"):
                start = year
            else:
                start = year + 10 if m["s"] else year + 1    # "after the 1990s" → 2000
            add(m, start, None, f"from {start}")
        for m in _ERA_OPEN.finditer(masked):
            year = int(m["year"])
            if (m["dir"] or "").lower() in ("earlier", "older", "before"):
                add(m, None, year, f"up to {year}")
            else:
                add(m, year, None, f"from {year}")
        for m in _ERA_DECADE.finditer(masked):
            decade = _decade(m["num"], m["word"])
            if decade is not None:
                start, end, label = _decade_part(decade, m["part"] or m["part2"])
                add(m, start, end, label)
        for m in _ERA_ZH_DECADE.finditer(masked):
            decade = _zh_decade(m["num"])
            if decade is not None:
                add(m, decade, decade + 9, f"{decade}s")
        for m in _ERA_ZH_OPEN.finditer(masked):
            year = int(m["year"])
            if m["dir"] in ("以前", "之前", "前"):
                add(m, None, year - 1, f"before {year}")
            else:
                add(m, year, None, f"from {year}")
        for m in _ERA_RECENT.finditer(masked):
            recent = self.newest_year - self.config.recent_years + 1
            add(m, recent, None, f"recent ({recent}–{self.newest_year})")
        for m in _ERA_OLD.finditer(masked):
            classic = self.config.classic_before
            add(m, None, classic - 1, f"classic (before {classic})")
        for m in _ERA_YEAR.finditer(masked):
            year = int(m["year"])
            if 1900 <= year <= self.newest_year + 1:
                add(m, year, year, str(year))
        if not ranges:
            return None, spans
        starts = [s for s, _, _ in ranges]
        ends = [e for _, e, _ in ranges]
        first = None if any(s is None for s in starts) else min(s for s in starts if s is not None)
        last = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
        if first is not None and last is not None and first > last:
            first, last = last, first
        label = ranges[0][2] if len(ranges) == 1 else _range_label(first, last)
        return YearRange(first, last, label), spans

    def _with_zero_shot(self, intent: Intent) -> Intent:
        if self._encode is None or self._zero_shot is None:
            return intent
        query = self._encode(intent.query_text)
        affinity = self._zero_shot.affinity(query)
        inferred: list[str] = []
        # Genres are inferred only from a request that is about genre-like things: never
        # when it names titles or people ("movies with Tom Hanks" is not a War film request).
        if not intent.liked_genres and intent.language == "en" and not intent.titles \
                and not intent.people:
            inferred = [g for g in self._zero_shot.confident(query)
                        if g not in intent.disliked_genres]
        return intent.with_changes(genre_affinity=affinity, inferred_genres=tuple(inferred),
                                   liked_genres=intent.liked_genres + tuple(inferred))


# --------------------------------------------------------------------------- helpers

_GENRE_SETS = {str(i): (liked, disliked) for i, (_, liked, disliked) in enumerate(_GENRE_RULES)}
_MOVIE_GENRES = {g for _, liked, disliked in _GENRE_RULES for g in (*liked, *disliked)}


def _category_rules(names: Sequence[str]) -> tuple[list[tuple[re.Pattern[str], tuple[str, ...],
                                                              tuple[str, ...]]],
                                                   dict[str, tuple[tuple[str, ...], tuple[str, ...]]]]:
    """The genre rules plus one per catalogue category the movie lexicon does not know: its
    name, case-insensitive, singular or plural ("Board games" also matches "board game"),
    longest names first so "Home Audio" wins over "Audio"."""
    rules = list(_GENRE_RULES)
    for name in sorted((n for n in names if n not in _MOVIE_GENRES), key=len, reverse=True):
        words = [w for w in re.split(r"[\s&/,-]+", name.lower()) if w]
        if not words or len(name) < 3:
            continue
        last = re.escape(words[-1])
        stem = last[:-1] if words[-1].endswith("s") and len(words[-1]) > 3 else last
        phrase = r"\s+(?:and\s+|&\s+)?".join([*map(re.escape, words[:-1]), f"{stem}s?"])
        rules.append((re.compile(_en([phrase]), re.I), (name,), (name,)))
    sets = {str(i): (liked, disliked) for i, (_, liked, disliked) in enumerate(rules)}
    return rules, sets


def describe_intent(intent: Intent) -> str:
    """A short English rendering of an intent ("science fiction movies from the 1990s")."""
    parts: list[str] = []
    genres = " ".join(GENRE_WORDS.get(g, g.lower()) for g in intent.liked_genres)
    parts.append(f"{genres} movies" if genres else "movies")
    if intent.era is not None:
        parts.append(f"from {intent.era.label}" if not intent.era.label[:1].isdigit()
                     else f"from the {intent.era.label}")
    if intent.keywords:
        parts.append("about " + ", ".join(intent.keywords))
    if intent.people:
        parts.append("with " + ", ".join(intent.people))
    if intent.titles:
        parts.append("like " + ", ".join(t.title for t in intent.titles))
    text = " ".join(parts)
    return "" if text == "movies" else text


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        for i in range(a, min(b, len(chars))):
            if not chars[i].isspace():
                chars[i] = " "
    return "".join(chars)


def _is_bare_list(start: int, end: int, covered: list[tuple[int, int]], text: str) -> bool:
    """The comma segment ``text[start:end]`` only lists terms ("gore or slashers"), so a
    negation carries on into it."""
    chars = list(text[start:end])
    for a, b in covered:
        for i in range(max(a, start), min(b, end)):
            chars[i - start] = " "
    words = _WORD.findall("".join(chars).lower())
    if not words and not re.search(r"[\u3400-\u9fff]", "".join(chars)):
        return True
    return bool(words) and all(w in lexicon.LIST_FILLER for w in words)


def _negated_before(mask: np.ndarray, start: int) -> bool:
    """A title right after a negation cue (the cue's trailing space is in scope)."""
    return start > 0 and bool(mask[start - 1])


def _merge_terms(first: list[_Term], second: list[_Term]) -> list[_Term]:
    """``first`` plus the terms of ``second`` that overlap none of them and name someone new."""
    out = list(first)
    labels = {t.label.lower() for t in first}
    for term in second:
        if term.label.lower() in labels or any(t.start < term.end and term.start < t.end for t in out):
            continue
        out.append(term)
        labels.add(term.label.lower())
    return sorted(out, key=lambda t: t.start)


def _split_by_scope(terms: list[_Term], mask: np.ndarray, annotations: list[Annotation],
                    kind: AnnotationKind) -> tuple[list[str], list[str]]:
    liked: list[str] = []
    disliked: list[str] = []
    for term in terms:
        negated = bool(mask[term.start])
        target = disliked if negated else liked
        if term.label not in target:
            target.append(term.label)
        annotations.append(Annotation(term.start, term.end, kind, term.label, negated))
    return liked, [d for d in disliked if d not in liked]


def _negation_annotations(mask: np.ndarray) -> list[Annotation]:
    spans: list[Annotation] = []
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    changes = np.flatnonzero(np.diff(padded))
    for a, b in zip(changes[::2], changes[1::2]):
        spans.append(Annotation(int(a), int(b), "negation", "not wanted", True))
    return spans


def _dedupe(refs: list[TitleRef]) -> tuple[TitleRef, ...]:
    seen: set[int] = set()
    out: list[TitleRef] = []
    for ref in refs:
        if ref.movie_id not in seen:
            seen.add(ref.movie_id)
            out.append(ref)
    return tuple(out)


def _decade(num: str | None, word: str | None) -> int | None:
    if word:
        return _DECADE_WORDS[word.lower()]
    if num is None:
        return None
    value = int(num)
    if value >= 1800:
        return value
    return 2000 + value if value <= 10 else 1900 + value


def _decade_part(decade: int, part: str | None) -> tuple[int, int, str]:
    part = (part or "").lower()
    if part == "early":
        return decade, decade + 4, f"early {decade}s"
    if part == "mid":
        return decade + 3, decade + 7, f"mid {decade}s"
    if part == "late":
        return decade + 5, decade + 9, f"late {decade}s"
    return decade, decade + 9, f"{decade}s"


def _zh_decade(num: str) -> int | None:
    if num.isdigit():
        value = int(num)
        return value if value >= 1900 else (2000 + value if value <= 10 else 1900 + value)
    digits = [_ZH_DIGITS.get(c) for c in num if c != "十"]
    if not digits or any(d is None for d in digits):
        return None
    value = digits[0] * 10 if len(digits) == 1 else digits[0] * 10 + digits[1]  # type: ignore[operator]
    return 2000 + value if value <= 10 else 1900 + value


def _range_label(start: int | None, end: int | None) -> str:
    if start is None and end is not None:
        return f"up to {end}"
    if end is None and start is not None:
        return f"from {start}"
    return f"{start}–{end}"


def _keyword_vocabulary(catalogue: Catalogue) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Keyword phrases (tags + mood words), people (name-like tags) and unique surnames."""
    keywords: dict[str, str] = {}
    for term in lexicon.MOOD_TERMS:
        keywords[term] = term
    people: dict[str, str] = {}
    surname_counts: dict[str, list[str]] = {}
    for tag in catalogue.tag_index:
        words = tag.split()
        if not 1 <= len(words) <= 3 or tag in lexicon.STOPWORDS or len(tag) < 3:
            continue
        if tag.startswith("in netflix") or any(ch.isdigit() for ch in tag):
            continue
        keywords.setdefault(tag, tag)
        if len(words) >= 2 and all(w.isalpha() and w not in lexicon.STOPWORDS
                                   and w not in _COMMON_NOUNS for w in words):
            name = " ".join(w.capitalize() for w in words)
            people[tag] = name
            surname_counts.setdefault(words[-1], []).append(name)
    surnames = {s: names[0] for s, names in surname_counts.items()
                if len(names) == 1 and len(s) >= 5 and s not in lexicon.STOPWORDS}
    for phrase in people:
        keywords.pop(phrase, None)
    return keywords, people, surnames


#: Words that make a two-word tag a topic rather than a person ("twist ending", "high school").
_COMMON_NOUNS = set("""
ending school travel humor humour feature nudity hospital test comics wars brothers movie film
story stories time world war life love book books based novel true dark comedy black action
space music musical family film-noir noir cinema cinematography visually appealing queue
violence drug drugs sex sexual police crime serial killer twist plot ending top imdb classic
great good bad best worst old new car cars road trip high heist fight club horror fiction
science social political war mental illness animal animals dog dogs cat cats fantasy magic
house city town island sea ocean river mountain desert forest jungle earth moon mars alien
aliens robot robots zombie zombies vampire vampires ghost ghosts monster monsters superhero
hero heroes studio pictures entertainment productions company disney pixar marvel dc
revenge murder mystery prison army navy school college university teacher student students
""".split())
