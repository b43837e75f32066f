"""Explanations: the final list's rows and the reasons behind each one.

Contract (:class:`Explainer`): given one request's stage results (an :class:`Evidence`) and
a :class:`~recsys.blend.Blend`, :meth:`Explainer.items` returns the top ``k`` as
:class:`RecommendedItem` rows whose ``score == α·r̂ + β·ŝ + γ·b̂`` and whose
``contributions`` are the three terms. It reads the catalogue, the CF model, the prior and
the movie knowledge; it never changes them, and it never calls back into the recommender.

How reasons are chosen (:meth:`Explainer.reasons`): every kind of evidence that holds for an
item becomes a :class:`Reason` weighted by the blend term it explains, then the reasons are
sorted by weight and the first three form the one-line ``explanation``:

* language side (weights are fractions of ``α·r̂_i``): a named/liked/suggested title whose
  title term reaches :data:`TITLE_REASON_MIN` (1.0), a named director or cast member (0.95),
  matched genres (0.9), plot words found in its keywords or overview (0.85), a tagged
  keyword (0.8), adapter evidence above one standard deviation (0.75), the asked era (0.7);
  "close to your description" (0.6) when none of them holds;
* CF side (``β·ŝ_i``): the pseudo-history seed contributing most to ``s_i``
  (``c_j · y_iᵀ W y_j``, :meth:`recsys.cf.CFModel.contributions`), other than the item itself;
* prior side (``γ·b̂_i``): "widely liked" when ``b̂_i ≥ 0.6``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from recsys.blend import Blend
from recsys.catalogue import Catalogue
from recsys.cf import CFModel, Seed
from recsys.intent import Intent
from recsys.knowledge import KnowledgeIndex, poster_url, tokens
from recsys.relevance import RelevanceConfig, RelevanceScores

TITLE_REASON_MIN = 0.55  #: c_t·cos(e_t, e_i) needed to say "close to <title>"
EXPLANATION_REASONS = 3  #: reasons joined into the one-line explanation


@dataclass(frozen=True)
class Reason:
    """One piece of an explanation: what kind of evidence and a sentence for people."""

    kind: str       # "title" | "person" | "plot" | "cf" | "genre" | "era" | "keyword" | "adapter" | "popular" | "similar"
    text: str
    weight: float


@dataclass(frozen=True)
class RecommendedItem:
    """One row of the final list. ``r``, ``s``, ``b`` are the normalised signals that
    were blended, so ``score == α·r + β·s + γ·b``; ``*_raw`` are the stage outputs."""

    rank: int
    index: int
    movie_id: int
    title: str
    label: str
    year: int
    genres: tuple[str, ...]
    score: float
    r: float
    s: float
    b: float
    r_raw: float
    s_raw: float
    b_raw: float
    contributions: tuple[float, float, float]
    llm_rank: int | None
    cf_rank: int | None
    explanation: str
    reasons: tuple[Reason, ...] = ()
    people: tuple[str, ...] = ()     #: directors, then lead cast (movie knowledge)
    poster_url: str = ""             #: the TMDB poster when the knowledge has one

    def to_dict(self) -> dict[str, Any]:
        """The ``items[]`` object of the CLI's JSON contract (plus detail fields)."""
        return {
            "movie_id": self.movie_id, "title": self.title, "score": round(self.score, 6),
            "r": round(self.r, 6), "s": round(self.s, 6), "b": round(self.b, 6),
            "explanation": self.explanation, "rank": self.rank, "label": self.label,
            "year": self.year or None, "genres": list(self.genres),
            "contributions": {"alpha_r": round(self.contributions[0], 6),
                              "beta_s": round(self.contributions[1], 6),
                              "gamma_b": round(self.contributions[2], 6)},
            "llm_rank": self.llm_rank, "cf_rank": self.cf_rank,
            "raw": {"r": round(self.r_raw, 6), "s": round(self.s_raw, 6), "b": round(self.b_raw, 6)},
            "people": list(self.people), "poster_url": self.poster_url or None,
        }


class Evidence(Protocol):
    """What one request's stages produced (a :class:`recsys.pipeline.Recommendation` is one)."""

    @property
    def intent(self) -> Intent: ...

    @property
    def relevance(self) -> RelevanceScores: ...

    @property
    def seeds(self) -> tuple[Seed, ...]: ...

    @property
    def s(self) -> np.ndarray: ...

    @property
    def cf_candidates(self) -> np.ndarray: ...

    @property
    def r_hat(self) -> np.ndarray: ...

    @property
    def s_hat(self) -> np.ndarray: ...

    @property
    def b_hat(self) -> np.ndarray: ...


@dataclass(frozen=True)
class _RequestFacts:
    """Per-request facts the explanations of every listed item share (computed once)."""

    keyword_items: dict[str, frozenset[int]]
    adapter_spread: float

    @classmethod
    def of(cls, rel: RelevanceScores) -> _RequestFacts:
        adapter_term = rel.components.get("adapter")
        return cls({kw: frozenset(items.tolist()) for kw, items in rel.keyword_hits.items()},
                   float(adapter_term.std()) if adapter_term is not None else 0.0)


@dataclass(frozen=True, eq=False)
class Explainer:
    """Builds explained rows from stage results; read-only over shared engine data."""

    catalogue: Catalogue
    cf: CFModel
    baseline: np.ndarray                    #: the prior ``b`` for every item
    relevance_config: RelevanceConfig
    knowledge: KnowledgeIndex | None = None

    def items(self, evidence: Evidence, mixed: Blend, k: int) -> tuple[RecommendedItem, ...]:
        """The top ``k`` of ``mixed.ranking`` as explained rows (rank 1 first)."""
        top = mixed.ranking[:k]
        if not len(top):
            return ()
        cat = self.catalogue
        alpha, beta, gamma = mixed.weights.as_tuple()
        llm_rank = {int(i): n + 1 for n, i in enumerate(evidence.relevance.candidates)}
        cf_rank = {int(i): n + 1 for n, i in enumerate(evidence.cf_candidates)}
        merged = self.cf.merged(evidence.seeds)
        contrib = self.cf.contributions(merged, top) if merged else None
        facts = _RequestFacts.of(evidence.relevance)
        know = self.knowledge.knowledge if self.knowledge is not None else None
        items = []
        for n, i in enumerate(top):
            i = int(i)
            parts = (alpha * float(evidence.r_hat[i]), beta * float(evidence.s_hat[i]),
                     gamma * float(evidence.b_hat[i]))
            reasons = self.reasons(evidence, i, parts, merged, None if contrib is None else contrib[n],
                                   facts)
            items.append(RecommendedItem(
                rank=n + 1, index=i, movie_id=int(cat.movie_ids[i]), title=cat.titles[i],
                label=cat.label(i), year=int(cat.years[i]), genres=cat.genres[i],
                score=float(mixed.final[i]), r=float(evidence.r_hat[i]), s=float(evidence.s_hat[i]),
                b=float(evidence.b_hat[i]), r_raw=float(evidence.relevance.r[i]),
                s_raw=float(evidence.s[i]), b_raw=float(self.baseline[i]), contributions=parts,
                llm_rank=llm_rank.get(i), cf_rank=cf_rank.get(i),
                explanation="; ".join(r.text for r in reasons[:EXPLANATION_REASONS]),
                reasons=tuple(reasons), people=know.people_of(i) if know else (),
                poster_url=poster_url(know.posters[i]) if know else ""))
        return tuple(items)

    def reasons(self, evidence: Evidence, i: int, parts: tuple[float, float, float],
                seeds: list[Seed], contrib: np.ndarray | None, facts: _RequestFacts | None = None
                ) -> list[Reason]:
        """Every reason for item ``i``, strongest first (see the module docstring)."""
        facts = facts or _RequestFacts.of(evidence.relevance)
        reasons = self._language_reasons(evidence, i, parts[0], facts)
        reasons += self._cf_reasons(i, parts[1], seeds, contrib)
        reasons += self._prior_reasons(evidence, i, parts[2])
        reasons.sort(key=lambda reason: -reason.weight)
        return reasons

    # ------------------------------------------------------------------ one side each
    def _language_reasons(self, evidence: Evidence, i: int, alpha_r: float, facts: _RequestFacts
                          ) -> list[Reason]:
        cat = self.catalogue
        rel = evidence.relevance
        intent = evidence.intent
        cfg = self.relevance_config
        reasons: list[Reason] = []
        title_weight = cfg.title_weight
        if "titles" in rel.components and rel.nearest_title[i] >= 0 and title_weight > 0:
            ref = rel.refs[int(rel.nearest_title[i])]
            j = cat.index_of.get(ref.movie_id)
            if j is not None:
                verb = {"llm": "suggested by the language model", "liked": "which you liked"}.get(
                    ref.source, "you mentioned")
                if rel.components["titles"][i] / title_weight >= TITLE_REASON_MIN:
                    reasons.append(Reason("title", f"close to {cat.label(j)}, {verb}", alpha_r))
        people = rel.components.get("people")
        if people is not None and people[i] > 0 and self.knowledge is not None:
            know = self.knowledge.knowledge
            directed = [p for p in intent.people if p in know.directors[i]]
            starring = [p for p in intent.people if p in know.cast[i] and p not in directed]
            text = "; ".join(([f"directed by {', '.join(directed)}"] if directed else [])
                             + ([f"stars {', '.join(starring)}"] if starring else []))
            if text:
                reasons.append(Reason("person", text, alpha_r * 0.95))
        lexical = rel.components.get("lexical")
        if lexical is not None and rel.plot_words and \
                lexical[i] >= 0.5 * cfg.lexical_weight and self.knowledge is not None:
            know = self.knowledge.knowledge
            have = set(tokens(" ".join(know.keywords[i]) + " " + know.overview[i]))
            words = [w for w in rel.plot_words if w in have][:3]
            if words:
                reasons.append(Reason("plot", "about " + ", ".join(f"“{w}”" for w in words),
                                      alpha_r * 0.85))
        matched = [g for g in intent.liked_genres if g in cat.genres[i]]
        if matched:
            reasons.append(Reason("genre", f"{', '.join(matched)} as asked", alpha_r * 0.9))
        named_people = {p.lower() for p in intent.people}
        hits = [kw for kw, items in facts.keyword_items.items()
                if i in items and kw.lower() not in named_people]
        if hits:
            reasons.append(Reason("keyword", "tagged " + ", ".join(f"“{h}”" for h in hits[:3]),
                                  alpha_r * 0.8))
        if intent.era is not None and cat.years[i] and intent.era.distance(cat.years[i:i + 1])[0] == 0:
            reasons.append(Reason("era", f"from {int(cat.years[i])}, in your era", alpha_r * 0.7))
        adapter_term = rel.components.get("adapter")
        if adapter_term is not None and adapter_term[i] > facts.adapter_spread:
            reasons.append(Reason("adapter", "people who ask for this rated it highly", alpha_r * 0.75))
        if not reasons and alpha_r > 0:
            reasons.append(Reason("similar", "close to your description", alpha_r * 0.6))
        return reasons

    def _cf_reasons(self, i: int, beta_s: float, seeds: list[Seed], contrib: np.ndarray | None
                    ) -> list[Reason]:
        if contrib is None or beta_s <= 0 or not len(contrib):
            return []
        others = np.array([seed.item != i for seed in seeds])
        j = int(np.argmax(np.where(others, contrib, -np.inf)))
        if not (others[j] and contrib[j] > 0):
            return []
        seed = seeds[j]
        who = self.catalogue.label(seed.item)
        if seed.reason.startswith("you mentioned"):
            text = f"fans of {who}, which you mentioned, liked it"
        elif seed.reason.startswith("you liked"):
            text = f"because you liked {who}"
        elif seed.reason.startswith("the language model"):
            text = f"fans of {who} liked it"
        else:
            text = f"fans of {who}, a top match, liked it"
        return [Reason("cf", text, beta_s)]

    def _prior_reasons(self, evidence: Evidence, i: int, gamma_b: float) -> list[Reason]:
        if gamma_b > 0 and evidence.b_hat[i] >= 0.6:
            cat = self.catalogue
            return [Reason("popular", f"widely liked ({int(cat.n_ratings[i])} ratings, "
                                      f"★{cat.mean_rating[i]:.1f})", gamma_b)]
        return []
