"""`manage.py evaluate LABELS_FILE`: score session summaries against labelled sessions."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from summaries.analysis.evaluation import DEFAULT_TOLERANCE_S, Prediction, read_labels, report_text, score
from summaries.analysis.schema import blocking_key_actions
from summaries.models import Session
from summaries.summarize import SummaryFailed, latest_summary, summarize_session


class Command(BaseCommand):
    help = ("Score summaries against a labels file (JSONL): blocking-issue precision and recall, noise-only sessions "
            "flagged blocking, per-kind recall and affected-session counts. Summaries missing for the engine are "
            "made first (cached ones are reused).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("labels_file")
        parser.add_argument("--engine", choices=["rules", "llm"], help="engine whose summaries to score (default: "
                            "llm when RECAP_LLM_MODEL is set, else rules)")
        parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_S,
                            help="seconds between a predicted and a labelled blocking moment to count as a match")
        parser.add_argument("--project", type=int, help="only sessions of this project id")
        parser.add_argument("--no-summarize", action="store_true", help="use stored summaries only")
        parser.add_argument("--json", action="store_true", help="print the full report as JSON")

    def handle(self, *args, **opts) -> None:
        path = Path(opts["labels_file"])
        if not path.exists():
            raise CommandError(f"labels file {path} does not exist")
        opener = __import__("gzip").open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            try:
                labels = read_labels(fh)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        predictions: dict[str, list[Prediction] | None] = {}
        non_blocking: dict[str, list[Prediction]] = {}
        failures: dict[str, str] = {}
        for label in labels:
            sessions = Session.objects.filter(session_id=label["session_id"])
            if opts["project"]:
                sessions = sessions.filter(project_id=opts["project"])
            session = sessions.order_by("-pk").first()
            if session is None:
                predictions[label["session_id"]] = None
                failures[label["session_id"]] = "not imported"
                continue
            row = None
            if opts["no_summarize"]:
                row = latest_summary(session, opts["engine"])
            else:
                try:
                    row = summarize_session(session, engine=opts["engine"])
                except (SummaryFailed, ValueError) as exc:
                    failures[label["session_id"]] = str(exc)
            if row is None or not row.summary:
                predictions[label["session_id"]] = None
                continue
            predictions[label["session_id"]] = [
                Prediction(a["seconds_from_start"], a["description"], a["event_id"])
                for a in blocking_key_actions(row.summary)
            ]
            non_blocking[label["session_id"]] = [
                Prediction(a["seconds_from_start"], a["description"], a["event_id"])
                for seg in row.summary["segments"] for a in seg["key_actions"] if a["exception"] == "non-blocking"
            ]
        report = score(labels, predictions, tolerance=opts["tolerance"], non_blocking=non_blocking)
        report["failures"] = failures
        if opts["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(report_text(report))
        if failures:
            self.stdout.write(f"Sessions without a summary ({len(failures)}): "
                              + "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:10]))
