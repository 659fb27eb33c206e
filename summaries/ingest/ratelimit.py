"""Per-token capture rate limit: a fixed one-minute window counted in Redis (shared by all web processes)."""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60


def limit_per_minute() -> int:
    """Requests allowed per token per minute; 0 turns the limit off."""
    return int(getattr(settings, "RECAP_CAPTURE_RATE_LIMIT", 0))


def allow(token: str, now: float | None = None) -> tuple[bool, int]:
    """Count one request for `token`; returns (allowed, seconds until the window resets).

    One round trip: INCR and EXPIRE in a pipeline on the cache's Redis client.
    """
    limit = limit_per_minute()
    if limit <= 0:
        return True, 0
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = cache.make_and_validate_key(f"capture-rate:{token}:{window}")
    try:
        client = cache._cache.get_client(key, write=True)  # noqa: SLF001 - Django's RedisCache exposes no pipeline
        pipe = client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS * 2)
        count, _ = pipe.execute()
    except Exception:  # noqa: BLE001 - a Redis hiccup must not refuse data we could store
        log.warning("rate limit counter unavailable; allowing the request", exc_info=True)
        return True, 0
    retry_after = int((window + 1) * WINDOW_SECONDS - now) + 1
    return int(count) <= limit, retry_after
