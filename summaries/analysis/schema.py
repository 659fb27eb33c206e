"""The summary schema: validating the model's YAML, grounding its ids, and the stored summary JSON.

Model output (YAML, validated by `parse_model_output` / `validate_output`)::

    segments:          [{index, name, start_event_id, end_event_id}]
    key_actions:       [{segment_index, events: [{event_id, description, abandonment, confusion,
                                                   exception: null | blocking | non-blocking}]}]
    segment_outcomes:  [{segment_index, success, summary}]
    session_outcome:   {success, description}

Stored summary JSON (`SessionSummary.summary`, built by `build_summary`; schema id "recap.session_summary/1").
Every number is computed in code from the prepared input, never taken from the model::

    {
      "schema": "recap.session_summary/1",
      "engine": "rules" | "llm",
      "rule_based": bool,                 # True for the rule engine: every page shows "rule-based"
      "label": str,                       # "Rule-based summary (no LLM)" or "LLM summary (<model>)"
      "model": str,                       # "" for rules
      "prompt_version": str,              # prompt template id, or the rule engine's version
      "focus": str,
      "session_id": str,
      "session_start_ms": int, "session_end_ms": int, "session_duration_s": float,
      "segments": [{
          "index": int, "name": str, "start_event_id": str, "end_event_id": str,
          "start_ms": int, "end_ms": int, "start_s": float, "end_s": float,
          "duration_s": float, "share_of_session_pct": float, "event_count": int,
          "key_action_count": int, "failure_count": int, "abandonment_count": int,
          "confusion_count": int, "exception_count": int, "blocking_count": int,
          "outcome": {"success": bool, "summary": str},
          "key_actions": [{
              "event_id": str,                # short id (8 hex) of a row of the prepared input
              "event_uuid": str | null,       # the analytics Event.uuid (null for rows computed from the recording)
              "event": str,                   # row kind: click, submit, exception, request_failed, dead_click, ...
              "timestamp_ms": int,            # epoch ms, resolved from the id (use it to cut a clip)
              "seconds_from_start": float,
              "url": str,
              "description": str,
              "abandonment": bool, "confusion": bool,
              "exception": null | "blocking" | "non-blocking",
              "problem": null | {             # flagged actions (exception, abandonment or confusion), computed in
                  "kind": str,                # code for every engine (summaries.analysis.problems): request_failed,
                                              # error_text, field_invalid, dead_click, loading_left, failing_form,
                                              # slow, exception; the page's route template (/orders/:id), the control
                  "route": str,               # acted on
                  "control": str,             # (tag:name), the failed request ("POST /api/orders/:id") and its
                  "request": str,             # status, and the message shown or thrown
                  "status": int | null,
                  "message": str},
              "validation": null | {          # set by apply_validation (video validation, issue 6)
                  "verdict": "confirmed" | "denied" | "inconclusive",
                  "evidence": object, "changed": [str], "previous": object, "at": str},
              "rule_check": str               # LLM summaries only, on flagged actions: "agrees", "rules: nothing",
                                              # "rules: blocking", "rules: non-blocking"
          }]
      }],
      "session_outcome": {"success": bool, "description": str},
      "stats": {"segment_count", "key_action_count", "blocking_count", "non_blocking_count",
                "abandonment_count", "confusion_count", "failed_segment_count", "validated_count"},
      "grounding": {"referenced_ids": int, "invented_ids": [str], "invented_ratio": float},
      "cross_check": {                    # LLM summaries only: the rule engine's view of the same input
          "engine": str, "rule_blocking": [{"event_id", "seconds_from_start", "description"}],
          "missed_by_model": int, "unbacked_model_blocking": int},
      "input": {"rows": int, "token_count": int, "input_hash": str, ...preparation figures}
    }

Other apps use `blocking_key_actions(summary)` to find what to validate and
`apply_validation(summary, event_id, verdict, changes=..., evidence=...)` to record the result.
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import yaml

from summaries.analysis.problems import problem_facts
from summaries.analysis.prompt_data import PromptInput

SCHEMA_ID = "recap.session_summary/1"
EXCEPTION_VALUES = (None, "blocking", "non-blocking")
MAX_INVENTED_RATIO = 0.15


class OutputError(ValueError):
    """The model's answer is unusable (unparseable, wrong shape, or too many invented ids); worth a retry."""


def parse_model_output(text: str) -> dict[str, Any]:
    """The YAML object in a model's answer (code fences tolerated)."""
    body = text.strip()
    if "```" in body:
        inner = body.split("```", 2)
        if len(inner) >= 2:
            body = inner[1]
            if body.startswith(("yaml", "yml")):
                body = body.split("\n", 1)[1] if "\n" in body else ""
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise OutputError(f"the model's answer is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise OutputError("the model's answer is not a YAML mapping with segments, key_actions and outcomes")
    return data


def _bool(value: Any, where: str) -> bool:
    """A YAML boolean (tolerating 'yes'/'no' strings)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "false", "no"}:
        return value.strip().lower() in {"true", "yes"}
    if value is None:
        return False
    raise OutputError(f"{where} must be true or false, got {value!r}")


def _exception(value: Any, where: str) -> str | None:
    """The exception flag: null, blocking or non-blocking."""
    if value in (None, "", "null", "none", "None", False):
        return None
    text = str(value).strip().lower().replace("_", "-").replace(" ", "-")
    if text in ("blocking", "non-blocking"):
        return text
    raise OutputError(f"{where} must be null, blocking or non-blocking, got {value!r}")


def validate_output(data: dict[str, Any]) -> dict[str, Any]:
    """Check the model output's shape; return it normalised (ints, bools, exception values)."""
    segments = data.get("segments")
    if not isinstance(segments, list) or not segments:
        raise OutputError("the answer has no segments list")
    out_segments = []
    for i, seg in enumerate(segments):
        if not isinstance(seg, dict):
            raise OutputError(f"segment {i} is not a mapping")
        try:
            index = int(seg.get("index", i))
        except (TypeError, ValueError) as exc:
            raise OutputError(f"segment {i} has a non-numeric index") from exc
        out_segments.append(
            {
                "index": index,
                "name": str(seg.get("name") or f"Segment {index}").strip(),
                "start_event_id": str(seg.get("start_event_id") or "").strip(),
                "end_event_id": str(seg.get("end_event_id") or "").strip(),
            }
        )
    key_actions: list[dict[str, Any]] = []
    for group in data.get("key_actions") or []:
        if not isinstance(group, dict):
            raise OutputError("key_actions entries must be mappings with segment_index and events")
        seg_index = int(group.get("segment_index", 0) or 0)
        for j, action in enumerate(group.get("events") or []):
            if not isinstance(action, dict):
                raise OutputError(f"key action {j} of segment {seg_index} is not a mapping")
            where = f"key action {action.get('event_id')!r}"
            key_actions.append(
                {
                    "segment_index": seg_index,
                    "event_id": str(action.get("event_id") or "").strip(),
                    "description": str(action.get("description") or "").strip(),
                    "abandonment": _bool(action.get("abandonment"), f"{where} abandonment"),
                    "confusion": _bool(action.get("confusion"), f"{where} confusion"),
                    "exception": _exception(action.get("exception"), f"{where} exception"),
                }
            )
    outcomes = {}
    for outcome in data.get("segment_outcomes") or []:
        if isinstance(outcome, dict):
            idx = int(outcome.get("segment_index", 0) or 0)
            outcomes[idx] = {
                "success": _bool(outcome.get("success"), f"segment {idx} outcome success"),
                "summary": str(outcome.get("summary") or "").strip(),
            }
    session = data.get("session_outcome")
    if not isinstance(session, dict):
        raise OutputError("the answer has no session_outcome mapping")
    return {
        "segments": out_segments,
        "key_actions": key_actions,
        "segment_outcomes": outcomes,
        "session_outcome": {
            "success": _bool(session.get("success"), "session_outcome success"),
            "description": str(session.get("description") or "").strip(),
        },
    }


def ground(validated: dict[str, Any], prepared: PromptInput, *, max_ratio: float = MAX_INVENTED_RATIO) -> dict[str, Any]:
    """Drop key actions whose ids are not in the session; raise OutputError when too many ids were invented."""
    known = prepared.ids
    referenced = 0
    invented: list[str] = []
    kept_actions = []
    for action in validated["key_actions"]:
        referenced += 1
        if action["event_id"] in known:
            kept_actions.append(action)
        else:
            invented.append(action["event_id"])
    for seg in validated["segments"]:
        for key in ("start_event_id", "end_event_id"):
            referenced += 1
            if seg[key] not in known:
                invented.append(seg[key])
                seg[key] = ""
    ratio = len(invented) / referenced if referenced else 0.0
    if ratio > max_ratio:
        raise OutputError(
            f"{len(invented)} of {referenced} event ids in the answer do not exist in the session "
            f"({ratio:.0%} > {max_ratio:.0%})"
        )
    grounded = dict(validated, key_actions=kept_actions)
    grounded["grounding"] = {"referenced_ids": referenced, "invented_ids": invented, "invented_ratio": round(ratio, 3)}
    return grounded


def _segment_bounds(segments: list[dict[str, Any]], actions: list[dict[str, Any]], prepared: PromptInput) -> None:
    """Resolve each segment's start/end times; fill a missing bound from its key actions or neighbours."""
    ids = prepared.ids
    for seg in segments:
        mine = [ids[a["event_id"]].timestamp_ms for a in actions if a["segment_index"] == seg["index"]]
        start = ids[seg["start_event_id"]].timestamp_ms if seg["start_event_id"] in ids else (min(mine) if mine else None)
        end = ids[seg["end_event_id"]].timestamp_ms if seg["end_event_id"] in ids else (max(mine) if mine else None)
        seg["start_ms"], seg["end_ms"] = start, end
    for i, seg in enumerate(segments):
        if seg["start_ms"] is None:
            seg["start_ms"] = segments[i - 1]["end_ms"] if i and segments[i - 1]["end_ms"] is not None else prepared.start_ms
        if seg["end_ms"] is None:
            nxt = next((s["start_ms"] for s in segments[i + 1 :] if s["start_ms"] is not None), None)
            seg["end_ms"] = nxt if nxt is not None else prepared.end_ms
        if seg["end_ms"] < seg["start_ms"]:
            seg["end_ms"] = seg["start_ms"]
        for key in ("start_event_id", "end_event_id"):
            if not seg[key]:
                target = seg["start_ms"] if key == "start_event_id" else seg["end_ms"]
                nearest = min(prepared.rows, key=lambda r: abs(r.timestamp_ms - target), default=None)
                seg[key] = nearest.event_id if nearest else ""


def build_summary(
    grounded: dict[str, Any],
    prepared: PromptInput,
    *,
    engine: str,
    model: str = "",
    prompt_version: str = "",
    focus: str = "",
) -> dict[str, Any]:
    """The stored summary JSON (see the module docstring) from a grounded model or rule-engine answer."""
    ids = prepared.ids
    segments = sorted((dict(s) for s in grounded["segments"]), key=lambda s: s["index"])
    # Re-number segments 0..n-1 so indexes are positions, and remap key actions to them.
    renumber = {s["index"]: i for i, s in enumerate(segments)}
    actions = [dict(a, segment_index=renumber.get(a["segment_index"], 0)) for a in grounded["key_actions"]]
    outcomes = {renumber[k]: v for k, v in grounded["segment_outcomes"].items() if k in renumber}
    for i, seg in enumerate(segments):
        seg["index"] = i
    _segment_bounds(segments, actions, prepared)
    seen: set[str] = set()
    out_segments = []
    for seg in segments:
        key_actions = []
        for action in sorted(
            (a for a in actions if a["segment_index"] == seg["index"]), key=lambda a: ids[a["event_id"]].timestamp_ms
        ):
            if action["event_id"] in seen:
                continue
            seen.add(action["event_id"])
            row = ids[action["event_id"]]
            key_actions.append(
                {
                    "event_id": row.event_id,
                    "event_uuid": row.uuid,
                    "event": row.kind,
                    "timestamp_ms": row.timestamp_ms,
                    "seconds_from_start": prepared.seconds(row.timestamp_ms),
                    "url": row.url,
                    "description": action["description"],
                    "abandonment": action["abandonment"],
                    "confusion": action["confusion"],
                    "exception": action["exception"],
                    "problem": (problem_facts(prepared, row, action.get("problem_kind", ""))
                                if action["exception"] or action["abandonment"] or action["confusion"] else None),
                    "validation": None,
                }
            )
        out_segments.append(
            {
                "index": seg["index"],
                "name": seg["name"],
                "start_event_id": seg["start_event_id"],
                "end_event_id": seg["end_event_id"],
                "start_ms": seg["start_ms"],
                "end_ms": seg["end_ms"],
                "event_count": sum(1 for r in prepared.rows if seg["start_ms"] <= r.timestamp_ms <= seg["end_ms"]),
                "outcome": outcomes.get(seg["index"], {"success": True, "summary": ""}),
                "key_actions": key_actions,
            }
        )
    rule_based = engine == "rules"
    summary = {
        "schema": SCHEMA_ID,
        "engine": engine,
        "rule_based": rule_based,
        "label": "Rule-based summary (no LLM)" if rule_based else f"LLM summary ({model})",
        "model": model,
        "prompt_version": prompt_version,
        "focus": focus,
        "session_id": prepared.session_id,
        "session_start_ms": prepared.start_ms,
        "session_end_ms": prepared.end_ms,
        "session_duration_s": prepared.duration_s,
        "segments": out_segments,
        "session_outcome": dict(grounded["session_outcome"]),
        "grounding": grounded.get("grounding", {"referenced_ids": 0, "invented_ids": [], "invented_ratio": 0.0}),
        "input": {"rows": len(prepared.rows), "token_count": prepared.token_count, "input_hash": prepared.input_hash,
                  **prepared.stats},
    }
    return recompute_stats(summary)


def recompute_stats(summary: dict[str, Any]) -> dict[str, Any]:
    """Fill every derived number (segment times, shares, counts, totals) from the summary's own data."""
    start = summary["session_start_ms"]
    total_ms = max(1, summary["session_end_ms"] - start)
    totals = dict.fromkeys(
        ("key_action_count", "blocking_count", "non_blocking_count", "abandonment_count", "confusion_count",
         "failed_segment_count", "validated_count"), 0)
    for seg in summary["segments"]:
        actions = seg["key_actions"]
        seg["start_s"] = round((seg["start_ms"] - start) / 1000, 1)
        seg["end_s"] = round((seg["end_ms"] - start) / 1000, 1)
        seg["duration_s"] = round((seg["end_ms"] - seg["start_ms"]) / 1000, 1)
        seg["share_of_session_pct"] = round(100 * (seg["end_ms"] - seg["start_ms"]) / total_ms, 1)
        seg["key_action_count"] = len(actions)
        seg["exception_count"] = sum(1 for a in actions if a["exception"])
        seg["blocking_count"] = sum(1 for a in actions if a["exception"] == "blocking")
        seg["abandonment_count"] = sum(1 for a in actions if a["abandonment"])
        seg["confusion_count"] = sum(1 for a in actions if a["confusion"])
        seg["failure_count"] = sum(1 for a in actions if a["exception"] or a["abandonment"])
        totals["key_action_count"] += len(actions)
        totals["blocking_count"] += seg["blocking_count"]
        totals["non_blocking_count"] += sum(1 for a in actions if a["exception"] == "non-blocking")
        totals["abandonment_count"] += seg["abandonment_count"]
        totals["confusion_count"] += seg["confusion_count"]
        totals["failed_segment_count"] += 0 if seg["outcome"]["success"] else 1
        totals["validated_count"] += sum(1 for a in actions if a.get("validation"))
    summary["stats"] = {"segment_count": len(summary["segments"]), **totals}
    return summary


def blocking_key_actions(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Every key action flagged blocking, with its segment index and name added (what video validation checks)."""
    return [
        dict(action, segment_index=seg["index"], segment_name=seg["name"])
        for seg in summary.get("segments", [])
        for action in seg["key_actions"]
        if action["exception"] == "blocking"
    ]


def find_key_action(summary: dict[str, Any], event_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(segment, key action) of an event id; KeyError when the summary has no such key action."""
    for seg in summary.get("segments", []):
        for action in seg["key_actions"]:
            if action["event_id"] == event_id:
                return seg, action
    raise KeyError(f"no key action with event id {event_id!r} in this summary")


VERDICTS = ("confirmed", "denied", "inconclusive")
# Fields a validation may change, by path; anything else is ignored (and reported back).
ALLOWED_CHANGES = {
    "key_action.description": str,
    "key_action.exception": "exception",
    "key_action.abandonment": bool,
    "key_action.confusion": bool,
    "segment.name": str,
    "segment.outcome.success": bool,
    "segment.outcome.summary": str,
    "session_outcome.success": bool,
    "session_outcome.description": str,
}


def apply_validation(
    summary: dict[str, Any],
    event_id: str,
    verdict: str,
    *,
    changes: dict[str, Any] | None = None,
    evidence: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """A copy of the summary with one key action's validation recorded and the allowed changes applied.

    `changes` maps paths of ALLOWED_CHANGES ("key_action.exception", "segment.outcome.success",
    "session_outcome.description", ...) to new values; the key action, its segment and the session are
    the ones of `event_id`. Returns (new summary, ignored paths). Stats are recomputed.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    result = copy.deepcopy(summary)
    seg, action = find_key_action(result, event_id)
    targets = {"key_action": action, "segment": seg, "session_outcome": result["session_outcome"]}
    changed, ignored, previous = [], [], {}
    for path, value in (changes or {}).items():
        kind = ALLOWED_CHANGES.get(path)
        if kind is None:
            ignored.append(path)
            continue
        if kind == "exception":
            try:
                value = _exception(value, path)
            except OutputError:
                ignored.append(path)
                continue
        elif kind is bool:
            try:
                value = _bool(value, path)
            except OutputError:
                ignored.append(path)
                continue
        else:
            value = str(value)
        head, *rest = path.split(".")
        holder = targets[head]
        for part in rest[:-1]:
            holder = holder[part]
        previous[path] = holder[rest[-1]]
        holder[rest[-1]] = value
        changed.append(path)
    action["validation"] = {
        "verdict": verdict,
        "evidence": evidence or {},
        "changed": changed,
        "previous": previous,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return recompute_stats(result), ignored


def summary_as_yaml(summary: dict[str, Any]) -> str:
    """The stored summary in the model's YAML shape (used as the example and for debugging)."""
    data = {
        "segments": [
            {"index": s["index"], "name": s["name"], "start_event_id": s["start_event_id"], "end_event_id": s["end_event_id"]}
            for s in summary["segments"]
        ],
        "key_actions": [
            {"segment_index": s["index"], "events": [
                {k: a[k] for k in ("event_id", "description", "abandonment", "confusion", "exception")}
                for a in s["key_actions"]]}
            for s in summary["segments"]
        ],
        "segment_outcomes": [{"segment_index": s["index"], **s["outcome"]} for s in summary["segments"]],
        "session_outcome": summary["session_outcome"],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
