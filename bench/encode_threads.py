"""How many torch intra-op threads should a request encode use? (measures, changes nothing)

Encodes distinct short requests with MiniLM (no query cache) in one process:

* one user: sequential single-query encodes;
* 8 users at once: 8 Python threads, each encoding its requests one by one (what 8
  Streamlit sessions do), optionally serialised by one lock;

for ``torch.set_num_threads(n)`` with n = 1 and n = os.cpu_count(). Prints p50 / p95 per
encode (ms) and the wall time of the concurrent runs. Run it on a quiet and on a busy
machine: the default (all cores) collapses when other processes hold the CPU.

    python bench/encode_threads.py [--queries 40]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _texts(n: int, salt: str) -> list[str]:
    """``n`` distinct short requests (``salt`` keeps configurations from sharing texts)."""
    genres = ["sci-fi", "comedy", "horror", "western", "romance", "war", "crime", "musical"]
    return [f"a {genres[i % 8]} movie from the {1950 + (i * 7) % 70}s, {salt} take {i}" for i in range(n)]


def _sequential(model, texts: list[str]) -> list[float]:
    """ms per single-text encode, one after another."""
    times = []
    for text in texts:
        t0 = time.perf_counter()
        model.encode([text], normalize_embeddings=True, show_progress_bar=False)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def _concurrent(model, users: int, texts: list[str], lock: threading.Lock | None) -> tuple[list[float], float]:
    """ms per encode with ``users`` threads encoding at once (optionally one at a time under
    ``lock``), and the wall time in seconds."""
    times: list[float] = []
    guard = threading.Lock()

    def user(k: int) -> None:
        mine = texts[k::users]
        for text in mine:
            t0 = time.perf_counter()
            if lock is None:
                model.encode([text], normalize_embeddings=True, show_progress_bar=False)
            else:
                with lock:
                    model.encode([text], normalize_embeddings=True, show_progress_bar=False)
            with guard:
                times.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, time.perf_counter() - t0


def main() -> None:
    """Print the table (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=40, help="encodes per configuration (40)")
    args = parser.parse_args()
    import torch

    from recsys.embed import TextEncoder

    model = TextEncoder()._model
    model.encode(["warm up"], show_progress_bar=False)
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    print(f"{cores} cores, load average {load:.1f}, {args.queries} encodes per row")
    print(f"{'configuration':<44} {'p50 ms':>8} {'p95 ms':>8} {'wall s':>7}")
    for n in sorted({1, cores}):
        torch.set_num_threads(n)
        seq = _sequential(model, _texts(args.queries, f"seq{n}"))
        print(f"{f'1 user, {n} thread(s)':<44} {np.percentile(seq, 50):8.1f} {np.percentile(seq, 95):8.1f}")
        for lock in (None, threading.Lock()):
            times, wall = _concurrent(model, 8, _texts(args.queries, f"con{n}{lock is None}"), lock)
            label = f"8 users at once, {n} thread(s){', one lock' if lock else ''}"
            print(f"{label:<44} {np.percentile(times, 50):8.1f} {np.percentile(times, 95):8.1f} {wall:7.2f}")


if __name__ == "__main__":
    main()
