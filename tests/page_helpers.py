"""Helpers for report-page tests: organizations with members, finished reports with hostile end-user text."""
from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from patterns.models import Pattern, PatternExample, Report
from summaries.models import Membership, Organization, Project, Session

HOSTILE = '<script>alert("x")</script> =HYPERLINK("http://evil") *bold* [link](http://evil) | </script>'
KIND_SEVERITY = [("blocking", "critical"), ("blocking", "high"), ("non-blocking", "medium"), ("confusion", "low"),
                 ("abandonment", "high"), ("blocking", "medium")]


def organization(name: str = "") -> Organization:
    """A fresh organization with one project."""
    slug = f"org-{uuid.uuid4().hex[:8]}"
    org = Organization.objects.create(name=name or f"Org {slug}", slug=slug)
    Project.objects.create(organization=org, name=f"{org.name} app")
    return org


def member(org: Organization, name: str = "", staff: bool = False, superuser: bool = False):
    """A user of the organization (optionally staff with every permission of the report and session admins)."""
    from django.contrib.auth.models import Permission

    name = name or f"user-{uuid.uuid4().hex[:6]}"
    user = get_user_model().objects.create_user(name, f"{name}@example.com", "pw-12345-long", is_staff=staff or superuser,
                                                is_superuser=superuser)
    Membership.objects.create(user=user, organization=org)
    if staff:
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["patterns", "summaries"]))
    return user


def signed_in(user) -> Client:
    """A test client signed in as the user."""
    client = Client()
    client.force_login(user)
    return client


def finished_report(org: Organization, patterns: int = 6, examples: int = 5, title: str = "Weekly",
                    status: str = "succeeded") -> Report:
    """A finished report of the org's project: patterns of every kind, examples with hostile end-user text."""
    project = org.projects.first()
    now = timezone.now()
    taken = project.sessions.count()
    sessions = [Session.objects.create(project=project, session_id=f"{org.slug}-s{taken + i}",
                                       start_time=now - timedelta(minutes=i), duration_seconds=120)
                for i in range(examples)]
    report = Report.objects.create(organization=org, project=project, title=title, status=status, phase="done",
                                   sessions_analysed=examples * 2, started_at=now - timedelta(seconds=42),
                                   finished_at=now, message=f"{patterns} patterns.",
                                   phases={"summaries": {"total": examples * 2, "done": examples * 2 - 1, "failed": 1,
                                                         "skipped": 0,
                                                         "failures": [{"item": "s-bad", "reason": "timeout <b>"}]}})
    for rank in range(1, patterns + 1):
        kind, severity = KIND_SEVERITY[(rank - 1) % len(KIND_SEVERITY)]
        pattern = Pattern.objects.create(
            report=report, rank=rank, fingerprint=f"rules:{kind}:{rank:04d}", name=f"Pattern {rank} {kind} {HOSTILE}",
            description=f"Description {rank} {HOSTILE}", severity=severity, kind=kind,
            indicators=[f"indicator {HOSTILE}"], rule_based=True, occurrences=examples + rank,
            sessions_affected=max(1, examples - (rank % 3)),
            share_of_sessions=max(1, examples - (rank % 3)) / (examples * 2))
        PatternExample.objects.bulk_create([PatternExample(
            pattern=pattern, session=session, event_id=f"e{rank:03d}{i:03d}", timestamp=now,
            seconds_from_start=10.0 + i, kind=kind, description=f"moment {i} {HOSTILE}",
            url=f"https://shop.example/checkout?q={i}", segment_name=f"Checkout {HOSTILE}", segment_success=False,
            before=[{"event_id": "b1", "seconds_from_start": 5.0 + i, "description": f"before {HOSTILE}", "flag": ""}],
            after=[{"event_id": "a1", "seconds_from_start": 15.0 + i, "description": "after", "flag": ""}],
            verdict="confirmed" if i == 0 else "", verdict_note="seen on video" if i == 0 else "")
            for i, session in enumerate(sessions)])
    return report
