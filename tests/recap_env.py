"""Pytest plugin loaded before Django: point the suite at real Postgres/Redis when they answer, else embedded."""
from __future__ import annotations

import os
import socket
import tempfile


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# Tests never reach outside 127.0.0.1; a developer running several suites at once sets
# RECAP_TEST_DB / RECAP_TEST_REDIS_DB to keep them apart.
if "DATABASE_URL" not in os.environ and reachable("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{os.environ.get('RECAP_TEST_DB', 'recap')}"
if "REDIS_URL" not in os.environ and reachable("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{os.environ.get('RECAP_TEST_REDIS_DB', '15')}"
os.environ.setdefault("RECAP_VAR_DIR", tempfile.mkdtemp(prefix="recap-test-var-"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
for _name in ("RECAP_LLM_MODEL", "RECAP_VIDEO_MODEL", "RECAP_LLM_API_BASE", "RECAP_S3_BUCKET", "DEBUG", "RECAP_HTTPS"):
    os.environ.pop(_name, None)
