"""`manage.py demo`: the summaries demo, ending with a group report over the sample sessions."""
from __future__ import annotations

from django.core.management.base import CommandError

from patterns.demo import demo_report
from summaries.management.commands.demo import Command as SummariesDemo
from summaries.models import Project


class Command(SummariesDemo):
    """The README's first command: load, summarize, check on video, then group the issues into a ranked report."""

    help = SummariesDemo.help.replace("print where to look", "group the issues into a ranked report, print where "
                                                           "to look")

    def after_main_job(self, project: Project, opts: dict, base: str) -> None:
        """Run the group report on the workers the demo started and print its top patterns."""
        try:
            demo_report(project, self.stdout.write, base, timeout=opts["job_timeout"])
        except TimeoutError as exc:
            raise CommandError(str(exc)) from exc
