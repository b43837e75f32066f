"""Streamlit state shared by ``app.py`` and the pages: the engine, the session, the sidebar.

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
* Language model: the sidebar's parser choice (key ``parser_choice``: auto, builtin, llm)
  becomes a :class:`ParserState` (:func:`parser_state`); :func:`llm_status` is the backend
  line and its health. Parsed intents live in this browser session's
  :class:`recsys.session.IntentCache` (never shared: response time would leak what another
  user typed).
* Live personalisation: :func:`live_session` keeps one :class:`PageSession` (a
  :class:`recsys.feedback.LiveSession`) per browser session in ``st.session_state`` — the
  reactions of one session are never seen by another, and the shared recommender is only
  read. :func:`record_run` / :func:`show_latency` feed the sidebar's per-stage latency from
  the timings the library computed (:func:`recsys.session.run_request`).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from recsys import session as core
from recsys.blend import BlendWeights, normalise_weights
from recsys.feedback import LiveSession
from recsys.session import DEFAULT_WEIGHTS, engine_key  # noqa: F401 (one source; pages read them here)

logger = logging.getLogger(__name__)

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
            # Not a daemon: the interpreter waits for it at exit. A daemon thread still inside
            # torch inference (the warm-up) when the process ends makes it abort().
            self._thread = threading.Thread(target=self._run, name="recsys-app-loader", daemon=False)
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
            recommender = Recommender.load(progress=self._progress)
            # What users type is never cached across sessions (frozen before any session can
            # use the engine): response time tells no one what another user asked.
            recommender.encoder.freeze_query_cache()
            self.recommender = recommender
            # One line in the server log per load: the speed bench checks it appears once.
            print(f"recsys-app: engine loaded in {time.perf_counter() - self.started:.1f} s",
                  file=sys.stderr, flush=True)
            self._warm_up()
            # The engine is ~0.5 M long-lived Python objects (torch, title index): Streamlit's
            # full collection after every script run would scan them all (~0.3 s, stalling a
            # reaction's fragment rerun). Freeze them out of the collector's view once.
            gc.collect()
            gc.freeze()
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
            prompts = core.example_prompts()
            with self.recommender.encoder.public_queries():   # public texts: cached for everyone
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


# --------------------------------------------------------------------------- language model

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


# --------------------------------------------------------------------------- parsed intents

def _intent_cache() -> core.IntentCache:
    """This browser session's intent cache (created on first use; never shared)."""
    cache = st.session_state.get("_intent_cache")
    if cache is None:
        cache = st.session_state["_intent_cache"] = core.IntentCache(size=32)
    return cache


def _session_id() -> str:
    """An opaque id of this browser session (cache keys; never shown or stored on disk)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def parse_request(rec: Any, text: str, state: ParserState | None = None, *, fresh: bool = False
                  ) -> core.ParsedRequest:
    """Stage 1 from this session's cache (``fresh``: ask again); raises
    ``InvalidRequestError`` for unusable text."""
    state = state or parser_state(rec)
    return core.parse_request(rec, text, parser=state.parser, backend=state.backend,
                              cache=_intent_cache(), fresh=fresh)


def parse(rec: Any, text: str) -> Any:
    """Stage 1 only (cached; raises ``InvalidRequestError`` for unusable text)."""
    return parse_request(rec, text).intent


@st.cache_resource(max_entries=256, ttl=3600, show_spinner=False)
def _stages(_rec: Any, engine_key: str, text: str, liked: tuple[int, ...], disliked: tuple[int, ...],
            backend: str, use_adapter: bool, stamp: float, _parsed: core.ParsedRequest, session: str) -> Any:
    # Default weights; pages call .reblend(weights, k) (no re-encoding, ~1 ms). ``stamp``
    # renews the entry when the intent cache asked the LLM again; ``session`` keeps one
    # user's entries from answering another's (no timing side channel).
    return core.run_request(_rec, _parsed, k=MAX_VIEW, liked=liked, disliked=disliked, use_adapter=use_adapter)


def stages(rec: Any, text: str, liked: tuple[int, ...] = (), disliked: tuple[int, ...] = (), *,
           use_adapter: bool = True, state: ParserState | None = None) -> Any:
    """Every stage of one request without reactions (this session's, read-only; in memory only),
    parsed by ``state`` (default: the session's parser choice)."""
    state = state or parser_state(rec)
    parsed = parse_request(rec, text, state)
    return _stages(rec, engine_key(rec), text, tuple(sorted(liked)), tuple(sorted(disliked)), state.backend,
                   bool(use_adapter), parsed.stamp, parsed, _session_id())


# --------------------------------------------------------------------------- live sessions

@dataclass
class PageSession(LiveSession):
    """A :class:`LiveSession` with the Recommend page's bookkeeping: the session key, the
    interest distribution before the last reaction (for the chart) and the last reaction."""

    key: str = ""
    previous_interest: Any = None
    last_reaction: dict[str, Any] = field(default_factory=dict)

    def apply(self, weights: tuple[float, float, float], k: int, auto: bool) -> None:
        """Follow the sliders, the list length and the auto toggle (a re-blend only)."""
        if sum(weights) <= 0:
            return
        wanted = normalise_weights(weights)  # the session's weights are stored normalised
        if (self.weights.as_tuple(), self.k, self.auto) != (wanted, k, auto) or self.result.k != k:
            self.k = int(k)
            self.set_weights(BlendWeights(*weights), auto=auto)


LIVE_KEY = "_live"


def live_session(rec: Any, text: str, liked: tuple[int, ...], disliked: tuple[int, ...], state: ParserState, *,
                 fresh: bool = False) -> PageSession:
    """This browser session's live session for the request, created when the request (text,
    picks, parser or engine) changes; otherwise the same one, following weights, k and the
    toggles. ``fresh`` re-parses a request whose LLM parse fell back."""
    w, k = weights(), current_k()
    auto = bool(st.session_state.get("auto_weights", False))
    use_adapter = bool(st.session_state.get("use_adapter", True))
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    # Keyed by the parser *choice*, not the backend it resolved to: a health flip of "auto" must
    # not throw away the reactions of a running session.
    key = f"{engine_key(rec)}|{state.choice}|{digest}|{sorted(liked)}|{sorted(disliked)}"
    session = current_live()
    if session is not None and session.key == key and not (fresh and session.base_intent.fallback_reason):
        if session.use_adapter != use_adapter:
            session.use_adapter = use_adapter
            session.refresh()
        session.apply(w, k, auto)
        return session
    parsed = parse_request(rec, text, state, fresh=fresh)
    session = core.start_live(rec, parsed, weights=w, k=k, auto=auto, liked=liked, disliked=disliked,
                              use_adapter=use_adapter, session_type=PageSession, key=key)
    st.session_state[LIVE_KEY] = session
    record_run("your request", session.result.timings)
    return session


def current_live() -> PageSession | None:
    """This browser session's live session, if a request ran on the Recommend page."""
    session = st.session_state.get(LIVE_KEY)
    return session if isinstance(session, PageSession) else None


# --------------------------------------------------------------------------- sidebar latency

LATENCY_STAGES = (("parse", "Parse (rules)"), ("llm_call", "LLM call"), ("encode", "Encode request"),
                  ("relevance", "Relevance r"), ("cf", "CF fold-in"), ("blend", "Blend"),
                  ("explain", "Explain"), ("rerank", "LLM rerank"))


def record_run(label: str, timings: dict[str, float]) -> None:
    """Remember the per-stage latency of the last pipeline run (this session only).

    ``timings`` are ``Recommendation.timings`` as the library computed them (``llm_call`` is
    the part of ``intent`` spent waiting for the generative LLM).
    """
    t: dict[str, float] = {}
    intent_ms = float(timings.get("intent", 0.0))
    llm_ms = timings.get("llm_call")
    if llm_ms:
        t["parse"] = max(0.0, intent_ms - float(llm_ms))
        t["llm_call"] = float(llm_ms)
    elif intent_ms >= 0.05:
        t["parse"] = intent_ms
    for key in ("encode", "relevance", "cf", "blend", "explain", "rerank"):
        if key in timings:
            t[key] = float(timings[key])
    t["total"] = float(timings.get("total", sum(t.values())))
    st.session_state["_last_run"] = {"label": label, "timings": t}


def add_rerank_time(ms: float) -> None:
    """Book an LLM rerank to the last run's latency."""
    run = st.session_state.get("_last_run")
    if isinstance(run, dict) and "rerank" not in run["timings"]:
        run["timings"]["rerank"] = ms
        run["timings"]["total"] = run["timings"].get("total", 0.0) + ms


def latency_rows() -> tuple[list[tuple[str, float]], str]:
    """``([(stage, ms)…, ("Total", ms)], label)`` of the last run ([] before any)."""
    run = st.session_state.get("_last_run")
    if not isinstance(run, dict):
        return [], ""
    t = run["timings"]
    rows = [(name, float(t[key])) for key, name in LATENCY_STAGES if key in t]
    rows.append(("Total", float(t.get("total", sum(ms for _, ms in rows)))))
    return rows, str(run.get("label", ""))


def show_latency() -> None:
    """Redraw the sidebar's latency panel with the last run (full runs only)."""
    from ui import components as h

    slot = st.session_state.get("_latency_slot")
    if slot is None:
        return
    rows, label = latency_rows()
    try:
        slot.markdown(h.latency_panel(rows, title="Last run · per stage",
                                      note=f"after {label}" if label else ""), unsafe_allow_html=True)
    except Exception:  # noqa: BLE001 - a stale slot from another run: the next full run redraws it
        logger.debug("latency slot not writable in this run")


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
