"""`manage.py validate_blocking_issues SUMMARY_ID`: validate a summary's blocking key actions here and now."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from replay_render.validation import validate_summary
from summaries.models import SessionSummary


class Command(BaseCommand):
    """Render each blocking key action's clip in this process and record the verdicts on the summary."""

    help = ("Validate the blocking key actions of a stored summary on rendered clips (video model if "
            "RECAP_VIDEO_MODEL is set, else the rule-based validator) and print the verdicts.")

    def add_arguments(self, parser: CommandParser) -> None:
        """Command-line options."""
        parser.add_argument("summary_id", type=int, help="the SessionSummary id (see the admin)")
        parser.add_argument("--force", action="store_true", help="validate again actions that already have a verdict")

    def handle(self, *args: object, **opts: object) -> None:
        """Validate and print one line per blocking key action."""
        summary = SessionSummary.objects.select_related("session").filter(pk=opts["summary_id"]).first()
        if summary is None:
            raise CommandError(f"no summary {opts['summary_id']}")
        if not summary.summary:
            raise CommandError(f"summary {summary.pk} has no content yet (status {summary.status})")
        outcomes = validate_summary(summary, force=bool(opts["force"]))
        if not outcomes:
            self.stdout.write("nothing to validate: no blocking key action without a verdict (use --force)")
        for outcome in outcomes:
            verdict = outcome.verdict or outcome.state
            self.stdout.write(f"{outcome.event_id}: {verdict} (clip {outcome.clip_id}) {outcome.reason}")
