"""The main job of the demo: summarize every session of a project through the real queues, with progress."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from summaries.models import Project, SessionSummary

FINISHED = (SessionSummary.Status.SUCCEEDED, SessionSummary.Status.FAILED)


@dataclass
class JobProgress:
    """Where the job stands: summaries finished, blocking issues looked at on video."""

    sessions: int
    summarized: int
    failed: int
    blocking: int
    validated: int
    busy_tasks: int

    def line(self) -> str:
        """One progress line for a terminal."""
        return (f"summaries {self.summarized + self.failed}/{self.sessions}"
                f"{f' ({self.failed} failed)' if self.failed else ''}, "
                f"blocking issues checked on video {self.validated}/{self.blocking}, tasks in flight {self.busy_tasks}")


def queue_summaries(project: Project) -> int:
    """Queue summarize_session for every session without a finished summary; return how many were queued."""
    from summaries.tasks import summarize_session

    done = set(SessionSummary.objects.current().filter(session__project=project, status__in=FINISHED)
               .values_list("session_id", flat=True))
    queued = 0
    for pk in project.sessions.exclude(pk__in=done).values_list("pk", flat=True):
        summarize_session.delay(pk)
        queued += 1
    return queued


def progress(project: Project, busy_tasks: int) -> JobProgress:
    """Count finished summaries and validated blocking key actions of the project's latest summaries."""
    latest: dict[int, SessionSummary] = {}
    finished = SessionSummary.objects.current().filter(session__project=project, status__in=FINISHED)
    for row in finished.order_by("session_id", "-updated_at"):
        latest.setdefault(row.session_id, row)
    blocking = validated = 0
    for row in latest.values():
        for segment in (row.summary or {}).get("segments", []):
            for action in segment.get("key_actions", []):
                # flagged blocking, or flagged once and changed by its validation (a workaround, a denial)
                if action.get("exception") == "blocking" or action.get("validation"):
                    blocking += 1
                    validated += bool(action.get("validation"))
    return JobProgress(
        sessions=project.sessions.count(),
        summarized=sum(1 for r in latest.values() if r.status == SessionSummary.Status.SUCCEEDED),
        failed=sum(1 for r in latest.values() if r.status == SessionSummary.Status.FAILED),
        blocking=blocking,
        validated=validated,
        busy_tasks=busy_tasks,
    )


def wait_for_job(project: Project, busy: Callable[[], int], report: Callable[[JobProgress], None],
                 timeout: float = 1800, poll: float = 2.0) -> JobProgress:
    """Poll until every session has a finished summary and the workers are idle twice in a row, or time runs out."""
    deadline = time.monotonic() + timeout
    idle_polls = 0
    last_line = ""
    while True:
        state = progress(project, busy())
        if state.line() != last_line:
            report(state)
            last_line = state.line()
        done = state.summarized + state.failed >= state.sessions
        idle_polls = idle_polls + 1 if done and state.busy_tasks == 0 else 0
        if idle_polls >= 2:
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"the job did not finish within {timeout:.0f} s ({state.line()}); "
                               "see the worker logs under var/logs/")
        time.sleep(poll)
