"""Grounding a generative model's claims in the request text, and keeping secrets out.

A small model invents things: titles the user never wrote, eras nobody asked for, genres
and keywords from its prompt's examples. Nothing a model says is used unless the request
itself supports it. This module holds the evidence checks (pure functions over the request
text) and the record of what was used and what was dropped (:class:`Claim`); the merge
that applies them is :meth:`recsys.llm.LLMIntentParser.merge`.

Checks (all on the cleaned request text):

* :func:`title_in_text` — a title counts as *named* only when its words occur in the
  request, in order (case, accents and punctuation ignored; a leading article optional;
  one typo allowed in words of five letters or more; a very short one-word title must be
  capitalised in the request, so "cheer me up" does not name *Up*).
* :func:`keyword_in_text` — every content word of a keyword occurs in the request, or a
  close lexical variant of it (same stem, or one edit in a long word);
  :func:`generic_keyword` flags keywords made only of generic words ("good movies").
* :func:`genre_evidence` — the word in the request that signals a genre (the built-in
  parser's genre lexicon plus a few more cue words), or ``None``.
* :func:`era_cues` / :func:`era_supported` — an era is taken only when the request holds an
  era cue (a year, a decade, "old", "recent", …), the words the model says it read it from
  occur in the request, and explicit years or decades in the request agree with it.
* :func:`looks_secret` — a string holding a configured secret (API key, URL password) or
  something shaped like a credential (``sk-…``, ``Bearer …``, a long random token). Such
  strings are dropped from everything a model returns before it is used or shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from recsys.lexicon import DECADE_WORDS, GENRE_TERMS_EN, GENRE_TERMS_ZH, MATCH_STOPWORDS
from recsys.titles import normalize_title

#: What a model claimed (one per field of its answer).
ClaimKind = Literal["liked_genre", "disliked_genre", "era", "keyword", "title", "similar_title"]
#: How a claim was used: a named title, a suggestion, the era, a liked / inferred / disliked
#: genre, a keyword.
ClaimUse = Literal["named", "suggestion", "era", "liked", "inferred", "disliked", "keyword"]


@dataclass(frozen=True)
class Claim:
    """One thing a model said, and what became of it.

    ``used`` tells whether it changed the intent; ``use`` how ("named", "suggestion",
    "era", "liked", "inferred", "disliked", "keyword"); ``reason`` why it was dropped or
    downgraded (``None`` when used as claimed). ``value`` is what the model wrote, cut to
    80 characters, or ``"(hidden)"`` when it looked like a secret.
    """

    kind: ClaimKind
    value: str
    used: bool
    use: ClaimUse | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "value", "used", "use", "reason"}``."""
        return {"kind": self.kind, "value": self.value, "used": self.used, "use": self.use,
                "reason": self.reason}


def claim(kind: ClaimKind, value: object, used: bool, use: ClaimUse | None = None, reason: str | None = None) -> Claim:
    """A :class:`Claim` with ``value`` shortened for display."""
    text = " ".join(str(value).split())
    return Claim(kind, text[:77] + "…" if len(text) > 80 else text, used, use, reason)


# ----------------------------------------------------------------------------- secrets

_CREDENTIAL = re.compile(
    r"(?i)\bbearer\s+\S+|\b(?:sk|pk|rk|ghp|gho|xox[abp]|hf|api|key|token)[-_][A-Za-z0-9_\-]{8,}"
    r"|\b(?:api[_-]?key|password|passwd|secret|authorization)\b\s*[:=]"
    r"|\b(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{32,}\b")


def looks_secret(text: str, secrets: Iterable[str | None] = ()) -> bool:
    """True when ``text`` holds a configured secret (or 8+ characters of one) or looks like
    a credential (see the module docstring)."""
    lowered = text.lower()
    for secret in secrets:
        if not secret:
            continue
        s = secret.lower()
        if s in lowered:
            return True
        if len(s) >= 12 and any(s[i:i + 8] in lowered for i in range(0, len(s) - 7)):
            return True
    return bool(_CREDENTIAL.search(text))


# ----------------------------------------------------------------------------- words

_ARTICLES = {"the", "a", "an"}
_STOP = MATCH_STOPWORDS


def words(text: str) -> list[str]:
    """Normalised word tokens (see :func:`recsys.titles.normalize_title`)."""
    return normalize_title(text).split()


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i]
                                            and a[i + 2:] == b[i + 2:])
    return a[i:] == b[i + 1:]


def _title_word_matches(want: str, got: str) -> bool:
    return want == got or (len(want) >= 5 and _within_one_edit(want, got))


def title_in_text(text: str, forms: Iterable[str]) -> bool:
    """True when one of the title ``forms`` ("The Matrix", "Matrix, The (1999)") occurs in
    ``text`` word by word (module docstring)."""
    tokens = words(text)
    for form in forms:
        form = re.sub(r"\s*\((?:19|20)\d{2}\)\s*$", "", form or "")
        wanted = words(form)
        if wanted and wanted[0] in _ARTICLES and len(wanted) > 1:
            wanted = wanted[1:]
        if len(wanted) >= 2 and wanted[-1] in _ARTICLES:      # "Matrix, The"
            wanted = wanted[:-1]
        if not wanted:
            continue
        if len(wanted) == 1 and len(wanted[0]) <= 4:
            # "Up", "Her", "It": only when written as a title (capitalised) in the request.
            if re.search(rf"(?<!\w){re.escape(wanted[0].capitalize())}(?!\w)", text) or \
                    re.search(rf"(?<!\w){re.escape(wanted[0].upper())}(?!\w)", text):
                return True
            continue
        n = len(wanted)
        for i in range(len(tokens) - n + 1):
            if all(_title_word_matches(w, t) for w, t in zip(wanted, tokens[i:i + n])):
                return True
    return False


_SUFFIXES = ("iness", "ness", "ings", "ing", "edly", "ed", "ies", "es", "ers", "er", "est", "ly",
             "ful", "y", "s")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _variant(want: str, got: str) -> bool:
    if want == got:
        return True
    a, b = _stem(want), _stem(got)
    if a == b and len(a) >= 3:
        return True
    if min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)):
        return True
    return len(want) >= 5 and _within_one_edit(want, got)


def keyword_in_text(keyword: str, text: str) -> bool:
    """True when every content word of ``keyword`` (or a close variant) is in ``text``."""
    wanted = [w for w in words(keyword) if w not in _STOP] or words(keyword)
    if not wanted:
        return False
    tokens = set(words(text))
    if not tokens and keyword.strip() and keyword.strip() in text:   # CJK: no word tokens
        return True
    return all(any(_variant(w, t) for t in tokens) for w in wanted) or keyword.strip().lower() in text.lower()


_GENERIC = {"good", "great", "nice", "best", "awesome", "cool", "amazing", "favorite", "favourite",
            "movie", "movies", "film", "films", "flick", "flicks", "idea", "ideas", "suggestion",
            "suggestions", "recommendation", "recommendations", "something", "anything", "watch",
            "watching", "like", "love", "lol", "hello", "hi", "hey", "please", "thanks", "new", "old",
            "genre", "genres", "type", "types", "kind", "kinds", "all", "any", "some", "really"}


def generic_keyword(keyword: str) -> bool:
    """True when every word of ``keyword`` is a generic word ("good", "movies", "ideas")."""
    tokens = words(keyword)
    return not tokens or all(t in _GENERIC or t in _STOP for t in tokens)


# ----------------------------------------------------------------------------- genres

#: Cue words beyond the built-in parser's lexicon (the model may read genres the rules miss).
_EXTRA_GENRE_CUES: dict[str, str] = {
    "Action": r"superheroe?s?|super[\s-]heroe?s?|explosions?|fights?|fighting|martial[\s-]arts?|kung[\s-]fu"
              r"|car[\s-]chases?|spy|spies|shoot[\s-]?outs?|marvel|dc",
    "Adventure": r"quests?|treasure|journeys?|explor\w*|pirates?|jungle",
    "Animation": r"pixar|disney|ghibli|claymation|stop[\s-]motion",
    "Children": r"kiddos?|little[\s-]ones|toddlers?|my[\s-](?:son|daughter)|whole[\s-]family|all[\s-]ages",
    "Comedy": r"laugh\w*|silly|goofy|witty|lighthearted|light[\s-]hearted|spoofs?|parod\w*|jokes?",
    "Crime": r"murders?|robber\w*|cops?|police|detectives?|gangs?|drugs?|cartel",
    "Documentary": r"true[\s-]stor(?:y|ies)|real[\s-]events?|real[\s-]life|docs?",
    "Drama": r"emotional|moving|serious|tear\w*|cry|crying|sad|heart[\s-]?break\w*|heartfelt|touching",
    "Fantasy": r"magic|witch\w*|fairies|elves|mythical|sword",
    "Horror": r"frighten\w*|terror|monsters?|vampires?|demons?|possess\w*|exorcis\w*|nightmares?",
    "Musical": r"singing|songs?|music|dance|dancing",
    "Mystery": r"twists?|twisty|puzzles?|mysterious|whodunit|clues?",
    "Romance": r"love|lovers?|dating|date[\s-]night|relationships?|couples?|wedding",
    "Sci-Fi": r"space|spaceships?|futur\w*|time[\s-]travel|planets?|galax\w*|cyber\w*",
    "Thriller": r"thrill\w*|tense|tension|edge[\s-]of[\s-](?:my|your)[\s-]seat|psychological|spy|spies",
    "War": r"soldiers?|battles?|vietnam|wwi|ww1|army|navy|nazis?",
    "Western": r"gunslingers?|outlaws?|frontier|sheriffs?",
}


def _genre_patterns() -> dict[str, list[re.Pattern[str]]]:
    out: dict[str, list[re.Pattern[str]]] = {}
    for pattern, liked, _disliked in GENRE_TERMS_EN:
        for genre in liked:
            out.setdefault(genre, []).append(re.compile(rf"(?i)\b(?:{pattern})\b"))
    for pattern, liked, _disliked in GENRE_TERMS_ZH:
        for genre in liked:
            out.setdefault(genre, []).append(re.compile(pattern))
    for genre, pattern in _EXTRA_GENRE_CUES.items():
        out.setdefault(genre, []).append(re.compile(rf"(?i)\b(?:{pattern})\b"))
    return out


_GENRE_CUES = _genre_patterns()
_NEGATION = re.compile(r"(?i)\b(?:no|not|non|nothing|without|avoid\w*|hate\w*|dislike\w*|don'?t|do not"
                       r"|doesn'?t|never|except|isn'?t|aren'?t|can'?t stand|skip|none|nor|less|too)\b"
                       r"|不要|不喜欢|别|没有")


def genre_evidence(genre: str, text: str) -> str | None:
    """The word of ``text`` that signals ``genre`` (catalogue name), or ``None``."""
    name = re.compile(rf"(?i)\b{re.escape(genre)}s?\b")
    match = name.search(text)
    if match:
        return match.group(0)
    for pattern in _GENRE_CUES.get(genre, ()):
        match = pattern.search(text)
        if match:
            return match.group(0)
    return None


def has_negation(text: str) -> bool:
    """True when ``text`` holds a negation cue ("no", "not", "without", "hate", …)."""
    return bool(_NEGATION.search(text))


# ----------------------------------------------------------------------------- eras

_DECADE_WORDS = {**DECADE_WORDS, "noughties": 2000, "aughts": 2000}
_ERA_CUE = re.compile(
    r"(?i)(?<![\w(])(?P<year>(?:19|20)\d{2})(?:'?s)?(?![\w)])"
    r"|(?<![\w])'?(?P<decade>\d0)'?s\b"
    r"|\b(?P<word>" + "|".join(_DECADE_WORDS) + r")\b"
    r"|\b(?P<vague>old(?:er|ies|ish)?|classics?|recent(?:ly)?|newer|newest|latest|modern|vintage|retro"
    r"|contemporary|nowadays|this year|last year|decades?|century|golden age"
    r"|black[\s-]and[\s-]white|silent)\b"
    r"|(?P<zh>(?:19|20)\d{2}年|\d0年代|年代|老电影|经典|最新|近年|近几年)")


@dataclass(frozen=True)
class EraCue:
    """An era cue in the request: its words, and the years it pins down (if explicit)."""

    words: str
    start: int | None = None
    end: int | None = None


def era_cues(text: str) -> list[EraCue]:
    """Era cues in ``text``: years, decades ("90s", "nineties") and vague words ("old",
    "recent", "classic", …)."""
    cues: list[EraCue] = []
    for m in _ERA_CUE.finditer(text):
        if m["year"]:
            year = int(m["year"])
            if m.group(0).lower().endswith("s") and year % 10 == 0:
                cues.append(EraCue(m.group(0), year, year + 9))
            else:
                cues.append(EraCue(m.group(0), year, year))
        elif m["decade"]:
            d = int(m["decade"])
            start = 2000 + d if d <= 20 else 1900 + d
            cues.append(EraCue(m.group(0), start, start + 9))
        elif m["word"]:
            start = _DECADE_WORDS[m["word"].lower()]
            cues.append(EraCue(m.group(0), start, start + 9))
        else:
            cues.append(EraCue(m.group(0)))
    return cues


def era_supported(start: int | None, end: int | None, cited: str | None, text: str
                  ) -> tuple[bool, str | None]:
    """Whether an era ``start``–``end`` the model read (citing ``cited``) is supported by
    ``text``; ``(ok, reason when not)``."""
    cues = era_cues(text)
    if not cues:
        return False, "the request has no era cue (no year, decade or word such as 'old' or 'recent')"
    if cited and cited.strip():
        if normalize_title(cited) not in normalize_title(text) and cited.strip().lower() not in text.lower():
            return False, f"the words it cites ('{cited.strip()[:40]}') are not in the request"
        if not era_cues(cited):
            return False, f"the words it cites ('{cited.strip()[:40]}') are not an era cue"
    explicit = [c for c in cues if c.start is not None]
    if explicit:
        lo = min(c.start for c in explicit if c.start is not None)
        hi = max(c.end for c in explicit if c.end is not None)
        s = start if start is not None else end
        e = end if end is not None else start
        if s is None or e is None or e < lo or s > hi:
            return False, "it disagrees with the years in the request"
    return True, None
