"""What each channel receives: the versioned webhook JSON, a Slack incoming-webhook message, an e-mail."""
from __future__ import annotations

from typing import Any

from django.conf import settings

from sweeps.identity import trend
from sweeps.models import Alert, TrackedPattern

SCHEMA = "recap.alert/1"
VERSION = "1"


def pattern_data(tracked: TrackedPattern) -> dict[str, Any]:
    """A tracked pattern as data: identity, severity, first/last seen and the trend."""
    return {"id": tracked.pk, "key": tracked.key, "name": tracked.name, "description": tracked.description,
            "severity": tracked.severity, "kind": tracked.kind, "first_seen": tracked.first_seen.isoformat(),
            "last_seen": tracked.last_seen.isoformat(),
            "trend": [{"day": day.isoformat(), "sessions": count} for day, count in trend(tracked)]}


def webhook_body(alert: Alert, delivery_id: str) -> dict[str, Any]:
    """The generic webhook's JSON (schema recap.alert/1)."""
    return {"schema": SCHEMA, "version": VERSION, "delivery_id": delivery_id, "kind": alert.kind,
            "created_at": alert.created_at.isoformat(), "title": alert.title, "text": alert.text,
            "organization": {"id": alert.organization_id}, "project": {"id": alert.project_id,
                                                                        "name": alert.project.name},
            **alert.payload}


def slack_body(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message: a fallback `text` and blocks (header, body, link)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150], "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _escape(alert.text)[:2900] or " "}},
    ]
    link = alert.payload.get("report_url")
    if link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the report>"}]})
    return {"text": alert.title, "blocks": blocks}


def email_parts(alert: Alert) -> tuple[str, str]:
    """(subject, body) of the e-mail."""
    link = alert.payload.get("report_url")
    body = alert.text + (f"\n\n{link}" if link else "") + f"\n\n-- Recap ({settings.RECAP_BASE_URL})"
    return f"[Recap] {alert.title}"[:200], body


def _escape(text: str) -> str:
    """Slack mrkdwn escapes (end-user text is data)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
