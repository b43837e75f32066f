"""Progress reporting shared by every long-running stage.

A stage that takes noticeable time (download, encoding the catalogue, fitting ALS)
accepts ``progress: Progress | None`` and calls it as ``progress(fraction, message)``
with ``fraction`` in [0, 1]. The CLI adapts it to a tqdm bar, the web app to
``st.progress``; the library itself never prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[float, str], None]


def report(progress: Progress | None, fraction: float, message: str) -> None:
    """Call ``progress`` if given, with ``fraction`` clipped to [0, 1]."""
    if progress is not None:
        progress(min(1.0, max(0.0, float(fraction))), message)


def scaled(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A callback that maps a sub-task's [0, 1] onto [start, end] of ``progress``."""
    if progress is None:
        return None

    def _inner(fraction: float, message: str) -> None:
        report(progress, start + (end - start) * fraction, message)

    return _inner


@contextmanager
def tqdm_progress(description: str, *, disable: bool = False) -> Iterator[Progress]:
    """A :data:`Progress` callback drawing a tqdm bar on stderr (for the CLI)."""
    from tqdm import tqdm

    bar = tqdm(total=1000, desc=description, unit="‰", disable=disable, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")
    try:
        def _update(fraction: float, message: str) -> None:
            bar.n = int(round(fraction * 1000))
            bar.set_postfix_str(message[:60], refresh=False)
            bar.refresh()

        yield _update
    finally:
        bar.close()
