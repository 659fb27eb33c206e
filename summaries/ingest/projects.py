"""Capture token to project, cached briefly in-process so capture costs no query per request."""
from __future__ import annotations

import re
import time
from typing import Any

from summaries.models import Project

_CACHE: dict[str, tuple[float, Project | None]] = {}
TTL_SECONDS = 30.0
# A project token as Recap issues them (and PostHog's phc_ tokens); anything else is no token at all.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def valid_token(value: Any) -> str:
    """The value when it looks like a project token, else ''."""
    return value if isinstance(value, str) and TOKEN_RE.match(value) else ""


def project_for_token(token: str) -> Project | None:
    """The project owning this public capture token, or None."""
    if not valid_token(token):
        return None
    now = time.monotonic()
    hit = _CACHE.get(token)
    if hit and now - hit[0] < TTL_SECONDS:
        return hit[1]
    project = Project.objects.filter(capture_token=token).first()
    if len(_CACHE) > 10_000:
        _CACHE.clear()
    _CACHE[token] = (now, project)
    return project


def forget_tokens() -> None:
    """Drop cached lookups (tests, token rotation)."""
    _CACHE.clear()
