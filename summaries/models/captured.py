"""Tenancy (organizations, members, projects) and captured data (sessions, events, rrweb recordings)."""
from __future__ import annotations

import gzip
import heapq
import json
import secrets
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models


def new_capture_token() -> str:
    """A public capture token, posthog-style (safe to ship in page source)."""
    return "phc_" + secrets.token_urlsafe(24)


def new_secret_api_key() -> str:
    """A secret API key for server-side access."""
    return "rcs_" + secrets.token_urlsafe(32)


def ms_to_datetime(ms: float) -> datetime:
    """Epoch milliseconds (rrweb's clock) to an aware datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def datetime_to_ms(value: datetime) -> int:
    """An aware datetime to epoch milliseconds."""
    return int(round(value.timestamp() * 1000))


class Organization(models.Model):
    """A customer: owns projects; every page and blob is scoped to one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A Django user's role in an organization."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Project(models.Model):
    """One product being recorded: posthog-js sends to it with its public capture token."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    capture_token = models.CharField(max_length=64, unique=True, default=new_capture_token)
    secret_api_key = models.CharField(max_length=80, unique=True, default=new_secret_api_key)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "name"]

    def __str__(self) -> str:
        return f"{self.organization} / {self.name}"


class Session(models.Model):
    """One user session: assembled from events and recording chunks as they arrive."""

    class IngestionState(models.TextChoices):
        RECEIVING = "receiving", "Receiving"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sessions")
    session_id = models.CharField(max_length=200)
    distinct_id = models.CharField(max_length=200, blank=True, default="")
    person_email = models.EmailField(blank=True, default="")
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(default=0)
    active_seconds = models.FloatField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)
    keypress_count = models.PositiveIntegerField(default=0)
    console_error_count = models.PositiveIntegerField(default=0)
    exception_count = models.PositiveIntegerField(default=0)
    recording_event_count = models.PositiveIntegerField(default=0)
    mouse_activity_count = models.PositiveIntegerField(default=0)
    first_url = models.URLField(max_length=2048, blank=True, default="")
    first_url_at = models.DateTimeField(
        null=True, blank=True, help_text="When first_url was seen; lets earlier, late-arriving data replace it"
    )
    activity_segments = models.JSONField(
        null=True, blank=True, default=list,
        help_text="[[start_ms, end_ms], ...] of user activity that active_seconds sums (null: not computed yet)",
    )
    ingestion_state = models.CharField(
        max_length=10, choices=IngestionState.choices, default=IngestionState.RECEIVING
    )
    last_ingested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "session_id"], name="unique_session_per_project")]
        indexes = [
            models.Index(fields=["project", "start_time"], name="session_project_start"),
            models.Index(fields=["project", "ingestion_state", "end_time"], name="session_project_state_end"),
        ]
        ordering = ["-start_time"]

    def __str__(self) -> str:
        return self.session_id

    @property
    def organization(self) -> Organization:
        """The organization this session belongs to."""
        return self.project.organization

    def rrweb_events(
        self, start: datetime | None = None, end: datetime | None = None, *, from_full_snapshot: bool = False
    ) -> list[dict]:
        """The session's rrweb events of all windows, time-ordered, between start and end (inclusive).

        Only the chunks that overlap the range are read. With from_full_snapshot, the range
        is widened back to the last chunk holding a FullSnapshot at or before `start`, so a
        replayer can rebuild the page at `start`.
        """
        chunks = self.recording_chunks.all()
        if start is not None and from_full_snapshot:
            anchor = (
                chunks.filter(has_full_snapshot=True, first_timestamp__lte=start)
                .order_by("-first_timestamp")
                .values_list("first_timestamp", flat=True)
                .first()
            )
            if anchor is not None:
                start = min(start, anchor)
        if start is not None:
            chunks = chunks.filter(last_timestamp__gte=start)
        if end is not None:
            chunks = chunks.filter(first_timestamp__lte=end)
        start_ms = datetime_to_ms(start) if start is not None else None
        end_ms = datetime_to_ms(end) if end is not None else None
        streams = [chunk.read_events() for chunk in chunks.order_by("first_timestamp", "pk")]
        merged = heapq.merge(*streams, key=lambda e: e.get("timestamp", 0))
        return [
            e
            for e in merged
            if (start_ms is None or e.get("timestamp", 0) >= start_ms)
            and (end_ms is None or e.get("timestamp", 0) <= end_ms)
        ]


class Event(models.Model):
    """One analytics event (pageview, autocapture, exception, ...) of a session."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events")
    uuid = models.UUIDField(default=uuid.uuid4, help_text="Unique within its session: a resent event is stored once")
    timestamp = models.DateTimeField()
    name = models.CharField(max_length=200)
    window_id = models.CharField(max_length=200, blank=True, default="")
    current_url = models.URLField(max_length=2048, blank=True, default="")
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        # Identity is per session (so per project): the same event id in two projects is two events.
        constraints = [models.UniqueConstraint(fields=["session", "uuid"], name="one_event_per_session_uuid")]
        indexes = [
            models.Index(fields=["session", "timestamp"], name="event_session_time"),
            models.Index(fields=["name"], name="event_name"),
        ]
        ordering = ["timestamp"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.timestamp:%H:%M:%S}"


def recording_blob_path(chunk: "RecordingChunk", filename: str) -> str:
    """Blobs live under the organization and project they belong to."""
    project = chunk.session.project
    return f"org-{project.organization_id}/project-{project.pk}/recordings/{chunk.session_id}/{filename}"


class RecordingChunk(models.Model):
    """A run of rrweb events of one window, stored as a gzip JSONL blob in Django storage."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="recording_chunks")
    window_id = models.CharField(max_length=200, blank=True, default="")
    first_timestamp = models.DateTimeField()
    last_timestamp = models.DateTimeField()
    event_count = models.PositiveIntegerField()
    byte_size = models.PositiveIntegerField(help_text="Bytes of the uncompressed JSONL")
    has_full_snapshot = models.BooleanField(default=False)
    blob = models.FileField(upload_to=recording_blob_path, max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept per chunk so session aggregates can be recomputed without reading any blob.
    source_key = models.CharField(
        max_length=200, blank=True, default="", help_text="Where the chunk came from; the same source is stored once"
    )
    activity_segments = models.JSONField(
        default=list, blank=True, help_text="[[start_ms, end_ms], ...] of user activity, split at idle gaps"
    )
    click_count = models.PositiveIntegerField(default=0)
    keypress_count = models.PositiveIntegerField(default=0)
    mouse_activity_count = models.PositiveIntegerField(default=0)
    console_error_count = models.PositiveIntegerField(default=0)
    first_url = models.URLField(max_length=2048, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["session", "first_timestamp"], name="chunk_session_first")]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "source_key"],
                condition=~models.Q(source_key=""),
                name="one_chunk_per_source",
            )
        ]
        ordering = ["first_timestamp"]

    def __str__(self) -> str:
        return f"{self.session_id} {self.window_id} {self.first_timestamp:%H:%M:%S} ({self.event_count})"

    @classmethod
    def store(
        cls, session: Session, window_id: str, events: Iterable[dict], *, source_key: str = "", **fields: object
    ) -> "RecordingChunk":
        """Write rrweb events (any order) as a new chunk of the session; return the saved row.

        `fields` sets extra columns (activity segments, counts) computed by the caller.
        """
        chunk = cls.prepare(session, window_id, events, source_key=source_key, **fields)
        chunk.save()
        return chunk

    @classmethod
    def prepare(
        cls, session: Session, window_id: str, events: Iterable[dict], *, source_key: str = "", **fields: object
    ) -> "RecordingChunk":
        """A chunk whose blob is written to storage but whose row is not saved yet (callers save many at once)."""
        ordered = sorted(events, key=lambda e: e.get("timestamp", 0))
        if not ordered:
            raise ValueError("a recording chunk needs at least one rrweb event")
        raw = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in ordered).encode()
        chunk = cls(
            session=session,
            window_id=window_id or "",
            first_timestamp=ms_to_datetime(ordered[0].get("timestamp", 0)),
            last_timestamp=ms_to_datetime(ordered[-1].get("timestamp", 0)),
            event_count=len(ordered),
            byte_size=len(raw),
            has_full_snapshot=any(e.get("type") == 2 for e in ordered),
            source_key=source_key,
            **fields,
        )
        # Level 3: nearly the speed of level 1 (capture pays it), about a tenth larger than level 6.
        chunk.blob.save(f"{uuid.uuid4().hex}.jsonl.gz", ContentFile(gzip.compress(raw, 3)), save=False)
        return chunk

    def iter_events(self) -> Iterator[dict]:
        """The chunk's rrweb events, in time order."""
        with self.blob.open("rb") as fh, gzip.open(fh, "rt") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)

    def read_events(self) -> list[dict]:
        """All the chunk's rrweb events, in time order."""
        return list(self.iter_events())
