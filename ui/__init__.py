"""Streamlit page helpers (outside ``pages/``, which holds only the page files).

* :mod:`ui.state` — engine loading, session state (parser choice, live session, latency).
* :mod:`ui.components` — the custom visuals in one module: mix bar, contribution bar,
  cards, request highlighting, latency panel (HTML snippets styled by ``assets/style.css``).
* :mod:`ui.blocks` — the blocks several pages repeat (error box, example chips, weight check).
"""
