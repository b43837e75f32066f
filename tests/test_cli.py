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
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    status, _, err = run(capsys, "recommend", "--batch", str(empty), "--json")
    assert status == 2 and "no requests" in err and err.count("\n") == 1


@requires_data
def test_bad_batch_lines_are_reported_and_the_rest_answered(capsys, tmp_path):
    batch = tmp_path / "in.jsonl"
    batch.write_bytes(b"\n".join([
        b"\xef\xbb\xbf" + json.dumps({"id": "a", "request": "a western"}).encode(),  # BOM (Notepad)
        b"not json", b'["a list"]', json.dumps({"id": "d", "request": 42}).encode(),
        b'{"id": "e", "request": "caf\xe9"}',                                       # Latin-1, not UTF-8
        json.dumps({"id": "f", "request": "space sci-fi"}).encode()]) + b"\n")
    status, out, err = run(capsys, "recommend", "--batch", str(batch), "--k", "2", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 6  # one output line per input line, in order
    assert lines[0]["id"] == "a" and len(lines[0]["items"]) == 2  # the BOM did not spoil line 1
    assert lines[5]["id"] == "f" and len(lines[5]["items"]) == 2
    assert [("error" in line) for line in lines] == [False, True, True, True, True, False]
    assert lines[3]["id"] == "d"
    for n in (2, 3, 4, 5):
        assert f"line {n}" in err
    assert status == 1 and "Traceback" not in err


@requires_data
def test_batch_piped_into_head_stops_quietly(tmp_path):
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(json.dumps({"id": n, "request": f"a {g} movie"})
                               for n, g in enumerate(["western", "comedy", "horror", "war", "crime",
                                                      "musical", "sci-fi", "drama"])) + "\n", encoding="utf-8")
    proc = subprocess.run(f'"{sys.executable}" -m recsys recommend --batch "{batch}" --k 2 --json | head -1',
                          shell=True, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ})
    assert json.loads(proc.stdout)["id"] == 0 and proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


@pytest.mark.parametrize(("args", "fragment"), [
    (["recommend", "🙂🎬🍿"], "describe what you would like"),
    (["recommend", "comedy", "--alpha", "-1"], "weights"),
    (["recommend", "comedy", "--gamma", "nan"], "weights"),
    (["--data-dir", "/nonexistent/movielens", "recommend", "comedy"], "does not exist"),
    (["recommend", "comedy", "--parser", "llm"], "RECSYS_LLM_BASE_URL"),
])
def test_input_and_data_errors_come_before_the_model_is_loaded(capsys, monkeypatch, args, fragment):
    def no_model(*_args, **_kwargs):
        raise AssertionError("the slow model load started before the input was validated")

    monkeypatch.setattr(cli, "_load", no_model)
    for name in ("RECSYS_LLM_BASE_URL", "RECSYS_LLM_LOCAL", "RECSYS_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    status, out, err = run(capsys, *args)
    assert status in (1, 2) and out == "" and fragment in err and err.count("\n") == 1


@requires_data
@pytest.mark.parametrize("weights", [("--alpha", "1e39"), ("--alpha", "1e-300", "--beta", "0", "--gamma", "0"),
                                     ("--alpha", "1e308", "--beta", "1e308", "--gamma", "1e308")])
def test_extreme_finite_weights_are_scale_free(capsys, weights):
    status, out, err = run(capsys, "recommend", "90s sci-fi", "--k", "5", "--json", *weights)
    assert status == 0 and "Warning" not in err, err
    data = json.loads(out)
    scores = [item["score"] for item in data["items"]]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True) and scores[0] > 0
    assert sum(data["weights"].values()) == pytest.approx(1.0)
    if weights[1] == "1e-300":  # the same list as --alpha 1 --beta 0 --gamma 0
        _, reference, _ = run(capsys, "recommend", "90s sci-fi", "--k", "5", "--json",
                              "--alpha", "1", "--beta", "0", "--gamma", "0")
        assert [i["movie_id"] for i in data["items"]] == [i["movie_id"] for i in json.loads(reference)["items"]]


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


@requires_data
def test_table_output_says_why_the_llm_was_not_used(capsys, monkeypatch):
    from tests.chat_server import ChatServer

    server = ChatServer()
    try:
        monkeypatch.setenv("RECSYS_LLM_BASE_URL", server.url)
        monkeypatch.setenv("RECSYS_LLM_MODEL", "test-model")
        server.reply = lambda body: (500, {})
        status, out, err = run(capsys, "recommend", "a western", "--parser", "llm", "--k", "3")
    finally:
        server.close()
    assert status == 0 and "Parsed (builtin)" in out
    assert "HTTP 500" in err and "built-in rules answered" in err and "Traceback" not in err
