"""The recommender facade: load once, then ``recommend(text, weights, k)``.

:meth:`Recommender.recommend` is the list of stage calls, each a small unit with its own
contract::

    intent     Intent        = parse(text)                          recsys.intent / recsys.llm
    encode     q             = e(query_text)                        recsys.embed
    relevance  r             = score_relevance(q, intent)           recsys.relevance (stage 3)
    seeds      pseudo-history  (named, suggested, liked, disliked, top-M LLM candidates)
    cf         s             = Y·fold_in(seeds)                     recsys.cf (stage 4)
    prior      b             (loaded once)                          recsys.baseline
    blend      final = α·r̂ + β·ŝ + γ·b̂ over pool = top_N(r) ∪ top_N(s)   recsys.blend (stage 5)
    rerank     (optional) the LLM re-orders the top                 recsys.rerank
    explain    rows and reasons                                     recsys.explain

Pseudo-history seeds and their confidences ``c_j`` (:class:`PipelineConfig`):
named titles ``c = c_named · match_score``; titles a generative LLM suggested
``c = c_suggested · match_score``; the top ``M`` LLM candidates by ``u_j = r̂_j + w_b·b̂_j``
with ``c = c_candidate · û_j`` (hats: min-max over the candidate set; of the films that
match the words, those people watch now come first, :func:`candidate_seeds`; M = 20,
w_b = 0.5 for a zero-shot r, M = 10, w_b = 0 when r carries the adapter's term); liked
reactions ``c_liked``; disliked titles and 👎 reactions ``−c_disliked`` (preference 0).

A :class:`Recommendation` keeps every intermediate result and an
:class:`~recsys.explain.Explainer` (read-only engine data), not the recommender:
:meth:`Recommendation.reblend` re-weights the stored stage scores without re-encoding or
re-folding, so moving a slider costs one vectorised blend and one explanation pass.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recsys.adapter import (Adapter, AdapterConfig, adapter_path, load_adapter, save_adapter,
                            train_adapter, training_requests, training_requests_source)
from recsys.baseline import baseline_prior, random_scores
from recsys.blend import Blend, BlendWeights, blend, normalise_on_pool
from recsys.catalogue import Catalogue, build_catalogue
from recsys.cf import ALSConfig, CFModel, Seed, fit_als
from recsys.data import (DEFAULT_DATASET, ENV_DATA_DIR, default_cache_dir, folder_digest,
                         load_dataset, resolve_data_dir)
from recsys.embed import IndexConfig, ItemIndex, TextEncoder, load_item_index
from recsys.explain import TITLE_REASON_MIN, Explainer, Reason, RecommendedItem  # noqa: F401  (re-exported)
from recsys.intent import BuiltinIntentParser, GenreZeroShot, Intent, IntentParser
from recsys.knowledge import Knowledge, KnowledgeError, KnowledgeIndex, knowledge_source, load_knowledge
from recsys.relevance import RelevanceConfig, RelevanceScores, score_relevance, top_indices
from recsys.progress import Progress, report, scaled
from recsys.snapshot import EngineData, snapshot_path
from recsys.splits import split_users
from recsys import snapshot
from recsys.titles import TitleMatcher

if TYPE_CHECKING:
    from recsys.llm import ChatBackend
    from recsys.rerank import RerankOutcome

logger = logging.getLogger(__name__)

DEFAULT_K = 10
MAX_K = 100


@dataclass(frozen=True)
class SeedRecipe:
    """Which LLM candidates join the CF pseudo-history: the top ``count`` (M) by
    ``r̂ + prior_weight·b̂`` (w_b; :func:`candidate_seeds`)."""

    count: int = 10
    prior_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.count < 0 or self.prior_weight < 0:
            raise ValueError(f"SeedRecipe needs count ≥ 0 and prior_weight ≥ 0, got {self}")


@dataclass(frozen=True)
class PipelineConfig:
    """Everything tunable about the pipeline except the blend weights of a request."""

    relevance: RelevanceConfig = RelevanceConfig()
    als: ALSConfig = ALSConfig()
    cf_candidates: int = 200            #: N of the CF top-N in the pool
    named_confidence: float = 6.0       #: c_named
    suggested_confidence: float = 3.0   #: c_suggested (titles a generative LLM proposed)
    #: M, w_b when r is zero-shot: the LLM candidates folded into CF are the top 20 by
    #: r̂ + 0.5·b̂ (min-max on the candidate set), so of the films that match the words the
    #: ones people watch come first. Chosen on ReDial's training requests
    #: (bench/popularity.py --grid).
    candidate_seeds: SeedRecipe = SeedRecipe(count=20, prior_weight=0.5)
    #: M, w_b when r carries the trained adapter's term: its item bias already favours what
    #: people watch, and pulling again lowered 5-fold CV recall on ReDial's training
    #: requests (bench/adapter_cv.py --popularity), so the top 10 by r̂ alone.
    adapted_candidate_seeds: SeedRecipe = SeedRecipe(count=10, prior_weight=0.0)
    candidate_confidence: float = 2.0   #: c_candidate
    liked_confidence: float = 6.0       #: c_liked (👍)
    disliked_confidence: float = 4.0    #: c_disliked (👎, disliked titles; enters as −c)
    weights: BlendWeights = BlendWeights()
    #: w_v: share of the prior from the knowledge's vote counts. 0: on ReDial's training
    #: requests every w_v > 0 lowered language-only recall (bench/knowledge_ablation.py --grid).
    prior_votes_weight: float = 0.0
    #: h: half-life (years) of a rating's weight in the prior's popularity (None: all ratings
    #: count alike); see :mod:`recsys.baseline`. 1 year: chosen on ReDial's training requests
    #: (bench/popularity.py --grid).
    prior_half_life: float | None = 1.0
    adapter: AdapterConfig = AdapterConfig()  #: the trained adapter's recipe
    train_adapter: bool = True          #: train the adapter during the first index build
    #: Train one from synthetic descriptions alone when no real typed requests are available.
    #: Off: with the popular-now prior it no longer helped on ReDial's training requests
    #: (5-fold CV, one-SE rule: λ = 0 for both request types; bench/adapter_cv.py), and it
    #: cost three minutes of the first build.
    synthetic_adapter: bool = False
    #: No adapter above this many items: its training scores every item for every training
    #: request (a full softmax). Measured with bench/scale.py on 2 cores: ~3 min at 10k items,
    #: still training after 13 min at 100k. 65k keeps it for every MovieLens release (ml-25m
    #: has 62,423 movies); larger catalogues run without it (logged).
    adapter_max_items: int = 65_000
    index: IndexConfig = IndexConfig()  #: how item embeddings are stored and searched


@dataclass(frozen=True, eq=False)
class Recommendation:
    """Every stage of one request, and the final list. Cheap to :meth:`reblend`."""

    explainer: Explainer = field(repr=False)   #: builds the explained rows (read-only engine data)
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
    rerank: RerankOutcome | None = None   #: the LLM rerank of the top, when one was asked for

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
        return self.explainer.baseline

    @property
    def llm_candidates(self) -> np.ndarray:
        """The LLM top-N (item indices, best first)."""
        return self.relevance.candidates

    def reblend(self, weights: BlendWeights | tuple[float, float, float], k: int | None = None,
                *, explain: bool = True) -> Recommendation:
        """The same request under other weights: no re-encoding, no re-folding.

        ``explain=False`` skips the explained item list (for weight sweeps)."""
        started = time.perf_counter()
        weights = BlendWeights.of(weights)
        k = self.k if k is None else _check_k(k)
        mixed = blend(self.r_hat, self.s_hat, self.b_hat, weights, self.pool, self.excluded)
        items = self.explainer.items(self, mixed, k) if explain else ()
        timings = dict(self.timings)
        timings["reblend"] = (time.perf_counter() - started) * 1000
        return replace(self, blend=mixed, k=k, items=items, timings=timings, rerank=None)

    def ranking(self, system: str, k: int | None = None) -> np.ndarray:
        """Item indices of the top-``k`` under one system, for comparisons.

        Systems: ``"random"``, ``"popularity"``, ``"llm"`` (r), ``"cf"`` (s), ``"blend"``
        (current weights). Excluded items never appear.
        """
        k = self.k if k is None else k
        if system == "blend":
            return self.blend.ranking[:k]
        scores = {"llm": self.relevance.r, "cf": self.s, "popularity": self.explainer.baseline,
                  "random": random_scores(len(self.s), self.intent.text)}.get(system)
        if scores is None:
            raise ValueError(f"Unknown system {system!r}; use random, popularity, llm, cf or blend.")
        return top_indices(scores, k, self.excluded)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON object: ``{"intent", "items", "weights", "timing_ms", "model"}`` (plus
        ``"rerank"`` when an LLM rerank was asked for)."""
        alpha, beta, gamma = self.weights.as_tuple()
        catalogue = self.explainer.catalogue
        out: dict[str, Any] = {
            "intent": self.intent.to_dict(),
            "items": [item.to_dict() for item in self.items],
            "weights": {"alpha": alpha, "beta": beta, "gamma": gamma},
            "pseudo_history": [
                {"movie_id": int(catalogue.movie_ids[s.item]), "title": catalogue.titles[s.item],
                 "confidence": round(float(s.confidence), 4), "reason": s.reason}
                for s in self.seeds],
            "timing_ms": {key: round(v, 2) for key, v in self.timings.items()},
            # which models answered: the CF factors' engine (implicit here, or Spark MLlib)
            "model": {"cf": dict(self.explainer.cf.engine_info)},
        }
        if self.rerank is not None:
            out["rerank"] = self.rerank.to_dict()
        return out


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
        # in a background thread while the data, ALS factors, title index and knowledge load.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="recsys-encoder") as pool:
            pending_encoder = pool.submit(TextEncoder, embed_model)
            report(progress, 0.0, "Loading the catalogue")
            engine = load_engine_data(data_dir, dataset, cache, scaled(progress, 0, 0.1))
            catalogue = engine.catalogue
            cf = fit_als(catalogue, config.als, cache_dir=cache, rebuild=rebuild,
                         progress=scaled(progress, 0.1, 0.15))
            report(progress, 0.16, f"Indexing {catalogue.nouns.item} knowledge")
            # Fetched only for the default download (a newcomer's set-up); a local data folder
            # reads $RECSYS_METADATA or what `python -m recsys fetch-knowledge` stored.
            fetch = data_dir is None and not os.environ.get(ENV_DATA_DIR, "").strip()
            if engine.knowledge is not None:
                index_k = engine.knowledge
                knowledge = index_k.knowledge
            else:
                knowledge = load_movie_knowledge(catalogue, cache, links=engine.links, fetch=fetch,
                                                 progress=scaled(progress, 0.16, 0.2))
                index_k = KnowledgeIndex.build(knowledge, catalogue)
            report(progress, 0.2, "Loading the embedding model")
            encoder = pending_encoder.result()
        index = load_item_index(catalogue, encoder, cache, rebuild=rebuild,
                                progress=scaled(progress, 0.2, 0.75), config=config.index)
        prior = pipeline_prior(catalogue, config, knowledge.votes)
        recommender = cls(catalogue, encoder, index, cf, prior, engine.matcher,
                          config=config, knowledge=index_k)
        recommender.adapter = recommender.ensure_adapter(cache, rebuild=rebuild,
                                                         progress=scaled(progress, 0.75, 1.0))
        recommender.load_seconds = time.perf_counter() - started
        # What is loaded now lives as long as the process: keep the cycle collector from
        # scanning it again and again (millions of objects at a million items).
        gc.freeze()
        report(progress, 1.0, "Ready")
        return recommender

    def reconfigured(self, config: PipelineConfig) -> Recommender:
        """This recommender's catalogue, encoder, item index, CF, title matcher and knowledge
        under another ``config``, its prior recomputed and no adapter (benches comparing
        recipes; nothing is copied)."""
        votes = self.knowledge.knowledge.votes if self.knowledge is not None else None
        return type(self)(self.catalogue, self.encoder, self.index, self.cf,
                          pipeline_prior(self.catalogue, config, votes), self.matcher,
                          config=config, knowledge=self.knowledge)

    def adapter_recipe(self, cache_dir: str | Path | None = None
                       ) -> tuple[np.ndarray, AdapterConfig, list[tuple[str, list[int]]]]:
        """What the adapter of this recommender is trained on: the training users of
        :func:`recsys.splits.split_users`, :attr:`PipelineConfig.adapter` and the real requests
        (:func:`recsys.adapter.training_requests`: ``$RECSYS_TRAIN_REQUESTS``, else ReDial's
        training requests downloaded into ``cache_dir``; without them synthetic texts only)."""
        train_users, _ = split_users(self.catalogue)
        requests = training_requests(self.catalogue, cache_dir=cache_dir)
        config = self.config.adapter
        if not requests:
            weight, weight_named = config.synthetic_weights
            config = replace(config, weight=weight, weight_named=weight_named)
        return train_users, config, requests

    def adapter_file(self, cache_dir: str | Path | None = None) -> Path:
        """Where the adapter for this recommender is (or will be) cached."""
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        users, config, requests = self.adapter_recipe(cache)
        return adapter_path(cache, self, users, config, requests)

    def ensure_adapter(self, cache_dir: str | Path | None = None, *, rebuild: bool = False,
                       progress: Progress | None = None, fetch: bool | None = None) -> Adapter | None:
        """The cached adapter, trained first when there is none (about three minutes on 2 cores,
        part of the first index build); ``None`` when :attr:`PipelineConfig.train_adapter`
        is off and none is cached, when there are no real typed requests (unless
        :attr:`PipelineConfig.synthetic_adapter`), or when training is impossible (warning).

        ``fetch``: download ReDial's training requests first when no real requests are
        configured or cached (:func:`_fetch_requests`; offline there is no adapter, with a
        warning). Default: for a movie catalogue from the default download
        (``RECSYS_DATA_DIR`` unset), as movie knowledge is fetched."""
        if len(self.catalogue) > self.config.adapter_max_items:
            logger.info("No adapter: %d items is above adapter_max_items (%d)",
                        len(self.catalogue), self.config.adapter_max_items)
            return None
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        if fetch is None:
            fetch = self.catalogue.domain == "movies" and not os.environ.get(ENV_DATA_DIR, "").strip()
        fetched = fetch and self.config.train_adapter and training_requests_source(
            self.catalogue, cache_dir=cache).kind == "none"
        if fetched:
            _fetch_requests(self.catalogue, cache, scaled(progress, 0.0, 0.1))
            progress = scaled(progress, 0.1, 1.0)
        users, config, requests = self.adapter_recipe(cache)
        if not requests and not self.config.synthetic_adapter:
            if self.catalogue.domain == "movies":
                logger.warning("No adapter: no real typed requests to learn from (from synthetic "
                               "descriptions alone it did not help). Run `python -m recsys "
                               "fetch-requests` (ReDial, CC BY 4.0), or set RECSYS_TRAIN_REQUESTS.")
            else:
                logger.info("No adapter: no real typed requests (RECSYS_TRAIN_REQUESTS)")
            return None
        path = adapter_path(cache, self, users, config, requests)
        adapter = None if rebuild else load_adapter(path, n_items=len(self.catalogue),
                                                    query_dim=self.encoder.dim)
        if adapter is not None or not self.config.train_adapter:
            return adapter
        if not requests and self.catalogue.domain == "movies":
            logger.warning("The adapter learns from synthetic descriptions only (weaker): no real "
                           "requests. Run `python -m recsys fetch-requests` (ReDial, CC BY 4.0), "
                           "or set RECSYS_TRAIN_REQUESTS.")
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

    @property
    def explainer(self) -> Explainer:
        """The explanation stage over this engine's read-only data (:mod:`recsys.explain`)."""
        return Explainer(self.catalogue, self.cf, self.baseline, self.config.relevance, self.knowledge)

    def recommend(self, text: str | Intent, weights: BlendWeights | tuple[float, float, float] | None = None,
                  k: int = DEFAULT_K, *, liked: Iterable[int] = (), disliked: Iterable[int] = (),
                  seen: Iterable[int] = (), parser: IntentParser | None = None,
                  explain: bool = True, use_adapter: bool = True, intent_ms: float | None = None,
                  rerank: ChatBackend | str | None = None) -> Recommendation:
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
        intent_ms:
            With an already parsed ``text``: the milliseconds its parsing took (booked to the
            ``intent`` timing and the total, with ``llm_call`` from :attr:`Intent.llm_ms`).
        rerank:
            A chat backend: the LLM re-orders the top of the list within its budget
            (:func:`recsys.rerank.rerank_items`; the blend order stays on any failure). A
            string is the reason there is no backend (reported, nothing re-ordered).

        Timings (``timings``, milliseconds): ``intent``, ``llm_call`` (part of ``intent``),
        ``encode``, ``relevance``, ``cf``, ``blend``, ``explain``, ``rerank`` and ``total``.
        """
        clock = _Clock()
        weights = BlendWeights.of(weights if weights is not None else self.config.weights)
        k = _check_k(k)
        if isinstance(text, Intent):
            intent = text
            clock.book("intent", intent_ms or 0.0)
            if intent_ms is not None and intent.llm_ms is not None:
                clock.timings["llm_call"] = intent.llm_ms
        else:
            intent = self.parse(text, parser)
            clock.lap("intent")
            if intent.llm_ms is not None:
                clock.timings["llm_call"] = intent.llm_ms

        query = self.encoder.encode_query(intent.query_text)
        clock.lap("encode")
        relevance = self._relevance(intent, query, use_adapter, liked, disliked, seen)
        clock.lap("relevance")
        seeds = tuple(self._pseudo_history(intent, relevance, self.catalogue.indices(list(liked)),
                                           self.catalogue.indices(list(disliked))))
        user_vector, s, cf_top = self._collaborative(seeds, relevance.excluded)
        clock.lap("cf")
        pool = _frozen(np.union1d(relevance.candidates, cf_top))
        r_hat = normalise_on_pool(relevance.r, pool)
        s_hat = normalise_on_pool(s, pool)
        b_hat = normalise_on_pool(self.baseline, pool)
        mixed = blend(r_hat, s_hat, b_hat, weights, pool, relevance.excluded)
        clock.lap("blend")
        result = Recommendation(
            explainer=self.explainer, intent=intent, relevance=relevance, seeds=seeds,
            user_vector=user_vector, s=s, cf_candidates=cf_top, pool=pool, excluded=relevance.excluded,
            r_hat=r_hat, s_hat=s_hat, b_hat=b_hat, blend=mixed, k=k, items=(), timings=clock.timings)
        if explain:
            result = replace(result, items=result.explainer.items(result, mixed, k))
        clock.lap("explain")
        if rerank is not None:
            result = replace(result, **_rerank(rerank, result))
            clock.lap("rerank")
        clock.total()
        return result

    # ------------------------------------------------------------------ stages
    def _relevance(self, intent: Intent, query: np.ndarray, use_adapter: bool, liked: Iterable[int],
                   disliked: Iterable[int], seen: Iterable[int]) -> RelevanceScores:
        """Stage 3 (:func:`recsys.relevance.score_relevance`), with the movies the user
        reacted to excluded and the LLM top-N recomputed without them."""
        relevance = score_relevance(self.catalogue, self.index, query, intent,
                                    self.config.relevance, self.adapter if use_adapter else None,
                                    self.knowledge)
        reacted = self.catalogue.indices(list(liked) + list(disliked) + list(seen))
        if not reacted:
            return relevance
        excluded = relevance.excluded.copy()
        excluded[reacted] = True
        excluded.flags.writeable = False
        candidates = top_indices(relevance.r, self.config.relevance.candidates, excluded)
        return replace(relevance, candidates=candidates, excluded=excluded)

    def _collaborative(self, seeds: tuple[Seed, ...], excluded: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stage 4: ``(x_new, s, CF top-N)`` with ``s_i = y_iᵀ x_new`` for the fold-in of the
        pseudo-history (no CF candidates without seeds)."""
        user_vector = _frozen(self.cf.fold_in(seeds))
        s = _frozen(self.cf.scores(user_vector))
        cf_top = top_indices(s, self.config.cf_candidates, excluded) if seeds else \
            np.zeros(0, dtype=np.int64)
        return user_vector, s, _frozen(cf_top)

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
        adapted = "adapter" in relevance.components and bool(np.any(relevance.components["adapter"]))
        recipe = cfg.adapted_candidate_seeds if adapted else cfg.candidate_seeds
        if len(candidates) and recipe.count > 0:
            taken = 0
            for i, weight in candidate_seeds(relevance.r, self.baseline, candidates, recipe.prior_weight):
                if taken >= recipe.count:
                    break
                if not self.cf.has_factors[i]:
                    continue
                seeds.append(Seed(i, cfg.candidate_confidence * weight,
                                  f"a top language-model match, {cat.label(i)}"))
                taken += 1
        return seeds


def pipeline_prior(catalogue: Catalogue, config: PipelineConfig, votes: np.ndarray | None = None,
                   ratings: pd.DataFrame | None = None) -> np.ndarray:
    """The prior ``b`` as the pipeline computes it: :func:`recsys.baseline.baseline_prior`
    with ``config``'s half-life and vote weight (``ratings``: only these interactions, as
    evaluation does for its training users)."""
    return baseline_prior(catalogue, half_life=config.prior_half_life, ratings=ratings, votes=votes,
                          votes_weight=config.prior_votes_weight)


def candidate_seeds(r: np.ndarray, prior: np.ndarray, candidates: np.ndarray, prior_weight: float
                    ) -> list[tuple[int, float]]:
    """The LLM candidates in the order they join the CF pseudo-history, with their weight:
    ``u_i = r̂_i + w_b·b̂_i`` over ``candidates`` (r̂, b̂ min-max on the candidate set), best
    first (ties: the candidates' own order), weight ``(u_i − min u) / (max u − min u)``
    (1 when every ``u`` is equal). ``w_b = 0`` keeps the order of ``r``."""
    u = normalise_on_pool(r, candidates)[candidates].astype(np.float64)
    if prior_weight:
        u = u + prior_weight * normalise_on_pool(prior, candidates)[candidates]
    order = np.argsort(-u, kind="stable")
    spread = float(u.max() - u.min())
    weights = (u - u.min()) / spread if spread > 0 else np.ones_like(u)
    return [(int(candidates[j]), float(weights[j])) for j in order]


def load_engine_data(data_dir: str | Path | None, dataset: str, cache_dir: Path,
                     progress: Progress | None = None) -> EngineData:
    """The validated catalogue, its title index and (for a catalogue with its own
    descriptions and people, when no knowledge file is configured) its knowledge index:
    from the snapshot of this folder's content (:mod:`recsys.snapshot`), or read, validated,
    built and then snapshotted."""
    folder = resolve_data_dir(data_dir, dataset=dataset, cache_dir=cache_dir, progress=progress)
    path = snapshot_path(cache_dir, folder.resolve().name, folder_digest(folder))
    engine = snapshot.load(path)
    if engine is not None:
        for warning in engine.warnings:
            logger.warning("%s", warning)
        report(progress, 1.0, f"Loaded {len(engine.catalogue):,} {engine.catalogue.nouns.items}")
        return engine
    raw = load_dataset(data_dir, dataset=dataset, cache_dir=cache_dir, progress=progress)
    with snapshot.collector_paused():     # millions of small objects at a million items
        catalogue = build_catalogue(raw)
        report(progress, 1.0, f"Indexing {catalogue.nouns.item} titles")
        matcher = TitleMatcher(catalogue.movie_ids.tolist(), list(catalogue.titles),
                               catalogue.n_ratings.tolist())
        own = None
        if catalogue.domain != "movies" and knowledge_source(cache_dir) is None:
            own = KnowledgeIndex.build(Knowledge.from_catalogue(catalogue), catalogue)
    engine = EngineData(catalogue, matcher, raw.links, raw.warnings, own)
    snapshot.save(path, engine)
    return engine


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


def _fetch_requests(catalogue: Catalogue, cache_dir: Path, progress: Progress | None) -> Path | None:
    """ReDial's training requests for the adapter (:mod:`recsys.redial_fetch`) when its host
    answers; ``None`` with a warning when offline or when the download fails."""
    from recsys.redial_fetch import RedialFetchError, fetch_requests, reachable

    if not reachable():
        logger.warning("ReDial's training requests not fetched: its host is not reachable "
                       "(offline?); `python -m recsys fetch-requests` fetches them later.")
        return None
    try:
        return fetch_requests(catalogue, cache_dir, progress=progress)
    except RedialFetchError as exc:
        logger.warning("ReDial's training requests not fetched: %s. `python -m recsys "
                       "fetch-requests` tries again.", exc)
        return None


def _check_k(k: int) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= int(k) <= MAX_K:
        raise ValueError(f"k must be a whole number from 1 to {MAX_K} (got {k!r}).")
    return int(k)


class _Clock:
    """Stage timings in milliseconds: :meth:`lap` books the time since the previous lap."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.booked = 0.0
        self.timings: dict[str, float] = {}

    def book(self, key: str, ms: float) -> None:
        """Time spent before this clock started (e.g. an intent parsed earlier)."""
        self.timings[key] = float(ms)
        self.booked += float(ms)

    def lap(self, key: str) -> None:
        now = time.perf_counter()
        self.timings[key] = self.timings.get(key, 0.0) + (now - self.last) * 1000
        self.last = now

    def total(self) -> None:
        self.timings["total"] = self.booked + (time.perf_counter() - self.started) * 1000


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _rerank(backend: ChatBackend | str, result: Recommendation) -> dict[str, Any]:
    """``items`` re-ordered by the LLM and the ``rerank`` outcome (the blend order stays on any
    failure; each row keeps its blend ``rank``, as in the CLI's ``--rerank``)."""
    from recsys.rerank import not_configured, rerank_items

    if isinstance(backend, str):
        return {"rerank": not_configured(backend)}
    items, outcome = rerank_items(backend, result.intent.text, list(result.items))
    return {"items": tuple(items) if outcome.applied else result.items, "rerank": outcome}
