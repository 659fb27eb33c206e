"""The summaries app's models: one module per concern, re-exported here."""
from __future__ import annotations

from summaries.models.captured import (
    Event,
    Membership,
    Organization,
    Project,
    RecordingChunk,
    Session,
    datetime_to_ms,
    ms_to_datetime,
    new_capture_token,
    new_secret_api_key,
)
from summaries.models.ingest import QuarantinedEvent, RawBatch
from summaries.models.summary import SessionSummary, summary_cache_key

__all__ = [
    "Event",
    "Membership",
    "Organization",
    "Project",
    "QuarantinedEvent",
    "RawBatch",
    "RecordingChunk",
    "Session",
    "SessionSummary",
    "datetime_to_ms",
    "ms_to_datetime",
    "new_capture_token",
    "new_secret_api_key",
    "summary_cache_key",
]
