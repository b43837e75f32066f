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

#: The systems every protocol ranks with (display order): a random list, most popular first,
#: relevance ``r`` only (the "LLM" stage), CF ``s`` only, and the blend.
System = Literal["random", "popularity", "llm", "cf", "blend"]
SYSTEMS: tuple[System, ...] = get_args(System)
ALL_SYSTEMS = SYSTEMS + ("blend-tuned",)
#: Evaluation protocols (``python -m recsys evaluate --protocol``; README, "Quality").
EvalProtocol = Literal["redial", "simulated", "sampled20", "warmup"]
PROTOCOLS: tuple[EvalProtocol, ...] = get_args(EvalProtocol)
LIST_LENGTH = 50             #: items kept per ranked list (Recall@50, MRR within the top 50)
DEFAULT_SEED = 0
TUNE_METRIC = "ndcg@10"

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
