"""Which adapter head? Train each variant on the training users; judge it on real requests.

For every head variant (item side × query map), ``train_adapter`` runs exactly as
``python -m recsys train-adapter`` does (training users of ``recsys.splits`` only; λ by the
one-standard-error rule on validation users), then each variant is judged on ReDial
requests it never saw: Recall@10 of the adapter's scores alone, of ``r`` with the adapter
term, and of the blend at the default weights — the requests' named movies excluded.

Usage::

    RECSYS_DATA_DIR=../shared/data/ml-latest-small python bench/adapter_heads.py \\
        [--requests ../shared/data/redial/redial_dev_nomention.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recsys.adapter import AdapterConfig, train_adapter  # noqa: E402
from recsys.relevance import top_indices  # noqa: E402
from recsys.pipeline import Recommender  # noqa: E402
from recsys.splits import split_users  # noqa: E402

VARIANTS = [
    ("item bias only (a learned popularity)", AdapterConfig(items="bias")),
    ("linear query map, content items", AdapterConfig(items="content")),
    ("linear query map, CF items", AdapterConfig(items="cf")),
    ("two-layer query map (256), content + CF items", AdapterConfig(hidden=256)),
    ("linear query map, content + CF items (shipped)", AdapterConfig()),
]
DEFAULT_REQUESTS = ROOT.parent / "shared" / "data" / "redial" / "redial_dev_nomention.jsonl"


def recall(scores: np.ndarray, targets: set[int], excluded: np.ndarray, ids: np.ndarray) -> float:
    top = ids[top_indices(scores, 10, excluded)]
    return len(targets.intersection(top.tolist())) / len(targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=Path, default=DEFAULT_REQUESTS)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.requests.open(encoding="utf-8") if line.strip()]
    rows = [r for r in rows if r["target_movie_ids"]]
    rec = Recommender.load()
    rec.adapter = None
    cat = rec.catalogue
    train_users, _ = split_users(cat)
    results = []
    for variant, config in [("zero-shot (no adapter)", None)] + VARIANTS:
        started = time.perf_counter()
        adapter = None if config is None else train_adapter(rec, train_users, config)
        seconds = time.perf_counter() - started
        rec.adapter = adapter
        alone, r_only, blended = [], [], []
        for row in rows:
            result = rec.recommend(row["request"], explain=False)
            excluded = result.excluded.copy()
            excluded[cat.indices(row["mentioned_movie_ids"] + row["mentioned_disliked_movie_ids"])] = True
            targets = set(row["target_movie_ids"])
            if adapter is not None:
                query = rec.encoder.encode_query(result.intent.query_text)
                alone.append(recall(adapter.scores(query), targets, excluded, cat.movie_ids))
            r_only.append(recall(result.relevance.r, targets, excluded, cat.movie_ids))
            final = np.where(excluded, -np.inf, result.blend.final)
            blended.append(recall(final, targets, excluded, cat.movie_ids))
        report = adapter.report if adapter is not None else {}
        results.append((variant, np.mean(alone) if alone else None, np.mean(r_only), np.mean(blended),
                        report.get("weight"), report.get("trainable_parameters"), seconds))
    print(f"{len(rows)} requests from {args.requests.name}; Recall@10; λ by the one-SE rule on "
          "validation users' synthetic descriptions.\n")
    print("| head | adapter alone | r (with adapter) | blend | λ | trainable parameters | training |")
    print("|---|---|---|---|---|---|---|")
    for variant, alone, r_only, blended, weight, params, seconds in results:
        alone_cell = "–" if alone is None else f"{alone:.4f}"
        print(f"| {variant} | {alone_cell} | {r_only:.4f} | {blended:.4f} | "
              f"{'–' if weight is None else f'{weight:g}'} | "
              f"{'–' if params is None else f'{params:,}'} | "
              f"{'–' if weight is None else f'{seconds:.0f} s'} |")


if __name__ == "__main__":
    main()
