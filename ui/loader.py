"""The shared engine: loaded once per process in a background thread, polled by every session.

* :class:`EngineLoader` — builds the :class:`recsys.pipeline.Recommender` once
  (``st.cache_resource``), so every session shares one read-only engine and can show the
  same progress bar while it loads.
* :func:`engine` — the page-side accessor: progress while loading, a clear ``st.error``
  (never a traceback) when data or the model is missing.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from typing import Any

import streamlit as st

from recsys import session as core
from ui.words import words

logger = logging.getLogger(__name__)


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
            self._fail("data", f"{exc} " + words().pick(
                "Set RECSYS_DATA_DIR to a local MovieLens folder (e.g. ml-latest-small) and restart the app.",
                "Set RECSYS_DATA_DIR to your catalogue folder (items.csv and interactions.csv) and restart "
                "the app."))
        except DataError as exc:
            self._fail("data", f"{exc} Fix or replace the file (or point RECSYS_DATA_DIR at a "
                               + words().pick("clean MovieLens folder", "clean catalogue folder")
                               + "), then press Retry.")
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
            prompts = core.example_prompts() if words(self.recommender).movies else []
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
    titles = {"data": f"The {words().item} data could not be loaded.",
              "model": "The embedding model could not be loaded.",
              "memory": "Not enough memory.",
              "unexpected": "The recommender could not start."}
    st.error(f"**{titles.get(loader.error_kind or '', 'The recommender could not start.')}**\n\n"
             f"{loader.error}", icon=":material/error:")
    st.button("Retry", key="retry_load", on_click=loader.retry, type="primary")
