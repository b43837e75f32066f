"""Speed of the pipeline on this machine (warm caches, ml-latest-small).

Measures, in one run:

* per request: the pipeline's wall time (``Recommender.recommend``) and the *floor* — one
  query encode plus one scoring pass ``E·q`` over the catalogue — for the same text, with
  the query cache cleared before each, over the demo prompts and ReDial requests;
* re-blend: ``Recommendation.reblend`` with new weights;
* reaction: ``LiveSession.react`` (👍 / 👎 → updated list), 5 reactions on 30 requests;
* warm start: a fresh ``python -m recsys recommend … --json`` process, launch to exit;
* peak RSS of the benchmark process and of the warm-start process.

Usage::

    RECSYS_DATA_DIR=../shared/data/ml-latest-small python bench/pipeline_speed.py [--update-readme]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recsys.feedback import LiveSession  # noqa: E402
from recsys.pipeline import Recommender  # noqa: E402

REDIAL = ROOT.parent / "shared" / "data" / "redial" / "redial_dev.jsonl"
START, END = "<!-- bench:pipeline:start -->", "<!-- bench:pipeline:end -->"


def requests(n_redial: int) -> list[str]:
    prompts = [p["text"] for p in json.loads((ROOT / "assets" / "example_prompts.json").read_text())]
    texts = list(prompts)
    if REDIAL.exists():
        with REDIAL.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["request"] for line, _ in zip(fh, range(n_redial))]
    return texts


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redial", type=int, default=100, help="ReDial requests to time")
    parser.add_argument("--warm-starts", type=int, default=3)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()

    rec = Recommender.load()  # builds caches if needed, so the timed runs below are warm
    texts = requests(args.redial)
    rec.recommend("warm-up request")
    pipeline_ms, floor_ms, reblend_ms = [], [], []
    model = rec.encoder._model
    def time_floor(text: str) -> None:
        rec.encoder._queries.clear()
        t0 = time.perf_counter()
        q = model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                         show_progress_bar=False)[0]
        _ = rec.index.embeddings @ q
        floor_ms.append((time.perf_counter() - t0) * 1000)

    for n, text in enumerate(texts):
        # The second encode of a text is faster (tokenizer and kernel caches), so floor and
        # pipeline take turns going first.
        if n % 2 == 0:
            time_floor(text)
        rec.encoder._queries.clear()
        t0 = time.perf_counter()
        result = rec.recommend(text)
        pipeline_ms.append((time.perf_counter() - t0) * 1000)
        if n % 2 == 1:
            time_floor(text)
        t0 = time.perf_counter()
        result.reblend((0.2, 0.6, 0.2))
        reblend_ms.append((time.perf_counter() - t0) * 1000)
    reaction_ms = []
    for text in texts[:30]:
        session = LiveSession(rec, text)
        for step in range(5):
            if not session.result.items:
                break
            item = session.result.items[step % len(session.result.items)]
            t0 = time.perf_counter()
            session.react(item.movie_id, "like" if step % 2 == 0 else "dislike")
            reaction_ms.append((time.perf_counter() - t0) * 1000)
    bench_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    warm = []
    for _ in range(args.warm_starts):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "recsys", "recommend",
                               "mind-bending sci-fi like Inception", "--json"], cwd=ROOT,
                              capture_output=True, text=True, env=os.environ.copy())
        warm.append(time.perf_counter() - t0)
        if proc.returncode:
            raise SystemExit(proc.stderr)
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    p50, floor50 = percentile(pipeline_ms, 50), percentile(floor_ms, 50)
    rows = [
        ("per-request p50 / p95", f"{p50:.1f} / {percentile(pipeline_ms, 95):.1f} ms", "p50 ≤ 100 ms"),
        ("floor p50 / p95 (encode + E·q)", f"{floor50:.1f} / {percentile(floor_ms, 95):.1f} ms", ""),
        ("p50 pipeline ÷ p50 floor", f"{p50 / floor50:.2f}×", "≤ 1.5×"),
        ("re-blend p50 / p95", f"{percentile(reblend_ms, 50):.2f} / {percentile(reblend_ms, 95):.2f} ms",
         "≤ 10 ms"),
        ("reaction → updated list p50 / p95", f"{percentile(reaction_ms, 50):.1f} / "
         f"{percentile(reaction_ms, 95):.1f} ms", "≤ 150 ms"),
        ("warm start → first answer (median of "
         f"{len(warm)})", f"{np.median(warm):.1f} s", "≤ 10 s"),
        ("peak RSS: warm-start CLI / bench process", f"{child_rss:.0f} / {bench_rss:.0f} MB", "≤ 1.5 GB"),
    ]
    adapter = "with the trained adapter" if rec.adapter is not None else "without adapter"
    lines = [f"{len(texts)} requests ({len(texts) - args.redial} demo prompts + {args.redial} ReDial), "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, warm caches, {adapter}.", "",
             "| measure | result | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    table = "\n".join(lines)
    print(table)
    if args.update_readme:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        readme.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
        print("README.md updated", file=sys.stderr)


if __name__ == "__main__":
    main()
