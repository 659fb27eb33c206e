"""Reading settings from the environment: typed getters with safe defaults."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from config.private import private_dir, private_file, write_private


def env_str(name: str, default: str = "") -> str:
    """A string setting; empty means unset."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean setting: 1/true/yes/on are true."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """An integer setting; a malformed value is an error that names the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    """A decimal setting; a malformed value is an error that names the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list setting."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def persistent_secret_key(var_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/."""
    given = env_str("SECRET_KEY")
    if given:
        return given
    path = private_dir(var_dir) / "secret_key"
    if path.exists():
        return private_file(path).read_text().strip()
    key = secrets.token_urlsafe(50)
    try:
        write_private(path, key)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    return key
