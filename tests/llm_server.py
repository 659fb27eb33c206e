"""A local OpenAI-compatible chat server with scripted answers, for tests (point litellm's api_base at it).

Usage::

    with LLMTestServer() as server:
        server.script(Reply("segments: ..."), Status(429), Hang(5), Reply(lambda req: ...))
        complete(messages, model="openai/gpt-4o-mini", api_base=server.base_url)
        server.requests  # every request body received (JSON), in order

Each request takes the next scripted step; when the script is empty, `default` answers (by default a
500 saying the script ran out). `default` may also be a function of the request body returning a step,
so a long run can be answered (and made to fail or lag) by rule. Reply texts may be callables of the
request body, so an answer can be built from the prompt (e.g. echo ids it contains). Image and video
content parts are accepted and kept. Each received request records when it arrived and when it was
answered. The `llm_server` pytest fixture starts one per test.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Answer = str | Callable[[dict[str, Any]], str]


@dataclass
class Reply:
    """A 200 answer with this text (or text built from the request), after an optional delay."""

    text: Answer
    delay: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass
class Status:
    """An error status with an OpenAI-style error body (429 rate limit, 500, 503...)."""

    code: int
    message: str = "scripted failure"
    retry_after: float | None = None


@dataclass
class Hang:
    """No answer for this many seconds (makes the client's timeout fire), then a 500."""

    seconds: float


@dataclass
class ReceivedRequest:
    """One request the server received."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    received_at: float = field(default_factory=time.time)
    answered_at: float | None = None
    status: int | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages sent."""
        return self.body.get("messages") or []

    def text(self) -> str:
        """All text content of the messages, joined."""
        out = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                out.append(content)
            elif isinstance(content, list):
                out += [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(out)

    def media_parts(self) -> list[dict[str, Any]]:
        """Non-text content parts (images, files/videos)."""
        parts = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, list):
                parts += [p for p in content if isinstance(p, dict) and p.get("type") != "text"]
        return parts


class LLMTestServer:
    """A real HTTP server on 127.0.0.1 speaking the OpenAI chat completions API, driven by a script."""

    def __init__(self) -> None:
        """A server that is not started yet."""
        self.steps: deque[Reply | Status | Hang] = deque()
        self.default: Reply | Status | Hang | Callable[[dict[str, Any]], Reply | Status | Hang] = Status(
            500, "the test script ran out of answers")
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- script -----------------------------------------------------------------------------------------------
    def script(self, *steps: Reply | Status | Hang) -> "LLMTestServer":
        """Append answers for the next requests, in order."""
        with self._lock:
            self.steps.extend(steps)
        return self

    def _next_step(self, body: dict[str, Any]) -> Reply | Status | Hang:
        with self._lock:
            if self.steps:
                return self.steps.popleft()
            default = self.default
        if callable(default) and not isinstance(default, (Reply, Status, Hang)):
            return default(body)
        return default

    @property
    def call_count(self) -> int:
        """Chat completion requests received so far."""
        return sum(1 for r in self.requests if r.path.endswith("/chat/completions"))

    # -- lifecycle --------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The api_base to give litellm (OpenAI-style, ends in /v1)."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "LLMTestServer":
        """Listen on a free port of 127.0.0.1 in a background thread."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def _send(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None,
                      request: ReceivedRequest | None = None) -> None:
                body = json.dumps(payload).encode()
                if request is not None:
                    request.answered_at, request.status = time.time(), code
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "recap-test", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                    return
                request = ReceivedRequest(self.path, body, {k.lower(): v for k, v in self.headers.items()})
                with server._lock:
                    server.requests.append(request)
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                step = server._next_step(body)
                if isinstance(step, Hang):
                    time.sleep(step.seconds)
                    self._send(500, {"error": {"message": "hung on purpose", "type": "server_error"}},
                               request=request)
                    return
                if isinstance(step, Status):
                    headers = {"Retry-After": str(step.retry_after)} if step.retry_after is not None else None
                    kind = "rate_limit_exceeded" if step.code == 429 else "server_error"
                    self._send(step.code, {"error": {"message": step.message, "type": kind, "code": kind}}, headers,
                               request=request)
                    return
                if step.delay:
                    time.sleep(step.delay)
                text = step.text(body) if callable(step.text) else step.text
                prompt_chars = len(json.dumps(body.get("messages") or []))
                prompt_tokens = step.prompt_tokens if step.prompt_tokens is not None else max(1, prompt_chars // 4)
                completion_tokens = step.completion_tokens if step.completion_tokens is not None else max(1, len(text) // 4)
                self._send(200, {
                    "id": f"chatcmpl-test-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "recap-test"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                              "total_tokens": prompt_tokens + completion_tokens},
                }, request=request)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="llm-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "LLMTestServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def llm_server():
    """A running LLMTestServer for one test."""
    with LLMTestServer() as server:
        yield server
