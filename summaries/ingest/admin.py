"""Admin for raw capture batches and quarantined events: what arrived, what failed and why, and reprocessing."""
from __future__ import annotations

import json
from itertools import islice

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from summaries.admin_scope import OrganizationScopedAdmin
from summaries.ingest.batches import enqueue_batch, reprocess
from summaries.models import QuarantinedEvent, RawBatch

SYNC_LIMIT = 20


@admin.register(RawBatch)
class RawBatchAdmin(OrganizationScopedAdmin):
    """Raw batches by state; failed ones show their error and can be processed again."""

    organization_path = "project__organization"
    list_display = ["id", "project", "kind", "source", "received_at", "event_count", "rejected_count", "state",
                    "attempts", "short_error"]
    list_filter = ["state", "kind", "project"]
    search_fields = ["=id", "source", "error"]
    date_hierarchy = "received_at"
    list_select_related = ["project", "project__organization"]
    raw_id_fields = ["project"]
    exclude = ["payload"]
    readonly_fields = ["project", "kind", "source", "received_at", "sent_at", "user_agent", "payload_bytes",
                       "event_count", "rejected_count", "state", "attempts", "error", "processed_at", "events_preview"]
    actions = ["reprocess_batches"]

    @admin.display(description="error")
    def short_error(self, obj: RawBatch) -> str:
        """The first line of the error."""
        return obj.error.splitlines()[0][:120] if obj.error else ""

    @admin.display(description="events (first 20, rrweb data cut)")
    def events_preview(self, obj: RawBatch) -> str:
        """The batch's first events as JSON, so a failed batch can be looked at (escaped by the admin)."""
        try:
            events = list(islice(obj.iter_events(), 20))
        except (OSError, EOFError, ValueError) as exc:
            return f"payload cannot be read: {exc}"
        for event in events:
            data = event.get("properties", {}).get("$snapshot_data") if isinstance(event, dict) else None
            if isinstance(data, list):
                event["properties"] = {**event["properties"], "$snapshot_data": f"<{len(data)} rrweb events>"}
        return json.dumps(events, indent=2)[:20000]

    @admin.action(description="Reprocess selected batches now")
    def reprocess_batches(self, request: HttpRequest, queryset: QuerySet[RawBatch]) -> None:
        """Process the selected batches again (idempotent: nothing is added twice).

        Up to SYNC_LIMIT batches are processed during the request; more are queued for the workers.
        """
        ids = list(queryset.values_list("pk", flat=True))
        if len(ids) > SYNC_LIMIT:
            RawBatch.objects.filter(pk__in=ids).update(state=RawBatch.State.PENDING, attempts=0)
            for batch_id in ids:
                enqueue_batch(batch_id)
            self.message_user(request, f"{len(ids)} batches queued for processing.", messages.SUCCESS)
            return
        ok, failed = reprocess(ids)
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(request, f"{ok} batch(es) processed, {failed} failed (see their error).", level)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Batches come from capture and imports only."""
        return False


@admin.register(QuarantinedEvent)
class QuarantinedEventAdmin(OrganizationScopedAdmin):
    """Events processing set aside (the rest of their batch was stored), with the reason."""

    organization_path = "project__organization"
    list_display = ["id", "project", "name", "short_reason", "raw_batch", "created_at"]
    list_filter = ["project", "name"]
    search_fields = ["name", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["project", "project__organization"]
    readonly_fields = ["project", "raw_batch", "name", "reason", "event", "created_at"]

    @admin.display(description="reason")
    def short_reason(self, obj: QuarantinedEvent) -> str:
        """The first line of the reason."""
        return obj.reason.splitlines()[0][:120] if obj.reason else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Quarantined events come from processing only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: QuarantinedEvent | None = None) -> bool:
        """Kept as they were set aside."""
        return False
