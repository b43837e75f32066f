"""Generative LLM backends for the "LLM" stages, with the built-in parser as the fallback.

Work in progress (issue 5): backends are configured through environment variables
(``RECSYS_LLM_BASE_URL``, ``RECSYS_LLM_MODEL``, ``RECSYS_LLM_API_KEY``,
``RECSYS_LLM_TIMEOUT``, ``RECSYS_LLM_LOCAL``). :func:`select_parser` picks the intent
parser for a ``--parser builtin|llm|auto`` choice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from recsys.intent import IntentParser

PARSER_CHOICES = ("builtin", "llm", "auto")


class LLMUnavailableError(RuntimeError):
    """``--parser llm`` was asked for but no backend is configured or healthy."""


@dataclass(frozen=True)
class LLMSettings:
    """Backend configuration read from the environment (the API key is never shown)."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 20.0
    local_model: str | None = None

    @classmethod
    def from_env(cls) -> LLMSettings:
        """Read ``RECSYS_LLM_*`` variables."""
        try:
            timeout = float(os.environ.get("RECSYS_LLM_TIMEOUT", "20") or 20)
        except ValueError:
            timeout = 20.0
        return cls(base_url=os.environ.get("RECSYS_LLM_BASE_URL") or None,
                   model=os.environ.get("RECSYS_LLM_MODEL") or None,
                   api_key=os.environ.get("RECSYS_LLM_API_KEY") or None,
                   timeout=timeout, local_model=os.environ.get("RECSYS_LLM_LOCAL") or None)

    @property
    def configured(self) -> bool:
        """True when some generative backend is configured."""
        return bool(self.base_url or self.local_model)


@dataclass(frozen=True)
class ParserSelection:
    """The parser chosen for a ``--parser`` choice and why."""

    parser: IntentParser
    backend: str
    detail: str


def select_parser(recommender: Any, choice: str = "auto",
                  settings: LLMSettings | None = None) -> ParserSelection:
    """The intent parser for ``choice``: ``builtin``, ``llm`` (must be available) or
    ``auto`` (llm when configured and healthy, else builtin)."""
    if choice not in PARSER_CHOICES:
        raise ValueError(f"parser must be one of {', '.join(PARSER_CHOICES)} (got {choice!r})")
    settings = settings or LLMSettings.from_env()
    builtin = recommender.builtin_parser
    if choice == "builtin":
        return ParserSelection(builtin, "builtin", "built-in rules + title matcher + zero-shot genres")
    if not settings.configured:
        if choice == "llm":
            raise LLMUnavailableError(
                "no generative LLM is configured: set RECSYS_LLM_BASE_URL (an OpenAI-compatible "
                "server such as Ollama) and RECSYS_LLM_MODEL, or RECSYS_LLM_LOCAL (a local "
                "transformers model), or use --parser builtin")
        return ParserSelection(builtin, "builtin", "no generative LLM configured")
    raise LLMUnavailableError("generative LLM backends are not available in this version")
