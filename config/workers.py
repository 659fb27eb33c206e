"""Worker diagnostics: a chord across the queues that says which ones have a live worker."""
from __future__ import annotations

import os
import socket

from celery import chord, shared_task

QUEUES = ("default", "llm", "render")


def _ping(queue: str) -> dict[str, object]:
    return {"queue": queue, "host": socket.gethostname(), "pid": os.getpid()}


@shared_task(name="config.workers.ping_default")
def ping_default() -> dict[str, object]:
    """Answer from a worker of the default queue."""
    return _ping("default")


@shared_task(name="config.workers.ping_llm")
def ping_llm() -> dict[str, object]:
    """Answer from a worker of the llm queue."""
    return _ping("llm")


@shared_task(name="config.workers.ping_render")
def ping_render() -> dict[str, object]:
    """Answer from a worker of the render queue."""
    return _ping("render")


@shared_task(name="config.workers.collect_pings")
def collect_pings(answers: list[dict[str, object]]) -> dict[str, object]:
    """Fan-in of the pings: which queues answered, from which processes."""
    return {"queues": sorted({str(a["queue"]) for a in answers}), "answers": answers}


def ping_chord(rounds: int = 1):
    """A chord of `rounds` pings on every queue, collected by one callback."""
    header = [task.s() for _ in range(rounds) for task in (ping_default, ping_llm, ping_render)]
    return chord(header)(collect_pings.s())


def pipeline_busy(timeout: float = 2.0) -> int:
    """Tasks still waiting in a queue or held by a worker (active, reserved or scheduled for a retry)."""
    from config.celery import app

    waiting = 0
    with app.connection_for_read() as conn:
        client = conn.default_channel.client
        for queue in QUEUES:
            waiting += int(client.llen(queue) or 0)
    inspect = app.control.inspect(timeout=timeout)
    for held in (inspect.active(), inspect.reserved(), inspect.scheduled()):
        waiting += sum(len(tasks) for tasks in (held or {}).values())
    return waiting
