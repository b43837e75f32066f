"""Evaluation cases and the vocabulary shared by every protocol.

:class:`EvalRequest` is one case (text in, target ``movieId``\\ s out); :func:`load_requests`
reads ReDial-style JSON lines and :func:`drop_trained` leaves out those the adapter trained on.
The constants name the systems, protocols, list length, seed and tuning metric every other
evaluation module uses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from recsys.profiles import VARIANTS, Variant  # noqa: F401  (simulated description variants; re-exported)
from recsys.splits import DEFAULT_SPLIT

if TYPE_CHECKING:
    from recsys.pipeline import Recommender

logger = logging.getLogger(__name__)

#: The systems every protocol ranks with (display order): a random list, most popular first,
#: relevance ``r`` only (the "LLM" stage), CF ``s`` only, and the blend.
System = Literal["random", "popularity", "llm", "cf", "blend"]
SYSTEMS: tuple[System, ...] = get_args(System)
ALL_SYSTEMS = SYSTEMS + ("blend-tuned",)
#: Evaluation protocols (``python -m recsys evaluate --protocol``; README, "Quality").
EvalProtocol = Literal["redial", "simulated", "sampled20", "warmup"]
PROTOCOLS: tuple[EvalProtocol, ...] = get_args(EvalProtocol)


@dataclass(frozen=True)
class EvaluationConfig:
    """The defaults of every protocol (``python -m recsys evaluate`` / ``sweep`` take theirs
    from here)."""

    #: Cut-off of Recall / NDCG / HR (``--k``).
    k: int = 10
    #: Items kept per ranked list (Recall@50, MRR within the top 50).
    list_length: int = 50
    #: Seed of splits, samples and the bootstrap: the product's split seed, so the default
    #: held-out users are the product's (``--seed``).
    seed: int = DEFAULT_SPLIT.seed
    #: Share of users held out in the simulated protocols: the product's (``--holdout``).
    holdout: float = DEFAULT_SPLIT.heldout_fraction
    #: Bootstrap resamples of the 95 % intervals (``--resamples``).
    resamples: int = 1000
    #: The metric blend-tuned optimises (``--tune-metric``).
    tune_metric: str = "ndcg@10"
    #: Step of the α/β/γ grid of ``sweep`` (0.1: 66 points).
    sweep_step: float = 0.1
    #: A rating at or above it is a "liked" item (simulated, sampled20, warm-up).
    liked_rating: float = 4.0
    #: Held-out users need this many liked items (≥ 2 described, ≥ 2 targets).
    min_liked: int = 4
    #: sampled20: the true next item plus this many minus one unrated items.
    sampled_candidates: int = 20
    #: Warm-up: the numbers of 👍 reactions after the description.
    warmup_steps: tuple[int, ...] = (0, 1, 2, 3, 5, 10)

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.list_length:
            raise ValueError("k must be between 1 and list_length")
        if not 0 < self.holdout < 1:
            raise ValueError("holdout must be between 0 and 1")
        if self.resamples < 100:
            raise ValueError("resamples must be at least 100")
        if not 0 < self.sweep_step <= 1:
            raise ValueError("sweep_step must be in (0, 1]")
        if self.min_liked < 4 or self.sampled_candidates < 2:
            raise ValueError("min_liked must be ≥ 4 and sampled_candidates ≥ 2")
        if any(n < 0 for n in self.warmup_steps) or list(self.warmup_steps) != sorted(set(self.warmup_steps)):
            raise ValueError("warmup_steps must be distinct counts ≥ 0 in increasing order")


DEFAULTS = EvaluationConfig()
# Read-only aliases of the defaults (one source: EvaluationConfig).
LIST_LENGTH = DEFAULTS.list_length
DEFAULT_SEED = DEFAULTS.seed
TUNE_METRIC = DEFAULTS.tune_metric

#: ``progress(fraction_done, message)``
ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class EvalRequest:
    """One evaluation case: text in, target ``movieId``s out.

    ``named`` are left out of every system's ranking (the movies a ReDial request names;
    the history a simulated user's description was written from). ``liked`` are handed to
    the pipeline as liked reactions (sampled20). ``candidates``, when given, are the only
    items ranked (sampled20). ``group`` clusters cases of one user for the bootstrap.
    ``reactions`` are 👍 given one by one in a live session (:class:`recsys.feedback.LiveSession`,
    exactly as the app does; warm-up protocol).
    """

    id: str
    text: str
    targets: tuple[int, ...]
    named: tuple[int, ...] = ()
    has_mention: bool = False
    liked: tuple[int, ...] = ()
    candidates: tuple[int, ...] = ()
    group: str = ""
    variant: str = ""   #: simulated: a :data:`Variant`; warm-up: the number of 👍 reactions
    reactions: tuple[int, ...] = ()


def load_requests(path: str | Path) -> list[EvalRequest]:
    """Read ReDial-style JSON lines (``id``, ``request``, ``target_movie_ids``, …)."""
    requests: list[EvalRequest] = []
    with Path(path).open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                requests.append(EvalRequest(
                    id=str(row["id"]), text=str(row["request"]),
                    targets=tuple(int(m) for m in row.get("target_movie_ids", [])),
                    named=tuple(int(m) for m in row.get("mentioned_movie_ids", []))
                    + tuple(int(m) for m in row.get("mentioned_disliked_movie_ids", [])),
                    has_mention=bool(row.get("request_has_movie_mention", False))))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ValueError(f"{path} line {line_no}: not a request record ({exc})") from None
    return requests


class LeakageError(ValueError):
    """Every evaluation request was one the adapter trained on (nothing honest to score)."""


def drop_trained(requests: Sequence[EvalRequest], recommender: Recommender,
                 cache_dir: str | Path | None = None) -> tuple[list[EvalRequest], int]:
    """``requests`` without those the recommender's adapter trained on, and how many were dropped.

    A ReDial download holds the whole training split, which the shared development requests
    (``redial-valid-<id>``) were carved from, so the adapter may have learned from some of the
    very dialogues being scored. Matched by dialogue (:func:`recsys.adapter.conversation_key`:
    ``redial-valid-418`` and ``redial-train-418`` are one dialogue); training requests without
    an id are matched by their text. Nothing is dropped without a loaded adapter. A warning
    says how many were dropped; :class:`LeakageError` when none would be left.
    """
    if getattr(recommender, "adapter", None) is None:
        return list(requests), 0
    from recsys.adapter import conversation_key, training_request_rows

    rows = training_request_rows(recommender.catalogue, cache_dir=cache_dir)
    keys = {row.key for row in rows if row.key}
    texts = {" ".join(row.text.casefold().split()) for row in rows if not row.key}
    kept = [r for r in requests if conversation_key(r.id) not in keys
            and " ".join(r.text.casefold().split()) not in texts]
    dropped = len(requests) - len(kept)
    if dropped and not kept:
        raise LeakageError(f"the adapter was trained on all {dropped:,} of these requests (their "
                           "dialogues are in its training requests), so scoring it on them would be "
                           "leakage; evaluate other requests, or point RECSYS_TRAIN_REQUESTS at a "
                           "training file disjoint from them and retrain")
    if dropped:
        logger.warning("Left out %d of %d requests: the adapter was trained on their dialogues "
                       "(scores are on the other %d, not comparable with a run on all of them)",
                       dropped, len(requests), len(kept))
    return kept, dropped
