"""The recommender facade: load once, then ``recommend(text, weights, k)``.

One request runs the five stages and keeps every intermediate result::

    text ─► intent ─► q = e(query_text) ─► r (stage 3) ─► pseudo-history ─► s (stage 4)
                                                       └──────── b (prior) ─────┘
    pool = top_N(r) ∪ top_N(s);   final = α·r̂ + β·ŝ + γ·b̂ over the pool (stage 5)

Pseudo-history seeds and their confidences ``c_j`` (:class:`PipelineConfig`):
named titles ``c = c_named · match_score``; titles a generative LLM suggested
``c = c_suggested · match_score``; the top ``M`` LLM candidates ``c = c_candidate · r̂_j``
(``r̂`` normalised over the candidate set); liked reactions ``c_liked``; disliked titles
and 👎 reactions ``−c_disliked`` (preference 0).

:meth:`Recommendation.reblend` re-weights the stored stage scores without re-encoding or
re-folding, so moving a slider costs one vectorised blend.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from recsys.adapter import (Adapter, AdapterConfig, adapter_path, load_adapter, save_adapter,
                            train_adapter, training_requests)
from recsys.baseline import baseline_prior, random_scores
from recsys.blend import Blend, BlendWeights, blend, normalise_on_pool, normalise_weights
from recsys.catalogue import Catalogue, build_catalogue
from recsys.cf import ALSConfig, CFModel, Seed, fit_als
from recsys.data import DEFAULT_DATASET, ENV_DATA_DIR, default_cache_dir, load_dataset
from recsys.embed import ItemIndex, TextEncoder, load_item_index
from recsys.intent import BuiltinIntentParser, GenreZeroShot, Intent, IntentParser
from recsys.knowledge import (Knowledge, KnowledgeError, KnowledgeIndex, knowledge_source,
                              load_knowledge, poster_url, tokens)
from recsys.relevance import RelevanceConfig, RelevanceScores, score_relevance, top_indices
from recsys.progress import Progress, report, scaled
from recsys.splits import split_users
from recsys.titles import TitleMatcher

logger = logging.getLogger(__name__)

DEFAULT_K = 10
MAX_K = 100
TITLE_REASON_MIN = 0.55  #: c_t·cos(e_t, e_i) needed to say "close to <title>"


@dataclass(frozen=True)
class PipelineConfig:
    """Everything tunable about the pipeline except the blend weights of a request."""

    relevance: RelevanceConfig = RelevanceConfig()
    als: ALSConfig = ALSConfig()
    cf_candidates: int = 200            #: N of the CF top-N in the pool
    named_confidence: float = 6.0       #: c_named
    suggested_confidence: float = 3.0   #: c_suggested (titles a generative LLM proposed)
    candidate_seeds: int = 10           #: M: LLM candidates folded into CF
    candidate_confidence: float = 2.0   #: c_candidate
    liked_confidence: float = 6.0       #: c_liked (👍)
    disliked_confidence: float = 4.0    #: c_disliked (👎, disliked titles; enters as −c)
    weights: BlendWeights = BlendWeights()
    #: w_v: share of the prior from the knowledge's vote counts. 0: on ReDial's training
    #: requests every w_v > 0 lowered language-only recall (bench/knowledge_ablation.py --grid).
    prior_votes_weight: float = 0.0
    adapter: AdapterConfig = AdapterConfig()  #: the trained adapter's recipe
    train_adapter: bool = True          #: train the adapter during the first index build


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


@dataclass(frozen=True, eq=False)
class Recommendation:
    """Every stage of one request, and the final list. Cheap to :meth:`reblend`."""

    recommender: Recommender = field(repr=False)
    intent: Intent
    relevance: RelevanceScores
    seeds: tuple[Seed, ...]
    user_vector: np.ndarray
    s: np.ndarray
    cf_candidates: np.ndarray
    pool: np.ndarray
    excluded: np.ndarray
    r_hat: np.ndarray
    s_hat: np.ndarray
    b_hat: np.ndarray
    blend: Blend
    k: int
    items: tuple[RecommendedItem, ...]
    timings: dict[str, float]

    @property
    def weights(self) -> BlendWeights:
        """The weights of the final list."""
        return self.blend.weights

    @property
    def r(self) -> np.ndarray:
        """Stage 3 output for every item."""
        return self.relevance.r

    @property
    def b(self) -> np.ndarray:
        """Baseline prior for every item."""
        return self.recommender.baseline

    @property
    def llm_candidates(self) -> np.ndarray:
        """The LLM top-N (item indices, best first)."""
        return self.relevance.candidates

    def reblend(self, weights: BlendWeights | tuple[float, float, float], k: int | None = None,
                *, explain: bool = True) -> Recommendation:
        """The same request under other weights: no re-encoding, no re-folding.

        ``explain=False`` skips the explained item list (for weight sweeps)."""
        started = time.perf_counter()
        weights = _as_weights(weights)
        k = self.k if k is None else _check_k(k)
        mixed = blend(self.r_hat, self.s_hat, self.b_hat, weights, self.pool, self.excluded)
        items = self.recommender._items(self, mixed, k) if explain else ()
        timings = dict(self.timings)
        timings["reblend"] = (time.perf_counter() - started) * 1000
        return replace(self, blend=mixed, k=k, items=items, timings=timings)

    def ranking(self, system: str, k: int | None = None) -> np.ndarray:
        """Item indices of the top-``k`` under one system, for comparisons.

        Systems: ``"random"``, ``"popularity"``, ``"llm"`` (r), ``"cf"`` (s), ``"blend"``
        (current weights). Excluded items never appear.
        """
        k = self.k if k is None else k
        if system == "blend":
            return self.blend.ranking[:k]
        scores = {"llm": self.relevance.r, "cf": self.s, "popularity": self.recommender.baseline,
                  "random": random_scores(len(self.s), self.intent.text)}.get(system)
        if scores is None:
            raise ValueError(f"Unknown system {system!r}; use random, popularity, llm, cf or blend.")
        return top_indices(scores, k, self.excluded)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON object: ``{"intent", "items", "weights", "timing_ms"}``."""
        alpha, beta, gamma = self.weights.as_tuple()
        return {
            "intent": self.intent.to_dict(),
            "items": [item.to_dict() for item in self.items],
            "weights": {"alpha": alpha, "beta": beta, "gamma": gamma},
            "pseudo_history": [
                {"movie_id": int(self.recommender.catalogue.movie_ids[s.item]),
                 "title": self.recommender.catalogue.titles[s.item],
                 "confidence": round(float(s.confidence), 4), "reason": s.reason}
                for s in self.seeds],
            "timing_ms": {key: round(v, 2) for key, v in self.timings.items()},
        }


class Recommender:
    """Loads data and models once; answers requests; never mutates shared arrays.

    Examples
    --------
    >>> rec = Recommender.load()                                   # doctest: +SKIP
    >>> result = rec.recommend("90s sci-fi, no horror", k=5)       # doctest: +SKIP
    >>> [item.label for item in result.items]                      # doctest: +SKIP
    """

    def __init__(self, catalogue: Catalogue, encoder: TextEncoder, index: ItemIndex, cf: CFModel,
                 baseline: np.ndarray, matcher: TitleMatcher, *, parser: IntentParser | None = None,
                 config: PipelineConfig = PipelineConfig(), adapter: Adapter | None = None,
                 knowledge: KnowledgeIndex | None = None) -> None:
        self.catalogue = catalogue
        self.knowledge = knowledge
        self.encoder = encoder
        self.index = index
        self.cf = cf
        self.baseline = baseline
        self.matcher = matcher
        self.config = config
        zero_shot = GenreZeroShot(index.genre_names, index.genre_embeddings, catalogue.genre_names)
        self.builtin_parser = BuiltinIntentParser(
            catalogue, matcher, encoder.encode_query, zero_shot,
            people=knowledge.people if knowledge else None,
            zh_titles=knowledge.zh_titles if knowledge else None,
            keywords=knowledge.keyword_index if knowledge else ())
        self.parser: IntentParser = parser or self.builtin_parser
        self.adapter = adapter
        self.load_seconds = 0.0

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, data_dir: str | Path | None = None, *, dataset: str = DEFAULT_DATASET,
             cache_dir: str | Path | None = None, embed_model: str | None = None,
             config: PipelineConfig = PipelineConfig(), rebuild: bool = False,
             progress: Progress | None = None) -> Recommender:
        """Load data, encoder, item index and ALS, building caches on first use."""
        started = time.perf_counter()
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        # Importing torch + sentence-transformers takes most of a warm start (~6 s); it runs
        # in a background thread while the data, ALS factors and title index load.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="recsys-encoder") as pool:
            pending_encoder = pool.submit(TextEncoder, embed_model)
            report(progress, 0.0, "Loading MovieLens")
            raw = load_dataset(data_dir, dataset=dataset, cache_dir=cache,
                               progress=scaled(progress, 0, 0.1))
            catalogue = build_catalogue(raw)
            cf = fit_als(catalogue, config.als, cache_dir=cache, rebuild=rebuild,
                         progress=scaled(progress, 0.1, 0.15))
            report(progress, 0.15, "Indexing titles")
            matcher = TitleMatcher(catalogue.movie_ids.tolist(), list(catalogue.titles),
                                   catalogue.n_ratings.tolist())
            report(progress, 0.2, "Loading the embedding model")
            encoder = pending_encoder.result()
        index = load_item_index(catalogue, encoder, cache, rebuild=rebuild,
                                progress=scaled(progress, 0.2, 0.7))
        report(progress, 0.7, "Indexing movie knowledge")
        # Fetched only for the default download (a newcomer's set-up); a local data folder
        # reads $RECSYS_METADATA or what `python -m recsys fetch-knowledge` stored.
        fetch = data_dir is None and not os.environ.get(ENV_DATA_DIR, "").strip()
        knowledge = load_movie_knowledge(catalogue, cache, links=raw.links, fetch=fetch,
                                         progress=scaled(progress, 0.7, 0.75))
        index_k = KnowledgeIndex.build(knowledge, catalogue)
        prior = baseline_prior(catalogue, votes=knowledge.votes, votes_weight=config.prior_votes_weight)
        recommender = cls(catalogue, encoder, index, cf, prior, matcher,
                          config=config, knowledge=index_k)
        recommender.adapter = recommender.ensure_adapter(cache, rebuild=rebuild,
                                                         progress=scaled(progress, 0.75, 1.0))
        recommender.load_seconds = time.perf_counter() - started
        report(progress, 1.0, "Ready")
        return recommender

    def adapter_recipe(self) -> tuple[np.ndarray, AdapterConfig, list[tuple[str, list[int]]]]:
        """What the adapter of this recommender is trained on: the training users of
        :func:`recsys.splits.split_users`, :attr:`PipelineConfig.adapter` and the real requests
        of ``$RECSYS_TRAIN_REQUESTS`` (:func:`recsys.adapter.training_requests`)."""
        train_users, _ = split_users(self.catalogue)
        requests = training_requests(self.catalogue)
        config = self.config.adapter
        if not requests:
            weight, weight_named = config.synthetic_weights
            config = replace(config, weight=weight, weight_named=weight_named)
        return train_users, config, requests

    def adapter_file(self, cache_dir: str | Path | None = None) -> Path:
        """Where the adapter for this recommender is (or will be) cached."""
        users, config, requests = self.adapter_recipe()
        return adapter_path(Path(cache_dir) if cache_dir else default_cache_dir(), self, users,
                            config, requests)

    def ensure_adapter(self, cache_dir: str | Path | None = None, *, rebuild: bool = False,
                       progress: Progress | None = None) -> Adapter | None:
        """The cached adapter, trained first when there is none (about a minute on 2 cores,
        part of the first index build); ``None`` when :attr:`PipelineConfig.train_adapter`
        is off and none is cached, or when training is impossible (warning)."""
        users, config, requests = self.adapter_recipe()
        path = adapter_path(Path(cache_dir) if cache_dir else default_cache_dir(), self, users,
                            config, requests)
        adapter = None if rebuild else load_adapter(path, n_items=len(self.catalogue),
                                                    query_dim=self.encoder.dim)
        if adapter is not None or not self.config.train_adapter:
            return adapter
        report(progress, 0.0, "Training the adapter")
        try:
            adapter = train_adapter(self, users, config, requests=requests, progress=progress)
        except ValueError as exc:
            logger.warning("No adapter: %s", exc)
            return None
        save_adapter(adapter, path)
        return load_adapter(path, n_items=len(self.catalogue), query_dim=self.encoder.dim) or adapter

    # ------------------------------------------------------------------ requests
    def parse(self, text: str, parser: IntentParser | None = None) -> Intent:
        """Stage 1 only."""
        return (parser or self.parser).parse(text)

    def recommend(self, text: str | Intent, weights: BlendWeights | tuple[float, float, float] | None = None,
                  k: int = DEFAULT_K, *, liked: Iterable[int] = (), disliked: Iterable[int] = (),
                  seen: Iterable[int] = (), parser: IntentParser | None = None,
                  explain: bool = True, use_adapter: bool = True) -> Recommendation:
        """Run every stage for one request.

        Parameters
        ----------
        text:
            The user's words, or an already parsed :class:`Intent`.
        weights:
            α, β, γ (default :attr:`PipelineConfig.weights`).
        k:
            Length of the final list (1 … 100).
        liked, disliked, seen:
            ``movieId``s the user reacted to (👍 joins the CF history, 👎 enters it with
            preference 0; all three are never shown).
        parser:
            Overrides the recommender's intent parser for this request.
        explain:
            ``False`` skips building the explained item list (``items == ()``); the stage
            arrays and ``blend.ranking`` are complete either way. For evaluation loops.
        use_adapter:
            Add the trained adapter's term to ``r`` when an adapter is loaded.
        """
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        weights = _as_weights(weights if weights is not None else self.config.weights)
        k = _check_k(k)
        parsed_here = not isinstance(text, Intent)
        intent = self.parse(text, parser) if parsed_here else text
        t1 = time.perf_counter()
        timings["intent"] = (t1 - t0) * 1000
        if parsed_here and intent.llm_ms is not None:
            timings["llm_call"] = intent.llm_ms

        query = self.encoder.encode_query(intent.query_text)
        t2 = time.perf_counter()
        timings["encode"] = (t2 - t1) * 1000

        relevance = score_relevance(self.catalogue, self.index.embeddings, query, intent,
                                    self.config.relevance, self.adapter if use_adapter else None,
                                    self.knowledge)
        liked_idx = self.catalogue.indices(list(liked))
        disliked_idx = self.catalogue.indices(list(disliked))
        seen_idx = self.catalogue.indices(list(seen))
        excluded = relevance.excluded
        if liked_idx or disliked_idx or seen_idx:
            excluded = excluded.copy()
            excluded[liked_idx + disliked_idx + seen_idx] = True
            excluded.flags.writeable = False
        llm_top = relevance.candidates
        if excluded is not relevance.excluded:
            llm_top = top_indices(relevance.r, self.config.relevance.candidates, excluded)
            relevance = replace(relevance, candidates=llm_top, excluded=excluded)
        t3 = time.perf_counter()
        timings["relevance"] = (t3 - t2) * 1000

        seeds = tuple(self._pseudo_history(intent, relevance, liked_idx, disliked_idx))
        user_vector = self.cf.fold_in(seeds)
        s = self.cf.scores(user_vector)
        s.flags.writeable = False
        cf_top = top_indices(s, self.config.cf_candidates, excluded) if seeds else \
            np.zeros(0, dtype=np.int64)
        t4 = time.perf_counter()
        timings["cf"] = (t4 - t3) * 1000

        user_vector.flags.writeable = False
        cf_top.flags.writeable = False
        pool = np.union1d(llm_top, cf_top)
        pool.flags.writeable = False
        r_hat = normalise_on_pool(relevance.r, pool)
        s_hat = normalise_on_pool(s, pool)
        b_hat = normalise_on_pool(self.baseline, pool)
        mixed = blend(r_hat, s_hat, b_hat, weights, pool, excluded)
        t5 = time.perf_counter()
        timings["blend"] = (t5 - t4) * 1000

        result = Recommendation(
            recommender=self, intent=intent, relevance=relevance, seeds=seeds,
            user_vector=user_vector, s=s, cf_candidates=cf_top, pool=pool, excluded=excluded,
            r_hat=r_hat, s_hat=s_hat, b_hat=b_hat, blend=mixed, k=k, items=(), timings=timings)
        if explain:
            result = replace(result, items=self._items(result, mixed, k))
        t6 = time.perf_counter()
        timings["explain"] = (t6 - t5) * 1000
        timings["total"] = (t6 - t0) * 1000
        return result

    # ------------------------------------------------------------------ internals
    def _pseudo_history(self, intent: Intent, relevance: RelevanceScores, liked: list[int],
                        disliked: list[int]) -> list[Seed]:
        cfg = self.config
        cat = self.catalogue
        seeds: list[Seed] = []
        for ref in intent.titles:
            i = cat.index_of.get(ref.movie_id)
            if i is None or not self.cf.has_factors[i]:
                continue
            if ref.source == "liked":
                seeds.append(Seed(i, cfg.liked_confidence, f"you liked {cat.label(i)}"))
            else:
                seeds.append(Seed(i, cfg.named_confidence * ref.score, f"you mentioned {cat.label(i)}"))
        in_intent = {ref.movie_id for ref in intent.titles + intent.disliked_titles}
        for ref in intent.similar_titles:
            i = cat.index_of.get(ref.movie_id)
            if i is not None and self.cf.has_factors[i]:
                seeds.append(Seed(i, cfg.suggested_confidence * ref.score,
                                  f"the language model suggested {cat.label(i)}"))
        for i in liked:
            if self.cf.has_factors[i] and int(cat.movie_ids[i]) not in in_intent:
                seeds.append(Seed(i, cfg.liked_confidence, f"you liked {cat.label(i)}"))
        for ref in intent.disliked_titles:
            i = cat.index_of.get(ref.movie_id)
            if i is not None and self.cf.has_factors[i]:
                seeds.append(Seed(i, -cfg.disliked_confidence, f"you disliked {cat.label(i)}"))
        for i in disliked:
            if self.cf.has_factors[i] and int(cat.movie_ids[i]) not in in_intent:
                seeds.append(Seed(i, -cfg.disliked_confidence, f"you disliked {cat.label(i)}"))
        candidates = relevance.candidates
        if len(candidates) and cfg.candidate_seeds > 0:
            r_top = relevance.r[candidates]
            spread = float(r_top.max() - r_top.min())
            taken = 0
            for i in candidates:
                if taken >= cfg.candidate_seeds:
                    break
                if not self.cf.has_factors[i]:
                    continue
                weight = (float(relevance.r[i]) - float(r_top.min())) / spread if spread > 0 else 1.0
                seeds.append(Seed(int(i), cfg.candidate_confidence * weight,
                                  f"a top language-model match, {cat.label(int(i))}"))
                taken += 1
        return seeds

    def _items(self, result: Recommendation, mixed: Blend, k: int) -> tuple[RecommendedItem, ...]:
        top = mixed.ranking[:k]
        if not len(top):
            return ()
        cat = self.catalogue
        alpha, beta, gamma = mixed.weights.as_tuple()
        llm_rank = {int(i): n + 1 for n, i in enumerate(result.relevance.candidates)}
        cf_rank = {int(i): n + 1 for n, i in enumerate(result.cf_candidates)}
        merged = self.cf.merged(result.seeds)
        contrib = self.cf.contributions(merged, top) if merged else None
        context = _ReasonContext.of(result)
        know = self.knowledge.knowledge if self.knowledge is not None else None
        items = []
        for n, i in enumerate(top):
            i = int(i)
            parts = (alpha * float(result.r_hat[i]), beta * float(result.s_hat[i]),
                     gamma * float(result.b_hat[i]))
            reasons = self._reasons(result, context, i, parts, merged,
                                    None if contrib is None else contrib[n])
            items.append(RecommendedItem(
                rank=n + 1, index=i, movie_id=int(cat.movie_ids[i]), title=cat.titles[i],
                label=cat.label(i), year=int(cat.years[i]), genres=cat.genres[i],
                score=float(mixed.final[i]), r=float(result.r_hat[i]), s=float(result.s_hat[i]),
                b=float(result.b_hat[i]), r_raw=float(result.relevance.r[i]), s_raw=float(result.s[i]),
                b_raw=float(self.baseline[i]), contributions=parts, llm_rank=llm_rank.get(i),
                cf_rank=cf_rank.get(i), explanation="; ".join(r.text for r in reasons[:3]),
                reasons=tuple(reasons), people=know.people_of(i) if know else (),
                poster_url=poster_url(know.posters[i]) if know else ""))
        return tuple(items)

    def _reasons(self, result: Recommendation, context: _ReasonContext, i: int,
                 parts: tuple[float, float, float], seeds: list[Seed], contrib: np.ndarray | None
                 ) -> list[Reason]:
        cat = self.catalogue
        rel = result.relevance
        intent = result.intent
        reasons: list[Reason] = []
        alpha_r, beta_s, gamma_b = parts
        title_weight = self.config.relevance.title_weight
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
                lexical[i] >= 0.5 * self.config.relevance.lexical_weight and self.knowledge is not None:
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
        hits = [kw for kw, items in context.keyword_items.items()
                if i in items and kw.lower() not in named_people]
        if hits:
            reasons.append(Reason("keyword", "tagged " + ", ".join(f"“{h}”" for h in hits[:3]),
                                  alpha_r * 0.8))
        if intent.era is not None and cat.years[i] and intent.era.distance(cat.years[i:i + 1])[0] == 0:
            reasons.append(Reason("era", f"from {int(cat.years[i])}, in your era", alpha_r * 0.7))
        adapter_term = rel.components.get("adapter")
        if adapter_term is not None and adapter_term[i] > context.adapter_spread:
            reasons.append(Reason("adapter", "people who ask for this rated it highly", alpha_r * 0.75))
        if not reasons and alpha_r > 0:
            reasons.append(Reason("similar", "close to your description", alpha_r * 0.6))
        if contrib is not None and beta_s > 0 and len(contrib):
            others = np.array([seed.item != i for seed in seeds])
            j = int(np.argmax(np.where(others, contrib, -np.inf)))
            if others[j] and contrib[j] > 0:
                seed = seeds[j]
                who = cat.label(seed.item)
                if seed.reason.startswith("you mentioned"):
                    text = f"fans of {who}, which you mentioned, liked it"
                elif seed.reason.startswith("you liked"):
                    text = f"because you liked {who}"
                elif seed.reason.startswith("the language model"):
                    text = f"fans of {who} liked it"
                else:
                    text = f"fans of {who}, a top match, liked it"
                reasons.append(Reason("cf", text, beta_s))
        if gamma_b > 0 and result.b_hat[i] >= 0.6:
            reasons.append(Reason("popular", f"widely liked ({int(cat.n_ratings[i])} ratings, "
                                             f"★{cat.mean_rating[i]:.1f})", gamma_b))
        reasons.sort(key=lambda reason: -reason.weight)
        return reasons


@dataclass(frozen=True)
class _ReasonContext:
    """Per-request facts the explanations of every listed item share (computed once)."""

    keyword_items: dict[str, frozenset[int]]
    adapter_spread: float

    @classmethod
    def of(cls, result: Recommendation) -> _ReasonContext:
        rel = result.relevance
        adapter_term = rel.components.get("adapter")
        return cls({kw: frozenset(items.tolist()) for kw, items in rel.keyword_hits.items()},
                   float(adapter_term.std()) if adapter_term is not None else 0.0)


def load_movie_knowledge(catalogue: Catalogue, cache_dir: Path | None = None, *,
                         links: object = None, fetch: bool = False,
                         progress: Progress | None = None) -> Knowledge:
    """The knowledge for ``catalogue`` (:func:`recsys.knowledge.knowledge_source`), or empty
    knowledge with a warning when the configured file cannot be used.

    With ``fetch`` and nothing configured or fetched before, it is fetched first (Wikidata +
    Wikipedia, or TMDB when ``TMDB_API_KEY`` is set; :mod:`recsys.knowledge_fetch`) when the
    network answers; offline, or when the fetch fails, the pipeline runs without it (warning).
    """
    path = knowledge_source(cache_dir)
    if path is None and catalogue.domain != "movies":
        return Knowledge.from_catalogue(catalogue)       # a generic catalogue's own columns
    if path is None and fetch and cache_dir is not None and links is not None and len(links):  # type: ignore[arg-type]
        path = _fetch_knowledge(links, cache_dir, progress)
    try:
        return load_knowledge(catalogue, path)
    except KnowledgeError as exc:
        logger.warning("Movie knowledge not used: %s", exc)
        return Knowledge.empty(len(catalogue))


def _fetch_knowledge(links: object, cache_dir: Path, progress: Progress | None) -> Path | None:
    from recsys.knowledge_fetch import (KnowledgeFetchError, choose_source, fetch_knowledge,
                                        links_from_frames, reachable)

    source = choose_source("auto")
    if not reachable(source):
        logger.warning("Movie knowledge not fetched: %s is not reachable (offline?). Run "
                       "`python -m recsys fetch-knowledge` later, or set RECSYS_METADATA.",
                       "TMDB" if source == "tmdb" else "Wikidata")
        return None
    try:
        return fetch_knowledge(links_from_frames(links), cache_dir, source=source, progress=progress)
    except KnowledgeFetchError as exc:
        logger.warning("Movie knowledge fetch stopped: %s (what was fetched is kept; it resumes "
                       "on the next start)", exc)
        return knowledge_source(cache_dir)


def _as_weights(weights: BlendWeights | Sequence[float]) -> BlendWeights:
    if isinstance(weights, BlendWeights):
        return weights
    return BlendWeights(*normalise_weights(tuple(weights)))


def _check_k(k: int) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= int(k) <= MAX_K:
        raise ValueError(f"k must be a whole number from 1 to {MAX_K} (got {k!r}).")
    return int(k)
