"""compose.yaml describes the production layout the README promises."""
from __future__ import annotations

import yaml

from tests.conftest import ROOT


def test_compose_has_every_production_service() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "render-worker", "beat"} <= set(services)
    worker = " ".join(services["worker"]["command"])
    render = " ".join(services["render-worker"]["command"])
    assert "-Q default,llm" in worker and "-P threads" in worker
    assert "-Q render" in render and "-P prefork" in render
    assert "DatabaseScheduler" in " ".join(services["beat"]["command"])
    for name in ("web", "worker", "render-worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media"}
