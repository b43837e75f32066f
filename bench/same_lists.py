"""Do two versions of the code give the same lists? A fingerprint of many recommendations.

    RECSYS_DATA_DIR=… RECSYS_METADATA=… RECSYS_TRAIN_REQUESTS=… python bench/same_lists.py
        [--requests 300] [--out FILE]

Runs the first ``--requests`` requests of ``$RECSYS_TRAIN_REQUESTS`` (training data, never
dev) through ``Recommender.recommend`` (default weights, k = 10) and prints one SHA-1 over
every list's ids and scores (rounded to 1e-5). Run it on two commits (e.g. in a
``git worktree``) with the same caches: equal hashes mean a refactoring or a speed-up left
every list and score unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help="also write the lists as JSON")
    args = parser.parse_args()
    from recsys.pipeline import Recommender

    path = os.environ.get("RECSYS_TRAIN_REQUESTS", "")
    if not path:
        raise SystemExit("set RECSYS_TRAIN_REQUESTS to a training requests file")
    rec = Recommender.load()
    lists = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if len(lists) >= args.requests:
                break
            result = rec.recommend(json.loads(line)["request"], k=10)
            lists.append([int(x.movie_id) for x in result.items]
                         + [round(float(x.score), 5) for x in result.items])
    if args.out:
        args.out.write_text(json.dumps(lists))
    print(hashlib.sha1(json.dumps(lists).encode()).hexdigest(), len(lists))


if __name__ == "__main__":
    main()
