"""The protocols (``recsys.evaluation.protocols``) end to end on the tiny data set."""

from __future__ import annotations

import pytest

from recsys.evaluation.cases import sampled_requests
from recsys.evaluation.heldout import held_out_setup
from recsys.evaluation.protocols import run_held_out, run_redial, run_warmup
from recsys.evaluation.requests import ALL_SYSTEMS, SYSTEMS, VARIANTS, EvalRequest


def test_redial_run_reports_every_system_subsets_and_cross_fitted_tuning(tiny_recommender):
    requests = [EvalRequest(f"r{n}", text, targets=targets, has_mention=mention)
                for n, (text, targets, mention) in enumerate([
                    ("funny romantic comedy", (17, 18), False), ("like Toy Story", (12, 13), True),
                    ("mind-bending sci-fi", (3, 10), False), ("like The Matrix", (2, 7), True),
                    ("animated family film", (11, 16), False), ("a gangster movie", (27, 26), False)])]
    body = run_redial(tiny_recommender, requests, resamples=200)
    assert set(body["systems"]) == set(ALL_SYSTEMS)
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


def test_held_out_protocols_on_tiny_data(tiny_recommender, tiny_dir, tmp_path):
    raw = _tiny_raw(tiny_dir)
    setup = held_out_setup(tiny_recommender, raw, cache_dir=tmp_path)
    held = set(setup.split.held_out.tolist())
    validation = set(setup.inner.held_out.tolist())
    assert held and validation and not held & validation
    assert not held & set(setup.test_rec.cf.user_ids.tolist())
    assert not (held | validation) & set(setup.tune_rec.cf.user_ids.tolist())
    assert {h.user_id for h in setup.test_histories} <= held
    assert {h.user_id for h in setup.tune_histories} <= validation

    body = run_held_out(setup, "simulated", resamples=200)
    assert set(body["systems"]) == set(ALL_SYSTEMS)
    assert set(body["subsets"]) == set(VARIANTS)
    assert body["n"] == 3 * body["split"]["evaluated_users"]
    assert sum(body["tuning"]["weights"].values()) == pytest.approx(1.0)

    sampled = run_held_out(setup, "sampled20", resamples=200)
    assert {"ndcg@1", "ndcg@5", "ndcg@10", "ndcg@20"} <= set(sampled["systems"]["blend"])
    warm = run_warmup(setup, steps=(0, 1, 2), resamples=200)
    assert set(warm["systems"]) == set(SYSTEMS) | {"blend-auto"}
    assert list(warm["systems"]["blend"]["curve"]) == ["0", "1", "2"]
    assert warm["systems"]["blend"]["curve"]["0"] == warm["systems"]["blend-auto"]["curve"]["0"]
    assert warm["auto_weights"]["2"]["beta"] > warm["auto_weights"]["0"]["beta"]

    cases = sampled_requests(setup.test_rec.catalogue, setup.test_histories, setup.universe)
    for case, history in zip(cases, setup.test_histories):
        assert len(case.candidates) == 20 and len(set(case.candidates)) == 20
        assert case.candidates[0] == history.targets[0]
        assert not set(case.candidates[1:]) & history.rated
