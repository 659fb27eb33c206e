"""Migrations apply cleanly on SQLite and on Postgres, and the models have no pending changes."""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT, embedded_env
from tests.recap_env import reachable


def migrate(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def test_migrations_apply_on_sqlite(tmp_path: Path) -> None:
    out = migrate(embedded_env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "recap.sqlite3").stat().st_size > 0


@pytest.mark.skipif(not reachable("127.0.0.1", 5432), reason="no Postgres on 127.0.0.1:5432")
def test_migrations_apply_on_postgres(tmp_path: Path) -> None:
    name = f"recap_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = dict(embedded_env(tmp_path), DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}")
        out = migrate(env)
        assert out.returncode == 0, out.stderr
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_no_model_change_lacks_a_migration(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT,
                         env=embedded_env(tmp_path), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
