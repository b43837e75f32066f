"""The session layer: what a front end (the web app, a notebook) calls for one user.

Streamlit-free plain functions over the shared, read-only :class:`~recsys.pipeline.Recommender`:

* :func:`run_request` — one request end to end (parse → stages → optional LLM rerank) with
  its timings computed here, never patched by the caller: ``timings["intent"]`` is the time
  the intent took to parse (measured once, when it was parsed; a cached intent reports that
  cost), ``timings["total"]`` includes it.
* :class:`IntentCache` — parsed intents, **one cache per user session**: a cache shared by
  sessions would answer a text another user typed faster (a timing side channel). An intent
  the LLM could not produce (a fallback) is kept for :data:`FALLBACK_TTL` seconds only, so a
  recovered LLM is asked again.
* :func:`start_live` — a :class:`recsys.feedback.LiveSession` for a request (reactions
  re-run the cheap stages), with the parse time booked the same way.

Defaults shared with every front end live here once: :data:`DEFAULT_WEIGHTS` (from
:class:`recsys.blend.BlendWeights`) and :func:`example_prompts`; system names are
:data:`recsys.compare.SYSTEM_LABELS`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recsys.blend import BlendWeights
from recsys.feedback import LiveSession
from recsys.intent import Intent, IntentParser
from recsys.pipeline import DEFAULT_K, Recommendation, Recommender

DEFAULT_WEIGHTS: tuple[float, float, float] = BlendWeights().as_tuple()   #: α, β, γ out of the box
FALLBACK_TTL = 60.0     #: seconds a fallback intent is reused before the LLM is asked again
INTENT_TTL = 3600.0     #: seconds any other parsed intent is reused

EXAMPLE_PROMPTS = Path(__file__).resolve().parents[1] / "assets" / "example_prompts.json"


def example_prompts(path: Path = EXAMPLE_PROMPTS) -> list[dict[str, str]]:
    """The example requests (``label``, ``text``, ``lang``); empty when the file is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [p for p in data if isinstance(p, dict) and p.get("text")]
    except (OSError, ValueError):
        return []


def engine_key(engine: Recommender) -> str:
    """Identifies the engine's data, encoder and adapter (the key of per-request caches)."""
    adapter = getattr(engine, "adapter", None)
    return f"{engine.catalogue.fingerprint}:{engine.index.model_id}:{adapter.key if adapter is not None else '-'}"


@dataclass(frozen=True)
class ParsedRequest:
    """Stage 1 of a request: the intent, how long parsing it took (ms) and when (monotonic)."""

    intent: Intent
    ms: float
    stamp: float


class IntentCache:
    """Parsed intents per (engine, parser backend, text); thread-safe LRU, in memory only.

    Keep one per user session (see the module docstring). A fallback intent
    (``fallback_reason`` set) expires after :data:`FALLBACK_TTL` seconds, others after
    :data:`INTENT_TTL`.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, str], ParsedRequest] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> ParsedRequest | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            ttl = FALLBACK_TTL if getattr(hit.intent, "fallback_reason", None) else INTENT_TTL
            if time.monotonic() - hit.stamp > ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[str, str, str], intent: Intent, ms: float) -> ParsedRequest:
        entry = ParsedRequest(intent, float(ms), time.monotonic())
        with self._lock:
            self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return entry

    def drop(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._items.pop(key, None)


def parse_request(engine: Recommender, text: str, *, parser: IntentParser | None = None,
                  backend: str = "builtin", cache: IntentCache | None = None, fresh: bool = False
                  ) -> ParsedRequest:
    """Stage 1 with its time, from ``cache`` when it has this (engine, backend, text) and
    ``fresh`` is off. Raises :class:`recsys.intent.InvalidRequestError` for unusable text."""
    key = (engine_key(engine), backend, text)
    if cache is not None:
        if fresh:
            cache.drop(key)
        hit = cache.get(key)
        if hit is not None:
            return hit
    started = time.perf_counter()
    intent = engine.parse(text, parser)
    ms = (time.perf_counter() - started) * 1000
    return cache.put(key, intent, ms) if cache is not None else ParsedRequest(intent, ms, time.monotonic())


def run_request(engine: Recommender, text: str | ParsedRequest, *,
                weights: BlendWeights | tuple[float, float, float] = DEFAULT_WEIGHTS, k: int = DEFAULT_K,
                parser: IntentParser | None = None, backend: str = "builtin",
                cache: IntentCache | None = None, liked: Iterable[int] = (), disliked: Iterable[int] = (),
                seen: Iterable[int] = (), rerank: Any = None, use_adapter: bool = True,
                explain: bool = True) -> Recommendation:
    """One request, every stage, timings included (see the module docstring).

    ``text`` may be a :class:`ParsedRequest` from :func:`parse_request`; ``parser`` /
    ``backend`` / ``cache`` are used to parse otherwise. ``rerank``: a chat backend for the
    LLM rerank of the top (or a string: why there is none). Raises ``ValueError`` (e.g.
    :class:`recsys.intent.InvalidRequestError`) for an unusable request or ``k``.
    """
    parsed = text if isinstance(text, ParsedRequest) else \
        parse_request(engine, text, parser=parser, backend=backend, cache=cache)
    return engine.recommend(parsed.intent, weights, k, liked=tuple(liked), disliked=tuple(disliked),
                            seen=tuple(seen), explain=explain, use_adapter=use_adapter,
                            intent_ms=parsed.ms, rerank=rerank)


def start_live(engine: Recommender, parsed: ParsedRequest, *,
               weights: BlendWeights | tuple[float, float, float] = DEFAULT_WEIGHTS, k: int = DEFAULT_K,
               auto: bool = False, liked: Iterable[int] = (), disliked: Iterable[int] = (),
               use_adapter: bool = True, session_type: type[LiveSession] = LiveSession,
               **extra: Any) -> LiveSession:
    """A live session for a parsed request (its first list's timings include the parse time).

    All-zero ``weights`` start from :data:`DEFAULT_WEIGHTS`; ``session_type`` / ``extra`` let a
    front end keep its own bookkeeping on a :class:`LiveSession` subclass."""
    start = weights if isinstance(weights, BlendWeights) else \
        BlendWeights(*(weights if sum(weights) > 0 else DEFAULT_WEIGHTS))
    return session_type(engine, parsed.intent.text, weights=start, k=k, auto=auto, intent=parsed.intent,
                        intent_ms=parsed.ms, liked_picks=tuple(liked), disliked_picks=tuple(disliked),
                        use_adapter=use_adapter, **extra)


def weights_ok(weights: Iterable[float]) -> bool:
    """False when all three weights are 0 (nothing to blend: the UI asks to move a slider)."""
    return sum(float(w) for w in weights) > 0
