"""The demo's last step: a group report over the sample sessions, its top patterns and where to look."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from patterns.control import create_report, rerun, start, wait_for
from patterns.models import Report
from summaries.models import Project

DEMO_TITLE = "Sample sessions"
TOP = 5


def demo_report(project: Project, say: Callable[[str], Any], base_url: str, timeout: float = 1800) -> Report:
    """Run (or re-run: cached work is reused) the report over every session of the project on the workers."""
    sessions = project.sessions.count()
    report = Report.objects.filter(project=project, title=DEMO_TITLE).order_by("-pk").first()
    if report is None:
        report = start(create_report(project, title=DEMO_TITLE, trigger=Report.Trigger.COMMAND,
                                     max_sessions=max(sessions, 1)))
    else:
        report = rerun(report)
    started = time.monotonic()
    say(f"Group report {report.pk} over the {sessions} sample sessions ({report.label}) ...")
    report = wait_for(report, say, timeout=timeout)
    say(f"Report {report.pk} {report.status} in {time.monotonic() - started:.0f} s: {report.message}")
    patterns = list(report.patterns.order_by("rank")[:TOP])
    if patterns:
        say("Top patterns:")
    for p in patterns:
        example = p.examples.select_related("session").order_by("timestamp", "pk").first()
        where = ""
        if example is not None:
            verdict = f", video: {example.verdict}" if example.verdict else ""
            at = max(0.0, example.seconds_from_start)
            where = f"; e.g. session {example.session.session_id} at {at:.0f} s{verdict}"
        say(f"  {p.rank}. [{p.severity}] {p.kind}: {p.name} — {p.sessions_affected} sessions "
            f"({p.share_of_sessions:.0%}){where}")
    say(f"Open {base_url}{report.get_absolute_url()} for the ranked patterns with their examples and clips.")
    return report
