"""`manage.py render_clip SESSION_ID --at SECONDS`: render a moment of a session to a webm to look at."""
from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from replay_render.models import Clip
from replay_render.rendering import ClipRequestError, clip_for, clip_window, render
from summaries.models import Session


class Command(BaseCommand):
    """Render (or reuse) the clip around a moment of a session and copy the webm to a file."""

    help = "Render the replay of a session around a moment (seconds from the session start) to a webm file."

    def add_arguments(self, parser: CommandParser) -> None:
        """Command-line options."""
        parser.add_argument("session_id", help="the session's id as captured (posthog $session_id)")
        parser.add_argument("--at", type=float, required=True, help="the moment, in seconds from the session start")
        parser.add_argument("--fps", type=int, default=None, help="frames per second, 1-10 (default RECAP_CLIP_FPS)")
        parser.add_argument("--before", type=float, default=None, help="seconds before the moment (default 2)")
        parser.add_argument("--after", type=float, default=None, help="seconds after the moment (default 8)")
        parser.add_argument("--out", default=None, help="where to write the webm (default ./clip-<session>-<at>.webm)")
        parser.add_argument("--project", type=int, default=None, help="project id, when the session id is ambiguous")
        parser.add_argument("--no-footer", action="store_true", help="leave out the time/URL footer")
        parser.add_argument("--force", action="store_true", help="render again even if a cached clip exists")

    def handle(self, *args: object, **opts: object) -> None:
        """Find the session, render, copy the file, print the clip's figures."""
        sessions = Session.objects.filter(session_id=opts["session_id"])
        if opts["project"]:
            sessions = sessions.filter(project_id=opts["project"])
        found = list(sessions.select_related("project")[:2])
        if not found:
            raise CommandError(f"no session {opts['session_id']!r} (check the id, or pass --project)")
        if len(found) > 1:
            raise CommandError(f"session id {opts['session_id']!r} exists in several projects: pass --project ID")
        session = found[0]
        origin = session.start_time or (session.recording_chunks.order_by("first_timestamp").first() or
                                        _missing(session)).first_timestamp
        start, end = clip_window(origin + timedelta(seconds=float(opts["at"])), opts["before"], opts["after"])
        try:
            clip = clip_for(session, start, end, opts["fps"], footer=False if opts["no_footer"] else None)
        except ClipRequestError as exc:
            raise CommandError(str(exc)) from exc
        clip = render(clip, force=bool(opts["force"]))
        if clip.state != Clip.State.DONE:
            raise CommandError(f"clip {clip.pk} {clip.state}: {clip.failure_reason or 'another worker is rendering it'}")
        out = Path(str(opts["out"] or f"clip-{session.session_id}-{float(opts['at']):g}.webm"))
        with clip.file.open("rb") as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        self.stdout.write(
            f"{out}: {clip.frame_count} frames at {clip.fps} fps, {clip.duration_seconds:.1f} s, "
            f"{clip.width}x{clip.height}, {clip.byte_size} bytes, rendered in {clip.render_seconds:.2f} s "
            f"(clip {clip.pk})"
        )


def _missing(session: Session):
    """Raise the error for a session without a recording."""
    raise CommandError(f"session {session.session_id!r} has no recording")
