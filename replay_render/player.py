"""The session replay player: rrweb-player's files from node_modules, and a session's recording as JSON."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Max, Min
from django.http import Http404, HttpRequest, HttpResponse

from replay_render.rendering import clip_events
from summaries.models import Session, datetime_to_ms
from summaries.safe_json import json_response
from summaries.summary_views import visible_session

ASSETS = {
    "rrweb-player.js": ("rrweb-player.umd.min.cjs", "application/javascript; charset=utf-8"),
    "rrweb-player.css": ("style.min.css", "text/css; charset=utf-8"),
}


@lru_cache(maxsize=4)
def _asset(name: str) -> bytes:
    """An rrweb-player file from node_modules (read once per process)."""
    path = Path(settings.NODE_MODULES) / "rrweb-player" / "dist" / ASSETS[name][0]
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Http404(f"{path.name} is missing: run `npm ci` (scripts/setup does)") from exc


@login_required
def player_asset(request: HttpRequest, name: str) -> HttpResponse:
    """rrweb-player's script or stylesheet, served by Recap itself (no CDN)."""
    if name not in ASSETS:
        raise Http404("No such asset")
    response = HttpResponse(_asset(name), content_type=ASSETS[name][1])
    response["Cache-Control"] = "private, max-age=86400"
    return response


def recording_events(session: Session) -> list[dict]:
    """The whole recording of the session's busiest browser tab, time-ordered."""
    bounds = session.recording_chunks.aggregate(first=Min("first_timestamp"), last=Max("last_timestamp"))
    if bounds["first"] is None:
        return []
    return clip_events(session, bounds["first"], bounds["last"])


@login_required
def session_recording(request: HttpRequest, pk: int) -> HttpResponse:
    """The session's rrweb events and start time, for the player on the session page (members only)."""
    session = visible_session(request.user, pk)
    start_ms = datetime_to_ms(session.start_time) if session.start_time else None
    return json_response({"session_start_ms": start_ms, "events": recording_events(session)}, cache="private, no-cache")
