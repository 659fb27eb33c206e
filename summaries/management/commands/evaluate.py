"""`manage.py evaluate [LABELS_FILE ...]`: score session summaries against labelled sessions, per app and kind."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from summaries.analysis.evaluation import DEFAULT_TOLERANCE_S, Prediction, report_text, score
from summaries.analysis.schema import blocking_key_actions
from summaries.corpora import LABELS_FILE, SESSIONS_FILE, bundled_corpora, corpus_project, read_labels_file
from summaries.models import Session
from summaries.summarize import SummaryFailed, latest_summary, summarize_session

class Command(BaseCommand):
    help = ("Score summaries against labelled sessions: blocking precision and recall, session outcomes, noise-only "
            "sessions flagged blocking, and per kind (blocking, non-blocking, noise) what was flagged and how. With no "
            "labels file, every bundled sample corpus (sample_data/ and its sub-folders) is imported into its own "
            "evaluation project and scored, one app after the other. Summaries missing for the engine are made first "
            "(cached ones of the current version are reused).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("labels_file", nargs="*", help="JSONL labels of sessions already stored")
        parser.add_argument("--corpus", action="append", default=[],
                            help="a corpus folder (sessions.jsonl.gz + labels.jsonl); repeatable")
        parser.add_argument("--engine", choices=["rules", "llm"], help="engine whose summaries to score (default: "
                            "llm when RECAP_LLM_MODEL is set, else rules)")
        parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_S,
                            help="seconds between a predicted and a labelled moment to count as a match")
        parser.add_argument("--project", type=int, help="only sessions of this project id (with a labels file)")
        parser.add_argument("--no-summarize", action="store_true", help="use stored summaries only")
        parser.add_argument("--json", action="store_true", help="print the full report(s) as JSON")

    def handle(self, *args, **opts) -> None:
        runs: list[tuple[str, list[dict[str, Any]], int | None]] = []
        for name in opts["labels_file"]:
            runs.append((name, self.labels(Path(name)), opts["project"]))
        folders = [Path(p) for p in opts["corpus"]] or ([] if runs else bundled_corpora())
        if not runs and not folders:
            raise CommandError("no labels: give a labels file or --corpus DIR (no bundled corpus was found)")
        for folder in folders:
            if not (folder / LABELS_FILE).exists() or not (folder / SESSIONS_FILE).exists():
                raise CommandError(f"{folder} is not a corpus folder (it needs {SESSIONS_FILE} and {LABELS_FILE})")
            runs.append((f"{folder.name} ({folder})", self.labels(folder / LABELS_FILE), corpus_project(folder).pk))
        reports = {}
        for name, labels, project in runs:
            reports[name] = self.evaluate(labels, project, opts)
        if opts["json"]:
            self.stdout.write(json.dumps(reports if len(reports) > 1 else next(iter(reports.values())), indent=2))
            return
        for name, report in reports.items():
            if len(reports) > 1:
                self.stdout.write(f"== {name} ==")
            self.stdout.write(report_text(report))
            failures = report["failures"]
            if failures:
                self.stdout.write(f"Sessions without a summary ({len(failures)}): "
                                  + "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:10]))
            if len(reports) > 1:
                self.stdout.write("")

    def labels(self, path: Path) -> list[dict[str, Any]]:
        """A labels file's rows, or a clear error."""
        try:
            return read_labels_file(path)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    def evaluate(self, labels: list[dict[str, Any]], project: int | None, opts: dict[str, Any]) -> dict[str, Any]:
        """Summaries of the labelled sessions (made when missing), scored."""
        predictions: dict[str, list[Prediction] | None] = {}
        non_blocking: dict[str, list[Prediction]] = {}
        outcomes: dict[str, bool | None] = {}
        failures: dict[str, str] = {}
        for label in labels:
            sid = label["session_id"]
            sessions = Session.objects.filter(session_id=sid)
            if project:
                sessions = sessions.filter(project_id=project)
            session = sessions.order_by("-pk").first()
            predictions[sid] = None
            if session is None:
                failures[sid] = "not imported"
                continue
            row = None
            if opts["no_summarize"]:
                row = latest_summary(session, opts["engine"])
            else:
                try:
                    row = summarize_session(session, engine=opts["engine"])
                except (SummaryFailed, ValueError) as exc:
                    failures[sid] = str(exc)
            if row is None or not row.summary:
                continue
            flagged = [a for seg in row.summary["segments"] for a in seg["key_actions"]]
            predictions[sid] = [Prediction(a["seconds_from_start"], a["description"], a["event_id"])
                                for a in blocking_key_actions(row.summary)]
            non_blocking[sid] = [Prediction(a["seconds_from_start"], a["description"], a["event_id"])
                                 for a in flagged if a["exception"] == "non-blocking"]
            outcomes[sid] = bool(row.summary["session_outcome"]["success"])
        report = score(labels, predictions, tolerance=opts["tolerance"], non_blocking=non_blocking, outcomes=outcomes)
        report["failures"] = failures
        return report
