"""The report's view of stored summaries: as the engine wrote them, their flagged moments and their context.

Patterns are grouped from what the summaries said before any video check: a verdict changes a key action's
flags afterwards, and the report shows verdicts on its examples instead. Reading the summaries as written
keeps a report's input, and so its cached intermediates, the same however validations progress.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from patterns.fingerprint import flag_kind
from summaries.analysis.schema import recompute_stats

NEIGHBOURS = 3


def as_written(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy of the summary with every validation's changes undone, the validation records removed and its
    numbers recomputed."""
    result = copy.deepcopy(summary)
    applied = []
    for seg in result.get("segments", []):
        for position, action in enumerate(seg.get("key_actions", [])):
            validation = action.get("validation")
            if validation:
                applied.append((str(validation.get("at") or ""), position, seg, action, validation))
    for _, _, seg, action, validation in sorted(applied, key=lambda item: (item[0], item[1]), reverse=True):
        targets = {"key_action": action, "segment": seg, "session_outcome": result.get("session_outcome", {})}
        for path, value in (validation.get("previous") or {}).items():
            head, *rest = path.split(".")
            holder = targets.get(head)
            for part in rest[:-1]:
                holder = holder.get(part) if isinstance(holder, dict) else None
            if isinstance(holder, dict) and rest:
                holder[rest[-1]] = value
    for seg in result.get("segments", []):
        for action in seg.get("key_actions", []):
            action.pop("validation", None)
    try:
        return recompute_stats(result)
    except (KeyError, TypeError):  # a summary without its derived numbers: nothing to recompute
        return result


def summary_digest(summary: dict[str, Any]) -> str:
    """sha256 of the summary as written: equal digests mean the same input to every phase."""
    return hashlib.sha256(json.dumps(as_written(summary), sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Moment:
    """One key action of a summary with where it sits: segment, position, flag."""

    summary_id: int
    session_pk: int
    position: int  # index among the summary's key actions in time order
    segment: dict[str, Any]
    action: dict[str, Any]

    @property
    def event_id(self) -> str:
        """The key action's short id."""
        return str(self.action.get("event_id") or "")

    @property
    def flag(self) -> str | None:
        """blocking / non-blocking / abandonment / confusion, or None."""
        return flag_kind(self.action)


def moments(summary: dict[str, Any], summary_id: int = 0, session_pk: int = 0) -> list[Moment]:
    """Every key action of a summary, in time order, with its segment."""
    found = [(action.get("timestamp_ms") or 0, s_i, a_i, seg, action)
             for s_i, seg in enumerate(summary.get("segments", []))
             for a_i, action in enumerate(seg.get("key_actions", []))]
    found.sort(key=lambda item: item[:3])
    return [Moment(summary_id, session_pk, i, seg, action) for i, (_, _, _, seg, action) in enumerate(found)]


def flagged(summary: dict[str, Any], summary_id: int = 0, session_pk: int = 0) -> list[Moment]:
    """The flagged key actions (exception, abandonment or confusion), in time order."""
    return [m for m in moments(summary, summary_id, session_pk) if m.flag]


def brief(moment: Moment) -> dict[str, Any]:
    """A neighbour as shown next to an example: its own ids, time, description and flag."""
    action = moment.action
    return {
        "event_id": moment.event_id,
        "event_uuid": action.get("event_uuid") or "",
        "seconds_from_start": action.get("seconds_from_start"),
        "description": action.get("description") or "",
        "flag": moment.flag or "",
    }


def neighbours(all_moments: list[Moment], target: Moment, n: int = NEIGHBOURS) -> tuple[list[dict], list[dict]]:
    """Up to n key actions before and after the target, each described by its own ids (never the target's)."""
    before = all_moments[max(0, target.position - n):target.position]
    after = all_moments[target.position + 1:target.position + 1 + n]
    return [brief(m) for m in before], [brief(m) for m in after]
