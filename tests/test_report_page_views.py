"""The report page: issue-type filter with counts, search, sort, examples three at a time with clips and session
links at the moment; the progress JSON while it runs; failures at the end; end-user text escaped everywhere."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from patterns import progress
from patterns.models import Report
from replay_render.models import Clip
from tests.page_helpers import HOSTILE, finished_report, member, organization, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def report() -> Report:
    """A finished report: 6 patterns (3 blocking, 1 of each other kind), 5 examples each."""
    return finished_report(organization("Acme"), patterns=6, examples=5)


def names(page: str) -> list[str]:
    """Pattern names in page order (rank prefix and all)."""
    return re.findall(r'<strong class="pattern-name">(\d+)\. Pattern', page)


def test_blocking_is_the_default_filter_with_counts_per_type(report) -> None:
    client = signed_in(member(report.organization))
    page = client.get(report.get_absolute_url()).content.decode()
    assert names(page) == ["1", "2", "6"]
    for label, count in (("Blocking", 3), ("Non-blocking", 1), ("Confusion", 1), ("Abandonment", 1), ("All", 6)):
        assert f">{label} ({count})</a>" in page
    assert names(client.get(report.get_absolute_url() + "?kind=confusion").content.decode()) == ["4"]
    assert len(names(client.get(report.get_absolute_url() + "?kind=all").content.decode())) == 6
    assert names(client.get(report.get_absolute_url() + "?kind=nonsense").content.decode()) == ["1", "2", "6"]


def test_search_and_sort(report) -> None:
    client = signed_in(member(report.organization))
    page = client.get(report.get_absolute_url(), {"kind": "all", "q": "pattern 5"}).content.decode()
    assert names(page) == ["5"] and ">Abandonment (1)</a>" in page and ">Blocking (0)</a>" in page
    report.patterns.filter(rank=6).update(sessions_affected=99)
    page = client.get(report.get_absolute_url(), {"sort": "sessions"}).content.decode()
    assert names(page) == ["6", "1", "2"]
    assert 'id="no-patterns"' in client.get(report.get_absolute_url(), {"q": "no such thing"}).content.decode()


def test_examples_three_at_a_time_with_session_link_and_clip_at_the_moment(report) -> None:
    pattern = report.patterns.get(rank=1)
    example = pattern.examples.order_by("timestamp", "pk").first()
    clip = Clip.objects.create(session=example.session, start_time=example.timestamp - timedelta(seconds=4),
                               end_time=example.timestamp + timedelta(seconds=4), fingerprint="f" * 64, state="done")
    clip.file.save("c.webm", ContentFile(b"webm"))
    example.clip = clip
    example.save()
    page = signed_in(member(report.organization)).get(report.get_absolute_url()).content.decode()
    card = page[page.index(f'id="pattern-{pattern.pk}"'):page.index(f'id="pattern-{report.patterns.get(rank=2).pk}"')]
    assert card.count('<div class="example">') == 3 and card.count('<div class="example" hidden>') == 2
    assert "More examples (2 left)" in card
    assert f'href="/sessions/{example.session_id}/summary/?t=10"' in card
    assert f'<video class="clip" controls preload="metadata" width="560" src="/clips/{clip.pk}.webm#t=4.0">' in card


def test_end_user_text_is_escaped(report) -> None:
    page = signed_in(member(report.organization)).get(report.get_absolute_url(), {"kind": "all"}).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "timeout &lt;b&gt;" in page  # failure reasons listed once the report ended
    assert 'id="failures"' in page


def test_the_progress_endpoint_while_running(report) -> None:
    Report.objects.filter(pk=report.pk).update(status="running", phase="summarizing", finished_at=None)
    progress.set_phase(report.pk, "summaries", total=3)
    progress.session_state(report.pk, {"s-1": "queued", f"s-2 {HOSTILE}": "failed: </script><b>"})
    progress.item_finished(report.pk, "done", session="s-1", state="summarized")
    progress.found(report.pk, [f"Pay fails {HOSTILE}"])
    try:
        client = signed_in(member(report.organization))
        response = client.get(f"/reports/{report.pk}/progress.json")
        body = response.content.decode()
        assert response["Content-Type"].startswith("application/json") and "<" not in body and ">" not in body
        data = json.loads(body)
        assert data["final"] is False and data["phase"] == "summaries" and data["counts"]["done"] == 1
        assert {"session": f"s-2 {HOSTILE}", "state": "failed: </script><b>"} in data["sessions"]
        assert {"session": "s-1", "state": "summarized"} in data["sessions"]
        assert data["patterns_found"] == [f"Pay fails {HOSTILE}"]
        page = client.get(report.get_absolute_url()).content.decode()
        assert 'data-url="/reports/%d/progress.json"' % report.pk in page and "<b>" not in page
        Report.objects.filter(pk=report.pk).update(status="partial")
        data = json.loads(client.get(f"/reports/{report.pk}/progress.json").content)
        assert data["final"] is True and data["failures"][0]["reason"] == "timeout <b>"
    finally:
        progress.clear(report.pk)


def test_new_urls_are_org_scoped(report) -> None:
    outsider = signed_in(member(organization("Globex")))
    for url in (report.get_absolute_url(), f"/reports/{report.pk}/progress.json", f"/reports/{report.pk}/?kind=all"):
        assert outsider.get(url).status_code == 404
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_page_makes_a_fixed_number_of_queries(report, django_assert_max_num_queries) -> None:
    client = signed_in(member(report.organization))
    client.get(report.get_absolute_url())
    with django_assert_max_num_queries(10):
        assert client.get(report.get_absolute_url(), {"kind": "all"}).status_code == 200
