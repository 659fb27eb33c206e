"""/healthz: is the database reachable, is the broker reachable (details for staff only)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)


def check_database() -> dict[str, object]:
    """Run SELECT 1 on the default database (bounded by the connect and statement timeouts)."""
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down", and says why
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_broker(timeout: float = 2.0) -> dict[str, object]:
    """Open a connection to the Celery broker, with a short timeout."""
    from config.celery import app

    started = time.monotonic()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            conn.default_channel.client.ping()
    except Exception as exc:  # kombu raises many types; all mean "down"
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when database and broker answer, 503 naming what is down; why it is down only for staff.

    Driver errors name hosts, ports and users: an anonymous caller (a load balancer) learns up or down only.
    """
    checks = {"database": check_database(), "broker": check_broker()}
    ok = all(c["ok"] for c in checks.values())
    for name, check in checks.items():
        if not check["ok"]:
            log.warning("health check: %s is down: %s", name, check.get("error"))
    user = getattr(request, "user", None)
    if not (user is not None and user.is_authenticated and user.is_staff):
        checks = {name: {"ok": check["ok"]} for name, check in checks.items()}
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)


class HealthCheckMiddleware:
    """Answers /healthz for a Host that ALLOWED_HOSTS does not list (a probe inside the container calls
    127.0.0.1 while ALLOWED_HOSTS names the public host), with the anonymous answer; other requests, and
    /healthz on an allowed host, go through as usual."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            try:
                request.get_host()
            except DisallowedHost:
                return healthz(request)
        return self.get_response(request)
