"""The blocks several pages repeat, each defined once.

* :func:`weights_ok` — the all-zero-weights check with its warning (sidebar, Compare, Recommend).
* :func:`example_chips` — example requests as pills; a click makes one the current request.
* :func:`section` — an unnumbered section heading (native subheader and caption).
* :func:`request_errors` — the request's failure modes as a friendly box, never a traceback:
  an unusable request is a warning with what to do, anything else an error; the page stops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from recsys.intent import InvalidRequestError
from recsys.session import weights_ok as _weights_ok
from ui import state
from ui.words import example_prompts

ZERO_WEIGHTS = "All three blend weights are 0 — move at least one slider in the sidebar above 0."


def weights_ok(weights: tuple[float, float, float], *, heading: str = "") -> bool:
    """True when the weights can blend; otherwise shows ``heading`` (an HTML snippet of
    :mod:`ui.components`, e.g. the stage heading the warning replaces) and the all-zero
    warning, and returns False."""
    if _weights_ok(weights):
        return True
    if heading:
        state.md(heading)
    st.warning(ZERO_WEIGHTS, icon=":material/balance:")
    return False


def section(title: str, subtitle: str = "") -> None:
    """An unnumbered section heading with an optional one-line subtitle."""
    st.subheader(title, anchor=False, divider=False)
    if subtitle:
        st.caption(subtitle)


def example_chips(label: str, key: str, *, on_pick: Callable[[str], None] | None = None, rec: Any = None) -> None:
    """The example requests for ``rec``'s catalogue as pills (nothing when there are none; see
    :func:`ui.words.example_prompts`). A click puts the example in the request box
    (``request_text``) and calls ``on_pick(text)``; the pill resets."""
    examples = example_prompts(rec)
    if examples:
        st.pills(label, [p["label"] for p in examples], key=key, on_change=_use_example,
                 args=(key, on_pick, examples))


def _use_example(key: str, on_pick: Callable[[str], None] | None, examples: list[dict[str, str]]) -> None:
    label = st.session_state.get(key)
    for prompt in examples:
        if prompt.get("label") == label:
            st.session_state["request_text"] = prompt["text"]
            if on_pick is not None:
                on_pick(prompt["text"])
            break
    st.session_state[key] = None


@contextmanager
def request_errors(failure: str, hint: str) -> Iterator[None]:
    """Run a request; on failure show a friendly box and stop the page.

    Unexpected errors read "Sorry — <failure> (<error type>). <hint>";
    :class:`~recsys.intent.InvalidRequestError` shows its own message (what to type instead)."""
    try:
        yield
    except InvalidRequestError as exc:
        st.warning(str(exc), icon=":material/edit_note:")
        st.stop()
    except Exception as exc:  # noqa: BLE001 - never a traceback in the UI
        if type(exc).__module__.startswith("streamlit"):   # st.stop / st.rerun control flow
            raise
        st.error(f"Sorry — {failure} ({type(exc).__name__}). {hint}", icon=":material/error:")
        st.stop()
