"""``python -m recsys``: the command-line contract other tools depend on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recsys import cli
from tests.conftest import requires_data

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@requires_data
def test_recommend_json_contract(capsys):
    status, out, err = run(capsys, "recommend", "90s sci-fi like the matrix, no horror", "--k", "5",
                           "--alpha", "0.6", "--beta", "0.3", "--gamma", "0.1", "--json")
    assert status == 0, err
    data = json.loads(out)
    intent = data["intent"]
    assert intent["liked_genres"] == ["Sci-Fi"] and intent["disliked_genres"] == ["Horror"]
    assert intent["era"] == {"start": 1990, "end": 1999}
    assert intent["titles"][0]["movie_id"] == 2571 and intent["parser"] == "builtin"
    assert len(data["items"]) == 5
    for item in data["items"]:
        assert set(item) >= {"movie_id", "title", "score", "r", "s", "b", "explanation"}
        assert item["score"] == pytest.approx(0.6 * item["r"] + 0.3 * item["s"] + 0.1 * item["b"], abs=1e-4)
    assert data["timing_ms"]["total"] > 0


@requires_data
def test_recommend_table_is_readable(capsys):
    status, out, _ = run(capsys, "recommend", "like Toy Story", "--k", "3")
    assert status == 0
    assert "Toy Story 2" in out and "Why" in out and "score" in out


@requires_data
def test_batch_writes_one_line_per_request_and_reports_bad_lines(capsys, tmp_path):
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "request": "a western"}, {"id": 2, "request": "   "},
        {"id": "c", "request": "我喜欢科幻片"}]) + "\n", encoding="utf-8")
    status, out, err = run(capsys, "recommend", "--batch", str(batch), "--k", "2", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ["a", 2, "c"]
    assert len(lines[0]["items"]) == 2 and lines[2]["intent"]["liked_genres"] == ["Sci-Fi"]
    assert "error" in lines[1] and "line 2" in err
    assert status == 1


def test_empty_text_is_a_one_line_error(capsys):
    status, out, err = run(capsys, "recommend", "  ")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: the request is empty")


def test_unreadable_batch_file_is_a_one_line_error(capsys, tmp_path):
    status, _, err = run(capsys, "recommend", "--batch", str(tmp_path / "missing.jsonl"), "--json")
    assert status == 2 and err.startswith("error: cannot read") and err.count("\n") == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "request": "ok"}\nnot json\n', encoding="utf-8")
    status, _, err = run(capsys, "recommend", "--batch", str(bad), "--json")
    assert status == 2 and "line 2" in err and err.count("\n") == 1


def test_bad_weights_are_a_one_line_error(capsys, tiny_dir, tmp_path):
    status, _, err = run(capsys, "--data-dir", str(tiny_dir), "--cache-dir", str(tmp_path),
                         "recommend", "comedy", "--alpha", "0", "--beta", "0", "--gamma", "0")
    assert status == 2 and "weights" in err and err.count("\n") == 1


def test_missing_data_folder_names_the_variable(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "nowhere"))
    status, _, err = run(capsys, "recommend", "comedy")
    assert status == 1 and "RECSYS_DATA_DIR" in err and err.count("\n") == 1


@requires_data
def test_huge_text_is_cut_with_a_warning(capsys):
    status, out, err = run(capsys, "recommend", "sci-fi " * 2000, "--k", "2", "--json")
    assert status == 0 and "warning:" in err and len(json.loads(out)["items"]) == 2


@requires_data
def test_module_entry_point_runs_as_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "recsys", "recommend", "a heist movie", "--k", "3",
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["items"]) == 3
