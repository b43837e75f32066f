"""The held-out protocols' cases: :class:`EvalRequest`\\ s written from user histories.

``simulated``: three descriptions per user (``language``, ``titles``, ``both``); targets are
the later liked items and everything rated up to the split is left out of the ranking.
``sampled20``: the titles-only description, every earlier liked item as a liked reaction,
and 20 candidates (the next liked item plus 19 the user never rated). ``warmup``: the
language-only description followed by ``n`` 👍 on the most recent described items. No
description names a target title.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from recsys.evaluation.descriptions import TitleGuard, describe_user
from recsys.evaluation.heldout import UserHistory
from recsys.evaluation.requests import DEFAULT_SEED, DEFAULTS, VARIANTS, EvalRequest, Variant

if TYPE_CHECKING:
    from recsys.catalogue import Catalogue

logger = logging.getLogger(__name__)

SAMPLED_CANDIDATES = DEFAULTS.sampled_candidates   #: read-only aliases of EvaluationConfig fields
WARMUP_STEPS = DEFAULTS.warmup_steps


def simulated_requests(catalogue: Catalogue, histories: Sequence[UserHistory], *, seed: int = DEFAULT_SEED,
                       variants: Sequence[Variant] = VARIANTS) -> list[EvalRequest]:
    """Three descriptions per held-out user (targets = later liked items; the history up to
    the split is left out of rankings). Cases whose description cannot avoid a target
    title are dropped (logged)."""
    out = []
    for h in histories:
        forbidden = TitleGuard(_target_titles(catalogue, h.targets))
        for variant in variants:
            text = describe_user(catalogue, h, variant, seed=seed, forbidden=forbidden)
            if text is None:
                logger.info("user %s: no %s description avoids the target titles", h.user_id, variant)
                continue
            out.append(EvalRequest(id=f"user-{h.user_id}-{variant}", text=text, targets=h.targets,
                                   named=h.history, has_mention=variant != "language",
                                   group=f"user-{h.user_id}", variant=variant))
    return out


def sampled_requests(catalogue: Catalogue, histories: Sequence[UserHistory], universe: np.ndarray, *,
                     seed: int = DEFAULT_SEED, n_candidates: int = SAMPLED_CANDIDATES) -> list[EvalRequest]:
    """Per user: the next liked item plus ``n_candidates − 1`` random items the user never
    rated (from ``universe``, movieIds); the text is the titles-only description and every
    earlier liked item is passed as a liked reaction."""
    out = []
    universe = np.asarray(universe, dtype=np.int64)
    for h in histories:
        target = h.targets[0]
        forbidden = TitleGuard(_target_titles(catalogue, (target,)))
        text = describe_user(catalogue, h, "titles", seed=seed, forbidden=forbidden)
        if text is None:
            continue
        rng = np.random.default_rng([seed, h.user_id, 20])
        allowed = universe[~np.isin(universe, np.fromiter(h.rated, dtype=np.int64))]
        negatives = rng.choice(allowed, size=n_candidates - 1, replace=False)
        out.append(EvalRequest(id=f"user-{h.user_id}-sampled", text=text, targets=(target,),
                               liked=h.earlier, candidates=(target, *(int(m) for m in negatives)),
                               group=f"user-{h.user_id}", variant="titles"))
    return out


def _target_titles(catalogue: Catalogue, movie_ids: Iterable[int]) -> list[str]:
    """Display titles of ``movie_ids`` (those a description must not name)."""
    return [catalogue.display_titles[i] for i in catalogue.indices(list(movie_ids))]


def warmup_requests(catalogue: Catalogue, histories: Sequence[UserHistory], *, seed: int = DEFAULT_SEED,
                    steps: Sequence[int] = WARMUP_STEPS) -> list[EvalRequest]:
    """Per user with at least ``max(steps)`` described items: the language-only description,
    then ``n`` 👍 for each step — the user's most recent described items, most recent first;
    targets and exclusions as in ``simulated``. The same users at every step."""
    out = []
    need = max(steps)
    for h in histories:
        if len(h.earlier) < need:
            continue
        text = describe_user(catalogue, h, "language", seed=seed,
                             forbidden=TitleGuard(_target_titles(catalogue, h.targets)))
        if text is None:
            continue
        recent = tuple(reversed(h.earlier))
        for n in steps:
            out.append(EvalRequest(id=f"user-{h.user_id}-warm{n}", text=text, targets=h.targets,
                                   named=h.history, group=f"user-{h.user_id}", variant=str(n),
                                   reactions=recent[:n]))
    return out
