"""Your own catalogue: the generic items + interactions layout, its validation and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys import cli
from recsys.catalogue import build_catalogue
from recsys.cf import ALSConfig, confidence_matrix
from recsys.data import IMPLICIT_RATING, DataError, load_dataset, read_movielens_dir
from recsys.text import item_texts

ITEMS = """item_id,title,year,categories,tags,description,people,popularity
10,The Hobbit, 1937.0 ,Fantasy|Adventure,dragons|Quest,There and back again.,J. R. R. Tolkien,120
11,Dune (1965),,Science fiction|Adventure,desert|politics,,Frank Herbert,
12,"Name of the Rose, The",1980,Mystery|Historical,monastery,,Umberto Eco|,35.5
13,Untitled notebook,,,,,,
"""
RATED = """user_id,item_id,rating,timestamp
1,10,5,1700000000
1,11,4.5,1700000100
2,12,2,1700000200
2,10,4,1700000300
"""
IMPLICIT = """user_id,item_id,timestamp
ann,10,2024-01-02T03:04:05Z
ann,11,1700000100
bob,12,2024-01-02
bob,10,1700000300
bob,10,1700000400
"""


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RECSYS_DATA_DIR", "RECSYS_DATA_URL"):
        monkeypatch.delenv(name, raising=False)


def write(folder: Path, items: str | bytes | None = ITEMS, interactions: str | bytes | None = RATED,
          ext: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (("items", items), ("interactions", interactions)):
        if content is not None:
            data = content if isinstance(content, bytes) else content.encode()
            (folder / f"{name}.{ext}").write_bytes(data)
    return folder


def error_of(folder: Path) -> str:
    with pytest.raises(DataError) as info:
        read_movielens_dir(folder)
    return str(info.value)


def to_parquet(folder: Path, csv_folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("items", "interactions"):
        frame = pd.read_csv(csv_folder / f"{name}.csv", dtype=str, keep_default_na=False)
        for column in ("item_id", "user_id", "year", "timestamp"):
            if column in frame:
                frame[column] = pd.to_numeric(frame[column].replace("", None)).astype("Int64")
        for column in ("rating", "popularity"):
            if column in frame:
                frame[column] = pd.to_numeric(frame[column].replace("", None))
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


# --------------------------------------------------------------------------- reading


def test_catalogue_folder_loads_into_the_pipeline_structure(tmp_path: Path) -> None:
    raw = load_dataset(write(tmp_path / "books"))
    cat = build_catalogue(raw)

    assert raw.domain == cat.domain == "items" and not cat.implicit
    assert cat.nouns.item == "item" and cat.nouns.categories == "categories"
    assert cat.movie_ids.tolist() == [10, 11, 12, 13]
    assert cat.titles[:3] == ("The Hobbit (1937)", "Dune (1965)", "Name of the Rose, The (1980)")
    assert cat.display_titles[2] == "The Name of the Rose" and cat.label(2) == "The Name of the Rose (1980)"
    assert cat.years.tolist() == [1937, 1965, 1980, 0]
    # categories are the file's own, not MovieLens genres
    assert cat.genre_names == ("Adventure", "Fantasy", "Historical", "Mystery", "Science fiction")
    assert cat.genres[0] == ("Fantasy", "Adventure") and cat.genres[3] == ()
    assert set(cat.items_with_genres(["Adventure"]).nonzero()[0]) == {0, 1}
    assert cat.tags[0] == ("dragons", "quest") and set(cat.tag_index["desert"]) == {1}
    assert cat.descriptions[0] == "There and back again." and cat.descriptions[1] == ""
    assert cat.people[2] == ("Umberto Eco",) and cat.people[3] == ()
    assert cat.popularity is not None and cat.popularity[0] == 120 and np.isnan(cat.popularity[1])
    assert cat.n_ratings.tolist() == [2, 1, 1, 0] and cat.mean_rating[0] == pytest.approx(4.5)
    texts = item_texts(cat)
    assert texts[0] == "The Hobbit (1937). Genres: fantasy, adventure. Tags: dragons, quest."


def test_movielens_is_the_movies_domain(tiny_catalogue) -> None:
    assert tiny_catalogue.domain == "movies" and tiny_catalogue.nouns.item == "movie"
    assert tiny_catalogue.nouns.category == "genre" and tiny_catalogue.popularity is None
    assert set(tiny_catalogue.descriptions) == {""}


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    csv_raw = load_dataset(write(tmp_path / "csv"))
    pq_raw = load_dataset(to_parquet(tmp_path / "pq", tmp_path / "csv"))

    pd.testing.assert_frame_equal(csv_raw.movies, pq_raw.movies)
    pd.testing.assert_frame_equal(csv_raw.ratings, pq_raw.ratings)
    assert csv_raw.fingerprint != pq_raw.fingerprint


def test_parquet_list_columns_are_lists_of_names(tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    pd.DataFrame({"item_id": [1, 2], "title": ["A", "B"],
                  "categories": [["Jazz", "Live"], None]}).to_parquet(folder / "items.parquet")
    pd.DataFrame({"user_id": [1], "item_id": [2]}).to_parquet(folder / "interactions.parquet")

    cat = build_catalogue(load_dataset(folder))

    assert cat.genres == (("Jazz", "Live"), ()) and cat.implicit


def test_implicit_feedback_counts_every_interaction_as_a_like(tmp_path: Path) -> None:
    raw = load_dataset(write(tmp_path / "plays", interactions=IMPLICIT))
    cat = build_catalogue(raw)

    assert raw.implicit and cat.implicit
    assert set(raw.ratings["rating"]) == {IMPLICIT_RATING}
    # text user ids are numbered in sorted order; ISO dates become Unix seconds
    assert raw.ratings["user_id"].tolist() == [1, 1, 2, 2, 2]
    assert raw.ratings["timestamp"].tolist()[:3] == [1704164645, 1700000100, 1704153600]
    matrix, users = confidence_matrix(cat, ALSConfig())
    # one play: confidence 1 + 2·(4 − 3.5) = 2; bob played item 10 twice: 4
    assert matrix[0, cat.index_of[10]] == pytest.approx(2.0)
    assert matrix[1, cat.index_of[10]] == pytest.approx(4.0)
    assert cat.n_ratings[cat.index_of[10]] == 3


def test_quoted_line_breaks_keep_line_numbers_physical(tmp_path: Path) -> None:
    items = ('item_id,title,description\n1,A,"first line\nsecond line"\n2,B,"say ""hi""\n'
             'bye"\n3,,empty title\n')
    message = error_of(write(tmp_path / "multi", items=items))

    assert message.startswith(f"{tmp_path / 'multi' / 'items.csv'} line 6: title is empty")


def test_long_multi_line_descriptions_across_read_blocks(tmp_path: Path) -> None:
    n = 25_000  # > 4 MB: the CSV reader's blocks end inside quoted fields
    text = "A long description.\nIt goes on, \"quoted\", for a while. " * 3
    frame = pd.DataFrame({"item_id": np.arange(1, n + 1), "title": [f"Item {i}" for i in range(n)],
                          "description": text})
    folder = tmp_path / "long"
    folder.mkdir()
    frame.to_csv(folder / "items.csv", index=False)
    (folder / "interactions.csv").write_text("user_id,item_id\n1,1\n1,7\n")

    cat = build_catalogue(load_dataset(folder))

    assert len(cat) == n and cat.descriptions[-1] == text.strip()
    (folder / "interactions.csv").write_text("user_id,item_id\n1,1\n1,x\n")
    assert f"{folder / 'interactions.csv'} line 3: item_id 'x' is not an integer" in error_of(folder)
    with (folder / "items.csv").open("a") as fh:
        fh.write(f'{n + 1},,"two\nlines"\n')
    assert f"items.csv line {n * 4 + 2}: title is empty" in error_of(folder)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("items", "interactions", "expected"), [
    (ITEMS.replace("12,\"Name", "10,\"Name"), RATED,
     "items.csv line 4: duplicate item_id 10 (first on line 2)"),
    (ITEMS.replace("Untitled notebook", "   "), RATED, "items.csv line 5: title is empty"),
    (ITEMS.replace("item_id,title", "id,title"), RATED, 'items.csv: missing column "item_id"'),
    (ITEMS, RATED.replace("user_id,", "user,"), 'interactions.csv: missing column "user_id"'),
    (ITEMS.replace(" 1937.0 ", "nineteen"), RATED, "items.csv line 2: year 'nineteen' is not a number"),
    (ITEMS.replace(" 1937.0 ", "1937.5"), RATED, "items.csv line 2: year 1937.5 is not a whole number"),
    (ITEMS.replace(",1980,", ",0,"), RATED, "items.csv line 4: year 0 is not a year"),
    (ITEMS.replace("Dune (1965),,", "Dune (1965),1966,"), RATED,
     "items.csv line 3: year 1966 contradicts the year 1965"),
    (ITEMS.replace(",35.5", ",-1"), RATED, "items.csv line 4: popularity -1 is negative"),
    (ITEMS.replace("10,The Hobbit", "x10,The Hobbit"), RATED,
     "items.csv line 2: item_id 'x10' is not an integer"),
    (ITEMS, RATED.replace("2,12,2,", "2,12,7,"),
     "interactions.csv line 4: rating 7 is outside the rating scale 0-5"),
    (ITEMS, RATED.replace("2,12,2,", "2,12,,"), "interactions.csv line 4: rating is empty"),
    (ITEMS, RATED.replace("2,12,2,", ",12,2,"), "interactions.csv line 4: user_id is empty"),
    (ITEMS, IMPLICIT.replace("2024-01-02\n", "yesterday\n"),
     "interactions.csv line 4: timestamp 'yesterday' is neither Unix seconds nor an ISO 8601 date"),
    (ITEMS, RATED.replace("1,11,4.5,1700000100", "1,11,4.5"),
     "interactions.csv line 3: expected 4 fields, found 3"),
    (ITEMS, "user_id,item_id\n", "interactions.csv: the file has no data rows"),
    (ITEMS, "user_id,item_id\n1,99\n2,98\n",
     "interactions.csv: none of its 2 interactions has an item_id that is in items.csv "
     "(first: line 2: item_id 99)"),
])
def test_bad_catalogue_names_file_line_and_problem(tmp_path: Path, items: str, interactions: str,
                                                   expected: str) -> None:
    message = error_of(write(tmp_path / "bad", items, interactions))

    assert expected in message
    assert str(tmp_path / "bad") in message


@pytest.mark.parametrize(("items", "expected"), [
    ('item_id,title,description\n1,A,"never closed\n2,B,x\n3,C,y\n',
     "items.csv line 2: description runs to the end of the file; is a quote not closed?"),
    ('item_id,title,description\n1,A,"closed too late\n2,B,x\n3,C,y"z\n4,D,e\n',
     "items.csv line 2: description holds a line that looks like a row"),
    ('item_id,title,description\n1,ok,fine\n2,"Two\nlines",x\n',
     "items.csv line 3: title spans several lines; is a quote not closed?"),
])
def test_an_unclosed_quote_never_swallows_rows_silently(tmp_path: Path, items: str, expected: str) -> None:
    folder = write(tmp_path / "quotes", items=items, interactions="user_id,item_id\n1,1\n")

    assert expected in error_of(folder)


def test_a_literal_quote_inside_a_field_is_text(tmp_path: Path) -> None:
    items = 'item_id,title,description\n1,A,"two\nlines"\n2,12" single,x\n'
    raw = load_dataset(write(tmp_path / "inch", items=items, interactions="user_id,item_id\n1,2\n"))

    assert raw.movies["title"].tolist() == ["A", '12" single']
    assert raw.movies["description"][0] == "two\nlines"


def test_interactions_with_unknown_items_are_skipped_with_a_counted_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    interactions = RATED + "3,99,4,1700000500\n3,98,4,1700000600\n"
    raw = load_dataset(write(tmp_path / "unknown", interactions=interactions))

    assert len(raw.ratings) == 4 and 99 not in set(raw.ratings["movie_id"])
    assert len(raw.warnings) == 1
    assert "skipped 2 of 6 interactions whose item_id is not in items.csv (first: line 6: item_id 99)" \
        in raw.warnings[0]
    assert raw.warnings[0] in caplog.text


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    items = ITEMS.encode().replace(b"Untitled", b"Unt\xeftled")
    message = error_of(write(tmp_path / "latin1", items=items))

    assert "items.csv line 5: not valid UTF-8 text" in message


def test_truncated_parquet_is_rejected_naming_the_file(tmp_path: Path) -> None:
    folder = to_parquet(tmp_path / "pq", write(tmp_path / "csv"))
    data = (folder / "interactions.parquet").read_bytes()
    (folder / "interactions.parquet").write_bytes(data[: len(data) // 2])

    message = error_of(folder)

    assert message.startswith(f"{folder / 'interactions.parquet'}: not a readable Parquet file")
    assert "truncated" in message


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    pd.DataFrame({"item_id": [1, 2, 1], "title": ["A", "B", "C"]}).to_parquet(folder / "items.parquet")
    pd.DataFrame({"user_id": [1], "item_id": [2]}).to_parquet(folder / "interactions.parquet")

    assert "items.parquet row 3: duplicate item_id 1 (first on row 1)" in error_of(folder)


def test_both_formats_of_one_file_are_ambiguous(tmp_path: Path) -> None:
    folder = to_parquet(tmp_path / "both", write(tmp_path / "both"))

    assert "holds both items.csv and items.parquet" in error_of(folder)


def test_items_without_interactions_is_not_a_complete_folder(tmp_path: Path) -> None:
    folder = write(tmp_path / "half", interactions=None)

    message = error_of(folder)

    assert f"{folder / 'interactions.csv'}: file not found" in message
    assert "needs items.csv and interactions.csv" in message


def test_million_line_file_with_a_broken_last_line(tmp_path: Path) -> None:
    folder = write(tmp_path / "big", interactions=None)
    n = 1_000_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user_id": rng.integers(1, 50_000, n), "item_id": rng.choice([10, 11, 12, 13], n),
                          "rating": rng.choice([1.0, 3.5, 5.0], n),
                          "timestamp": 1_600_000_000 + np.arange(n)})
    frame.to_csv(folder / "interactions.csv", index=False)
    raw = load_dataset(folder)
    assert len(raw.ratings) == n
    with (folder / "interactions.csv").open("a") as fh:
        fh.write("77,10,4.0\n")  # a truncated last line

    message = error_of(folder)

    assert message.startswith(f"{folder / 'interactions.csv'} line {n + 2}: expected 4 fields, found 3")


def test_cli_prints_one_line_and_writes_nothing_for_bad_data(tmp_path: Path, capsys) -> None:
    bad = write(tmp_path / "bad", items=ITEMS.replace("12,\"Name", "10,\"Name"))
    cache, out = tmp_path / "cache", tmp_path / "out"

    status = cli.main(["--data", str(bad), "--cache-dir", str(cache), "convert", "--out", str(out)])
    captured = capsys.readouterr()

    assert status == 1 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert f"{bad / 'items.csv'} line 4: duplicate item_id 10" in lines[0]
    assert not out.exists() and not cache.exists()


def test_index_with_bad_data_leaves_the_cache_untouched(tmp_path: Path, capsys,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("recsys.pipeline.TextEncoder", lambda *args, **kwargs: object())  # no model load
    bad = write(tmp_path / "bad", interactions=RATED.replace("2,12,2,", "2,12,7,"))
    cache = tmp_path / "cache"
    cache.mkdir()

    status = cli.main(["--data", str(bad), "--cache-dir", str(cache), "index"])
    captured = capsys.readouterr()

    assert status == 1
    errors = [line for line in captured.err.splitlines() if "error:" in line]  # besides the progress bar
    assert len(errors) == 1 and f"{bad / 'interactions.csv'} line 4: rating 7" in errors[0]
    assert list(cache.rglob("*")) == []


BOOKS = """item_id,title,year,categories,tags,people
1,The Hobbit,1937,Fantasy|Adventure,dragons|quest,J. R. R. Tolkien
2,The Fellowship of the Ring,1954,Fantasy|Adventure,epic|quest,J. R. R. Tolkien
3,A Game of Thrones,1996,Fantasy|Political fiction,dragons|war,George R. R. Martin
4,Dune,1965,Science fiction|Political fiction,desert|empire,Frank Herbert
5,Neuromancer,1984,Science fiction|Cyberpunk,hackers,William Gibson
6,Foundation,1951,Science fiction,empire,Isaac Asimov
7,Pride and Prejudice,1813,Romance|Classic,marriage,Jane Austen
8,Emma,1815,Romance|Classic,matchmaking,Jane Austen
9,Gone Girl,2012,Mystery|Thriller,twist,Gillian Flynn
10,The Shining,1977,Horror,hotel|winter,Stephen King
"""


def test_a_books_catalogue_with_implicit_feedback_runs_through_the_cli(
        tmp_path: Path, capsys, encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.setattr("recsys.pipeline.TextEncoder", lambda *args, **kwargs: encoder)  # loaded once
    groups = [[1, 2, 3], [4, 5, 6], [7, 8], [9, 10]]
    plays = ["user_id,item_id"] + [f"reader{g}-{u},{i}" for g, items in enumerate(groups)
                                   for u in range(6) for i in items]
    folder = write(tmp_path / "books", items=BOOKS, interactions="\n".join(plays) + "\n")

    status = cli.main(["--data", str(folder), "--cache-dir", str(tmp_path / "cache"), "recommend",
                       "epic fantasy with dragons like The Hobbit, no horror", "--k", "3", "--json"])
    captured = capsys.readouterr()

    assert status == 0, captured.err
    result = json.loads(captured.out)
    assert result["intent"]["titles"][0]["movie_id"] == 1
    assert "Fantasy" in result["intent"]["liked_genres"]
    ids = [item["movie_id"] for item in result["items"]]
    assert ids[:2] == [2, 3] and 1 not in ids and 10 not in ids
    assert set(result["items"][0]["genres"]) == {"Fantasy", "Adventure"}
