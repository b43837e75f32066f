"""Choose the adapter's recipe on ReDial's *training* requests by cross-validation.

For each of K folds of ``redial_train.jsonl`` (split by dialogue), the adapter is trained on
the synthetic descriptions of the MovieLens training users plus the real requests of the
other folds, and the blend (default weights, movie knowledge on) is scored on the fold's
requests for every λ. Each request is scored once, by an adapter that never saw it, so the
pooled means are out-of-sample. Also scored: no adapter, and the synthetic-only adapter of
the previous recipe (it never sees ReDial). λ is then chosen per request type (language
only / naming a movie) by the one-standard-error rule. ``--popularity h,w_b,M`` (repeatable)
scores the same folds' adapters under other priors and CF seeds (``prior_half_life`` and one
:class:`~recsys.pipeline.SeedRecipe` for both ``candidate_seeds`` and
``adapted_candidate_seeds``; ``none`` for no half-life), one row set each.
Dev is never read::

    RECSYS_DATA_DIR=../shared/data/ml-latest-small \\
    RECSYS_METADATA=../shared/data/movie-metadata/ml-latest-small-metadata.jsonl \\
    python bench/adapter_cv.py --requests ../shared/data/redial/redial_train.jsonl \\
        --out assets/results/adapter-cv.json
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.adapter import AdapterConfig, train_adapter  # noqa: E402
from recsys.data import default_cache_dir  # noqa: E402
from recsys.evaluation.collect import collect_stages  # noqa: E402
from recsys.evaluation.requests import load_requests  # noqa: E402
from recsys.pipeline import Recommender, SeedRecipe  # noqa: E402
from recsys.splits import split_users  # noqa: E402

METRICS = ("recall@10", "ndcg@10")
GRID = (0.0, 0.5, 1.0, 2.0)


class MemoEncoder:
    """The recommender's encoder with a memory: the synthetic descriptions are the same in
    every fold (seeded), so each text is encoded once for the whole run."""

    def __init__(self, encoder: object) -> None:
        self._encoder = encoder
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], **kwargs: object) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            for text, vector in zip(missing, self._encoder.encode(missing)):  # type: ignore[attr-defined]
                self._memo[text] = vector
        return np.stack([self._memo[t] for t in texts]).astype(np.float32)

    def __getattr__(self, name: str) -> object:
        return getattr(self._encoder, name)


def score(rec: Recommender, requests: list, cache: Path) -> dict[str, dict[str, float]]:
    """Per-request blend metrics at the default weights, keyed by request id."""
    table = collect_stages(rec, requests, cache_dir=cache)
    metrics = table.metrics(table.blend_ranking(rec.config.weights), METRICS, 10, beyond=False)
    return {r.id: {m: float(metrics[m][n]) for m in METRICS} for n, r in enumerate(table.requests)}


def with_popularity(base: Recommender, half_life: float | None, pull: float, seeds: int) -> Recommender:
    """``base`` (no adapter) with another prior half-life and CF seed recipe."""
    recipe = SeedRecipe(count=seeds, prior_weight=pull)
    return base.reconfigured(replace(base.config, prior_half_life=half_life, candidate_seeds=recipe,
                                     adapted_candidate_seeds=recipe))


def one_se(means: dict[float, float], values: dict[float, np.ndarray]) -> float:
    """The smallest λ whose mean is within one standard error of the best λ's."""
    best = max(means, key=lambda lam: (means[lam], -lam))
    se = float(np.std(values[best], ddof=1) / np.sqrt(len(values[best])))
    return min(lam for lam in means if means[lam] >= means[best] - se)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=AdapterConfig.request_repeats)
    parser.add_argument("--popularity", action="append", default=[],
                        help="h,w_b,M: also score under this prior half-life and CF seed recipe")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if "dev" in Path(args.requests).name:
        print("refusing to choose on a dev file", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    cache = default_cache_dir()
    loaded = Recommender.load()
    loaded.adapter = None
    variants = {"": loaded}
    for spec in args.popularity:
        h, pull, seeds = spec.split(",")
        variants[f" [{spec}]"] = with_popularity(loaded, None if h == "none" else float(h),
                                                 float(pull), int(seeds))
    base = loaded
    cat = base.catalogue
    requests = [r for r in load_requests(args.requests) if r.targets]
    users, _ = split_users(cat)
    trainer = copy.copy(base)
    trainer.encoder = MemoEncoder(base.encoder)   # training only; scoring uses the real encoder
    rng = np.random.default_rng(0)
    fold_of = {r.id: int(f) for r, f in zip(requests, rng.permutation(len(requests)) % args.folds)}
    per: dict[str, dict[str, dict[str, float]]] = {}
    for tag, variant in variants.items():
        per[f"none{tag}"] = score(variant, requests, cache)
    print(f"no adapter scored ({time.perf_counter() - started:.0f} s)", flush=True)

    synthetic = train_adapter(trainer, users, AdapterConfig(weight=1.0))
    for lam in GRID[1:]:
        rec = Recommender(cat, base.encoder, base.index, base.cf, base.baseline, base.matcher,
                          config=base.config, knowledge=base.knowledge)
        rec.adapter = replace(synthetic, weight=lam, weight_named=lam)
        per[f"synthetic λ={lam:g}"] = score(rec, requests, cache)
    print(f"synthetic-only adapter scored ({time.perf_counter() - started:.0f} s)", flush=True)

    config = AdapterConfig(weight=1.0, request_repeats=args.repeats)
    for fold in range(args.folds):
        held = [r for r in requests if fold_of[r.id] == fold]
        train = [(r.text, cat.indices(list(r.targets))) for r in requests if fold_of[r.id] != fold]
        adapter = train_adapter(trainer, users, config, requests=train)
        for (tag, variant), lam in itertools.product(variants.items(), GRID[1:]):
            rec = copy.copy(variant)
            rec.adapter = replace(adapter, weight=lam, weight_named=lam)
            per.setdefault(f"real λ={lam:g}{tag}", {}).update(score(rec, held, cache))
        print(f"fold {fold + 1}/{args.folds} ({time.perf_counter() - started:.0f} s)", flush=True)

    ids = sorted(per["none"])
    named = {r.id: r.has_mention for r in requests}
    subsets = {"all": ids, "language_only": [i for i in ids if not named[i]],
               "with_mention": [i for i in ids if named[i]]}
    summary: dict[str, dict[str, dict[str, float]]] = {}
    print("\n| system | R@10 all | NDCG@10 all | R@10 language-only | R@10 naming a movie |")
    print("|---|---|---|---|---|")
    for system, rows in per.items():
        summary[system] = {}
        for subset, keys in subsets.items():
            summary[system][subset] = {m: float(np.mean([rows[k][m] for k in keys])) for m in METRICS}
        s = summary[system]
        print(f"| {system} | {s['all']['recall@10']:.4f} | {s['all']['ndcg@10']:.4f} | "
              f"{s['language_only']['recall@10']:.4f} | {s['with_mention']['recall@10']:.4f} |")
    choice: dict[str, dict[str, object]] = {}
    for recipe in ("real", "synthetic"):
        for subset in ("language_only", "with_mention"):
            keys = subsets[subset]
            values = {0.0: np.array([per["none"][k]["ndcg@10"] for k in keys])}
            values.update({lam: np.array([per[f"{recipe} λ={lam:g}"][k]["ndcg@10"] for k in keys])
                           for lam in GRID[1:]})
            means = {lam: float(v.mean()) for lam, v in values.items()}
            choice[f"{recipe}/{subset}"] = {"lambda": one_se(means, values), "ndcg@10_by_lambda": means}
        print(f"\n{recipe} requests: λ by the one-SE rule on NDCG@10: language-only "
              f"{choice[f'{recipe}/language_only']['lambda']:g}, naming a movie "
              f"{choice[f'{recipe}/with_mention']['lambda']:g}")
    if args.out:
        Path(args.out).write_text(json.dumps({
            "requests": args.requests, "n": len(ids), "folds": args.folds, "repeats": args.repeats,
            "grid": GRID, "systems": summary, "choice": choice,
            "seconds": round(time.perf_counter() - started, 1)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
