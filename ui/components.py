"""HTML snippets for the web app: pure functions (no streamlit), every input escaped.

Rendered with ``st.markdown(..., unsafe_allow_html=True)``; the classes are styled in
``assets/style.css``. Each builder returns one line of HTML (no blank lines, no leading
indentation) so Markdown never re-interprets it.
"""

from __future__ import annotations

import hashlib
import html
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from recsys.charts import SIGNAL_COLORS
from recsys.feedback import Step as ReactionStep

#: Poster gradients per MovieLens genre (first genre of a movie picks the colours).
GENRE_COLORS: dict[str, tuple[str, str]] = {
    "Action": ("#E4572E", "#F29E4C"),
    "Adventure": ("#D98E04", "#F2C14E"),
    "Animation": ("#D6336C", "#F783AC"),
    "Children": ("#2F9E44", "#94D82D"),
    "Comedy": ("#E8A317", "#F6D55C"),
    "Crime": ("#343A40", "#6C757D"),
    "Documentary": ("#1C7ED6", "#74C0FC"),
    "Drama": ("#5F3DC4", "#9775FA"),
    "Fantasy": ("#9C36B5", "#DA77F2"),
    "Film-Noir": ("#212529", "#495057"),
    "Horror": ("#862E2E", "#C92A2A"),
    "IMAX": ("#0B7285", "#3BC9DB"),
    "Musical": ("#C2255C", "#F06595"),
    "Mystery": ("#364FC7", "#5C7CFA"),
    "Romance": ("#E64980", "#FAA2C1"),
    "Sci-Fi": ("#0B7285", "#22B8CF"),
    "Thriller": ("#2B2D42", "#5C5F7A"),
    "War": ("#5C5F4A", "#8D8F6E"),
    "Western": ("#A0522D", "#D9915A"),
}
DEFAULT_COLORS = ("#4F46E5", "#818CF8")

SIGNAL_SHORT = {"r": "Relevance", "s": "CF", "b": "Prior"}

#: Which blended signal each kind of explanation comes from (its bullet takes that colour).
REASON_SIGNAL = {"title": "r", "genre": "r", "era": "r", "keyword": "r", "similar": "r", "adapter": "r",
                 "person": "r", "plot": "r", "cf": "s", "popular": "b"}

_ARTICLES = {"the", "a", "an", "la", "le", "les", "el", "il", "der", "die", "das"}


def esc(text: object) -> str:
    """HTML-escape, and neutralise characters Streamlit's Markdown would interpret."""
    return (html.escape(str(text), quote=True).replace("$", "&#36;").replace("\n", "<br>")
            .replace(":", "&#58;").replace("*", "&#42;").replace("_", "&#95;").replace("~", "&#126;"))


#: Which genre colours a movie's block: the most distinctive one it has (Sci-Fi over Action).
GENRE_PRIORITY = ("Animation", "Sci-Fi", "Horror", "Western", "War", "Musical", "Documentary", "Film-Noir",
                  "Fantasy", "Children", "Crime", "Mystery", "Romance", "Thriller", "Adventure", "Comedy",
                  "Action", "Drama", "IMAX")


def genre_colors(genres: Sequence[str]) -> tuple[str, str]:
    """Gradient colours for a movie's colour block, from its most distinctive genre."""
    present = set(genres)
    for genre in GENRE_PRIORITY:
        if genre in present:
            return GENRE_COLORS[genre]
    for genre in genres:
        if genre in GENRE_COLORS:
            return GENRE_COLORS[genre]
    return DEFAULT_COLORS


def initials(title: str) -> str:
    """A one- or two-character monogram: ``"The Matrix"`` → ``"M"``, ``"Toy Story 2"`` → ``"TS"``."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in title).split()]
    significant = [w for w in words if w.lower() not in _ARTICLES] or words
    if not significant:
        return "?"
    if len(significant) == 1:
        return significant[0][:1].upper()
    return (significant[0][:1] + significant[1][:1]).upper()


def fmt_ms(ms: float) -> str:
    """Milliseconds for people: ``0.4 ms``, ``12 ms``, ``1.3 s``."""
    if ms < 1:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


# --------------------------------------------------------------------------- request highlighting

@dataclass(frozen=True)
class Span:
    """A highlighted part of the request (what ``recsys.intent.Annotation`` carries)."""

    start: int
    end: int
    kind: str
    label: str
    negated: bool = False


_KIND_PRIORITY = ("title", "genre", "era", "person", "keyword")
_KIND_NAMES = {"title": "title you named", "genre": "liked genre", "era": "era", "person": "person",
               "keyword": "keyword"}


def spans_of(intent: Any) -> list[Span]:
    """The highlight spans of a parsed intent's annotations (for :func:`highlight`)."""
    return [Span(a.start, a.end, a.kind, a.label, a.negated) for a in intent.annotations]


def highlight(text: str, spans: Iterable[Span], *, category: str = "genre") -> str:
    """The request with its understood parts marked up (``category``: what the catalogue
    calls a genre, for the tooltips).

    Overlapping spans are split at every boundary; a piece takes the most specific kind
    covering it (title > genre > era > person > keyword) and is struck through in red
    when any covering span is negated (``"no romance"``).
    """
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text), *[s.start for s in spans], *[s.end for s in spans]})
    pieces: list[list[str]] = []          # [css class or "", tooltip, text]
    for a, b in itertools.pairwise(cuts):
        piece = text[a:b]
        covering = [s for s in spans if s.start <= a and b <= s.end]
        kinds = [s for s in covering if s.kind in _KIND_PRIORITY]
        negated = any(s.negated for s in covering)
        if not covering or (not kinds and not piece.strip()):
            pieces.append(["", "", piece])
            continue
        if kinds:
            main = min(kinds, key=lambda s: _KIND_PRIORITY.index(s.kind))
            name = f"liked {category}" if main.kind == "genre" else _KIND_NAMES[main.kind]
            tip = f"{main.label} · {'not wanted' if negated else name}"
            cls = f"hl hl-{main.kind}" + (" hl-neg" if negated else "")
        else:
            tip, cls = "not wanted", "hl hl-neg"
        pieces.append([cls, tip, piece])
    # A bare negation piece touching a negated term joins it ("恐怖" + "片" → one struck box).
    merged: list[list[str]] = []
    for cls, tip, piece in pieces:
        if merged and cls and merged[-1][0] and "hl-neg" in cls and "hl-neg" in merged[-1][0] and (
                cls == "hl hl-neg" or merged[-1][0] == "hl hl-neg"):
            if merged[-1][0] == "hl hl-neg":
                merged[-1][0], merged[-1][1] = cls, tip
            merged[-1][2] += piece
            continue
        merged.append([cls, tip, piece])
    return "".join(f'<span class="{cls}" title="{esc(tip)}">{esc(piece)}</span>' if cls else esc(piece)
                   for cls, tip, piece in merged)


def legend(category: str = "genre") -> str:
    """The colour key for :func:`highlight` (``category``: what the catalogue calls a genre)."""
    items = [("hl-genre", f"liked {category}"), ("hl-genre hl-neg", "not wanted"), ("hl-title", "title"),
             ("hl-era", "era"), ("hl-keyword", "keyword"), ("hl-person", "person")]
    return '<div class="fr-legend">' + "".join(
        f'<span class="hl {cls}">{esc(name)}</span>' for cls, name in items) + "</div>"


# --------------------------------------------------------------------------- chips

def chip(text: str, kind: str = "plain", *, tip: str | None = None) -> str:
    """A rounded label; ``kind`` picks the colour (like, dislike, title, era, keyword, person…)."""
    title = f' title="{esc(tip)}"' if tip else ""
    return f'<span class="chip chip-{kind}"{title}>{esc(text)}</span>'


def title_chip(title: str, score: float, *, negated: bool = False, surface: str = "",
               suggested: bool = False) -> str:
    """A matched title with its match confidence as a small meter (``suggested``: a title the
    generative LLM proposed, resolved to the catalogue)."""
    pct = max(0.0, min(1.0, float(score)))
    tip = f'matched "{surface}" with {pct:.0%} confidence' if surface else f"{pct:.0%} match confidence"
    if suggested:
        tip = f"suggested by the LLM · {tip}"
    kind = "dislike" if negated else "suggested" if suggested else "title"
    return (f'<span class="chip chip-{kind}" title="{esc(tip)}">{esc(title)}'
            f'<span class="conf"><i style="width:{pct * 100:.0f}%"></i></span>'
            f'<span class="conf-num">{pct:.0%}</span></span>')


def chip_row(label: str, chips: Sequence[str], *, empty: str = "—") -> str:
    """One labelled row of chips (``empty`` shown muted when there are none)."""
    body = "".join(chips) if chips else f'<span class="muted">{esc(empty)}</span>'
    return f'<div class="chip-row"><span class="chip-label">{esc(label)}</span><span>{body}</span></div>'


def badge(text: str, kind: str = "accent") -> str:
    """A small pill badge (``accent``, ``muted``, ``good``, ``warn``, ``bad``)."""
    return f'<span class="fr-badge fr-badge-{kind}">{esc(text)}</span>'


# --------------------------------------------------------------------------- layout pieces

def page_intro(title: str, subtitle: str, *, eyebrow: str | None = None) -> str:
    """The page title block."""
    top = f'<div class="fr-eyebrow">{esc(eyebrow)}</div>' if eyebrow else ""
    return (f'<div class="fr-intro">{top}<div class="fr-page-title">{esc(title)}</div>'
            f'<div class="fr-page-sub">{esc(subtitle)}</div></div>')


def stage_heading(number: int, title: str, subtitle: str, *, aside: str = "") -> str:
    """A numbered stage heading: ``(1) Parsed intent — what the parser understood``."""
    right = f'<div class="fr-stage-aside">{aside}</div>' if aside else ""
    return (f'<div class="fr-stage" id="stage-{number}"><div class="fr-stage-num">{number}</div>'
            f'<div class="fr-stage-text"><div class="fr-stage-title">{esc(title)}</div>'
            f'<div class="fr-stage-sub">{esc(subtitle)}</div></div>{right}</div>')


@dataclass(frozen=True)
class Step:
    """One box of the pipeline stepper."""

    title: str
    detail: str
    timing: str = ""


def stepper(steps: Sequence[Step]) -> str:
    """Pipeline steps left to right, numbered, with an arrow between them."""
    parts = []
    for n, step in enumerate(steps, 1):
        timing = f'<div class="fr-step-time">{esc(step.timing)}</div>' if step.timing else ""
        parts.append(f'<a class="fr-step" href="#stage-{n}" target="_self"><div class="fr-step-num">{n}</div>'
                     f'<div class="fr-step-body"><div class="fr-step-title">{esc(step.title)}</div>'
                     f'<div class="fr-step-detail">{esc(step.detail)}</div>{timing}</div></a>')
    return '<div class="fr-stepper">' + '<div class="fr-step-arrow">›</div>'.join(parts) + "</div>"


def mix_bar(weights: tuple[float, float, float]) -> str:
    """The normalised share of α, β, γ as one thin stacked bar with a caption."""
    total = sum(weights)
    if total <= 0:
        return '<div class="fr-mix"><div class="fr-mix-empty">all weights are 0</div></div>'
    shares = [w / total for w in weights]
    bar = "".join(f'<span style="width:{s * 100:.1f}%;background:{SIGNAL_COLORS[k]}"></span>'
                  for k, s in zip("rsb", shares) if s > 0)
    labels = " ".join(f'<span><i style="background:{SIGNAL_COLORS[k]}"></i>{SIGNAL_SHORT[k]} {s:.0%}</span>'
                      for k, s in zip("rsb", shares))
    return f'<div class="fr-mix"><div class="fr-mix-bar">{bar}</div><div class="fr-mix-labels">{labels}</div></div>'


def contribution_bar(parts: tuple[float, float, float], scale: float) -> str:
    """A compact stacked bar of α·r̂, β·ŝ, γ·b̂; full width = ``scale`` (α + β + γ)."""
    scale = scale if scale > 0 else 1.0
    segs = []
    for key, value in zip("rsb", parts):
        width = max(0.0, float(value)) / scale * 100
        if width > 0.05:
            segs.append(f'<span style="width:{width:.1f}%;background:{SIGNAL_COLORS[key]}" '
                        f'title="{SIGNAL_SHORT[key]} {value:.3f}"></span>')
    legend_html = "".join(f'<span><i style="background:{SIGNAL_COLORS[k]}"></i>{SIGNAL_SHORT[k]} {v:.2f}</span>'
                          for k, v in zip("rsb", parts))
    return (f'<div class="fr-contrib"><div class="fr-contrib-bar">{"".join(segs)}</div>'
            f'<div class="fr-contrib-legend">{legend_html}</div></div>')


@dataclass(frozen=True)
class CardData:
    """What a recommendation card shows (filled from ``recsys.pipeline.RecommendedItem``)."""

    rank: int
    title: str
    year: int
    genres: tuple[str, ...]
    score: float
    contributions: tuple[float, float, float]
    reasons: tuple[tuple[str, str], ...]   # (kind, text)
    llm_rank: int | None = None
    cf_rank: int | None = None
    movie_id: int = 0
    blend_rank: int | None = None           #: rank before an LLM rerank (None: not reranked)
    poster_url: str = ""                    #: the real poster (TMDB knowledge); "" keeps the colour tile


def movie_card(card: CardData, *, weight_sum: float) -> str:
    """A recommendation card: colour block with monogram, title, genres, score bar, why."""
    c1, c2 = genre_colors(card.genres)
    year = f'<span class="fr-poster-year">{card.year}</span>' if card.year else ""
    if card.poster_url.startswith("https://"):
        # the colour tile stays underneath: it shows while the image loads or if it fails
        poster = (f'<div class="fr-poster" style="background:url(\'{esc(card.poster_url)}\') center/cover,'
                  f'linear-gradient(135deg,{c1} 0%,{c2} 100%)"><span class="fr-rank">#{card.rank}</span></div>')
    else:
        poster = (f'<div class="fr-poster" style="background:linear-gradient(135deg,{c1} 0%,{c2} 100%)">'
                  f'<span class="fr-rank">#{card.rank}</span><span class="fr-mono">{esc(initials(card.title))}</span>'
                  f'{year}</div>')
    genres = "".join(f'<span class="fr-genre">{esc(g)}</span>' for g in card.genres[:4])
    if len(card.genres) > 4:
        genres += f'<span class="fr-genre fr-genre-more">+{len(card.genres) - 4}</span>'
    reasons = "".join(
        f'<li><i style="background:{SIGNAL_COLORS[REASON_SIGNAL.get(kind, "r")]}"></i><span>{esc(text)}</span></li>'
        for kind, text in card.reasons[:3])
    why = f'<ul class="fr-why">{reasons}</ul>' if reasons else ""
    prov = []
    if card.blend_rank is not None and card.blend_rank != card.rank:
        prov.append(f"blend #{card.blend_rank}")
    prov.append(f"relevance #{card.llm_rank}" if card.llm_rank else "not a relevance pick")
    prov.append(f"CF #{card.cf_rank}" if card.cf_rank else "not a CF pick")
    year_txt = f" ({card.year})" if card.year else ""
    return (f'<div class="fr-card" data-movie-id="{card.movie_id}">{poster}<div class="fr-card-body">'
            f'<div class="fr-card-title" title="{esc(card.title + year_txt)}">{esc(card.title)}</div>'
            f'<div class="fr-genres">{genres}</div>'
            f'<div class="fr-score-row"><span class="fr-score-label">match score</span>'
            f'<span class="fr-score">{card.score:.2f}</span></div>'
            f'{contribution_bar(card.contributions, weight_sum)}{why}'
            f'<div class="fr-card-foot"><span class="fr-prov">{esc(" · ".join(prov))}</span>'
            f'<span class="fr-react-slot"></span></div></div></div>')


# --------------------------------------------------------------------------- live personalisation

#: Small inline icons (Material Design paths, Apache-2.0): no emoji font needed in any browser.
_ICON_PATHS = {
    "like": ("M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 "
             "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23"
             ".14-.47.14-.73v-2z"),
    "dislike": ("M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 "
                "4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 "
                "0v12h4V3h-4z"),
    "seen": ("M12 4.5C7 4.5 2.73 7.61 1 12c1.73 4.39 6 7.5 11 7.5s9.27-3.11 11-7.5c-1.73-4.39-6-7.5-11-7.5zM12 "
             "17c-2.76 0-5-2.24-5-5s2.24-5 5-5 5 2.24 5 5-2.24 5-5 5zm0-8c-1.66 0-3 1.34-3 3s1.34 3 3 3 3-1.34 "
             "3-3-1.34-3-3-3z"),
}
REACTION_NAMES = {"like": "Liked", "dislike": "Not for me", "seen": "Seen it"}


def icon(kind: str, *, size: int = 14) -> str:
    """An inline SVG icon for a reaction kind (``like``, ``dislike``, ``seen``)."""
    path = _ICON_PATHS.get(kind, _ICON_PATHS["seen"])
    return (f'<svg class="fr-icon fr-icon-{esc(kind)}" viewBox="0 0 24 24" width="{size}" height="{size}" '
            f'aria-hidden="true"><path fill="currentColor" d="{path}"/></svg>')


def history_list(steps: Sequence[ReactionStep], *, limit: int = 6, items: str = "movies") -> str:
    """What each reaction did to the list, newest first: the movie, then what entered and left."""
    if not steps:
        return ('<div class="fr-history-empty">No reactions yet. Use the buttons on a card: '
                f'{icon("like")} more like this, {icon("dislike")} not for me, {icon("seen")} seen it.</div>')
    rows = []
    for step in list(reversed(steps))[:limit]:
        moved = []
        for cls, tag, titles in (("in", "+ in", step.entered), ("out", "− out", step.left)):
            if titles:
                shown = ", ".join(esc(t) for t in titles[:3])
                if len(titles) > 3:
                    shown += f' <span class="muted">+{len(titles) - 3} more</span>'
                moved.append(f'<div class="fr-moved fr-moved-{cls}" title="{esc(", ".join(titles))}"><b>{tag}</b> '
                             f"{shown}</div>")
        if not moved:
            moved.append(f'<div class="fr-moved muted">the same {items}, re-ordered</div>')
        rows.append(f'<li class="fr-step-{esc(step.kind)}"><div class="fr-history-head">{icon(step.kind)}'
                    f'<span class="fr-history-n">{step.number}</span><span class="fr-history-t" '
                    f'title="{esc(step.label)}">{esc(step.label)}</span>'
                    f'<span class="fr-history-ms">{esc(fmt_ms(step.milliseconds))}</span></div>{"".join(moved)}</li>')
    more = len(steps) - limit
    tail = f'<div class="fr-history-more">… and {more} earlier reaction{"s" if more > 1 else ""}</div>' \
        if more > 0 else ""
    return f'<ol class="fr-history">{"".join(rows)}</ol>{tail}'


def reaction_counts(liked: int, disliked: int, seen: int) -> str:
    """``3 liked · 1 not for me · 2 seen`` as small coloured counters."""
    parts = [("like", liked, "liked"), ("dislike", disliked, "not for me"), ("seen", seen, "seen")]
    return '<div class="fr-counts">' + "".join(
        f'<span class="fr-count fr-count-{kind}{" fr-count-zero" if n == 0 else ""}">{icon(kind, size=13)}'
        f'<b>{n}</b> {esc(name)}</span>' for kind, n, name in parts) + "</div>"


def weights_line(weights: tuple[float, float, float]) -> str:
    """``α 0.43 · β 0.42 · γ 0.15``."""
    return " · ".join(f"{g} {w:.2f}" for g, w in zip("αβγ", weights))


# --------------------------------------------------------------------------- sidebar: language model

def llm_status(backend: str, state: str, detail: str) -> str:
    """The backend line with a health dot (``state``: ``ok``, ``bad``, ``off``, ``busy``)."""
    return (f'<div class="fr-llm"><div class="fr-llm-backend"><span class="fr-dot fr-dot-{esc(state)}"></span>'
            f'{esc(backend)}</div><div class="fr-llm-detail">{esc(detail)}</div></div>')


def latency_panel(rows: Sequence[tuple[str, float]], *, title: str, note: str = "") -> str:
    """Per-stage latency as labelled bars (``rows``: ``(stage, ms)``; the last row is the total)."""
    if not rows:
        return (f'<div class="fr-latency"><div class="fr-latency-title">{esc(title)}</div>'
                '<div class="fr-latency-empty">No request yet.</div></div>')
    parts, total = list(rows[:-1]), rows[-1]
    scale = max([ms for _, ms in parts] + [1e-6])
    lines = "".join(
        f'<div class="fr-lat-row"><span class="fr-lat-name">{esc(name)}</span><span class="fr-lat-bar">'
        f'<i style="width:{max(2.0, ms / scale * 100):.0f}%"></i></span><span class="fr-lat-ms">'
        f'{esc(fmt_ms(ms) if ms >= 0.05 else "cached")}</span></div>' for name, ms in parts)
    lines += (f'<div class="fr-lat-row fr-lat-total"><span class="fr-lat-name">{esc(total[0])}</span>'
              f'<span class="fr-lat-bar"></span><span class="fr-lat-ms">{esc(fmt_ms(total[1]))}</span></div>')
    foot = f'<div class="fr-latency-note">{esc(note)}</div>' if note else ""
    return f'<div class="fr-latency"><div class="fr-latency-title">{esc(title)}</div>{lines}{foot}</div>'


def ranked_list(title: str, items: Sequence[tuple[str, int, str]], *, color: str,
                subtitle: str = "") -> str:
    """A compact numbered list for the Compare page.

    ``items`` are ``(label, year, state)``; ``state`` is ``""``, ``"match"`` (a liked
    genre), ``"violation"`` (a disliked genre) or ``"match shared"`` etc. — CSS classes.
    """
    rows = []
    for n, (label, year, state) in enumerate(items, 1):
        year_txt = f'<span class="fr-li-year">{year}</span>' if year else ""
        rows.append(f'<li class="{esc(state)}"><span class="fr-li-n">{n}</span>'
                    f'<span class="fr-li-t" title="{esc(label)}">{esc(label)}</span>{year_txt}</li>')
    sub = f'<div class="fr-list-sub">{esc(subtitle)}</div>' if subtitle else ""
    body = "".join(rows) if rows else '<li class="muted">nothing to show</li>'
    return (f'<div class="fr-list"><div class="fr-list-head" style="border-top-color:{color}">'
            f'<div class="fr-list-title">{esc(title)}</div>{sub}</div><ol>{body}</ol></div>')


_EMPTY_ICON = ('<svg viewBox="0 0 24 24" width="34" height="34" fill="none" stroke="#4F46E5" stroke-width="1.6" '
               'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><rect x="3" y="7" width="18" '
               'height="13" rx="2"/><path d="M3 11h18M7 7l2-4M12 7l2-4M17 7l2-4"/><path d="M10 14.5l4 1.9-4 1.9z" '
               'fill="#4F46E5" stroke="none"/></svg>')


def keyline(items: Sequence[tuple[str, str]], *, extra: str = "") -> str:
    """A compact colour key: ``[(label, colour), …]`` as small swatches in one wrapping line."""
    spans = "".join(f'<span><i style="background:{esc(color)}"></i>{esc(label)}</span>' for label, color in items)
    tail = f"<span>{esc(extra)}</span>" if extra else ""
    return f'<div class="fr-keyline">{spans}{tail}</div>'


def signal_key() -> str:
    """The colour key of the three blended signals above the cards."""
    return keyline([("relevance α·r̂", SIGNAL_COLORS["r"]), ("collaborative filtering β·ŝ", SIGNAL_COLORS["s"]),
                    ("popularity prior γ·b̂", SIGNAL_COLORS["b"])], extra="bar length = score out of α + β + γ")


def empty_state(title: str, body: str) -> str:
    """A friendly, centred empty state (an inline clapperboard icon: no emoji font needed)."""
    return (f'<div class="fr-empty"><div class="fr-empty-icon">{_EMPTY_ICON}</div>'
            f'<div class="fr-empty-title">{esc(title)}</div><div class="fr-empty-body">{esc(body)}</div></div>')


def how_it_works(words: Any = None, n_items: int | None = None) -> str:
    """The four-step story shown before the first request (``words``: a :class:`ui.words.Words`,
    default movies; ``n_items``: the catalogue's size once it is loaded)."""
    from ui.words import Words

    w = words or Words()
    every = (f"all {n_items:,} {w.items}" if n_items is not None else
             "all 9,742 movies" if w.movies else f"every {w.item}")
    steps = [
        ("1", "Understand", f"Your words become liked and avoided {w.categories}, an era, keywords and titles."),
        ("2", "Score", f"Embedding similarity and your words' rules rate {every} against your request."),
        ("3", "Adjust", f"Collaborative filtering adds what fans of those {w.items} also loved."),
        ("4", "Blend", "α·relevance + β·CF + γ·popularity gives the final, explained list."),
    ]
    cells = "".join(f'<div class="fr-how-step"><div class="fr-step-num">{n}</div><div class="fr-how-t">{esc(t)}</div>'
                    f'<div class="fr-how-d">{esc(d)}</div></div>' for n, t, d in steps)
    return f'<div class="fr-how">{cells}</div>'


def seed_hash(text: str) -> str:
    """A short stable id for a request (keys widgets without showing the text)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
