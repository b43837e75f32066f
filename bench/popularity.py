"""Popular *now*: the prior's half-life and the CF seeds' pull towards it, chosen on ReDial train.

Two knobs of :class:`recsys.pipeline.PipelineConfig`, measured on the blend without the
adapter (the adapter is trained on the same requests, so it is detached here):

- ``prior_half_life`` h (years): each rating's weight in the prior's popularity halves every
  h years before the log's newest rating (:mod:`recsys.baseline`; None = all ratings alike);
- ``candidate_seeds`` (M, w_b): the LLM candidates folded into CF are the top M by
  r̂ + w_b·b̂ (:func:`recsys.pipeline.candidate_seeds`).

``--grid`` (choose; never on dev) scores every point of a fixed grid on the given requests and
picks the one with the highest mean blend Recall@10 over *all* requests (the rule was fixed
before the grid ran). It also estimates what that choice is worth out of sample: 5-fold
cross-validation by request (each request is its own dialogue), the point chosen on four folds
scored on the fifth, paired against the previous default.

Without ``--grid`` (report): the previous default, each knob alone and both (the default),
paired bootstrap against the first row (1,000 resamples)::

    RECSYS_DATA_DIR=../shared/data/ml-latest-small \\
    RECSYS_METADATA=../shared/data/movie-metadata/ml-latest-small-metadata.jsonl \\
    python bench/popularity.py --grid --requests ../shared/data/redial/redial_train.jsonl \\
        --out assets/results/popularity-grid.json
    python bench/popularity.py --requests ../shared/data/redial/redial_dev.jsonl \\
        --out assets/results/popularity-dev.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.data import default_cache_dir  # noqa: E402
from recsys.evaluation.collect import collect_stages  # noqa: E402
from recsys.evaluation.requests import load_requests  # noqa: E402
from recsys.evaluation.stats import paired_differences  # noqa: E402
from recsys.pipeline import Recommender, SeedRecipe  # noqa: E402

METRICS = ("recall@10", "ndcg@10")
HALF_LIVES: tuple[float | None, ...] = (None, 4.0, 2.0, 1.0, 0.5, 0.25)
SEED_PULLS = (0.0, 0.5, 1.0, 2.0)
SEED_COUNTS = (10, 20)
PREVIOUS = (None, 0.0, 10)          #: h, w_b, M before this change
FOLDS = 5


def variant(base: Recommender, half_life: float | None, pull: float, seeds: int) -> Recommender:
    """The base recommender (adapter detached) with the given prior and CF seeds."""
    recipe = SeedRecipe(count=seeds, prior_weight=pull)
    return base.reconfigured(replace(base.config, prior_half_life=half_life, candidate_seeds=recipe,
                                     adapted_candidate_seeds=recipe))


def measure(rec: Recommender, requests: list, cache: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-request blend metrics at the default weights, and the language-only mask."""
    table = collect_stages(rec, requests, cache_dir=cache)
    metrics = table.metrics(table.blend_ranking(rec.config.weights), METRICS, 10, beyond=False)
    return metrics, np.array([not r.has_mention for r in table.requests])


def label(point: tuple[float | None, float, int]) -> str:
    h, pull, seeds = point
    return f"h={'none' if h is None else h} w_b={pull} M={seeds}"


def summary(metrics: dict[str, np.ndarray], lang: np.ndarray) -> dict[str, float]:
    r = metrics["recall@10"]
    return {"recall@10": float(r.mean()), "ndcg@10": float(metrics["ndcg@10"].mean()),
            "recall@10 language_only": float(r[lang].mean()),
            "recall@10 with_mention": float(r[~lang].mean())}


def cross_validated(results: dict[str, dict[str, np.ndarray]], points: list[str], n: int,
                    seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Per-request Recall@10 of the point chosen (highest mean) on the other folds."""
    fold = np.random.default_rng(seed).permutation(n) % FOLDS
    out = np.zeros(n)
    chosen = []
    for f in range(FOLDS):
        fit = fold != f
        best = max(points, key=lambda p: (results[p]["recall@10"][fit].mean(), -points.index(p)))
        chosen.append(best)
        out[~fit] = results[best]["recall@10"][~fit]
    return out, chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", required=True)
    parser.add_argument("--grid", action="store_true", help="scan the grid and choose (training data only)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    cache = default_cache_dir()
    base = Recommender.load()
    requests = load_requests(args.requests)
    if args.grid and ("dev" in Path(args.requests).stem or "test" in Path(args.requests).stem):
        print("--grid chooses: run it on the training requests, never on dev", file=sys.stderr)
        return 2
    d = base.config
    default = (d.prior_half_life, d.candidate_seeds.prior_weight, d.candidate_seeds.count)
    if args.grid:
        points = [PREVIOUS] + [p for p in itertools.product(HALF_LIVES, SEED_PULLS, SEED_COUNTS)
                               if p != PREVIOUS]
    else:
        points = list(dict.fromkeys([PREVIOUS, (default[0], 0.0, PREVIOUS[2]),
                                     (PREVIOUS[0], default[1], default[2]), default]))
    names = [label(p) for p in points]
    results: dict[str, dict[str, np.ndarray]] = {}
    lang = np.zeros(0, dtype=bool)
    started = time.perf_counter()
    for name, point in zip(names, points):
        results[name], lang = measure(variant(base, *point), requests, cache)
        s = summary(results[name], lang)
        print(f"{name:28s} R@10 {s['recall@10']:.4f}  NDCG@10 {s['ndcg@10']:.4f}  "
              f"lang-only {s['recall@10 language_only']:.4f}  named {s['recall@10 with_mention']:.4f}",
              flush=True)
    first = names[0]
    report: dict[str, object] = {
        "requests": args.requests, "n": int(len(lang)), "language_only": int(lang.sum()),
        "default": label(default), "previous": first, "rule": "max mean blend Recall@10, all requests",
        "points": {name: summary(results[name], lang) for name in names}}
    if args.grid:
        best = max(names, key=lambda p: (results[p]["recall@10"].mean(), -names.index(p)))
        cv, chosen = cross_validated(results, names, len(lang))
        rows = {"cv": {"recall@10": cv}, first: {"recall@10": results[first]["recall@10"]}}
        entry: dict[str, object] = {"chosen per fold": chosen}
        for subset, mask in (("all", np.ones_like(lang)), ("language_only", lang), ("with_mention", ~lang)):
            sub = {k: {"recall@10": v["recall@10"][mask]} for k, v in rows.items()}
            paired = paired_differences(sub, [("cv", first)], ("recall@10",))[f"cv - {first}"]
            entry[subset] = {"cv recall@10": float(cv[mask].mean()),
                             "previous recall@10": float(results[first]["recall@10"][mask].mean()),
                             "diff": paired["recall@10"]["diff"], "ci95": paired["recall@10"]["ci95"]}
        report.update({"best": best, "cross_validation": entry})
        print(f"\nbest on all of {args.requests}: {best}")
        print(f"5-fold CV of the choice (chosen per fold: {chosen}):")
        for subset in ("all", "language_only", "with_mention"):
            e = entry[subset]  # type: ignore[index]
            lo, hi = e["ci95"]
            print(f"  {subset:14s} {e['previous recall@10']:.4f} → {e['cv recall@10']:.4f} "
                  f"({e['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}])")
    else:
        table = ["| variant | R@10 all | Δ [95 %] | R@10 language-only | Δ [95 %] | R@10 naming a movie | Δ [95 %] |",
                 "|---|---|---|---|---|---|---|"]
        diffs: dict[str, object] = {}
        for name in names:
            cells = [name]
            for subset, mask in (("all", np.ones_like(lang)), ("language_only", lang), ("with_mention", ~lang)):
                sub = {k: {m: v[m][mask] for m in METRICS} for k, v in results.items() if k in (name, first)}
                cells.append(f"{sub[name]['recall@10'].mean():.4f}")
                if name == first:
                    cells.append("–")
                    continue
                paired = paired_differences(sub, [(name, first)], METRICS)[f"{name} - {first}"]
                diffs.setdefault(name, {})[subset] = paired  # type: ignore[union-attr]
                lo, hi = paired["recall@10"]["ci95"]
                cells.append(f"{paired['recall@10']['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}]")
            table.append("| " + " | ".join(cells) + " |")
        report["paired"] = diffs
        print("\n" + "\n".join(table))
    report["seconds"] = round(time.perf_counter() - started, 1)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
