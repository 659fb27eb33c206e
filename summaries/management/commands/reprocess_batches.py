"""manage.py reprocess_batches: process raw capture batches again (failed ones by default), in this process."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from summaries.ingest.batches import reprocess
from summaries.models import RawBatch


class Command(BaseCommand):
    """Reprocess raw batches: failed (default), pending, or given ids."""

    help = "Process raw capture batches again (idempotent). Default: every failed batch."

    def add_arguments(self, parser: CommandParser) -> None:
        """Which batches."""
        parser.add_argument("ids", nargs="*", type=int, help="batch ids (default: all failed batches)")
        parser.add_argument("--pending", action="store_true", help="also batches still pending")

    def handle(self, *args: object, **options: object) -> None:
        """Run them and report."""
        ids = list(options["ids"])  # type: ignore[arg-type]
        if not ids:
            states = [RawBatch.State.FAILED] + ([RawBatch.State.PENDING] if options["pending"] else [])
            ids = list(RawBatch.objects.filter(state__in=states).order_by("pk").values_list("pk", flat=True))
        ok, failed = reprocess(ids)
        self.stdout.write(f"{ok} batch(es) processed, {failed} failed")
        for batch in RawBatch.objects.filter(pk__in=ids, state=RawBatch.State.FAILED):
            self.stdout.write(f"  batch {batch.pk}: {batch.error.splitlines()[0] if batch.error else ''}")
