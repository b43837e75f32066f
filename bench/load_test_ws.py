"""Load test of the Streamlit server alone: N websocket users at once (loopback only).

    RECSYS_DATA_DIR=../shared/data/ml-latest-small python bench/load_test_ws.py [--users 8] [--rounds 3]
        [--threads 1] [--no-examples] [--rss-wait S] [--verbose] [--json FILE]

The same test as ``bench/load_test.py`` but without browsers: each user is a lightweight
websocket client speaking Streamlit's own protocol (``/_stcore/stream``, subprotocol
``streamlit``; ``BackMsg`` protobufs out, ``ForwardMsg`` in), so on 2 cores the measurement is
the server, not 8 Chromium renderers. Starts ``streamlit run app.py`` on 127.0.0.1 (warm disk
caches expected) with ``RECSYS_TORCH_THREADS=--threads``, waits until the engine is ready,
then runs ``--rounds`` rounds. In each round every user opens a new session (a
``rerun_script`` with no widget state draws the Recommend page, the default page; its
deltas carry the request box's and the *Recommend* button's widget ids), and then all users
submit a different request at the same moment: a ``rerun_script`` whose widget states set
the text area to the request and trigger the button — what the browser sends on a click.

Per user it measures the time from sending that message to receiving the delta that carries
the last card of the list (card #10 — the whole list: cards #1–#10 each received, each with
its score bar), also to the first card and to ``script_finished`` (the page complete); it
reads on until then, so every session ends clean. Client rendering is *not* included — this
is the server's time to send the complete list. Meanwhile ``/_stcore/health`` is polled
every 0.5 s; the server's RSS is read before the users arrive and after every round, and with
``--rss-wait S`` once more S seconds after the last round (Streamlit keeps a closed session's
state for ``server.disconnectedSessionTTL``, 120 s, so RSS grows during a run of many new
sessions; a plateau, not a drop, is what "flat" means for a Python process).

Prints p50 / p95 / max (targets on 2 cores: p50 ≤ 1 s, p95 ≤ 2 s), failed requests,
health-check failures, RSS before / after, the load average, the server's own "run start →
cards drawn" marker, and the CPU seconds of the server, of this client process and of the
whole machine. ``--verbose`` prints each list's titles. Bounded: users × rounds requests, at
most ``--timeout`` seconds per request.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_test import (  # noqa: E402
    LIST_LENGTH, REQUESTS, _cpu_s, _health, _machine_busy_s, _pct, _rss_mb, load_arguments)
from tests.e2e.harness import StreamlitServer  # noqa: E402

CARD = re.compile(r'<div class="fr-card" data-movie-id="(\d+)">.*?<span class="fr-rank">#(\d+)</span>'
                  r'.*?<div class="fr-card-title" title="[^"]*">([^<]*)</div>', re.S)
SERVER_LIST = re.compile(r'id="list-server-timing" data-ms="([\d.]+)"')
FINISHED_OK = 0            #: ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
FINISHED_ERROR = 1         #: … FINISHED_WITH_COMPILE_ERROR (a run that will never draw anything)


@dataclass
class Session:
    """One websocket session on the app: its connection and the ids it learned."""
    ws: Any
    page_hash: str = ""
    text_id: str = ""
    button_id: str = ""
    markdown: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """One submitted request: seconds to the first card, the whole list, the page complete."""
    first: float
    listed: float
    finished: float
    titles: list[str]
    server_list_ms: float | None
    messages: int
    bytes: int


async def _messages(session: Session, deadline: float) -> AsyncIterator[tuple[Any, int]]:
    """ForwardMsgs of ``session`` as (parsed message, size), until ``deadline`` (monotonic)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no script_finished before the deadline")
        raw = await asyncio.wait_for(session.ws.recv(), left)
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        if msg.WhichOneof("type") == "ref_hash":
            # Only sent for hashes the client said it caches — this client never does.
            raise RuntimeError("server sent a cached-message reference; cannot read its content")
        yield msg, len(raw)


def _element(msg: Any) -> tuple[str | None, Any]:
    """(kind, element) of a ``delta.new_element`` ForwardMsg, else (None, None)."""
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return None, None
    kind = msg.delta.new_element.WhichOneof("type")
    return kind, getattr(msg.delta.new_element, kind)


async def _rerun(session: Session, widgets: list[Any] | None = None) -> None:
    """Send a ``rerun_script`` BackMsg, as the browser does (page hash, widget states)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    back = BackMsg()
    back.rerun_script.query_string = ""
    back.rerun_script.page_script_hash = session.page_hash
    back.rerun_script.widget_states.SetInParent()
    for state in widgets or ():
        back.rerun_script.widget_states.widgets.append(state)
    await session.ws.send(back.SerializeToString())


async def _open(url: str, timeout: float) -> Session:
    """A new session showing the Recommend page, idle; the widget ids learned from its deltas."""
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    ws = await asyncio.wait_for(connect(url.replace("http://", "ws://") + "/_stcore/stream",
                                        subprotocols=[Subprotocol("streamlit")], max_size=None, open_timeout=timeout),
                                timeout)
    session = Session(ws)
    await _rerun(session)
    deadline = time.monotonic() + timeout
    async for msg, _ in _messages(session, deadline):
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            session.markdown.clear()
        elif kind == "navigation":        # the page being shown (Recommend, the default page)
            session.page_hash = msg.navigation.page_script_hash
        elif kind == "script_finished" and msg.script_finished in (FINISHED_OK, FINISHED_ERROR):
            break       # a run ended early for a rerun (the engine warming up) is followed by another
        el_kind, el = _element(msg)
        if el_kind == "text_area" and el.id.endswith("-request_text"):
            session.text_id = el.id
        elif el_kind == "button" and el.id.endswith("-go"):
            session.button_id = el.id
        elif el_kind == "markdown":
            session.markdown.append(el.body)
    if not (session.text_id and session.button_id):
        await ws.close()
        raise RuntimeError("the Recommend page drew no request box / Recommend button")
    return session


async def _submit(session: Session, text: str, timeout: float) -> Outcome:
    """Type ``text`` and press *Recommend* (one rerun_script); time the list's deltas."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    area = WidgetState(id=session.text_id, string_value=text)
    button = WidgetState(id=session.button_id, trigger_value=True)
    cards: dict[int, str] = {}
    first = listed = None
    server_ms = None
    n_msgs = n_bytes = 0
    t0 = time.perf_counter()
    await _rerun(session, [area, button])
    async for msg, size in _messages(session, time.monotonic() + timeout):
        n_msgs += 1
        n_bytes += size
        kind = msg.WhichOneof("type")
        if kind == "script_finished":
            if msg.script_finished == FINISHED_OK:
                break
            if msg.script_finished == FINISHED_ERROR:
                raise RuntimeError("the script failed")
            continue
        el_kind, el = _element(msg)
        if el_kind != "markdown":
            continue
        for _mid, rank, title in CARD.findall(el.body):
            if "fr-contrib-bar" not in el.body:
                raise RuntimeError(f"card #{rank} has no score bar")
            cards[int(rank)] = html.unescape(title)
            now = time.perf_counter() - t0
            first = now if first is None else first
            if listed is None and all(r in cards for r in range(1, LIST_LENGTH + 1)):
                listed = now
        found = SERVER_LIST.search(el.body)
        if found:
            server_ms = float(found.group(1))
    finished = time.perf_counter() - t0
    if first is None or listed is None:
        raise RuntimeError(f"the run finished with {len(cards)} of {LIST_LENGTH} cards")
    return Outcome(first, listed, finished, [cards[r] for r in sorted(cards)], server_ms, n_msgs, n_bytes)


async def _user(url: str, text: str, ready: list[int], start: asyncio.Event, timeout: float,
                verbose: bool) -> Outcome | Exception:
    """One user: a new session, then (at ``start``) submit ``text``; its outcome or its error."""
    session = None
    try:
        session = await _open(url, timeout)
        ready.append(1)
        await start.wait()
        outcome = await _submit(session, text, timeout)
        if verbose:
            print(f"  {text!r}: list in {outcome.listed:.2f} s, {len(outcome.titles)} titles:\n    "
                  + "\n    ".join(f"{n}. {t}" for n, t in enumerate(outcome.titles, 1)), flush=True)
        return outcome
    except Exception as exc:        # noqa: BLE001 - counted and reported, never hides a run
        ready.append(0)
        print(f"  user failed ({text!r}): {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return exc
    finally:
        if session is not None:
            await session.ws.close()


def _requests(no_examples: bool) -> list[str]:
    """The requests the users send, in order (without the app's example prompts if asked)."""
    if not no_examples:
        return list(REQUESTS)
    examples = {e["text"] for e in json.loads((ROOT / "assets" / "example_prompts.json").read_text("utf-8"))}
    return [r for r in REQUESTS if r not in examples]


async def _run(url: str, users: int, rounds: int, timeout: float, verbose: bool, requests: list[str],
               pid: int) -> tuple[list[Outcome], int, dict, list[float]]:
    """``rounds`` rounds of ``users`` simultaneous users: (outcomes, failed requests, health,
    the server's RSS in MB after each round)."""
    outcomes: list[Outcome] = []
    rss: list[float] = []
    failed = 0
    stats = {"checks": 0, "failures": 0, "slowest": 0.0}
    stop = asyncio.Event()
    health = asyncio.create_task(_health(url, stop, stats))
    try:
        for r in range(rounds):
            start, ready = asyncio.Event(), list[int]()
            texts = [requests[(r * users + u) % len(requests)] for u in range(users)]
            tasks = [asyncio.create_task(_user(url, t, ready, start, timeout, verbose)) for t in texts]
            deadline = time.monotonic() + timeout      # every session open and idle; then all at once
            while len(ready) < users and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
            start.set()
            done = await asyncio.gather(*tasks)
            good = [d for d in done if isinstance(d, Outcome)]
            failed += len(done) - len(good)
            outcomes += good
            rss.append(_rss_mb(pid))
            if good:
                print(f"round {r + 1}/{rounds}: whole list p50 {statistics.median(o.listed for o in good):.2f} s, "
                      f"max {max(o.listed for o in good):.2f} s, failed {len(done) - len(good)}, "
                      f"server RSS {rss[-1]:.0f} MB", flush=True)
    finally:
        stop.set()
        await health
    return outcomes, failed, stats, rss


async def _warm(url: str, timeout: float = 300.0) -> None:
    """Open sessions until the sidebar says the engine is ready (the first one starts loading it)."""
    deadline = time.monotonic() + timeout
    while True:
        session = await _open(url, timeout)
        await session.ws.close()
        if any("fr-side-status" in body and "fr-dot-ok" in body for body in session.markdown):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the engine did not become ready")
        await asyncio.sleep(1.0)


def _stats(values: list[float], digits: int = 2) -> dict[str, float]:
    return {"p50": round(statistics.median(values), digits), "p95": round(_pct(values, 0.95), digits),
            "max": round(max(values), digits)} if values else {}


def main() -> int:
    """Run the load test and print the report (see the module docstring)."""
    parser = load_arguments(__doc__)
    parser.add_argument("--no-examples", action="store_true",
                        help="leave out the requests that are also example prompts (their stage results "
                             "may be shared between sessions, i.e. cached)")
    parser.add_argument("--rss-wait", type=float, default=0.0, metavar="SECONDS",
                        help="after the last round, wait this long and read the RSS again (Streamlit keeps a "
                             "closed session for server.disconnectedSessionTTL = 120 s)")
    parser.add_argument("--verbose", action="store_true", help="print the titles of every list received")
    parser.add_argument("--json", metavar="FILE", default=str(ROOT / "assets" / "results" / "load-ws.json"),
                        help="write the figures as JSON here (default assets/results/load-ws.json; '' for none)")
    args = parser.parse_args()
    if not os.environ.get("RECSYS_DATA_DIR"):
        print("set RECSYS_DATA_DIR to an ml-latest-small folder", file=sys.stderr)
        return 2
    log = ROOT / "artifacts" / "load-test-ws-server.log"
    server = StreamlitServer(env={"RECSYS_TORCH_THREADS": str(args.threads)}, log_path=log).start(timeout=120)
    try:
        assert server.process is not None
        asyncio.run(_warm(server.url))
        pid = server.process.pid
        rss_before = _rss_mb(pid)
        load_before = os.getloadavg()
        cpu_before, busy_before, client_before = _cpu_s(pid), _machine_busy_s(), time.process_time()
        started = time.perf_counter()
        outcomes, failed, health, rss_rounds = asyncio.run(
            _run(server.url, args.users, args.rounds, args.timeout, args.verbose, _requests(args.no_examples), pid))
        wall = time.perf_counter() - started
        server_cpu, machine_cpu = _cpu_s(pid) - cpu_before, _machine_busy_s() - busy_before
        client_cpu = time.process_time() - client_before
        rss_after = _rss_mb(pid)
        load_after = os.getloadavg()
        rss_waited = None
        if args.rss_wait > 0:           # closed sessions are kept server.disconnectedSessionTTL (120 s)
            print(f"waiting {args.rss_wait:.0f} s for the closed sessions to expire…", flush=True)
            time.sleep(args.rss_wait)
            rss_waited = _rss_mb(pid)
        alive = server.process.poll() is None
    finally:
        server.stop()
    if not outcomes:
        print("no request succeeded", file=sys.stderr)
        return 1
    listed = [o.listed for o in outcomes]
    server_ms = [o.server_list_ms for o in outcomes if o.server_list_ms is not None]
    figures = {
        "client": "websocket (Streamlit protocol), no browser", "users": args.users, "rounds": args.rounds,
        "requests": args.users * args.rounds, "failed": failed,
        "example_prompts_included": not args.no_examples, "torch_threads": args.threads,
        "cores": os.cpu_count(), "python": platform.python_version(),
        "submit_to_list_s": _stats(listed),
        "submit_to_first_card_s": _stats([o.first for o in outcomes]),
        "submit_to_script_finished_s": _stats([o.finished for o in outcomes]),
        "server_run_to_list_ms": _stats(server_ms, 1),
        "messages_per_request": round(statistics.median(o.messages for o in outcomes)),
        "kb_per_request": round(statistics.median(o.bytes for o in outcomes) / 1024),
        "health": {"checks": health["checks"], "failures": health["failures"],
                   "slowest_s": round(health["slowest"], 2), "server_alive": alive},
        "rss_mb": {"before": round(rss_before), "after": round(rss_after),
                   "after_each_round": [round(v) for v in rss_rounds],
                   **({f"after_{args.rss_wait:.0f}_s_more": round(rss_waited)} if rss_waited is not None else {})},
        "load_average_1min": {"before": round(load_before[0], 1), "after": round(load_after[0], 1)},
        "wall_s": round(wall, 1),
        "cpu_s": {"server": round(server_cpu, 1), "client": round(client_cpu, 1), "machine": round(machine_cpu, 1)},
    }
    s, f, e = figures["submit_to_list_s"], figures["submit_to_first_card_s"], figures["submit_to_script_finished_s"]
    print(f"\n{args.users} websocket users at once × {args.rounds} rounds = {args.users * args.rounds} requests "
          f"({failed} failed), {os.cpu_count()} cores, RECSYS_TORCH_THREADS={args.threads}, "
          f"load average {load_before[0]:.1f} → {load_after[0]:.1f}")
    print("| measure | result | target |\n|---|---|---|")
    print(f"| submit → whole list received ({LIST_LENGTH} cards), p50 / p95 / max | {s['p50']:.2f} / "
          f"{s['p95']:.2f} / {s['max']:.2f} s | p50 ≤ 1 s, p95 ≤ 2 s |")
    print(f"| submit → first card, p50 / p95 | {f['p50']:.2f} / {f['p95']:.2f} s | |")
    print(f"| submit → script finished (page complete), p50 / p95 | {e['p50']:.2f} / {e['p95']:.2f} s | |")
    if server_ms:
        v = figures["server_run_to_list_ms"]
        print(f"| server: script run start → all cards drawn, p50 / p95 | {v['p50']:.0f} / {v['p95']:.0f} ms | |")
    print(f"| failed requests | {failed} | 0 |")
    print(f"| health checks failed (of {health['checks']}); slowest | {health['failures']}; "
          f"{health['slowest']:.2f} s | 0 |")
    waited = f" / {rss_waited:.0f} MB {args.rss_wait:.0f} s later" if rss_waited is not None else " MB"
    print(f"| server RSS before / after{' / later' if rss_waited is not None else ''} | {rss_before:.0f} / "
          f"{rss_after:.0f}{waited} | ≤ 1.5 GB |")
    print(f"\nCPU during the rounds ({wall:.0f} s wall): server {server_cpu:.1f} s, this client {client_cpu:.1f} s, "
          f"whole machine {machine_cpu:.1f} s; per request {figures['messages_per_request']} messages, "
          f"{figures['kb_per_request']} kB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0 if alive and failed == 0 and health["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
