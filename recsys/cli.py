"""Command-line front end: ``python -m recsys <command>``.

Commands
--------
``recommend "TEXT"``      one request → a table (or ``--json``)
``recommend --batch F``   JSON lines ``{"id", "request"}`` → one JSON line each
``index``                 build / refresh the caches (item embeddings, ALS), with progress
``evaluate``              quality on ReDial requests (Recall/NDCG/HR/MRR with 95 % intervals)

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
from pathlib import Path
from typing import Any, TextIO

from recsys.intent import InvalidRequestError

logger = logging.getLogger("recsys")

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
    parser.add_argument("--data-dir", help="MovieLens folder (default: $RECSYS_DATA_DIR, the cache, "
                                           "or a download)")
    parser.add_argument("--cache-dir", help="cache folder (default: $RECSYS_CACHE_DIR or ~/.cache/recsys)")
    parser.add_argument("--dataset", default="ml-latest-small",
                        help="MovieLens dataset to download when no folder is given")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rec = sub.add_parser("recommend", help="recommend movies for a free-text request")
    rec.add_argument("text", nargs="?", help="what the new user would like to watch")
    rec.add_argument("--batch", metavar="IN.jsonl",
                     help='JSON lines {"id": ..., "request": ...}; one output line each')
    rec.add_argument("--k", type=int, default=10, help="length of the list (1-100, default 10)")
    _add_weight_args(rec)
    rec.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_parser_arg(rec)

    ev = sub.add_parser("evaluate", help="measure quality on real typed requests")
    ev.add_argument("--protocol", choices=["redial"], default="redial",
                    help="redial: ReDial requests, text only in, named movies excluded")
    ev.add_argument("--requests", metavar="FILE",
                    help="requests file (default: ../shared/data/redial/redial_dev.jsonl)")
    ev.add_argument("--k", type=int, default=10, help="cut-off for Recall/NDCG/HR (default 10)")
    ev.add_argument("--limit", type=int, help="evaluate only the first N requests")
    _add_weight_args(ev)
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_parser_arg(ev)

    idx = sub.add_parser("index", help="build or refresh the caches (embeddings, ALS)")
    idx.add_argument("--rebuild", action="store_true", help="recompute even when caches exist")
    return parser


def _add_weight_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alpha", type=float, help="weight of the LLM score r")
    parser.add_argument("--beta", type=float, help="weight of the CF score s")
    parser.add_argument("--gamma", type=float, help="weight of the baseline prior b")


def _add_parser_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parser", choices=["builtin", "llm", "auto"], default="auto",
                        help="intent parser: built-in rules, a generative LLM (RECSYS_LLM_*), or "
                             "auto = the LLM when configured and healthy (default)")


def _select_parser(recommender: Any, choice: str) -> Any:
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
        parser.error(f"unknown command {args.command}")
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


# ---------------------------------------------------------------------------- commands

def _load(args: argparse.Namespace, *, rebuild: bool = False, show_progress: bool = True) -> Any:
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


def _weights(args: argparse.Namespace, default: Any) -> Any:
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
    if not 1 <= args.k <= 100:
        raise CLIError(f"--k must be between 1 and 100 (got {args.k})")
    if args.batch is not None:
        requests = list(_read_batch(args.batch))
    else:
        _check_text(args.text)
        requests = []
    recommender = _load(args, show_progress=sys.stderr.isatty())
    weights = _weights(args, recommender.config.weights)
    _select_parser(recommender, args.parser)
    if args.batch is None:
        result = _run_one(recommender, args.text, weights, args.k)
        _warn(result.intent.warnings)
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            print(format_table(result))
        return 0
    failures = 0
    for line_no, request_id, text in requests:
        try:
            if not isinstance(text, str):
                raise CLIError(f'"request" must be a string (line {line_no})')
            result = _run_one(recommender, text, weights, args.k)
            payload: dict[str, Any] = {"id": request_id, **result.to_dict()}
            if result.intent.warnings:
                _warn([f"line {line_no}: {w}" for w in result.intent.warnings])
        except CLIError as exc:
            failures += 1
            payload = {"id": request_id, "error": str(exc)}
            print(f"error: line {line_no}: {exc}", file=sys.stderr)
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    return EXIT_DATA if failures else 0


def _run_one(recommender: Any, text: str, weights: Any, k: int) -> Any:
    try:
        return recommender.recommend(text, weights, k)
    except InvalidRequestError as exc:
        raise CLIError(str(exc)) from None


def _check_text(text: str) -> None:
    if not text.strip():
        raise CLIError("the request is empty: describe what you would like to watch, "
                       'e.g. "mind-bending sci-fi like Inception, nothing gory"')


def _read_batch(path: str) -> Iterator[tuple[int, Any, Any]]:
    try:
        handle = Path(path).open(encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            lines = handle.readlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CLIError(f"cannot read {path}: {exc}") from None
    rows = []
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CLIError(f"{path} line {line_no}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict) or "request" not in record:
            raise CLIError(f'{path} line {line_no}: expected an object with "id" and "request"')
        rows.append((line_no, record.get("id"), record["request"]))
    if not rows:
        raise CLIError(f"{path} holds no requests")
    return iter(rows)


DEFAULT_REQUESTS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "redial" / \
    "redial_dev.jsonl"


def _evaluate(args: argparse.Namespace) -> int:
    from recsys import evaluate

    path = Path(args.requests) if args.requests else DEFAULT_REQUESTS
    try:
        requests = evaluate.load_requests(path)
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    if args.limit:
        requests = requests[: args.limit]
    if not any(r.targets for r in requests):
        raise CLIError(f"{path} holds no request with targets")
    recommender = _load(args, show_progress=sys.stderr.isatty())
    weights = _weights(args, recommender.config.weights)
    selection = _select_parser(recommender, args.parser)
    from recsys.progress import tqdm_progress

    started = time.perf_counter()
    with tqdm_progress("Evaluating", disable=not sys.stderr.isatty()) as progress:
        rows = evaluate.evaluate_requests(recommender, requests, weights=weights, k=args.k,
                                          progress=progress)
    systems = evaluate.summarise(rows)
    n = len(next(iter(rows.values())))
    payload = {"protocol": args.protocol, "requests": str(path), "n": n, "parser": selection.backend,
               "k": args.k, "weights": dict(zip(("alpha", "beta", "gamma"), weights.as_tuple())),
               "seconds": round(time.perf_counter() - started, 1), "systems": systems}
    if args.json:
        print(json.dumps(payload))
    else:
        print(format_evaluation(payload))
    return 0


def format_evaluation(payload: dict[str, Any]) -> str:
    """A markdown table of an evaluation (mean [95 % CI])."""
    k = payload["k"]
    metrics = [f"recall@{k}", "recall@50", f"ndcg@{k}", f"hr@{k}", "mrr"]
    lines = [f"protocol {payload['protocol']}: {payload['n']} requests from {Path(payload['requests']).name}, "
             f"{payload['seconds']} s", "",
             "| system | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for system, summary in payload["systems"].items():
        cells = [f"{summary[m]:.4f} [{summary['ci95'][m][0]:.3f}, {summary['ci95'][m][1]:.3f}]"
                 for m in metrics]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _index(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    recommender = _load(args, rebuild=args.rebuild, show_progress=True)
    cat = recommender.catalogue
    print(f"Index ready in {time.perf_counter() - started:.1f} s: {len(cat):,} movies, "
          f"{len(cat.ratings):,} ratings, model {recommender.index.model_id}, "
          f"{recommender.cf.config.factors} ALS factors.")
    return 0


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


# ---------------------------------------------------------------------------- output

def format_table(result: Any, out: TextIO | None = None) -> str:
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


def _intent_summary(intent: Any) -> str:
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
