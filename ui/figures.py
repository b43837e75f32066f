"""Plotly charts on a page: one way to draw them, and figures kept per session while their inputs stay.

A figure is rebuilt only when its ``key`` (what it depends on: the request, the reactions,
the weights…) changes; full reruns (a page switch, the list length) reuse it. The cache
lives in this browser session's state, one entry per chart, never shared between users.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import streamlit as st

CONFIG = {"displayModeBar": False}


def figure(name: str, key: Hashable, build: Callable[[], Any]) -> Any:
    """The figure ``name`` for ``key``, built by ``build()`` when the key changed."""
    cache = st.session_state.setdefault("_figures", {})
    hit = cache.get(name)
    if hit is None or hit[0] != key:
        hit = cache[name] = (key, build())
    return hit[1]


def show(fig: Any, key: str, **options: Any) -> Any:
    """Draw a figure of :mod:`recsys.charts` (its own theme, no mode bar); ``options`` go to
    ``st.plotly_chart`` (e.g. ``on_select``)."""
    return st.plotly_chart(fig, config=CONFIG, key=key, theme=None, **options)


def chart(name: str, key: Hashable, build: Callable[[], Any]) -> Any:
    """:func:`figure` then :func:`show` (the widget key is ``name``); returns the figure."""
    fig = figure(name, key, build)
    show(fig, name)
    return fig
