"""A running summary's sign of life: its heartbeat is stamped while the run lives, and a deadline bounds it.

A row `running` with a fresh heartbeat is never taken over (so it is never billed twice); one whose heartbeat
stopped belongs to a worker that died, and the beat sweep queues it again within minutes.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from summaries import llm

log = logging.getLogger(__name__)
# Missing this many beats in a row means the run's process is gone (one late beat under load is not).
MISSED_BEATS = 4


def deadline_seconds() -> int:
    """How long a summary run may take (RECAP_SUMMARY_DEADLINE_SECONDS)."""
    return int(getattr(settings, "RECAP_SUMMARY_DEADLINE_SECONDS", 1800))


def beat_seconds() -> float:
    """How often a running summary stamps its heartbeat (RECAP_SUMMARY_HEARTBEAT_SECONDS)."""
    return float(getattr(settings, "RECAP_SUMMARY_HEARTBEAT_SECONDS", 15))


def stale_after() -> timedelta:
    """No heartbeat for this long: the worker running the summary died."""
    return timedelta(seconds=MISSED_BEATS * beat_seconds())


def is_abandoned(heartbeat_at: datetime | None, updated_at: datetime, now: datetime | None = None) -> bool:
    """True when a running row's last sign of life is older than stale_after()."""
    last = heartbeat_at or updated_at
    return last < (now or timezone.now()) - stale_after()


class RunGuard:
    """While a summary runs: a thread stamping its heartbeat, and the deadline its model calls obey."""

    def __init__(self, summary_pk: int) -> None:
        self.summary_pk = summary_pk
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"summary-{summary_pk}-heartbeat", daemon=True)
        self._context = ExitStack()
        self._deadline = 0.0

    def start(self) -> "RunGuard":
        """Begin beating and enter the deadline (in this thread, the one that calls the model)."""
        self._deadline = time.monotonic() + deadline_seconds()
        self._context.enter_context(llm.deadline(self._deadline))
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating and leave the deadline."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._context.close()

    def _beat(self) -> None:
        from summaries.models import SessionSummary

        try:
            # Past its deadline (plus a minute) a run can only be stuck: stop vouching for it, so it is resumed.
            while not self._stop.wait(beat_seconds()) and time.monotonic() < self._deadline + 60:
                SessionSummary.objects.filter(pk=self.summary_pk, status=SessionSummary.Status.RUNNING).update(
                    heartbeat_at=timezone.now())
        except Exception:  # noqa: BLE001 - a missed beat only makes the run look older
            log.warning("heartbeat of summary %s failed", self.summary_pk, exc_info=True)
        finally:
            connection.close()  # this thread's own database connection


_GUARDS: dict[int, RunGuard] = {}


def guard(summary_pk: int) -> None:
    """Start guarding a run that has just been claimed."""
    _GUARDS[summary_pk] = RunGuard(summary_pk).start()


def release(summary_pk: int) -> None:
    """Stop guarding a run once its outcome is stored."""
    run = _GUARDS.pop(summary_pk, None)
    if run is not None:
        run.stop()
