"""A real OpenAI-compatible chat-completions server on 127.0.0.1, for every LLM test.

Speaks ``GET /v1/models`` (the health check) and ``POST /v1/chat/completions`` and records
each call with its ``Authorization`` header. What it answers is :attr:`ChatServer.reply`,
``body → (status, payload)`` (a dict is sent as JSON, bytes as they are); the default
answers the intent prompt with :attr:`ChatServer.intent` and the rerank prompt with
:attr:`ChatServer.order`, failing with :attr:`status` / :attr:`rerank_status`.
:attr:`delay` stalls every chat completion; :attr:`trickle` ``(chunks, seconds)`` sends
every body in that many pieces with a pause between them; :attr:`redirect` answers every
request with a 302 to that URL; :attr:`echo_auth` puts the ``Authorization`` header it got
into the intent answer's keywords (a backend that echoes the key). GET requests are
recorded too (``kind == "models"``). It serves only while a test holds it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

MODEL = "firstreel-test-model"
API_KEY = "sk-test-DO-NOT-SHOW-7f3a9c2e41"

#: What a good model answers for "mind-bending sci-fi like Inception, nothing gory, 90s is fine".
GOOD_INTENT = {
    "liked_genres": ["Science Fiction", "Thriller"], "disliked_genres": ["horror"],
    "era": {"start": 1990, "end": 1999}, "keywords": ["mind-bending"], "titles": ["Inception"],
    "similar_titles": ["Memento (2000)", "Dark City (1998)", "Gattaca (1997)", "A Film That Does Not Exist (1999)"],
}

Reply = Callable[[dict[str, Any]], tuple[int, Any]]


def completion(content: Any) -> dict[str, Any]:
    """A chat-completions reply whose message is ``content`` (JSON-encoded unless a string)."""
    text = content if isinstance(content, str) else json.dumps(content)
    return {"id": "chatcmpl-test", "object": "chat.completion", "model": MODEL,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}]}


class ChatServer:
    """``http://127.0.0.1:<port>/v1`` answering with :attr:`reply`."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.intent: dict[str, Any] = dict(GOOD_INTENT)
        self.order: list[int] = [3, 1, 2]
        self.status = 200              #: HTTP status of intent answers (500: a broken server)
        self.rerank_status = 200
        self.delay = 0.0               #: seconds before a chat completion answers
        self.trickle: tuple[int, float] | None = None   #: (pieces, seconds between them)
        self.redirect: str | None = None                #: answer every request with a 302 here
        self.echo_auth = False                          #: echo the Authorization header back
        self.reply: Reply = self._scripted
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any) -> None:
                if server.redirect:
                    self.send_response(302)
                    self.send_header("Location", server.redirect + self.path.removeprefix("/v1"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    if server.trickle:
                        pieces, pause = server.trickle
                        size = -(-len(data) // pieces)
                        for start in range(0, len(data), size):
                            self.wfile.write(data[start:start + size])
                            self.wfile.flush()
                            time.sleep(pause)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                server.calls.append({"kind": "models", "body": None, "path": self.path,
                                     "auth": self.headers.get("Authorization")})
                self._send(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                auth = self.headers.get("Authorization")
                server.calls.append({"kind": _kind(body), "body": body, "path": self.path, "auth": auth})
                if server.delay:
                    time.sleep(server.delay)
                status, payload = server.reply(body)
                if server.echo_auth and auth and _kind(body) == "intent":
                    token = auth.split(" ", 1)[-1]
                    answer = dict(server.intent)
                    answer["keywords"] = [*answer.get("keywords", []), token, f"key={token}"]
                    answer["titles"] = [*answer.get("titles", []), f"Your key is {token}"]
                    status, payload = 200, completion(answer)
                self._send(status, payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="chat-server", daemon=True)
        self._thread.start()

    def _scripted(self, body: dict[str, Any]) -> tuple[int, Any]:
        rerank = _kind(body) == "rerank"
        status = self.rerank_status if rerank else self.status
        if status != 200:
            return status, {"error": {"message": "internal error"}}
        return 200, completion({"order": self.order} if rerank else self.intent)

    def kinds(self, models: bool = False) -> list[str]:
        """``"intent"`` / ``"rerank"`` per chat call, in order (``models``: with the
        ``GET /models`` health checks as ``"models"``)."""
        return [c["kind"] for c in self.calls if models or c["kind"] != "models"]

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


def _kind(body: dict[str, Any]) -> str:
    return "rerank" if "rank movie candidates" in body["messages"][0]["content"] else "intent"


@contextmanager
def chat_server(monkeypatch: pytest.MonkeyPatch, *, timeout: float | None = None) -> Iterator[ChatServer]:
    """A running server with ``RECSYS_LLM_*`` pointing at it (and a secret API key)."""
    server = ChatServer()
    monkeypatch.setenv("RECSYS_LLM_BASE_URL", server.url)
    monkeypatch.setenv("RECSYS_LLM_MODEL", MODEL)
    monkeypatch.setenv("RECSYS_LLM_API_KEY", API_KEY)
    if timeout is not None:
        monkeypatch.setenv("RECSYS_LLM_TIMEOUT", str(timeout))
    try:
        yield server
    finally:
        server.close()
