"""``fit-cf --engine spark``: Spark MLlib ALS writes the factor file the recommender loads.

Spark tests are skipped (with the reason) when pyspark or Java is missing; the error
paths and the engine record of old files are tested everywhere.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from recsys import cli
from recsys.cf import ALSConfig, CFModel, Seed, cf_cache_path, confidence_matrix, fit_als
from recsys.cf_spark import (INSTALL_HINT, check_master, confidences_frame, fit_als_spark,
                             mllib_params, spark_missing, start_spark)
from recsys.cachefile import save_npz
from tests.conftest import CLUSTERS, requires_data, shared_data_dir

TINY = ALSConfig(factors=3, regularization=1.0, iterations=20)

requires_spark = pytest.mark.skipif(spark_missing() is not None,
                                    reason=f"Spark test: {spark_missing()}")


@pytest.fixture(scope="module")
def spark():
    """One local Spark session (2 cores, 1 GB driver) for the module."""
    session = start_spark("local[2]", driver_memory="1g")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_cache(spark, tiny_catalogue, tmp_path_factory) -> Path:
    """A cache folder holding only Spark-trained factors for the tiny dataset."""
    cache = tmp_path_factory.mktemp("spark-cf")
    fit_als_spark(tiny_catalogue, TINY, cache_dir=cache, spark=spark)
    return cache


# ------------------------------------------------------------------ no Spark needed

def test_old_factor_files_read_as_implicit(tiny_catalogue, tmp_path):
    trained = fit_als(tiny_catalogue, TINY)
    path = cf_cache_path(tmp_path, tiny_catalogue, TINY)
    save_npz(path, item_factors=trained.item_factors, user_factors=trained.user_factors,
             user_ids=trained.user_ids)                       # the format before the engine record
    loaded = fit_als(tiny_catalogue, TINY, cache_dir=tmp_path)
    assert loaded.engine == "implicit" and loaded.engine_info == {"engine": "implicit"}
    np.testing.assert_array_equal(loaded.item_factors, trained.item_factors)


def test_implicit_factors_record_their_engine(tiny_catalogue, tmp_path):
    fit_als(tiny_catalogue, TINY, cache_dir=tmp_path)
    loaded = fit_als(tiny_catalogue, TINY, cache_dir=tmp_path)
    assert loaded.engine == "implicit" and loaded.engine_info["implicit_version"]


def test_regularisation_mapping_gives_the_mean_user_lambda():
    params = mllib_params(ALSConfig(regularization=5.0, confidence_scale=2.0), 100, 4000)
    # MLlib regularises user u with regParam·n_u; the mean user (n = N/U = 40) gets λ = 5
    assert params["regParam"] * 4000 / 100 == pytest.approx(5.0)
    assert mllib_params(ALSConfig(), 100, 4000, reg_param=0.5)["regParam"] == 0.5
    assert params["alpha"] == 2.0 and params["implicitPrefs"] and params["rank"] == 32
    assert mllib_params(ALSConfig(confidence_scale=0.0), 1, 1)["alpha"] == 1.0


@pytest.mark.parametrize("master", ["local[2]", "local[*]", "local", "spark://head:7077", "yarn",
                                    "spark://a:7077,b:7077", "k8s://https://api:6443"])
def test_master_urls_accepted(master):
    assert check_master(master) == master


@pytest.mark.parametrize("argv, expected", [
    (["--master", "spark:/oops"], "bad Spark master"),
    (["--master", "local[two]"], "bad Spark master"),
])
def test_cli_bad_master_is_one_line(argv, expected, capsys, tiny_dir, tmp_path):
    status = cli.main(["--data", str(tiny_dir), "--cache-dir", str(tmp_path), "fit-cf",
                       "--engine", "spark", *argv])
    err = capsys.readouterr().err
    assert status == 1 and expected in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("als-*.npz"))


def test_cli_without_pyspark_says_what_to_install(monkeypatch, capsys, tiny_dir, tmp_path):
    monkeypatch.setitem(sys.modules, "pyspark", None)          # import pyspark → ImportError
    status = cli.main(["--data", str(tiny_dir), "--cache-dir", str(tmp_path), "fit-cf", "--engine", "spark"])
    err = capsys.readouterr().err
    assert status == 1 and INSTALL_HINT in err and len(err.strip().splitlines()) == 1


@requires_spark
def test_cli_without_java_says_what_to_install(monkeypatch, capsys, tiny_dir, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    status = cli.main(["--data", str(tiny_dir), "--cache-dir", str(tmp_path), "fit-cf", "--engine", "spark"])
    err = capsys.readouterr().err
    assert status == 1 and "Java" in err and INSTALL_HINT in err and len(err.strip().splitlines()) == 1


def test_cli_implicit_engine_writes_the_factor_file(capsys, tiny_dir, tmp_path):
    assert cli.main(["--data", str(tiny_dir), "--cache-dir", str(tmp_path), "fit-cf"]) == 0
    assert "implicit" in capsys.readouterr().out
    files = list(tmp_path.glob("als-*.npz"))
    assert len(files) == 1
    with np.load(files[0]) as stored:
        assert str(stored["engine"]) == "implicit"


# ------------------------------------------------------------------ Spark

@requires_spark
def test_spark_confidences_are_those_of_cf(spark, tiny_catalogue):
    conf, user_ids = confidences_frame(spark, tiny_catalogue, TINY)
    frame = conf.toPandas()
    matrix, expected_users = confidence_matrix(tiny_catalogue, TINY)
    np.testing.assert_array_equal(user_ids, expected_users)
    got = np.asarray(matrix[frame["user"].to_numpy(), frame["item"].to_numpy()]).ravel()
    assert len(frame) == matrix.nnz
    np.testing.assert_allclose(frame["c"].to_numpy(), got, rtol=1e-6)
    # what MLlib sees: 1 + alpha·strength = c (weak interactions: 1 + alpha·ε)
    mllib_c = 1 + TINY.confidence_scale * frame["strength"].to_numpy()
    np.testing.assert_allclose(mllib_c, np.maximum(got, 1 + TINY.confidence_scale * 1e-6), rtol=1e-6)


@requires_spark
def test_spark_factors_load_through_the_normal_loader(spark_cache, tiny_catalogue):
    cf = fit_als(tiny_catalogue, TINY, cache_dir=spark_cache)   # a cache hit: no refit
    assert cf.engine == "spark"
    info = cf.engine_info
    assert info["spark_version"] and info["master"] == "local[2]"
    assert info["mllib"]["rank"] == TINY.factors and info["mllib"]["maxIter"] == TINY.iterations
    assert cf.item_factors.shape == (len(tiny_catalogue), TINY.factors)
    assert np.isfinite(cf.item_factors).all() and cf.has_factors.sum() > 0.8 * len(tiny_catalogue)
    assert len(cf.user_ids) == tiny_catalogue.ratings["user_id"].nunique()
    stored = np.load(cf_cache_path(spark_cache, tiny_catalogue, TINY))
    assert json.loads(str(stored["engine_info"]))["engine"] == "spark"


@requires_spark
@pytest.mark.parametrize("cluster", sorted(CLUSTERS))
def test_spark_fold_in_recommends_the_named_cluster(spark_cache, tiny_catalogue, cluster):
    cf = fit_als(tiny_catalogue, TINY, cache_dir=spark_cache)
    items = CLUSTERS[cluster]
    seeds = [Seed(i, 6.0, "named") for i in tiny_catalogue.indices(items[:2])]
    scores = cf.scores(cf.fold_in(seeds)).copy()
    scores[[s.item for s in seeds]] = -np.inf
    top = {int(tiny_catalogue.movie_ids[i]) for i in np.argsort(-scores)[:4]}
    assert top <= set(items), f"{cluster}: {top}"


@requires_spark
def test_cold_start_request_on_spark_factors(spark_cache, tiny_recommender, tiny_catalogue):
    from recsys.pipeline import Recommender

    base = tiny_recommender
    cf = fit_als(tiny_catalogue, TINY, cache_dir=spark_cache)
    assert cf.engine == "spark"
    rec = Recommender(base.catalogue, base.encoder, base.index, cf, base.baseline, base.matcher,
                      config=base.config)
    result = rec.recommend("I loved The Matrix and Inception", weights=(0.0, 1.0, 0.0), k=4)
    top = {item.movie_id for item in result.items}
    assert len(top) == 4 and top <= set(CLUSTERS["scifi"]), top


# ------------------------------------------------------------------ quality on ml-latest-small

def _cf_recall(cf: CFModel, catalogue, histories, config: ALSConfig, k: int = 10) -> np.ndarray:
    """CF-only Recall@k of held-out users: their earlier liked items folded in with the
    training confidences, the catalogue ranked without their history."""
    from recsys.evaluation.metrics import recall_at

    out = []
    for h in histories:
        seeds = [Seed(catalogue.index_of[m], 1 + config.confidence_scale * max(r - config.rating_floor, 0),
                      "history") for m, r in zip(h.earlier, h.earlier_ratings)]
        scores = cf.scores(cf.fold_in(seeds)).copy()
        scores[[catalogue.index_of[m] for m in h.history]] = -np.inf
        out.append(recall_at(catalogue.movie_ids[np.argsort(-scores)[:k]].tolist(), set(h.targets), k))
    return np.asarray(out)


@requires_spark
@requires_data
def test_spark_quality_matches_implicit_on_held_out_users(spark, tmp_path):
    """Simulated-users split (recsys.evaluation.heldout): both engines train on the training
    users with the product's ALSConfig; Recall@10 intervals (1,000 user resamples) overlap."""
    from recsys.catalogue import build_catalogue
    from recsys.data import load_dataset
    from recsys.evaluation.heldout import split_users, user_histories
    from recsys.evaluation.stats import bootstrap_counts, mean_ci
    from recsys.pipeline import PipelineConfig

    catalogue = build_catalogue(load_dataset(shared_data_dir()))
    config = PipelineConfig().als
    split = split_users(catalogue.ratings["user_id"].unique())
    histories = user_histories(catalogue.ratings, split.held_out)
    implicit_cf = fit_als(catalogue, config, users=split.train)
    spark_cf = fit_als_spark(catalogue, config, users=split.train, spark=spark,
                             cache_dir=tmp_path, cache_tag="eval-train")
    assert fit_als(catalogue, config, cache_dir=tmp_path, users=split.train,
                   cache_tag="eval-train").engine == "spark"
    group_of, counts = bootstrap_counts([h.user_id for h in histories])
    results = {}
    for name, cf in (("implicit", implicit_cf), ("spark", spark_cf)):
        results[name] = mean_ci(_cf_recall(cf, catalogue, histories, config), group_of, counts)
        mean, (lo, hi) = results[name]
        print(f"CF-only recall@10 ({name}, {len(histories)} held-out users): {mean:.4f} [{lo:.3f}, {hi:.3f}]")
    (_, (lo_i, hi_i)), (spark_mean, (lo_s, hi_s)) = results["implicit"], results["spark"]
    assert lo_s <= hi_i and lo_i <= hi_s, results                  # intervals overlap
    assert spark_mean > 0.05                                        # random is ~0.001
