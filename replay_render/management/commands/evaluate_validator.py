"""`manage.py evaluate_validator [--corpus DIR ...]`: score the rule-based validator on labelled sessions, per app."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from replay_render.validation.evaluation import score_sessions, score_text
from summaries.corpora import LABELS_FILE, SESSIONS_FILE, bundled_corpora, corpus_project, read_labels_file


class Command(BaseCommand):
    """Claims at every labelled moment (real blockers, non-blocking problems, noise), judged on rendered clips."""

    help = ("Score the rule-based validator on labelled corpora (default: every bundled sample corpus): real "
            "blockers confirmed, and claims about problems that blocked nobody confirmed or denied. Renders a clip "
            "per labelled moment in this process (about a second each).")

    def add_arguments(self, parser: CommandParser) -> None:
        """Command-line options."""
        parser.add_argument("--corpus", action="append", default=[], help="a corpus folder; repeatable")
        parser.add_argument("--limit", type=int, default=0, help="only the first N labelled sessions of each corpus")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: object, **opts: object) -> None:
        """Score each corpus and print its figures."""
        folders = [Path(p) for p in opts["corpus"]] or bundled_corpora()
        if not folders:
            raise CommandError("no corpus: give --corpus DIR (no bundled corpus was found)")
        figures = {}
        for folder in folders:
            if not (folder / SESSIONS_FILE).exists() or not (folder / LABELS_FILE).exists():
                raise CommandError(f"{folder} is not a corpus folder (it needs {SESSIONS_FILE} and {LABELS_FILE})")
            project = corpus_project(folder)
            labels = read_labels_file(folder / LABELS_FILE)
            if opts["limit"]:
                labels = labels[: int(opts["limit"])]
            sessions = {s.session_id: s for s in project.sessions.filter(session_id__in=[lab["session_id"] for lab in labels])}
            result = score_sessions(labels, sessions)
            figures[str(folder)] = result.figures()
            if not opts["json"]:
                self.stdout.write(f"== {folder} ==\n{score_text(result)}\n")
        if opts["json"]:
            self.stdout.write(json.dumps(figures, indent=2))
