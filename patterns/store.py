"""Intermediate results in Redis: gzip JSON under content-derived keys, 24 h TTL; tasks pass keys, not payloads."""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
from typing import Any

import redis
from django.conf import settings

TTL_SECONDS = 24 * 3600
_client_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def client() -> redis.Redis:
    """A Redis client for the cache URL (one connection pool per process and URL)."""
    url = settings.CACHE_URL
    with _client_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=30, health_check_interval=30)
        return _clients[url]


def key(*parts: object) -> str:
    """A namespaced key: `<RECAP_CACHE_PREFIX>:patterns:<parts>`."""
    prefix = getattr(settings, "RECAP_CACHE_PREFIX", "recap")
    return ":".join([prefix, "patterns", *(str(p) for p in parts)])


def digest(*parts: Any) -> str:
    """sha256 of JSON-serialised parts: the identity of an input."""
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def put(name: str, value: Any, ttl: int = TTL_SECONDS) -> None:
    """Store a JSON value gzip-compressed under a key, with a TTL."""
    raw = gzip.compress(json.dumps(value, separators=(",", ":"), default=str).encode(), 5)
    client().set(name, raw, ex=ttl)


def get(name: str) -> Any | None:
    """The JSON value under a key, or None when absent (or expired)."""
    raw = client().get(name)
    if raw is None:
        return None
    return json.loads(gzip.decompress(raw))


def result_key(item: str) -> str:
    """Where the result of a content-addressed work item lives."""
    return key("result", item)


def input_key(item: str) -> str:
    """Where the input (ids) of a content-addressed work item lives."""
    return key("input", item)
