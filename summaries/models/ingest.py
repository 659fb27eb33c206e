"""Raw capture batches: every accepted request, stored compressed before the 200 goes back."""
from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterable, Iterator

from django.db import models
from django.utils import timezone

from summaries.models.captured import Project


class RawBatch(models.Model):
    """One accepted capture request (or imported file part), kept until it is processed and afterwards.

    The payload is the accepted events (posthog-style dicts, `$snapshot` included), one JSON document per
    line, gzip-compressed, so processing reads one event at a time (batches stored before that format hold
    one JSON list and are still read). Processing turns it into Session / Event / RecordingChunk rows and
    is idempotent, so a batch can be reprocessed at any time (admin action, management command).
    """

    class Kind(models.TextChoices):
        EVENTS = "events", "Events"
        RECORDINGS = "recordings", "Recordings"
        IMPORT = "import", "Import"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="raw_batches")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.EVENTS)
    source = models.CharField(max_length=300, blank=True, default="", help_text="Endpoint path or imported file")
    received_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Client clock when the request was sent")
    user_agent = models.CharField(max_length=400, blank=True, default="")
    payload = models.BinaryField(help_text="gzip JSON lines, one accepted event each")
    payload_bytes = models.PositiveIntegerField(default=0, help_text="Bytes of the uncompressed JSON")
    event_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0, help_text="Events refused at capture time")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "received_at"], name="rawbatch_state_received"),
            models.Index(fields=["project", "received_at"], name="rawbatch_project_received"),
        ]
        ordering = ["-received_at"]
        verbose_name_plural = "raw batches"

    def __str__(self) -> str:
        return f"{self.kind} batch {self.pk} ({self.event_count} events, {self.state})"

    @staticmethod
    def pack(lines: Iterable[bytes]) -> tuple[bytes, int]:
        """Serialized events (one JSON line each) to (gzip bytes, uncompressed size), compressed as they come."""
        # Level 1: the request path pays for this, and the ratio on JSON is already good.
        packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        parts, size = [], 0
        for line in lines:
            parts.append(packer.compress(line))
            parts.append(packer.compress(b"\n"))
            size += len(line) + 1
        parts.append(packer.flush())
        return b"".join(parts), size

    def iter_events(self) -> Iterator[dict]:
        """The accepted events of this batch, one at a time (ValueError for a line that is not JSON)."""
        with gzip.GzipFile(fileobj=io.BytesIO(bytes(self.payload))) as stream:
            first = stream.peek(1)[:1]
            if first == b"[":  # stored as one JSON list before payloads became JSON lines
                yield from json.load(stream)
                return
            for line in stream:
                if line.strip():
                    yield json.loads(line)

    def events(self) -> list[dict]:
        """All accepted events of this batch."""
        return list(self.iter_events())


class QuarantinedEvent(models.Model):
    """An accepted event that processing could not store, kept with the reason instead of failing its batch."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="quarantined_events")
    raw_batch = models.ForeignKey(RawBatch, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="quarantined_events")
    name = models.CharField(max_length=200, blank=True, default="", help_text="The event's name, if it had one")
    reason = models.TextField()
    event = models.TextField(help_text="The event as JSON (ASCII-escaped, cut at 100 kB)")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["project", "created_at"], name="quarantine_project_created")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name or 'event'} quarantined: {self.reason[:60]}"

    @classmethod
    def describe(cls, event: object) -> str:
        """An event as storable text whatever it holds (NUL, surrogates, NaN are escaped, never refused)."""
        try:
            text = json.dumps(event, default=repr)
        except (ValueError, RecursionError):
            text = repr(event)
        return text[:100_000]
