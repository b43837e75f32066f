"""Tests for recsys.data: reading, validation, locating and downloading MovieLens data."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import shutil
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.data import (
    DEFAULT_DATASET,
    DataError,
    DataUnavailableError,
    RawData,
    default_cache_dir,
    load_dataset,
    read_movielens_dir,
    resolve_data_dir,
)

# Captured before the autouse fixture clears it, for the integration test.
_SHARED_DATA_DIR = os.environ.get("RECSYS_DATA_DIR", "")

MOVIES = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
2,Jumanji (1995),Adventure|Children|Fantasy
3,"American President, The (1995)",Comedy|Drama|Romance
4,Pokémon Heroes (2003),(no genres listed)
"""
RATINGS = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,3,0.5,964981247
2,2,5.0,964982224
2,4,3.5,964983815
3,1,2.0,964982931
"""
TAGS = """userId,movieId,tag,timestamp
2,1,funny,1445714994
3,3,NA,1445714996
"""
LINKS = """movieId,imdbId,tmdbId
1,0114709,862
2,0113497,8844
3,0112346,
4,0348150,12600
"""
LATEST = {"movies.csv": MOVIES, "ratings.csv": RATINGS, "tags.csv": TAGS, "links.csv": LINKS}


def write_files(folder: Path, files: dict[str, str | bytes | None], encoding: str = "utf-8") -> Path:
    """Write ``files`` (None = leave out) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content is None:
            continue
        data = content if isinstance(content, bytes) else content.encode(encoding)
        (folder / name).write_bytes(data)
    return folder


def latest(folder: Path, **changes: str | bytes | None) -> Path:
    """An ml-latest style folder; keyword names use '_' for '.' (ratings_csv=...)."""
    files: dict[str, str | bytes | None] = dict(LATEST)
    files.update({k.replace("_", "."): v for k, v in changes.items()})
    return write_files(folder, files)


def replace_line(text: str, line: int, new: str) -> str:
    """Replace the 1-based physical ``line`` of ``text``."""
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


def error_of(folder: Path) -> str:
    with pytest.raises(DataError) as info:
        read_movielens_dir(folder)
    return str(info.value)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("RECSYS_DATA_DIR", "RECSYS_DATA_URL", "RECSYS_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


# --------------------------------------------------------------------------- reading


def test_latest_layout_loads_with_normalised_columns_and_dtypes(tmp_path: Path) -> None:
    raw = read_movielens_dir(latest(tmp_path / "ml-test"))

    assert raw.name == "ml-test"
    assert raw.source_dir == tmp_path / "ml-test"
    assert list(raw.movies.columns) == ["movie_id", "title", "genres"]
    assert raw.movies["movie_id"].dtype == np.int64
    assert raw.movies["title"].dtype == "str" and raw.movies["genres"].dtype == "str"
    assert raw.movies["title"].tolist() == ["Toy Story (1995)", "Jumanji (1995)",
                                            "American President, The (1995)",
                                            "Pokémon Heroes (2003)"]
    assert raw.movies["genres"].iloc[3] == "(no genres listed)"

    assert list(raw.ratings.columns) == ["user_id", "movie_id", "rating", "timestamp"]
    assert raw.ratings.dtypes.tolist() == [np.int64, np.int64, np.float32, np.int64]
    assert raw.ratings["rating"].tolist() == [4.0, 0.5, 5.0, 3.5, 2.0]
    assert raw.ratings["timestamp"].iloc[0] == 964982703

    assert list(raw.tags.columns) == ["user_id", "movie_id", "tag", "timestamp"]
    assert raw.tags["tag"].tolist() == ["funny", "NA"]  # "NA" is a tag, not a missing value
    assert raw.tags["tag"].dtype == "str"

    assert raw.links is not None
    assert list(raw.links.columns) == ["movie_id", "imdb_id", "tmdb_id"]
    assert raw.links["imdb_id"].tolist()[:2] == ["0114709", "0113497"]
    assert str(raw.links["tmdb_id"].dtype) == "Int64"
    assert raw.links["tmdb_id"].iloc[0] == 862 and pd.isna(raw.links["tmdb_id"].iloc[2])
    assert len(raw.fingerprint) == 40 and int(raw.fingerprint, 16) >= 0


def test_optional_files_may_be_absent(tmp_path: Path) -> None:
    raw = read_movielens_dir(latest(tmp_path, tags_csv=None, links_csv=None))

    assert raw.links is None
    assert raw.tags.empty
    assert list(raw.tags.columns) == ["user_id", "movie_id", "tag", "timestamp"]
    assert raw.tags.dtypes.tolist() == [np.int64, np.int64, "str", np.int64]


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    ratings = RATINGS.replace("1,3,0.5,964981247\n", "1,3,0.5,964981247\n\n") + "\n"
    raw = read_movielens_dir(latest(tmp_path / "ok", ratings_csv=ratings))
    assert len(raw.ratings) == 5

    bad = replace_line(ratings, 6, "2,4,9.0,964983815")  # line 4 is the blank one
    message = error_of(latest(tmp_path / "bad", ratings_csv=bad))
    assert "ratings.csv line 6:" in message


def test_fingerprint_depends_on_contents_only(tmp_path: Path) -> None:
    first = latest(tmp_path / "a")
    copy = tmp_path / "b"
    shutil.copytree(first, copy)
    os.utime(copy / "ratings.csv", (1_000_000, 1_000_000))
    changed = latest(tmp_path / "c", ratings_csv=RATINGS.replace("4.0", "4.5"))

    fingerprint = read_movielens_dir(first).fingerprint
    assert read_movielens_dir(first).fingerprint == fingerprint
    assert read_movielens_dir(copy).fingerprint == fingerprint
    assert read_movielens_dir(changed).fingerprint != fingerprint


def test_reading_reports_progress(tmp_path: Path) -> None:
    calls: list[tuple[float, str]] = []
    read_movielens_dir(latest(tmp_path), progress=lambda f, m: calls.append((f, m)))

    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("ratings.csv" in m for _, m in calls)


# --------------------------------------------------------------------------- validation

BAD_CASES = [
    # (file, content, line, fragment)
    ("ratings.csv", replace_line(RATINGS, 4, "2,2,5.0,964982224,7"), 4, "expected 4 fields, found 5"),
    ("ratings.csv", replace_line(RATINGS, 3, "1,3,0.5"), 3, "expected 4 fields, found 3"),
    ("movies.csv", replace_line(MOVIES, 3, '2,"Jumanji, (1995)",Adventure,x'), 3,
     "expected 3 fields, found 4"),
    ("ratings.csv", replace_line(RATINGS, 3, "1,abc,0.5,964981247"), 3,
     "movieId 'abc' is not an integer"),
    ("ratings.csv", replace_line(RATINGS, 5, ",4,3.5,964983815"), 5, "userId is empty"),
    ("ratings.csv", replace_line(RATINGS, 2, "1,1,abc,964982703"), 2, "rating 'abc' is not a number"),
    ("ratings.csv", replace_line(RATINGS, 2, "1,1,,964982703"), 2, "rating is empty"),
    ("ratings.csv", replace_line(RATINGS, 6, "3,1,5.5,964982931"), 6,
     "rating 5.5 is outside the rating scale 0.5-5"),
    ("ratings.csv", replace_line(RATINGS, 3, "1,3,0,964981247"), 3, "rating 0 is outside the rating scale"),
    ("ratings.csv", replace_line(RATINGS, 4, "2,2,5.0,12.5"), 4, "timestamp '12.5' is not an integer"),
    ("movies.csv", replace_line(MOVIES, 4, "2,Heat (1995),Action"), 4,
     "duplicate movieId 2 (first on line 3)"),
    ("movies.csv", replace_line(MOVIES, 2, "1,,Comedy"), 2, "title is empty"),
    ("movies.csv", replace_line(MOVIES, 3, "x2,Jumanji (1995),Adventure"), 3,
     "movieId 'x2' is not an integer"),
    ("ratings.csv", replace_line(RATINGS, 6, "3,999,2.0,964982931"), 6, "movieId 999 is not in movies.csv"),
    ("tags.csv", replace_line(TAGS, 3, "3,77,scary,1445714996"), 3, "movieId 77 is not in movies.csv"),
    ("tags.csv", replace_line(TAGS, 2, "2,1,funny,yesterday"), 2, "timestamp 'yesterday' is not an integer"),
    ("links.csv", replace_line(LINKS, 3, "2,0113497,x"), 3, "tmdbId 'x' is not an integer"),
    ("links.csv", replace_line(LINKS, 5, "40,0348150,12600"), 5, "movieId 40 is not in movies.csv"),
]


@pytest.mark.parametrize(("file", "content", "line", "fragment"), BAD_CASES,
                         ids=[f"{c[0]}:{c[3]}" for c in BAD_CASES])
def test_invalid_value_names_file_and_line(tmp_path: Path, file: str, content: str, line: int,
                                           fragment: str) -> None:
    folder = latest(tmp_path, **{file.replace(".", "_"): content})
    message = error_of(folder)

    assert f"{folder / file} line {line}:" in message
    assert fragment in message
    assert "more row" not in message


def test_error_counts_the_other_offending_rows(tmp_path: Path) -> None:
    ratings = replace_line(replace_line(replace_line(RATINGS, 3, "1,999,1.0,1"), 4, "2,998,1.0,1"),
                           6, "3,997,1.0,1")
    message = error_of(latest(tmp_path, ratings_csv=ratings))

    assert "ratings.csv line 3: movieId 999 is not in movies.csv (and 2 more rows)" in message


def test_missing_column_lists_the_columns_found(tmp_path: Path) -> None:
    movies = "movieId,title\n1,Toy Story (1995)\n"
    message = error_of(latest(tmp_path, movies_csv=movies))

    assert 'movies.csv: missing column "genres" (found: movieId, title)' in message


def test_missing_required_file(tmp_path: Path) -> None:
    message = error_of(latest(tmp_path, ratings_csv=None))

    assert str(tmp_path / "ratings.csv") in message and "not found" in message


def test_folder_without_movielens_files(tmp_path: Path) -> None:
    write_files(tmp_path, {"notes.txt": "hello"})

    assert "no MovieLens data found" in error_of(tmp_path)


@pytest.mark.parametrize(("file", "content", "fragment"), [
    ("movies.csv", "movieId,title,genres\n", "no data rows"),
    ("ratings.csv", "userId,movieId,rating,timestamp\n", "no data rows"),
    ("ratings.csv", "", "empty"),
    ("movies.csv", "", "empty"),
])
def test_empty_movies_or_ratings_file(tmp_path: Path, file: str, content: str, fragment: str) -> None:
    message = error_of(latest(tmp_path, **{file.replace(".", "_"): content}))

    assert str(tmp_path / file) in message and fragment in message


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    movies = MOVIES.encode().replace("Pokémon".encode(), b"Pok\xe9mon")  # latin-1 byte
    message = error_of(latest(tmp_path, movies_csv=movies))

    assert "movies.csv line 5:" in message and "UTF-8" in message


# --------------------------------------------------------------------------- other layouts

MOVIES_1M = ("1::Toy Story (1995)::Animation|Children's|Comedy\n"
             "2::Jumanji (1995)::Adventure|Children's|Fantasy\n"
             "3::Misérables, Les (1995)::Drama|Musical\n")
RATINGS_1M = "1::1::5::978300760\n1::3::3::978302109\n2::2::4::978301968\n"
GENRES_100K = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
               "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
               "Romance", "Sci-Fi", "Thriller", "War", "Western"]


def item_100k(movie_id: int, title: str, genres: set[str], flag: str = "1") -> str:
    flags = "|".join(flag if g in genres else "0" for g in GENRES_100K)
    return f"{movie_id}|{title}|01-Jan-1995||http://us.imdb.com/M/title-exact?x|{flags}\n"


ITEMS_100K = (item_100k(1, "Toy Story (1995)", {"Animation", "Children's", "Comedy"})
              + item_100k(2, "Café au lait (1993)", {"Comedy"})
              + item_100k(267, "unknown", {"unknown"}))
DATA_100K = "196\t1\t3\t881250949\n186\t2\t5\t891717742\n22\t267\t1\t878887116\n"


def test_ml_1m_layout_loads(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "ml-1m", {"movies.dat": MOVIES_1M, "ratings.dat": RATINGS_1M},
                         encoding="latin-1")
    raw = read_movielens_dir(folder)

    assert raw.name == "ml-1m"
    assert raw.movies["movie_id"].tolist() == [1, 2, 3]
    assert raw.movies["title"].iloc[2] == "Misérables, Les (1995)"
    assert raw.movies["genres"].tolist()[:2] == ["Animation|Children|Comedy", "Adventure|Children|Fantasy"]
    assert raw.ratings.dtypes.tolist() == [np.int64, np.int64, np.float32, np.int64]
    assert raw.ratings["rating"].tolist() == [5.0, 3.0, 4.0]
    assert raw.tags.empty and list(raw.tags.columns) == ["user_id", "movie_id", "tag", "timestamp"]
    assert raw.links is None


def test_ml_1m_rating_scale_is_one_to_five(tmp_path: Path) -> None:
    ratings = RATINGS_1M.replace("1::3::3::", "1::3::0.5::")
    folder = write_files(tmp_path, {"movies.dat": MOVIES_1M, "ratings.dat": ratings}, "latin-1")

    assert "ratings.dat line 2: Rating 0.5 is outside the rating scale 1-5" in error_of(folder)


def test_ml_1m_wrong_field_count_names_the_line(tmp_path: Path) -> None:
    ratings = RATINGS_1M.replace("1::3::3::978302109", "1::3::978302109")
    folder = write_files(tmp_path, {"movies.dat": MOVIES_1M, "ratings.dat": ratings}, "latin-1")

    message = error_of(folder)
    assert "ratings.dat line 2: expected 4 fields, found 3: '1::3::978302109'" in message


def test_ml_100k_layout_loads(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "ml-100k", {"u.item": ITEMS_100K, "u.data": DATA_100K},
                         encoding="latin-1")
    raw = read_movielens_dir(folder)

    assert raw.movies["movie_id"].tolist() == [1, 2, 267]
    assert raw.movies["title"].tolist()[:2] == ["Toy Story (1995)", "Café au lait (1993)"]
    assert raw.movies["genres"].tolist() == ["Animation|Children|Comedy", "Comedy",
                                             "(no genres listed)"]
    assert raw.ratings["user_id"].tolist() == [196, 186, 22]
    assert raw.ratings["rating"].dtype == np.float32
    assert raw.links is None and raw.tags.empty


def test_ml_100k_bad_genre_flag(tmp_path: Path) -> None:
    items = ITEMS_100K.replace(item_100k(2, "Café au lait (1993)", {"Comedy"}),
                               item_100k(2, "Café au lait (1993)", {"Comedy"}, flag="2"))
    folder = write_files(tmp_path, {"u.item": items, "u.data": DATA_100K}, "latin-1")

    message = error_of(folder)
    assert "u.item line 2:" in message and "'Comedy'" in message


def test_ml_100k_rating_for_unknown_movie(tmp_path: Path) -> None:
    data = DATA_100K + "5\t42\t4\t878887116\n"
    folder = write_files(tmp_path, {"u.item": ITEMS_100K, "u.data": data}, "latin-1")

    assert "u.data line 4: item id 42 is not in u.item" in error_of(folder)


# --------------------------------------------------------------------------- locating


def test_default_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_cache_dir() == tmp_path / "xdg" / "recsys"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "recsys"
    monkeypatch.setenv("RECSYS_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    assert not (tmp_path / "mine").exists()


def test_explicit_dir_wins_over_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "missing"))
    folder = latest(tmp_path / "explicit")

    assert resolve_data_dir(folder) == folder
    assert load_dataset(folder).name == "explicit"


def test_env_data_dir_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = latest(tmp_path / "ml-env")
    monkeypatch.setenv("RECSYS_DATA_DIR", str(folder))

    raw = load_dataset(cache_dir=tmp_path / "cache")
    assert raw.source_dir == folder and raw.name == "ml-env" and len(raw.movies) == 4
    assert not (tmp_path / "cache").exists()


def test_env_data_dir_missing_is_an_error_not_a_download(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path, server: Server) -> None:
    server.publish(DEFAULT_DATASET, build_zip(DEFAULT_DATASET, LATEST))
    monkeypatch.setenv("RECSYS_DATA_URL", server.base_url)
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "nowhere"))

    with pytest.raises(DataError) as info:
        load_dataset(cache_dir=tmp_path / "cache")
    assert "RECSYS_DATA_DIR" in str(info.value) and str(tmp_path / "nowhere") in str(info.value)
    assert "does not exist" in str(info.value)
    assert server.requests == []


def test_env_data_dir_without_movielens_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_files(tmp_path / "empty", {"x.txt": "x"})
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "empty"))

    with pytest.raises(DataError, match=r"RECSYS_DATA_DIR.*no MovieLens data found"):
        resolve_data_dir()


def test_cached_dataset_is_used_without_download(tmp_path: Path) -> None:
    cached = latest(tmp_path / "cache" / "ml-latest-small")

    assert resolve_data_dir(cache_dir=tmp_path / "cache", download=False) == cached
    raw = load_dataset(cache_dir=tmp_path / "cache", download=False)
    assert raw.name == "ml-latest-small" and raw.source_dir == cached


def test_no_cache_and_download_disabled(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError, match="RECSYS_DATA_DIR"):
        load_dataset(cache_dir=tmp_path / "cache", download=False)


def test_dataset_name_must_not_be_a_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a valid data set name"):
        resolve_data_dir(dataset="../etc", cache_dir=tmp_path / "cache")


# --------------------------------------------------------------------------- download


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:
        self.requests.append(self.path)


class Server:
    """A local static HTTP server standing in for files.grouplens.org."""

    def __init__(self, root: Path) -> None:
        self.root = root / "movielens"
        self.root.mkdir(parents=True)
        self.requests: list[str] = []
        handler = type("Handler", (_Handler,), {"requests": self.requests})
        self._httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/movielens"
        self.running = True

    def publish(self, dataset: str, data: bytes, md5: str | None = "match") -> None:
        (self.root / f"{dataset}.zip").write_bytes(data)
        if md5 is not None:
            digest = hashlib.md5(data).hexdigest() if md5 == "match" else md5
            (self.root / f"{dataset}.zip.md5").write_text(f"MD5 ({dataset}.zip) = {digest}\n")

    def stop(self) -> None:
        if self.running:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self.running = False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "www")
    yield srv
    srv.stop()


def build_zip(folder_name: str, files: dict[str, str], encoding: str = "utf-8",
              method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf:
        zf.writestr(f"{folder_name}/README.txt", "fixture\n")
        for name, content in files.items():
            zf.writestr(f"{folder_name}/{name}", content.encode(encoding))
    return buffer.getvalue()


def cache_entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


@pytest.fixture
def download_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, server: Server) -> Path:
    monkeypatch.setenv("RECSYS_DATA_URL", server.base_url)
    monkeypatch.setenv("RECSYS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_download_populates_cache_then_reuses_it(download_env: Path, server: Server,
                                                 tmp_path: Path) -> None:
    server.publish(DEFAULT_DATASET, build_zip(DEFAULT_DATASET, LATEST))
    calls: list[tuple[float, str]] = []

    raw = load_dataset(progress=lambda f, m: calls.append((f, m)))

    assert raw.name == DEFAULT_DATASET and len(raw.movies) == 4 and len(raw.ratings) == 5
    assert raw.source_dir == download_env / DEFAULT_DATASET
    assert (download_env / DEFAULT_DATASET / "ratings.csv").read_text() == RATINGS
    assert cache_entries(download_env) == [DEFAULT_DATASET]  # no temp leftovers
    assert f"/movielens/{DEFAULT_DATASET}.zip" in server.requests
    assert raw.fingerprint == read_movielens_dir(latest(tmp_path / "plain")).fingerprint
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] >= 0.0 and fractions[-1] == 1.0
    assert any(m.startswith(f"Downloading {DEFAULT_DATASET}.zip (") and m.endswith(" MB)")
               for _, m in calls)

    server.stop()
    again = load_dataset()
    assert again.fingerprint == raw.fingerprint
    assert again.source_dir == download_env / DEFAULT_DATASET
    pd.testing.assert_frame_equal(again.ratings, raw.ratings)


def test_download_without_published_md5_still_checks_the_zip(download_env: Path,
                                                             server: Server) -> None:
    server.publish(DEFAULT_DATASET, build_zip(DEFAULT_DATASET, LATEST), md5=None)

    assert len(load_dataset().movies) == 4
    assert f"/movielens/{DEFAULT_DATASET}.zip.md5" in server.requests


def test_incomplete_cache_folder_is_replaced_by_download(download_env: Path,
                                                         server: Server) -> None:
    write_files(download_env / DEFAULT_DATASET, {"movies.csv": MOVIES})
    server.publish(DEFAULT_DATASET, build_zip(DEFAULT_DATASET, LATEST))

    assert len(load_dataset().ratings) == 5
    assert cache_entries(download_env) == [DEFAULT_DATASET]


def test_md5_mismatch_leaves_no_dataset_in_cache(download_env: Path, server: Server) -> None:
    server.publish(DEFAULT_DATASET, build_zip(DEFAULT_DATASET, LATEST), md5="0" * 32)

    with pytest.raises(DataError, match="MD5") as info:
        load_dataset()
    assert not isinstance(info.value, DataUnavailableError)
    assert cache_entries(download_env) == []


def test_known_checksum_is_enforced_for_frozen_datasets(download_env: Path, server: Server) -> None:
    # ml-1m has a pinned checksum: a different zip is refused even if its .md5 agrees.
    files = {"movies.dat": MOVIES_1M, "ratings.dat": RATINGS_1M}
    server.publish("ml-1m", build_zip("ml-1m", files, encoding="latin-1"))

    with pytest.raises(DataError, match="known for ml-1m"):
        load_dataset(dataset="ml-1m")
    assert cache_entries(download_env) == []


def test_corrupt_zip_leaves_no_dataset_in_cache(download_env: Path, server: Server) -> None:
    data = build_zip(DEFAULT_DATASET, LATEST, method=zipfile.ZIP_STORED)
    corrupt = data.replace(b"964982703", b"964982704")  # CRC no longer matches
    assert corrupt != data
    server.publish(DEFAULT_DATASET, corrupt)  # .md5 matches the corrupt bytes

    with pytest.raises(DataError, match="corrupt"):
        load_dataset()
    assert cache_entries(download_env) == []


def test_non_zip_download_is_rejected(download_env: Path, server: Server) -> None:
    server.publish(DEFAULT_DATASET, b"<html>Service unavailable</html>")

    with pytest.raises(DataError, match="corrupt"):
        load_dataset()
    assert cache_entries(download_env) == []


def test_zip_with_invalid_data_is_not_cached(download_env: Path, server: Server) -> None:
    files = dict(LATEST, **{"ratings.csv": replace_line(RATINGS, 3, "1,999,1.0,1")})
    server.publish(DEFAULT_DATASET, build_zip(DEFAULT_DATASET, files))

    with pytest.raises(DataError, match=r"line 3: movieId 999 is not in movies\.csv"):
        load_dataset()
    assert cache_entries(download_env) == []


def test_refused_connection_is_data_unavailable(download_env: Path, server: Server,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("RECSYS_DATA_URL", f"http://127.0.0.1:{port}/movielens")

    with pytest.raises(DataUnavailableError) as info:
        load_dataset()
    message = str(info.value)
    assert "RECSYS_DATA_DIR" in message
    assert f"http://127.0.0.1:{port}/movielens/{DEFAULT_DATASET}.zip" in message
    assert "Traceback" not in message and "\n" not in message
    assert cache_entries(download_env) == []


def test_http_error_is_data_unavailable(download_env: Path, server: Server) -> None:
    with pytest.raises(DataUnavailableError, match="HTTP 404") as info:
        load_dataset(dataset="ml-nothing")
    assert "RECSYS_DATA_DIR" in str(info.value)
    assert cache_entries(download_env) == []


def test_credentials_in_data_url_are_not_echoed(download_env: Path, server: Server,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    secret_url = server.base_url.replace("http://", "http://user:s3cret@")
    monkeypatch.setenv("RECSYS_DATA_URL", secret_url)

    with pytest.raises(DataUnavailableError) as info:
        load_dataset(dataset="ml-nothing")
    assert "s3cret" not in str(info.value)


# --------------------------------------------------------------------------- integration


@pytest.mark.skipif(not _SHARED_DATA_DIR,
                    reason="set RECSYS_DATA_DIR to an ml-latest-small folder to run")
def test_shared_ml_latest_small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECSYS_DATA_DIR", _SHARED_DATA_DIR)

    first: RawData = load_dataset()
    second = load_dataset()

    assert len(first.movies) == 9742
    assert len(first.ratings) == 100836
    assert first.ratings["movie_id"].isin(first.movies["movie_id"]).all()
    assert first.fingerprint == second.fingerprint
