"""Alerts fired once (by dedupe key) and delivered on every channel, with retries and backoff, all logged."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sweeps.alerts.channels import DeliveryError, send
from sweeps.models import Alert, AlertPolicy, Delivery, TrackedPattern


def max_attempts() -> int:
    """RECAP_ALERT_MAX_ATTEMPTS (default 5): tries per delivery before it is marked failed."""
    return max(1, int(getattr(settings, "RECAP_ALERT_MAX_ATTEMPTS", 5)))


def backoff(attempts: int) -> float:
    """Seconds before the next try: RECAP_ALERT_RETRY_SECONDS (30) doubled after every failure."""
    return float(getattr(settings, "RECAP_ALERT_RETRY_SECONDS", 30)) * 2 ** max(0, attempts - 1)


def fire(policy: AlertPolicy, kind: str, key: str, title: str, text: str, payload: dict[str, Any],
         pattern: TrackedPattern | None = None, channels: list | None = None) -> Alert | None:
    """Store the alert once per dedupe key and queue a delivery per enabled channel (None: fired before)."""
    from sweeps.tasks import deliver

    try:
        with transaction.atomic():
            alert = Alert.objects.create(organization_id=policy.organization_id, project_id=policy.project_id,
                                         pattern=pattern, kind=kind, dedupe_key=key[:200], title=title[:300],
                                         text=text, payload=payload)
            targets = channels if channels is not None else list(policy.channels.filter(enabled=True))
            rows = Delivery.objects.bulk_create([Delivery(organization_id=policy.organization_id, alert=alert,
                                                          channel=c) for c in targets])
            ids = [row.pk for row in rows]
            transaction.on_commit(lambda: [deliver.delay(pk) for pk in ids])
    except IntegrityError:
        return None
    return alert


def _log(delivery: Delivery, outcome: str, now: datetime) -> None:
    """Append one attempt to the delivery log."""
    delivery.log = [*delivery.log, {"at": now.isoformat(), "attempt": delivery.attempts, "outcome": outcome}][-20:]


def attempt(delivery_pk: int) -> float | None:
    """Try a pending delivery once; returns the seconds to wait before the next try (None: no retry)."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("alert__project", "channel").filter(pk=delivery_pk).first())
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return None
        delivery.attempts += 1
        now = timezone.now()
        try:
            delivery.response_code = send(delivery)
        except DeliveryError as exc:
            delivery.response_code, delivery.error = exc.status, str(exc)[:2000]
            _log(delivery, f"failed: {exc}"[:500], now)
            if delivery.attempts >= max_attempts():
                delivery.status = Delivery.Status.FAILED
            delivery.save()
            return None if delivery.status == Delivery.Status.FAILED else backoff(delivery.attempts)
        delivery.status, delivery.sent_at, delivery.error = Delivery.Status.SENT, now, ""
        _log(delivery, f"sent ({delivery.response_code or 'mail'})", now)
        delivery.save()
    return None
