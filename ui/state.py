"""What every page shares: paths and assets, the blend weights, the list length, the page files.

* Weights: the sidebar sliders (keys ``alpha``, ``beta``, ``gamma``) live in ``app.py``;
  a page that shows weight-dependent output registers its fragment with
  :func:`register_weight_fragment` so a slider move reruns only that fragment.
* The engine (:mod:`ui.loader`), the language model (:mod:`ui.language_model`), this
  session's requests (:mod:`ui.requests`) and the sidebar latency (:mod:`ui.latency`) have
  modules of their own; the loader's names are re-exported here for older callers.
"""

from __future__ import annotations

import os
from pathlib import Path
import streamlit as st

from recsys import session as core
from recsys.session import DEFAULT_WEIGHTS, engine_key  # noqa: F401 (one source; pages read them here)

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
RESULTS_ENV = "RECSYS_RESULTS_DIR"
REDIAL_ENV = "RECSYS_REDIAL_DIR"

WEIGHT_KEYS = ("alpha", "beta", "gamma")
MAX_VIEW = 50            #: longest list any page shows (k ≤ MAX_VIEW)

PAGES = {
    "recommend": "pages/recommend.py",   # st.navigation lists them (app.py); no other files in pages/
    "compare": "pages/compare.py",
    "tune": "pages/tune.py",
    "about": "pages/about.py",
}


def results_dir() -> Path:
    """Where evaluation results are read from (``$RECSYS_RESULTS_DIR`` or assets/results)."""
    value = os.environ.get(RESULTS_ENV)
    return Path(value) if value else ASSETS / "results"


def redial_dir() -> Path:
    """The ReDial development requests (``$RECSYS_REDIAL_DIR`` or ../shared/data/redial)."""
    value = os.environ.get(REDIAL_ENV)
    return Path(value) if value else ROOT.parent / "shared" / "data" / "redial"


@st.cache_data(show_spinner=False)
def example_prompts() -> list[dict[str, str]]:
    """``assets/example_prompts.json`` (label, text, lang) via :func:`recsys.session.example_prompts`."""
    return core.example_prompts()


@st.cache_data(show_spinner=False)
def asset_text(name: str) -> str:
    """An asset file's text ('' when missing)."""
    try:
        return (ASSETS / name).read_text(encoding="utf-8")
    except OSError:
        return ""


@st.cache_data(show_spinner=False)
def asset_b64(name: str) -> str:
    """An asset file as base64 (for inline ``<img src="data:…">``)."""
    import base64

    try:
        return base64.b64encode((ASSETS / name).read_bytes()).decode("ascii")
    except OSError:
        return ""


def md(html_text: str) -> None:
    """Render one of :mod:`ui.components`'s snippets."""
    st.markdown(html_text, unsafe_allow_html=True)


# --------------------------------------------------------------------------- weights

def weights() -> tuple[float, float, float]:
    """(α, β, γ) from the sidebar sliders."""
    return tuple(float(st.session_state.get(k, d)) for k, d in zip(WEIGHT_KEYS, DEFAULT_WEIGHTS))  # type: ignore[return-value]


def set_weights(values: tuple[float, float, float]) -> None:
    """Ask ``app.py`` to move the sliders at the start of the next run (a widget cannot be set
    after it is drawn); call ``st.rerun()`` afterwards. Widget callbacks can instead set the
    ``alpha`` / ``beta`` / ``gamma`` keys directly (they run before the sidebar is drawn)."""
    st.session_state["_pending_weights"] = tuple(round(float(v), 2) for v in values)


def register_weight_fragment(key: str) -> None:
    """This run shows a fragment whose output depends on the weights (see app.py)."""
    keys = st.session_state.setdefault("_weight_fragments", [])
    if key not in keys:
        keys.append(key)


def current_k() -> int:
    return int(st.session_state.get("k", 10))


from ui.loader import EngineLoader, engine, engine_loader, show_load_error  # noqa: E402,F401 (re-exported)
