"""Shared fixtures.

* ``tiny_dir`` / ``tiny_catalogue`` — a small deterministic MovieLens-layout dataset
  written by the tests (three taste clusters: sci-fi, comedy/romance, kids animation), for
  unit tests that must not depend on downloads or shared data.
* ``tiny_recommender`` — the full pipeline on that dataset (real MiniLM encoder).
* ``recommender`` — the full pipeline on ml-latest-small; skipped unless
  ``RECSYS_DATA_DIR`` points at it.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

# No test downloads ReDial: a first start without RECSYS_TRAIN_REQUESTS would (recsys.redial_fetch);
# this closed local port makes it "offline". Tests of the download start a fake server of their own.
os.environ.setdefault("RECSYS_REDIAL_URL", "http://127.0.0.1:9/redial_dataset.zip")

TINY_MOVIES = [
    # movieId, title, genres, tags
    (1, "Matrix, The (1999)", "Action|Sci-Fi|Thriller", ["cyberpunk", "virtual reality"]),
    (2, "Matrix Reloaded, The (2003)", "Action|Adventure|Sci-Fi|Thriller", ["sequel"]),
    (3, "Inception (2010)", "Action|Crime|Drama|Mystery|Sci-Fi|Thriller|IMAX", ["mind-bending", "dreams"]),
    (4, "Interstellar (2014)", "Sci-Fi|IMAX", ["space", "time travel"]),
    (5, "Alien (1979)", "Horror|Sci-Fi", ["space", "creepy"]),
    (6, "Aliens (1986)", "Action|Adventure|Horror|Sci-Fi", ["space"]),
    (7, "Blade Runner (1982)", "Action|Sci-Fi|Thriller", ["cyberpunk", "dystopia"]),
    (8, "Gattaca (1997)", "Drama|Sci-Fi|Thriller", ["genetics", "dystopia"]),
    (9, "Contact (1997)", "Drama|Sci-Fi", ["space", "aliens"]),
    (10, "Twelve Monkeys (a.k.a. 12 Monkeys) (1995)", "Mystery|Sci-Fi|Thriller", ["time travel"]),
    (11, "Toy Story (1995)", "Adventure|Animation|Children|Comedy|Fantasy", ["pixar", "toys"]),
    (12, "Toy Story 2 (1999)", "Adventure|Animation|Children|Comedy|Fantasy", ["pixar", "toys"]),
    (13, "Finding Nemo (2003)", "Adventure|Animation|Children|Comedy", ["pixar", "ocean"]),
    (14, "Monsters, Inc. (2001)", "Adventure|Animation|Children|Comedy|Fantasy", ["pixar"]),
    (15, "Shrek (2001)", "Adventure|Animation|Children|Comedy|Fantasy|Romance", ["fairy tale"]),
    (16, "Lion King, The (1994)", "Adventure|Animation|Children|Drama|Musical", ["disney"]),
    (17, "Notting Hill (1999)", "Comedy|Romance", ["romantic comedy", "london"]),
    (18, "When Harry Met Sally... (1989)", "Comedy|Romance", ["romantic comedy"]),
    (19, "Pretty Woman (1990)", "Comedy|Romance", ["romantic comedy"]),
    (20, "Groundhog Day (1993)", "Comedy|Fantasy|Romance", ["time loop"]),
    (21, "Hangover, The (2009)", "Comedy|Crime", ["funny"]),
    (22, "Superbad (2007)", "Comedy", ["high school", "funny"]),
    (23, "Shining, The (1980)", "Horror", ["stephen king", "creepy"]),
    (24, "Exorcist, The (1973)", "Horror|Mystery", ["demons"]),
    (25, "Scream (1996)", "Comedy|Horror|Mystery|Thriller", ["slasher"]),
    (26, "Heat (1995)", "Action|Crime|Thriller", ["heist"]),
    (27, "Godfather, The (1972)", "Crime|Drama", ["mafia"]),
    (28, "Unforgiven (1992)", "Drama|Western", ["western"]),
    (29, "Up (2009)", "Adventure|Animation|Children|Drama", ["pixar", "balloons"]),
    (30, "Her (2013)", "Drama|Romance|Sci-Fi", ["artificial intelligence"]),
]

CLUSTERS = {
    "scifi": [1, 2, 3, 4, 7, 8, 9, 10],
    "kids": [11, 12, 13, 14, 15, 16, 29],
    "romcom": [17, 18, 19, 20, 21, 22],
}


def write_tiny_dataset(folder: Path, *, users_per_cluster: int = 12, seed: int = 7) -> Path:
    """Write movies/ratings/tags/links CSVs of a small dataset with three taste clusters."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    with (folder / "movies.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "title", "genres"])
        for movie_id, title, genres, _ in TINY_MOVIES:
            w.writerow([movie_id, title, genres])
    with (folder / "tags.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "tag", "timestamp"])
        for movie_id, _, _, tags in TINY_MOVIES:
            for tag in tags:
                w.writerow([1, movie_id, tag, 1_500_000_000])
    with (folder / "links.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["movieId", "imdbId", "tmdbId"])
        for movie_id, *_ in TINY_MOVIES:
            w.writerow([movie_id, f"{movie_id:07d}", movie_id * 10])
    all_ids = [m[0] for m in TINY_MOVIES]
    user = 0
    with (folder / "ratings.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        for items in CLUSTERS.values():
            for _ in range(users_per_cluster):
                user += 1
                liked = rng.choice(items, size=len(items) - 1, replace=False)
                other = rng.choice([m for m in all_ids if m not in items], size=2, replace=False)
                t = 1_000_000_000 + user * 1000
                for n, m in enumerate(liked):
                    w.writerow([user, int(m), rng.choice([4.0, 4.5, 5.0]), t + n])
                for n, m in enumerate(other):
                    w.writerow([user, int(m), rng.choice([1.0, 2.0]), t + 100 + n])
    return folder


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small MovieLens-layout dataset folder."""
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny") / "ml-tiny")


@pytest.fixture(scope="session")
def tiny_catalogue(tiny_dir: Path):
    """The tiny dataset as a :class:`recsys.catalogue.Catalogue`."""
    from recsys.catalogue import build_catalogue
    from recsys.data import load_dataset

    return build_catalogue(load_dataset(tiny_dir))


@pytest.fixture(scope="session")
def encoder():
    """The real (offline) MiniLM encoder, loaded once per test session."""
    from recsys.embed import TextEncoder

    return TextEncoder()


@pytest.fixture(scope="session")
def tiny_recommender(tiny_dir: Path, encoder, tmp_path_factory: pytest.TempPathFactory):
    """The whole pipeline on the tiny dataset, caches in a temporary folder."""
    from recsys.catalogue import build_catalogue
    from recsys.cf import ALSConfig, fit_als
    from recsys.data import load_dataset
    from recsys.embed import load_item_index
    from recsys.pipeline import PipelineConfig, Recommender, pipeline_prior
    from recsys.titles import TitleMatcher

    cache = tmp_path_factory.mktemp("tiny-cache")
    catalogue = build_catalogue(load_dataset(tiny_dir))
    config = PipelineConfig(als=ALSConfig(factors=3, regularization=1.0, iterations=20))
    index = load_item_index(catalogue, encoder, cache)
    cf = fit_als(catalogue, config.als, cache_dir=cache)
    matcher = TitleMatcher(catalogue.movie_ids.tolist(), list(catalogue.titles),
                           catalogue.n_ratings.tolist())
    return Recommender(catalogue, encoder, index, cf, pipeline_prior(catalogue, config), matcher,
                       config=config)


def shared_data_dir() -> Path | None:
    """``$RECSYS_DATA_DIR`` when it points at a MovieLens folder."""
    value = os.environ.get("RECSYS_DATA_DIR")
    if value and (Path(value) / "movies.csv").exists():
        return Path(value)
    return None


requires_data = pytest.mark.skipif(
    shared_data_dir() is None,
    reason="integration test: set RECSYS_DATA_DIR to an ml-latest-small folder to run it")


@pytest.fixture(scope="session")
def recommender():
    """The full pipeline on ml-latest-small (builds caches on first use)."""
    if shared_data_dir() is None:
        pytest.skip("integration test: set RECSYS_DATA_DIR to an ml-latest-small folder to run it")
    from recsys.pipeline import Recommender

    return Recommender.load()
