"""The protocols: every system on a protocol's cases, summarised as the results JSON body.

:func:`evaluate_table` summarises the systems of a :class:`StageTable` (and of named row
subsets): means with bootstrap intervals (:mod:`recsys.evaluation.stats`), paired
differences, lifts over random and popularity. :func:`run_redial`,
:func:`run_held_out` (``simulated``, ``sampled20``) and :func:`run_warmup` build the cases
and tables of one protocol and return the payload's body; :func:`engine_facts` records
what the numbers were computed with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys.blend import BlendWeights
from recsys.evaluation.collect import adapter_rankings, adapter_tables, collect_stages, without_adapter
from recsys.evaluation.cases import (
    SAMPLED_CANDIDATES,
    WARMUP_STEPS,
    sampled_requests,
    simulated_requests,
    warmup_requests,
)
from recsys.evaluation.heldout import LIKED_RATING, MIN_LIKED, HeldOutSetup
from recsys.evaluation.metrics import accuracy_names
from recsys.evaluation.requests import (
    DEFAULT_SEED,
    DEFAULTS,
    LIST_LENGTH,
    TUNE_METRIC,
    VARIANTS,
    EvalRequest,
    ProgressFn,
)
from recsys.evaluation.stages import StageTable
from recsys.evaluation.stats import lift, paired_differences, summarise
from recsys.evaluation.tuning import cross_fitted_ranking, tune_weights

if TYPE_CHECKING:
    from recsys.pipeline import Recommender

#: Hou et al. (ECIR 2024), Table 2, MovieLens-1M, 1 true + 19 sampled candidates (× 100).
HOU_ML1M = {
    "random": {"ndcg@1": 5.00, "ndcg@5": 13.33, "ndcg@10": 22.72, "ndcg@20": 28.16},
    "BM25": {"ndcg@10": 17.88},
    "popularity": {"ndcg@10": 52.33},
    "BPRMF": {"ndcg@10": 64.29},
    "SASRec": {"ndcg@10": 78.89},
    "ChatGPT (in-context)": {"ndcg@10": 45.83},
    "GPT-4": {"ndcg@10": 46.74},
}


def evaluate_table(table: StageTable, *, weights: BlendWeights | Sequence[float], k: int = DEFAULTS.k,
                   protocol: str = "redial", tuned: np.ndarray | None = None,
                   resamples: int = DEFAULTS.resamples, seed: int = DEFAULT_SEED,
                   subsets: Mapping[str, np.ndarray] | None = None,
                   extra: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Summaries of every system on ``table`` (and on each row subset).

    ``extra`` adds rankings of other systems over the same rows (e.g. ``llm_adapter`` and
    ``blend_adapter`` from :func:`adapter_rankings`)."""
    names = accuracy_names(k, protocol)
    beyond = not table.sampled
    rankings = {system: table.ranking(system) for system in ("random", "popularity", "llm", "cf")}
    rankings["blend"] = table.blend_ranking(weights)
    if tuned is not None:
        rankings["blend-tuned"] = tuned
    rankings.update(extra or {})
    groups = table.groups

    def block(rows: np.ndarray | None) -> dict[str, Any]:
        sub = {s: (r if rows is None else r[rows]) for s, r in rankings.items()}
        metrics = {s: table.metrics(r, names, k, rows, beyond=beyond) for s, r in sub.items()}
        g = groups if rows is None else groups[rows]
        systems = summarise(metrics, resamples=resamples, seed=seed, groups=g,
                            rankings=sub if beyond else None, k=k, n_items=table.context.n_items)
        pairs = [("blend", "popularity"), ("blend", "random"), ("blend", "cf"), ("blend", "llm"),
                 ("blend-tuned", "blend"), ("blend-tuned", "popularity"),
                 ("llm_adapter", "llm"), ("blend_adapter", "blend"), ("blend_adapter", "popularity")]
        pairs = [(a, b) for a, b in pairs if a in rankings and b in rankings]
        paired = paired_differences(metrics, pairs, names, resamples=resamples, seed=seed, groups=g)
        constrained = table.constrained if rows is None else table.constrained[rows]
        return {"n": len(g), "users": len(set(g.tolist())), "systems": systems,
                "paired": paired, "lift": lift(systems, names),
                "requests_with_constraints": int(constrained.sum())}

    out = block(None)
    out["subsets"] = {name: block(rows) for name, rows in (subsets or {}).items() if len(rows)}
    return out


def run_redial(recommender: Recommender, requests: Sequence[EvalRequest], *,
               weights: BlendWeights | None = None, k: int = DEFAULTS.k, resamples: int = DEFAULTS.resamples,
               seed: int = DEFAULT_SEED, tune_metric: str = TUNE_METRIC,
               cache_dir: Path | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """The ``redial`` protocol: every system on the requests, the language-only subset,
    and ``blend-tuned`` by two-fold cross-fitting. Returns the JSON payload's body."""
    weights = weights or recommender.config.weights
    table, adapted = adapter_tables(recommender, requests, length=max(LIST_LENGTH, k), seed=seed,
                                    cache_dir=cache_dir, progress=progress)
    prefer = recommender.config.weights.as_tuple()
    tuned, folds = cross_fitted_ranking(table, metric=tune_metric, k=k, seed=seed, prefer=prefer)
    subsets = {"language_only": table.rows_where(has_mention=False),
               "with_mention": table.rows_where(has_mention=True)}
    body = evaluate_table(table, weights=weights, k=k, tuned=tuned, resamples=resamples, seed=seed,
                          subsets=subsets, extra=adapter_rankings(adapted, weights))
    body["tuning"] = {"method": "two-fold cross-fitting: weights tuned on one seeded half of the "
                                "requests rank the other half", "metric": tune_metric,
                      "grid": "α+β+γ=1, step 0.1 (66 points)", "seed": seed, "folds": folds}
    body["collect_seconds"] = round(table.seconds + (adapted.seconds if adapted else 0.0), 2)
    body["engine"] = engine_facts(recommender)
    return body


def engine_facts(recommender: Recommender) -> dict[str, Any]:
    """What the numbers were computed with: item index, ALS, adapter (when loaded), parser."""
    adapter = getattr(recommender, "adapter", None)
    facts: dict[str, Any] = {"item_index": getattr(recommender.index, "key", None),
                             "encoder": getattr(recommender.encoder, "model_id", None),
                             "als_factors": int(recommender.cf.item_factors.shape[1]),
                             "cf_users": len(recommender.cf.user_ids),
                             "parser": getattr(recommender.parser, "name", None),
                             "adapter": None}
    if adapter is not None:
        report = getattr(adapter, "report", {}) or {}
        facts["adapter"] = {"key": getattr(adapter, "key", None), "weight": getattr(adapter, "weight", None),
                            "training_users": report.get("training_users"),
                            "recipe": report.get("recipe")}
    return facts


def run_held_out(setup: HeldOutSetup, protocol: str, *, weights: BlendWeights | None = None,
                 k: int = DEFAULTS.k, resamples: int = DEFAULTS.resamples, seed: int = DEFAULT_SEED,
                 tune_metric: str = TUNE_METRIC, cache_dir: Path | None = None,
                 progress: ProgressFn | None = None) -> dict[str, Any]:
    """The ``simulated`` or ``sampled20`` protocol on a :class:`HeldOutSetup`."""
    weights = weights or setup.test_rec.config.weights
    if protocol == "simulated":
        test_cases = simulated_requests(setup.test_rec.catalogue, setup.test_histories, seed=seed)
        tune_cases = simulated_requests(setup.tune_rec.catalogue, setup.tune_histories, seed=seed)
        length = max(LIST_LENGTH, k)
    elif protocol == "sampled20":
        test_cases = sampled_requests(setup.test_rec.catalogue, setup.test_histories, setup.universe,
                                      seed=seed)
        tune_cases = sampled_requests(setup.tune_rec.catalogue, setup.tune_histories, setup.universe,
                                      seed=seed)
        length = SAMPLED_CANDIDATES
        tune_metric = tune_metric if tune_metric in accuracy_names(k, protocol) else "ndcg@10"
    else:
        raise ValueError(f"unknown held-out protocol {protocol!r}")
    half = None if progress is None else (lambda f, m: progress(0.5 * f, "tuning split: " + m))
    tune_table = collect_stages(without_adapter(setup.tune_rec), tune_cases, length=length, seed=seed,
                                cache_dir=cache_dir, progress=half)
    prefer = setup.test_rec.config.weights.as_tuple()
    tuned_weights, tuned_score = tune_weights(tune_table, np.arange(len(tune_table)), metric=tune_metric,
                                              k=k, prefer=prefer)
    rest = None if progress is None else (lambda f, m: progress(0.5 + 0.5 * f, "held-out users: " + m))
    table, adapted = adapter_tables(setup.test_rec, test_cases, length=length, seed=seed,
                                    cache_dir=cache_dir, progress=rest)
    tuned = table.blend_ranking(tuned_weights)
    subsets: dict[str, np.ndarray] = {}
    if protocol == "simulated":
        subsets = {v: table.rows_where(variant=v) for v in VARIANTS}
    body = evaluate_table(table, weights=weights, k=k, protocol=protocol, tuned=tuned,
                          resamples=resamples, seed=seed, subsets=subsets,
                          extra=adapter_rankings(adapted, weights))
    body["split"] = {**setup.split.to_dict(), **setup.facts, "liked_rating": LIKED_RATING,
                     "min_liked": MIN_LIKED,
                     "evaluated_users": len({r.group for r in table.requests}),
                     "skipped_users_with_too_few_likes": setup.skipped_users,
                     "fitted_on_train_users_only": ["ALS", "popularity prior", "item tags (item texts and keyword index)",
                                                    "title-matcher popularity", "adapter (when the product has one)"]}
    body["tuning"] = {
        "method": "tuned on validation users split off the training users (seeded 20 %), with "
                  "ALS, popularity and tags refitted without them; never on held-out users",
        "metric": tune_metric, "grid": "α+β+γ=1, step 0.1 (66 points)",
        "validation_users": len({r.group for r in tune_table.requests}), "validation_cases": len(tune_table),
        "weights": dict(zip(("alpha", "beta", "gamma"), tuned_weights)),
        f"{tune_metric}_on_validation": tuned_score}
    body["collect_seconds"] = round(tune_table.seconds + table.seconds
                                    + (adapted.seconds if adapted else 0.0), 2)
    body["engine"] = engine_facts(setup.test_rec)
    body["engine_tuning"] = engine_facts(setup.tune_rec)
    if protocol == "sampled20":
        body["reference"] = {"source": "Hou et al., ECIR 2024, MovieLens-1M (different data set: "
                                       "compare orders of magnitude, not digits)",
                             "ndcg_x100": HOU_ML1M}
        body["given"] = ("text: 2-3 earlier liked titles; pipeline: every earlier liked item as a "
                         "liked reaction (CF fold-in); 20 candidates normalised as the blend's pool")
    else:
        body["examples"] = {v: next((r.text for r in table.requests if r.variant == v), None)
                            for v in VARIANTS}
    return body


def run_warmup(setup: HeldOutSetup, *, weights: BlendWeights | None = None, k: int = DEFAULTS.k,
               resamples: int = DEFAULTS.resamples, seed: int = DEFAULT_SEED, steps: Sequence[int] = WARMUP_STEPS,
               cache_dir: Path | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Quality after ``n`` reactions for held-out users: each step is a live session
    (:class:`recsys.feedback.LiveSession`) that received ``n`` 👍. Systems: the usual five
    and ``blend-auto`` (the app's auto-weight schedule, :func:`recsys.feedback.auto_weights`).

    Returns ``systems[s] = {"curve": {"n": mean}, "curve_ci95": {"n": [lo, hi]},
    "ndcg@k": {"n": mean}, ...}`` with the curve in ``recall@k``."""
    from recsys.feedback import auto_weights

    weights = weights or setup.test_rec.config.weights
    cases = warmup_requests(setup.test_rec.catalogue, setup.test_histories, seed=seed, steps=steps)
    table, adapted = adapter_tables(setup.test_rec, cases, length=max(LIST_LENGTH, k), seed=seed,
                                    cache_dir=cache_dir, progress=progress)
    names = [f"recall@{k}", f"ndcg@{k}", f"hr@{k}", "mrr"]
    metric = f"recall@{k}"
    systems: dict[str, dict[str, Any]] = {}
    for n in steps:
        rows = table.rows_where(variant=str(n))
        if not len(rows):
            continue
        rankings = {s: table.ranking(s, rows=rows) for s in ("random", "popularity", "llm", "cf")}
        rankings["blend"] = table.blend_ranking(weights, rows)
        rankings["blend-auto"] = table.blend_ranking(auto_weights(BlendWeights.of(weights), n), rows)
        rankings.update(adapter_rankings(adapted, weights, rows))
        metrics = {s: table.metrics(r, names, k, rows, beyond=False) for s, r in rankings.items()}
        summary = summarise(metrics, resamples=resamples, seed=seed, groups=table.groups[rows])
        for system, values in summary.items():
            entry = systems.setdefault(system, {"curve": {}, "curve_ci95": {}})
            entry["curve"][str(n)] = values[metric]
            entry["curve_ci95"][str(n)] = values["ci95"][metric]
            for other in names[1:]:
                entry.setdefault(other, {})[str(n)] = values[other]
    auto = {str(n): dict(zip(("alpha", "beta", "gamma"), auto_weights(BlendWeights.of(weights), n).as_tuple()))
            for n in steps}
    return {"n": len({r.group for r in table.requests}), "metric": metric, "steps": list(steps),
            "systems": systems, "auto_weights": auto, "split": setup.split.to_dict(),
            "reactions": "👍 on the user's most recent described (earlier) liked items, in a live "
                         "session: each joins the intent's titles and the CF history and updates the "
                         "genre feedback, as in the app",
            "collect_seconds": round(table.seconds + (adapted.seconds if adapted else 0.0), 2),
            "engine": engine_facts(setup.test_rec)}
