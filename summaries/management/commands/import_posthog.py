"""manage.py import_posthog: pull recordings, their snapshots and events from PostHog's API into a project."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from summaries.ingest.importers import ImportFailed, ImportSummary, ingest_events, recording_events, \
    person_fields, resolve_project
from summaries.ingest.posthog_api import PostHogAPIError, PostHogClient, parse_since
from summaries.ingest.rrweb import is_rrweb_event


class Command(BaseCommand):
    """Import from a PostHog instance (cloud or self-hosted); re-running skips what is already there."""

    help = ("Import session recordings with their events from PostHog's public API "
            "(session_recordings list, snapshots, HogQL query). Endpoints: see README.")

    def add_arguments(self, parser: CommandParser) -> None:
        """Where from, what, and into which Recap project."""
        parser.add_argument("--host", required=True, help="PostHog URL, e.g. https://us.posthog.com")
        parser.add_argument("--project-id", required=True, type=int, help="PostHog project id")
        parser.add_argument("--api-key", required=True, help="PostHog personal API key (phx_...)")
        parser.add_argument("--since", help="only recordings that started after: 2026-11-01, 7d, 12h")
        parser.add_argument("--limit", type=int, help="at most this many recordings")
        parser.add_argument("--project", help="Recap project id or token (default: the only project)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: object, **options: object) -> None:
        """List recordings, fetch each one's snapshots and events, store and process them."""
        from summaries.models import Project

        try:
            if options["project"]:
                project = resolve_project(str(options["project"]))
            elif Project.objects.count() == 1:
                project = Project.objects.get()
            else:
                raise ImportFailed("there is not exactly one project: pass --project <id or token>")
            since = parse_since(options["since"])  # type: ignore[arg-type]
        except (ImportFailed, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        client = PostHogClient(str(options["host"]), int(options["project_id"]), str(options["api_key"]))
        summary = ImportSummary()
        try:
            listings = list(client.recordings(since=since, limit=options["limit"]))  # type: ignore[arg-type]
            for listing in tqdm(listings, unit=" recordings", disable=bool(options["no_progress"]),
                                file=self.stderr):
                try:
                    windows = client.snapshots(listing.session_id)
                    events = client.events(listing.session_id)
                except PostHogAPIError as exc:
                    summary.skipped.append(f"recording {listing.session_id}: {exc}")
                    continue
                windows = {w: [e for e in items if is_rrweb_event(e)] for w, items in windows.items()}
                windows = {w: items for w, items in windows.items() if items}
                distinct_id, properties = person_fields(listing.person)
                batch = recording_events(listing.session_id, windows, distinct_id=distinct_id or listing.distinct_id,
                                         person_properties=properties) + events
                if not batch:
                    summary.skipped.append(f"recording {listing.session_id}: no snapshots and no events")
                    continue
                summary.files += 1
                ingest_events(project, batch, source=f"posthog:{listing.session_id}", summary=summary)
        except PostHogAPIError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            client.close()
        self.stdout.write(f"Imported from {options['host']} project {options['project_id']} into {project}:")
        for line in summary.lines():
            self.stdout.write("  " + line.replace("files read", "recordings read"))
