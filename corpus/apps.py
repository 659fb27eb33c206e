"""The sample apps a corpus can be recorded on: how to serve each, set its faults, play and label its journeys."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus import crm_journeys, crm_plan, crm_truth, crm_visit, journeys, plan
from corpus.browser import CRM_HOST, SHOP_HOST
from corpus.truth import JourneyRecord, JourneySpec, Mark, marks_from_observations
from corpus.visit import Visit
from demo_crm import faults as crm_faults
from demo_crm import server as crm_server
from demo_shop import faults as shop_faults
from demo_shop import server as shop_server


@dataclass(frozen=True)
class CorpusApp:
    """One sample app as the corpus machinery sees it."""

    name: str
    host: str
    project_name: str
    default_out: Path
    fault_cookie_name: str
    fault_cookie: Callable[[JourneySpec], str]
    plan: Callable[[int], list[JourneySpec]]
    default_seed: int
    journeys: dict[str, Callable[[Any], Awaitable[None]]]
    visit_class: type[Visit]
    observed_marks: Callable[[JourneyRecord], list[Mark]]
    serve: Callable[[str, str], Any]  # (posthog host, token) -> a running server with .port and .shutdown()

    def url(self, server: Any) -> str:
        """The app's URL as the browser reaches it."""
        return f"http://{self.host}:{server.port}"


def _shop_observed(record: JourneyRecord) -> list[Mark]:
    """The shop's labels from what the browser saw."""
    return marks_from_observations(record.observations, record.spec.faults)


SHOP = CorpusApp(
    name="shop", host=SHOP_HOST, project_name="Demo shop recording", default_out=Path("sample_data"),
    fault_cookie_name=shop_faults.FAULT_COOKIE, fault_cookie=lambda spec: shop_faults.cookie_value(spec.faults),
    plan=plan.dataset_plan, default_seed=2026, journeys=journeys.JOURNEYS, visit_class=journeys.Trip,
    observed_marks=_shop_observed,
    serve=lambda host, token: shop_server.start_in_thread(shop_server.ShopConfig(posthog_host=host, posthog_token=token)),
)

CRM = CorpusApp(
    name="crm", host=CRM_HOST, project_name="Demo CRM recording", default_out=Path("sample_data/crm"),
    fault_cookie_name=crm_faults.FAULT_COOKIE, fault_cookie=crm_visit.fault_cookie,
    plan=crm_plan.crm_plan, default_seed=4711, journeys=crm_journeys.JOURNEYS, visit_class=crm_visit.CrmVisit,
    observed_marks=crm_truth.crm_observed_marks,
    serve=lambda host, token: crm_server.start_in_thread(crm_server.CrmConfig(posthog_host=host, posthog_token=token)),
)

APPS = {app.name: app for app in (SHOP, CRM)}
