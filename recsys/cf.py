"""Stage 4 — CF adjustment ``s``: implicit ALS with a folded-in pseudo-history.

Training (once, cached on disk). Ratings become implicit-feedback confidences::

    c_ui = 1 + κ · max(rating_ui − ρ, 0)        (κ = confidence_scale, ρ = rating_floor)

and ALS (implicit 0.7.3, CPU) factorises them into user factors ``x_u`` and item factors
``y_i`` minimising ``Σ c_ui (p_ui − x_uᵀ y_i)² + λ(‖x‖² + ‖y‖²)`` with ``p_ui = 1`` for
observed pairs.

A new user has no row. Their pseudo-history ``H`` — each seed ``j`` with a confidence
``c_j`` (named titles strongly, top LLM candidates weighted by their ``r`` and the prior, liked
reactions) — is folded in without retraining by one exact least-squares step
(``implicit``'s ``recalculate_user``)::

    x_new = (YᵀY + λI + Σ_{j∈H} (c_j − 1) y_j y_jᵀ)⁻¹ · Σ_{j∈H} c_j y_j
    s_i   = y_iᵀ x_new

A negative ``c_j`` marks an item the user rejected: it enters the normal matrix with
weight ``|c_j|`` and preference 0. The score decomposes exactly over the seeds,
``s_i = Σ_j c_j · y_iᵀ W y_j`` with ``W`` the inverse above — the "because you mentioned
X" explanation (:meth:`CFModel.contributions`).

The factor file (:func:`cf_cache_path`) also records which engine trained it: ``engine``
(``"implicit"``, or ``"spark"`` for :mod:`recsys.cf_spark`) and ``engine_info`` (a JSON
object: versions, Spark master, parameter mapping). Files written before this field are
read as ``"implicit"``. Fold-in is the same whichever engine trained the factors.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.cachefile import load_npz, save_npz
from recsys.catalogue import Catalogue
from recsys.progress import Progress, report

logger = logging.getLogger(__name__)

CF_RECIPE = "als-confidence/v1"


@dataclass(frozen=True)
class ALSConfig:
    """ALS hyper-parameters and the rating → confidence recipe (module docstring)."""

    factors: int = 32
    regularization: float = 5.0
    iterations: int = 15
    confidence_scale: float = 2.0   #: κ
    rating_floor: float = 3.5       #: ρ: ratings at or below it count as weak (c = 1) interactions
    seed: int = 42


@dataclass(frozen=True)
class Seed:
    """One item of a pseudo-history: catalogue index, confidence ``c_j`` and why it is there."""

    item: int
    confidence: float
    reason: str


def interactions(catalogue: Catalogue, users: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(user_ids, rows, cols, ratings)`` of every rating: the sorted user ids, each rating's
    row (its user's position in ``user_ids``), column (catalogue index) and value.

    ``users`` restricts them to those user ids (e.g. the training split); ``None`` keeps
    every user. Shared by :func:`confidence_matrix` and :mod:`recsys.cf_spark`.
    """
    ratings = catalogue.ratings
    if users is not None:
        ratings = ratings[ratings["user_id"].isin(users)]
    user_ids, rows = np.unique(ratings["user_id"].to_numpy(), return_inverse=True)
    # every rated id is in the catalogue (validated when the data was read)
    cols = pd.Index(catalogue.movie_ids).get_indexer(ratings["movie_id"].to_numpy()).astype(np.int64)
    return user_ids, rows, cols, ratings["rating"].to_numpy(dtype=np.float64)


def confidence_matrix(catalogue: Catalogue, config: ALSConfig,
                      users: np.ndarray | None = None) -> tuple[sp.csr_matrix, np.ndarray]:
    """Users × items CSR of confidences ``c_ui`` and the user ids of its rows.

    ``users`` restricts the rows to those user ids (e.g. the training split); ``None``
    uses every user in the ratings.
    """
    user_ids, rows, cols, values = interactions(catalogue, users)
    conf = 1.0 + config.confidence_scale * np.maximum(values - config.rating_floor, 0.0)
    matrix = sp.csr_matrix((conf.astype(np.float32), (rows, cols)),
                           shape=(len(user_ids), len(catalogue)))
    matrix.sum_duplicates()
    return matrix, user_ids


class CFModel:
    """Trained ALS factors aligned with the catalogue, plus fold-in for new users.

    ``item_factors[i]`` belongs to catalogue item ``i`` (zero for items nobody rated).
    Arrays are read-only: sessions fold users in without touching shared state.
    """

    def __init__(self, item_factors: np.ndarray, user_factors: np.ndarray, user_ids: np.ndarray,
                 config: ALSConfig, engine_info: dict[str, Any] | None = None) -> None:
        self.config = config
        #: Which engine trained the factors: ``{"engine": "implicit" | "spark", ...}``.
        self.engine_info: dict[str, Any] = dict(engine_info or {"engine": "implicit"})
        self.engine_info.setdefault("engine", "implicit")
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        self.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.user_ids = np.asarray(user_ids, dtype=np.int64)
        self._row_of_user = {int(u): i for i, u in enumerate(self.user_ids)}
        model = _new_als(config)
        # implicit's Cython kernels need writable buffers: give the model private copies
        # (it only reads them) and keep the public arrays read-only.
        model.item_factors = self.item_factors.copy()
        model.user_factors = np.zeros((0, config.factors), dtype=np.float32)
        _ = model.YtY  # computed once here so fold-ins never write to the shared model
        self._model = model
        self.has_factors = np.any(self.item_factors != 0, axis=1)
        for array in (self.item_factors, self.user_factors, self.user_ids, self.has_factors):
            array.flags.writeable = False

    @property
    def engine(self) -> str:
        """``"implicit"`` or ``"spark"``: what trained the factors."""
        return str(self.engine_info["engine"])

    @property
    def n_items(self) -> int:
        """Number of catalogue items."""
        return self.item_factors.shape[0]

    def user_vector(self, user_id: int) -> np.ndarray | None:
        """The trained factors of a training user (``None`` if unknown)."""
        row = self._row_of_user.get(int(user_id))
        return None if row is None else self.user_factors[row]

    def seed_row(self, seeds: Sequence[Seed]) -> sp.csr_matrix:
        """The 1 × items CSR row of a pseudo-history (duplicates summed)."""
        items = np.array([s.item for s in seeds], dtype=np.int64)
        conf = np.array([s.confidence for s in seeds], dtype=np.float32)
        row = sp.csr_matrix((conf, (np.zeros(len(items), dtype=np.int64), items)),
                            shape=(1, self.n_items))
        row.sum_duplicates()
        return row

    def fold_in(self, seeds: Sequence[Seed]) -> np.ndarray:
        """``x_new`` for a pseudo-history (zeros when it is empty); see module docstring."""
        if not seeds:
            return np.zeros(self.item_factors.shape[1], dtype=np.float32)
        return np.asarray(self._model.recalculate_user(0, self.seed_row(seeds)), dtype=np.float32)

    def scores(self, user_vector: np.ndarray) -> np.ndarray:
        """``s_i = y_iᵀ x`` for every item."""
        return self.item_factors @ user_vector

    def contributions(self, seeds: Sequence[Seed], items: Sequence[int] | np.ndarray) -> np.ndarray:
        """``float[len(items), len(row seeds)]``: ``c_j · y_iᵀ W y_j`` (sums to ``s_i``).

        Columns follow the seeds' order after merging duplicates (see :meth:`merged`).
        """
        merged = self.merged(seeds)
        if not merged or not len(items):
            return np.zeros((len(items), len(merged)), dtype=np.float32)
        Y = self.item_factors        # rows are taken as float64 below, never the whole matrix
        seed_items = np.array([s.item for s in merged])
        conf = np.array([s.confidence for s in merged], dtype=np.float64)
        magnitude = np.abs(conf)
        A = self._model.YtY.astype(np.float64) + self.config.regularization * np.eye(Y.shape[1])
        Ys = Y[seed_items].astype(np.float64)
        A += (Ys * (magnitude - 1)[:, None]).T @ Ys
        weighted = np.linalg.solve(A, (Ys * np.where(conf > 0, conf, 0.0)[:, None]).T)
        return (Y[np.asarray(items)].astype(np.float64) @ weighted).astype(np.float32)

    @staticmethod
    def merged(seeds: Sequence[Seed]) -> list[Seed]:
        """Seeds with the same item merged (confidences added, the first reason kept)."""
        out: dict[int, Seed] = {}
        for s in seeds:
            if s.item in out:
                prev = out[s.item]
                out[s.item] = Seed(s.item, prev.confidence + s.confidence, prev.reason)
            else:
                out[s.item] = s
        return list(out.values())


def _new_als(config: ALSConfig) -> Any:
    """An implicit CPU ALS model; OpenBLAS is held to one thread while implicit checks it
    (its own threads do the work; a BLAS thread pool on top makes it ~10× slower)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        return AlternatingLeastSquares(factors=config.factors, regularization=config.regularization,
                                       iterations=config.iterations, alpha=1.0, num_threads=1,
                                       random_state=config.seed)


def cf_cache_path(cache_dir: Path, catalogue: Catalogue, config: ALSConfig, tag: str = "") -> Path:
    """Where the factors for this catalogue and config are cached."""
    payload = json.dumps([catalogue.fingerprint, asdict(config), CF_RECIPE, tag])
    key = hashlib.sha1(payload.encode()).hexdigest()[:20]
    return cache_dir / f"als-{catalogue.name}-{key}.npz"


def implicit_engine_info() -> dict[str, Any]:
    """``engine_info`` of factors trained here by implicit."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        implicit_version = version("implicit")
    except PackageNotFoundError:  # pragma: no cover - implicit is a hard requirement
        implicit_version = "unknown"
    return {"engine": "implicit", "implicit_version": implicit_version}


def save_factors(path: Path, cf: CFModel) -> bool:
    """Write ``cf``'s factors and engine record to ``path`` (the format :func:`fit_als` loads)."""
    return save_npz(path, item_factors=cf.item_factors, user_factors=cf.user_factors,
                    user_ids=cf.user_ids, engine=np.array(cf.engine),
                    engine_info=np.array(json.dumps(cf.engine_info, sort_keys=True)))


def _engine_info(stored: dict[str, np.ndarray]) -> dict[str, Any]:
    """The engine record of a loaded factor file (``implicit`` for files without one)."""
    info: dict[str, Any] = {}
    if "engine_info" in stored:
        try:
            parsed = json.loads(str(stored["engine_info"]))
            info = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            logger.warning("ALS cache has an unreadable engine record; assuming implicit")
    if "engine" in stored:
        info["engine"] = str(stored["engine"])
    info.setdefault("engine", "implicit")
    return info


def fit_als(catalogue: Catalogue, config: ALSConfig = ALSConfig(), *, cache_dir: Path | None = None,
            users: np.ndarray | None = None, cache_tag: str = "", rebuild: bool = False,
            progress: Progress | None = None) -> CFModel:
    """Fit ALS on the ratings (or load the cached factors).

    ``users`` restricts training to those user ids (evaluation splits); give a distinct
    ``cache_tag`` for such a split. A cached file that is damaged or does not match the
    catalogue and config is refitted (with a warning) and rewritten atomically.
    """
    path = cf_cache_path(cache_dir, catalogue, config, cache_tag) if cache_dir else None
    if path is not None and not rebuild:
        stored = load_npz(path, {"item_factors": (len(catalogue), config.factors),
                                 "user_factors": (None, config.factors), "user_ids": (None,)},
                          what="ALS cache", optional={"engine": (), "engine_info": ()})
        if stored is not None and len(stored["user_ids"]) == len(stored["user_factors"]):
            return CFModel(stored["item_factors"], stored["user_factors"], stored["user_ids"], config,
                           _engine_info(stored))
        if stored is not None:
            logger.warning("ALS cache %s has mismatched user arrays; refitting", path.name)

    from threadpoolctl import threadpool_limits

    report(progress, 0.0, "Fitting ALS")
    matrix, user_ids = confidence_matrix(catalogue, config, users)
    model = _new_als(config)

    def callback(iteration: int, _elapsed: float, _loss: float) -> None:
        report(progress, (iteration + 1) / config.iterations,
               f"Fitting ALS: iteration {iteration + 1}/{config.iterations}")

    with threadpool_limits(1, "blas"):
        model.fit(matrix, show_progress=False, callback=callback)
    item_factors = np.asarray(model.item_factors, dtype=np.float32).copy()
    item_factors[np.asarray(matrix.getnnz(axis=0)) == 0] = 0.0
    cf = CFModel(item_factors, np.asarray(model.user_factors, dtype=np.float32), user_ids, config,
                 implicit_engine_info())
    if path is not None:
        save_factors(path, cf)
    report(progress, 1.0, "ALS ready")
    return cf
