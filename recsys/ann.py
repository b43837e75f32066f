"""Approximate nearest-neighbour search for large catalogues (FAISS, inverted file).

Chosen by measurement (``bench/ann.py``, ``assets/results/ann.json``; 200k synthetic
clustered vectors, k = 200, 2 busy cores): an inverted-file index with float16 vectors (FAISS
``IVF<nlist>,SQfp16``, inner product on unit vectors = cosine) built in 34 s and reached
recall@200 0.957 at 0.4 ms per query (nprobe 64); usearch's HNSW (M 16, float16) took 443 s
to build and reached 0.948 at 14 ms (expansion 512). The inverted file also needs no graph in
memory, and its recall is tuned with one number.

* ``nlist = 4·√n`` lists, trained on a sample of ``50·nlist`` items (k-means).
* ``nprobe`` — how many lists a query scans — is calibrated at build time: the smallest of
  16, 32, …, 1024 whose recall@200 against exact search reaches :data:`TARGET_RECALL` on
  :data:`CALIBRATION_QUERIES` queries made of two items and noise
  (:func:`calibration_queries`), then doubled (:data:`PROBE_MARGIN`): typed requests lie
  farther from every item than such queries. Measured on the million-item benchmark
  (``bench/ann_nprobe.py`` on ``bench/scale.py``'s catalogue, its typed requests as queries):
  recall@200 0.909 at nprobe 64, 0.952 at 128, 0.993 at 256, while calibration queries
  reach 0.980 at 64 and 1.000 at 128. A query scans ``nprobe/nlist`` of the items. The
  choice and its recall are stored with the index.

Files: ``<stem>.faiss`` (the index) and ``<stem>.json`` (``{"n", "dim", "nlist", "nprobe",
"recall", "sha1"}``); the index is verified against its SHA-1 before it is read, so a damaged
file is rebuilt with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recsys.cachefile import atomic_write
from recsys.progress import Progress, report

logger = logging.getLogger(__name__)

TARGET_RECALL = 0.99
#: nprobe is this many times the calibrated one (module docstring).
PROBE_MARGIN = 2
CALIBRATION_QUERIES = 200
CALIBRATION_K = 200
_PROBES = (16, 32, 64, 128, 256, 512, 1024)
_FORMAT = "ann/1"


@dataclass(eq=False)
class AnnIndex:
    """A loaded index: :meth:`search` returns item indices, nearest first."""

    index: Any
    nprobe: int
    recall: float        #: recall@200 measured at build time (module docstring)
    nlist: int

    def search(self, vector: np.ndarray, k: int) -> np.ndarray:
        """Indices of (about) the ``k`` items with the highest ``⟨v, e_i⟩``, best first."""
        return self.search_scores(vector, k)[0]

    def search_scores(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` and the inner products (float16 vectors, float32 arithmetic)."""
        query = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        scores, ids = self.index.search(query, int(k))
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)


def _faiss() -> Any:
    import faiss

    return faiss


def _sha1(path: Path) -> str:
    sha = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            sha.update(block)
    return sha.hexdigest()


def _paths(stem: Path) -> tuple[Path, Path]:
    return stem.with_suffix(".faiss"), stem.with_suffix(".json")


def load(stem: Path, n: int, dim: int) -> AnnIndex | None:
    """The stored index for ``n`` × ``dim`` vectors, or ``None`` (a warning when damaged)."""
    index_path, state_path = _paths(stem)
    if not index_path.exists() or not state_path.exists():
        return None
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if state.get("format") != _FORMAT or (state.get("n"), state.get("dim")) != (n, dim):
            reason = "built for other vectors"
        elif _sha1(index_path) != state.get("sha1"):
            reason = "checksum mismatch"
        else:
            faiss = _faiss()
            index = faiss.read_index(str(index_path))
            if index.ntotal != n or index.d != dim:
                reason = f"holds {index.ntotal} × {index.d}"
            else:
                index.nprobe = int(state["nprobe"])
                return AnnIndex(index, int(state["nprobe"]), float(state["recall"]),
                                int(state["nlist"]))
    except Exception as exc:  # noqa: BLE001 - any damage is a cache miss
        reason = f"{type(exc).__name__}"
    logger.warning("The nearest-neighbour index %s is damaged or stale (%s); rebuilding it",
                   index_path.name, reason)
    return None


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int, block: int = 65536) -> np.ndarray:
    """``int64[len(queries), k]``: exact top-``k`` by inner product, over ``vectors`` in blocks
    (works on a float16 memory map without loading it whole)."""
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    best = np.zeros((len(queries), 0), dtype=np.float32)
    for start in range(0, len(vectors), block):
        scores = queries @ np.asarray(vectors[start:start + block], dtype=np.float32).T
        ids = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        merged = np.concatenate([best, scores], axis=1)
        merged_ids = np.concatenate([best_ids, ids], axis=1)
        keep = np.argpartition(-merged, min(k, merged.shape[1]) - 1, axis=1)[:, :k]
        best = np.take_along_axis(merged, keep, axis=1)
        best_ids = np.take_along_axis(merged_ids, keep, axis=1)
    order = np.argsort(-best, axis=1, kind="stable")
    return np.take_along_axis(best_ids, order, axis=1)


def recall_at(found: list[np.ndarray] | np.ndarray, exact: np.ndarray) -> float:
    """Mean share of each exact top list that the approximate list also holds."""
    return float(np.mean([len(np.intersect1d(f, e)) / len(e) for f, e in zip(found, exact)]))


def calibration_queries(vectors: np.ndarray, rng: np.random.Generator,
                        count: int = CALIBRATION_QUERIES) -> np.ndarray:
    """Queries like a request's: the sum of two random items plus noise of the same norm
    (a request is never exactly an item, and often lies between several)."""
    n, dim = vectors.shape
    pairs = rng.integers(0, n, (count, 2))
    queries = np.asarray(vectors[np.sort(pairs[:, 0])], dtype=np.float32) + \
        np.asarray(vectors[np.sort(pairs[:, 1])], dtype=np.float32)
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    queries = queries + rng.normal(0, 1 / np.sqrt(dim), queries.shape).astype(np.float32)
    return queries / np.linalg.norm(queries, axis=1, keepdims=True)


def build(stem: Path, vectors: np.ndarray, *, progress: Progress | None = None,
          seed: int = 0) -> AnnIndex:
    """Train, fill, calibrate and store an index over ``vectors`` (unit rows)."""
    faiss = _faiss()
    n, dim = vectors.shape
    rng = np.random.default_rng(seed)
    nlist = max(16, int(4 * np.sqrt(n)))
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        report(progress, 0.0, f"Training the nearest-neighbour index ({nlist:,} lists)")
        sample = np.sort(rng.choice(n, min(n, 50 * nlist), replace=False))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                              faiss.METRIC_INNER_PRODUCT)
        index.train(np.asarray(vectors[sample], dtype=np.float32))
        step = 65536
        for start in range(0, n, step):
            index.add(np.asarray(vectors[start:start + step], dtype=np.float32))
            report(progress, 0.1 + 0.6 * min(n, start + step) / n,
                   f"Indexing {min(n, start + step):,} / {n:,} vectors")
        report(progress, 0.7, "Calibrating the nearest-neighbour search")
        queries = calibration_queries(vectors, rng)
        k = min(CALIBRATION_K, n)
        exact = exact_top(vectors, queries, k)
        nprobe = _PROBES[-1]
        for probes in _PROBES:
            index.nprobe = probes
            _, found = index.search(queries, k)
            if recall_at(list(found), exact) >= TARGET_RECALL:
                nprobe = probes
                break
        index.nprobe = nprobe = min(nlist, PROBE_MARGIN * nprobe)
        _, found = index.search(queries, k)
        recall = recall_at(list(found), exact)
    finally:
        faiss.omp_set_num_threads(1)
    index_path, state_path = _paths(stem)
    try:
        with atomic_write(index_path) as tmp:
            faiss.write_index(index, str(tmp))
        state = {"format": _FORMAT, "n": n, "dim": dim, "nlist": nlist, "nprobe": nprobe,
                 "recall": round(recall, 4), "sha1": _sha1(index_path)}
        with atomic_write(state_path) as tmp:
            tmp.write_text(json.dumps(state), encoding="utf-8")
    except (OSError, RuntimeError) as exc:
        logger.warning("Could not store the nearest-neighbour index %s (%s); it is rebuilt next "
                       "time", index_path.name, exc)
    report(progress, 1.0, f"Nearest-neighbour index ready (nprobe {nprobe}, recall@{k} {recall:.3f})")
    return AnnIndex(index, nprobe, recall, nlist)


def load_or_build(stem: Path, vectors: np.ndarray, *, rebuild: bool = False,
                  progress: Progress | None = None) -> AnnIndex:
    """:func:`load`, else :func:`build`."""
    found = None if rebuild else load(stem, *vectors.shape)
    if found is None:
        found = build(stem, vectors, progress=progress)
    _faiss().omp_set_num_threads(1)   # one thread per request, as for the encoder (recsys.embed)
    return found
