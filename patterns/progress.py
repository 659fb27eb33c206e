"""A running report's progress in Redis: phase, counts, per-session state, pattern names found so far."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from patterns import store


def _key(report_id: int, part: str) -> str:
    """Redis key of one part of a report's progress."""
    return store.key("report", report_id, part)


def set_phase(report_id: int, phase: str, total: int, skipped: int = 0) -> None:
    """A phase starts: its name, how many items, counters reset."""
    pipe = store.client().pipeline()
    name = _key(report_id, "progress")
    pipe.hset(name, mapping={"phase": str(phase), "status": "running", "total": total, "done": 0, "failed": 0,
                             "skipped": skipped, "phase_started": time.time(), "updated": time.time()})
    pipe.expire(name, store.TTL_SECONDS)
    pipe.execute()


def item_finished(report_id: int, outcome: str, worker: str = "", session: str = "", state: str = "") -> None:
    """One item of the current phase ended (done / failed / skipped); optionally a session's new state."""
    pipe = store.client().pipeline()
    name = _key(report_id, "progress")
    pipe.hincrby(name, outcome, 1)
    pipe.hset(name, "updated", time.time())
    pipe.expire(name, store.TTL_SECONDS)
    if worker:
        pipe.hincrby(_key(report_id, "workers"), worker, 1)
        pipe.expire(_key(report_id, "workers"), store.TTL_SECONDS)
    if session:
        pipe.hset(_key(report_id, "sessions"), session, state or outcome)
        pipe.expire(_key(report_id, "sessions"), store.TTL_SECONDS)
    pipe.execute()


def session_state(report_id: int, states: dict[str, str]) -> None:
    """Set several sessions' states at once (queued, skipped: reason, ...)."""
    if not states:
        return
    pipe = store.client().pipeline()
    pipe.hset(_key(report_id, "sessions"), mapping=states)
    pipe.expire(_key(report_id, "sessions"), store.TTL_SECONDS)
    pipe.execute()


def touch(report_id: int, **fields: Any) -> None:
    """Update free fields of the progress (status, message) and its clock."""
    name = _key(report_id, "progress")
    store.client().hset(name, mapping={**{k: str(v) for k, v in fields.items()}, "updated": time.time()})
    store.client().expire(name, store.TTL_SECONDS)


def found(report_id: int, names: list[str]) -> None:
    """The names of the patterns found so far (replaces the list)."""
    name = _key(report_id, "found")
    store.client().set(name, json.dumps(names[:50]), ex=store.TTL_SECONDS)


def add_usage(report_id: int, phase: str, calls: int, input_tokens: int = 0, output_tokens: int = 0,
              cost: float | None = None) -> None:
    """Count model usage of a phase in this run (kept across resumes; a re-run starts from zero)."""
    if not calls:
        return
    name = _key(report_id, "usage")
    pipe = store.client().pipeline()
    pipe.hincrby(name, f"{phase}:calls", calls)
    pipe.hincrby(name, f"{phase}:input_tokens", input_tokens)
    pipe.hincrby(name, f"{phase}:output_tokens", output_tokens)
    if cost is not None:
        pipe.hincrbyfloat(name, f"{phase}:cost", cost)
    pipe.expire(name, store.TTL_SECONDS)
    pipe.execute()


def usage(report_id: int, phase: str) -> dict[str, Any]:
    """A phase's model usage in this run so far (calls, tokens, cost or None)."""
    fields = [f"{phase}:{part}" for part in ("calls", "input_tokens", "output_tokens", "cost")]
    calls, tin, tout, cost = store.client().hmget(_key(report_id, "usage"), fields)
    return {"calls": int(calls or 0), "input_tokens": int(tin or 0), "output_tokens": int(tout or 0),
            "cost": float(cost) if cost is not None else None}


def workers(report_id: int) -> dict[str, int]:
    """Items done per worker host during this report."""
    raw = store.client().hgetall(_key(report_id, "workers"))
    return {k.decode(): int(v) for k, v in raw.items()}


@dataclass
class Progress:
    """What a page or the command shows while a report runs."""

    phase: str = ""
    status: str = ""
    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    updated: float = 0.0
    phase_started: float = 0.0
    sessions: dict[str, str] = field(default_factory=dict)
    patterns_found: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for a terminal."""
        if not self.phase:
            return "waiting for a worker"
        counts = f"{self.done + self.failed + self.skipped}/{self.total}"
        extra = [f"{n} {what}" for n, what in ((self.failed, "failed"), (self.skipped, "skipped")) if n]
        text = f"{self.phase}: {counts}" + (f" ({', '.join(extra)})" if extra else "")
        if self.patterns_found:
            shown = ", ".join(self.patterns_found[:5]) + (", ..." if len(self.patterns_found) > 5 else "")
            text += f"; patterns so far: {shown}"
        return text


def read(report_id: int, with_sessions: bool = False) -> Progress:
    """The report's progress as stored in Redis (empty when it never started or expired)."""
    client = store.client()
    raw = {k.decode(): v.decode() for k, v in client.hgetall(_key(report_id, "progress")).items()}
    found_raw = client.get(_key(report_id, "found"))
    sessions = {}
    if with_sessions:
        sessions = {k.decode(): v.decode() for k, v in client.hgetall(_key(report_id, "sessions")).items()}
    return Progress(
        phase=raw.get("phase", ""),
        status=raw.get("status", ""),
        total=int(raw.get("total", 0) or 0),
        done=int(raw.get("done", 0) or 0),
        failed=int(raw.get("failed", 0) or 0),
        skipped=int(raw.get("skipped", 0) or 0),
        updated=float(raw.get("updated", 0) or 0),
        phase_started=float(raw.get("phase_started", 0) or 0),
        sessions=sessions,
        patterns_found=json.loads(found_raw) if found_raw else [],
    )


def clear(report_id: int) -> None:
    """Forget the progress of an earlier run (a re-run starts from scratch)."""
    store.client().delete(*(_key(report_id, part) for part in ("progress", "sessions", "usage", "found", "workers")))
