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

SIGNAL_COLORS = {"r": "#4F46E5", "s": "#14B8A6", "b": "#94A3B8"}
SIGNAL_SHORT = {"r": "LLM", "s": "CF", "b": "Prior"}

#: Which blended signal each kind of explanation comes from (its bullet takes that colour).
REASON_SIGNAL = {"title": "r", "genre": "r", "era": "r", "keyword": "r", "similar": "r", "cf": "s",
                 "popular": "b"}

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


def highlight(text: str, spans: Iterable[Span]) -> str:
    """The request with its understood parts marked up.

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
            tip = f"{main.label} · {'not wanted' if negated else _KIND_NAMES[main.kind]}"
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


def legend() -> str:
    """The colour key for :func:`highlight`."""
    items = [("hl-genre", "liked genre"), ("hl-genre hl-neg", "not wanted"), ("hl-title", "title"),
             ("hl-era", "era"), ("hl-keyword", "keyword"), ("hl-person", "person")]
    return '<div class="fr-legend">' + "".join(
        f'<span class="hl {cls}">{esc(name)}</span>' for cls, name in items) + "</div>"


# --------------------------------------------------------------------------- chips

def chip(text: str, kind: str = "plain", *, tip: str | None = None) -> str:
    """A rounded label; ``kind`` picks the colour (like, dislike, title, era, keyword, person…)."""
    title = f' title="{esc(tip)}"' if tip else ""
    return f'<span class="chip chip-{kind}"{title}>{esc(text)}</span>'


def title_chip(title: str, score: float, *, negated: bool = False, surface: str = "") -> str:
    """A matched title with its match confidence as a small meter."""
    pct = max(0.0, min(1.0, float(score)))
    tip = f'matched "{surface}" with {pct:.0%} confidence' if surface else f"{pct:.0%} match confidence"
    kind = "dislike" if negated else "title"
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


def section_heading(title: str, subtitle: str = "") -> str:
    """An unnumbered section heading."""
    sub = f'<div class="fr-stage-sub">{esc(subtitle)}</div>' if subtitle else ""
    return f'<div class="fr-section"><div class="fr-section-title">{esc(title)}</div>{sub}</div>'


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


def movie_card(card: CardData, *, weight_sum: float) -> str:
    """A recommendation card: colour block with monogram, title, genres, score bar, why."""
    c1, c2 = genre_colors(card.genres)
    year = f'<span class="fr-poster-year">{card.year}</span>' if card.year else ""
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
    prov.append(f"LLM #{card.llm_rank}" if card.llm_rank else "not an LLM pick")
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


def empty_state(title: str, body: str) -> str:
    """A friendly, centred empty state (an inline clapperboard icon: no emoji font needed)."""
    return (f'<div class="fr-empty"><div class="fr-empty-icon">{_EMPTY_ICON}</div>'
            f'<div class="fr-empty-title">{esc(title)}</div><div class="fr-empty-body">{esc(body)}</div></div>')


def how_it_works() -> str:
    """The four-step story shown before the first request."""
    steps = [
        ("1", "Understand", "Your words become liked and avoided genres, an era, keywords and titles."),
        ("2", "Score", "A language model rates all 9,742 movies against what you asked for."),
        ("3", "Adjust", "Collaborative filtering adds what fans of those movies also loved."),
        ("4", "Blend", "α·LLM + β·CF + γ·popularity gives the final, explained list."),
    ]
    cells = "".join(f'<div class="fr-how-step"><div class="fr-step-num">{n}</div><div class="fr-how-t">{esc(t)}</div>'
                    f'<div class="fr-how-d">{esc(d)}</div></div>' for n, t, d in steps)
    return f'<div class="fr-how">{cells}</div>'


def seed_hash(text: str) -> str:
    """A short stable id for a request (keys widgets without showing the text)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
