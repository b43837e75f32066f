"""The language model as the sidebar and the pages see it: the parser choice, the backend, its health.

The sidebar's parser choice (key ``parser_choice``: auto, builtin, llm) becomes a
:class:`ParserState` (:func:`parser_state`); :func:`llm_status` is the backend line and its
health; :func:`llm_backend` the chat backend for the optional rerank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

PARSER_KEY = "parser_choice"
PARSER_LABELS = {"auto": "Auto", "builtin": "Built-in rules", "llm": "LLM"}
NOT_CONFIGURED_HELP = ("Set RECSYS_LLM_BASE_URL (an OpenAI-compatible server such as Ollama, e.g. "
                       "http://127.0.0.1:11434/v1) and RECSYS_LLM_MODEL, or RECSYS_LLM_LOCAL (a local model), "
                       "then restart the app.")


def chosen_parser() -> str:
    """The sidebar's parser choice: ``auto`` (default), ``builtin`` or ``llm``."""
    value = st.session_state.get(PARSER_KEY)
    return value if value in PARSER_LABELS else "auto"


@dataclass(frozen=True)
class ParserState:
    """The intent parser this session uses, and what to tell the user about it."""

    choice: str
    parser: Any
    backend: str                 #: "builtin" or the backend's secret-free description
    detail: str
    healthy: bool | None = None
    problem: str | None = None   #: a friendly message when the choice could not be honoured

    @property
    def uses_llm(self) -> bool:
        return self.backend != "builtin"


def parser_state(rec: Any) -> ParserState:
    """The session's parser (``select_parser`` for the sidebar choice) — never an exception:
    "LLM" without a configured model falls back to the rules with a friendly ``problem``."""
    choice = chosen_parser()
    try:
        from recsys.llm import LLMUnavailableError, select_parser

        try:
            sel = select_parser(rec, choice)
        except LLMUnavailableError:
            return ParserState(choice, rec.builtin_parser, "builtin", "no generative LLM configured", None,
                               "You chose the LLM parser, but no generative LLM is configured, so the built-in "
                               f"rules answer instead. {NOT_CONFIGURED_HELP}")
        return ParserState(choice, _session_parser(rec, sel.parser), str(sel.backend), str(sel.detail), sel.healthy)
    except Exception as exc:  # noqa: BLE001 - a misconfigured LLM must not break the page
        return ParserState(choice, rec.builtin_parser, "builtin", f"generative LLM unavailable ({type(exc).__name__})",
                           False, "The generative LLM could not be set up, so the built-in rules answer instead.")


def _session_parser(rec: Any, parser: Any) -> Any:
    """This session's own copy of an LLM parser (same backend, its own answer cache), so how
    fast an answer comes never tells one user what another typed; the rules are returned as is."""
    if parser is rec.builtin_parser or not hasattr(parser, "backend") or not hasattr(parser, "builtin"):
        return parser
    mine = st.session_state.get("_llm_parser")
    if mine is None or mine.backend is not parser.backend or mine.builtin is not parser.builtin:
        mine = st.session_state["_llm_parser"] = type(parser)(parser.backend, parser.builtin)
    return mine


def builtin_state(rec: Any) -> ParserState:
    """The built-in rules as a :class:`ParserState` (for bulk work such as catalogue coverage
    over the example prompts, which must never wait for a generative LLM)."""
    return ParserState("builtin", rec.builtin_parser, "builtin", "built-in rules")


@dataclass(frozen=True)
class LLMStatus:
    """What the sidebar says about the generative LLM (no secrets: descriptions only)."""

    configured: bool
    backend: str
    state: str        #: "ok", "bad" or "off"
    detail: str


def llm_status() -> LLMStatus:
    """The configured backend and its health (cached by ``recsys.llm.check_health``)."""
    try:
        from recsys.llm import LLMSettings, check_health, shared_backend

        settings = LLMSettings.from_env()
        if not settings.configured:
            return LLMStatus(False, "No generative LLM configured", "off", "Built-in rules parse every request.")
        backend = shared_backend(settings)
        if getattr(backend, "name", "") != "openai-compatible":
            return LLMStatus(True, backend.describe(), "ok", "local model, loaded on first use")
        health = check_health(backend)
        if health.ok:
            return LLMStatus(True, backend.describe(), "ok", f"healthy · answered in {health.latency_ms:.0f} ms")
        return LLMStatus(True, backend.describe(), "bad", f"unavailable: {health.detail}")
    except Exception as exc:  # noqa: BLE001
        return LLMStatus(False, "Generative LLM unavailable", "bad", f"{type(exc).__name__}")


def llm_backend() -> Any:
    """The configured chat backend (for the optional rerank), or ``None``."""
    try:
        from recsys.llm import LLMSettings, shared_backend

        settings = LLMSettings.from_env()
        return shared_backend(settings) if settings.configured else None
    except Exception:  # noqa: BLE001
        return None
