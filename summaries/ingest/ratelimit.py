"""Per-token capture rate limit: a fixed one-minute window counted in Redis (shared by all web processes)."""
from __future__ import annotations

import functools
import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60


@functools.cache
def redis_client() -> redis.Redis:
    """One client on the cache's Redis for capture's counters and flags, made once per process.

    Django's RedisCache builds a new client (hundreds of response callbacks) for every operation: that cost
    more CPU than the rest of a capture request.
    """
    return redis.Redis(connection_pool=cache._cache._get_connection_pool(write=True))  # noqa: SLF001


def redis_key(name: str) -> str:
    """A key in the cache's namespace (RECAP_CACHE_PREFIX)."""
    return cache.make_and_validate_key(name)


def limit_per_minute() -> int:
    """Requests allowed per token per minute; 0 turns the limit off."""
    return int(getattr(settings, "RECAP_CAPTURE_RATE_LIMIT", 0))


def allow(token: str, now: float | None = None) -> tuple[bool, int]:
    """Count one request for `token`; returns (allowed, seconds until the window resets). One round trip."""
    limit = limit_per_minute()
    if limit <= 0:
        return True, 0
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = redis_key(f"capture-rate:{token}:{window}")
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS * 2)
        count, _ = pipe.execute()
    except Exception:  # noqa: BLE001 - a Redis hiccup must not refuse data we could store
        log.warning("rate limit counter unavailable; allowing the request", exc_info=True)
        return True, 0
    retry_after = int((window + 1) * WINDOW_SECONDS - now) + 1
    return int(count) <= limit, retry_after
