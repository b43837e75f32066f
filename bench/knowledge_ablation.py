"""Movie knowledge, one piece at a time: blend Recall@10 / NDCG@10 on ReDial requests.

Each variant is the default pipeline (without the adapter, unless ``--adapter``) with some
knowledge switched on, cumulatively; every row is compared with the first (no knowledge) by
a paired bootstrap (1,000 resamples). Choose on
the training file, report on dev once::

    RECSYS_DATA_DIR=../shared/data/ml-latest-small \\
    RECSYS_METADATA=../shared/data/movie-metadata/ml-latest-small-metadata.jsonl \\
    python bench/knowledge_ablation.py --requests ../shared/data/redial/redial_train.jsonl

``--grid`` also scans the knowledge weights (w_p, w_l, w_v) on the given file (for choosing;
never run it on dev). ``--adapter`` keeps the trained adapter when one is loaded.
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
from recsys.pipeline import Recommender, pipeline_prior  # noqa: E402

METRICS = ("recall@10", "ndcg@10")


def variant(base: Recommender, *, people: float = 0.0, lexical: float = 0.0, votes: float = 0.0,
            knowledge: bool = True, adapter: bool = False) -> Recommender:
    """The base recommender with the given knowledge weights (heavy parts shared)."""
    rel = replace(base.config.relevance, people_weight=people, lexical_weight=lexical,
                  disliked_people_penalty=base.config.relevance.disliked_people_penalty if people else 0.0)
    config = replace(base.config, relevance=rel, prior_votes_weight=votes)
    k = base.knowledge if knowledge else None
    prior = pipeline_prior(base.catalogue, config, k.knowledge.votes if k else None)
    rec = Recommender(base.catalogue, base.encoder, base.index, base.cf, prior, base.matcher,
                      config=config, knowledge=k)
    rec.adapter = base.adapter if adapter else None
    return rec


def measure(rec: Recommender, requests: list, cache: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-request blend metrics at the default weights, and the language-only mask."""
    table = collect_stages(rec, requests, cache_dir=cache)
    ranked = table.blend_ranking(rec.config.weights)
    metrics = table.metrics(ranked, METRICS, 10, beyond=False)
    lang = np.array([not r.has_mention for r in table.requests])
    return metrics, lang


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", required=True)
    parser.add_argument("--grid", action="store_true", help="scan the knowledge weights (choose on train)")
    parser.add_argument("--adapter", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    cache = default_cache_dir()
    base = Recommender.load()
    if base.knowledge is None or not base.knowledge.knowledge.available:
        print("no movie knowledge loaded: set RECSYS_METADATA", file=sys.stderr)
        return 1
    requests = load_requests(args.requests)
    d = base.config
    cfg = {"people": d.relevance.people_weight, "lexical": d.relevance.lexical_weight,
           "votes": d.prior_votes_weight}
    if args.grid:
        rows = [dict(people=p, lexical=lx, votes=v) for p, lx, v in
                itertools.product((0.6, 1.0), (0.2, 0.35, 0.5), (0.0, 0.5))]
        names = [f"w_p={r['people']} w_l={r['lexical']} w_v={r['votes']}" for r in rows]
    else:
        rows = [dict(knowledge=False), dict(), dict(people=cfg["people"]),
                dict(people=cfg["people"], lexical=cfg["lexical"]), dict(**cfg),
                dict(cfg, votes=0.5)]
        names = ["no knowledge", "+ plot keywords, Chinese titles", "+ people",
                 "+ plot words (BM25)", "all knowledge (default)",
                 "all + vote-count prior (w_v = 0.5, not the default)"]
    results: dict[str, dict[str, np.ndarray]] = {}
    lang = None
    started = time.perf_counter()
    for name, kwargs in zip(names, rows):
        metrics, lang = measure(variant(base, adapter=args.adapter, **kwargs), requests, cache)
        results[name] = metrics
        print(f"{name:40s} R@10 {metrics['recall@10'].mean():.4f}  NDCG@10 {metrics['ndcg@10'].mean():.4f}"
              f"  lang-only R@10 {metrics['recall@10'][lang].mean():.4f}"
              f"  named R@10 {metrics['recall@10'][~lang].mean():.4f}", flush=True)
    first = names[0]
    report: dict[str, object] = {"requests": args.requests, "n": int(len(lang)),
                                 "language_only": int(lang.sum()), "adapter": args.adapter,
                                 "seconds": round(time.perf_counter() - started, 1), "variants": {}}
    for name in names:
        entry: dict[str, object] = {}
        for subset, rows_mask in (("all", np.ones_like(lang)), ("language_only", lang),
                                  ("with_mention", ~lang)):
            sub = {n: {m: v[rows_mask] for m, v in results[n].items()} for n in (name, first)}
            means = {m: float(sub[name][m].mean()) for m in METRICS}
            if name != first:
                paired = paired_differences(sub, [(name, first)], METRICS)[f"{name} - {first}"]
                means.update({f"{m} diff": paired[m]["diff"] for m in METRICS})
                means.update({f"{m} ci95": paired[m]["ci95"] for m in METRICS})
            entry[subset] = means
        report["variants"][name] = entry  # type: ignore[index]
    if not args.grid:
        print("\n| variant | R@10 all | Δ vs none [95 %] | R@10 language-only | Δ [95 %] | R@10 naming a movie | Δ [95 %] |")
        print("|---|---|---|---|---|---|---|")
        for name in names:
            cells = [name]
            for subset in ("all", "language_only", "with_mention"):
                e = report["variants"][name][subset]  # type: ignore[index]
                cells.append(f"{e['recall@10']:.4f}")
                if name == first:
                    cells.append("–")
                else:
                    lo, hi = e["recall@10 ci95"]
                    cells.append(f"{e['recall@10 diff']:+.4f} [{lo:+.4f}, {hi:+.4f}]")
            print("| " + " | ".join(cells) + " |")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
