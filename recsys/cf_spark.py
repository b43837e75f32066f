"""Stage 4 on a cluster: the CF factors trained by Spark MLlib's ALS (``fit-cf --engine spark``).

:func:`fit_als_spark` trains the same model as :func:`recsys.cf.fit_als` — implicit ALS on
the confidences of :mod:`recsys.cf`::

    c_ui = 1 + κ · max(rating_ui − ρ, 0)        (κ = confidence_scale, ρ = rating_floor;
                                                  repeated (u, i) pairs add their c's up)

— with Spark MLlib instead of implicit, and writes the factors to the *same* file
(:func:`recsys.cf.cf_cache_path`, same key, same arrays), so the app and the CLI load
cluster-trained factors unchanged. The file records ``engine = "spark"`` plus the Spark
version, the master and the MLlib parameters (:attr:`recsys.cf.CFModel.engine_info`).

Mapping onto MLlib (``pyspark.ml.recommendation.ALS``, ``implicitPrefs=True``):

* Confidence. MLlib uses ``c = 1 + alpha·|r|`` and preference ``p = 1`` only when ``r > 0``
  (``r = 0`` is *no* interaction). The confidences are computed in Spark SQL with the
  formula above and handed to MLlib as ``r = max((c − 1)/κ, ε)`` with ``alpha = κ``, so
  MLlib's ``c`` equals ours (for one rating ``r = max(rating − ρ, 0)``); ``ε = 1e-6`` keeps
  weak ratings (``c = 1``, rating ≤ ρ) observed with ``p = 1`` as in implicit (their
  confidence becomes ``1 + κ·ε``). With ``κ = 0`` every ``c`` is 1: ``alpha = 1, r = ε``.
* ``rank = factors``, ``maxIter = iterations``, ``seed = seed``, ``nonnegative = False``.
* Regularisation. implicit adds ``λ·I`` to every least-squares solve; MLlib adds
  ``regParam · n·I`` where ``n`` is the number of interactions of the user (item) being
  solved (ALS-WR scaling). No single ``regParam`` is equal for every row; the default
  ``regParam = λ · U / N`` (``U`` users, ``N`` interactions) gives the *mean* user
  (``n_u = N/U``) exactly implicit's ``λ``; items, rated far less often than users rate,
  get less. On ml-latest-small (λ = 5) that is regParam ≈ 0.03, and it matched implicit's
  held-out Recall@10 best of those tried (0.01, 0.03, 0.05, 0.1, 0.29 = the
  equal-total-weight choice ``λ·(U+I)/(2N)``, 1.0). ``reg_param`` overrides it.
* Initialisation and solver differ (MLlib: exact Cholesky per row, its own random start;
  implicit: conjugate gradient), so factors are not identical — only equally good
  (``tests/test_cf_spark.py`` compares Recall@10 on held-out users).

Items nobody interacted with get zero factors, as in :func:`recsys.cf.fit_als`. Fold-in
of new users is implicit's exact least-squares step with ``λ`` whichever engine trained.

pyspark is imported lazily; without it or without Java, :class:`SparkUnavailableError`
says ``pip install pyspark and install Java 17 (apt-get install openjdk-17-jre-headless)``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from recsys.catalogue import Catalogue
from recsys.cf import ALSConfig, CFModel, cf_cache_path, implicit_engine_info, interactions, save_factors
from recsys.progress import Progress, report

INSTALL_HINT = "pip install pyspark and install Java 17 (apt-get install openjdk-17-jre-headless)"
#: Strength given to weak interactions (c = 1) so MLlib keeps them as observed (p = 1).
EPSILON = 1e-6
DEFAULT_MASTER = "local[2]"
ENGINES = ("implicit", "spark")

_MASTER = re.compile(
    r"^(local(\[(\*|\d+)(,\d+)?\])?"            # local, local[2], local[*], local[2,3]
    r"|local-cluster\[\d+,\d+,\d+\]"
    r"|spark://[\w.\-]+(:\d+)?(,[\w.\-]+(:\d+)?)*"  # standalone (HA: several masters)
    r"|yarn"
    r"|k8s://(https?://)?[\w.\-]+(:\d+)?"
    r"|mesos://[\w.\-]+(:\d+)?)$")


class SparkUnavailableError(RuntimeError):
    """pyspark or Java is missing, or Spark could not start or run (one-line message)."""


def check_master(master: str) -> str:
    """``master`` stripped, or :class:`ValueError` when it is not a Spark master URL
    (``local[N]``, ``spark://host:port``, ``yarn``, ``k8s://…``, ``mesos://…``)."""
    value = (master or "").strip()
    if not _MASTER.match(value):
        raise ValueError(f"bad Spark master {master!r}: expected local[N], spark://HOST:PORT, "
                         "yarn or k8s://URL")
    return value


def spark_missing() -> str | None:
    """Why Spark cannot run here (pyspark or Java missing), or ``None`` when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return f"pyspark is not installed: {INSTALL_HINT}"
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        if not (Path(java_home) / "bin" / "java").exists():
            return f"JAVA_HOME={java_home} has no bin/java: {INSTALL_HINT}"
    elif shutil.which("java") is None:
        return f"Java is not installed: {INSTALL_HINT}"
    return None


_QUIET_LOG4J = """\
rootLogger.level = off
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


def _quiet_log4j() -> str:
    """A log4j2 configuration file that silences the driver JVM's own logging."""
    import tempfile

    path = Path(tempfile.gettempdir()) / "firstreel-spark-log4j2.properties"
    if not path.exists() or path.read_text() != _QUIET_LOG4J:
        path.write_text(_QUIET_LOG4J)
    return str(path)


def start_spark(master: str = DEFAULT_MASTER, *, driver_memory: str = "1g",
                app_name: str = "firstreel-als", quiet: bool = True) -> Any:
    """A ``SparkSession`` on ``master`` (an existing one is reused by Spark).

    ``quiet`` silences the driver JVM's log (errors still reach the caller as exceptions);
    executors on a cluster log as the cluster is configured.

    Raises :class:`ValueError` for a malformed master and :class:`SparkUnavailableError`
    when pyspark or Java is missing or the JVM does not start.
    """
    master = check_master(master)
    missing = spark_missing()
    if missing:
        raise SparkUnavailableError(missing)
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.driver.memory", driver_memory)
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.ui.showConsoleProgress", "false")
               # ALS's lineage grows with every iteration; a deep stack serialises it
               .config("spark.driver.extraJavaOptions",
                       "-Xss16m" + (f" -Dlog4j2.configurationFile=file:{_quiet_log4j()}" if quiet else "")))
    if master.startswith("local"):
        builder = builder.config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - JVM start-up failures come in many types
        reason = _one_line(exc)
        hint = INSTALL_HINT if "JAVA_GATEWAY" in reason or "Java gateway" in reason else (
            "is the master reachable and does it have free cores?")
        raise SparkUnavailableError(f"Spark did not start on {master}: {reason}; {hint}") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def mllib_params(config: ALSConfig, n_users: int, n_interactions: int,
                 reg_param: float | None = None) -> dict[str, Any]:
    """MLlib ``ALS`` parameters equivalent to ``config`` (module docstring: the mapping)."""
    if reg_param is None:
        reg_param = config.regularization * n_users / max(n_interactions, 1)
    return {"rank": config.factors, "maxIter": config.iterations, "regParam": float(reg_param),
            "alpha": float(config.confidence_scale) if config.confidence_scale > 0 else 1.0,
            "implicitPrefs": True, "nonnegative": False, "seed": int(config.seed)}


def confidences_frame(spark: Any, catalogue: Catalogue, config: ALSConfig,
                      users: np.ndarray | None = None) -> tuple[Any, np.ndarray]:
    """``(DataFrame[user int, item int, c double, strength double], user ids of the rows)``.

    ``user`` is the row of :func:`recsys.cf.confidence_matrix` (sorted user ids), ``item``
    the catalogue index; ``c`` is the summed confidence and ``strength`` what MLlib is given.
    """
    from pyspark.sql import functions as F

    user_ids, rows, cols, values = interactions(catalogue, users)
    import pandas as pd

    frame = spark.createDataFrame(pd.DataFrame({
        "user": rows.astype(np.int32), "item": cols.astype(np.int32), "rating": values}))
    kappa, floor = float(config.confidence_scale), float(config.rating_floor)
    alpha = kappa if kappa > 0 else 1.0
    conf = (frame.withColumn("c1", F.lit(1.0) + F.lit(kappa) * F.greatest(F.col("rating") - F.lit(floor),
                                                                         F.lit(0.0)))
            .groupBy("user", "item").agg(F.sum("c1").alias("c"))
            .withColumn("strength", F.greatest((F.col("c") - F.lit(1.0)) / F.lit(alpha), F.lit(EPSILON))))
    return conf, user_ids


def fit_als_spark(catalogue: Catalogue, config: ALSConfig = ALSConfig(), *, cache_dir: Path | None = None,
                  master: str = DEFAULT_MASTER, users: np.ndarray | None = None, cache_tag: str = "",
                  reg_param: float | None = None, spark: Any = None, driver_memory: str = "1g",
                  checkpoint_dir: str | None = None, progress: Progress | None = None) -> CFModel:
    """Train ALS with Spark MLlib and write the factor file :func:`recsys.cf.fit_als` loads.

    Always trains (no cache read). ``users`` / ``cache_tag`` as in ``fit_als``. ``spark``
    reuses a running session (it is then left running); otherwise one is started on
    ``master`` and stopped afterwards. ``checkpoint_dir`` (on a cluster: a shared folder,
    e.g. ``hdfs:///tmp/als``) cuts ALS's lineage every 10 iterations; on a local master
    without one a temporary folder is used. Raises :class:`ValueError` (bad master) or
    :class:`SparkUnavailableError` (no pyspark / Java, Spark failed).
    """
    own = spark is None
    report(progress, 0.0, "Starting Spark")
    if own:
        spark = start_spark(master, driver_memory=driver_memory)
    try:
        import tempfile

        from pyspark.ml.recommendation import ALS

        sc = spark.sparkContext
        if checkpoint_dir:
            sc.setCheckpointDir(checkpoint_dir)
        elif sc.getCheckpointDir() is None and sc.master.startswith("local"):
            sc.setCheckpointDir(tempfile.mkdtemp(prefix="firstreel-als-"))

        report(progress, 0.1, "Fitting ALS on Spark")
        conf, user_ids = confidences_frame(spark, catalogue, config, users)
        conf = conf.cache()
        n_interactions = conf.count()
        if n_interactions == 0:
            raise ValueError("no interactions to train on")
        params = mllib_params(config, len(user_ids), n_interactions, reg_param)
        blocks = max(2, min(spark.sparkContext.defaultParallelism, 100))
        als = ALS(userCol="user", itemCol="item", ratingCol="strength", numUserBlocks=blocks,
                  numItemBlocks=blocks, checkpointInterval=10, **params)
        started = time.perf_counter()
        model = als.fit(conf)
        item_factors = _dense(model.itemFactors, len(catalogue), config.factors)
        user_factors = _dense(model.userFactors, len(user_ids), config.factors)
        seconds = time.perf_counter() - started
        conf.unpersist()
        info = {"engine": "spark", "spark_version": spark.version,
                "master": spark.sparkContext.master, "mllib": params, "epsilon": EPSILON,
                "blocks": blocks, "fit_seconds": round(seconds, 1),
                "regularization_mapping": "regParam = λ·users/interactions"
                                          if reg_param is None else "given",
                "fold_in": implicit_engine_info()}
    except (ValueError, SparkUnavailableError):
        raise
    except Exception as exc:  # noqa: BLE001 - Py4J / Spark errors of any type → one line
        raise SparkUnavailableError(f"Spark ALS failed: {_one_line(exc)}") from None
    finally:
        if own:
            spark.stop()
    cf = CFModel(item_factors, user_factors, user_ids, config, info)
    if cache_dir is not None:
        save_factors(cf_cache_path(Path(cache_dir), catalogue, config, cache_tag), cf)
    report(progress, 1.0, "ALS ready")
    return cf


def _dense(factors: Any, n_rows: int, rank: int) -> np.ndarray:
    """MLlib's ``(id, features)`` DataFrame → ``float32[n_rows, rank]`` (missing ids: zeros)."""
    frame = factors.toPandas()
    out = np.zeros((n_rows, rank), dtype=np.float32)
    if len(frame):
        out[frame["id"].to_numpy(dtype=np.int64)] = np.stack(frame["features"].to_numpy()).astype(np.float32)
    return out


def _one_line(exc: BaseException) -> str:
    """The first meaningful line of a (possibly Java) exception."""
    text = str(exc).strip() or type(exc).__name__
    for line in text.splitlines():
        line = line.strip().lstrip(": ").strip()
        if line and not line.startswith(("An error occurred while calling", "Traceback")):
            return line[:300]
    return text.splitlines()[0][:300]


# ---------------------------------------------------------------------------- CLI

def add_parser(sub: Any) -> None:
    """Register ``fit-cf`` on the CLI's sub-parsers."""
    fc = sub.add_parser("fit-cf", help="train the CF (ALS) factors the recommender loads: "
                                       "implicit on this machine or Spark MLlib on a cluster")
    fc.add_argument("--engine", choices=ENGINES, default="implicit",
                    help="implicit (default, this machine) or spark (Spark MLlib ALS)")
    fc.add_argument("--master", default=DEFAULT_MASTER,
                    help=f"Spark master: local[N], spark://HOST:PORT, yarn, k8s://URL ({DEFAULT_MASTER})")
    fc.add_argument("--reg-param", type=float, default=None,
                    help="MLlib regParam (default: mapped from the ALS regularisation)")
    fc.add_argument("--driver-memory", default="1g", help="Spark driver memory (1g)")
    fc.add_argument("--checkpoint-dir", default=None,
                    help="Spark checkpoint folder; on a cluster a shared one (hdfs://…)")


def run(args: argparse.Namespace) -> int:
    """``python -m recsys fit-cf``: train, write the factor file, print one summary line.

    Errors are one line on stderr: exit 2 for bad usage, 1 for data / Spark / Java problems.
    """
    from recsys.catalogue import build_catalogue
    from recsys.data import DataError, default_cache_dir, load_dataset
    from recsys.pipeline import PipelineConfig

    def fail(message: str, status: int) -> int:
        print(f"error: {message}", file=sys.stderr)
        return status

    if args.engine == "spark":
        try:
            check_master(args.master)
        except ValueError as exc:
            return fail(str(exc), 1)
        missing = spark_missing()
        if missing:
            return fail(missing, 1)
    if args.reg_param is not None and not args.reg_param > 0:
        return fail("--reg-param must be positive", 2)
    cache = default_cache_dir() if args.cache_dir is None else Path(args.cache_dir)
    try:
        catalogue = build_catalogue(load_dataset(args.data_dir, dataset=args.dataset, cache_dir=cache))
    except DataError as exc:
        return fail(" ".join(str(exc).split()), 1)
    config = PipelineConfig().als
    started = time.perf_counter()
    if args.engine == "spark":
        try:
            spark = start_spark(args.master, driver_memory=args.driver_memory, quiet=not args.verbose)
        except (ValueError, SparkUnavailableError) as exc:
            return fail(str(exc), 1)
        try:
            cf = fit_als_spark(catalogue, config, cache_dir=cache, spark=spark,
                               reg_param=args.reg_param, driver_memory=args.driver_memory,
                               checkpoint_dir=args.checkpoint_dir)
        except (ValueError, SparkUnavailableError) as exc:
            return fail(str(exc), 1)
        finally:
            spark.stop()
        where = f"Spark {cf.engine_info['spark_version']} on {cf.engine_info['master']}"
    else:
        from recsys.cf import fit_als

        cf = fit_als(catalogue, config, cache_dir=cache, rebuild=True)
        where = f"implicit {cf.engine_info.get('implicit_version', '')}".strip()
    path = cf_cache_path(cache, catalogue, config)
    print(f"ALS factors trained by {where}: {len(cf.user_ids)} users × {int(cf.has_factors.sum())} "
          f"items, {config.factors} factors, {config.iterations} iterations, "
          f"{time.perf_counter() - started:.0f} s → {path}")
    return 0
