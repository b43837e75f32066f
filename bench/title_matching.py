"""Benchmark :class:`recsys.titles.TitleMatcher` on the ReDial development requests.

Usage::

    python bench/title_matching.py --data-dir /work/shared/data/ml-latest-small \\
        --requests /work/shared/data/redial/redial_dev.jsonl [--show-errors 20]

Prints a markdown table of micro precision / recall / F1 of ``find_mentions`` against
``mentioned_movie_ids`` ∪ ``mentioned_disliked_movie_ids`` for (a) the requests as
given ("Title (Year)") and (b) the same requests with every " (YYYY)" removed, the
number of false positives on requests that name no movie, per-request latency and
index build time.

ReDial data: Li et al., *Towards Deep Conversational Recommendations*, NeurIPS 2018
(CC BY 4.0). Note that the ground truth only lists the movies the crowd worker tagged;
titles typed without tagging ("The Fast and the Furious") count as false positives here.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.titles import TitleMatcher  # noqa: E402

_YEAR_RE = re.compile(r"\s*\((?:18|19|20)\d\d\)")


def load_matcher(data_dir: Path) -> tuple[TitleMatcher, dict[int, str], float]:
    """Build the matcher from movies.csv / ratings.csv; return it, titles, build secs."""
    movies = pd.read_csv(data_dir / "movies.csv")
    ratings = pd.read_csv(data_dir / "ratings.csv", usecols=["movieId"])
    counts = ratings["movieId"].value_counts()
    pop = movies["movieId"].map(counts).fillna(0).astype(float).tolist()
    ids = movies["movieId"].astype(int).tolist()
    titles = movies["title"].astype(str).tolist()
    t0 = time.perf_counter()
    matcher = TitleMatcher(ids, titles, pop)
    build = time.perf_counter() - t0
    return matcher, dict(zip(ids, titles)), build


def evaluate(
    matcher: TitleMatcher,
    rows: list[dict[str, Any]],
    strip_years: bool,
    titles: dict[int, str],
    show_errors: int,
) -> dict[str, float]:
    """Micro P/R/F1, false positives on no-mention requests and latencies."""
    tp = fp = fn = 0
    fp_nomention = 0
    n_nomention = 0
    times: list[float] = []
    errors: list[str] = []
    for row in rows:
        text = str(row["request"])
        if strip_years:
            text = _YEAR_RE.sub("", text)
        gold = set(row["mentioned_movie_ids"]) | set(row["mentioned_disliked_movie_ids"])
        t0 = time.perf_counter()
        found = matcher.find_mentions(text)
        times.append(time.perf_counter() - t0)
        pred = {m.movie_id for m in found}
        tp += len(pred & gold)
        fp += len(pred - gold)
        fn += len(gold - pred)
        if not row["request_has_movie_mention"]:
            n_nomention += 1
            fp_nomention += len(pred)
        if (pred != gold) and len(errors) < show_errors:
            extra = [f"+{m.surface!r}->{m.title} [{m.method} {m.score}]"
                     for m in found if m.movie_id not in gold]
            missing = [f"-{titles.get(g, g)}" for g in gold - pred]
            errors.append(f"{text[:160]!r}\n      {' '.join(extra)} {' '.join(missing)}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    times_ms = sorted(t * 1000 for t in times)
    for line in errors:
        print("   ", line)
    return {
        "precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn,
        "fp_nomention": fp_nomention, "n_nomention": n_nomention,
        "median_ms": statistics.median(times_ms),
        "p95_ms": times_ms[int(0.95 * (len(times_ms) - 1))],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="directory with movies.csv and ratings.csv")
    parser.add_argument("--requests", type=Path, required=True,
                        help="redial_dev.jsonl")
    parser.add_argument("--show-errors", type=int, default=0,
                        help="print up to N mismatching requests per variant")
    args = parser.parse_args(argv)

    matcher, titles, build = load_matcher(args.data_dir)
    with args.requests.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    matcher.find_mentions("warm up: I loved The Matrix (1999) and incepton")

    results = {}
    for name, strip in (("(a) as given", False), ("(b) years removed", True)):
        if args.show_errors:
            print(f"## errors {name}")
        results[name] = evaluate(matcher, rows, strip, titles, args.show_errors)

    lookup_times = []
    for probe in ("The Matrix", "toy story 2", "the matirx", "Léon", "Inception (2010)"):
        t0 = time.perf_counter()
        matcher.lookup(probe)
        lookup_times.append((time.perf_counter() - t0) * 1000)

    print(f"\nTitle matching on {len(rows)} ReDial dev requests "
          f"({len(titles)} catalogue titles)\n")
    print("| variant | precision | recall | F1 | TP | FP | FN | FP on no-mention requests "
          "| median ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} "
              f"| {r['tp']} | {r['fp']} | {r['fn']} "
              f"| {r['fp_nomention']} in {r['n_nomention']} requests "
              f"| {r['median_ms']:.2f} | {r['p95_ms']:.2f} |")
    print(f"\nIndex build: {build:.3f} s; lookup: median "
          f"{statistics.median(lookup_times):.2f} ms, max {max(lookup_times):.2f} ms")
    print("\nData: ReDial (Li et al., NeurIPS 2018, CC BY 4.0), development split. "
          "Gold labels cover only the movies tagged with @ in ReDial, so titles typed "
          "without a tag count as false positives.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
