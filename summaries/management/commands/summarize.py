"""`manage.py summarize SESSION_ID`: summarize one session and print it readably."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from summaries.analysis.text import summary_text
from summaries.models import Session
from summaries.summarize import SummaryFailed, summarize_session


class Command(BaseCommand):
    help = "Summarize one session (rule engine unless RECAP_LLM_MODEL is set) and print the summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("session_id", help="the session id posthog-js sent ($session_id)")
        parser.add_argument("--engine", choices=["rules", "llm"], help="override the engine (default: llm when "
                            "RECAP_LLM_MODEL is set, rules otherwise)")
        parser.add_argument("--model", help="litellm model name for the llm engine (default RECAP_LLM_MODEL)")
        parser.add_argument("--focus", default="", help='a question to focus on, e.g. "what blocks users in onboarding?"')
        parser.add_argument("--project", type=int, help="project id, when the session id exists in several projects")
        parser.add_argument("--force", action="store_true", help="summarize again even if a stored summary exists")
        parser.add_argument("--json", action="store_true", help="print the stored summary JSON")

    def handle(self, *args, **opts) -> None:
        sessions = Session.objects.filter(session_id=opts["session_id"]).select_related("project")
        if opts["project"]:
            sessions = sessions.filter(project_id=opts["project"])
        found = list(sessions[:2])
        if not found:
            raise CommandError(f"no session {opts['session_id']!r}; list sessions in the admin or import some first")
        if len(found) > 1:
            raise CommandError(f"session id {opts['session_id']!r} exists in several projects; pass --project")
        session = found[0]
        try:
            row = summarize_session(session, engine=opts["engine"], model=opts["model"], focus=opts["focus"],
                                    force=opts["force"])
        except (SummaryFailed, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if row.status != row.Status.SUCCEEDED:
            raise CommandError(f"summary {row.pk} is {row.status}: {row.error or 'another worker is making it'}")
        if opts["json"]:
            self.stdout.write(json.dumps(row.summary, indent=2))
            return
        self.stdout.write(summary_text(row.summary))
        cost = f", cost ${row.cost_usd}" if row.cost_usd is not None else ""
        self.stdout.write(f"\n(summary {row.pk}; {row.llm_calls} model calls, {row.input_tokens} input / "
                          f"{row.output_tokens} output tokens{cost}; prompt {row.prompt_tokens} tokens)")
