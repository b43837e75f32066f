"""Streamlit page helpers (outside ``pages/``, which holds only the page files).

* :mod:`ui.state` — what every page shares: paths, assets, weights, list length, page files.
* :mod:`ui.loader` — the shared engine, loaded once in the background, with progress and errors.
* :mod:`ui.language_model` — the parser choice, the LLM backend and its health.
* :mod:`ui.requests` — this session's parsed intents, cached stages and live session.
* :mod:`ui.latency` — the sidebar's per-stage latency of the last run.
* :mod:`ui.priority` — lists before explanations, across sessions.
* :mod:`ui.figures` — charts drawn one way, figures kept per session while their inputs stay.
* :mod:`ui.components` — the custom visuals in one module: mix bar, contribution bar,
  cards, request highlighting, stage headings, latency panel (HTML styled by ``assets/style.css``).
* :mod:`ui.blocks` — the blocks several pages repeat (error box, example chips, weight check).
* :mod:`ui.provenance` — where the engine's data came from, in words (Data & about).
* :mod:`ui.recommend` — the Recommend page's parts, one module each.
"""
