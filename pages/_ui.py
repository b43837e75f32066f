"""Streamlit glue shared by ``app.py`` and the pages (not a page itself).

* :class:`EngineLoader` — loads the :class:`recsys.pipeline.Recommender` once per process
  in a background thread (``st.cache_resource``), so every session shares one read-only
  engine and can show the same progress bar while it loads.
* :func:`engine` — the page-side accessor: progress while loading, a clear ``st.error``
  (never a traceback) when data or the model is missing.
* :func:`stages` — every stage of one request, cached per (text, liked, disliked) and
  shared read-only; moving a weight slider only calls ``Recommendation.reblend``.
* Weights: the sidebar sliders (keys ``alpha``, ``beta``, ``gamma``) live in ``app.py``;
  a page that shows weight-dependent output registers its fragment with
  :func:`register_weight_fragment` so a slider move reruns only that fragment.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import streamlit as st

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
RESULTS_ENV = "RECSYS_RESULTS_DIR"
REDIAL_ENV = "RECSYS_REDIAL_DIR"

DEFAULT_WEIGHTS = (0.5, 0.3, 0.2)
WEIGHT_KEYS = ("alpha", "beta", "gamma")
MAX_VIEW = 50            #: longest list any page shows (k ≤ MAX_VIEW)

PAGES = {
    "recommend": "pages/recommend.py",
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
    """``assets/example_prompts.json`` (label, text, lang); empty when unreadable."""
    try:
        data = json.loads((ASSETS / "example_prompts.json").read_text(encoding="utf-8"))
        return [p for p in data if isinstance(p, dict) and p.get("text")]
    except (OSError, ValueError):
        return []


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
    """Render one of :mod:`pages._html`'s snippets."""
    st.markdown(html_text, unsafe_allow_html=True)


# --------------------------------------------------------------------------- engine loading

class EngineLoader:
    """Builds the recommender once in a background thread; sessions poll its progress.

    The engine is shared by every session and never mutated. A failed load keeps its
    user-facing message until :meth:`retry`.
    """

    def __init__(self, settings: tuple[str, ...]) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.fraction = 0.0
        self.message = "Starting"
        self.recommender: Any = None
        self.error: str | None = None
        self.error_kind: str | None = None
        self.started = 0.0
        self.seconds = 0.0
        self.built_index = False

    @property
    def ready(self) -> bool:
        return self.recommender is not None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def start(self) -> None:
        """Start loading unless it is running or done (idempotent, thread-safe)."""
        with self._lock:
            if self.recommender is not None or self.error is not None:
                return
            if self._thread is not None and self._thread.is_alive():
                return
            self.started = time.perf_counter()
            self._thread = threading.Thread(target=self._run, name="recsys-app-loader", daemon=True)
            self._thread.start()

    def retry(self) -> None:
        """Forget a failure and load again."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.error = self.error_kind = None
            self.fraction, self.message = 0.0, "Starting"
        self.start()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when finished (ready or failed)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.ready or self.failed

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction = float(fraction)
        self.message = message
        if message.startswith("Encoding"):
            self.built_index = True

    def _run(self) -> None:
        from recsys.data import DataError, DataUnavailableError
        from recsys.embed import EncoderUnavailableError
        from recsys.pipeline import Recommender

        try:
            self.recommender = Recommender.load(progress=self._progress)
            # One line in the server log per load: the speed bench checks it appears once.
            print(f"recsys-app: engine loaded in {time.perf_counter() - self.started:.1f} s",
                  file=sys.stderr, flush=True)
            self._warm_up()
        except DataUnavailableError as exc:
            self._fail("data", f"{exc} Set RECSYS_DATA_DIR to a local MovieLens folder "
                               "(e.g. ml-latest-small) and restart the app.")
        except DataError as exc:
            self._fail("data", f"{exc} Fix or replace the file (or point RECSYS_DATA_DIR at a "
                               "clean MovieLens folder), then press Retry.")
        except EncoderUnavailableError as exc:
            self._fail("model", str(exc))
        except MemoryError:
            self._fail("memory", "The machine ran out of memory while loading the models. "
                                 "Close other apps and press Retry.")
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
            self._fail("unexpected", f"Loading the recommender failed ({type(exc).__name__}: {exc}). "
                                     "Check the data folder and the cache folder (RECSYS_CACHE_DIR), "
                                     "then press Retry.")
        finally:
            self.seconds = time.perf_counter() - self.started

    def _warm_up(self) -> None:
        """Run the example prompts once (query embeddings cached, numeric paths warm), so
        the first real request and the Compare page's coverage answer quickly."""
        try:
            prompts = json.loads((ASSETS / "example_prompts.json").read_text(encoding="utf-8"))
            for prompt in prompts[:12]:
                self.recommender.recommend(str(prompt["text"]), k=10, explain=False)
        except Exception as exc:  # noqa: BLE001 - warming up is best effort
            logger.info("warm-up skipped: %s", exc)

    def _fail(self, kind: str, message: str) -> None:
        self.error_kind = kind
        self.error = " ".join(message.split())


def _settings() -> tuple[str, ...]:
    return tuple(os.environ.get(v, "") for v in
                 ("RECSYS_DATA_DIR", "RECSYS_CACHE_DIR", "RECSYS_EMBED_MODEL", "RECSYS_DATA_URL"))


@st.cache_resource(show_spinner=False)
def _loader(settings: tuple[str, ...]) -> EngineLoader:
    return EngineLoader(settings)


def engine_loader() -> EngineLoader:
    """The process-wide loader for the current data/model settings (started)."""
    loader = _loader(_settings())
    loader.start()
    return loader


def engine(*, wait: bool = True) -> Any:
    """The shared recommender, or ``None`` (``wait=False``) while it is still loading.

    While loading, shows a status box with a progress bar (first start: building the item
    index). On failure shows ``st.error`` with what to do and a Retry button, then stops
    the page.
    """
    loader = engine_loader()
    if not loader.ready and not loader.failed:
        if not wait:
            return None
        _show_progress(loader)
    if loader.failed:
        show_load_error(loader)
        st.stop()
    return loader.recommender


def _show_progress(loader: EngineLoader) -> None:
    label = "Warming up the recommender…"
    with st.status(label, expanded=True) as status:
        note = st.empty()
        bar = st.progress(0.0, text="Starting")
        while not loader.wait(0.25):
            if loader.built_index:
                note.caption("First start: encoding the whole catalogue once (about a minute or two "
                             "on a laptop). Later starts read it from the cache.")
            bar.progress(min(1.0, max(0.0, loader.fraction)), text=loader.message)
        if loader.ready:
            bar.progress(1.0, text=f"Ready in {loader.seconds:.1f} s")
            status.update(label="Recommender ready", state="complete", expanded=False)
        else:
            status.update(label="The recommender could not start", state="error", expanded=False)


def show_load_error(loader: EngineLoader) -> None:
    """The load failure as a clear message with a Retry button (no traceback)."""
    titles = {"data": "The movie data could not be loaded.",
              "model": "The embedding model could not be loaded.",
              "memory": "Not enough memory.",
              "unexpected": "The recommender could not start."}
    st.error(f"**{titles.get(loader.error_kind or '', 'The recommender could not start.')}**\n\n"
             f"{loader.error}", icon=":material/error:")
    st.button("Retry", key="retry_load", on_click=loader.retry, type="primary")


# --------------------------------------------------------------------------- per-request stages

def engine_key(rec: Any) -> str:
    return f"{rec.catalogue.fingerprint}:{rec.index.model_id}"


def parser_choice(rec: Any) -> tuple[Any, str, str]:
    """``(parser, backend, detail)``: the generative LLM parser when one is configured and
    healthy (``RECSYS_LLM_*``), else the built-in rules — never an exception."""
    try:
        from recsys.llm import select_parser

        selection = select_parser(rec, "auto")
        return selection.parser, str(selection.backend), str(selection.detail)
    except Exception as exc:  # noqa: BLE001 - a misconfigured LLM must not break the page
        return rec.builtin_parser, "builtin", f"generative LLM unavailable ({type(exc).__name__})"


@st.cache_resource(max_entries=256, ttl=3600, show_spinner=False)
def _intent(_rec: Any, engine_key: str, text: str, _parser: Any, backend: str) -> tuple[Any, float]:
    started = time.perf_counter()
    intent = _rec.parse(text, _parser)
    return intent, (time.perf_counter() - started) * 1000


@st.cache_resource(max_entries=256, ttl=3600, show_spinner=False)
def _stages(_rec: Any, engine_key: str, text: str, liked: tuple[int, ...], disliked: tuple[int, ...],
            _parser: Any, backend: str) -> Any:
    # Default weights; pages call .reblend(weights, k) (no re-encoding, ~1 ms).
    intent, parse_ms = _intent(_rec, engine_key, text, _parser, backend)
    result = _rec.recommend(intent, k=MAX_VIEW, liked=liked, disliked=disliked)
    # recommend() got a parsed intent: book the parse time (measured once) to stage 1.
    result.timings["intent"] = parse_ms + result.timings.get("intent", 0.0)
    result.timings["total"] = parse_ms + result.timings.get("total", 0.0)
    return result


def parse(rec: Any, text: str) -> Any:
    """Stage 1 only (cached; raises ``InvalidRequestError`` for unusable text)."""
    parser, backend, _ = parser_choice(rec)
    return _intent(rec, engine_key(rec), text, parser, backend)[0]


def stages(rec: Any, text: str, liked: tuple[int, ...] = (), disliked: tuple[int, ...] = ()) -> Any:
    """Every stage of one request (shared, read-only; in memory only, never on disk)."""
    parser, backend, _ = parser_choice(rec)
    return _stages(rec, engine_key(rec), text, tuple(sorted(liked)), tuple(sorted(disliked)), parser, backend)


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


# --------------------------------------------------------------------------- current request

def current_request() -> dict[str, Any] | None:
    """The request last run on the Recommend page (text, liked, disliked, k) or None."""
    req = st.session_state.get("_request")
    return req if isinstance(req, dict) and req.get("text") else None


def set_current_request(text: str, liked: tuple[int, ...] = (), disliked: tuple[int, ...] = ()) -> None:
    st.session_state["_request"] = {"text": text, "liked": tuple(liked), "disliked": tuple(disliked)}


def current_k() -> int:
    return int(st.session_state.get("k", 10))
