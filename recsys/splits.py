"""The one user split every learned component and every simulated evaluation shares.

A seeded 20 % of MovieLens users are *held out*: they play new users in the simulated
evaluation and never reach anything trained for those runs (CF, popularity, the adapter,
weight tuning). Using one function everywhere keeps the split identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from recsys.catalogue import Catalogue


@dataclass(frozen=True)
class SplitConfig:
    """The product's user split (one for every learned component and every evaluation)."""

    #: Share of users held out: they play new users and never reach anything trained.
    heldout_fraction: float = 0.2
    #: Seed of the draw (the evaluation's default seed too, so its held-out users are these).
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.heldout_fraction < 1:
            raise ValueError("the held-out fraction must be between 0 and 1")


DEFAULT_SPLIT = SplitConfig()
HELDOUT_FRACTION = DEFAULT_SPLIT.heldout_fraction   #: read-only alias of the default share
SPLIT_SEED = DEFAULT_SPLIT.seed                     #: read-only alias of the default seed


def split_user_ids(user_ids: Iterable[int], heldout_fraction: float = HELDOUT_FRACTION,
                   seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """``(train_user_ids, heldout_user_ids)`` of the distinct ``user_ids``, both sorted:
    ``round(fraction · n)`` users drawn by a generator seeded with ``seed``."""
    if not 0 < heldout_fraction < 1:
        raise ValueError("the held-out fraction must be between 0 and 1")
    users = np.unique(np.asarray(list(user_ids), dtype=np.int64))
    rng = np.random.default_rng(seed)
    n_heldout = int(round(len(users) * heldout_fraction))
    heldout = np.sort(rng.choice(users, size=n_heldout, replace=False))
    return np.setdiff1d(users, heldout), heldout


def split_users(catalogue: Catalogue, heldout_fraction: float = HELDOUT_FRACTION,
                seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The product's split of the catalogue's users (see :func:`split_user_ids`)."""
    return split_user_ids(catalogue.ratings["user_id"].to_numpy(), heldout_fraction, seed)
