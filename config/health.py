"""/healthz: is the database reachable, is the broker reachable."""
from __future__ import annotations

import time

from django.db import connection
from django.http import JsonResponse


def check_database() -> dict[str, object]:
    """Run SELECT 1 on the default database."""
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


def healthz(request) -> JsonResponse:
    """200 when database and broker answer, 503 naming what is down."""
    checks = {"database": check_database(), "broker": check_broker()}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)
