"""HTTP plumbing the demo apps share: JSON and file responses, and a threaded server on a background thread."""
from __future__ import annotations

import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class DemoHandler(BaseHTTPRequestHandler):
    """A request handler with the response helpers every demo app uses."""

    protocol_version = "HTTP/1.1"
    not_found: dict = {"error": "not found"}

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature fixed by http.server
        """Keep the app quiet; the journeys record what they need."""

    def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
        """HEAD is GET without a body."""
        self.do_GET()

    def send_body(self, status: int, body: bytes, content_type: str, cache: bool = False,
                  headers: dict[str, str] | None = None) -> None:
        """Send a complete response."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=3600" if cache else "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, payload: object) -> None:
        """Send a JSON response."""
        self.send_body(status, json.dumps(payload).encode(), "application/json")

    def read_json(self) -> dict:
        """The request's JSON body ({} when empty or not JSON)."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def send_file(self, path: Path, cache: bool = True, replace: dict[str, str] | None = None) -> None:
        """Send a file from disk (with placeholders replaced), or 404."""
        if not path.is_file():
            self.send_json(404, self.not_found)
            return
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        body = path.read_bytes()
        for old, new in (replace or {}).items():
            body = body.replace(old.encode(), new.encode())
        self.send_body(200, body, ctype, cache=cache)


class DemoServer(ThreadingHTTPServer):
    """A demo app listening on one port, one thread per request."""

    daemon_threads = True
    allow_reuse_address = True

    @property
    def port(self) -> int:
        """The port the app listens on."""
        return self.server_address[1]

    def serve_until_interrupted(self, banner: str) -> None:
        """Print where the app is and serve in this thread until Ctrl-C."""
        print(banner, flush=True)
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            pass

    def start_in_thread(self, name: str) -> DemoServer:
        """Serve on a background thread; stop with .shutdown()."""
        threading.Thread(target=self.serve_forever, name=name, daemon=True).start()
        return self
