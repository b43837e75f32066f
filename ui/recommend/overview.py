"""The four stages at a glance (links to each) and how long each took."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import components as h
from ui import state as ui
from ui.words import words


def stepper(result: Any, cat: Any) -> None:
    """Parsed intent › relevance-scored candidates › CF adjustments › final list, one line each."""
    intent = result.intent
    summary = [*intent.liked_genres[:2], *(f"no {g}" for g in intent.disliked_genres[:1])]
    if intent.era:
        summary.append(intent.era.label or "era")
    if intent.titles:
        summary.append(f"{len(intent.titles)} title{'s' if len(intent.titles) > 1 else ''}")
    ui.md(h.stepper([
        h.Step("Parsed intent", " · ".join(summary) or "free text only"),
        h.Step("Relevance-scored candidates",
               f"{words(cat).count(len(cat))} scored, top {len(result.relevance.candidates)} kept"),
        h.Step("CF adjustments", f"{len(result.seeds)} seeds folded into ALS"),
        h.Step("Final list", "α·r̂ + β·ŝ + γ·b̂, explained"),
    ]))


def timing_tiles(t: dict[str, float], cat: Any = None) -> None:
    """Per-stage latency of the request as metrics (timings computed by the library)."""
    llm_ms = t.get("llm_call")
    g = words(cat).categories
    tiles = [("Intent", t.get("intent", 0), f"Parsing: {g}, negation, era, titles, zero-shot {g}"
              + (" — including the LLM call" if llm_ms else ""))]
    if llm_ms:
        tiles.append(("LLM call", llm_ms, "Waiting for the generative LLM's answer (part of Intent)"))
    tiles += [("Relevance", t.get("encode", 0) + t.get("relevance", 0), "Encoding the request and scoring r"),
              ("CF fold-in", t.get("cf", 0), "ALS fold-in of the pseudo-history and scoring s"),
              ("Blend + explain", t.get("blend", 0) + t.get("explain", 0), "Normalising, blending, explaining"),
              ("Total", t.get("total", 0), "The whole pipeline for this request")]
    for col, (label, ms, tip) in zip(st.columns(len(tiles)), tiles):
        col.metric(label, h.fmt_ms(ms), help=tip, border=True)
