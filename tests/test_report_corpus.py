"""The rule engine on every labelled sample corpus: each labelled issue is one pattern per kind (blocking and
non-blocking), holding every session whose summary flags it, no pattern mixes issues, and noise never makes a
blocking pattern.

A labelled issue may have several faces (the same fault on two buttons, or on three endpoints): the rule engine
groups such faces by family, so they still make one pattern.

A session whose summary does not flag its labelled issue (or flags it with the other weight) is a session-level
verdict of the rule engine, not a grouping error: such cases are listed and the test is marked xfail with them,
while any grouping error fails it.
"""
from __future__ import annotations

import json
from collections import defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from patterns.fingerprint import flag_kind
from patterns.models import Report
from summaries.models import Organization, Project, SessionSummary
from tests.conftest import ROOT
from tests.report_helpers import run_report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TOLERANCE_S = 10.0
SAMPLES = ROOT / "sample_data"
# The shop corpus and every corpus in a folder of its own (sample_data/crm/, ...): sessions.jsonl.gz + labels.jsonl.
CANDIDATES = [SAMPLES] + (sorted(p for p in SAMPLES.iterdir() if p.is_dir()) if SAMPLES.is_dir() else [])
CORPORA = [d for d in CANDIDATES if (d / "sessions.jsonl.gz").exists() and (d / "labels.jsonl").exists()]
FLAG_OF = {"blocking": "blocking", "non_blocking": "non-blocking"}


def import_corpus(corpus: Path) -> Project:
    """Every session of the corpus in a new project."""
    org = Organization.objects.create(name=corpus.name, slug=f"corpus-{corpus.name}")
    project = Project.objects.create(organization=org, name=corpus.name)
    call_command("import_sessions", str(corpus / "sessions.jsonl.gz"), "--project", str(project.pk), "--no-progress",
                 stdout=StringIO())
    return project


def flagged_near(summary: dict, t: float, flag: str) -> bool:
    """True when the summary flags a moment of this weight within the tolerance of t."""
    return any(flag_kind(a) == flag and abs(float(a["seconds_from_start"]) - t) <= TOLERANCE_S
               for seg in summary["segments"] for a in seg["key_actions"])


@pytest.mark.parametrize("corpus", CORPORA, ids=[d.name for d in CORPORA])
def test_every_labelled_issue_is_one_pattern_per_kind(rules_worker, corpus):
    labels = {row["session_id"]: row for row in map(json.loads, (corpus / "labels.jsonl").read_text().splitlines()) if row}
    project = import_corpus(corpus)
    report = run_report(project, timeout=600, engine="rules")
    assert report.status == Report.Status.SUCCEEDED, report.message
    assert report.sessions_analysed == len(labels)
    summaries = {s.session.session_id: s.summary for s in
                 SessionSummary.objects.filter(pk__in=report.pipeline_state["summaries"]).select_related("session")}
    members = {p: {e.session.session_id: e for e in p.examples.select_related("session")} for p in report.patterns.all()}
    grouping_errors, verdict_misses = [], []
    issues: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for sid, label in labels.items():
        for weight, flag in FLAG_OF.items():
            for issue in label[weight]:
                issues[(issue["kind"], flag)].setdefault(sid, float(issue["t"]))
    for (kind, flag), sessions in sorted(issues.items()):
        # the sessions whose summaries flagged the issue as labelled: what grouping has to put together
        flagged = {sid for sid, t in sessions.items() if flagged_near(summaries[sid], t, flag)}
        verdict_misses += [f"{kind} ({flag}) in {sid} at {sessions[sid]:.0f} s: not flagged {flag} by the summary"
                           for sid in sorted(set(sessions) - flagged)]
        if len(flagged) < 2:
            continue  # not recurring in what the summaries say: no pattern expected
        holding = [p for p, examples in members.items() if p.kind == flag and set(examples) & flagged]
        if len(holding) != 1:
            grouping_errors.append(f"{kind} ({flag}) is spread over {len(holding)} patterns: "
                                   f"{[p.name for p in holding]}")
        missing = sorted(flagged - {sid for p in holding for sid in members[p]})
        if missing:
            grouping_errors.append(f"{kind} ({flag}): {missing} flagged it but are in none of "
                                   f"{[p.name for p in holding]}")
        for pattern, sid in sorted(((p, sid) for p in holding for sid in set(members[p]) - flagged),
                                   key=lambda ps: (ps[0].rank, ps[1])):
            t = members[pattern][sid].seconds_from_start
            near = {i["kind"] for weight in ("blocking", "non_blocking", "noise") for i in labels[sid][weight]
                    if abs(float(i["t"]) - t) <= TOLERANCE_S}
            if near and kind not in near:
                grouping_errors.append(f"{pattern.name!r} ({kind}, {flag}) holds {sid} at {t:.0f} s, labelled {near}")
            else:
                verdict_misses.append(f"{kind} in {sid} at {t:.0f} s: flagged {flag}, labelled otherwise")
    for pattern, examples in members.items():
        if pattern.kind != "blocking":
            continue
        for sid, example in examples.items():
            blocking = [i for i in labels[sid]["blocking"] if abs(float(i["t"]) - example.seconds_from_start) <= TOLERANCE_S]
            noise = [i for i in labels[sid]["noise"] if abs(float(i["t"]) - example.seconds_from_start) <= TOLERANCE_S]
            if noise and not blocking:
                grouping_errors.append(f"noise {noise[0]['kind']} became blocking pattern {pattern.name!r} in {sid}")
    assert not grouping_errors, "\n".join(grouping_errors)
    if verdict_misses:
        pytest.xfail("session-level verdicts of the rule engine (not grouping):\n" + "\n".join(verdict_misses))
