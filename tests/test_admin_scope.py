"""The admin is sealed per organization: a staff member of org B sees nothing of org A, on every registered admin."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from replay_render.models import Clip
from summaries.admin_scope import OrganizationScopedAdmin, SuperuserOnlyAdmin
from summaries.models import (
    Event,
    Membership,
    Organization,
    Project,
    QuarantinedEvent,
    RawBatch,
    RecordingChunk,
    Session,
    SessionSummary,
)
from tests.ingest_helpers import T0, rrweb_recording

pytestmark = pytest.mark.django_db
MARK = "alphasecret"  # every text of org A carries it, so a leak shows up in any page


def staff(username: str, org: Organization | None, role: str = "member") -> Client:
    """A signed-in staff member (not a superuser) with every model permission, member of `org`."""
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    if org is not None:
        Membership.objects.create(user=user, organization=org, role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def org_a() -> dict[type, object]:
    """Organization A with one row of every model the admin shows, each naming MARK."""
    org = Organization.objects.create(name=f"Org {MARK}", slug=f"org-{MARK}")
    owner = get_user_model().objects.create_user(f"owner-{MARK}", email=f"o@{MARK}.test", password="pw")
    membership = Membership.objects.create(user=owner, organization=org, role="owner")
    project = Project.objects.create(organization=org, name=f"Shop {MARK}", capture_token=f"phc_{MARK}",
                                     secret_api_key=f"rcs_{MARK}")
    session = Session.objects.create(project=project, session_id=f"sess-{MARK}", distinct_id=f"user-{MARK}",
                                     start_time=T0, person_email=f"p@{MARK}.test", first_url=f"https://{MARK}.test/")
    event = Event.objects.create(session=session, uuid=uuid.uuid4(), timestamp=T0, name=f"{MARK}_event",
                                 current_url=f"https://{MARK}.test/page", properties={"k": MARK})
    chunk = RecordingChunk.store(session, f"win-{MARK}", rrweb_recording(T0, 3))
    summary = SessionSummary.objects.create(session=session, engine="rules", prompt_version="rules/1",
                                            input_hash="h", cache_key=f"key-{MARK}", status="succeeded",
                                            focus=f"focus {MARK}", summary={"segments": []})
    batch = RawBatch.objects.create(project=project, source=f"/{MARK}/", payload=RawBatch.pack([b"{}"])[0],
                                    error=f"error {MARK}")
    quarantined = QuarantinedEvent.objects.create(project=project, raw_batch=batch, name=f"{MARK}_bad",
                                                  reason=f"reason {MARK}", event="{}")
    clip = Clip.objects.create(session=session, start_time=T0, end_time=T0 + timedelta(seconds=5),
                               fingerprint=f"{MARK}-fp", state=Clip.State.DONE)
    clip.file.save("clip.webm", ContentFile(b"webm " + MARK.encode()))
    schedule = IntervalSchedule.objects.create(every=1, period="minutes")
    task = PeriodicTask.objects.create(name=f"task {MARK}", task="x", interval=schedule)
    return {Organization: org, Membership: membership, Project: project, Session: session, Event: event,
            RecordingChunk: chunk, SessionSummary: summary, RawBatch: batch, QuarantinedEvent: quarantined,
            Clip: clip, IntervalSchedule: schedule, PeriodicTask: task, get_user_model(): owner}


def admin_urls(model: type, obj: object) -> list[str]:
    """Changelist, add, change, history and delete pages of a model (those the admin has)."""
    info = (model._meta.app_label, model._meta.model_name)
    urls = []
    for name, args in (("changelist", []), ("add", []), ("change", [obj.pk]), ("history", [obj.pk]),
                       ("delete", [obj.pk])):
        try:
            urls.append(reverse(f"admin:{info[0]}_{info[1]}_{name}", args=args))
        except NoReverseMatch:
            pass
    return urls


def test_every_registered_admin_is_scoped_or_superuser_only() -> None:
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, (OrganizationScopedAdmin, SuperuserOnlyAdmin)), model
        for inline in model_admin.inlines if isinstance(model_admin, OrganizationScopedAdmin) else []:
            assert hasattr(inline, "organization_path"), (model, inline)


def test_a_staff_member_of_org_b_sees_nothing_of_org_a(org_a) -> None:
    org_b = Organization.objects.create(name="Org B", slug="org-b")
    Project.objects.create(organization=org_b, name="Shop B")
    bob = staff("bob", org_b, role="owner")
    checked = 0
    for model in admin.site._registry:
        obj = org_a.get(model) or model.objects.first()
        if obj is None:
            continue
        for url in admin_urls(model, obj):
            answer = bob.get(url)
            checked += 1
            assert answer.status_code in (200, 302, 403, 404), (url, answer.status_code)
            assert MARK not in answer.content.decode(errors="replace"), url
            if f"/{obj.pk}/" in url and answer.status_code == 200:
                pytest.fail(f"{url} opened org A's row")
    assert checked >= 40
    clip = org_a[Clip]
    assert bob.get(reverse("admin:replay_render_clip_webm", args=[clip.pk])).status_code == 404
    for app_label, model_name, field in (("summaries", "project", "organization"),
                                         ("summaries", "membership", "organization")):
        found = bob.get("/admin/autocomplete/", {"app_label": app_label, "model_name": model_name,
                                                 "field_name": field, "term": ""}).json()
        assert [r["text"] for r in found["results"]] == ["Org B"]
    # Actions see only the rows in scope: reprocessing org A's batch by id does nothing to it.
    bob.post(reverse("admin:summaries_rawbatch_changelist"), {"action": "reprocess_batches",
                                                                "_selected_action": [org_a[RawBatch].pk]})
    assert RawBatch.objects.get(pk=org_a[RawBatch].pk).attempts == 0
    # A foreign key naming another organization's row is refused (a form error), never stored.
    assert bob.post(reverse("admin:summaries_project_add"), {"organization": org_a[Organization].pk,
                                                             "name": "sneaky"}).status_code == 200
    assert not Project.objects.filter(name="sneaky").exists()
    assert "Shop B" in bob.get(reverse("admin:summaries_project_changelist")).content.decode()


def test_the_secret_api_key_is_shown_to_owners_only(org_a) -> None:
    project = org_a[Project]
    member = staff("mo", org_a[Organization], role="admin")
    owner = staff("ola", org_a[Organization], role="owner")
    url = reverse("admin:summaries_project_change", args=[project.pk])
    assert f"rcs_{MARK}" not in member.get(url).content.decode()
    assert f"phc_{MARK}" in member.get(url).content.decode()
    assert f"rcs_{MARK}" in owner.get(url).content.decode()
    # A member cannot make themselves owner to see it.
    mine = Membership.objects.get(user__username="mo")
    change = reverse("admin:summaries_membership_change", args=[mine.pk])
    assert member.get(change).status_code in (200, 403)
    member.post(change, {"user": mine.user_id, "organization": mine.organization_id, "role": "owner"})
    assert Membership.objects.get(pk=mine.pk).role == "admin"
