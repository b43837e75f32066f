"""Held-out users: the user split, train-only models, and each user's time-ordered history.

The ``simulated``, ``sampled20`` and ``warmup`` protocols treat held-out MovieLens users as
new users. :func:`split_users` is the product's seeded split; :func:`split_recommender`
rebuilds every data-derived part (item tags in item texts and the keyword index, ALS, the
popularity prior, the title matcher's popularity, the adapter) from the training users
only. :func:`user_histories` splits a user's liked items (rating ≥ ``LIKED_RATING``) by
time: the earlier half is described, the later half are the targets.
:func:`held_out_setup` builds both the reporting models and a tuning model (validation
users split off the training users).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys.cachefile import load_npz, save_npz
from recsys.evaluation.requests import DEFAULT_SEED, DEFAULTS, ProgressFn

if TYPE_CHECKING:
    import pandas as pd

    from recsys.adapter import Adapter
    from recsys.catalogue import Catalogue
    from recsys.data import RawData
    from recsys.embed import ItemIndex, TextEncoder
    from recsys.pipeline import Recommender

logger = logging.getLogger(__name__)

LIKED_RATING = DEFAULTS.liked_rating   #: read-only aliases of :class:`EvaluationConfig` fields
MIN_LIKED = DEFAULTS.min_liked
HOLDOUT = DEFAULTS.holdout


@dataclass(frozen=True)
class UserSplit:
    """Which users train the models and which are held out (seeded)."""

    train: np.ndarray
    held_out: np.ndarray
    seed: int
    fraction: float

    def to_dict(self) -> dict[str, Any]:
        """Sizes and the recipe (for the JSON payload)."""
        return {"seed": self.seed, "held_out_fraction": self.fraction,
                "train_users": len(self.train), "held_out_users": len(self.held_out)}


def split_users(user_ids: Iterable[int], fraction: float = HOLDOUT, seed: int = DEFAULT_SEED) -> UserSplit:
    """Hold out ``round(fraction · n)`` users with :func:`recsys.splits.split_user_ids` — the
    split every learned component shares, so the default split here is the product's."""
    from recsys.splits import split_user_ids

    train, held = split_user_ids(user_ids, fraction, seed)
    return UserSplit(train, held, seed, fraction)


def train_only_data(raw: RawData, users: np.ndarray, label: str = "") -> RawData:
    """The data set restricted to ``users``' ratings and tags (movies kept, so item indices
    do not change); a new fingerprint keys every cache built from it."""
    users = np.asarray(users, dtype=np.int64)
    ratings = raw.ratings[raw.ratings["user_id"].isin(users)].reset_index(drop=True)
    tags = raw.tags[raw.tags["user_id"].isin(users)].reset_index(drop=True)
    digest = hashlib.sha1(np.sort(users).tobytes()).hexdigest()[:16]
    fingerprint = hashlib.sha1(f"{raw.fingerprint}|users:{digest}|{label}".encode()).hexdigest()
    return replace(raw, ratings=ratings, tags=tags, fingerprint=fingerprint)


def split_index(catalogue: Catalogue, base_catalogue: Catalogue, base_index: ItemIndex,
                encoder: TextEncoder, cache_dir: Path, progress: ProgressFn | None = None) -> ItemIndex:
    """The item index of a train-only catalogue: items whose text (tags) changed are
    re-encoded, the rest keep the base index's embeddings; cached like any item index."""
    from recsys.embed import index_path, load_item_index
    from recsys.text import item_texts

    path = index_path(cache_dir, catalogue, encoder.model_id)
    if load_npz(path, {"embeddings": (len(catalogue), encoder.dim)}, what="item index") is None:
        new_texts = item_texts(catalogue)
        old_texts = item_texts(base_catalogue)
        changed = [i for i, (a, b) in enumerate(zip(new_texts, old_texts)) if a != b]
        logger.info("train-only index: re-encoding %d of %d item texts", len(changed), len(new_texts))
        embeddings = np.array(base_index.embeddings, dtype=np.float32, copy=True)
        if changed:
            embeddings[changed] = encoder.encode([new_texts[i] for i in changed], progress=progress)
        save_npz(path, embeddings=embeddings, genre_embeddings=np.asarray(base_index.genre_embeddings))
    return load_item_index(catalogue, encoder, cache_dir)


def split_recommender(base: Recommender, raw: RawData, users: np.ndarray, *,
                      cache_dir: Path | None = None, label: str = "train",
                      progress: ProgressFn | None = None) -> Recommender:
    """A :class:`~recsys.pipeline.Recommender` whose data-derived parts — item tags in the
    item texts and keyword index, ALS, the popularity prior, the title matcher's popularity —
    come from ``users`` only. The encoder and the configuration are shared with ``base``."""
    from recsys.catalogue import build_catalogue
    from recsys.cf import fit_als
    from recsys.data import default_cache_dir
    from recsys import pipeline
    from recsys.titles import TitleMatcher

    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    catalogue = build_catalogue(train_only_data(raw, users, label))
    if not np.array_equal(catalogue.movie_ids, base.catalogue.movie_ids):
        raise ValueError("the train-only catalogue must keep the base catalogue's items")
    index = split_index(catalogue, base.catalogue, base.index, base.encoder, cache, progress)
    cf = fit_als(catalogue, base.config.als, cache_dir=cache, users=np.asarray(users),
                 cache_tag=f"eval-{label}")
    matcher = TitleMatcher(catalogue.movie_ids.tolist(), list(catalogue.titles),
                           catalogue.n_ratings.tolist())
    parser = None if base.parser is base.builtin_parser else base.parser
    knowledge = None
    if base.knowledge is not None:
        # External knowledge stays; the user tags inside its plot-word index are train-only.
        from recsys.knowledge import KnowledgeIndex

        knowledge = KnowledgeIndex.build(base.knowledge.knowledge, catalogue)
    prior = pipeline.pipeline_prior(catalogue, base.config,
                                    knowledge.knowledge.votes if knowledge else None)
    recommender = pipeline.Recommender(catalogue, base.encoder, index, cf, prior, matcher,
                                       parser=parser, config=base.config, knowledge=knowledge)
    if getattr(base, "adapter", None) is not None:
        recommender.adapter = split_adapter(recommender, users, cache, progress)
    return recommender


def split_adapter(recommender: Recommender, users: np.ndarray, cache_dir: Path,
                  progress: ProgressFn | None = None) -> Adapter | None:
    """The trained adapter of a train-only recommender: trained on ``users`` with that
    recommender's item index and ALS (the product's adapter saw every user's tags and ALS
    factors, so it would leak held-out users), cached like the product's adapter.
    ``None`` when the adapter module is not available."""
    try:
        from recsys.adapter import adapter_path, load_adapter, save_adapter, train_adapter
    except ImportError:  # pragma: no cover - the adapter is optional
        return None

    # The same recipe as the product's adapter (real requests included: they are other
    # people than MovieLens' held-out users), with MovieLens users restricted to ``users``.
    _, config, requests = recommender.adapter_recipe(cache_dir)
    if not requests and not recommender.config.synthetic_adapter:
        return None                     # as the product: no adapter without real requests
    path = adapter_path(cache_dir, recommender, np.asarray(users), config, requests)
    adapter = load_adapter(path, n_items=len(recommender.catalogue), query_dim=recommender.encoder.dim)
    if adapter is None:
        logger.info("training the adapter on %d train-only users (once; cached)", len(users))
        adapter = train_adapter(recommender, np.asarray(users), config, requests=requests,
                                progress=progress)
        save_adapter(adapter, path)
        adapter = load_adapter(path) or adapter
    return adapter


@dataclass(frozen=True)
class UserHistory:
    """One held-out user's time-ordered ratings split into what is described and what is
    predicted."""

    user_id: int
    earlier: tuple[int, ...]           #: liked movieIds described (time order)
    earlier_ratings: tuple[float, ...]
    history: tuple[int, ...]           #: every movieId rated up to the split (left out of rankings)
    disliked: tuple[int, ...]          #: movieIds rated ≤ 2.5 up to the split
    targets: tuple[int, ...]           #: liked movieIds after the split (time order)
    rated: frozenset[int]              #: every movieId the user ever rated


def user_histories(ratings: pd.DataFrame, users: Iterable[int], *, liked_rating: float = LIKED_RATING,
                   min_liked: int = MIN_LIKED) -> list[UserHistory]:
    """Split each user's liked items by time: the earlier half is described, the later half
    is the targets. Users with fewer than ``min_liked`` liked items are skipped."""
    wanted = {int(u) for u in users}
    frame = ratings[ratings["user_id"].isin(list(wanted))]
    frame = frame.sort_values(["user_id", "timestamp", "movie_id"], kind="stable")
    out = []
    for user_id, rows in frame.groupby("user_id", sort=True):
        movies = rows["movie_id"].to_numpy(dtype=np.int64)
        values = rows["rating"].to_numpy(dtype=np.float64)
        liked_pos = np.flatnonzero(values >= liked_rating)
        if len(liked_pos) < min_liked:
            continue
        n_described = len(liked_pos) // 2
        cut = liked_pos[n_described - 1]           # position of the last described liked item
        earlier_pos = liked_pos[:n_described]
        later_pos = liked_pos[n_described:]
        targets = tuple(dict.fromkeys(int(m) for m in movies[later_pos]))
        history = tuple(dict.fromkeys(int(m) for m in movies[:cut + 1] if int(m) not in targets))
        out.append(UserHistory(
            user_id=int(user_id), earlier=tuple(int(m) for m in movies[earlier_pos]),
            earlier_ratings=tuple(float(v) for v in values[earlier_pos]), history=history,
            disliked=tuple(int(m) for m, v in zip(movies[:cut + 1], values[:cut + 1]) if v <= 2.5),
            targets=targets, rated=frozenset(int(m) for m in movies)))
    return out


@dataclass
class HeldOutSetup:
    """The models and cases of the simulated / sampled20 protocols."""

    split: UserSplit
    inner: UserSplit
    test_rec: Recommender
    tune_rec: Recommender
    test_histories: list[UserHistory]
    tune_histories: list[UserHistory]
    universe: np.ndarray
    skipped_users: int
    facts: dict[str, Any] = field(default_factory=dict)


def held_out_setup(base: Recommender, raw: RawData, *, seed: int = DEFAULT_SEED, fraction: float = HOLDOUT,
                   users: int | None = None, cache_dir: Path | None = None,
                   progress: ProgressFn | None = None) -> HeldOutSetup:
    """Split users, build the train-only recommender (reported on held-out users) and a
    tuning recommender (train users minus a seeded validation share, tuned on that share).

    Held-out users never reach CF, popularity, tags, the title matcher or tuning.
    ``users`` subsamples the held-out users (seeded) for quick runs.
    """
    all_users = raw.ratings["user_id"].to_numpy()
    split = split_users(all_users, fraction, seed)
    inner = split_users(split.train, fraction, seed + 1000)
    test_rec = split_recommender(base, raw, split.train, cache_dir=cache_dir, label=f"train-s{seed}",
                                 progress=progress)
    tune_rec = split_recommender(base, raw, inner.train, cache_dir=cache_dir, label=f"inner-s{seed}",
                                 progress=progress)
    held = split.held_out
    if users is not None and users < len(held):
        held = np.sort(np.random.default_rng([seed, 3]).choice(held, size=users, replace=False))
    validation = inner.held_out
    if users is not None and users < len(validation):
        validation = np.sort(np.random.default_rng([seed, 4]).choice(validation, size=users, replace=False))
    test_histories = user_histories(raw.ratings, held)
    tune_histories = user_histories(raw.ratings, validation)
    universe = np.unique(raw.ratings["movie_id"].to_numpy())
    facts = {"tags_total": len(raw.tags),
             "tags_by_held_out_users": int(raw.tags["user_id"].isin(split.held_out).sum()),
             "tags_by_validation_users": int(raw.tags["user_id"].isin(inner.held_out).sum()),
             "item_texts_changed_by_removing_held_out_tags": _changed_texts(base.catalogue, test_rec.catalogue),
             "item_texts_changed_for_tuning_models": _changed_texts(base.catalogue, tune_rec.catalogue)}
    return HeldOutSetup(split, inner, test_rec, tune_rec, test_histories, tune_histories, universe,
                        skipped_users=len(held) - len(test_histories), facts=facts)


def _changed_texts(a: Catalogue, b: Catalogue) -> int:
    """How many items' texts differ between two catalogues of the same items."""
    from recsys.text import item_texts

    return sum(x != y for x, y in zip(item_texts(a), item_texts(b)))


