"""The one user split every learned component and every simulated evaluation shares.

A seeded 20 % of MovieLens users are *held out*: they play new users in the simulated
evaluation and never reach anything trained for those runs (CF, popularity, the adapter,
weight tuning). Using one function everywhere keeps the split identical.
"""

from __future__ import annotations

import numpy as np

from recsys.catalogue import Catalogue

HELDOUT_FRACTION = 0.2
SPLIT_SEED = 0


def split_users(catalogue: Catalogue, heldout_fraction: float = HELDOUT_FRACTION,
                seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """``(train_user_ids, heldout_user_ids)``, both sorted; deterministic for a seed."""
    users = np.unique(catalogue.ratings["user_id"].to_numpy())
    rng = np.random.default_rng(seed)
    n_heldout = int(round(len(users) * heldout_fraction))
    heldout = np.sort(rng.choice(users, size=n_heldout, replace=False))
    train = np.setdiff1d(users, heldout)
    return train, heldout
