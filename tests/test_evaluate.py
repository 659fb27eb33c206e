"""Scoring summaries against labels: a small hand-checked case, and the evaluate command on stored sessions."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from summaries.analysis.evaluation import Prediction, match, read_labels, score
from summaries.models import Organization, Project
from tests.summary_sessions import clean_purchase_with_noise, payment_fails_and_user_leaves, payment_fails_once_then_works


def label(sid: str, blocking=(), noise=(), non_blocking=()) -> dict:
    return {"session_id": sid, "journey": "buy", "goal": "buy", "outcome": "completed",
            "blocking": [{"kind": k, "t": t, "description": ""} for k, t in blocking],
            "non_blocking": [{"kind": k, "t": t, "description": ""} for k, t in non_blocking],
            "noise": [{"kind": k, "t": t, "description": ""} for k, t in noise], "faults": []}


LABELS = [
    label("s1", blocking=[("payment_500", 24.5)]),
    label("s2", blocking=[("dead_button", 30), ("payment_500", 80)]),
    label("s3", noise=[("widget_exception", 5)]),
    label("s4", noise=[("retried_api", 9)]),
    label("s5", blocking=[("payment_500", 10)]),
]
PREDICTIONS = {
    "s1": [Prediction(24.1)],
    "s2": [Prediction(33), Prediction(50)],
    "s3": [Prediction(12)],
    "s4": [],
    "s5": None,  # no summary
}


def test_hand_checked_case():
    report = score(LABELS, PREDICTIONS, tolerance=10)
    assert report["blocking"] == {"labelled": 4, "predicted": 4, "matched": 2, "precision": 0.5, "recall": 0.5}
    assert report["noise_only_sessions"] == {"count": 2, "flagged_blocking": 1, "flagged_ids": ["s3"]}
    assert report["per_kind"]["payment_500"] == {
        "labelled": 3, "matched": 1, "recall": 0.333,
        "affected_sessions_labelled": 3, "affected_sessions_found": 1, "affected_sessions_error": -2}
    assert report["per_kind"]["dead_button"]["recall"] == 1.0
    assert report["affected_sessions"] == {"labelled_blocking": 3, "predicted_blocking": 3, "error": 0,
                                           "with_false_alarm_only": 1}
    assert report["sessions_without_summary"] == ["s5"]


def test_tolerance_is_an_option():
    assert score(LABELS, PREDICTIONS, tolerance=2)["blocking"]["matched"] == 1


def test_matching_is_one_to_one_closest_first():
    issues = [{"kind": "a", "t": 10.0}]
    assert match([Prediction(14), Prediction(11)], issues, 10) == [(1, 0)]


def test_a_malformed_labels_line_names_its_number():
    with pytest.raises(ValueError, match="line 2"):
        read_labels(['{"session_id": "a"}', "{not json"])


def test_evaluate_command_on_stored_sessions(db, tmp_path):
    org = Organization.objects.create(name="Acme", slug="acme")
    project = Project.objects.create(organization=org, name="Shop")
    blocked = payment_fails_and_user_leaves().store(project)
    recovered = payment_fails_once_then_works().store(project)
    noisy = clean_purchase_with_noise().store(project)
    labels = tmp_path / "labels.jsonl"
    rows = [
        label(blocked.session_id, blocking=[("payment_500", 24.2)]),
        label(recovered.session_id, non_blocking=[("payment_500", 24.2)]),
        label(noisy.session_id, noise=[("widget_exception", 1.0), ("retried_api", 21.0)]),
        label("never-imported", blocking=[("dead_button", 5)]),
    ]
    labels.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = StringIO()
    call_command("evaluate", str(labels), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["blocking"] == {"labelled": 2, "predicted": 1, "matched": 1, "precision": 1.0, "recall": 0.5}
    assert report["noise_only_sessions"]["flagged_blocking"] == 0
    assert report["failures"] == {"never-imported": "not imported"}
    assert report["non_blocking"] == {"labelled": 1, "predicted": 1, "matched": 1, "precision": 1.0, "recall": 1.0}
    text = StringIO()
    call_command("evaluate", str(labels), "--tolerance", "0.01", stdout=text)
    assert "precision 0.000, recall 0.000" in text.getvalue()
    with pytest.raises(CommandError, match="does not exist"):
        call_command("evaluate", str(tmp_path / "missing.jsonl"))
