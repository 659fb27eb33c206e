"""The rule engine and the rule validator on every bundled sample app, against labels from ground truth.

The shop (sample_data/) is the corpus the rules were tuned on; the second app (sample_data/crm/, a German
single-page app) is held out: its figures are reported, never tuned on. Both must meet the same bar.
"""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from replay_render.validation.evaluation import score_sessions
from summaries.corpora import bundled_corpora, corpus_project, read_labels_file

CORPORA = bundled_corpora()
pytestmark = pytest.mark.skipif(not CORPORA, reason="no bundled sample corpus")


@pytest.mark.django_db
@pytest.mark.parametrize("folder", CORPORA, ids=[p.name for p in CORPORA])
def test_rule_engine_verdicts_meet_the_bar(folder) -> None:
    out = StringIO()
    call_command("evaluate", "--corpus", str(folder), "--engine", "rules", "--json", stdout=out)
    report = json.loads(out.getvalue())
    blocking = report["blocking"]
    assert blocking["precision"] >= 0.95 and blocking["recall"] >= 0.95, blocking
    assert report["noise_only_sessions"]["flagged_blocking"] == 0, report["noise_only_sessions"]
    assert report["outcome"]["accuracy"] >= 0.95, report["outcome"]
    kinds = report["non_blocking_kinds"]
    flagged = sum(k["flagged"] for k in kinds.values())
    assert flagged >= 0.9 * sum(k["labelled"] for k in kinds.values()), kinds
    assert all(k["flagged_blocking"] == 0 for k in kinds.values()), kinds
    assert all(k["flagged_blocking"] == 0 for k in report["noise_kinds"].values()), report["noise_kinds"]


def sample(labels: list[dict]) -> list[dict]:
    """One labelled moment of every kind of truth (each blocking, non-blocking and noise kind), in its session."""
    chosen: dict[tuple[str, str], dict] = {}
    for label in labels:
        for bucket in ("blocking", "non_blocking", "noise"):
            for issue in label[bucket]:
                if (bucket, issue["kind"]) not in chosen:
                    only = {b: [issue] if b == bucket else [] for b in ("blocking", "non_blocking", "noise")}
                    chosen[(bucket, issue["kind"])] = {**label, **only}
    return list(chosen.values())


@pytest.mark.django_db
@pytest.mark.browser
@pytest.mark.parametrize("folder", CORPORA, ids=[p.name for p in CORPORA])
def test_rule_validator_confirms_real_blockers_and_never_false_alarms(folder) -> None:
    labels = sample(read_labels_file(folder / "labels.jsonl"))
    project = corpus_project(folder)
    sessions = {s.session_id: s for s in project.sessions.filter(session_id__in=[lab["session_id"] for lab in labels])}
    figures = score_sessions(labels, sessions).figures()
    assert figures["real_blockers"] and figures["real_confirmed_share"] >= 0.9, figures
    assert figures["false_claims"] and figures["false_confirmed"] == 0, figures
    assert figures["false_denied_share"] >= 0.5, figures
