"""Real-time personalisation: reactions warm the cold start up, in memory only.

A :class:`LiveSession` holds one user's request and reactions. The parsed intent is kept
and *updated*, never replaced; every reaction re-runs the cheap stages (relevance, fold-in,
blend — the query embedding is cached), typically in a few milliseconds:

* 👍 ``like``: the movie joins the intent's titles (``source="liked"``) — its neighbours
  are lifted in ``r`` and it enters the CF pseudo-history with confidence ``c_liked``;
* 👎 ``dislike``: it joins the disliked titles — its neighbours are pushed down in ``r``
  and it enters the fold-in with preference 0 (confidence ``c_disliked``);
* ``seen``: never shown again;
* every reaction updates the per-genre feedback ``f_g`` used in ``r``::

      f_g = (L_g − D_g) / (L_g + D_g + 1),   L_g = Σ_{👍 m} 1[g∈G_m]/|G_m|,  D_g likewise for 👎

**Interest distribution** over genres (and, alike, decades), shown as a chart::

    a_x = 1·share_x(current list) + 2·intent_x + Σ_{👍 m} share_x(m) − Σ_{👎 m} share_x(m)
    p_x = max(a_x, 0) / Σ_y max(a_y, 0)           (disliked genres: p = 0)

where ``intent_x`` is ``1/|L|`` for each of the ``|L|`` liked genres (decades: ``1/|D|`` for
each decade the era spans), otherwise the zero-shot genre affinity.

**Auto weights** (optional): with ``n`` liked items, CF's weight grows with the evidence::

    β(n) = β₀ + (β_max − β₀)·(1 − e^{−n/τ}),   β_max = 0.75, τ = 3 (:class:`FeedbackConfig`)
    α(n), γ(n) share 1 − β(n) in the proportion α₀ : γ₀

Nothing here touches disk or shared model arrays; sessions are independent objects.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

from recsys.blend import BlendWeights
from recsys.intent import Intent, IntentParser, TitleRef
from recsys.pipeline import DEFAULT_K, Recommendation, Recommender

#: What a user can do with a listed movie: 👍, 👎, or "seen it" (module docstring).
Reaction = Literal["like", "dislike", "seen"]
REACTIONS: tuple[Reaction, ...] = get_args(Reaction)


@dataclass(frozen=True)
class FeedbackConfig:
    """The live session's tunables (module docstring)."""

    #: β_max: the CF weight the auto weights approach as 👍 accumulate.
    auto_beta_max: float = 0.75
    #: τ: after τ 👍 the auto weights have gone 1 − 1/e of the way from β₀ to β_max.
    auto_tau: float = 3.0
    #: Interest distribution: the weight of the shown list's genres and decades.
    list_weight: float = 1.0
    #: Interest distribution: the weight of the request's liked genres (or zero-shot affinity)
    #: and era.
    intent_weight: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.auto_beta_max <= 1.0:
            raise ValueError("auto_beta_max is a share of the blend: between 0 and 1")
        if self.auto_tau <= 0:
            raise ValueError("auto_tau must be above 0")
        if self.list_weight < 0 or self.intent_weight < 0:
            raise ValueError("the interest weights must be ≥ 0")


DEFAULT_CONFIG = FeedbackConfig()
#: Read-only aliases of the defaults, for the pages that quote the schedule.
AUTO_BETA_MAX = DEFAULT_CONFIG.auto_beta_max
AUTO_TAU = DEFAULT_CONFIG.auto_tau


def auto_weights(base: BlendWeights, n_liked: int, config: FeedbackConfig = DEFAULT_CONFIG) -> BlendWeights:
    """The auto-weight schedule (module docstring) after ``n_liked`` 👍."""
    alpha0, beta0, gamma0 = base.as_tuple()
    total = alpha0 + beta0 + gamma0
    alpha0, beta0, gamma0 = alpha0 / total, beta0 / total, gamma0 / total
    beta_max = config.auto_beta_max
    beta = beta0 + max(beta_max - beta0, 0.0) * (1 - math.exp(-n_liked / config.auto_tau))
    rest = 1.0 - beta
    share = alpha0 + gamma0
    if share <= 0:
        return BlendWeights(0.0, 1.0, 0.0)
    return BlendWeights(rest * alpha0 / share, beta, rest * gamma0 / share)


@dataclass(frozen=True)
class Step:
    """One reaction and what it changed in the shown list."""

    number: int
    kind: Reaction
    movie_id: int
    label: str
    entered: tuple[str, ...]
    left: tuple[str, ...]
    milliseconds: float


@dataclass(frozen=True)
class InterestDistribution:
    """Estimated interest over genres and decades (each sums to 1, largest first)."""

    genres: tuple[tuple[str, float], ...]
    decades: tuple[tuple[str, float], ...]


@dataclass
class LiveSession:
    """One user's live session: request, reactions, current list and history.

    Examples
    --------
    >>> session = LiveSession(rec, "90s sci-fi, no horror")        # doctest: +SKIP
    >>> first = session.result.items[0].movie_id                    # doctest: +SKIP
    >>> session.react(first, "like").items                          # doctest: +SKIP
    """

    recommender: Recommender
    text: str
    weights: BlendWeights = field(default_factory=BlendWeights)
    k: int = DEFAULT_K
    auto: bool = False
    parser: IntentParser | None = None   #: the parser for ``text`` (None: the recommender's)
    intent: Intent | None = None          #: already parsed ``text`` (skips parsing)
    liked_picks: tuple[int, ...] = ()     #: movies picked as loved before the first list
    disliked_picks: tuple[int, ...] = ()  #: movies picked as disliked before the first list
    use_adapter: bool = True
    intent_ms: float | None = None        #: how long parsing ``intent`` took (booked to the first list)
    reactions: dict[int, str] = field(default_factory=dict)
    history: list[Step] = field(default_factory=list)
    config: FeedbackConfig = DEFAULT_CONFIG   #: auto-weight schedule and interest weights

    def __post_init__(self) -> None:
        if self.intent is None:
            started = time.perf_counter()
            self.intent = self.recommender.parse(self.text, self.parser)
            self.intent_ms = (time.perf_counter() - started) * 1000
        self.base_intent: Intent = self.intent
        self.result: Recommendation = self._run(intent_ms=self.intent_ms)

    # --------------------------------------------------------------------- public
    @property
    def liked(self) -> list[int]:
        """``movieId``s with 👍, in reaction order."""
        return [m for m, kind in self.reactions.items() if kind == "like"]

    @property
    def disliked(self) -> list[int]:
        """``movieId``s with 👎, in reaction order."""
        return [m for m, kind in self.reactions.items() if kind == "dislike"]

    @property
    def seen(self) -> list[int]:
        """``movieId``s marked seen."""
        return [m for m, kind in self.reactions.items() if kind == "seen"]

    @property
    def effective_weights(self) -> BlendWeights:
        """The weights in use (the schedule's when ``auto`` is on)."""
        return auto_weights(self.weights, len(self.liked), self.config) if self.auto else self.weights

    def react(self, movie_id: int, kind: Reaction) -> Recommendation:
        """Record 👍 / 👎 / seen for a movie and return the updated list."""
        if kind not in REACTIONS:
            raise ValueError(f"A reaction is one of {', '.join(REACTIONS)} (got {kind!r}).")
        movie_id = int(movie_id)
        if movie_id not in self.recommender.catalogue.index_of:
            raise ValueError(f"Movie {movie_id} is not in the catalogue.")
        started = time.perf_counter()
        before = [item.movie_id for item in self.result.items]
        self.reactions.pop(movie_id, None)
        self.reactions[movie_id] = kind
        self.result = self._run()
        after = [item.movie_id for item in self.result.items]
        cat = self.recommender.catalogue
        label = cat.label(cat.index_of[movie_id])
        self.history.append(Step(
            number=len(self.history) + 1, kind=kind, movie_id=movie_id, label=label,
            entered=tuple(cat.label(cat.index_of[m]) for m in after if m not in before),
            left=tuple(cat.label(cat.index_of[m]) for m in before if m not in after),
            milliseconds=(time.perf_counter() - started) * 1000))
        return self.result

    def set_weights(self, weights: BlendWeights | tuple[float, float, float], *, auto: bool | None = None
                    ) -> Recommendation:
        """New slider values (and/or the auto toggle): re-blend only."""
        self.weights = BlendWeights.of(weights)
        if auto is not None:
            self.auto = auto
        self.result = self.result.reblend(self.effective_weights, self.k)
        return self.result

    def refresh(self) -> Recommendation:
        """Run the stages again with every reaction kept (e.g. after toggling the adapter)."""
        self.result = self._run()
        return self.result

    def reset(self) -> Recommendation:
        """Forget every reaction (the request stays)."""
        self.reactions.clear()
        self.history.clear()
        self.result = self._run()
        return self.result

    def interest(self) -> InterestDistribution:
        """The estimated interest distribution (module docstring)."""
        cat = self.recommender.catalogue
        intent = self.current_intent()
        shown = [item.index for item in self.result.items]

        genre_scores: defaultdict[str, float] = defaultdict(float)
        _add_shares(genre_scores, (cat.genres[i] for i in shown), self.config.list_weight / max(len(shown), 1))
        if intent.liked_genres:
            for g in intent.liked_genres:
                genre_scores[g] += self.config.intent_weight / len(intent.liked_genres)
        else:
            for g, p in intent.genre_affinity:
                genre_scores[g] += self.config.intent_weight * p
        _add_shares(genre_scores, (cat.genres[cat.index_of[m]] for m in self.liked), 1.0)
        _add_shares(genre_scores, (cat.genres[cat.index_of[m]] for m in self.disliked), -1.0)
        for g in intent.disliked_genres:
            genre_scores[g] = 0.0

        decade_scores: defaultdict[str, float] = defaultdict(float)
        _add_shares(decade_scores, ((_decade(int(cat.years[i])),) for i in shown if cat.years[i]),
                    self.config.list_weight / max(len(shown), 1))
        era_decades = _era_decades(intent, self.recommender.builtin_parser.newest_year)
        for d in era_decades:
            decade_scores[d] += self.config.intent_weight / len(era_decades)
        for movie_id, sign in [(m, 1.0) for m in self.liked] + [(m, -1.0) for m in self.disliked]:
            year = int(cat.years[cat.index_of[movie_id]])
            if year:
                decade_scores[_decade(year)] += sign
        return InterestDistribution(_normalise(genre_scores), _normalise(decade_scores))

    def current_intent(self) -> Intent:
        """The request's intent updated with the reactions so far."""
        cat = self.recommender.catalogue
        base = self.base_intent
        named = {t.movie_id for t in base.titles}
        liked_refs = tuple(TitleRef(m, cat.titles[cat.index_of[m]], 1.0, method="reaction",
                                    source="liked") for m in self.liked if m not in named)
        disliked_refs = tuple(TitleRef(m, cat.titles[cat.index_of[m]], 1.0, method="reaction",
                                       source="reaction")
                              for m in self.disliked if m not in {t.movie_id for t in base.disliked_titles})
        titles = tuple(t for t in base.titles if t.movie_id not in self.disliked) + liked_refs
        return base.with_changes(titles=titles, disliked_titles=base.disliked_titles + disliked_refs,
                                 genre_feedback=self._genre_feedback())

    # --------------------------------------------------------------------- internals
    def _genre_feedback(self) -> tuple[tuple[str, float], ...]:
        cat = self.recommender.catalogue
        likes: defaultdict[str, float] = defaultdict(float)
        dislikes: defaultdict[str, float] = defaultdict(float)
        _add_shares(likes, (cat.genres[cat.index_of[m]] for m in self.liked), 1.0)
        _add_shares(dislikes, (cat.genres[cat.index_of[m]] for m in self.disliked), 1.0)
        genres = sorted(set(likes) | set(dislikes))
        return tuple((g, round((likes[g] - dislikes[g]) / (likes[g] + dislikes[g] + 1), 4)) for g in genres)

    def _run(self, intent_ms: float | None = None) -> Recommendation:
        """The stages for the current intent; ``intent_ms``: parse time to book (first list only)."""
        return self.recommender.recommend(self.current_intent(), self.effective_weights, self.k,
                                          liked=self.liked_picks, disliked=self.disliked_picks,
                                          seen=self.seen, use_adapter=self.use_adapter, intent_ms=intent_ms)


def _add_shares(scores: defaultdict[str, float], groups: Iterable[tuple[str, ...]], weight: float) -> None:
    for group in groups:
        for key in group:
            scores[key] += weight / len(group)


def _decade(year: int) -> str:
    return f"{year // 10 * 10}s"


def _era_decades(intent: Intent, newest: int) -> list[str]:
    era = intent.era
    if era is None:
        return []
    start = era.start if era.start is not None else 1920
    end = era.end if era.end is not None else newest
    return [_decade(y) for y in range(start // 10 * 10, end + 1, 10)]


def _normalise(scores: dict[str, float]) -> tuple[tuple[str, float], ...]:
    positive = {k: max(v, 0.0) for k, v in scores.items()}
    total = sum(positive.values())
    if total <= 0:
        return ()
    return tuple(sorted(((k, round(v / total, 4)) for k, v in positive.items() if v > 0),
                        key=lambda kv: -kv[1]))
