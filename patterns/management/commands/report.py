"""`manage.py report create|show|rerun|cancel`: group reports from the command line."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from patterns import progress
from patterns.control import cancel, create_report, default_max_sessions, rerun, start, wait_for
from patterns.exports import FORMATS, export
from patterns.models import Report
from patterns.text import report_text
from summaries.models import Project, Session
from summaries.summarize import SummaryFailed

DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`24h`, `7d`, `30m`, `2w` as a timedelta."""
    match = DURATION.match(text or "")
    if not match:
        raise CommandError(f"--last takes a duration such as 24h, 7d, 30m or 2w, not {text!r}")
    return timedelta(**{UNITS[match.group(2).lower()]: int(match.group(1))})


def find_project(value: str) -> Project:
    """A project by id or capture token."""
    project = None
    if value.isdigit():
        project = Project.objects.filter(pk=int(value)).select_related("organization").first()
    project = project or Project.objects.filter(capture_token=value).select_related("organization").first()
    if project is None:
        raise CommandError(f"No project with id or capture token {value!r} (see the admin's Projects page).")
    return project


def find_sessions(project: Project, ids: list[str]) -> list[Session]:
    """Sessions of the project by captured session id (or primary key)."""
    found, missing = [], []
    for value in ids:
        session = Session.objects.filter(project=project, session_id=value).first()
        if session is None and value.isdigit():
            session = Session.objects.filter(project=project, pk=int(value)).first()
        (found.append(session) if session else missing.append(value))
    if missing:
        raise CommandError(f"No session {', '.join(missing[:5])} in project {project.pk} ({project.name}).")
    return found


def find_report(value: int) -> Report:
    """A report by id."""
    report = Report.objects.select_related("project", "organization").filter(pk=value).first()
    if report is None:
        raise CommandError(f"No report {value}.")
    return report


class Command(BaseCommand):
    """Create a group report and follow it, or show / re-run / cancel one."""

    help = ("Group reports: `report create --project P [--last 24h|7d] [--sessions ID ...] [--all] [--max N] "
            "[--engine rules|llm] [--focus TEXT] [--wait] [--json FILE]`, "
            "`report show ID [--format json|csv|md] [--json FILE]`, "
            "`report rerun ID [--add-sessions ID ...] [--wait]`, `report cancel ID`.")

    def add_arguments(self, parser: CommandParser) -> None:
        """The subcommands and their options."""
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a report and queue it on the workers")
        create.add_argument("--project", required=True, help="project id or capture token")
        which = create.add_mutually_exclusive_group()
        which.add_argument("--last", help="sessions started in this last period: 24h, 7d, 30m, 2w (default 7d)")
        which.add_argument("--sessions", nargs="+", metavar="ID", help="these sessions (captured ids)")
        which.add_argument("--all", action="store_true", help="all sessions of the project (newest first, up to --max)")
        create.add_argument("--max", type=int, default=None,
                            help="most recent sessions kept (default RECAP_REPORT_MAX_SESSIONS, "
                                 f"{default_max_sessions()})")
        create.add_argument("--url-contains", default="", help="only sessions that visited a URL containing this")
        create.add_argument("--min-active", type=float, default=0, help="only sessions with this many active seconds")
        create.add_argument("--identified-only", action="store_true", help="only sessions of identified people")
        create.add_argument("--engine", choices=["rules", "llm"], help="default: llm when RECAP_LLM_MODEL is set")
        create.add_argument("--focus", default="", help="a question the report should answer (<= 500 characters)")
        create.add_argument("--title", default="")
        create.add_argument("--clips", type=int, default=None, metavar="N",
                            help="examples of each blocking pattern checked on video (default "
                                 "RECAP_REPORT_CLIPS_PER_PATTERN; 0: none)")
        self._follow_options(create)
        show = sub.add_parser("show", help="print a report (and optionally write its JSON)")
        show.add_argument("report_id", type=int)
        show.add_argument("--json", type=Path, metavar="FILE", help="write recap.group_report/1 JSON here")
        show.add_argument("--format", choices=sorted(FORMATS), default=None,
                          help="print the report as an export instead of text: json (recap.group_report/1), "
                               "csv (one row per pattern example) or md (Markdown for a ticket)")
        again = sub.add_parser("rerun", help="run a report again (cached work is reused), optionally with more "
                                             "sessions")
        again.add_argument("report_id", type=int)
        again.add_argument("--add-sessions", nargs="+", metavar="ID", default=[])
        self._follow_options(again)
        stop = sub.add_parser("cancel", help="cancel a queued or running report")
        stop.add_argument("report_id", type=int)

    @staticmethod
    def _follow_options(parser: CommandParser) -> None:
        """--wait, --json, --timeout, --top."""
        parser.add_argument("--wait", action="store_true",
                            help="print progress until the report ends, then the patterns")
        parser.add_argument("--json", type=Path, metavar="FILE",
                            help="write recap.group_report/1 JSON (with --wait: at the end)")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits at most")
        parser.add_argument("--top", type=int, default=10, help="patterns printed at the end")

    def handle(self, *args, **opts) -> None:
        """Dispatch to the subcommand."""
        getattr(self, f"do_{opts['action']}")(opts)

    def do_create(self, opts: dict) -> None:
        """Create the report, queue it, and follow it with --wait."""
        project = find_project(opts["project"])
        selection: dict = {"max_sessions": opts["max"] or default_max_sessions(), "url_contains": opts["url_contains"],
                           "min_active_seconds": opts["min_active"], "identified_only": opts["identified_only"]}
        if opts["clips"] is not None:
            selection["clips_per_pattern"] = max(0, opts["clips"])
        sessions = None
        if opts["sessions"]:
            sessions = find_sessions(project, opts["sessions"])
            where = f"{len(sessions)} chosen sessions"
        elif opts["all"]:
            where = f"all sessions (newest {selection['max_sessions']})"
        else:
            period = opts["last"] or "7d"
            selection["since"] = timezone.now() - parse_duration(period)
            where = f"sessions of the last {period} (newest {selection['max_sessions']})"
        try:
            report = create_report(project, engine=opts["engine"], focus=opts["focus"], title=opts["title"],
                                   trigger=Report.Trigger.COMMAND, sessions=sessions, **selection)
        except (ValueError, SummaryFailed) as exc:
            raise CommandError(str(exc)) from exc
        report = start(report)
        self.stdout.write(f"Report {report.pk} queued: {where} of {project.organization.name} / {project.name}, "
                          f"{report.label}.")
        if report.focus and report.rule_based:
            self.stdout.write("The rule engine has no use for --focus; it is kept on the report (use --engine llm).")
        self.follow(report, opts)

    def do_show(self, opts: dict) -> None:
        """Print the report (its progress while it runs) and write its JSON."""
        report = find_report(opts["report_id"])
        if opts.get("format"):
            self.stdout.write(export(report, opts["format"]), ending="" if opts["format"] != "json" else "\n")
            if opts["json"]:
                self.write_json(report, opts["json"])
            return
        if not report.is_final:
            self.stdout.write(f"Running: {progress.read(report.pk).line()}")
        self.stdout.write(report_text(report))
        if opts["json"]:
            self.write_json(report, opts["json"])

    def do_rerun(self, opts: dict) -> None:
        """Run the report again; only what changed costs anything."""
        report = find_report(opts["report_id"])
        added = find_sessions(report.project, opts["add_sessions"]) if opts["add_sessions"] else None
        report = rerun(report, added)
        self.stdout.write(f"Report {report.pk} queued again (run {report.run})"
                          + (f" with {len(added)} more sessions" if added else "") + ".")
        self.follow(report, opts)

    def do_cancel(self, opts: dict) -> None:
        """Cancel the report."""
        report = find_report(opts["report_id"])
        if cancel(report):
            self.stdout.write(f"Report {report.pk} cancelled: queued work will not run.")
        else:
            self.stdout.write(f"Report {report.pk} is {report.status}: nothing to cancel.")

    def follow(self, report: Report, opts: dict) -> None:
        """With --wait, print progress lines until the report ends, then the report; else say how to follow it."""
        if not opts["wait"]:
            self.stdout.write(f"Follow it with `manage.py report show {report.pk}` or at {report.public_url()}")
            if opts["json"]:
                self.write_json(report, opts["json"])
            return
        try:
            report = wait_for(report, self.stdout.write, opts["timeout"])
        except TimeoutError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report_text(report, top=opts["top"]))
        if opts["json"]:
            self.write_json(report, opts["json"])
        if report.status in (Report.Status.FAILED, Report.Status.CANCELLED):
            raise CommandError(f"Report {report.pk} {report.status}: {report.message}")

    def write_json(self, report: Report, path: Path) -> None:
        """Write the report's recap.group_report/1 JSON."""
        path.write_text(export(report, "json"))
        self.stdout.write(f"Wrote {path}")
