"""/healthz reports database and broker reachability; why only to staff; a probe passes whatever the host name."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.test import Client

from config.celery import app
from tests.conftest import ROOT, embedded_env


@pytest.mark.django_db
def test_healthz_ok_with_live_services(client: Client) -> None:
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 200, body
    assert body["ok"] and body["database"]["ok"] and body["broker"]["ok"]


@pytest.mark.django_db
def test_a_broker_that_is_down_is_named_and_only_staff_learn_why(client: Client, monkeypatch) -> None:
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 503
    assert body == {"ok": False, "database": {"ok": True}, "broker": {"ok": False}}  # no hosts, ports, users
    client.force_login(get_user_model().objects.create_user("ops", password="pw", is_staff=True))
    detail = client.get("/healthz").json()
    assert detail["broker"]["ok"] is False and "127.0.0.1:1" in detail["broker"]["error"]


@pytest.mark.django_db
def test_a_probe_on_127_0_0_1_passes_with_real_host_names_and_https(client: Client, settings) -> None:
    settings.ALLOWED_HOSTS = ["recap.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 400  # everything else still checks the host
    web = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["web"]
    probe = " ".join(web["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in probe


@pytest.mark.django_db
def test_https_redirect_spares_every_capture_path(client: Client, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    for path in ("/e/", "/e", "/i/v0/e/", "/batch", "/capture/", "/track/", "/engage/", "/engage", "/s/", "/s",
                 "/flags/", "/decide", "/array/phc_x/config", "/array/phc_x/config.js", "/healthz"):
        assert client.post(path, b"", content_type="text/plain").status_code != 301, path
    assert client.get("/login/").status_code == 301


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a database that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


PROBE = """
import json, time, django
django.setup()
from django.test import Client
client, out = Client(HTTP_ORIGIN="https://shop.example"), {}
for name, call in (("capture", lambda: client.post("/e/?token=phc_x", b'[{"event":"x","distinct_id":"a"}]',
                                                   content_type="text/plain")),
                   ("healthz", lambda: client.get("/healthz"))):
    started = time.monotonic()
    answer = call()
    out[name] = {"seconds": time.monotonic() - started, "status": answer.status_code, "body": answer.json(),
                 "cors": answer.get("Access-Control-Allow-Origin"), "retry": answer.get("Retry-After")}
print(json.dumps(out))
"""


def test_a_database_that_never_answers_gives_503_within_the_connect_timeout(silent_server: int, tmp_path) -> None:
    env = dict(embedded_env(tmp_path), DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_server}/recap",
               RECAP_DB_CONNECT_TIMEOUT="2", DJANGO_SETTINGS_MODULE="config.settings")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    capture, health = out["capture"], out["healthz"]
    assert capture["status"] == 503 and capture["seconds"] < 6, capture
    assert capture["cors"] == "https://shop.example" and int(capture["retry"]) > 0
    assert capture["body"]["code"] == "service_unavailable" and str(silent_server) not in json.dumps(capture["body"])
    assert health["status"] == 503 and health["seconds"] < 6 and health["body"]["database"] == {"ok": False}
    assert time.monotonic() - started < 60
