"""`manage.py alerts test --project P`: send a test message to each of the project's alert channels."""
from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patterns.management.commands.report import find_project
from sweeps.alerts.delivery import attempt, fire
from sweeps.models import Alert, AlertPolicy, Delivery


class Command(BaseCommand):
    """Alert tools."""

    help = "alerts test --project P: send a test message to each configured channel and print the outcome."

    def add_arguments(self, parser: CommandParser) -> None:
        """The `test` action and --project."""
        parser.add_argument("action", choices=["test"])
        parser.add_argument("--project", required=True, help="project id or capture token")

    def handle(self, *args: Any, **options: Any) -> None:
        """Send now (one try each, printed), not through the queue."""
        project = find_project(options["project"])
        policy = AlertPolicy.objects.filter(project=project).first()
        channels = list(policy.channels.filter(enabled=True)) if policy else []
        if not channels:
            raise CommandError(f"project {project.pk} has no enabled alert channel (add one in the admin)")
        alert = fire(policy, Alert.Kind.TEST, f"test:{project.pk}:{uuid.uuid4()}",
                     f"Test alert from Recap: {project.name}",
                     "This is a test message: alerts of this project reach this channel.", {"test": True}, channels=[])
        failed = 0
        for channel in channels:
            delivery = Delivery.objects.create(organization_id=policy.organization_id, alert=alert, channel=channel)
            attempt(delivery.pk)
            pending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING)
            pending.update(status=Delivery.Status.FAILED)  # one try: the command says at once what went wrong
            delivery.refresh_from_db()
            failed += delivery.status != Delivery.Status.SENT
            outcome = "sent" if delivery.status == Delivery.Status.SENT else f"not sent: {delivery.error}"
            target = channel.name or channel.url or channel.emails
            self.stdout.write(f"{channel.get_kind_display()} {target}: {outcome}")
        if failed:
            raise CommandError(f"{failed} of {len(channels)} channel(s) failed")
