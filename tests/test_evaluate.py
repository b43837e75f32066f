"""Evaluation: metrics, intervals, weight grids, exact re-blending, leakage, descriptions, CLI."""

from __future__ import annotations

import csv
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from recsys import cli
from recsys import evaluate as ev
from tests.conftest import requires_data, shared_data_dir

# ----------------------------------------------------------------------------- metrics

RANKED = [5, 3, 9, 1, 7, 8]
TARGETS = {3, 7, 42}


def test_metric_functions_match_hand_computed_values():
    assert ev.recall_at(RANKED, TARGETS, 2) == pytest.approx(1 / 3)
    assert ev.recall_at(RANKED, TARGETS, 5) == pytest.approx(2 / 3)
    assert ev.hit_at(RANKED, TARGETS, 1) == 0.0 and ev.hit_at(RANKED, TARGETS, 2) == 1.0
    # hits at ranks 2 and 5; ideal: three targets in the first three places
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ev.ndcg_at(RANKED, TARGETS, 5) == pytest.approx(dcg / ideal)
    assert ev.ndcg_at(RANKED, TARGETS, 5) == pytest.approx(0.47763, abs=1e-5)
    assert ev.ndcg_at([3, 7], {3, 7}, 10) == pytest.approx(1.0)
    assert ev.reciprocal_rank(RANKED, TARGETS) == 0.5
    assert ev.reciprocal_rank(RANKED, {42}) == 0.0
    assert ev.recall_at(RANKED, set(), 10) == 0.0


def test_vectorised_metrics_equal_the_one_list_functions():
    rng = np.random.default_rng(3)
    names = ["recall@10", "recall@50", "ndcg@10", "hr@10", "mrr", "ndcg@1", "hr@5"]
    lists, target_sets = [], []
    for _ in range(200):
        lists.append(rng.permutation(300)[:50])
        target_sets.append(set(rng.choice(300, size=int(rng.integers(1, 12)), replace=False).tolist()))
    hits = np.array([[item in t for item in row] for row, t in zip(lists, target_sets)])
    got = ev.accuracy_metrics(hits, np.array([len(t) for t in target_sets]), names)
    for n, (row, t) in enumerate(zip(lists, target_sets)):
        row = row.tolist()
        assert got["recall@10"][n] == pytest.approx(ev.recall_at(row, t, 10))
        assert got["recall@50"][n] == pytest.approx(ev.recall_at(row, t, 50))
        assert got["ndcg@10"][n] == pytest.approx(ev.ndcg_at(row, t, 10))
        assert got["ndcg@1"][n] == pytest.approx(ev.ndcg_at(row, t, 1))
        assert got["hr@10"][n] == ev.hit_at(row, t, 10) and got["hr@5"][n] == ev.hit_at(row, t, 5)
        assert got["mrr"][n] == pytest.approx(ev.reciprocal_rank(row, t))


def test_bootstrap_interval_contains_the_mean_and_handles_clusters_and_gaps():
    rng = np.random.default_rng(0)
    values = rng.random(300)
    out = ev.summarise({"a": {"m": values}, "b": {"m": values * 0.5}}, resamples=500)
    lo, hi = out["a"]["ci95"]["m"]
    assert out["a"]["m"] == pytest.approx(values.mean())
    assert lo < out["a"]["m"] < hi and hi - lo < 0.1
    b_lo, b_hi = out["b"]["ci95"]["m"]
    assert b_lo == pytest.approx(lo / 2) and b_hi == pytest.approx(hi / 2)   # same resamples
    # three near-identical cases per user: resampling users gives a wider interval
    clustered = np.repeat(rng.random(100), 3)
    groups = np.repeat(np.arange(100), 3)
    per_case = ev.summarise({"s": {"m": clustered}}, resamples=500)["s"]["ci95"]["m"]
    per_user = ev.summarise({"s": {"m": clustered}}, resamples=500, groups=groups)["s"]["ci95"]["m"]
    assert per_user[1] - per_user[0] > 1.3 * (per_case[1] - per_case[0])
    # undefined values (NaN) stay out of the mean; all-undefined gives null, not NaN
    gappy = ev.summarise({"s": {"m": np.array([1.0, np.nan, 0.0, np.nan]),
                                "none": np.full(4, np.nan)}}, resamples=200)["s"]
    assert gappy["m"] == 0.5 and gappy["none"] is None and gappy["ci95"]["none"] == [None, None]
    # the old row-list input still works
    rows = ev.summarise({"x": [{"m": 1.0}, {"m": 0.0}]}, resamples=200)
    assert rows["x"]["m"] == 0.5


def test_paired_differences_and_ratio():
    a = np.array([0.2, 0.4, 0.6, 0.8])
    b = a / 2
    out = ev.paired_differences({"a": {"m": a}, "b": {"m": b}}, [("a", "b")], ["m"], resamples=200)
    entry = out["a - b"]["m"]
    assert entry["diff"] == pytest.approx(0.25) and entry["ratio"] == pytest.approx(2.0)
    assert entry["ci95"][0] > 0


def test_weight_grid_has_66_points_on_the_simplex():
    grid = ev.weight_grid(0.1)
    assert len(grid) == 66 and len(set(grid)) == 66
    for point in grid:
        assert sum(point) == pytest.approx(1.0) and all(0 <= w <= 1 for w in point)
        assert all(round(w * 10) == pytest.approx(w * 10) for w in point)
    assert (0.5, 0.3, 0.2) in grid and (1.0, 0.0, 0.0) in grid
    assert len(ev.weight_grid(0.5)) == 6
    with pytest.raises(ValueError):
        ev.weight_grid(0.3)


def test_partial_top_order_equals_a_stable_sort_even_with_ties():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 20, size=(50, 300)).astype(np.float64)   # many ties
    keys[::7, 250:] = np.inf
    expected = np.argsort(keys, axis=1, kind="stable")[:, :40]
    assert np.array_equal(ev._top_order(keys, 40), expected)


def test_title_guard_matches_whole_titles_with_or_without_the_article():
    guard = ev.TitleGuard(["The Matrix", "Up"])
    assert guard.found_in("I loved the  MATRIX.") and guard.found_in("something like matrix")
    assert guard.found_in("Up (2009) was great")
    assert not guard.found_in("matrixes and upbeat music")
    assert ev.names_title("Like Toy Story 2?", "Toy Story") and not ev.names_title("Toy", "Toy Story")


# ----------------------------------------------------------------------------- splits

def test_user_split_is_seeded_disjoint_and_the_products_split():
    users = np.arange(1, 611)
    split = ev.split_users(users, 0.2, 0)
    assert len(split.held_out) == 122 and len(split.train) == 488
    assert not set(split.train) & set(split.held_out)
    assert np.array_equal(split.held_out, ev.split_users(users[::-1], 0.2, 0).held_out)
    assert not np.array_equal(split.held_out, ev.split_users(users, 0.2, 1).held_out)
    splits = pytest.importorskip("recsys.splits")
    catalogue = type("C", (), {"ratings": pd.DataFrame({"user_id": users})})()
    train, held = splits.split_users(catalogue)
    assert np.array_equal(train, split.train) and np.array_equal(held, split.held_out)


def test_user_histories_split_liked_items_by_time():
    ratings = pd.DataFrame({
        "user_id": [7] * 8 + [8] * 3,
        "movie_id": [10, 11, 12, 13, 14, 15, 16, 17, 10, 11, 12],
        "rating": [5.0, 2.0, 4.5, 4.0, 1.0, 4.0, 5.0, 3.0, 5.0, 5.0, 5.0],
        "timestamp": [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3]})
    (h,) = ev.user_histories(ratings, [7, 8])          # user 8 has too few liked items
    assert h.user_id == 7
    assert h.earlier == (10, 12) and h.targets == (13, 15, 16)
    assert h.history == (10, 11, 12)                   # everything rated up to the split
    assert h.disliked == (11,) and h.rated == frozenset(range(10, 18))


# ----------------------------------------------------------------------------- tiny pipeline

def test_stored_stage_scores_reblend_exactly_like_the_pipeline(tiny_recommender):
    requests = [ev.EvalRequest("a", "funny romantic comedy", targets=(17, 18), named=(19,)),
                ev.EvalRequest("b", "space sci-fi like Interstellar, no horror", targets=(3, 9)),
                ev.EvalRequest("c", "something for the kids", targets=(11, 13), named=(12, 29))]
    table = ev.collect_stages(tiny_recommender, requests, length=20)
    assert len(table) == 3
    cat = tiny_recommender.catalogue
    for n, request in enumerate(requests):
        result = tiny_recommender.recommend(request.text, k=5, explain=False)
        protocol = set(cat.indices(list(request.named)))
        for weights in [(0.5, 0.3, 0.2), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0.2, 0.2, 0.6)]:
            expected = [i for i in result.reblend(weights, explain=False).blend.ranking
                        if i not in protocol][:20]
            got = table.blend_ranking(weights)[n]
            assert got[got >= 0].tolist() == expected
        for system in ("random", "popularity", "llm", "cf"):
            ranked = table.fixed[system][n]
            assert not protocol & set(ranked.tolist())
    # Beyond accuracy: a disliked genre counts as a violation, only where one was stated
    assert table.constrained.tolist() == [False, True, False]
    metrics = table.metrics(table.fixed["popularity"], ev.accuracy_names(10), 10)
    assert np.isnan(metrics["violations@10"][0]) and 0 <= metrics["violations@10"][1] <= 1
    blend = table.metrics(table.blend_ranking((0.5, 0.3, 0.2)), ev.accuracy_names(10), 10)
    assert blend["violations@10"][1] == 0.0            # "no horror" is honoured by the blend
    assert set(metrics) >= {"recall@10", "ndcg@10", "popularity@10", "novelty@10", "ild@10"}


def test_redial_run_reports_every_system_subsets_and_cross_fitted_tuning(tiny_recommender):
    requests = [ev.EvalRequest(f"r{n}", text, targets=targets, has_mention=mention)
                for n, (text, targets, mention) in enumerate([
                    ("funny romantic comedy", (17, 18), False), ("like Toy Story", (12, 13), True),
                    ("mind-bending sci-fi", (3, 10), False), ("like The Matrix", (2, 7), True),
                    ("animated family film", (11, 16), False), ("a gangster movie", (27, 26), False)])]
    body = ev.run_redial(tiny_recommender, requests, resamples=200)
    assert set(body["systems"]) == set(ev.ALL_SYSTEMS)
    for summary in body["systems"].values():
        assert set(summary["ci95"]) >= {"recall@10", "ndcg@10", "recall@50", "hr@10", "mrr"}
        assert 0 <= summary["recall@10"] <= 1
    assert body["subsets"]["language_only"]["n"] == 4 and body["subsets"]["with_mention"]["n"] == 2
    folds = body["tuning"]["folds"]
    assert [f["tuned_on"] + f["reported_on"] for f in folds] == [6, 6]
    assert body["systems"]["blend"]["coverage@10"] > 0


def _tiny_raw(tiny_dir):
    from recsys.data import load_dataset

    return load_dataset(tiny_dir)


def test_train_only_recommender_never_sees_held_out_users(tiny_recommender, tiny_dir, tmp_path):
    from recsys.baseline import baseline_prior

    raw = _tiny_raw(tiny_dir)
    users = np.unique(raw.ratings["user_id"])
    held_out = np.array([1, 2, 13, 25])                # user 1 wrote every tag
    train = np.setdiff1d(users, held_out)
    rec = ev.split_recommender(tiny_recommender, raw, train, cache_dir=tmp_path)
    assert not set(rec.cf.user_ids.tolist()) & set(held_out.tolist())
    assert set(rec.catalogue.ratings["user_id"]) == set(train.tolist())
    kept = raw.ratings[raw.ratings["user_id"].isin(train)]
    counts = kept.groupby("movie_id").size().reindex(rec.catalogue.movie_ids, fill_value=0).to_numpy()
    assert np.array_equal(rec.catalogue.n_ratings, counts)
    assert np.array_equal(rec.baseline, baseline_prior(rec.catalogue))
    assert not np.array_equal(rec.baseline, tiny_recommender.baseline)
    assert all(tags == () for tags in rec.catalogue.tags)           # the held-out user's tags are gone
    assert np.array_equal(rec.catalogue.movie_ids, tiny_recommender.catalogue.movie_ids)
    assert not np.allclose(rec.index.embeddings, tiny_recommender.index.embeddings)
    assert rec.catalogue.fingerprint != tiny_recommender.catalogue.fingerprint


def test_held_out_protocols_on_tiny_data(tiny_recommender, tiny_dir, tmp_path):
    raw = _tiny_raw(tiny_dir)
    setup = ev.held_out_setup(tiny_recommender, raw, cache_dir=tmp_path)
    held = set(setup.split.held_out.tolist())
    validation = set(setup.inner.held_out.tolist())
    assert held and validation and not held & validation
    assert not held & set(setup.test_rec.cf.user_ids.tolist())
    assert not (held | validation) & set(setup.tune_rec.cf.user_ids.tolist())
    assert {h.user_id for h in setup.test_histories} <= held
    assert {h.user_id for h in setup.tune_histories} <= validation

    body = ev.run_held_out(setup, "simulated", resamples=200)
    assert set(body["systems"]) == set(ev.ALL_SYSTEMS)
    assert set(body["subsets"]) == set(ev.VARIANTS)
    assert body["n"] == 3 * body["split"]["evaluated_users"]
    assert sum(body["tuning"]["weights"].values()) == pytest.approx(1.0)

    sampled = ev.run_held_out(setup, "sampled20", resamples=200)
    assert {"ndcg@1", "ndcg@5", "ndcg@10", "ndcg@20"} <= set(sampled["systems"]["blend"])
    warm = ev.run_warmup(setup, steps=(0, 1, 2), resamples=200)
    assert set(warm["systems"]) == set(ev.SYSTEMS) | {"blend-auto"}
    assert list(warm["systems"]["blend"]["curve"]) == ["0", "1", "2"]
    assert warm["systems"]["blend"]["curve"]["0"] == warm["systems"]["blend-auto"]["curve"]["0"]
    assert warm["auto_weights"]["2"]["beta"] > warm["auto_weights"]["0"]["beta"]

    cases = ev.sampled_requests(setup.test_rec.catalogue, setup.test_histories, setup.universe)
    for case, history in zip(cases, setup.test_histories):
        assert len(case.candidates) == 20 and len(set(case.candidates)) == 20
        assert case.candidates[0] == history.targets[0]
        assert not set(case.candidates[1:]) & history.rated


# ----------------------------------------------------------------------------- descriptions

@requires_data
def test_simulated_descriptions_vary_and_never_name_a_target():
    from recsys.catalogue import build_catalogue
    from recsys.data import load_dataset

    raw = load_dataset(shared_data_dir())
    split = ev.split_users(raw.ratings["user_id"], 0.2, 0)
    catalogue = build_catalogue(ev.train_only_data(raw, split.train))
    histories = ev.user_histories(raw.ratings, split.held_out)
    cases = ev.simulated_requests(catalogue, histories)
    assert len(cases) >= 3 * len(histories) - 3 and len(histories) >= 110
    by_user = {h.user_id: h for h in histories}
    for case in cases:
        h = by_user[int(case.group.split("-")[1])]
        low = " ".join(case.text.lower().split())
        for i in catalogue.indices(list(h.targets)):
            title = catalogue.display_titles[i].lower()
            assert not re.search(r"(?<![\w])" + re.escape(title) + r"(?![\w])", low), (case.text, title)
    texts = [c.text for c in cases]
    assert len(set(texts)) == len(texts)                                   # no two alike
    openers = {" ".join(c.text.split()[:3]) for c in cases if c.variant == "language"}
    assert len(openers) >= 10
    titled = [c for c in cases if c.variant == "titles"]
    assert all(2 <= sum(catalogue.display_titles[i] in c.text
                        for i in catalogue.indices(list(by_user[int(c.group.split("-")[1])].earlier)))
               for c in titled[:40])
    assert ev.simulated_requests(catalogue, histories[:5]) == cases[:len(ev.simulated_requests(
        catalogue, histories[:5]))]                                       # seeded: reproducible


# ----------------------------------------------------------------------------- command line

REQUESTS = [
    {"id": "t1", "request": "I love sci-fi like The Matrix, nothing scary", "target_movie_ids": [589, 1200],
     "mentioned_movie_ids": [2571], "request_has_movie_mention": True},
    {"id": "t2", "request": "a fun animated movie for my kids", "target_movie_ids": [1, 3114, 6377],
     "request_has_movie_mention": False},
    {"id": "t3", "request": "gangster films like The Godfather", "target_movie_ids": [1221, 1213],
     "mentioned_movie_ids": [858], "request_has_movie_mention": True},
    {"id": "t4", "request": "a sweet romantic comedy from the 90s", "target_movie_ids": [2671, 597],
     "request_has_movie_mention": False},
    {"id": "t5", "request": "epic fantasy adventure", "target_movie_ids": [4993, 5952],
     "request_has_movie_mention": False},
    {"id": "t6", "request": "no targets here", "target_movie_ids": []},
]


@requires_data
def test_evaluate_and_sweep_cli_contracts(capsys, tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in REQUESTS) + "\n", encoding="utf-8")
    out = tmp_path / "result.json"
    status = cli.main(["evaluate", "--requests", str(path), "--json", "--resamples", "200",
                       "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert status == 0, err
    data = json.loads(stdout)
    assert set(data) >= {"protocol", "requests", "n", "parser", "k", "weights", "seconds", "systems"}
    assert data["protocol"] == "redial" and data["n"] == 5 and data["k"] == 10
    assert data["weights"] == {"alpha": 0.5, "beta": 0.3, "gamma": 0.2}
    # the default engine trains its adapter at the first start, so its two systems are reported
    assert set(data["systems"]) == set(ev.ALL_SYSTEMS) | {"llm_adapter", "blend_adapter"}
    for summary in data["systems"].values():
        for metric in ("recall@10", "ndcg@10", "recall@50", "hr@10", "mrr"):
            lo, hi = summary["ci95"][metric]
            assert lo <= summary[metric] <= hi
    assert data["subsets"]["language_only"]["n"] == 3
    assert json.loads(out.read_text(encoding="utf-8"))["systems"] == data["systems"]
    table = cli.format_evaluation(data)
    assert "| blend |" in table and "recall@10" in table and "subset language_only" in table

    csv_path = tmp_path / "sweep.csv"
    status = cli.main(["sweep", "--requests", str(path), "--out", str(csv_path)])
    stdout, err = capsys.readouterr()
    assert status == 0, err
    assert "best ndcg@10" in stdout
    with csv_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 66
    assert list(rows[0])[:8] == ["alpha", "beta", "gamma", "recall@10", "ndcg@10", "recall@50", "hr@10", "mrr"]
    for row in rows:
        assert float(row["alpha"]) + float(row["beta"]) + float(row["gamma"]) == pytest.approx(1.0)
        assert 0 <= float(row["recall@10"]) <= 1


def test_evaluate_usage_errors_are_one_line(capsys, tmp_path):
    status = cli.main(["evaluate", "--requests", str(tmp_path / "missing.jsonl")])
    _, err = capsys.readouterr()
    assert status == 2 and err.startswith("error: cannot read") and err.count("\n") == 1
    status = cli.main(["evaluate", "--protocol", "simulated", "--requests", "x.jsonl"])
    _, err = capsys.readouterr()
    assert status == 2 and "--requests applies to --protocol redial" in err
    status = cli.main(["sweep", "--step", "0.3"])
    _, err = capsys.readouterr()
    assert status == 2 and "step" in err
