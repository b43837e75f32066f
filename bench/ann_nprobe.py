"""Recall@200 of the approximate search by nprobe, with typed requests as queries.

    RECSYS_DATA_DIR=<catalogue> RECSYS_CACHE_DIR=<its caches> python bench/ann_nprobe.py
        [--probes 32 64 128 256 512]

Loads the recommender's large-catalogue index (built by ``python -m recsys index`` or
``bench/scale.py``), encodes ``bench/scale.py``'s requests and the index's own calibration
queries (``recsys.ann.calibration_queries``), and prints recall@200 against exact search
over every stored vector for each nprobe — what the calibration margin in ``recsys/ann.py``
rests on. Recall only: no timings (the machine may be busy).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import REQUESTS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--probes", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    args = parser.parse_args()
    from recsys.ann import calibration_queries, exact_top, recall_at
    from recsys.pipeline import Recommender

    rec = Recommender.load()
    index = rec.index
    if index.ann is None:
        raise SystemExit("this catalogue is searched exactly (no ANN index): nothing to measure")
    vectors = index.embeddings
    sets = {"typed requests": np.stack([rec.encoder.encode_query(t) for t in REQUESTS]),
            "calibration queries": calibration_queries(vectors, np.random.default_rng(1), count=60)}
    built = index.ann.nprobe
    print(f"{len(vectors):,} vectors, {index.ann.nlist:,} lists, nprobe in use {built}")
    for name, queries in sets.items():
        exact = exact_top(vectors, queries, 200)
        cells = []
        for probes in args.probes:
            index.ann.index.nprobe = probes
            cells.append(f"{probes}: {recall_at([index.ann.search(q, 200) for q in queries], exact):.3f}")
        print(f"{name:>20}  " + "  ".join(cells))
    index.ann.index.nprobe = built


if __name__ == "__main__":
    main()
