"""/healthz reports database and broker reachability."""
from __future__ import annotations

import pytest
from django.test import Client

from config.celery import app


@pytest.mark.django_db
def test_healthz_ok_with_live_services(client: Client) -> None:
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 200, body
    assert body["ok"] and body["database"]["ok"] and body["broker"]["ok"]


@pytest.mark.django_db
def test_healthz_reports_a_broker_that_is_down(client: Client, monkeypatch) -> None:
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    resp = client.get("/healthz")
    body = resp.json()
    assert resp.status_code == 503
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False and "Error" in body["broker"]["error"]
