"""Settings switch between the embedded defaults and real services, from the environment alone."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, embedded_env

PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']), "
    "'broker': s.CELERY_BROKER_URL, 'cache': s.CACHES['default']['LOCATION'], 'storage': s.STORAGES['default']['BACKEND'], "
    "'debug': s.DEBUG, 'secret': s.SECRET_KEY, 'embedded': s.EMBEDDED_REDIS}))"
)


def probe(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=dict(env, DJANGO_SETTINGS_MODULE="config.settings"),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_configuration_means_sqlite_and_embedded_redis(tmp_path: Path) -> None:
    got = probe(embedded_env(tmp_path))
    assert got["engine"] == "django.db.backends.sqlite3"
    assert got["name"] == str(tmp_path / "recap.sqlite3")
    assert got["embedded"] and got["broker"].startswith("redis+socket://") and "redis.sock" in got["broker"]
    assert got["cache"].startswith("unix://")
    assert got["storage"] == "django.core.files.storage.FileSystemStorage"
    assert got["debug"] is False
    # the generated secret key is kept and reused
    assert (tmp_path / "secret_key").read_text() == got["secret"] == probe(embedded_env(tmp_path))["secret"]


def test_environment_selects_postgres_redis_and_s3(tmp_path: Path) -> None:
    env = dict(embedded_env(tmp_path), DATABASE_URL="postgres://postgres@127.0.0.1:5432/recap_x",
               REDIS_URL="redis://127.0.0.1:6379/3", RECAP_S3_BUCKET="clips", SECRET_KEY="k" * 60, DEBUG="true")
    got = probe(env)
    assert got["engine"] == "django.db.backends.postgresql" and got["name"] == "recap_x"
    assert got["broker"] == got["cache"] == "redis://127.0.0.1:6379/3" and not got["embedded"]
    assert got["storage"] == "storages.backends.s3.S3Storage"
    assert got["debug"] is True and got["secret"] == "k" * 60
    assert not (tmp_path / "redis.sock").exists()


def test_malformed_number_names_the_variable(tmp_path: Path) -> None:
    env = dict(embedded_env(tmp_path), RECAP_LLM_TIMEOUT="soon")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "RECAP_LLM_TIMEOUT must be a number" in out.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = dict(embedded_env(tmp_path), SECRET_KEY="Zq8-vT3mP0xLr7Kw2sNa9YbH4cJe6GdU1fRi5oQ_lXzVnMyBtAp", RECAP_HTTPS="true", ALLOWED_HOSTS="recap.example.com",
               DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3"))
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
