"""Replay clips: one row per rendered (or failed) window of a session, also serving as the render cache.

A clip's fingerprint (its cache key) holds the renderer version, a hash of the code, replay page,
rrweb build and encoder settings that decide its pixels (replay_render/version.py), so a clip made by
older renderer code is never served as current: the new fingerprint finds no row and is rendered anew.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from replay_render.version import renderer_version
from summaries.models import Session, datetime_to_ms


def clip_file_path(clip: "Clip", filename: str) -> str:
    """Clips live under the organization and project they belong to, like recordings."""
    project = clip.session.project
    return f"org-{project.organization_id}/project-{project.pk}/clips/{clip.session_id}/{filename}"


def clip_fingerprint(session_pk: int, start: datetime, end: datetime, fps: int, options: dict) -> str:
    """The render cache key: the same renderer, session, window, fps and options give the same clip."""
    payload = {
        "v": renderer_version(),
        "session": session_pk,
        "start": datetime_to_ms(start),
        "end": datetime_to_ms(end),
        "fps": fps,
        "options": options,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class Clip(models.Model):
    """A webm of a session window, rendered deterministically from its rrweb recording."""

    class State(models.TextChoices):
        """Where a clip is in its life."""
        PENDING = "pending", "Pending"
        RENDERING = "rendering", "Rendering"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Failure(models.TextChoices):
        """Why a clip failed."""
        NONE = "", "-"
        NO_RECORDING = "no_recording", "No recording in the window"
        NO_FULL_SNAPSHOT = "no_full_snapshot", "No FullSnapshot"
        CORRUPT = "corrupt", "Corrupt recording"
        TIMEOUT = "timeout", "Timed out"
        BROWSER = "browser", "Browser failure"
        ENCODE = "encode", "Encoding failure"

    # Failures that another attempt may fix; the others are facts about the recording.
    RETRYABLE = frozenset({Failure.TIMEOUT, Failure.BROWSER, Failure.ENCODE})

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="clips")
    start_time = models.DateTimeField(help_text="Window start (recording time)")
    end_time = models.DateTimeField(help_text="Window end (recording time)")
    fps = models.PositiveSmallIntegerField(default=1)
    options = models.JSONField(default=dict, blank=True, help_text="footer, skip_inactive, codec")
    fingerprint = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    failure = models.CharField(max_length=20, choices=Failure.choices, default=Failure.NONE, blank=True)
    failure_reason = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=clip_file_path, max_length=500, blank=True)
    codec = models.CharField(max_length=10, blank=True, default="")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(default=0)
    byte_size = models.PositiveIntegerField(default=0)
    frame_count = models.PositiveIntegerField(default=0)
    frame_times = models.JSONField(
        default=list, blank=True, help_text="Recording time (epoch ms) shown by each frame, in order"
    )
    page_texts = models.JSONField(
        default=list, blank=True,
        help_text="The replayed page's visible text whenever it changed: [{t: epoch ms, text}] (rule-based validation)",
    )
    skipped_seconds = models.FloatField(default=0, help_text="Idle time cut out of the clip")
    blocked_request_count = models.PositiveIntegerField(default=0)
    render_seconds = models.FloatField(default=0)
    rendered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        """Indexes and ordering."""
        indexes = [models.Index(fields=["session", "start_time"], name="clip_session_start")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        """Clip id, session, window start and state."""
        return f"clip {self.pk} of {self.session_id} @ {self.start_time:%H:%M:%S} ({self.state})"

    @property
    def organization_id(self) -> int:
        """The organization that may see this clip."""
        return self.session.project.organization_id

    @property
    def is_ready(self) -> bool:
        """True when the webm can be played."""
        return self.state == self.State.DONE and bool(self.file)

    def is_stale(self, limit: timedelta) -> bool:
        """A clip stuck in 'rendering' longer than `limit` belongs to a worker that died."""
        return self.state == self.State.RENDERING and self.updated_at < timezone.now() - limit

    def can_retry(self, max_attempts: int) -> bool:
        """A failed clip is rendered again only for failures another attempt may fix."""
        return self.state == self.State.FAILED and self.failure in self.RETRYABLE and self.attempts < max_attempts
