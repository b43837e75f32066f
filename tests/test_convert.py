"""``python -m recsys convert``: MovieLens written as a generic catalogue recommends the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys import cli
from recsys.catalogue import Catalogue, build_catalogue
from recsys.cf import ALSConfig, cf_cache_path, confidence_matrix, fit_als
from recsys.convert import convert_dataset, split_title
from recsys.data import DataError, load_dataset
from recsys.embed import index_key, load_item_index
from recsys.pipeline import PipelineConfig, Recommender, pipeline_prior
from recsys.text import item_texts
from recsys.titles import TitleMatcher
from tests.conftest import requires_data, shared_data_dir

TINY_REQUESTS = [
    "space sci-fi like Interstellar, no horror",
    "funny romantic comedy from the 90s",
    "a pixar movie for the kids like Toy Story",
    "something creepy",
]


def build_recommender(catalogue: Catalogue, encoder, cache: Path, config: PipelineConfig) -> Recommender:
    """The pipeline exactly as the ``tiny_recommender`` fixture builds it."""
    index = load_item_index(catalogue, encoder, cache)
    cf = fit_als(catalogue, config.als, cache_dir=cache)
    matcher = TitleMatcher(catalogue.movie_ids.tolist(), list(catalogue.titles),
                           catalogue.n_ratings.tolist())
    return Recommender(catalogue, encoder, index, cf, pipeline_prior(catalogue, config), matcher,
                       config=config)


def top10(rec: Recommender, text: str) -> list[tuple[int, float]]:
    result = rec.recommend(text, k=10, parser=rec.builtin_parser, use_adapter=False)
    return [(item.movie_id, item.score) for item in result.items]


def assert_same_pipeline_input(a: Catalogue, b: Catalogue) -> None:
    """Identical item texts, ALS input and title-index input; different cache identity."""
    assert item_texts(a) == item_texts(b)
    assert a.movie_ids.tolist() == b.movie_ids.tolist()
    assert a.titles == b.titles and a.display_titles == b.display_titles
    assert a.years.tolist() == b.years.tolist() and a.genres == b.genres and a.tags == b.tags
    assert a.n_ratings.tolist() == b.n_ratings.tolist()
    assert np.array_equal(a.mean_rating, b.mean_rating)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    ma, ua = confidence_matrix(a, ALSConfig())
    mb, ub = confidence_matrix(b, ALSConfig())
    assert np.array_equal(ua, ub) and (ma != mb).nnz == 0
    assert a.domain == "movies" and b.domain == "items"
    assert a.fingerprint != b.fingerprint
    assert index_key(a, "m") != index_key(b, "m")
    assert cf_cache_path(Path("c"), a, ALSConfig()) != cf_cache_path(Path("c"), b, ALSConfig())


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_converted_tiny_dataset_recommends_the_same(tiny_dir: Path, tiny_recommender, encoder,
                                                    tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"tiny-{fmt}"
    written = convert_dataset(load_dataset(tiny_dir), out, fmt=fmt)  # type: ignore[arg-type]
    assert sorted(p.name for p in out.iterdir()) == [f"interactions.{fmt}", f"items.{fmt}"]
    assert written.n_items == 30 and written.n_interactions == len(tiny_recommender.catalogue.ratings)

    converted = build_catalogue(load_dataset(out))
    assert_same_pipeline_input(tiny_recommender.catalogue, converted)
    rec = build_recommender(converted, encoder, tmp_path / "cache", tiny_recommender.config)

    assert np.array_equal(rec.index.embeddings, tiny_recommender.index.embeddings)
    assert np.array_equal(rec.cf.item_factors, tiny_recommender.cf.item_factors)
    for text in TINY_REQUESTS:
        assert top10(rec, text) == top10(tiny_recommender, text), text


def test_split_title_round_trips_through_the_reader() -> None:
    assert split_title("Matrix, The (1999)") == ("Matrix, The", 1999)
    assert split_title("Twelve Monkeys (a.k.a. 12 Monkeys) (1995)") == \
        ("Twelve Monkeys (a.k.a. 12 Monkeys)", 1995)
    assert split_title(" Babylon 5 ") == ("Babylon 5", None)
    # a range or a second year stays in the title (the reader takes the year from there)
    assert split_title("Fawlty Towers (1975-1979)") == ("Fawlty Towers (1975-1979)", None)
    assert split_title("Sequel (1990) (2001)") == ("Sequel (1990) (2001)", None)


def test_converted_files_are_the_documented_layout(tiny_dir: Path, tmp_path: Path) -> None:
    convert_dataset(load_dataset(tiny_dir), tmp_path / "out")
    items = pd.read_csv(tmp_path / "out" / "items.csv", keep_default_na=False)
    interactions = pd.read_csv(tmp_path / "out" / "interactions.csv")

    assert list(items.columns) == ["item_id", "title", "year", "categories", "tags"]
    assert items.iloc[0].tolist() == [1, "Matrix, The", 1999, "Action|Sci-Fi|Thriller",
                                      "cyberpunk|virtual reality"]
    assert list(interactions.columns) == ["user_id", "item_id", "rating", "timestamp"]


def test_convert_refuses_a_folder_that_is_not_empty(tiny_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")

    with pytest.raises(DataError, match="is not an empty folder"):
        convert_dataset(load_dataset(tiny_dir), tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


def test_cli_convert(tiny_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    status = cli.main(["--data", str(tiny_dir), "convert", "--out", str(out), "--format", "parquet"])
    captured = capsys.readouterr()

    assert status == 0, captured.err
    assert f"wrote 30 items to {out / 'items.parquet'}" in captured.out
    assert build_catalogue(load_dataset(out)).titles[0] == "Matrix, The (1999)"


@requires_data
def test_converted_ml_latest_small_recommends_the_same(recommender, tmp_path: Path) -> None:
    """ml-latest-small and its conversion: same pipeline input, same top 10 for 3 requests.

    Embedding 9,742 item texts again would take minutes, so the converted recommender uses
    the original's item index once the texts are shown identical (and a sample of them
    re-encodes to the cached rows); ALS is refitted on the converted data.
    """
    data_dir = shared_data_dir()
    assert data_dir is not None
    out = tmp_path / "ml-converted"
    convert_dataset(load_dataset(data_dir), out)
    original = recommender.catalogue
    converted = build_catalogue(load_dataset(out))
    assert_same_pipeline_input(original, converted)
    texts = item_texts(converted)
    sample = np.random.default_rng(0).choice(len(converted), 16, replace=False)
    fresh = recommender.encoder.encode([texts[i] for i in sample])
    assert np.allclose(fresh, recommender.index.embeddings[sample], atol=1e-4)

    cf = fit_als(converted, recommender.config.als, cache_dir=tmp_path / "cache")
    assert np.array_equal(cf.item_factors, recommender.cf.item_factors)
    matcher = TitleMatcher(converted.movie_ids.tolist(), list(converted.titles),
                           converted.n_ratings.tolist())
    # the same movie knowledge (keyed by movieId) and the same adapter (same item rows)
    from recsys.knowledge import KnowledgeIndex
    from recsys.pipeline import load_movie_knowledge

    knowledge = KnowledgeIndex.build(load_movie_knowledge(converted), converted)
    prior = pipeline_prior(converted, recommender.config, knowledge.knowledge.votes)
    rec = Recommender(converted, recommender.encoder, recommender.index, cf, prior,
                      matcher, config=recommender.config, knowledge=knowledge)
    rec.adapter = recommender.adapter
    for text in ["mind-bending sci-fi like Inception, nothing gory",
                 "a heist movie, no romance",
                 "90s romantic comedies like Notting Hill"]:
        assert top10(rec, text) == top10(recommender, text), text
