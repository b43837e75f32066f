"""This browser session's requests: parsed intents, cached stages and the live session.

Parsed intents live in this session's :class:`recsys.session.IntentCache` (never shared:
response time would leak what another user typed). :func:`live_session` keeps one
:class:`PageSession` (a :class:`recsys.feedback.LiveSession`) per browser session in
``st.session_state`` — the reactions of one session are never seen by another, and the
shared recommender is only read. Nothing here is written to disk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from recsys import session as core
from recsys.blend import BlendWeights, normalise_weights
from recsys.feedback import LiveSession
from recsys.session import engine_key
from ui.language_model import ParserState, parser_state
from ui.latency import record_run
from ui.state import MAX_VIEW, current_k, weights


def _intent_cache() -> core.IntentCache:
    """This browser session's intent cache (created on first use; never shared)."""
    cache = st.session_state.get("_intent_cache")
    if cache is None:
        cache = st.session_state["_intent_cache"] = core.IntentCache(size=32)
    return cache


def _session_id() -> str:
    """An opaque id of this browser session (cache keys; never shown or stored on disk)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def parse_request(rec: Any, text: str, state: ParserState | None = None, *, fresh: bool = False
                  ) -> core.ParsedRequest:
    """Stage 1 from this session's cache (``fresh``: ask again); raises
    ``InvalidRequestError`` for unusable text."""
    state = state or parser_state(rec)
    return core.parse_request(rec, text, parser=state.parser, backend=state.backend,
                              cache=_intent_cache(), fresh=fresh)


def parse(rec: Any, text: str) -> Any:
    """Stage 1 only (cached; raises ``InvalidRequestError`` for unusable text)."""
    return parse_request(rec, text).intent


@st.cache_resource(max_entries=256, ttl=3600, show_spinner=False)
def _stages(_rec: Any, engine_key: str, text: str, liked: tuple[int, ...], disliked: tuple[int, ...],
            backend: str, use_adapter: bool, stamp: float, _parsed: core.ParsedRequest, session: str) -> Any:
    # Default weights; pages call .reblend(weights, k) (no re-encoding, ~1 ms). ``stamp``
    # renews the entry when the intent cache asked the LLM again; ``session`` keeps one
    # user's entries from answering another's (no timing side channel).
    return core.run_request(_rec, _parsed, k=MAX_VIEW, liked=liked, disliked=disliked, use_adapter=use_adapter)


def stages(rec: Any, text: str, liked: tuple[int, ...] = (), disliked: tuple[int, ...] = (), *,
           use_adapter: bool = True, state: ParserState | None = None) -> Any:
    """Every stage of one request without reactions (this session's, read-only; in memory only),
    parsed by ``state`` (default: the session's parser choice)."""
    state = state or parser_state(rec)
    parsed = parse_request(rec, text, state)
    return _stages(rec, engine_key(rec), text, tuple(sorted(liked)), tuple(sorted(disliked)), state.backend,
                   bool(use_adapter), parsed.stamp, parsed, _session_id())


# --------------------------------------------------------------------------- live sessions

@dataclass
class PageSession(LiveSession):
    """A :class:`LiveSession` with the Recommend page's bookkeeping: the session key, the
    interest distribution before the last reaction (for the chart) and the last reaction."""

    key: str = ""
    previous_interest: Any = None
    last_reaction: dict[str, Any] = field(default_factory=dict)

    def apply(self, weights: tuple[float, float, float], k: int, auto: bool) -> None:
        """Follow the sliders, the list length and the auto toggle (a re-blend only)."""
        if sum(weights) <= 0:
            return
        wanted = normalise_weights(weights)  # the session's weights are stored normalised
        if (self.weights.as_tuple(), self.k, self.auto) != (wanted, k, auto) or self.result.k != k:
            self.k = int(k)
            self.set_weights(BlendWeights(*weights), auto=auto)


LIVE_KEY = "_live"


def live_session(rec: Any, text: str, liked: tuple[int, ...], disliked: tuple[int, ...], state: ParserState, *,
                 fresh: bool = False) -> PageSession:
    """This browser session's live session for the request, created when the request (text,
    picks, parser or engine) changes; otherwise the same one, following weights, k and the
    toggles. ``fresh`` re-parses a request whose LLM parse fell back."""
    w, k = weights(), current_k()
    auto = bool(st.session_state.get("auto_weights", False))
    use_adapter = bool(st.session_state.get("use_adapter", True))
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    # Keyed by the parser *choice*, not the backend it resolved to: a health flip of "auto" must
    # not throw away the reactions of a running session.
    key = f"{engine_key(rec)}|{state.choice}|{digest}|{sorted(liked)}|{sorted(disliked)}"
    session = current_live()
    if session is not None and session.key == key and not (fresh and session.base_intent.fallback_reason):
        if session.use_adapter != use_adapter:
            session.use_adapter = use_adapter
            session.refresh()
        session.apply(w, k, auto)
        return session
    parsed = parse_request(rec, text, state, fresh=fresh)
    session = core.start_live(rec, parsed, weights=w, k=k, auto=auto, liked=liked, disliked=disliked,
                              use_adapter=use_adapter, session_type=PageSession, key=key)
    st.session_state[LIVE_KEY] = session
    record_run("your request", session.result.timings)
    return session


def current_live() -> PageSession | None:
    """This browser session's live session, if a request ran on the Recommend page."""
    session = st.session_state.get(LIVE_KEY)
    return session if isinstance(session, PageSession) else None


def current_request() -> dict[str, Any] | None:
    """The request last run on the Recommend page (text, liked, disliked, k) or None."""
    req = st.session_state.get("_request")
    return req if isinstance(req, dict) and req.get("text") else None


def set_current_request(text: str, liked: tuple[int, ...] = (), disliked: tuple[int, ...] = ()) -> None:
    st.session_state["_request"] = {"text": text, "liked": tuple(liked), "disliked": tuple(disliked)}
