"""Raw capture batches: every accepted request, stored compressed before the 200 goes back."""
from __future__ import annotations

import gzip
import json

from django.db import models
from django.utils import timezone

from summaries.models.captured import Project


class RawBatch(models.Model):
    """One accepted capture request (or imported file part), kept until it is processed and afterwards.

    The payload is the list of accepted events (posthog-style dicts, `$snapshot` included),
    gzip-compressed JSON. Processing turns it into Session / Event / RecordingChunk rows and
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
    payload = models.BinaryField(help_text="gzip JSON list of accepted events")
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
    def pack(events: list[dict]) -> tuple[bytes, int]:
        """Events to (gzip JSON bytes, uncompressed size)."""
        raw = json.dumps(events, separators=(",", ":"), ensure_ascii=False).encode()
        # Level 1: the request path pays for this, and the ratio on JSON is already good.
        return gzip.compress(raw, 1), len(raw)

    def events(self) -> list[dict]:
        """The accepted events of this batch."""
        return json.loads(gzip.decompress(bytes(self.payload)))
