"""Where the data behind the running engine came from, in words for the Data & about page."""

from __future__ import annotations

from typing import Any

from recsys.adapter import MAX_TRAIN_REQUESTS, training_requests_source
from ui.components import esc


def requests_origin(rec: Any, cache_dir: Any = None) -> tuple[str, str]:
    """Where the adapter's real typed requests came from: a short label for its card and one
    sentence (HTML) for the ReDial citation. ``$RECSYS_TRAIN_REQUESTS``, else ReDial's training
    split downloaded into the cache, else none (then no adapter runs: from synthetic descriptions
    alone it did not help; an adapter whose report says it learned from no real request was
    trained that way on request)."""
    source = training_requests_source(rec.catalogue, cache_dir=cache_dir)
    learned = (rec.adapter.report or {}).get("real_requests") if rec.adapter is not None else None
    if source.kind == "none" or source.path is None or learned == 0:
        if rec.adapter is None:
            return ("none — no adapter",
                    "Here no real requests were available, so no adapter runs (from synthetic "
                    "descriptions alone it did not help); <code>python -m recsys fetch-requests</code> "
                    "downloads ReDial's training split (used from the next start).")
        return ("none — synthetic only",
                "Here no real requests were available, so the adapter learned from synthetic "
                "descriptions only; <code>python -m recsys fetch-requests</code> downloads ReDial's "
                "training split (used from the next start).")
    if source.kind == "download":
        return ("ReDial, downloaded",
                "Here its training split was downloaded from the ReDial release and mapped to this "
                f"catalogue; the adapter learns from at most {MAX_TRAIN_REQUESTS:,} of those requests.")
    return (f"{source.path.name} (RECSYS_TRAIN_REQUESTS)",
            f"Here they come from <code>{esc(source.path.name)}</code>, the file "
            "<code>RECSYS_TRAIN_REQUESTS</code> names.")


def missing_adapter(rec: Any, cache_dir: Any = None) -> tuple[str, str]:
    """Why no adapter runs, and what brings it: a short label and one sentence (HTML)."""
    if training_requests_source(rec.catalogue, cache_dir=cache_dir).kind == "none":
        return ("Off: no real requests",
                "r uses the frozen encoder alone. The adapter learns how people ask from real typed "
                "requests, and there are none here (from synthetic descriptions alone it did not help). "
                "<code>python -m recsys fetch-requests</code> downloads ReDial's training split "
                "(CC BY 4.0), or set <code>RECSYS_TRAIN_REQUESTS</code>; the next start trains it.")
    return ("Not trained",
            "r uses the frozen encoder alone. The adapter is trained during the first index build; if "
            "that failed, <code>python -m recsys train-adapter</code> trains it and the app picks it up "
            "at its next start.")
