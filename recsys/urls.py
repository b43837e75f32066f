"""URL helpers shared by every network client (LLM backends, movie-knowledge sources).

``safe_url`` is what may appear in a message or a log; ``origin`` decides whether a redirect
stays on the site a credential was meant for.
"""

from __future__ import annotations

import urllib.parse


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment (safe to show)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return "(invalid URL)"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def origin(url: str) -> str:
    """``"scheme://host:port"`` of ``url`` (default port filled in; scheme and host lower-case,
    as :func:`urllib.parse.urlsplit` gives them; port 0 when it is not a number)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    return f"{parts.scheme}://{parts.hostname or ''}:{port}"
