"""Capture token to project, cached briefly in-process so capture costs no query per request."""
from __future__ import annotations

import time

from summaries.models import Project

_CACHE: dict[str, tuple[float, Project | None]] = {}
TTL_SECONDS = 30.0


def project_for_token(token: str) -> Project | None:
    """The project owning this public capture token, or None."""
    if not token or len(token) > 64:
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
