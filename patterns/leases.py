"""Leases in Redis, kept alive by a heartbeat thread while this process works on them.

A work item is done by one process at a time (the holder of its lease), and a report is "alive" while some
process runs one of its tasks. A process that dies (SIGKILL, lost machine) stops renewing, so its leases
lapse after `stall_seconds()` and the work can be taken over without repeating what it finished.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

from django.conf import settings

from patterns import store

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def stall_seconds() -> int:
    """How long a lease (or a report with no live task) lasts without renewal: RECAP_REPORT_STALL_SECONDS."""
    return max(2, int(getattr(settings, "RECAP_REPORT_STALL_SECONDS", 120)))


def alive_key(report_id: int) -> str:
    """The key that exists while a task of the report runs somewhere."""
    return store.key("report", report_id, "alive")


class Keeper:
    """The leases this process holds, renewed by one daemon thread."""

    def __init__(self) -> None:
        """No leases yet; the thread starts with the first one."""
        self.token = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held: dict[str, str] = {}
        self.reports: Counter[int] = Counter()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()

    def _ensure_thread(self) -> None:
        """Start the heartbeat thread in this process (again after a fork)."""
        if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
            self.pid = os.getpid()
            self.thread = threading.Thread(target=self._beat, name="recap-report-heartbeat", daemon=True)
            self.thread.start()

    def _beat(self) -> None:
        """Renew every held lease and alive report a few times per lease period."""
        while True:
            ttl = stall_seconds()
            time.sleep(max(0.5, ttl / 4))
            with self.lock:
                leases = dict(self.held)
                reports = [r for r, n in self.reports.items() if n > 0]
            try:
                pipe = store.client().pipeline()
                for name in leases:
                    pipe.expire(name, ttl)
                for report_id in reports:
                    pipe.set(alive_key(report_id), self.token, ex=ttl)
                pipe.execute()
            except Exception:  # Redis briefly away: the next beat tries again
                continue

    def acquire(self, name: str) -> bool:
        """Take a lease unless another live process holds it."""
        token = f"{self.token}:{uuid.uuid4().hex[:6]}"
        if not store.client().set(name, token, nx=True, ex=stall_seconds()):
            return False
        with self.lock:
            self.held[name] = token
            self._ensure_thread()
        return True

    def release(self, name: str) -> None:
        """Give a lease back (only if still ours)."""
        with self.lock:
            token = self.held.pop(name, None)
        if token is not None:
            store.client().eval(_RELEASE, 1, name, token)

    @contextlib.contextmanager
    def working_on(self, report_id: int) -> Iterator[None]:
        """Mark the report alive while the block runs."""
        with self.lock:
            self.reports[report_id] += 1
            self._ensure_thread()
        store.client().set(alive_key(report_id), self.token, ex=stall_seconds())
        try:
            yield
        finally:
            with self.lock:
                self.reports[report_id] -= 1
                if self.reports[report_id] <= 0:
                    del self.reports[report_id]


keeper = Keeper()


def lease_key(item: str) -> str:
    """The lease of a work item."""
    return store.key("lease", item)


@contextlib.contextmanager
def exclusive(item: str, ready: callable, poll: float = 0.5) -> Iterator[bool]:
    """Hold the item's lease for the block; yields False when `ready()` became true while waiting for another
    holder (its result is there: nothing to do)."""
    name = lease_key(item)
    while not keeper.acquire(name):
        if ready():
            yield False
            return
        time.sleep(poll)
    try:
        yield not ready()
    finally:
        keeper.release(name)
