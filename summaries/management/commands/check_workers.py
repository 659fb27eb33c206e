"""Send a chord of pings across the default, llm and render queues and report which answered."""
from __future__ import annotations

from celery.exceptions import TimeoutError as CeleryTimeout
from django.core.management.base import BaseCommand, CommandError

from config.workers import QUEUES, ping_chord


class Command(BaseCommand):
    help = "Check that a worker serves each queue (default, llm, render), through a real chord."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, default=20.0)
        parser.add_argument("--rounds", type=int, default=1, help="pings per queue")

    def handle(self, *args, **opts) -> None:
        result = ping_chord(opts["rounds"])
        try:
            answer = result.get(timeout=opts["timeout"])
        except CeleryTimeout as exc:
            raise CommandError(
                f"no answer within {opts['timeout']:.0f} s: at least one of the queues {', '.join(QUEUES)} "
                "has no running worker (start them with `manage.py serve`)"
            ) from exc
        for ping in answer["answers"]:
            self.stdout.write(f"{ping['queue']:8} answered by {ping['host']} pid {ping['pid']}")
        self.stdout.write(self.style.SUCCESS(f"all queues served: {', '.join(answer['queues'])}"))
