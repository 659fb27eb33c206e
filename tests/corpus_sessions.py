"""Picking labelled sessions of the bundled sample corpus and importing just those, for tests."""
from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from summaries.models import Organization, Project, Session
from tests.conftest import ROOT

SAMPLE = Path(os.environ.get("RECAP_SAMPLE_DATA", ROOT / "sample_data"))
SESSIONS, LABELS = SAMPLE / "sessions.jsonl.gz", SAMPLE / "labels.jsonl"
HAVE_CORPUS = SESSIONS.exists() and LABELS.exists()


def corpus_labels() -> list[dict]:
    """Every label row of the sample corpus."""
    return [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]


def first_label(labels: list[dict], test: Callable[[dict], bool]) -> dict:
    """The first labelled session matching a condition."""
    found = next((label for label in labels if test(label)), None)
    assert found is not None, "the corpus lacks a session this test needs"
    return found


def import_labelled(chosen: dict[str, dict], tmp_path: Path) -> dict[str, Session]:
    """Import only the chosen labelled sessions (with import_sessions) into a new project; name -> Session."""
    wanted = {lab["session_id"] for lab in chosen.values()}
    subset = tmp_path / "subset.jsonl"
    with gzip.open(SESSIONS, "rt") as src, subset.open("w") as dst:
        for line in src:
            if (json.loads(line).get("properties") or {}).get("$session_id") in wanted:
                dst.write(line)
    org = Organization.objects.create(name="Corpus", slug="corpus")
    project = Project.objects.create(organization=org, name="Shop")
    call_command("import_sessions", str(subset), "--project", str(project.pk), "--no-progress", stdout=StringIO())
    return {name: Session.objects.get(session_id=lab["session_id"]) for name, lab in chosen.items()}


def import_dataset(sessions_file: Path, name: str) -> dict[str, Session]:
    """Import a whole dataset file (with import_sessions) into a new project; session id -> Session.

    Fails when the import skipped anything.
    """
    org = Organization.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    project = Project.objects.create(organization=org, name=name)
    out = StringIO()
    call_command("import_sessions", str(sessions_file), project=str(project.pk), no_progress=True, stdout=out)
    assert "skipped: 0" in out.getvalue(), out.getvalue()
    return {s.session_id: s for s in Session.objects.filter(project=project)}
