"""``python -m recsys evaluate`` and ``sweep``: the JSON and CSV contracts, usage errors."""

from __future__ import annotations

import csv
import json

import pytest

from recsys import cli
from recsys.evaluation.requests import ALL_SYSTEMS
from tests.conftest import requires_data


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
    assert set(data["systems"]) == set(ALL_SYSTEMS) | {"llm_adapter", "blend_adapter"}
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
