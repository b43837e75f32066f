"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for the app's LLM tests.

Speaks ``GET /v1/models`` (the health check) and ``POST /v1/chat/completions``; records
every call with its ``Authorization`` header. By default it answers the intent prompt
with :data:`GOOD_INTENT` and the rerank prompt with :attr:`ChatServer.order` (candidate
numbers, best first); ``status`` / ``delay`` make it fail or stall. Bounded: it serves
only while a test holds it and stops on :meth:`close`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
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


class ChatServer:
    """``http://127.0.0.1:<port>/v1``, answering from :attr:`intent` / :attr:`order`."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.intent: dict[str, Any] = dict(GOOD_INTENT)
        self.order: list[int] = [3, 1, 2]
        self.status = 200              #: HTTP status of chat completions (500: a broken server)
        self.rerank_status = 200
        self.delay = 0.0               #: seconds before a chat completion answers
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                system = body["messages"][0]["content"]
                rerank = "rank movie candidates" in system
                server.calls.append({"kind": "rerank" if rerank else "intent", "body": body,
                                     "auth": self.headers.get("Authorization")})
                if server.delay:
                    time.sleep(server.delay)
                status = server.rerank_status if rerank else server.status
                if status != 200:
                    self._send(status, {"error": {"message": "internal error"}})
                    return
                content = {"order": server.order} if rerank else server.intent
                self._send(200, {"id": "chatcmpl-test", "object": "chat.completion", "model": MODEL,
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": json.dumps(content)}}]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="chat-server", daemon=True)
        self._thread.start()

    def kinds(self) -> list[str]:
        return [c["kind"] for c in self.calls]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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
