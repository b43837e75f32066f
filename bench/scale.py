"""Scale benchmark: synthetic catalogues of 10k, 100k and 1M items on this machine.

    python bench/scale.py [--sizes 10000 100000 1000000] [--work DIR] [--requests 60]
        [--real-vectors-max 10000] [--update-readme] [--from-json]

Per size ``n`` (``bench/scale_data.py``: power-law interactions, 10 per item, so 1M items
have 10M interactions):

1. **ALS**: implicit ALS on all interactions (the recommender's own ``fit_als``), seconds.
2. **Item vectors**: up to ``--real-vectors-max`` items the real encoder builds them (the
   timed ``index`` step includes it). Above, encoding every item would take hours on 2 cores
   (the measured throughput and the time it implies are reported as ``encode_items_per_s``
   and ``encode_est_s``), so the vector store is filled with synthetic clustered unit vectors
   of the same shape and dtype (``scale_data.synthetic_vectors``) before the build.
3. **Index build**: ``python -m recsys index`` in a fresh process on these caches (the
   catalogue snapshot, knowledge, and above 200k items the ANN index with its calibration),
   wall seconds and peak RSS.
4. **Warm start and requests**: a fresh process loads the recommender (seconds to ready),
   answers ``--requests`` requests after 3 warm-ups (p50 / p95 ms, ``Recommender.recommend``
   with the explained top 10), reports its peak RSS, and for each request's query vector
   the recall@200 of the approximate search (the raw ANN list, and the similarity the
   pipeline uses after exact re-scoring) against exact search over all vectors.

Writes ``assets/results/scale.json`` and prints the README table. Targets at 1M items (a
benchmark, not a test): p50 ≤ 150 ms, p95 ≤ 400 ms, RSS ≤ 8 GB, warm start ≤ 20 s, ALS on
10M interactions ≤ 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scale_data  # noqa: E402

REQUESTS = [
    "something for the garden, for quiet evenings",
    "a portable camera for long trips",
    "anything by Anna Smith",
    "gifts for kids, nothing from the Kitchen category",
    "a smart speaker like The smart castle",
    "durable outdoor boots for beginners",
    "quiet lamp for small spaces, from the 2010s",
    "music and audio, no Toys",
    "velvet jacket, classic fashion",
    "puzzle games for rainy days",
    "I liked Secret valley of the ocean, more like it",
    "tools for weekend projects by Sven Berg",
    "a cosy blanket",
    "fitness gear for busy mornings",
    "art and crafts for the whole family, nothing heavy",
]


def _env(data: Path, cache: Path) -> dict[str, str]:
    env = dict(os.environ, RECSYS_DATA_DIR=str(data), RECSYS_CACHE_DIR=str(cache),
               RECSYS_METADATA="", RECSYS_TRAIN_REQUESTS="", PYTHONPATH=str(ROOT))
    return env


def prepare(n: int, work: Path, real_max: int) -> dict[str, float]:
    """Data, ALS and the item vectors (module docstring, steps 1–2), in this process."""
    from recsys.catalogue import build_catalogue
    from recsys.cf import ALSConfig, fit_als
    from recsys.data import load_dataset
    from recsys.embed import IndexConfig, TextEncoder, index_path
    from recsys import vectorstore
    from recsys.text import item_texts

    data, cache = work / f"items-{n}", work / f"cache-{n}"
    if not (data / "interactions.parquet").exists():
        scale_data.write(data, n, 10 * n)
    out: dict[str, float] = {}
    catalogue = build_catalogue(load_dataset(data, cache_dir=cache))
    out["interactions"] = len(catalogue.ratings)
    started = time.perf_counter()
    fit_als(catalogue, ALSConfig(), cache_dir=cache)
    out["als_s"] = time.perf_counter() - started
    if n <= real_max:
        return out
    encoder = TextEncoder()
    texts = item_texts(catalogue)
    sample = [texts[i] for i in np.random.default_rng(0).choice(n, 4096, replace=False)]
    started = time.perf_counter()
    encoder.encode(sample)
    rate = len(sample) / (time.perf_counter() - started)
    out["encode_items_per_s"] = rate
    out["encode_est_s"] = n / rate
    vectors = scale_data.synthetic_vectors(n, encoder.dim)
    path = index_path(cache, catalogue, encoder.model_id)
    if n > IndexConfig().dense_max_items:
        vectorstore.build(path.with_suffix(""), n, encoder.dim, lambda lo, hi: vectors[lo:hi],
                          chunk=IndexConfig().chunk)
    else:
        from recsys.cachefile import save_npz
        from recsys.text import GENRE_DESCRIPTIONS
        genres = encoder.encode(list(GENRE_DESCRIPTIONS.values()))
        save_npz(path, embeddings=vectors, genre_embeddings=genres)
    return out


def worker(requests: int) -> None:
    """Step 4, in a fresh process (prints one JSON line)."""
    started = time.perf_counter()
    from recsys.ann import exact_top, recall_at
    from recsys.pipeline import Recommender

    rec = Recommender.load()
    ready = time.perf_counter() - started
    texts = [REQUESTS[i % len(REQUESTS)] + ("" if i < len(REQUESTS) else f" #{i}")
             for i in range(requests + 3)]
    times = []
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        rec.recommend(text, k=10)
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    out: dict[str, float | int | None] = {
        "warm_start_s": ready, "p50_ms": statistics.median(times),
        "p95_ms": float(np.percentile(times, 95)), "requests": len(times),
        "ann": rec.index.ann is not None,
    }
    if rec.index.ann is not None:
        queries = np.stack([rec.encoder.encode_query(t) for t in REQUESTS])
        exact = exact_top(rec.index.embeddings, queries, 200)
        raw = [rec.index.ann.search(q, 200) for q in queries]
        used = [np.argsort(-rec.index.similarity(q), kind="stable")[:200] for q in queries]
        out.update(ann_recall_200=recall_at(raw, exact), pipeline_recall_200=recall_at(used, exact),
                   nprobe=rec.index.ann.nprobe, build_recall_200=rec.index.ann.recall)
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print("RESULT " + json.dumps(out), flush=True)


def run_size(n: int, work: Path, requests: int, real_max: int) -> dict[str, object]:
    row: dict[str, object] = {"items": n}
    row.update(prepare(n, work, real_max))
    env = _env(work / f"items-{n}", work / f"cache-{n}")
    started = time.perf_counter()
    # GNU time reports this one process's peak RSS (getrusage's children figure is a running
    # maximum over every child so far)
    timer = ["/usr/bin/time", "-f", "MAXRSS_KB %M"] if Path("/usr/bin/time").exists() else []
    done = subprocess.run([*timer, sys.executable, "-m", "recsys", "index"], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    row["index_s"] = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"index failed for {n}: {done.stderr[-2000:]}")
    peak = [line for line in done.stderr.splitlines() if line.startswith("MAXRSS_KB ")]
    row["index_peak_rss_gb"] = int(peak[-1].split()[1]) / 1e6 if peak else None
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                          "--requests", str(requests)], env=env, cwd=ROOT, capture_output=True,
                         text=True)
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if out.returncode != 0 or not line:
        raise SystemExit(f"worker failed for {n}: {out.stderr[-2000:]}")
    row.update(json.loads(line[-1][len("RESULT "):]))
    row["vectors"] = "real" if n <= real_max else "synthetic"
    return row


def table(rows: list[dict[str, object]]) -> str:
    def f(row: dict[str, object], key: str, fmt: str) -> str:
        value = row.get(key)
        return "–" if value is None else format(value, fmt)
    lines = ["| items | interactions | vectors | ALS | encode (est. when synthetic) | index build "
             "| warm start | p50 | p95 | peak RSS (build or serve) | ANN recall@200 (raw / used) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        encode = ("in build" if r.get("vectors") == "real"
                  else f"{f(r, 'encode_items_per_s', ',.0f')}/s → {float(r['encode_est_s']) / 3600:.1f} h")  # type: ignore[arg-type]
        recall = (f"{f(r, 'ann_recall_200', '.3f')} / {f(r, 'pipeline_recall_200', '.3f')} "
                  f"(nprobe {r.get('nprobe')})" if r.get("ann") else "exact")
        rss = max(float(r["peak_rss_gb"]), float(r.get("index_peak_rss_gb") or 0))  # type: ignore[arg-type]
        lines.append(f"| {int(r['items']):,} | {int(r['interactions']):,} | {r['vectors']} "  # type: ignore[call-overload]
                     f"| {f(r, 'als_s', '.1f' if float(r.get('als_s') or 0) < 10 else '.0f')} s "  # type: ignore[arg-type]
                     f"| {encode} | {f(r, 'index_s', '.0f')} s "
                     f"| {f(r, 'warm_start_s', '.1f')} s | {f(r, 'p50_ms', '.0f')} ms "
                     f"| {f(r, 'p95_ms', '.0f')} ms | {rss:.1f} GB | {recall} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "recsys-scale")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--real-vectors-max", type=int, default=10_000)
    parser.add_argument("--update-readme", action="store_true",
                        help="write the table between the bench:scale markers of README.md")
    parser.add_argument("--from-json", action="store_true",
                        help="only re-print (and with --update-readme write) the stored table")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.requests)
        return
    out = ROOT / "assets" / "results" / "scale.json"
    if args.from_json:
        stored = json.loads(out.read_text())
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
        # rows of other sizes from an earlier run are kept (each row names its commit)
        rows = {int(r["items"]): r for r in
                (json.loads(out.read_text())["rows"] if out.exists() else [])}
        for n in args.sizes:
            row = run_size(n, args.work, args.requests, args.real_vectors_max)
            row.update(commit=commit, load_average=[round(x, 2) for x in os.getloadavg()])
            rows[n] = row
            print(json.dumps(row), flush=True)
            stored = {"cpus": os.cpu_count(), "rows": [rows[k] for k in sorted(rows)]}
            out.write_text(json.dumps(stored, indent=1) + "\n")
        print(f"wrote {out}")
    runs = "; ".join(f"{int(r['items']):,} items: commit {r.get('commit', '?')}, load average "
                     f"{', '.join(f'{x:.1f}' for x in r.get('load_average', []))}"
                     for r in stored["rows"])
    text = f"{stored['cpus']} cores ({runs}).\n\n" + table(stored["rows"])
    print(text)
    if args.update_readme:
        readme = ROOT / "README.md"
        body = readme.read_text(encoding="utf-8")
        start, end = "<!-- bench:scale:start -->\n", "<!-- bench:scale:end -->"
        head, rest = body.split(start, 1)
        readme.write_text(head + start + text + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")
        print("README.md updated")


if __name__ == "__main__":
    main()
