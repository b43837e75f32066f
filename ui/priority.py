"""Lists before explanations, across browser sessions.

Every session's script runs in its own thread of one Python process, so when several users
press *Recommend* at once their runs share the interpreter. Drawing a stage chart for one
user would slow down the list another user is still waiting for. So a run that is about to
draw a final list announces it (:func:`list_wanted`, or :func:`list_first` around that part
of the run); once a run has drawn its own list it
waits, before its charts and tables, until no other session's list is pending
(:func:`wait_for_lists`) — at most :data:`MAX_WAIT` seconds, so explanations are never
starved. A run that ends early (an error, a new rerun) is forgotten after :data:`STALE`
seconds even if it never said its list was shown.

Only timing is shared here: no request, no result, nothing about a user.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_WAIT = 3.0    #: seconds a run waits at most for other sessions' lists
STALE = 15.0      #: seconds after which an announced list no longer holds anyone back

_cond = threading.Condition()
_pending: dict[int, float] = {}      # run token → when its list was announced
_local = threading.local()
_tokens = iter(range(1, 1 << 62))


def list_wanted() -> None:
    """This run will draw a final list (idempotent within a run)."""
    if getattr(_local, "token", None) is not None:
        return
    with _cond:
        now = time.monotonic()
        for old in [t for t, started in _pending.items() if now - started >= STALE]:
            del _pending[old]                 # runs that ended without saying so
        token = next(_tokens)
        _pending[token] = now
    _local.token = token


def list_shown() -> None:
    """This run's list is drawn (or the run ends): it holds nobody back any longer."""
    token = getattr(_local, "token", None)
    if token is None:
        return
    _local.token = None
    with _cond:
        _pending.pop(token, None)
        _cond.notify_all()


@contextmanager
def list_first() -> Iterator[None]:
    """Around the part of a run that ends with its list drawn: announced on entry, shown on
    exit (also when the run stops early)."""
    list_wanted()
    try:
        yield
    finally:
        list_shown()


def _others_pending() -> bool:
    now = time.monotonic()
    return any(now - started < STALE for started in _pending.values())


def wait_for_lists(timeout: float = MAX_WAIT) -> float:
    """Mark this run's list shown, then wait until no other session's list is pending
    (``timeout`` seconds at most); returns the seconds waited."""
    list_shown()
    started = time.perf_counter()
    with _cond:
        _cond.wait_for(lambda: not _others_pending(), timeout)
    return time.perf_counter() - started
