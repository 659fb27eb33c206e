"""A local stand-in for PostHog's public API (the endpoints import_posthog uses), on 127.0.0.1."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class StubRecording:
    """One recording the stub serves: listing fields, snapshot blobs (lists of JSON lines) and events."""

    session_id: str
    start_time: str
    distinct_id: str
    person: dict | None
    blobs: list[list[str]]
    events: list[list]


@dataclass
class PostHogStub:
    """What the stub knows and what it was asked."""

    project_id: int
    api_key: str
    recordings: list[StubRecording] = field(default_factory=list)
    page_size: int = 2
    fail_first_listing_with_429: bool = True
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """A request handler bound to this stub."""
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                """Quiet."""

            def reply(self, status: int, body: object, content_type: str = "application/json") -> None:
                """Send a response."""
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def authorized(self) -> bool:
                """The personal API key is checked like PostHog does."""
                if self.headers.get("Authorization") != f"Bearer {stub.api_key}":
                    self.reply(401, {"type": "authentication_error", "detail": "Invalid personal API key."})
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                """Recording listing and snapshots."""
                stub.requests.append(f"GET {self.path}")
                if not self.authorized():
                    return
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                base = f"/api/projects/{stub.project_id}/session_recordings/"
                if url.path == base:
                    if stub.fail_first_listing_with_429:
                        stub.fail_first_listing_with_429 = False
                        return self.reply(429, {"detail": "Request was throttled."})
                    offset = int(query.get("offset", 0))
                    limit = min(int(query.get("limit", stub.page_size)), stub.page_size)
                    page = stub.recordings[offset:offset + limit]
                    more = offset + limit < len(stub.recordings)
                    next_url = f"{stub.url}{base}?limit={limit}&offset={offset + limit}" if more else None
                    return self.reply(200, {"results": [
                        {"id": r.session_id, "distinct_id": r.distinct_id, "start_time": r.start_time,
                         "person": r.person} for r in page], "has_next": more, "next": next_url})
                for recording in stub.recordings:
                    if url.path == f"{base}{recording.session_id}/snapshots":
                        if "source" not in query:
                            return self.reply(200, {"sources": [
                                {"source": "blob_v2", "blob_key": str(i), "start_timestamp": recording.start_time,
                                 "end_timestamp": recording.start_time} for i in range(len(recording.blobs))]})
                        if query.get("source") != "blob_v2" or query.get("start_blob_key") != query.get("end_blob_key"):
                            return self.reply(400, {"detail": "bad source"})
                        lines = recording.blobs[int(query["start_blob_key"])]
                        return self.reply(200, "\n".join(lines) + "\n", "application/jsonl")
                return self.reply(404, {"detail": "Not found."})

            def do_POST(self) -> None:  # noqa: N802
                """HogQL query for a session's events."""
                stub.requests.append(f"POST {self.path}")
                if not self.authorized():
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if urlparse(self.path).path != f"/api/projects/{stub.project_id}/query/":
                    return self.reply(404, {"detail": "Not found."})
                query = body.get("query", {})
                if query.get("kind") != "HogQLQuery" or "FROM events" not in query.get("query", ""):
                    return self.reply(400, {"detail": "unsupported query"})
                session_id = query.get("values", {}).get("session_id")
                rows = next((r.events for r in stub.recordings if r.session_id == session_id), [])
                return self.reply(200, {"columns": ["uuid", "event", "timestamp", "distinct_id", "properties"],
                                        "results": rows})

        return Handler

    def start(self) -> ThreadingHTTPServer:
        """Serve on 127.0.0.1 on a free port, in a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
