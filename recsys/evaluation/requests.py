"""Evaluation cases and the vocabulary shared by every protocol.

:class:`EvalRequest` is one case (text in, target ``movieId``\\ s out); :func:`load_requests`
reads ReDial-style JSON lines. The constants name the systems, protocols, list length,
seed and tuning metric every other evaluation module uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from recsys.profiles import VARIANTS, Variant  # noqa: F401  (simulated description variants; re-exported)
from recsys.splits import DEFAULT_SPLIT

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
