"""Speed of the evaluation commands on this machine (warm item / ALS caches).

Times, as fresh processes (launch to exit, so model loading is included):

* ``python -m recsys evaluate --protocol redial --json`` — 751 ReDial requests, all six
  systems, bootstrap intervals, subsets and the cross-fitted tuning (target ≤ 60 s);
* ``python -m recsys sweep`` — 66 weight points (target ≤ 120 s);

each with the evaluation's query-embedding cache warm and cold (a cache folder that links
every cache file except ``queries-*.npz``). The machine is shared: each measure runs
``--runs`` times and the table shows the median and the range, with the load average.

Usage::

    RECSYS_DATA_DIR=../shared/data/ml-latest-small python bench/evaluation_speed.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recsys.data import default_cache_dir  # noqa: E402


def cold_query_cache(cache: Path, into: Path) -> Path:
    """A cache folder linking every file of ``cache`` except the evaluation's query cache."""
    into.mkdir(parents=True, exist_ok=True)
    for item in cache.iterdir():
        if not item.name.startswith("queries-"):
            (into / item.name).symlink_to(item.resolve())
    return into


def timed(args: list[str], cache: Path) -> tuple[float, dict]:
    env = dict(os.environ, RECSYS_CACHE_DIR=str(cache))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "recsys", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    payload = {}
    if "--json" in args:
        payload = json.loads(done.stdout)
    return seconds, payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cache = default_cache_dir()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sweep_out = str(Path(tmp) / "sweep.csv")
        commands = {
            "evaluate --protocol redial (751 requests, 6 systems)": ["evaluate", "--protocol", "redial", "--json"],
            "sweep (66 weight points)": ["sweep", "--out", sweep_out],
        }
        timed(commands["evaluate --protocol redial (751 requests, 6 systems)"], cache)  # warm every cache
        for label, command in commands.items():
            for state in ("warm", "cold"):
                times, loads, inner = [], [], []
                for run in range(args.runs):
                    folder = cache if state == "warm" else cold_query_cache(cache, Path(tmp) / f"c{label[:3]}{run}")
                    loads.append(os.getloadavg()[0])
                    seconds, payload = timed(command, folder)
                    times.append(seconds)
                    if payload:
                        inner.append(payload.get("collect_seconds", 0))
                rows.append((label, state, times, loads, inner))
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.runs} runs each; "
          "query cache = the evaluation's cached request embeddings\n")
    print("| command | query cache | wall time, median [min, max] | stage pass (median) | load avg (1 min) |")
    print("|---|---|---|---|---|")
    for label, state, times, loads, inner in rows:
        stage = f"{statistics.median(inner):.1f} s" if inner else "–"
        print(f"| `{label}` | {state} | {statistics.median(times):.1f} s [{min(times):.1f}, {max(times):.1f}] "
              f"| {stage} | {min(loads):.1f}–{max(loads):.1f} |")


if __name__ == "__main__":
    main()
