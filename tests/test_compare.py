"""The Compare and Tune pages' measures (``recsys/compare.py``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from recsys import compare


def test_overlap_and_matrix() -> None:
    assert compare.overlap([1, 2, 3, 4], [3, 4, 5]) == 0.5
    assert compare.overlap([], [1]) == 0.0
    m = compare.overlap_matrix([[1, 2], [2, 3], [9]])
    assert m[0, 0] == 1.0 and m[0, 1] == 0.5 and m[2, 0] == 0.0


def test_liked_genre_share_and_disliked_genres_shown() -> None:
    genres = [("Sci-Fi", "Action"), ("Drama",), ("Horror", "Sci-Fi")]
    assert compare.liked_genre_share(genres, ["Sci-Fi"]) == pytest.approx(2 / 3)
    assert compare.liked_genre_share(genres, []) is None             # nothing asked for: n/a
    assert compare.disliked_shown(genres, ["Horror"]) == 1
    assert compare.disliked_shown(genres, []) == 0


def test_scorecard_uses_the_evaluation_metrics() -> None:
    # one definition: the Compare page's measures are the benchmark's (recsys.evaluation.metrics)
    from recsys.evaluation import metrics

    assert compare.violations is metrics.violations and compare.novelty is metrics.novelty


def test_list_measures_for_one_system() -> None:
    genres = [("Sci-Fi",), ("Horror",), ("Drama",), ("Sci-Fi", "Drama")]
    n_ratings = np.array([100, 10, 1, 50])
    m = compare.list_measures("llm", [0, 1, 3], [0, 3, 2], genres=genres, n_ratings=n_ratings, n_users=100,
                              liked=["Sci-Fi"], disliked=["Horror"], coverage_value=0.2)
    assert m.overlap_with_blend == pytest.approx(2 / 3)
    assert m.liked_genre_share == pytest.approx(2 / 3)
    assert m.disliked_shown == 1
    assert m.violations == pytest.approx(1 / 3)           # the evaluation's share, not a count
    years = [1999, 1994, 1980, 2012]
    in_90s = compare.list_measures("llm", [0, 1, 3], [0], genres=genres, n_ratings=n_ratings, n_users=100,
                                   liked=[], disliked=["Horror"], years=years, era=(1990.0, 1999.0))
    assert in_90s.violations == pytest.approx(2 / 3) and in_90s.disliked_shown == 1   # Horror, 2012
    assert m.mean_ratings == pytest.approx(160 / 3)
    assert m.coverage == 0.2


def test_cf_adjustments_classify_every_move() -> None:
    without_cf = [10, 11, 12, 13, 14, 15]          # ranking with β = 0
    with_cf = [12, 10, 99, 11, 15, 13]            # 99 came from CF only; 13 and 14 fell out
    llm = {10, 11, 12, 13, 14, 15}
    changes = compare.cf_adjustments(without_cf, with_cf, llm, k=5)
    kinds = {c.item: c.kind for c in changes}
    assert kinds == {12: "promoted", 10: "demoted", 99: "injected", 11: "demoted", 15: "promoted",
                     13: "dropped", 14: "dropped"}
    by_item = {c.item: c for c in changes}
    assert by_item[12].delta == 2 and by_item[10].delta == -1
    assert by_item[99].rank_before is None and by_item[99].delta is None
    assert by_item[14].rank_after is None and by_item[13].rank_after == 6
    assert [c.item for c in changes][:5] == with_cf[:5]           # final order first, then the dropped
    counts = compare.summarise_changes(changes)
    assert counts == {"promoted": 2, "demoted": 2, "injected": 1, "dropped": 2, "same": 0}


def test_cf_adjustments_of_identical_rankings_are_all_same() -> None:
    changes = compare.cf_adjustments([1, 2, 3], [1, 2, 3], {1, 2, 3}, k=3)
    assert {c.kind for c in changes} == {"same"}


def test_labels() -> None:
    assert compare.system_label("llm") == "Relevance only (r)"
    assert compare.system_label("blend-tuned") == "Blend, tuned weights"
    assert compare.system_label("blend_adapter") == "Blend + adapter"
    assert compare.system_short("llm_adapter") == "Relevance + adapter"
    assert compare.system_label("some-new_system") == "Some New System"
    assert compare.system_label("blend-auto") == "Blend, auto weights"
    assert compare.system_short("cf") == "CF"
    assert compare.metric_label("ndcg@10") == "NDCG@10"
    assert compare.metric_label("mrr") == "MRR"
    assert compare.metric_label("ild@10") == "ILD@10"
    assert compare.lower_is_better("violations@10") and not compare.lower_is_better("recall@10")


def _evaluation() -> dict:
    return {"protocol": "redial", "n": 3, "systems": {
        "blend": {"recall@10": 0.1, "mrr": 0.2, "note": "text is ignored",
                  "ci95": {"recall@10": [0.08, 0.12], "mrr": [None, None]}},
        "random": {"recall@10": 0.001},
        "extra": {"recall@10": 0.05},
    }, "subsets": {"language_only": {"n": 2, "systems": {"blend": {"recall@10": 0.07}}},
                   "bogus": {"n": 1}}}


def test_evaluation_table_renders_whatever_is_there(tmp_path: Path) -> None:
    path = tmp_path / "evaluation-redial.json"
    path.write_text(json.dumps(_evaluation()))
    table = compare.evaluation_table(compare.read_evaluation(path))
    assert list(dict.fromkeys(table["system"])) == ["random", "blend", "extra"]   # known systems first
    blend = table[table["system"] == "blend"].set_index("metric")
    assert blend.loc["recall@10", "value"] == 0.1
    assert (blend.loc["recall@10", "lo"], blend.loc["recall@10", "hi"]) == (0.08, 0.12)
    assert math.isnan(blend.loc["mrr", "lo"])                                   # null interval → NaN
    assert "note" not in set(table["metric"])


def test_evaluation_subsets() -> None:
    subsets = compare.evaluation_subsets(_evaluation())
    assert list(subsets) == ["all", "language_only"]                           # "bogus" has no systems


def test_read_evaluation_rejects_broken_files(tmp_path: Path) -> None:
    bad = tmp_path / "evaluation-x.json"
    bad.write_text("{oops")
    with pytest.raises(ValueError, match="not valid JSON"):
        compare.read_evaluation(bad)
    bad.write_text(json.dumps({"systems": {}}))
    with pytest.raises(ValueError, match="systems"):
        compare.read_evaluation(bad)


def test_read_sweep_normalises_and_derives_gamma(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text("Alpha,Beta,recall@10\n0.5,0.3,0.1\n1,1,0.2\n")
    frame = compare.read_sweep(path)
    assert list(frame.columns[:3]) == ["alpha", "beta", "recall@10"] or "gamma" in frame
    assert frame.loc[0, "gamma"] == pytest.approx(0.2)
    assert frame.loc[1, ["alpha", "beta", "gamma"]].tolist() == pytest.approx([0.5, 0.5, 0.0])
    assert compare.metric_columns(frame) == ["recall@10"]
    assert compare.best_point(frame, "recall@10") == pytest.approx((0.5, 0.5, 0.0, 0.2))


def test_read_sweep_rejects_tables_without_weights_or_metrics(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="alpha and beta"):
        compare.read_sweep(path)
    path.write_text("alpha,beta,gamma\n1,0,0\n")
    with pytest.raises(ValueError, match="no metric"):
        compare.read_sweep(path)


def test_warmup_curves_read_plain_and_detailed_points() -> None:
    data = {"protocol": "warmup", "systems": {
        "cf": {"curve": {"0": 0.0, "10": 0.15, "3": 0.1, "1": 0.06}},
        "blend": {"curve": {"0": 0.05, "1": 0.08, "x": 0.3, "3": "n/a"}, "ci95": {"0": [0.04, 0.06], "1": [None, 1]}},
        "llm": {"curve": {"0": {"value": 0.04, "ci95": [0.03, 0.05]}, "5": {"recall@10": 0.045}}},
        "popularity": {"recall@10": 0.03},                               # no curve: left out
    }}
    curves = compare.warmup_curves(data)
    assert list(curves) == ["llm", "cf", "blend"]                        # SYSTEMS order
    assert [p[:2] for p in curves["cf"]] == [(0, 0.0), (1, 0.06), (3, 0.1), (10, 0.15)]
    blend = curves["blend"]
    assert [p[:2] for p in blend] == [(0, 0.05), (1, 0.08)]              # bad steps and values skipped
    assert blend[0][2:] == (0.04, 0.06) and all(math.isnan(v) for v in blend[1][2:])
    assert curves["llm"][0] == (0, 0.04, 0.03, 0.05) and curves["llm"][1][:2] == (5, 0.045)
    assert compare.warmup_curves({"systems": "nope"}) == {}


def test_warmup_files_are_told_apart_from_benchmarks() -> None:
    assert compare.is_warmup({"protocol": "warmup"})
    assert compare.is_warmup({}, "evaluation-warmup.json")
    assert not compare.is_warmup({"protocol": "redial"}, "evaluation-redial.json")


def test_top_changes_compare_two_rankings() -> None:
    with_term = np.array([0.9, 0.8, 0.1, 0.7, 0.2])
    without = np.array([0.9, 0.1, 0.8, 0.7, 0.2])
    entered, left = compare.top_changes(with_term, without, 2)
    assert entered == [1] and left == [2]
    excluded = np.array([True, False, False, False, False])
    assert compare.top_changes(with_term, without, 2, excluded) == ([1], [2])
    assert compare.top_changes(with_term, with_term, 3) == ([], [])


def test_adapter_facts_come_from_the_report_only() -> None:
    report = {"training_users": 390, "training_texts": 3900, "trainable_parameters": 712_345,
              "final_val_loss": 7.3456, "seconds": 200.0,
              "val_recall@10": {"lambda=0": 0.081, "lambda=0.5": 0.094, "best_lambda": 1.0}}
    facts = dict(compare.adapter_facts(report, 0.5))
    assert facts == {"weight λ in r": "0.5", "training users": "390", "training descriptions": "3,900",
                     "trainable parameters": "0.71 M", "validation loss": "7.346",
                     "validation Recall@10": "0.094 (λ = 0: 0.081)", "training time": "3.3 min"}
    assert dict(compare.adapter_facts({}, 1.0)) == {"weight λ in r": "1"}
    real = dict(compare.adapter_facts({"real_requests": 1129, "weight_named": 0.5}, 1.0))
    assert real == {"weight λ in r": "1", "λ when a movie is named": "0.5", "real requests learned from": "1,129"}
    assert dict(compare.adapter_facts({"val_recall@10": 0.12}, 1.0))["validation Recall@10"] == "0.120"


def test_read_sweep_normalises_extreme_and_drops_unusable_weights(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text("alpha,beta,gamma,ndcg@10\n1e308,1e308,0,0.1\n1e-320,0,0,0.2\n-1,2,0,0.3\n0,0,0,0.4\n")
    frame = compare.read_sweep(path)
    assert frame[["alpha", "beta", "gamma"]].values.tolist() == [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]
    assert frame["ndcg@10"].tolist() == [0.1, 0.2]
