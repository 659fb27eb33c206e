"""A stored summary as plain text for the terminal."""
from __future__ import annotations

from typing import Any


def _mmss(seconds: float) -> str:
    """Seconds as m:ss."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def summary_text(summary: dict[str, Any]) -> str:
    """A readable rendering: label, outcome, then each segment with its key actions and flags."""
    lines = [summary["label"] + (f" — focus: {summary['focus']}" if summary.get("focus") else "")]
    outcome = summary["session_outcome"]
    lines.append(f"Session {summary['session_id']} ({_mmss(summary['session_duration_s'])}): "
                 f"{'SUCCESS' if outcome['success'] else 'NOT ACHIEVED'} — {outcome['description']}")
    stats = summary["stats"]
    lines.append(f"{stats['segment_count']} segments, {stats['key_action_count']} key actions, "
                 f"{stats['blocking_count']} blocking, {stats['non_blocking_count']} non-blocking, "
                 f"{stats['abandonment_count']} abandonment, {stats['confusion_count']} confusion")
    for seg in summary["segments"]:
        seg_outcome = seg["outcome"]
        lines.append("")
        lines.append(f"[{seg['index']}] {seg['name']}  {_mmss(seg['start_s'])}-{_mmss(seg['end_s'])} "
                     f"({seg['share_of_session_pct']}% of session, {seg['event_count']} events) "
                     f"{'ok' if seg_outcome['success'] else 'FAILED'}: {seg_outcome['summary']}")
        for action in seg["key_actions"]:
            flags = [f for f in ("abandonment", "confusion") if action[f]]
            if action["exception"]:
                flags.insert(0, action["exception"].upper())
            verdict = (action.get("validation") or {}).get("verdict")
            if verdict:
                flags.append(f"video: {verdict}")
            lines.append(f"    {_mmss(action['seconds_from_start'])} {action['event_id']} {action['description']}"
                         + (f"  [{', '.join(flags)}]" if flags else ""))
    return "\n".join(lines)
