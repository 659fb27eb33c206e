"""Scoring the validator on labelled sessions: blocking claims at real blockers, at problems that blocked nobody, at noise.

For every labelled moment a claim "the user was blocked here" is made on the key action the rule engine flagged
there (or, when it flagged nothing, the nearest row of the session's input), its clip rendered and the claim
judged exactly as a summary's blocking key action would be. A good validator confirms the real blockers,
never confirms a claim about a problem that blocked nobody, and denies most of those.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from replay_render.rendering import render
from replay_render.validation import clip_for_action, observe_with_rules
from replay_render.validation.verdict import CONFIRMED, DENIED, decide
from summaries.analysis.flows import USER_ACTIONS
from summaries.models import Session, SessionSummary
from summaries.summarize import load_prepared, summarize_session

BUCKETS = ("blocking", "non_blocking", "noise")
NEAR_S = 10.0
# Rows worth claiming a problem at when the summary flagged nothing near a labelled moment.
CLAIMABLE = set(USER_ACTIONS) | {"request_failed", "text_shown", "field_invalid", "dead_click", "rageclick",
                                 "slow_request", "loading_left", "exception", "pageview"}


@dataclass
class ValidatorScore:
    """Verdicts per label bucket and kind."""

    verdicts: Counter = field(default_factory=Counter)  # (bucket, kind, verdict) -> count
    reasons: list[tuple[str, str, str, str]] = field(default_factory=list)  # (bucket, session, verdict, description)

    def count(self, bucket: str, verdict: str | None = None) -> int:
        """Claims of a bucket (with a verdict)."""
        return sum(n for (b, _, v), n in self.verdicts.items() if b == bucket and (verdict is None or v == verdict))

    def figures(self) -> dict[str, Any]:
        """The three figures that matter: real blockers confirmed, false claims confirmed, false claims denied."""
        real = self.count("blocking")
        false = self.count("non_blocking") + self.count("noise")
        false_confirmed = self.count("non_blocking", CONFIRMED) + self.count("noise", CONFIRMED)
        false_denied = self.count("non_blocking", DENIED) + self.count("noise", DENIED)
        return {
            "real_blockers": real,
            "real_confirmed": self.count("blocking", CONFIRMED),
            "real_confirmed_share": round(self.count("blocking", CONFIRMED) / real, 3) if real else None,
            "false_claims": false,
            "false_confirmed": false_confirmed,
            "false_denied": false_denied,
            "false_denied_share": round(false_denied / false, 3) if false else None,
        }


def _action_from_row(prepared: Any, row: Any) -> dict[str, Any]:
    """A blocking key action claimed at a row of the session's input."""
    return {"event_id": row.event_id, "event_uuid": row.uuid, "event": row.kind, "timestamp_ms": row.timestamp_ms,
            "seconds_from_start": prepared.seconds(row.timestamp_ms), "url": row.url,
            "description": f"claimed blocking at {row.kind}", "exception": "blocking", "abandonment": False,
            "confusion": False, "validation": None, "segment_index": -1}


def claims(session: Session, label: dict[str, Any], summary: SessionSummary) -> list[tuple[str, str, dict]]:
    """(bucket, kind, blocking key action) for every labelled moment of a session."""
    prepared = load_prepared(session)
    flagged = [dict(a, segment_index=seg["index"]) for seg in summary.summary["segments"]
               for a in seg["key_actions"] if a["exception"]]
    rows = [r for r in prepared.rows if r.kind in CLAIMABLE]
    blockers = [float(b["t"]) for b in label.get("blocking") or []]
    out = []
    for bucket in BUCKETS:
        for issue in label.get(bucket) or []:
            t = float(issue["t"])

            def ours(at: float) -> bool:
                """A moment closer to this labelled problem than to any real blocker (else it is that blocker's)."""
                return abs(at - t) <= NEAR_S and (bucket == "blocking" or all(abs(at - t) < abs(at - b) for b in blockers))

            near = [a for a in flagged if ours(a["seconds_from_start"])]
            if near:
                action = dict(min(near, key=lambda a: abs(a["seconds_from_start"] - t)), exception="blocking",
                              validation=None)
            else:
                candidates = [r for r in rows if ours(prepared.seconds(r.timestamp_ms))]
                if not candidates:
                    continue
                action = _action_from_row(prepared, min(candidates, key=lambda r: abs(prepared.seconds(r.timestamp_ms) - t)))
            out.append((bucket, str(issue.get("kind") or "unknown"), action))
    return out


def judge(summary: SessionSummary, action: dict[str, Any]) -> tuple[str, str]:
    """(verdict or "clip failed", description) of the rule-based validator on one claimed action."""
    clip = render(clip_for_action(summary, action))
    if not clip.is_ready:
        return "clip failed", clip.failure_reason or clip.state
    observation = observe_with_rules(summary, action, clip)
    return decide(observation, action).verdict, observation.description


def score_sessions(labels: list[dict[str, Any]], sessions: dict[str, Session],
                   progress: Any = None) -> ValidatorScore:
    """Claims at every labelled moment of these sessions, judged by the rule-based validator."""
    result = ValidatorScore()
    for label in labels:
        session = sessions.get(label["session_id"])
        if session is None:
            continue
        summary = summarize_session(session, engine="rules")
        if not summary.summary:
            continue
        for bucket, kind, action in claims(session, label, summary):
            verdict, description = judge(summary, action)
            result.verdicts[(bucket, kind, verdict)] += 1
            result.reasons.append((bucket, session.session_id, verdict, description))
            if progress is not None:
                progress(bucket, kind, verdict)
    return result


def score_text(result: ValidatorScore) -> str:
    """The figures and the verdicts per bucket and kind, as lines."""
    f = result.figures()
    share = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [
        f"Real blockers confirmed: {f['real_confirmed']} of {f['real_blockers']} ({share(f['real_confirmed_share'])})",
        f"Claims on problems that blocked nobody (non-blocking and noise): {f['false_claims']}; confirmed "
        f"{f['false_confirmed']}, denied {f['false_denied']} ({share(f['false_denied_share'])})",
        "Verdicts per label:",
    ]
    for (bucket, kind, verdict), n in sorted(result.verdicts.items()):
        lines.append(f"  {bucket:13} {kind:22} {verdict:13} {n:3d}")
    return "\n".join(lines)
