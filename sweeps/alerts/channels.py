"""Sending one delivery on its channel: signed webhook, Slack, e-mail. Raises DeliveryError with the reason."""
from __future__ import annotations

import hashlib
import hmac
import json

import httpx
from django.conf import settings
from django.core.mail import send_mail

from sweeps.alerts.payloads import VERSION, email_parts, slack_body, webhook_body
from sweeps.models import AlertChannel, Delivery

TIMEOUT = 10.0


class DeliveryError(Exception):
    """A delivery attempt failed (the message says why); `status` is the HTTP answer when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the channel's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status; a non-2xx answer or a network error raises DeliveryError."""
    try:
        answer = httpx.post(url, content=body, headers={"Content-Type": "application/json", **headers},
                            timeout=TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{exc.__class__.__name__}: {exc}") from exc
    if not 200 <= answer.status_code < 300:
        raise DeliveryError(f"HTTP {answer.status_code}: {answer.text[:200]}", answer.status_code)
    return answer.status_code


def send(delivery: Delivery) -> int | None:
    """Send the delivery once on its channel; returns the HTTP status (None for e-mail)."""
    channel, alert = delivery.channel, delivery.alert
    if channel is None:
        raise DeliveryError("the channel was deleted")
    if channel.kind == AlertChannel.Kind.WEBHOOK:
        body = json.dumps(webhook_body(alert, str(delivery.delivery_id)), separators=(",", ":")).encode()
        return _post(channel.url, body, {"X-Recap-Version": VERSION, "X-Recap-Event": alert.kind,
                                         "X-Recap-Delivery": str(delivery.delivery_id),
                                         "X-Recap-Signature": signature(channel.secret, body)})
    if channel.kind == AlertChannel.Kind.SLACK:
        return _post(channel.url, json.dumps(slack_body(alert)).encode(), {})
    recipients = channel.recipients()
    if not recipients:
        raise DeliveryError("no e-mail address on the channel")
    subject, text = email_parts(alert)
    try:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception as exc:  # SMTP errors come in many classes
        raise DeliveryError(f"{exc.__class__.__name__}: {exc}") from exc
    return None
