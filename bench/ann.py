"""Which approximate nearest-neighbour library: FAISS IVF vs usearch HNSW, measured.

    python bench/ann.py [--n 200000] [--queries 200] [--k 200]

On ``--n`` synthetic clustered unit vectors (``bench/scale_data.synthetic_vectors``, float16
as the store keeps them) and ``--queries`` held-out query vectors from the same
distribution: build seconds, index size, recall@k against exact inner-product search and
per-query milliseconds (one thread, one query at a time, as a request does). Writes
``assets/results/ann.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale_data import synthetic_vectors  # noqa: E402


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)]))


def timed_queries(search, queries: np.ndarray) -> tuple[np.ndarray, float]:
    out, times = [], []
    for q in queries:
        started = time.perf_counter()
        out.append(search(q))
        times.append((time.perf_counter() - started) * 1000)
    return np.asarray(out), float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=200)
    args = parser.parse_args()
    dim = 384
    data = synthetic_vectors(args.n + args.queries, dim)
    base = data[:args.n].astype(np.float16)
    queries = data[args.n:]
    exact = np.stack([np.argsort(-(base.astype(np.float32) @ q))[:args.k] for q in queries])
    rows = []

    import faiss
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    for nlist in (int(4 * np.sqrt(args.n)),):
        started = time.perf_counter()
        quant = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quant, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                              faiss.METRIC_INNER_PRODUCT)
        sample = base[np.random.default_rng(0).choice(args.n, min(args.n, 50 * nlist), replace=False)]
        index.train(sample.astype(np.float32))
        for s in range(0, args.n, 65536):
            index.add(base[s:s + 65536].astype(np.float32))
        build = time.perf_counter() - started
        faiss.omp_set_num_threads(1)
        for nprobe in (8, 16, 32, 64):
            index.nprobe = nprobe
            found, ms = timed_queries(lambda q: index.search(q[None, :], args.k)[1][0], queries)
            rows.append({"library": "faiss", "index": f"IVF{nlist},SQfp16", "nprobe": nprobe,
                         "build_s": round(build, 1), "recall": round(recall(found, exact), 4),
                         "query_ms": round(ms, 2)})
            print(rows[-1], flush=True)
        faiss.omp_set_num_threads(os.cpu_count() or 1)

    from usearch.index import Index
    started = time.perf_counter()
    index = Index(ndim=dim, metric="ip", dtype="f16", connectivity=16, expansion_add=128)
    index.add(np.arange(args.n), base, threads=os.cpu_count() or 1)
    build = time.perf_counter() - started
    for expansion in (128, 256, 512):
        index.expansion_search = expansion
        found, ms = timed_queries(lambda q: index.search(q, args.k, threads=1).keys, queries)
        rows.append({"library": "usearch", "index": "HNSW M16 f16", "expansion": expansion,
                     "build_s": round(build, 1), "recall": round(recall(found, exact), 4),
                     "query_ms": round(ms, 2)})
        print(rows[-1], flush=True)
    out = ROOT / "assets" / "results" / "ann.json"
    out.write_text(json.dumps({"n": args.n, "dim": dim, "k": args.k, "queries": args.queries,
                               "rows": rows}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
