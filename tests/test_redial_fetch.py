"""recsys.redial_fetch: ReDial's release from a fake server on 127.0.0.1, mapped to a catalogue
by the rules of the shared ``redial_train.jsonl``; and where the adapter's requests come from.

The dialogues below are written by hand in ReDial's format (``conversationId``, ``messages``
with ``@id`` mentions, ``movieMentions``, ``initiatorQuestions`` / ``respondentQuestions``),
one for each rule; the catalogue is the tests' tiny MovieLens set (conftest).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from recsys import cli
from recsys import redial_fetch
from recsys.adapter import (AdapterConfig, MAX_TRAIN_REQUESTS, conversation_key, training_request_rows,
                            training_requests, training_requests_source)
from recsys.knowledge_fetch import HttpPolicy
from recsys.redial_fetch import (RedialFetchError, TitleIndex, build_request, fetch_requests,
                                 has_preference_cue, read_records, requests_path)
from tests.knowledge_server import Answer, FakeWeb, Trickle, fake_web

RELEASE = "/ReDialData/website/raw/data/redial_dataset.zip"
SEEKER, RECOMMENDER = 11, 22


def msg(sender: int, text: str) -> dict[str, Any]:
    return {"timeOffset": 0, "text": text, "senderWorkerId": sender, "messageId": 0}


def form(suggested: int, seen: int, liked: int) -> dict[str, int]:
    return {"suggested": suggested, "seen": seen, "liked": liked}


def dialogue(cid: str, messages: list[tuple[int, str]], mentions: dict[str, str],
             seeker: Any = None, recommender: Any = None) -> dict[str, Any]:
    return {"conversationId": cid, "initiatorWorkerId": SEEKER, "respondentWorkerId": RECOMMENDER,
            "messages": [msg(s, t) for s, t in messages], "movieMentions": mentions,
            "initiatorQuestions": {} if seeker is None else seeker,
            "respondentQuestions": {} if recommender is None else recommender}


S, R = SEEKER, RECOMMENDER
DIALOGUES = [
    # names a movie over two turns; the recommender answers with suggestions the seeker likes
    dialogue("100", [(S, "hi there"), (S, "I love @201 , anything like it?"), (R, "what do you like about it?"),
                     (S, "the mind-bending plot"), (R, "@205 is great, also @207"),
                     (S, "seen the first, not the second"), (R, "and @209 or @208"), (S, "cool, thanks")],
             {"201": "The Matrix (1999)", "205": "Blade Runner (1982)", "207": "Gattaca (1997)",
              "208": "Alien (1979)", "209": "Inception  (2010)"},
             seeker={"201": form(0, 1, 1), "205": form(1, 1, 1), "207": form(1, 0, 1),
                     "208": form(1, 0, 0), "209": form(1, 0, 1)}),
    # language only; the seeker left no form (ReDial writes an empty one as []): the recommender's
    dialogue("101", [(R, "Hello! what are you in the mood for?"), (S, "hi! animated movies for my kids please"),
                     (R, "@211 and @213"), (S, "we saw Toy Story"), (R, "@229 then")],
             {"211": "Toy Story (1995)", "213": "Finding Nemo (2003)", "229": "Up (2009)"},
             seeker=[], recommender={"211": form(1, 1, 1), "213": form(1, 0, 1), "229": form(1, 0, 1)}),
    # small talk only: no movie, no preference cue → dropped
    dialogue("102", [(S, "hi, how are you?"), (R, "good, you?"), (S, "great thanks"), (R, "@217 is fun")],
             {"217": "Notting Hill (1999)"}, seeker={"217": form(1, 0, 1)}),
    # the recommender recommends before the seeker says anything → dropped
    dialogue("103", [(R, "try @203!"), (S, "I love sci-fi"), (R, "@204")],
             {"203": "Inception (2010)", "204": "Interstellar (2014)"},
             seeker={"203": form(1, 0, 1), "204": form(1, 0, 1)}),
    # the request's own movie is never a target (named again, or under another ReDial id and a
    # year off by one); a movie the seeker disliked is a disliked mention
    dialogue("104", [(S, "I liked @311 but hated @215"), (R, "@312 or @411 ?"), (S, "@311 again? ok"),
                     (R, "@311 is a classic")],
             {"311": "Toy Story (1995)", "215": "Shrek (2001)", "312": "Toy Story 2 (1999)",
              "411": "Toy Story (1996)"},
             seeker={"311": form(0, 1, 1), "215": form(0, 1, 0), "312": form(1, 1, 1), "411": form(1, 0, 1)}),
    # the only liked recommendation is not in the catalogue → dropped
    dialogue("105", [(S, "any good horror?"), (R, "@501")], {"501": "Hereditary (2018)"},
             seeker={"501": form(1, 0, 1)}),
    # at most three seeker turns make the request; later ones count as delay
    dialogue("106", [(S, "hello"), (R, "hi"), (S, "I want something"), (R, "like?"), (S, "scary"),
                     (R, "hmm"), (S, "really scary"), (R, "@223")],
             {"223": "The Shining (1980)"}, seeker={"223": form(1, 0, 1)}),
]
#: ReDial's test split: a perfectly good dialogue that must never be read
TEST_DIALOGUE = dialogue("999", [(S, "I love @201"), (R, "@205")],
                         {"201": "The Matrix (1999)", "205": "Blade Runner (1982)"},
                         seeker={"201": form(0, 1, 1), "205": form(1, 0, 1)})
EXPECTED_IDS = ["redial-train-100", "redial-train-101", "redial-train-104", "redial-train-106"]


def release_zip(dialogues: list[dict[str, Any]] = DIALOGUES, *, folder: str = "", movies: bool = True,
                train_text: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        text = train_text if train_text is not None else "".join(json.dumps(d) + "\n" for d in dialogues)
        archive.writestr(f"{folder}train_data.jsonl", text)
        archive.writestr(f"{folder}test_data.jsonl", json.dumps(TEST_DIALOGUE) + "\n")
        if movies:
            names = {k: v for d in dialogues for k, v in d["movieMentions"].items()}
            rows = io.StringIO()
            writer = csv.writer(rows)
            writer.writerow(["movieId", "movieName", "nbMentions"])
            writer.writerows([k, v, 1] for k, v in names.items())
            archive.writestr(f"{folder}movies_with_mentions.csv", rows.getvalue())
    return buffer.getvalue()


class Release:
    """What the fake server answers for the release's path (``answer``; default: the zip)."""

    def __init__(self, web: FakeWeb) -> None:
        self.web = web
        self.answer: Answer | Trickle = Answer(200, release_zip(), {"Content-Type": "application/zip"})
        web.override = lambda call: self.answer if call.path == RELEASE else None

    @property
    def url(self) -> str:
        return self.web.url + RELEASE

    def calls(self) -> int:
        return len(self.web.paths(RELEASE))


@pytest.fixture
def release(monkeypatch: pytest.MonkeyPatch) -> Iterator[Release]:
    with fake_web() as web:
        served = Release(web)
        monkeypatch.setenv("RECSYS_REDIAL_URL", served.url)
        yield served


@pytest.fixture
def policy() -> HttpPolicy:
    return HttpPolicy(deadline=1.5, retries=0, backoff=0.0, min_interval=0.0, max_bytes=1_000_000)


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- a good download


def test_a_good_download_maps_the_training_dialogues(release: Release, policy: HttpPolicy, tiny_catalogue,
                                                     tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    path = fetch_requests(tiny_catalogue, tmp_path, policy=policy, progress=lambda f, m: seen.append((f, m)))
    assert path == requests_path(tmp_path, tiny_catalogue)
    records = list(read_records(path))
    assert [r["id"] for r in records] == EXPECTED_IDS         # 102, 103, 105 dropped; test split unread
    first = records[0]
    assert first == {
        "id": "redial-train-100", "source": "redial_train", "conversation_id": "100",
        "request": "hi there I love The Matrix (1999) , anything like it? the mind-bending plot",
        "mentioned_movie_ids": [1], "target_movie_ids": [7, 8, 3],
        "mentioned_titles": ["Matrix, The (1999)"],
        "target_titles": ["Blade Runner (1982)", "Gattaca (1997)", "Inception (2010)"],
        "mentioned_disliked_movie_ids": [], "target_unseen_movie_ids": [8, 3],
        "target_turn_delay": [0, 0, 1], "n_seeker_turns": 2, "request_has_movie_mention": True,
        "n_request_mentions_unmapped": 0, "n_targets_unmapped": 0, "label_source": "initiatorQuestions"}
    kids = records[1]
    assert kids["request"] == "hi! animated movies for my kids please"
    assert kids["target_movie_ids"] == [11, 13, 29] and kids["target_turn_delay"] == [0, 0, 1]
    assert kids["request_has_movie_mention"] is False and kids["label_source"] == "respondentQuestions"
    own = records[2]
    assert own["mentioned_movie_ids"] == [11] and own["mentioned_disliked_movie_ids"] == [15]
    assert own["target_movie_ids"] == [12]                    # never Toy Story itself
    capped = records[3]
    assert capped["request"] == "hello I want something scary" and capped["n_seeker_turns"] == 3
    assert capped["target_turn_delay"] == [1]
    # progress from 0 to 1, never backwards; the zip is kept, nothing temporary is left
    assert seen[0][0] == 0.0 and seen[-1][0] == 1.0 and "4 training requests" in seen[-1][1]
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert files(tmp_path) == sorted(["redial/redial_dataset.zip", path.name])
    # a finished cache is reused without asking the server; --force asks again
    assert fetch_requests(tiny_catalogue, tmp_path, policy=policy) == path and release.calls() == 1
    assert fetch_requests(tiny_catalogue, tmp_path, policy=policy, force=True) == path
    assert release.calls() == 2


def test_a_top_level_folder_and_no_movie_list_change_nothing(release: Release, policy: HttpPolicy,
                                                             tiny_catalogue, tmp_path: Path) -> None:
    release.answer = Answer(200, release_zip(folder="redial_dataset/", movies=False))
    path = fetch_requests(tiny_catalogue, tmp_path, policy=policy)
    assert [r["id"] for r in read_records(path)] == EXPECTED_IDS


def test_another_catalogue_is_mapped_from_the_kept_download(release: Release, policy: HttpPolicy,
                                                            tiny_catalogue, tmp_path: Path) -> None:
    fetch_requests(tiny_catalogue, tmp_path, policy=policy)
    other = catalogue_of(tmp_path / "other", ["Matrix, The (1999)", "Blade Runner (1982)", "Up (2009)"])
    path = fetch_requests(other, tmp_path, policy=policy)
    assert release.calls() == 1 and path != requests_path(tmp_path, tiny_catalogue)
    got = {r["id"]: r["target_movie_ids"] for r in read_records(path)}
    assert got == {"redial-train-100": [2], "redial-train-101": [3]}       # its own ids


# --------------------------------------------------------------------------- redirects and failures


def test_redirects_within_the_origin_are_followed_and_others_refused(release: Release, policy: HttpPolicy,
                                                                     tiny_catalogue, tmp_path: Path) -> None:
    zipped = release.answer
    release.web.override = lambda call: (Answer(302, "", {"Location": "/files/redial.zip"}) if call.path == RELEASE
                                         else zipped if call.path == "/files/redial.zip" else None)
    path = fetch_requests(tiny_catalogue, tmp_path / "same", policy=policy)
    assert len(list(read_records(path))) == 4

    with fake_web() as elsewhere:
        elsewhere.override = lambda call: zipped
        release.web.override = lambda call: Answer(302, "", {"Location": elsewhere.url + "/redial.zip"})
        with pytest.raises(RedialFetchError, match="redirected to another site") as caught:
            fetch_requests(tiny_catalogue, tmp_path / "off", policy=policy)
        assert "\n" not in str(caught.value) and elsewhere.calls == []
        assert not (tmp_path / "off").exists() or files(tmp_path / "off") == []
        # a file host named for this download (as GitHub's raw hosts are for github.com) is fine
        path = fetch_requests(tiny_catalogue, tmp_path / "named", policy=policy,
                              allowed_redirects=[f"http://127.0.0.1:{elsewhere.httpd.server_address[1]}"])
        assert len(list(read_records(path))) == 4


def _zip_without_train() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("test_data.jsonl", json.dumps(TEST_DIALOGUE) + "\n")
    return buffer.getvalue()


FAILURES = {
    "stalled headers": (Trickle(size=200, interval=0.05, headers=True), "no complete answer within 1.5 s"),
    "trickled body": (Trickle(size=200, interval=0.05), "no complete answer within 1.5 s"),
    "truncated zip": (Answer(200, release_zip()[: len(release_zip()) // 2]), "truncated or damaged"),
    "an HTML page": (Answer(200, "<html><body>Rate limit</body></html>"), "not a zip archive (it starts with '<htm'"),
    "404": (Answer(404, "<html>Not Found</html>"), "answered HTTP 404"),
    "500": (Answer(500, "oops"), "failed once"),
    "another zip": (Answer(200, _zip_without_train()), "has no train_data.jsonl"),
    "wrong lines": (Answer(200, release_zip(train_text="not json\n[1, 2]\n")), "not ReDial's dialogue format"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_bad_answer_is_one_clear_line_and_leaves_no_file(release: Release, policy: HttpPolicy, tiny_catalogue,
                                                           tmp_path: Path, case: str) -> None:
    release.answer, expected = FAILURES[case]
    with pytest.raises(RedialFetchError) as caught:
        fetch_requests(tiny_catalogue, tmp_path, policy=policy)
    message = str(caught.value)
    assert expected in message and "\n" not in message and "Traceback" not in message
    assert files(tmp_path) == []


def test_a_huge_answer_or_member_is_refused(release: Release, policy: HttpPolicy, tiny_catalogue, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RedialFetchError, match="sent more than 1,000 bytes"):
        fetch_requests(tiny_catalogue, tmp_path, policy=replace(policy, max_bytes=1000))
    monkeypatch.setattr(redial_fetch, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(RedialFetchError, match="unpacks to .* bytes"):
        fetch_requests(tiny_catalogue, tmp_path, policy=policy)
    assert files(tmp_path) == []


def test_the_default_url_must_serve_the_pinned_release(release: Release, policy: HttpPolicy, tiny_catalogue,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redial_fetch, "DEFAULT_URL", release.url)       # "the default URL" answers here
    monkeypatch.delenv("RECSYS_REDIAL_URL")
    with pytest.raises(RedialFetchError, match="not the ReDial release this project was built on"):
        fetch_requests(tiny_catalogue, tmp_path, policy=policy)
    assert files(tmp_path) == []
    path = fetch_requests(tiny_catalogue, tmp_path, policy=policy,
                          expected_sha256=hashlib.sha256(release_zip()).hexdigest())
    assert len(list(read_records(path))) == 4


def test_a_damaged_kept_download_is_fetched_again(release: Release, policy: HttpPolicy, tiny_catalogue,
                                                  tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    archive = redial_fetch.archive_path(tmp_path)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"PK\x03\x04 cut short")
    path = fetch_requests(tiny_catalogue, tmp_path, policy=policy)
    assert release.calls() == 1 and len(list(read_records(path))) == 4
    assert "unusable" in caplog.text and zipfile.is_zipfile(archive)


def test_cli_fetch_requests(release: Release, tiny_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECSYS_TRAIN_REQUESTS", raising=False)
    args = ["--data", str(tiny_dir), "--cache-dir", str(tmp_path), "fetch-requests"]
    assert cli.main(args) == 0
    out, _ = capsys.readouterr()
    assert "4 (2 language only)" in out and "at most 1,200" in out and "CC BY 4.0" in out
    release.answer = Answer(404, "<html>Not Found</html>")
    assert cli.main([*args, "--force"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("error: ReDial download answered HTTP 404") and err.count("\n") == 1
    assert len(list(read_records(requests_path(tmp_path, _tiny(tiny_dir))))) == 4   # the old file stays


# --------------------------------------------------------------------------- mapping rules


def _tiny(folder: Path):  # type: ignore[no-untyped-def]
    from recsys.catalogue import build_catalogue
    from recsys.data import load_dataset

    return build_catalogue(load_dataset(folder))


def catalogue_of(folder: Path, titles: list[str]):  # type: ignore[no-untyped-def]
    """A catalogue with these titles (ids 1, 2, …), one rating each."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "movies.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["movieId", "title", "genres"])
        writer.writerows([i, title, "Drama"] for i, title in enumerate(titles, 1))
    with (folder / "ratings.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        writer.writerows([1, i, 4.0, 1_000_000_000] for i in range(1, len(titles) + 1))
    return _tiny(folder)


MAPPING_TITLES = ["Matrix, The (1999)", "Halloween (1978)", "Halloween (2007)", "Twin Peaks: The Film (2005)",
                  "Twin Peaks: The Film (2005)", "Near Miss (2001)", "Near Miss (2003)",
                  "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Avengers, The (2012)",
                  "Toy Story (1995)", "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)",
                  "Fast & Furious (2009)"]


@pytest.mark.parametrize("name, expected", [
    ("The Matrix (1999)", 1), ("Matrix, The (1999)", 1), ("the matrix (1999)", 1),
    ("The Matrix (2000)", 1),                      # year off by one
    ("The Matrix (2001)", None),                   # off by two
    ("Halloween (1978)", 2), ("Halloween (2007)", 3), ("Halloween (2008)", 3),
    ("Halloween", None),                           # no year and two films: ambiguous
    ("Twin Peaks: The Film (2005)", None),         # twice in the catalogue: ambiguous
    ("Near Miss (2002)", None),                    # two films one year away: ambiguous
    ("Amélie (2001)", 8), ("Amelie (2001)", 8),    # accents dropped; alternative title
    ("Avengers (2012)", 9),                        # a missing article, the year exact
    ("Avengers (2013)", None),                     # … but not with a year off by one
    ("Toy Story", 10),                             # no year, one film
    ("Toy Story (1995)  ", 10), ("Toy Story 2 (1999)", None),
    ("The Professional (1994)", 11), ("Leon (1994)", 11),
    ("Fast and Furious (2009)", 12), ("Fast & Furious! (2009)", 12),   # "&" = "and", punctuation dropped
    ("Star Trek: Of Gods and Men", None),
])
def test_title_mapping_rules(tmp_path: Path, name: str, expected: int | None) -> None:
    index = TitleIndex(catalogue_of(tmp_path / "ml", MAPPING_TITLES))
    assert index.lookup(name) == expected


def test_preference_cues() -> None:
    for text in ("hi, how are you?", "Hello! Good, you?", "hey there", "I'm doing well thanks", "ok sure"):
        assert not has_preference_cue(text), text
    for text in ("hello horror please", "I like Will Ferrell", "something from the 90s",
                 "Hey! Im Looking for any type of Movies To Watch Later", "a feel-good one", "For what age child?"):
        assert has_preference_cue(text), text


def test_a_dialogue_of_the_wrong_shape_is_skipped(tiny_catalogue) -> None:
    broken = [{"conversationId": "1", "messages": "not a list", "initiatorWorkerId": 1}, {"messages": []},
              *DIALOGUES[:1]]
    records, stats = redial_fetch.build_requests(broken, tiny_catalogue)
    assert [r["id"] for r in records] == ["redial-train-100"] and stats.unreadable == 2
    with pytest.raises(TypeError):
        build_request(broken[0], TitleIndex(tiny_catalogue))


# --------------------------------------------------------------------------- where the adapter's requests come from


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_training_requests_resolution_order(tiny_catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECSYS_TRAIN_REQUESTS", raising=False)
    assert training_requests_source(tiny_catalogue, cache_dir=tmp_path).kind == "none"
    assert training_requests(tiny_catalogue, cache_dir=tmp_path) == []
    # a download in the cache is used when nothing is configured …
    downloaded = _write(requests_path(tmp_path, tiny_catalogue),
                        [{"id": "redial-train-7", "request": "kids films", "target_movie_ids": [11]}])
    source = training_requests_source(tiny_catalogue, cache_dir=tmp_path)
    assert source.kind == "download" and source.path == downloaded and "downloaded" in source.describe()
    assert training_requests(tiny_catalogue, cache_dir=tmp_path) == [("kids films", tiny_catalogue.indices([11]))]
    # … and $RECSYS_TRAIN_REQUESTS comes first
    own = _write(tmp_path / "mine.jsonl", [{"request": "space films", "target_movie_ids": [4]}])
    monkeypatch.setenv("RECSYS_TRAIN_REQUESTS", str(own))
    assert training_requests_source(tiny_catalogue, cache_dir=tmp_path).kind == "env"
    assert training_requests(tiny_catalogue, cache_dir=tmp_path) == [("space films", tiny_catalogue.indices([4]))]
    # an evaluation file by name is refused; the download's own name never is
    dev = _write(tmp_path / "redial_dev.jsonl", [{"request": "x", "target_movie_ids": [4]}])
    monkeypatch.setenv("RECSYS_TRAIN_REQUESTS", str(dev))
    assert training_requests(tiny_catalogue, cache_dir=tmp_path) == []


def test_the_adapter_trains_on_a_stable_sample_of_at_most_the_cap(tiny_catalogue, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"id": f"redial-train-{n}", "request": f"request {n}", "target_movie_ids": [1 + n % 30]}
            for n in range(50)]
    path = _write(tmp_path / "train.jsonl", rows)
    sample = training_request_rows(tiny_catalogue, path, limit=20)
    assert len(sample) == 20
    keys = [r.key for r in sample]
    assert keys == sorted(keys, key=int)                       # file order kept
    assert [r.key for r in training_request_rows(tiny_catalogue, path, limit=20)] == keys   # stable
    shuffled = _write(tmp_path / "shuffled.jsonl", rows[::-1])
    assert {r.key for r in training_request_rows(tiny_catalogue, shuffled, limit=20)} == set(keys)
    assert len(training_request_rows(tiny_catalogue, path)) == 50 <= MAX_TRAIN_REQUESTS
    assert MAX_TRAIN_REQUESTS >= 1129                          # the shared training file is used whole


def test_conversation_keys() -> None:
    assert conversation_key("redial-train-418") == conversation_key("redial-valid-418") == "418"
    assert conversation_key("redial-train-418", "9") == "9" and conversation_key("q1") == "q1"
    assert conversation_key(None) == ""


# --------------------------------------------------------------------------- the first start


def _fast_recommender(tiny_recommender):  # type: ignore[no-untyped-def]
    from recsys.pipeline import Recommender

    rec = tiny_recommender
    fast = AdapterConfig(dim=8, epochs=2, descriptions_per_user=2, min_liked=3, weight=0.5, weight_named=0.5)
    return Recommender(rec.catalogue, rec.encoder, rec.index, rec.cf, rec.baseline, rec.matcher,
                       config=replace(rec.config, adapter=fast))


def test_the_first_start_fetches_the_requests_when_online(release: Release, tiny_recommender, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RECSYS_TRAIN_REQUESTS", "RECSYS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    rec = _fast_recommender(tiny_recommender)
    adapter = rec.ensure_adapter(tmp_path)
    assert adapter is not None and adapter.report["real_requests"] == 4
    assert release.calls() == 1 and requests_path(tmp_path, rec.catalogue).is_file()
    assert len(rec.adapter_recipe(tmp_path)[2]) == 4
    # the next start reads the cache: no download, the same adapter
    again = _fast_recommender(tiny_recommender).ensure_adapter(tmp_path)
    assert release.calls() == 1 and again is not None and again.key == adapter.key


def test_offline_the_first_start_runs_without_an_adapter_and_says_so(tiny_recommender, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    for name in ("RECSYS_TRAIN_REQUESTS", "RECSYS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECSYS_REDIAL_URL", "http://127.0.0.1:9/redial_dataset.zip")    # nothing listens
    with caplog.at_level(logging.WARNING):
        adapter = _fast_recommender(tiny_recommender).ensure_adapter(tmp_path)
    assert adapter is None                      # synthetic descriptions alone did not help
    assert "not reachable" in caplog.text and "No adapter" in caplog.text
    assert "fetch-requests" in caplog.text
    assert files(tmp_path) == []                # nothing trained, nothing half-written


def test_the_synthetic_only_adapter_is_trained_when_asked_for(tiny_recommender, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    for name in ("RECSYS_TRAIN_REQUESTS", "RECSYS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECSYS_REDIAL_URL", "http://127.0.0.1:9/redial_dataset.zip")    # nothing listens
    rec = _fast_recommender(tiny_recommender)
    rec.config = replace(rec.config, synthetic_adapter=True)
    with caplog.at_level(logging.WARNING):
        adapter = rec.ensure_adapter(tmp_path)
    assert adapter is not None and adapter.report["real_requests"] == 0
    assert "synthetic descriptions only" in caplog.text
    assert files(tmp_path) == [Path(adapter.key + ".npz").name]


def test_a_local_data_folder_is_not_fetched_for(release: Release, tiny_recommender, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("RECSYS_TRAIN_REQUESTS", raising=False)
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "somewhere"))
    with caplog.at_level(logging.WARNING):
        adapter = _fast_recommender(tiny_recommender).ensure_adapter(tmp_path)
    assert release.calls() == 0 and adapter is None
    assert "No adapter" in caplog.text


# --------------------------------------------------------------------------- the leakage guard


def test_evaluation_leaves_out_the_requests_the_adapter_trained_on(tiny_catalogue, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    from types import SimpleNamespace

    from recsys.evaluation.requests import EvalRequest, LeakageError, drop_trained

    train = _write(tmp_path / "train.jsonl", [
        {"id": "redial-train-1", "request": "kids films", "target_movie_ids": [11]},
        {"id": "redial-train-2", "request": "space films", "target_movie_ids": [4]},
        {"request": "no id, just text", "target_movie_ids": [4]}])
    monkeypatch.setenv("RECSYS_TRAIN_REQUESTS", str(train))
    dev = [EvalRequest("redial-valid-1", "kids films, please", (13,)),       # a trained-on dialogue
           EvalRequest("redial-valid-3", "kids films", (13,)),               # same words, other dialogue
           EvalRequest("redial-valid-4", "No id,  just TEXT", (4,)),         # text of an id-less request
           EvalRequest("redial-valid-5", "westerns", (28,))]
    engine = SimpleNamespace(adapter=object(), catalogue=tiny_catalogue)
    with caplog.at_level(logging.WARNING):
        kept, dropped = drop_trained(dev, engine, tmp_path)
    assert [r.id for r in kept] == ["redial-valid-3", "redial-valid-5"] and dropped == 2
    assert "Left out 2 of 4 requests" in caplog.text
    # nothing is dropped without an adapter; nothing left is refused
    assert drop_trained(dev, SimpleNamespace(adapter=None, catalogue=tiny_catalogue), tmp_path) == (dev, 0)
    with pytest.raises(LeakageError, match="trained on all 1"):
        drop_trained(dev[:1], engine, tmp_path)


def test_evaluate_cli_reports_the_left_out_requests(tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    train = _write(tmp_path / "train.jsonl", [
        {"id": f"redial-train-{n}", "request": text, "target_movie_ids": targets}
        for n, (text, targets) in enumerate([("animated films for kids", [11, 12, 13]),
                                             ("space sci-fi", [4, 9]), ("romantic comedies", [17, 19])])])
    monkeypatch.setenv("RECSYS_TRAIN_REQUESTS", str(train))
    dev = _write(tmp_path / "dev_requests.jsonl", [
        {"id": "redial-valid-0", "request": "cartoons for my kids", "target_movie_ids": [29]},
        {"id": "redial-valid-1", "request": "films set in space", "target_movie_ids": [3]},
        {"id": "redial-valid-7", "request": "a funny romance", "target_movie_ids": [18, 20]}])
    base = ["--data", str(tiny_dir), "--cache-dir", str(tmp_path / "cache")]
    status = cli.main([*base, "evaluate", "--requests", str(dev), "--json", "--resamples", "100"])
    out, err = capsys.readouterr()
    assert status == 0, err
    data = json.loads(out)
    assert data["n"] == 1 and data["left_out_trained_on"] == 2
    assert "Left out 2 of 3 requests" in caplog.text
    assert "(2 left out: the adapter trained on them)" in cli.format_evaluation(data)
    only_trained = _write(tmp_path / "trained.jsonl", [json.loads(line) for line in dev.read_text().splitlines()][:2])
    status = cli.main([*base, "evaluate", "--requests", str(only_trained)])
    _, err = capsys.readouterr()
    assert status == 2 and err.startswith("error: the adapter was trained on all 2") and err.count("\n") == 1

