"""Stage 3 — relevance ``r`` of every catalogue item to the request (embedding similarity plus intent terms).

For item ``i`` with unit embedding ``e_i``, request embedding ``q``, named titles ``T``
(match confidence ``c_t``), model-suggested titles ``T'``, liked genres ``L``, disliked
genres ``D``, keywords ``K`` and era ``[y0, y1]``::

    sim_i   = cos(q, e_i)
    nb_i    = max( max_{t∈T} c_t·cos(e_t, e_i),  λ'·max_{t∈T'} c_t·cos(e_t, e_i) )
    r_i     = (1 − w_t)·sim_i + w_t·nb_i                 (w_t = 0 when T ∪ T' is empty)
            + w_g · |G_i ∩ L| / |L|                       liked genres matched
            + w_k · |(tags_i ∪ kw_i) ∩ K| / |K|            keywords matched in tags or plot keywords
            + w_p · (1/|P|) Σ_{p∈P} ρ(p, i)               people named (knowledge: directed / billed)
            − w_q · max_{p∈P⁻} ρ(p, i)                     people the user does not want
            + w_l · lex_i                                  plot words (BM25 over keywords, overview, tags)
            − w_d · 1[G_i ∩ D ≠ ∅]                         disliked genre
            − w_x · |(tags_i ∪ kw_i) ∩ K⁻| / |K⁻|          disliked keywords
            − w_e · min(1, dist(year_i, [y0, y1]) / 10)    outside the era
            − w_n · max(0, max_{t∈T⁻} cos(e_t, e_i))        near a title the user disliked
            + w_f · Σ_{g∈G_i} f_g / |G_i|                  reactions: f_g ∈ [−1, 1] per genre
            + t_i · ((1 − m_i)(1 − h_i) if t_i > 0 else 1)  trained adapter (when present)

where ``t_i = λ · sd(r⁰) · z(a)_i``, ``r⁰`` is everything above the adapter's line, ``a`` the
adapter's item scores (:mod:`recsys.adapter`) and ``m_i = min(1, dist(year_i, [y0, y1]) / 10)``
(0 without an era) and ``h_i = 1`` when the request names genres itself (not zero-shot
guesses) and item ``i`` has none of them (0 otherwise): the adapter cannot lift a movie the
asked era or the asked genres rule out.

The weights live in :class:`RelevanceConfig`. The top-``N`` items by ``r`` (named and
disliked titles and disliked genres left out) are the LLM candidate set that seeds the CF
pseudo-history and half of the blend's candidate pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from recsys.catalogue import Catalogue
from recsys.intent import Intent, TitleRef
from recsys.knowledge import KnowledgeIndex, plot_words

if TYPE_CHECKING:
    from recsys.adapter import Adapter



@dataclass(frozen=True)
class RelevanceConfig:
    """Weights of the relevance formula (module docstring)."""

    title_weight: float = 0.5       #: w_t: share of r given to neighbours of named titles
    genre_weight: float = 0.10      #: w_g: bonus for matching the liked genres
    keyword_weight: float = 0.10    #: w_k: bonus for carrying the requested keywords as tags
    disliked_genre_penalty: float = 1.0   #: w_d
    disliked_keyword_penalty: float = 0.50  #: w_x: "nothing with dinosaurs" means none
    era_penalty: float = 0.15       #: w_e: full penalty ten years outside the era
    disliked_title_penalty: float = 0.10  #: w_n
    feedback_weight: float = 0.15   #: w_f: genres the user reacted to (👍 lift, 👎 push down)
    people_weight: float = 1.0      #: w_p: films the named people directed or star in
    disliked_people_penalty: float = 1.0   #: w_q: films of people the user does not want
    lexical_weight: float = 0.20    #: w_l: plot words matched in keywords / overview / tags
    candidates: int = 200           #: N: size of the LLM candidate set
    #: λ': how much a title a generative LLM suggested counts next to one the user named
    suggestion_weight: float = 0.8


@dataclass(frozen=True, eq=False)
class RelevanceScores:
    """Output of stage 3 (arrays are read-only, one value per catalogue item).

    ``components`` holds each weighted term of ``r`` (``"similarity"``, ``"titles"``,
    ``"genres"``, ``"keywords"``, ``"disliked_genres"``, ``"disliked_keywords"``, ``"era"``,
    ``"disliked_titles"``, ``"feedback"``, ``"adapter"``) so a page can show where a score came from;
    ``nearest_title`` is, per item, the index into ``refs`` of the named title it is
    closest to (−1 when there is none).
    """

    r: np.ndarray
    similarity: np.ndarray
    components: dict[str, np.ndarray]
    candidates: np.ndarray
    excluded: np.ndarray
    refs: tuple[TitleRef, ...]
    nearest_title: np.ndarray
    keyword_hits: dict[str, np.ndarray] = field(default_factory=dict)
    plot_words: tuple[str, ...] = ()


def excluded_items(catalogue: Catalogue, intent: Intent) -> np.ndarray:
    """``bool[n]``: items never recommended — named and disliked titles, disliked genres."""
    excluded = catalogue.items_with_genres(intent.disliked_genres).copy()
    named = [t.movie_id for t in intent.titles + intent.disliked_titles]
    excluded[catalogue.indices(named)] = True
    return excluded


#: The order of the terms in :attr:`RelevanceScores.components` (and of their sum).
TERMS = ("titles", "similarity", "genres", "keywords", "people", "disliked_people", "lexical",
         "disliked_genres", "disliked_keywords", "era", "disliked_titles", "feedback")


class ItemSpace(Protocol):
    """What stage 3 needs from the item embeddings (:class:`recsys.embed.ItemIndex`)."""

    @property
    def exact(self) -> bool: ...

    @property
    def extra_limit(self) -> int: ...

    def vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray: ...

    def similarity(self, vector: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray: ...


class _Dense:
    """A float32 embedding matrix as an :class:`ItemSpace` (every item scored exactly)."""

    exact = True
    extra_limit = 0

    def __init__(self, embeddings: np.ndarray) -> None:
        self.embeddings = embeddings

    def vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.embeddings[np.asarray(rows, dtype=np.int64)]

    def similarity(self, vector: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        return self.embeddings @ vector


def score_relevance(catalogue: Catalogue, embeddings: np.ndarray | ItemSpace, query: np.ndarray,
                    intent: Intent, config: RelevanceConfig = RelevanceConfig(),
                    adapter: Adapter | None = None, knowledge: KnowledgeIndex | None = None
                    ) -> RelevanceScores:
    """Compute ``r`` for every item (module docstring) and the top-``N`` candidates.

    ``embeddings``: the item matrix, or an :class:`ItemSpace` (an approximate index scores
    exactly the query's and each named title's nearest items plus the items the people,
    keyword and plot-word terms lift most). ``adapter`` (a :class:`recsys.adapter.Adapter`) adds
    its term when given; ``knowledge`` enables the people and plot-word terms.
    """
    n = len(catalogue)
    space: ItemSpace = _Dense(embeddings) if isinstance(embeddings, np.ndarray) else embeddings
    components: dict[str, np.ndarray] = {}

    if intent.liked_genres:
        cols = [catalogue.genre_column[g] for g in intent.liked_genres if g in catalogue.genre_column]
        if cols:
            matched = catalogue.genre_matrix[:, cols].sum(axis=1) / len(cols)
            components["genres"] = config.genre_weight * matched
    keyword_hits: dict[str, np.ndarray] = {}
    wanted = tuple(dict.fromkeys(intent.keywords + tuple(p.lower() for p in intent.people)))
    if wanted:
        hits = np.zeros(n, dtype=np.float64)
        for kw in wanted:
            items = _keyword_items(catalogue, knowledge, kw.lower())
            if items is not None:
                keyword_hits[kw] = items
                hits[items] += 1.0
        if hits.any():
            components["keywords"] = config.keyword_weight * hits / len(wanted)
    words: tuple[str, ...] = ()
    if knowledge is not None:
        if intent.people and config.people_weight:
            people = knowledge.people.scores(intent.people, n)
            if people.any():
                components["people"] = config.people_weight * people
        if intent.disliked_people and config.disliked_people_penalty:
            unwanted = np.zeros(n, dtype=np.float32)
            for name in intent.disliked_people:
                items, weights = knowledge.people.films(name)
                unwanted[items] = np.maximum(unwanted[items], weights)
            if unwanted.any():
                components["disliked_people"] = -config.disliked_people_penalty * unwanted
        if config.lexical_weight:
            named = [t.surface or t.title for t in intent.titles + intent.disliked_titles] \
                + list(intent.people) + list(intent.disliked_people)
            words = tuple(knowledge.lexical.matched_terms(plot_words(intent.query_text, named)))
            if words:
                components["lexical"] = config.lexical_weight * knowledge.lexical.scores(words)
    if intent.disliked_genres:
        components["disliked_genres"] = -config.disliked_genre_penalty * \
            catalogue.items_with_genres(intent.disliked_genres)
    if intent.disliked_keywords:
        hits = np.zeros(n, dtype=np.float64)
        for kw in intent.disliked_keywords:
            items = _keyword_items(catalogue, knowledge, kw.lower())
            if items is not None:
                hits[items] += 1.0
        if hits.any():
            components["disliked_keywords"] = -config.disliked_keyword_penalty * \
                hits / len(intent.disliked_keywords)
    era_miss = None
    if intent.era is not None:
        era_miss = np.minimum(1.0, intent.era.distance(catalogue.years) / 10.0)
        components["era"] = -config.era_penalty * era_miss
    disliked_idx = catalogue.indices([t.movie_id for t in intent.disliked_titles])
    if disliked_idx:
        near = np.max([space.similarity(v) for v in space.vectors(disliked_idx)], axis=0)
        components["disliked_titles"] = -config.disliked_title_penalty * np.maximum(near, 0.0)

    if intent.genre_feedback:
        net = np.zeros(len(catalogue.genre_names))
        for genre, value in intent.genre_feedback:
            if genre in catalogue.genre_column:
                net[catalogue.genre_column[genre]] = value
        counts = np.maximum(catalogue.genre_matrix.sum(axis=1), 1)
        components["feedback"] = config.feedback_weight * (catalogue.genre_matrix @ net) / counts

    lifted = None
    lifts = [components[t] for t in ("keywords", "people", "lexical") if t in components]
    if not space.exact and lifts:
        # the items other terms lift most are scored exactly too (at most extra_limit)
        lift = np.sum(lifts, axis=0)
        best = top_indices(lift, space.extra_limit)
        lifted = np.sort(best[lift[best] > 0])
    similarity = space.similarity(query, lifted)
    refs = intent.titles + intent.similar_titles
    ref_idx = catalogue.indices([t.movie_id for t in refs])
    kept = [t for t in refs if t.movie_id in catalogue.index_of]
    nearest = np.full(n, -1, dtype=np.int64)
    if ref_idx:
        weights = np.array([t.score * (config.suggestion_weight if t.source == "llm" else 1.0)
                            for t in kept], dtype=np.float32)
        # one mat-vec per title: ~3× faster than a skinny (n × d)·(d × |T|) product here
        neighbour = np.stack([space.similarity(v, lifted) for v in space.vectors(ref_idx)],
                             axis=1) * weights
        nearest = np.argmax(neighbour, axis=1)
        base = (1 - config.title_weight) * similarity
        components["titles"] = config.title_weight * neighbour[np.arange(n), nearest]
    else:
        base = similarity.copy()
    components["similarity"] = base
    components = {t: components[t] for t in TERMS if t in components}

    # r⁰: the terms added in TERMS order in their common precision (what summing the stacked
    # terms gives, without stacking a dozen catalogue-length arrays)
    total = np.zeros(n, dtype=np.result_type(*components.values()))
    for term in components.values():
        total += term
    r = total.astype(np.float32)
    if adapter is not None:
        term = adapter.term(query, r, names_movie=bool(intent.titles))
        if era_miss is not None:
            # The adapter may not lift what the asked era rules out: its lift fades with
            # the era miss, m_i = min(1, dist/10).
            term = np.where(term > 0, term * (1.0 - era_miss), term).astype(np.float32)
        asked = [g for g in intent.liked_genres if g not in intent.inferred_genres]
        if asked:
            # ... nor a movie outside the genres the request asked for (h_i = 1).
            outside = ~catalogue.items_with_genres(asked)
            term = np.where((term > 0) & outside, 0.0, term).astype(np.float32)
        components["adapter"] = term
        r = (r + components["adapter"]).astype(np.float32)
    excluded = excluded_items(catalogue, intent)
    candidates = top_indices(r, config.candidates, excluded)
    for array in [r, similarity, excluded, candidates, nearest, *components.values()]:
        array.flags.writeable = False
    return RelevanceScores(r=r, similarity=similarity, components=components, candidates=candidates,
                           excluded=excluded, refs=tuple(kept), nearest_title=nearest,
                           keyword_hits=keyword_hits, plot_words=words)


def _keyword_items(catalogue: Catalogue, knowledge: KnowledgeIndex | None, keyword: str
                   ) -> np.ndarray | None:
    """Items tagged ``keyword`` by users or carrying it as a plot keyword (knowledge)."""
    found = [items for form in _forms(keyword)
             for items in (catalogue.tag_index.get(form),
                           knowledge.keyword_items(form) if knowledge is not None else None)
             if items is not None]
    if not found:
        return None
    return found[0] if len(found) == 1 else np.unique(np.concatenate(found))


def _forms(keyword: str) -> tuple[str, ...]:
    """The keyword and its singular / plural ("dinosaurs" also finds "dinosaur")."""
    if keyword.endswith("ies") and len(keyword) > 4:
        return keyword, keyword[:-3] + "y"
    if keyword.endswith("s") and not keyword.endswith("ss") and len(keyword) > 3:
        return keyword, keyword[:-1]
    return keyword, keyword + "s"


def top_indices(scores: np.ndarray, k: int, excluded: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, skipping ``excluded`` items.

    Ties are broken by item index (the lower first), also at the ``k``-th place, so results
    are deterministic. Cost: two passes over the scores plus a selection among the few
    above a threshold estimated from a strided sample (a full selection only when the
    sample misjudges it).
    """
    # negated, in the input's float precision (float32 stays float32: same comparisons)
    values = np.array(scores, dtype=np.result_type(scores.dtype, np.float32), copy=True)
    np.negative(values, out=values)
    if excluded is not None:
        values[excluded] = np.inf
    n = len(values)
    k = min(int(k), int(np.count_nonzero(np.isfinite(values))))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:
        kth = _kth_smallest(values, k)
        better = np.flatnonzero(values < kth)
        chosen = np.concatenate([better, np.flatnonzero(values == kth)[:k - len(better)]])
    else:
        chosen = np.flatnonzero(np.isfinite(values))
    order = np.lexsort((chosen, values[chosen]))
    return chosen[order].astype(np.int64)


_SAMPLE = 16384


def _kth_smallest(values: np.ndarray, k: int) -> float:
    """The ``k``-th smallest finite value (1-based)."""
    n = len(values)
    if n > 8 * _SAMPLE and 64 * k < n:
        step = n // _SAMPLE
        sample = values[::step]
        position = min(len(sample) - 1, int(2 * k / step) + 8)
        threshold = np.partition(sample, position)[position]
        if np.isfinite(threshold):
            pool = values[values <= threshold]
            if len(pool) >= k:
                return float(np.partition(pool, k - 1)[k - 1])
    finite = values[np.isfinite(values)]
    return float(np.partition(finite, k - 1)[k - 1])
