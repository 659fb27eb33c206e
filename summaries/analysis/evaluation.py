"""Scoring summaries against a labels file: blocking-issue precision/recall, false alarms, per-kind figures.

Labels file (JSONL, one object per session)::

    {"session_id": str, "journey": str, "goal": str, "outcome": "completed"|"abandoned"|"failed",
     "blocking": [{"kind": str, "t": seconds from session start, "description": str}],
     "non_blocking": [...same shape], "noise": [...same shape], "faults": [str]}

A predicted blocking key action matches a labelled blocking issue of the same session when their times
differ by at most the tolerance; matching is one-to-one, closest pairs first.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TOLERANCE_S = 10.0


@dataclass
class Prediction:
    """A key action a summary flagged blocking."""

    t: float
    description: str = ""
    event_id: str = ""


@dataclass
class SessionScore:
    """How one session's predictions compare with its labels."""

    session_id: str
    labelled: int
    predicted: int
    matched: int
    noise_only: bool
    summarized: bool
    matched_kinds: list[str] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_alarms: list[dict[str, Any]] = field(default_factory=list)


def read_labels(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Parse a JSONL labels file; a malformed line is an error naming its line number."""
    labels = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"labels line {number} is not JSON: {exc}") from exc
        if not isinstance(row, dict) or "session_id" not in row:
            raise ValueError(f"labels line {number} has no session_id")
        for key in ("blocking", "non_blocking", "noise"):
            row.setdefault(key, [])
        labels.append(row)
    return labels


def is_noise_only(label: dict[str, Any]) -> bool:
    """A session whose only labelled moments are noise."""
    return not label["blocking"] and not label["non_blocking"] and bool(label["noise"])


def match(predictions: list[Prediction], issues: list[dict[str, Any]], tolerance: float) -> list[tuple[int, int]]:
    """One-to-one (prediction index, issue index) pairs within the tolerance, closest first."""
    pairs = sorted(
        (abs(p.t - float(issue["t"])), i, j)
        for i, p in enumerate(predictions)
        for j, issue in enumerate(issues)
        if abs(p.t - float(issue["t"])) <= tolerance
    )
    used_p: set[int] = set()
    used_i: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i not in used_p and j not in used_i:
            used_p.add(i)
            used_i.add(j)
            out.append((i, j))
    return out


def score(
    labels: list[dict[str, Any]],
    predictions: dict[str, list[Prediction] | None],
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    non_blocking: dict[str, list[Prediction]] | None = None,
    outcomes: dict[str, bool | None] | None = None,
) -> dict[str, Any]:
    """The evaluation report; `predictions[session_id]` is None when the session has no summary.

    `non_blocking` (optional) holds the key actions flagged non-blocking, scored the same way against the
    labelled non-blocking issues, and per kind: how many labelled non-blocking issues were flagged at all and
    how many were (wrongly) flagged blocking. `outcomes` (optional) holds each session's predicted success,
    compared with the labelled outcome (success = "completed").
    """
    sessions: list[SessionScore] = []
    per_kind: dict[str, dict[str, Any]] = defaultdict(lambda: {"labelled": 0, "matched": 0, "sessions_labelled": set(),
                                                               "sessions_predicted": set()})
    for label in labels:
        sid = label["session_id"]
        preds = predictions.get(sid)
        summarized = preds is not None
        preds = preds or []
        issues = label["blocking"]
        pairs = match(preds, issues, tolerance)
        matched_issue_ids = {j for _, j in pairs}
        matched_pred_ids = {i for i, _ in pairs}
        for j, issue in enumerate(issues):
            stats = per_kind[issue.get("kind", "unknown")]
            stats["labelled"] += 1
            stats["sessions_labelled"].add(sid)
            if j in matched_issue_ids:
                stats["matched"] += 1
                stats["sessions_predicted"].add(sid)
        sessions.append(SessionScore(
            session_id=sid,
            labelled=len(issues),
            predicted=len(preds),
            matched=len(pairs),
            noise_only=is_noise_only(label),
            summarized=summarized,
            matched_kinds=sorted({issues[j].get("kind", "unknown") for _, j in pairs}),
            missed=[issues[j] for j in range(len(issues)) if j not in matched_issue_ids],
            false_alarms=[{"t": preds[i].t, "description": preds[i].description, "event_id": preds[i].event_id}
                          for i in range(len(preds)) if i not in matched_pred_ids],
        ))
    labelled = sum(s.labelled for s in sessions)
    predicted = sum(s.predicted for s in sessions)
    matched = sum(s.matched for s in sessions)
    noise_only = [s for s in sessions if s.noise_only]
    flagged = [s.session_id for s in noise_only if s.predicted]
    kinds = {}
    for kind, stats in sorted(per_kind.items()):
        labelled_sessions, predicted_sessions = len(stats["sessions_labelled"]), len(stats["sessions_predicted"])
        kinds[kind] = {
            "labelled": stats["labelled"],
            "matched": stats["matched"],
            "recall": _ratio(stats["matched"], stats["labelled"]),
            "affected_sessions_labelled": labelled_sessions,
            "affected_sessions_found": predicted_sessions,
            "affected_sessions_error": predicted_sessions - labelled_sessions,
        }
    sessions_labelled_blocking = sum(1 for s in sessions if s.labelled)
    sessions_predicted_blocking = sum(1 for s in sessions if s.predicted)
    return {
        "tolerance_s": tolerance,
        "sessions": len(sessions),
        "sessions_without_summary": [s.session_id for s in sessions if not s.summarized],
        "blocking": {
            "labelled": labelled,
            "predicted": predicted,
            "matched": matched,
            "precision": _ratio(matched, predicted),
            "recall": _ratio(matched, labelled),
        },
        "noise_only_sessions": {"count": len(noise_only), "flagged_blocking": len(flagged), "flagged_ids": flagged},
        "per_kind": kinds,
        "affected_sessions": {
            "labelled_blocking": sessions_labelled_blocking,
            "predicted_blocking": sessions_predicted_blocking,
            "error": sessions_predicted_blocking - sessions_labelled_blocking,
            "with_false_alarm_only": sum(1 for s in sessions if s.predicted and not s.matched),
        },
        "per_session": [s.__dict__ for s in sessions],
        "non_blocking": _secondary(labels, non_blocking, tolerance) if non_blocking is not None else None,
        "non_blocking_kinds": _flagged_by_kind(labels, predictions, non_blocking or {}, "non_blocking", tolerance),
        "noise_kinds": _flagged_by_kind(labels, predictions, non_blocking or {}, "noise", tolerance),
        "outcome": _outcomes(labels, outcomes) if outcomes is not None else None,
    }


def _flagged_by_kind(labels: list[dict[str, Any]], blocking: dict[str, list[Prediction] | None],
                     non_blocking: dict[str, list[Prediction]], bucket: str, tolerance: float) -> dict[str, Any]:
    """Per kind of a label bucket: how many were flagged at all, and how many were flagged blocking."""
    kinds: dict[str, dict[str, Any]] = defaultdict(lambda: {"labelled": 0, "flagged": 0, "flagged_blocking": 0})
    for label in labels:
        sid = label["session_id"]
        strong = blocking.get(sid) or []
        # A blocking flag that found a labelled blocker is that blocker's, whatever else happened near it.
        taken = {i for i, _ in match(strong, label["blocking"], tolerance)}
        strong = [p for i, p in enumerate(strong) if i not in taken]
        issues = label[bucket]
        any_flag = match(strong + (non_blocking.get(sid) or []), issues, tolerance)
        as_blocking = match(strong, issues, tolerance)
        for j, issue in enumerate(issues):
            stats = kinds[issue.get("kind", "unknown")]
            stats["labelled"] += 1
            stats["flagged"] += any(jj == j for _, jj in any_flag)
            stats["flagged_blocking"] += any(jj == j for _, jj in as_blocking)
    for stats in kinds.values():
        stats["flagged_share"] = _ratio(stats["flagged"], stats["labelled"])
    return dict(sorted(kinds.items()))


def _outcomes(labels: list[dict[str, Any]], outcomes: dict[str, bool | None]) -> dict[str, Any]:
    """How many sessions' predicted success matches the labelled outcome."""
    judged = [(label, outcomes.get(label["session_id"])) for label in labels]
    judged = [(label, got) for label, got in judged if got is not None]
    right = sum(1 for label, got in judged if got == (label.get("outcome") == "completed"))
    wrong = [label["session_id"] for label, got in judged if got != (label.get("outcome") == "completed")]
    return {"sessions": len(judged), "right": right, "accuracy": _ratio(right, len(judged)), "wrong_ids": wrong}


def _secondary(labels: list[dict[str, Any]], predictions: dict[str, list[Prediction]], tolerance: float) -> dict:
    """Precision / recall of non-blocking flags against non-blocking labels."""
    labelled = predicted = matched = 0
    for label in labels:
        preds = predictions.get(label["session_id"]) or []
        labelled += len(label["non_blocking"])
        predicted += len(preds)
        matched += len(match(preds, label["non_blocking"], tolerance))
    return {"labelled": labelled, "predicted": predicted, "matched": matched,
            "precision": _ratio(matched, predicted), "recall": _ratio(matched, labelled)}


def _ratio(part: int, whole: int) -> float | None:
    """part / whole rounded, or None when there is nothing to divide (undefined, not zero)."""
    return round(part / whole, 3) if whole else None


def report_text(report: dict[str, Any]) -> str:
    """The report as a few readable lines."""
    b = report["blocking"]
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [
        f"Sessions: {report['sessions']} (without a summary: {len(report['sessions_without_summary'])}); "
        f"tolerance {report['tolerance_s']:g} s",
        f"Blocking issues: labelled {b['labelled']}, predicted {b['predicted']}, matched {b['matched']} -> "
        f"precision {fmt(b['precision'])}, recall {fmt(b['recall'])} (micro, per-session matching)",
        f"Noise-only sessions flagged blocking: {report['noise_only_sessions']['flagged_blocking']} of "
        f"{report['noise_only_sessions']['count']}",
        f"Sessions with a blocking issue: labelled {report['affected_sessions']['labelled_blocking']}, predicted "
        f"{report['affected_sessions']['predicted_blocking']} (error {report['affected_sessions']['error']:+d}; "
        f"{report['affected_sessions']['with_false_alarm_only']} with false alarms only)",
        "Per kind (blocking):",
    ]
    nb = report.get("non_blocking")
    if nb:
        lines.insert(2, f"Non-blocking issues: labelled {nb['labelled']}, predicted {nb['predicted']}, matched "
                        f"{nb['matched']} -> precision {fmt(nb['precision'])}, recall {fmt(nb['recall'])}")
    outcome = report.get("outcome")
    if outcome:
        lines.insert(2, f"Session outcome (success / failure) right: {outcome['right']} of {outcome['sessions']} "
                        f"({fmt(outcome['accuracy'])})")
    for kind, k in report["per_kind"].items():
        lines.append(f"  {kind}: recall {fmt(k['recall'])} ({k['matched']}/{k['labelled']}); affected sessions "
                     f"labelled {k['affected_sessions_labelled']}, found {k['affected_sessions_found']} "
                     f"(error {k['affected_sessions_error']:+d})")
    for title, key in (("Per kind (labelled non-blocking)", "non_blocking_kinds"), ("Per kind (noise)", "noise_kinds")):
        if report.get(key):
            lines.append(f"{title}: flagged at all / flagged blocking")
            lines += [f"  {kind}: {k['flagged']}/{k['labelled']} flagged ({fmt(k['flagged_share'])}), "
                      f"{k['flagged_blocking']} blocking" for kind, k in report[key].items()]
    misses = [(s["session_id"], m) for s in report["per_session"] for m in s["missed"]]
    alarms = [(s["session_id"], a) for s in report["per_session"] for a in s["false_alarms"]]
    if misses:
        lines.append("Missed:")
        lines += [f"  {sid} {m.get('kind')} @ {m['t']} s: {m.get('description', '')[:100]}" for sid, m in misses[:20]]
    if alarms:
        lines.append("False alarms:")
        lines += [f"  {sid} @ {a['t']} s: {a['description'][:100]}" for sid, a in alarms[:20]]
    return "\n".join(lines)
