"""Labelled sample corpora: finding the bundled ones, reading their labels, importing them into a project."""
from __future__ import annotations

import gzip
from io import StringIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command

from summaries.analysis.evaluation import read_labels
from summaries.models import Organization, Project

SESSIONS_FILE, LABELS_FILE = "sessions.jsonl.gz", "labels.jsonl"


def bundled_corpora() -> list[Path]:
    """Every labelled sample corpus shipped with Recap (sample_data/ and its sub-folders with sessions and labels)."""
    root = Path(settings.BASE_DIR) / "sample_data"
    found = [root] + sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return [p for p in found if (p / SESSIONS_FILE).exists() and (p / LABELS_FILE).exists()]


def read_labels_file(path: Path) -> list[dict[str, Any]]:
    """A labels file's rows (JSONL, optionally gzip); ValueError naming what is wrong."""
    if not path.exists():
        raise ValueError(f"labels file {path} does not exist")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        return read_labels(fh)


def corpus_project(folder: Path) -> Project:
    """The evaluation project holding a corpus's sessions, imported on first use."""
    org, _ = Organization.objects.get_or_create(slug="recap-evaluation", defaults={"name": "Recap evaluation"})
    project, _ = Project.objects.get_or_create(organization=org, name=f"Corpus: {folder.name}")
    if not project.sessions.exists():
        call_command("import_sessions", str(folder / SESSIONS_FILE), "--project", str(project.pk), "--no-progress",
                     stdout=StringIO())
    return project
