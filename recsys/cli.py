"""Command-line front end: ``python -m recsys <command>``.

Commands
--------
``recommend "TEXT"``      one request → a table (or ``--json``)
``recommend --batch F``   JSON lines ``{"id", "request"}`` → one JSON line each
``index``                 build / refresh the caches (item embeddings, ALS), with progress
``evaluate``              quality: ``--protocol redial|simulated|sampled20|warmup`` (Recall/NDCG/HR/MRR,
                          coverage, novelty, diversity, intent violations; 95 % intervals)
``sweep``                 quality of the blend over a grid of α/β/γ → CSV (for the Tune page)
``train-adapter``         train the adapter on the frozen encoder (training users only)
``fetch-knowledge``       movie knowledge (Wikidata + Wikipedia, or TMDB) into the cache
``fetch-requests``        ReDial's training requests (for the adapter) into the cache
``convert --out DIR``     write the data set as a generic catalogue (items + interactions)

Errors are one line on stderr and a non-zero exit status (2: bad usage or input,
1: data or model problems); progress bars go to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recsys.adapter import AdapterConfig
from recsys.data import DEFAULT_DATASET
from recsys.evaluation.requests import DEFAULTS as EVALUATION, LIST_LENGTH, PROTOCOLS
from recsys.intent import PARSER_CHOICES, InvalidRequestError
from recsys.knowledge_fetch import SOURCES
from recsys.pipeline import DEFAULT_K, MAX_K
from recsys.rerank import DEFAULT_CONFIG as RERANK

if TYPE_CHECKING:   # the model's modules import torch: the CLI imports them only when needed
    from recsys.blend import BlendWeights
    from recsys.evaluation.heldout import HeldOutSetup
    from recsys.evaluation.requests import EvalRequest
    from recsys.intent import Intent
    from recsys.intent import ParserChoice
    from recsys.llm import ChatBackend, ParserSelection
    from recsys.pipeline import Recommendation, Recommender
    from recsys.progress import Progress

logger = logging.getLogger("recsys")

# Every default below comes from a config class (AdapterConfig, EvaluationConfig, RerankConfig)
# or the pipeline's constants: the CLI repeats no number.
AdapterDefaults = AdapterConfig()

EXIT_USAGE = 2
EXIT_DATA = 1


class CLIError(Exception):
    """A user-facing failure: printed as one line, exit with ``status``."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per task)."""
    parser = argparse.ArgumentParser(
        prog="python -m recsys",
        description="LLM-assisted cold-start movie recommender: free text in, explained list out.")
    parser.add_argument("--data", "--data-dir", dest="data_dir", metavar="DIR",
                        help="MovieLens or catalogue folder (default: $RECSYS_DATA_DIR, the cache, "
                             "or a download)")
    parser.add_argument("--cache-dir", help="cache folder (default: $RECSYS_CACHE_DIR or ~/.cache/recsys)")
    parser.add_argument("--dataset", default=DEFAULT_DATASET,
                        help="MovieLens dataset to download when no folder is given")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rec = sub.add_parser("recommend", help="recommend movies for a free-text request")
    rec.add_argument("text", nargs="?", help="what the new user would like to watch")
    rec.add_argument("--batch", metavar="IN.jsonl",
                     help='JSON lines {"id": ..., "request": ...}; one output line each')
    rec.add_argument("--k", type=int, default=DEFAULT_K,
                     help=f"length of the list (1-{MAX_K}, default {DEFAULT_K})")
    _add_weight_args(rec)
    rec.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_parser_arg(rec)
    rec.add_argument("--rerank", action="store_true",
                     help=f"let the generative LLM re-order the top {RERANK.top} within a "
                          f"{RERANK.budget_seconds:g} s budget "
                          '(the blend order stays on any failure; JSON: "rerank")')

    ev = sub.add_parser("evaluate", help="measure quality: ReDial requests, simulated new users, "
                                         "sampled candidates")
    ev.add_argument("--protocol", choices=PROTOCOLS, default="redial",
                    help="redial: real typed requests, text only in, named movies excluded; "
                         "simulated: held-out MovieLens users described in words / titles / both; "
                         "sampled20: 1 true next item + 19 random (Hou et al., ECIR 2024); "
                         "warmup: simulated users after 0-10 👍 reactions")
    ev.add_argument("--requests", metavar="FILE",
                    help="requests file for redial (default: ../shared/data/redial/redial_dev.jsonl)")
    ev.add_argument("--k", type=int, default=EVALUATION.k,
                    help=f"cut-off for Recall/NDCG/HR (1-{LIST_LENGTH}, default {EVALUATION.k})")
    ev.add_argument("--limit", type=int, help="redial: evaluate only the first N requests")
    ev.add_argument("--users", type=int,
                    help="simulated/sampled20: evaluate a seeded sample of N held-out users")
    ev.add_argument("--seed", type=int, default=EVALUATION.seed,
                    help=f"seed of splits, samples and bootstrap ({EVALUATION.seed})")
    ev.add_argument("--holdout", type=float, default=EVALUATION.holdout,
                    help=f"share of users held out ({EVALUATION.holdout:g})")
    ev.add_argument("--resamples", type=int, default=EVALUATION.resamples,
                    help=f"bootstrap resamples ({EVALUATION.resamples})")
    ev.add_argument("--tune-metric", default=EVALUATION.tune_metric,
                    help=f"metric blend-tuned optimises ({EVALUATION.tune_metric})")
    _add_weight_args(ev)
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.add_argument("--out", metavar="FILE.json", help="also write the JSON result to FILE.json")
    _add_parser_arg(ev)

    sw = sub.add_parser("sweep", help="quality over a grid of blend weights, written as CSV")
    sw.add_argument("--protocol", choices=["redial", "simulated"], default="redial",
                    help="redial requests (default) or the simulated held-out users")
    sw.add_argument("--requests", metavar="FILE",
                    help="requests file for redial (default: ../shared/data/redial/redial_dev.jsonl)")
    sw.add_argument("--limit", type=int, help="redial: only the first N requests")
    sw.add_argument("--users", type=int, help="simulated: a seeded sample of N held-out users")
    sw.add_argument("--seed", type=int, default=EVALUATION.seed, help=f"seed of the user split ({EVALUATION.seed})")
    sw.add_argument("--step", type=float, default=EVALUATION.sweep_step,
                    help=f"grid step (default {EVALUATION.sweep_step:g}; 0.1 gives 66 points)")
    sw.add_argument("--metric", default=EVALUATION.tune_metric,
                    help=f"metric for the printed best point ({EVALUATION.tune_metric})")
    sw.add_argument("--out", metavar="FILE.csv",
                    help="CSV path (default: assets/results/sweep-<protocol>.csv)")
    _add_parser_arg(sw)

    idx = sub.add_parser("index", help="build or refresh the caches (embeddings, ALS)")
    idx.add_argument("--rebuild", action="store_true", help="recompute even when caches exist")

    fk = sub.add_parser("fetch-knowledge",
                        help="download movie knowledge (people, plots, Chinese titles): Wikidata + "
                             "Wikipedia, or TMDB with TMDB_API_KEY; resumable")
    fk.add_argument("--source", choices=SOURCES, default="auto",
                    help="auto = TMDB when TMDB_API_KEY is set, else Wikidata + Wikipedia")
    fk.add_argument("--limit", type=int, default=None, help="only the first N movies (for a try)")

    fr = sub.add_parser("fetch-requests",
                        help="download ReDial (CC BY 4.0) and map its training split's typed requests "
                             "to the catalogue, for the adapter; once, then cached")
    fr.add_argument("--force", action="store_true", help="download and map again even when cached")

    ta = sub.add_parser("train-adapter",
                        help="train the small adapter on the frozen encoder (training users only)")
    ta.add_argument("--epochs", type=int, default=AdapterDefaults.epochs,
                    help=f"training epochs ({AdapterDefaults.epochs})")
    ta.add_argument("--descriptions", type=int, default=AdapterDefaults.descriptions_per_user,
                    help=f"synthetic descriptions per training user ({AdapterDefaults.descriptions_per_user})")
    ta.add_argument("--json", action="store_true", help="print the training report as JSON")

    from recsys import cf_spark, convert
    convert.add_parser(sub)
    cf_spark.add_parser(sub)
    return parser


def _add_weight_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alpha", type=float, help="weight of the LLM score r")
    parser.add_argument("--beta", type=float, help="weight of the CF score s")
    parser.add_argument("--gamma", type=float, help="weight of the baseline prior b")


def _add_parser_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parser", choices=PARSER_CHOICES, default="auto",
                        help="intent parser: built-in rules, a generative LLM (RECSYS_LLM_*), or "
                             "auto = the LLM when configured and healthy (default)")


def _select_parser(recommender: Recommender, choice: ParserChoice) -> ParserSelection:
    from recsys.llm import LLMUnavailableError, select_parser

    try:
        selection = select_parser(recommender, choice)
    except LLMUnavailableError as exc:
        raise CLIError(str(exc), EXIT_DATA) from None
    recommender.parser = selection.parser
    return selection


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        if args.command == "recommend":
            return _recommend(args)
        if args.command == "index":
            return _index(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "train-adapter":
            return _train_adapter(args)
        if args.command == "fetch-knowledge":
            return _fetch_knowledge(args)
        if args.command == "fetch-requests":
            return _fetch_requests(args)
        if args.command == "convert":
            from recsys import convert
            return convert.run(args)
        if args.command == "fit-cf":
            from recsys import cf_spark
            return cf_spark.run(args)
        parser.error(f"unknown command {args.command}")
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    return 0


def _reader_went_away() -> int:
    """The reader of stdout closed the pipe (e.g. ``| head -1``): stop quietly.

    Further writes (and the final flush) go to ``/dev/null``; the status is 141, as for a
    process ended by SIGPIPE."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
        pass
    return 141


# ---------------------------------------------------------------------------- commands

def _load(args: argparse.Namespace, *, rebuild: bool = False, show_progress: bool = True) -> Recommender:
    from recsys.data import DataError
    from recsys.embed import EncoderUnavailableError
    from recsys.pipeline import Recommender
    from recsys.progress import tqdm_progress

    try:
        with tqdm_progress("Loading", disable=not show_progress) as progress:
            return Recommender.load(args.data_dir, dataset=args.dataset, cache_dir=args.cache_dir,
                                    rebuild=rebuild, progress=progress)
    except (DataError, EncoderUnavailableError) as exc:
        raise CLIError(" ".join(str(exc).split()), EXIT_DATA) from None


def _fetch_knowledge(args: argparse.Namespace) -> int:
    from recsys.data import DataError, default_cache_dir, load_dataset
    from recsys.knowledge_fetch import KnowledgeFetchError, fetch_knowledge, links_from_frames
    from recsys.progress import tqdm_progress

    cache = default_cache_dir() if args.cache_dir is None else Path(args.cache_dir)
    try:
        raw = load_dataset(args.data_dir, dataset=args.dataset, cache_dir=cache)
    except DataError as exc:
        raise CLIError(" ".join(str(exc).split()), EXIT_DATA) from None
    if raw.links is None:
        raise CLIError("the data set has no links.csv (IMDb / TMDB ids); nothing to fetch by",
                       EXIT_DATA)
    try:
        with tqdm_progress("Fetching", disable=not sys.stderr.isatty()) as progress:
            path = fetch_knowledge(links_from_frames(raw.links, raw.movies), cache,
                                   source=args.source, progress=progress, limit=args.limit)
    except KnowledgeFetchError as exc:
        raise CLIError(f"{exc}; run the command again to resume", EXIT_DATA) from None
    print(f"Movie knowledge in {path}")
    return 0


def _fetch_requests(args: argparse.Namespace) -> int:
    from recsys.adapter import MAX_TRAIN_REQUESTS, training_requests_source
    from recsys.catalogue import build_catalogue
    from recsys.data import DataError, default_cache_dir, load_dataset
    from recsys.progress import tqdm_progress
    from recsys.redial_fetch import ATTRIBUTION, RedialFetchError, fetch_requests, read_records

    cache = default_cache_dir() if args.cache_dir is None else Path(args.cache_dir)
    try:
        catalogue = build_catalogue(load_dataset(args.data_dir, dataset=args.dataset, cache_dir=cache))
    except DataError as exc:
        raise CLIError(" ".join(str(exc).split()), EXIT_DATA) from None
    try:
        with tqdm_progress("Fetching", disable=not sys.stderr.isatty()) as progress:
            path = fetch_requests(catalogue, cache, force=args.force, progress=progress)
    except RedialFetchError as exc:
        hint = "" if "try again" in str(exc) else "; nothing was stored, run the command again to retry"
        raise CLIError(f"{exc}{hint}", EXIT_DATA) from None
    records = list(read_records(path))
    language = sum(1 for r in records if not r.get("request_has_movie_mention"))
    print(f"ReDial training requests in {path}: {len(records):,} ({language:,} language only) mapped "
          f"to {catalogue.name}.")
    source = training_requests_source(catalogue, cache_dir=cache)
    if source.kind == "download":
        print(f"The adapter learns from at most {MAX_TRAIN_REQUESTS:,} of them; it is retrained on the "
              "next start (or `python -m recsys train-adapter`).")
    else:
        print(f"Not used while RECSYS_TRAIN_REQUESTS is set ({source.path}).")
    print(ATTRIBUTION)
    return 0


def _weights(args: argparse.Namespace, default: BlendWeights) -> BlendWeights:
    from recsys.blend import BlendWeights

    values = (args.alpha, args.beta, args.gamma)
    if all(v is None for v in values):
        return default
    alpha, beta, gamma = (d if v is None else v for v, d in zip(values, default.as_tuple()))
    try:
        return BlendWeights(alpha, beta, gamma)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _recommend(args: argparse.Namespace) -> int:
    if (args.text is None) == (args.batch is None):
        raise CLIError('give either a request text or --batch FILE, e.g. '
                       'python -m recsys recommend "90s sci-fi, no horror"')
    if not 1 <= args.k <= MAX_K:
        raise CLIError(f"--k must be between 1 and {MAX_K} (got {args.k})")
    # Everything that can be checked without the model is checked before its slow import.
    from recsys.pipeline import PipelineConfig

    weights = _weights(args, PipelineConfig().weights)
    if args.batch is not None:
        requests = list(_read_batch(args.batch))
    else:
        _check_text(args.text)
        requests = []
    _check_data(args)
    _check_llm_configured(args.parser)
    recommender = _load(args, show_progress=sys.stderr.isatty())
    _select_parser(recommender, args.parser)
    rerank = _reranker() if args.rerank else None
    if args.batch is None:
        result, reranked = _rerank_result(rerank, _run_one(recommender, args.text, weights, args.k))
        _warn(result.intent.warnings)
        if args.json:
            print(json.dumps({**result.to_dict(), **reranked}, ensure_ascii=False))
        else:
            if result.intent.fallback_reason:
                print(f"note: the LLM parser was not used ({result.intent.fallback_reason}); "
                      "the built-in rules answered.", file=sys.stderr)
            print(format_table(result))
            if reranked:
                info = reranked["rerank"]
                print(f"LLM rerank: moved {info['moved']} of the top {info['considered']}" if info["applied"]
                      else f"LLM rerank not used: {info['reason']}")
        return 0
    failures = 0
    for line_no, request_id, text in requests:
        try:
            if isinstance(text, _BadLine):
                raise CLIError(text.message)
            if not isinstance(text, str):
                raise CLIError(f'"request" must be a string (line {line_no})')
            result, reranked = _rerank_result(rerank, _run_one(recommender, text, weights, args.k))
            payload: dict[str, Any] = {"id": request_id, **result.to_dict(), **reranked}
            if result.intent.warnings:
                _warn([f"line {line_no}: {w}" for w in result.intent.warnings])
        except CLIError as exc:
            failures += 1
            payload = {"id": request_id, "line": line_no, "error": str(exc)}
            print(f"error: line {line_no}: {exc}", file=sys.stderr)
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    return EXIT_DATA if failures else 0


def _reranker() -> ChatBackend | str:
    """The backend for ``--rerank``, or the reason there is none (a string)."""
    from recsys.llm import LLMSettings, shared_backend

    settings = LLMSettings.from_env()
    if not settings.configured:
        return "no generative LLM is configured (RECSYS_LLM_BASE_URL or RECSYS_LLM_LOCAL)"
    return shared_backend(settings)


def _rerank_result(rerank: ChatBackend | str | None, result: Recommendation
                   ) -> tuple[Recommendation, dict[str, Any]]:
    """``result`` with its top re-ordered by the LLM, and ``{"rerank": …}`` (empty without
    ``--rerank``); the blend order stays on any failure."""
    import dataclasses

    from recsys.rerank import not_configured, rerank_items

    if rerank is None:
        return result, {}
    if isinstance(rerank, str):
        return result, {"rerank": not_configured(rerank).to_dict()}
    items, outcome = rerank_items(rerank, result.intent.text, list(result.items))
    if outcome.applied:
        result = dataclasses.replace(result, items=tuple(items))
    return result, {"rerank": outcome.to_dict()}


def _run_one(recommender: Recommender, text: str, weights: BlendWeights, k: int) -> Recommendation:
    try:
        return recommender.recommend(text, weights, k)
    except InvalidRequestError as exc:
        raise CLIError(str(exc)) from None


def _check_text(text: str) -> None:
    """Raise :class:`CLIError` for a request with nothing readable (empty, emoji-only, …),
    with the same rule and message the pipeline uses."""
    from recsys.intent import clean_request

    if not text.strip():
        raise CLIError("the request is empty: describe what you would like to watch, "
                       'e.g. "mind-bending sci-fi like Inception, nothing gory"')
    try:
        clean_request(text)
    except InvalidRequestError as exc:
        raise CLIError(str(exc)) from None


def _check_data(args: argparse.Namespace) -> None:
    """Read and validate the data set before the model is imported, so a data problem is
    reported at once (a second read later costs about 0.1 s on ml-latest-small)."""
    from recsys.data import DataError, load_dataset
    from recsys.progress import tqdm_progress

    try:
        with tqdm_progress("Checking the data", disable=not sys.stderr.isatty()) as progress:
            load_dataset(args.data_dir, dataset=args.dataset, cache_dir=args.cache_dir, progress=progress)
    except DataError as exc:
        raise CLIError(" ".join(str(exc).split()), EXIT_DATA) from None


def _check_llm_configured(choice: str) -> None:
    """``--parser llm`` without a configured model is an error before the model import."""
    if choice != "llm":
        return
    from recsys.llm import NOT_CONFIGURED, LLMSettings

    if not LLMSettings.from_env().configured:
        raise CLIError(NOT_CONFIGURED, EXIT_DATA)


@dataclass(frozen=True)
class _BadLine:
    """A batch line that could not be read; answered with ``{"id", "line", "error"}``."""

    message: str


def _read_batch(path: str) -> Iterator[tuple[int, Any, object]]:
    """``(line number, id, request text or _BadLine)`` for every non-blank line of ``path``.

    A UTF-8 byte-order mark is skipped. A line that is not UTF-8, not JSON or not an object
    with "request" becomes a :class:`_BadLine` (the batch goes on); only an unreadable or
    empty file is a :class:`CLIError`.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    rows: list[tuple[int, Any, object]] = []   # (line, JSON id, request or _BadLine)
    for line_no, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            rows.append((line_no, None, _BadLine("not valid UTF-8")))
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append((line_no, None, _BadLine(f"not valid JSON ({exc.msg})")))
            continue
        if not isinstance(record, dict) or "request" not in record:
            request_id = record.get("id") if isinstance(record, dict) else None
            rows.append((line_no, request_id,
                         _BadLine('expected an object with "id" and "request"')))
            continue
        rows.append((line_no, record.get("id"), record["request"]))
    if not rows:
        raise CLIError(f"{path} holds no requests")
    return iter(rows)


ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REQUESTS = ROOT.parent / "shared" / "data" / "redial" / "redial_dev.jsonl"
RESULTS_DIR = ROOT / "assets" / "results"


def _redial_requests(args: argparse.Namespace) -> tuple[Path, list[EvalRequest]]:
    from recsys.evaluation.requests import load_requests

    path = Path(args.requests) if args.requests else DEFAULT_REQUESTS
    try:
        requests = load_requests(path)
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    if args.limit:
        requests = requests[: args.limit]
    if not any(r.targets for r in requests):
        raise CLIError(f"{path} holds no request with targets")
    return path, requests


def _untrained(args: argparse.Namespace, recommender: Recommender, requests: list[EvalRequest]
               ) -> tuple[list[EvalRequest], int]:
    """The requests without those the adapter trained on (leakage guard, with a warning)."""
    from recsys.evaluation.requests import LeakageError, drop_trained

    try:
        return drop_trained(requests, recommender, _cache_dir(args))
    except LeakageError as exc:
        raise CLIError(str(exc)) from None


def _check_eval_args(args: argparse.Namespace) -> None:
    if getattr(args, "k", EVALUATION.k) is not None and not 1 <= args.k <= LIST_LENGTH:
        raise CLIError(f"--k must be between 1 and {LIST_LENGTH} (got {args.k})")
    if getattr(args, "requests", None) and args.protocol != "redial":
        raise CLIError("--requests applies to --protocol redial only")
    if getattr(args, "users", None) is not None and args.users < 1:
        raise CLIError("--users must be at least 1")
    if getattr(args, "holdout", EVALUATION.holdout) is not None and not 0 < getattr(args, "holdout", EVALUATION.holdout) < 1:
        raise CLIError("--holdout must be between 0 and 1")
    if getattr(args, "resamples", EVALUATION.resamples) < 100:
        raise CLIError("--resamples must be at least 100")


def _cache_dir(args: argparse.Namespace) -> Path:
    from recsys.data import default_cache_dir

    return Path(args.cache_dir) if args.cache_dir else default_cache_dir()


def _held_out(args: argparse.Namespace, recommender: Recommender, progress: Progress | None
              ) -> HeldOutSetup:
    from recsys.evaluation.heldout import HOLDOUT, held_out_setup
    from recsys.data import DataError, load_dataset

    try:
        raw = load_dataset(args.data_dir, dataset=args.dataset, cache_dir=args.cache_dir)
    except DataError as exc:
        raise CLIError(" ".join(str(exc).split()), EXIT_DATA) from None
    return held_out_setup(recommender, raw, seed=args.seed,
                          fraction=getattr(args, "holdout", HOLDOUT),
                          users=args.users, cache_dir=_cache_dir(args), progress=progress)


def _code_version() -> dict[str, Any]:
    import subprocess

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=5, check=False).stdout.strip()
        # Only the code that computes results counts (not the README or the result files).
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                     "recsys", "requirements.txt"], cwd=ROOT,
                                    capture_output=True, text=True, timeout=5, check=False).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": commit, "uncommitted_changes": dirty} if commit else {}


def _evaluate(args: argparse.Namespace) -> int:
    from recsys.evaluation.metrics import accuracy_names
    from recsys.evaluation.protocols import run_held_out, run_redial, run_warmup
    from recsys.progress import tqdm_progress

    _check_eval_args(args)
    if args.protocol != "warmup" and args.tune_metric not in accuracy_names(args.k, args.protocol):
        raise CLIError(f"--tune-metric must be one of {', '.join(accuracy_names(args.k, args.protocol))}")
    wall = time.perf_counter()
    path, requests = _redial_requests(args) if args.protocol == "redial" else (None, [])
    recommender = _load(args, show_progress=sys.stderr.isatty())
    requests, trained = _untrained(args, recommender, requests)
    weights = _weights(args, recommender.config.weights)
    selection = _select_parser(recommender, args.parser)
    started = time.perf_counter()
    with tqdm_progress("Evaluating", disable=not sys.stderr.isatty()) as progress:
        if args.protocol == "redial":
            body = run_redial(recommender, requests, weights=weights, k=args.k,
                              resamples=args.resamples, seed=args.seed,
                              tune_metric=args.tune_metric, cache_dir=_cache_dir(args),
                              progress=progress)
            source = str(path)
        else:
            setup = _held_out(args, recommender, progress)
            if args.protocol == "warmup":
                body = run_warmup(setup, weights=weights, k=args.k, resamples=args.resamples,
                                  seed=args.seed, cache_dir=_cache_dir(args), progress=progress)
                users = body["n"]
            else:
                body = run_held_out(setup, args.protocol, weights=weights, k=args.k,
                                    resamples=args.resamples, seed=args.seed,
                                    tune_metric=args.tune_metric, cache_dir=_cache_dir(args),
                                    progress=progress)
                users = body["split"]["evaluated_users"]
            source = (f"{recommender.catalogue.name}: {users} held-out users (seed {args.seed}, "
                      f"{args.holdout:.0%} of users held out"
                      + (f", sample of {args.users}" if args.users else "") + ")")
    systems = body.pop("systems")
    payload = {"protocol": args.protocol, "requests": source, "n": body.pop("n"),
               "parser": selection.backend, "k": args.k,
               "weights": dict(zip(("alpha", "beta", "gamma"), weights.as_tuple())),
               "seconds": round(time.perf_counter() - started, 1), "systems": systems, **body,
               "wall_seconds": round(time.perf_counter() - wall, 1),
               "load_seconds": round(recommender.load_seconds, 1), "code": _code_version()}
    if trained:
        payload["left_out_trained_on"] = trained
    text = json.dumps(payload, ensure_ascii=False)
    if args.out:
        out = Path(args.out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise CLIError(f"cannot write {out}: {exc.strerror or exc}", EXIT_DATA) from None
    print(text if args.json else format_evaluation(payload))
    return 0


def _shown(path: Path | str | None) -> str:
    """``path`` relative to the working directory when that is shorter (for messages)."""
    import os

    if path is None:
        return ""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return rel if len(rel) < len(str(path)) else str(path)


def _sweep(args: argparse.Namespace) -> int:
    from recsys.evaluation.cases import simulated_requests
    from recsys.evaluation.collect import collect_stages
    from recsys.evaluation.report import write_csv
    from recsys.evaluation.requests import VARIANTS
    from recsys.evaluation.tuning import SWEEP_COLUMNS, sweep_rows, weight_grid
    from recsys.progress import tqdm_progress

    args.k = EVALUATION.k
    _check_eval_args(args)
    try:
        weight_grid(args.step)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    metric_choices = set(SWEEP_COLUMNS[3:])
    if args.metric not in metric_choices:
        raise CLIError(f"--metric must be one of {', '.join(sorted(metric_choices))}")
    wall = time.perf_counter()
    path, requests = _redial_requests(args) if args.protocol == "redial" else (None, [])
    recommender = _load(args, show_progress=sys.stderr.isatty())
    requests, _ = _untrained(args, recommender, requests)
    _select_parser(recommender, args.parser)
    with tqdm_progress("Sweeping", disable=not sys.stderr.isatty()) as progress:
        if args.protocol == "redial":
            table = collect_stages(recommender, requests, cache_dir=_cache_dir(args),
                                   progress=progress)
            subsets = {"nomention": table.rows_where(has_mention=False)}
            source = f"{_shown(path)} ({len(table)} requests)"
        else:
            setup = _held_out(args, recommender, progress)
            cases = simulated_requests(setup.test_rec.catalogue, setup.test_histories,
                                       seed=args.seed)
            table = collect_stages(setup.test_rec, cases, cache_dir=_cache_dir(args),
                                   progress=progress)
            subsets = {v: table.rows_where(variant=v) for v in VARIANTS}
            source = f"{len(table)} simulated cases of held-out users (seed {args.seed})"
    started = time.perf_counter()
    rows = sweep_rows(table, step=args.step, subsets=subsets)
    blend_seconds = time.perf_counter() - started
    out = Path(args.out) if args.out else RESULTS_DIR / f"sweep-{args.protocol}.csv"
    try:
        write_csv(rows, out)
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {exc.strerror or exc}", EXIT_DATA) from None
    best = max(rows, key=lambda row: row[args.metric])
    default = recommender.config.weights.as_tuple()
    current = min(rows, key=lambda row: sum(abs(row[w] - d) for w, d in zip(("alpha", "beta", "gamma"),
                                                                            default)))
    print(f"{len(rows)} weight points over {source} → {_shown(out)}")
    print(f"stage scores {table.seconds:.1f} s, blends {blend_seconds:.1f} s, "
          f"total {time.perf_counter() - wall:.1f} s")
    print(f"best {args.metric}: α={best['alpha']:g} β={best['beta']:g} γ={best['gamma']:g}  "
          + "  ".join(f"{m}={best[m]:.4f}" for m in SWEEP_COLUMNS[3:]))
    print(f"default      α={current['alpha']:g} β={current['beta']:g} γ={current['gamma']:g}  "
          + "  ".join(f"{m}={current[m]:.4f}" for m in SWEEP_COLUMNS[3:]))
    ranked = sorted(rows, key=lambda row: -row[args.metric])
    rank = next(n for n, row in enumerate(ranked, 1) if row is current)
    print(f"default weights rank {rank}/{len(rows)} by {args.metric}; top 5:")
    for row in ranked[:5]:
        print(f"  α={row['alpha']:g} β={row['beta']:g} γ={row['gamma']:g}  {args.metric}={row[args.metric]:.4f}  "
              f"recall@10={row['recall@10']:.4f}")
    print("(in-sample: the best point is chosen on the same requests; `evaluate` reports "
          "blend-tuned out of sample)")
    return 0


def _table_label(system: str) -> str:
    """A system's name in the Markdown tables: :data:`recsys.compare.SYSTEM_LABELS` (the one
    source of system names) in lower case, except initialisms (``Relevance only (r)``, ``CF only (s)``)."""
    from recsys.compare import SYSTEM_LABELS

    label = SYSTEM_LABELS.get(system, system)
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _cell(summary: dict[str, Any], metric: str, scale: float = 1.0, digits: int = 4) -> str:
    mean = summary.get(metric)
    if mean is None:
        return "–"
    lo, hi = summary.get("ci95", {}).get(metric, [None, None])
    ci = f" [{lo * scale:.{max(digits - 1, 1)}f}, {hi * scale:.{max(digits - 1, 1)}f}]" if lo is not None else ""
    return f"{mean * scale:.{digits}f}{ci}"


def _table(systems: dict[str, Any], metrics: list[str], scale: float = 1.0, digits: int = 4,
           labels: dict[str, str] | None = None) -> list[str]:
    lines = ["| system | " + " | ".join(labels.get(m, m) if labels else m for m in metrics) + " |",
             "|---" * (len(metrics) + 1) + "|"]
    for system, summary in systems.items():
        cells = [_cell(summary, m, scale, digits) for m in metrics]
        lines.append(f"| {_table_label(system)} | " + " | ".join(cells) + " |")
    return lines


def _warmup_table(payload: dict[str, Any]) -> list[str]:
    steps = [str(n) for n in payload.get("steps", [])]
    lines = [f"{payload.get('metric')} after n 👍 reactions (same users at every n):", "",
             "| system | " + " | ".join(f"n={n}" for n in steps) + " |", "|---" * (len(steps) + 1) + "|"]
    for system, entry in payload["systems"].items():
        cells = []
        for n in steps:
            value = entry["curve"].get(n)
            lo, hi = entry["curve_ci95"].get(n, [None, None])
            cells.append("–" if value is None else f"{value:.4f} [{lo:.3f}, {hi:.3f}]")
        label = _table_label(system)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    auto = payload.get("auto_weights", {})
    if auto:
        lines += ["", "auto weights: " + "; ".join(
            f"n={n}: α={w['alpha']:.2f} β={w['beta']:.2f} γ={w['gamma']:.2f}" for n, w in auto.items())]
    return lines


def _lift_table(payload: dict[str, Any], metrics: list[str]) -> list[str]:
    """Ratios of each system's mean to random's and to popularity's."""
    lift = payload.get("lift", {})
    if not lift:
        return []
    columns = [(base, m) for base in ("random", "popularity") for m in metrics]
    lines = ["", "Lift (ratio of means):", "",
             "| system | " + " | ".join(f"{m} ÷ {base}" for base, m in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for system in payload["systems"]:
        if system in ("random", "popularity"):
            continue
        cells = []
        for base, m in columns:
            value = lift.get(f"over_{base}", {}).get(system, {}).get(m)
            cells.append("–" if value is None else f"×{value:.2f}")
        lines.append(f"| {_table_label(system)} | " + " | ".join(cells) + " |")
    return lines


def format_evaluation(payload: dict[str, Any]) -> str:
    """Markdown tables of an evaluation (mean [95 % CI]): accuracy, beyond accuracy, subsets."""
    from recsys.evaluation.metrics import accuracy_names, beyond_names

    k = payload["k"]
    protocol = payload["protocol"]
    metrics = accuracy_names(k, protocol)
    source = payload["requests"] if protocol != "redial" else Path(payload["requests"]).name
    w = payload["weights"]
    unit = "users" if protocol == "warmup" else "cases"
    header = (f"protocol {protocol}: {payload['n']} {unit} from {source}; blend α={w['alpha']:g} "
              f"β={w['beta']:g} γ={w['gamma']:g}; {payload['seconds']} s")
    if payload.get("left_out_trained_on"):
        header += f" ({payload['left_out_trained_on']} left out: the adapter trained on them)"
    lines = [header, ""]
    if protocol == "warmup":
        return "\n".join(lines + _warmup_table(payload))
    if protocol == "sampled20":
        lines[-1:] = ["1 true next item + 19 random items per user; values × 100", ""]
        lines += _table(payload["systems"], ["ndcg@1", "ndcg@5", "ndcg@10", "ndcg@20", "hr@10", "mrr"],
                        scale=100, digits=2)
        ref = payload.get("reference", {}).get("ndcg_x100", {})
        if ref:
            lines += ["", "Hou et al. (ECIR 2024), MovieLens-1M, NDCG@10 ×100 (different data set): "
                      + ", ".join(f"{name} {v['ndcg@10']:.2f}" for name, v in ref.items())]
    else:
        lines += _table(payload["systems"], metrics)
        beyond = [m for m in beyond_names(k) if any(m in s for s in payload["systems"].values())]
        if beyond:
            lines += ["", f"Beyond accuracy (top {k}):", ""] + _table(payload["systems"], beyond, digits=3)
    lines += _lift_table(payload, metrics[:1] + [metrics[2]] if protocol != "sampled20" else ["ndcg@10", "mrr"])
    for name, block in payload.get("subsets", {}).items():
        lines += ["", f"subset {name}: {block['n']} cases", ""] + _table(block["systems"], metrics)
    tuning = payload.get("tuning")
    if tuning:
        if "folds" in tuning:
            folds = "; ".join(f"tuned on {f['tuned_on']} → α={f['weights']['alpha']:g} β={f['weights']['beta']:g} "
                              f"γ={f['weights']['gamma']:g}" for f in tuning["folds"])
            lines += ["", f"blend-tuned ({tuning['metric']}, cross-fitted halves): {folds}"]
        else:
            tw = tuning["weights"]
            line = (f"blend-tuned ({tuning['metric']}, {tuning['validation_users']} validation users): "
                    f"α={tw['alpha']:g} β={tw['beta']:g} γ={tw['gamma']:g}")
            lines += ["", line]
    paired = payload.get("paired", {})
    main = metrics[2] if protocol != "sampled20" else "ndcg@10"
    for pair in ("blend - popularity", "blend - cf", "blend-tuned - blend"):
        entry = paired.get(pair, {}).get(main)
        if entry and entry["diff"] is not None:
            ratio = f", ×{entry['ratio']:.2f}" if entry.get("ratio") else ""
            lines.append(f"{pair} ({main}): {entry['diff']:+.4f} [{entry['ci95'][0]:+.4f}, "
                         f"{entry['ci95'][1]:+.4f}]{ratio}")
    return "\n".join(lines)


def _index(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    recommender = _load(args, rebuild=args.rebuild, show_progress=True)
    cat = recommender.catalogue
    adapter = recommender.adapter
    if adapter is not None:
        adapter_state = f"adapter trained (λ={adapter.weight:g})"
    elif len(cat) > recommender.config.adapter_max_items:
        adapter_state = f"no adapter (above {recommender.config.adapter_max_items:,} items)"
    else:
        adapter_state = "no adapter (python -m recsys train-adapter trains one)"
    ann = recommender.index.ann
    search = ("exact search" if ann is None else
              f"approximate search (nprobe {ann.nprobe} of {ann.nlist:,} lists, "
              f"recall@200 {ann.recall:.3f} at build)")
    interactions = "interactions" if cat.domain != "movies" else "ratings"
    print(f"Index ready in {time.perf_counter() - started:.1f} s: {len(cat):,} {cat.nouns.items}, "
          f"{len(cat.ratings):,} {interactions}, model {recommender.index.model_id}, {search}, "
          f"{recommender.cf.config.factors} ALS factors, {adapter_state}.")
    return 0


def _train_adapter(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from recsys.progress import tqdm_progress
    from recsys.splits import split_users

    if args.epochs < 1 or args.descriptions < 1:
        raise CLIError("--epochs and --descriptions must be at least 1")
    recommender = _load(args, show_progress=sys.stderr.isatty())
    _, heldout = split_users(recommender.catalogue)
    adapter_config = replace(recommender.config.adapter, epochs=args.epochs,
                             descriptions_per_user=args.descriptions)
    recommender.config = replace(recommender.config, adapter=adapter_config)
    with tqdm_progress("Training the adapter") as progress:
        adapter = recommender.ensure_adapter(args.cache_dir, rebuild=True, progress=progress)
    if adapter is None:
        raise CLIError("the adapter could not be trained (see the warning above)", EXIT_DATA)
    path = recommender.adapter_file(args.cache_dir)
    report = {k: v for k, v in adapter.report.items() if k != "history"}
    report["path"] = str(path)
    report["heldout_users_not_used"] = int(len(heldout))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(f"Adapter trained in {report['seconds']} s on {report['training_users']} training users "
          f"and {report.get('real_requests', 0):,} real requests ({report['training_texts']:,} texts, "
          f"{report['trainable_parameters']:,} trainable parameters; {len(heldout)} held-out users "
          "never used).")
    print(f"Validation ({report['validation_users']} users): loss {report['final_val_loss']:.3f}.")
    named = report.get("weight_named")
    print(f"λ = {adapter.weight:g}" + (f" (requests naming a movie: {named:g})" if named is not None else "")
          + f". Saved to {path}.")
    if (args.epochs, args.descriptions) != (AdapterDefaults.epochs, AdapterDefaults.descriptions_per_user):
        print("Note: non-default --epochs/--descriptions make another recipe than the default; the "
              "recommender keeps using the default one.")
    return 0


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


# ---------------------------------------------------------------------------- output

def format_table(result: Recommendation) -> str:
    """A readable summary of the intent and the final list."""
    intent = result.intent
    alpha, beta, gamma = result.weights.as_tuple()
    lines = [f"Request: {intent.text}"]
    lines.append(f"Parsed ({intent.parser}): " + _intent_summary(intent))
    lines.append(f"Blend: {alpha:g}·r + {beta:g}·s + {gamma:g}·b   "
                 f"({result.timings['total']:.0f} ms)")
    lines.append("")
    header = f"{'#':>3}  {'Title':<44} {'Genres':<28} {'score':>6} {'r':>5} {'s':>5} {'b':>5}  Why"
    lines.append(header)
    lines.append("-" * len(header))
    for item in result.items:
        title = item.label if len(item.label) <= 44 else item.label[:43] + "…"
        genres = ", ".join(item.genres)
        genres = genres if len(genres) <= 28 else genres[:27] + "…"
        lines.append(f"{item.rank:>3}  {title:<44} {genres:<28} {item.score:6.3f} {item.r:5.2f} "
                     f"{item.s:5.2f} {item.b:5.2f}  {item.explanation}")
    if not result.items:
        lines.append("   (nothing left to recommend: every candidate was excluded)")
    return "\n".join(lines)


def _intent_summary(intent: Intent) -> str:
    parts = []
    if intent.liked_genres:
        parts.append("likes " + ", ".join(intent.liked_genres))
    if intent.disliked_genres:
        parts.append("avoids " + ", ".join(intent.disliked_genres))
    if intent.era:
        parts.append(f"era {intent.era.label}")
    if intent.titles:
        parts.append("titles " + ", ".join(f"{t.title} ({t.score:.2f})" for t in intent.titles))
    if intent.disliked_titles:
        parts.append("not like " + ", ".join(t.title for t in intent.disliked_titles))
    if intent.keywords:
        parts.append("keywords " + ", ".join(intent.keywords))
    return "; ".join(parts) or "nothing specific (similarity to the text only)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
