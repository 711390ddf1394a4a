"""Enablement authoring over the API: courses, completions, the library (with files) and the news.

Who may call what is in tests/access_rows/enablement.py; this file follows the flows a
partnerships team scripts (create → read → update) and checks what the answers say, what is
stored, and that bad input is a 422 that changes nothing.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from covey.core.models import AuditEvent, Notification
from covey.enablement import services
from covey.enablement.models import (
    Announcement,
    Completion,
    Course,
    Newsletter,
    Resource,
    ResourceUse,
    ResourceVersion,
    UseAction,
)
from tests.test_api import as_user, assert_error

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _counts():
    """Everything an enablement write could leave behind."""
    return (Course.objects.count(), Completion.objects.count(), Resource.objects.count(), ResourceVersion.objects.count(),
            Announcement.objects.count(), Newsletter.objects.count(), Notification.objects.count(), AuditEvent.objects.count(),
            list(Course.objects.values_list("title", "url", "valid_months", "is_active").order_by("id")),
            list(Resource.objects.values_list("title", "description", "partner_types", "tier_codes").order_by("id")))


# --- courses ---------------------------------------------------------------------------------


def test_a_course_is_created_read_and_changed_as_on_the_pages(cast):
    admin = as_user(cast.vendor_admin)
    created = admin.post("/api/courses", {
        "title": "Certified architect", "kind": "external", "url": "https://academy.example/architect",
        "description": "Three days.", "certifies": True, "certification_name": "Architect", "valid_months": 24,
    })
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["id"].startswith("crs_") and body["certifies"] and body["valid_months"] == 24
    assert body["description"] == "Three days." and body["kind"] == "external"
    course = Course.objects.get(public_id=body["id"])
    assert (course.title, course.url, course.certification_name) == ("Certified architect", "https://academy.example/architect", "Architect")
    assert AuditEvent.objects.filter(action="create", source="api", object_id=course.public_id).exists()

    read = as_user(cast.a_rep).get(f"/api/courses/{course.public_id}").json()
    assert {k: v for k, v in read.items() if k != "created_at"} == {k: v for k, v in body.items() if k != "created_at"}

    changed = admin.patch(f"/api/courses/{course.public_id}", {"valid_months": None, "is_active": False, "title": "Architect (retired)"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["valid_months"] is None and changed.json()["is_active"] is False
    course.refresh_from_db()
    assert (course.title, course.valid_months, course.is_active, course.description) == ("Architect (retired)", None, False, "Three days.")
    # A retired course leaves the partners' catalogue: it reads as absent.
    assert_error(as_user(cast.a_rep).get(f"/api/courses/{course.public_id}"), 404, "not_found")


def test_creating_a_course_twice_with_one_key_creates_it_once(cast):
    admin = as_user(cast.vendor_admin)
    first = admin.post("/api/courses", {"title": "Portal tour"}, headers={"Idempotency-Key": "course-1"})
    again = admin.post("/api/courses", {"title": "Portal tour"}, headers={"Idempotency-Key": "course-1"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Course.objects.filter(title="Portal tour").count() == 1
    # Without the key, the same title is the service's refusal.
    assert_error(admin.post("/api/courses", {"title": "portal TOUR"}), 422, "validation_error", field="title")


@pytest.mark.parametrize("body, field", [
    ({"title": "x" * 201}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "Ok", "kind": "webinar"}, "kind"),
    ({"title": "Ok", "url": "javascript:alert(1)"}, "url"),
    ({"title": "Ok", "valid_months": 0}, "valid_months"),
    ({"title": "Ok", "valid_months": 121}, "valid_months"),
    ({"title": "Ok", "description": "x" * 5001}, "description"),
    ({"title": "Ok", "colour": "blue"}, "colour"),
])
def test_bad_course_input_is_a_422_that_stores_nothing(cast, body, field):
    before = _counts()
    assert_error(as_user(cast.vendor_admin).post("/api/courses", body), 422, "validation_error", field=field)
    assert _counts() == before


def test_a_course_patch_refuses_nulls_duplicates_and_bad_values_and_changes_nothing(cast):
    admin = as_user(cast.vendor_admin)
    course = services.course_create(actor=cast.vendor_admin, title="Sales foundations", kind="internal")
    services.course_create(actor=cast.vendor_admin, title="Portal tour", kind="internal")
    before = _counts()
    path = f"/api/courses/{course.public_id}"
    assert_error(admin.patch(path, {"title": None}), 422, "validation_error", field="title")
    assert_error(admin.patch(path, {"title": "PORTAL tour"}), 422, "validation_error", field="title")
    assert_error(admin.patch(path, {"url": "ftp://files.example/x"}), 422, "validation_error", field="url")
    assert_error(admin.patch(path, {"valid_months": 500}), 422, "validation_error", field="valid_months")
    assert _counts() == before
    assert_error(as_user(cast.partner_manager).patch(path, {"is_active": False}), 403, "forbidden")
    assert _counts() == before


# --- completions -----------------------------------------------------------------------------


def test_removing_a_completion_drops_the_certified_headcount(cast):
    course = services.course_create(actor=cast.vendor_admin, title="Certified implementer", kind="internal", certifies=True, valid_months=12)
    completion = services.completion_record(course=course, partner=cast.partner_a, actor=cast.partner_manager,
                                            completed_on=timezone.localdate() - timedelta(days=3), person_name="Kim Field")
    partner_admin = as_user(cast.a_admin)
    certified = f"/api/partners/{cast.partner_a.public_id}/certified-people"
    assert partner_admin.get(certified).json()["certified_people"] == 1

    assert_error(as_user(cast.a_rep).delete(f"/api/certifications/{completion.public_id}"), 403, "forbidden")
    assert_error(as_user(cast.b_admin).delete(f"/api/certifications/{completion.public_id}"), 404, "not_found")
    response = partner_admin.delete(f"/api/certifications/{completion.public_id}")
    assert response.status_code == 204 and response.content == b""
    assert not Completion.objects.filter(pk=completion.pk).exists()
    assert partner_admin.get(certified).json()["certified_people"] == 0
    assert AuditEvent.objects.filter(action="delete", source="api", actor=cast.a_admin).exists()
    assert_error(partner_admin.delete(f"/api/certifications/{completion.public_id}"), 404, "not_found")


# --- the library -----------------------------------------------------------------------------


def test_a_file_resource_round_trips_through_create_versions_and_download(cast, media):
    manager = as_user(cast.partner_manager)
    created = manager.post("/api/resources", {
        "title": "Integration guide", "kind": "training", "description": "How to integrate.",
        "partner_types": ["system_integrator"], "tier_codes": ["Gold", " silver "],
        "filename": "guide.pdf", "content_base64": b64(PDF), "note": "First cut",
    })
    assert created.status_code == 201, created.content
    resource = created.json()
    assert resource["partner_types"] == ["system_integrator"] and resource["tier_codes"] == ["gold", "silver"]
    [v1] = resource["versions"]
    assert (v1["number"], v1["file_name"], v1["size"], v1["link"]) == (1, "guide.pdf", len(PDF), "")

    # Partner A (an integrator, in no program) does not see a tier-restricted resource; opening it up shows it.
    assert_error(as_user(cast.a_rep).get(f"/api/resources/{resource['id']}"), 404, "not_found")
    patched = manager.patch(f"/api/resources/{resource['id']}", {"tier_codes": [], "title": "Integration guide (2026)"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["tier_codes"] == [] and patched.json()["title"] == "Integration guide (2026)"
    assert patched.json()["description"] == "How to integrate."  # not sent, not changed

    text = "# Release notes\n\nÜber-fast sync.\n"
    added = manager.post(f"/api/resources/{resource['id']}/versions", {"filename": "notes.md", "content": text, "note": "Notes"})
    assert added.status_code == 201, added.content
    v2 = added.json()
    assert (v2["number"], v2["file_name"], v2["content_type"], v2["note"]) == (2, "notes.md", "text/markdown; charset=utf-8", "Notes")
    assert v2["size"] == len(text.encode())

    partner = as_user(cast.a_rep)
    listed = partner.get(f"/api/resources/{resource['id']}").json()
    assert [v["number"] for v in listed["versions"]] == [2, 1]
    download = partner.get(v2["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode() == text
    assert download["Content-Type"].startswith("text/markdown")
    assert 'attachment; filename="notes.md"' in download["Content-Disposition"]
    first = partner.get(f"/api/resources/{resource['id']}/versions/{v1['id']}/download")
    assert b"".join(first.streaming_content) == PDF and first["Content-Type"] == "application/pdf"
    uses = ResourceUse.objects.filter(resource__public_id=resource["id"], action=UseAction.DOWNLOAD)
    assert uses.count() == 2 and {u.partner_id for u in uses} == {cast.partner_a.pk}
    stored = ResourceVersion.objects.get(public_id=v1["id"])
    assert stored.file.read() == PDF and stored.created_by == cast.partner_manager


def test_a_link_resource_downloads_as_a_redirect(cast):
    manager = as_user(cast.vendor_admin)
    created = manager.post("/api/resources", {"title": "Demo video", "kind": "demo_script", "link": "https://videos.example/demo"})
    assert created.status_code == 201, created.content
    version = created.json()["versions"][0]
    response = as_user(cast.b_rep).get(f"/api/resources/{created.json()['id']}/versions/{version['id']}/download")
    assert response.status_code == 302 and response["Location"] == "https://videos.example/demo"
    assert_error(as_user(cast.b_rep).get(f"/api/resources/{created.json()['id']}/versions/rsv_000000000000/download"), 404, "not_found")


RESOURCE = {"title": "Guide", "kind": "training"}


@pytest.mark.parametrize("extra, field", [
    ({}, "link"),                                                                      # neither a file nor a link
    ({"link": "https://docs.example/x", "filename": "a.pdf", "content_base64": b64(PDF)}, "link"),
    ({"filename": "run.exe", "content_base64": b64(b"MZ\x90\x00")}, "filename"),        # a refused type
    ({"filename": "fake.pdf", "content_base64": b64(b"<html>not a pdf</html>")}, "content_base64"),
    ({"filename": "data.csv", "content_base64": b64(b"\xff\xfe\x00bad")}, "content_base64"),  # not UTF-8
    ({"filename": "empty.txt", "content": ""}, "content"),
    ({"filename": "a.pdf", "content_base64": "not base64!"}, "content_base64"),
    ({"filename": "a.pdf", "content": "x", "content_base64": b64(b"x")}, "content"),
    ({"content_base64": b64(PDF)}, "filename"),
    ({"filename": "a.pdf"}, "content_base64"),
    ({"filename": "..", "content": "x"}, "filename"),
    ({"link": "javascript:alert(1)"}, "link"),
    ({"link": "https://docs.example/x", "partner_types": ["martian"]}, "partner_types.0"),
    ({"link": "https://docs.example/x", "tier_codes": ["gold; drop"]}, "tier_codes"),
    ({"link": "https://docs.example/x", "kind": "poster"}, "kind"),
    ({"link": "https://docs.example/x", "title": "t" * 201}, "title"),
    ({"link": "https://docs.example/x", "note": "n" * 301}, "note"),
])
def test_bad_resource_input_is_a_422_that_stores_nothing(cast, media, extra, field):
    before = _counts()
    response = as_user(cast.partner_manager).post("/api/resources", RESOURCE | extra)
    assert_error(response, 422, "validation_error", field=field)
    assert _counts() == before
    assert not any(media.rglob("*.*")), "a refused upload left a file behind"


def test_a_refused_version_or_change_leaves_the_resource_as_it_was(cast, media):
    resource = services.resource_create(actor=cast.vendor_admin, title="Battle card", kind="battle_card", link="https://docs.example/bc")
    manager = as_user(cast.other_manager)
    before = _counts()
    path = f"/api/resources/{resource.public_id}"
    assert_error(manager.post(path + "/versions", {"filename": "x.png", "content_base64": b64(PDF)}), 422, "validation_error",
                 field="content_base64")
    assert_error(manager.patch(path, {"title": None}), 422, "validation_error", field="title")
    assert_error(manager.patch(path, {"partner_types": ["reseller", "nope"]}), 422, "validation_error")
    assert_error(as_user(cast.sales_rep).patch(path, {"title": "Mine"}), 403, "forbidden")
    assert _counts() == before and resource.versions.count() == 1


def test_a_file_over_the_limit_is_refused_before_anything_is_stored(cast, media, settings, monkeypatch):
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 1000)
    before = _counts()
    response = as_user(cast.vendor_admin).post("/api/resources", RESOURCE | {"filename": "big.txt", "content": "x" * 1001})
    assert_error(response, 413, "too_large")
    assert _counts() == before


# --- announcements and newsletters -----------------------------------------------------------


def test_an_announcement_reaches_its_audience_and_no_one_else(cast, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the e-mails leave once the announcement commits
        published = as_user(cast.partner_manager).post("/api/announcements", {
            "title": "Integrator summit", "body": "Join us in May.", "partner_types": ["system_integrator"], "regions": [],
        }, headers={"Idempotency-Key": "summit"})
    assert published.status_code == 201, published.content
    body = published.json()
    assert body["recipients"] == 3 and body["audience"] == {"partner_types": ["system_integrator"], "regions": [], "lifecycles": []}
    assert body["sent_at"] is not None

    inbox = as_user(cast.a_readonly).get("/api/notifications", {"kind": "enablement.announcement"}).json()
    assert [n["title"] for n in inbox["items"]] == ["Announcement: Integrator summit"]
    assert inbox["items"][0]["url"] == f"/news/{body['id']}/"
    assert as_user(cast.b_rep).get("/api/notifications", {"kind": "enablement.announcement"}).json()["count"] == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@alpha.example", "rep@alpha.example", "viewer@alpha.example"]
    assert all("/unsubscribe/" in m.body and "Join us in May." in m.body for m in mail.outbox)

    # A partner user reads it without the vendor's view of the audience; partner B cannot.
    seen = as_user(cast.a_rep).get(f"/api/announcements/{body['id']}").json()
    assert seen["body"] == "Join us in May." and seen["audience"] is None and seen["recipients"] is None
    assert_error(as_user(cast.b_rep).get(f"/api/announcements/{body['id']}"), 404, "not_found")

    # The retry is the first answer, and nobody hears twice.
    again = as_user(cast.partner_manager).post("/api/announcements", {
        "title": "Integrator summit", "body": "Join us in May.", "partner_types": ["system_integrator"], "regions": [],
    }, headers={"Idempotency-Key": "summit"})
    assert again.json() == body and Announcement.objects.count() == 1
    assert Notification.objects.filter(kind="enablement.announcement").count() == 3


@pytest.mark.parametrize("body, field", [
    ({"title": "Hi", "body": "x", "partner_types": ["martian"]}, "partner_types.0"),
    ({"title": "Hi", "body": "x", "regions": ["atlantis"]}, "regions.0"),
    ({"title": "Hi", "body": "x", "lifecycles": ["zombie"]}, "lifecycles.0"),
    ({"title": "Hi", "body": "x" * 20_001}, "body"),
    ({"title": "Hi", "body": "   "}, "body"),
    ({"title": "", "body": "x"}, "title"),
    ({"body": "x"}, "title"),
])
def test_bad_announcements_are_refused_and_nobody_is_told(cast, body, field):
    before = _counts()
    assert_error(as_user(cast.vendor_admin).post("/api/announcements", body), 422, "validation_error", field=field)
    assert _counts() == before


def test_a_newsletter_is_scheduled_listed_read_and_sent_by_the_worker(cast):
    send_at = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    scheduled = as_user(cast.vendor_admin).post("/api/newsletters", {
        "subject": "June digest", "intro": "Hello integrators.", "send_at": send_at.isoformat(), "partner_types": ["system_integrator"],
    })
    assert scheduled.status_code == 201, scheduled.content
    body = scheduled.json()
    assert body["sent_at"] is None and body["recipients"] == 0 and body["text"].startswith("Hello integrators.")
    stored = Newsletter.objects.get(public_id=body["id"])
    assert stored.send_at == send_at and stored.partner_types == ["system_integrator"]

    # Not yet sent: the vendor lists it, the partner does not.
    assert [n["id"] for n in as_user(cast.partner_manager).get("/api/newsletters").json()["items"]] == [body["id"]]
    assert as_user(cast.a_rep).get("/api/newsletters").json() == {"items": [], "count": 0}
    assert_error(as_user(cast.a_rep).get(f"/api/newsletters/{body['id']}"), 404, "not_found")

    services.send_due_newsletters(now=send_at + timedelta(minutes=1))
    mine = as_user(cast.a_rep).get("/api/newsletters").json()
    assert [n["subject"] for n in mine["items"]] == ["June digest"] and mine["items"][0]["audience"] is None
    detail = as_user(cast.a_rep).get(f"/api/newsletters/{body['id']}").json()
    assert detail["sent_at"] is not None and detail["text"] == Newsletter.objects.get(pk=stored.pk).body_sent
    assert as_user(cast.b_rep).get("/api/newsletters").json()["count"] == 0
    assert as_user(cast.vendor_admin).get(f"/api/newsletters/{body['id']}").json()["recipients"] == 3


def test_a_newsletter_time_without_a_zone_is_the_servers(cast):
    local = timezone.localtime() + timedelta(days=1)
    naive = local.replace(tzinfo=None, microsecond=0)
    response = as_user(cast.vendor_admin).post("/api/newsletters", {"subject": "Tomorrow", "send_at": naive.isoformat()})
    assert response.status_code == 201, response.content
    assert Newsletter.objects.get().send_at == timezone.make_aware(naive)


@pytest.mark.parametrize("send_at", ["2001-01-01T09:00:00Z", "yesterday", "2026-02-30T09:00:00Z", "0001-01-01T00:00:00+05:00",
                                     "9999-12-31T23:59:59-05:00", None])
def test_bad_newsletter_times_are_refused(cast, send_at):
    before = _counts()
    response = as_user(cast.vendor_admin).post("/api/newsletters", {"subject": "Digest", "send_at": send_at})
    assert_error(response, 422, "validation_error", field="send_at")
    assert _counts() == before


def test_news_is_for_admins_and_partner_managers(cast):
    before = _counts()
    for who in (cast.sales_rep, cast.finance, cast.a_admin):
        assert_error(as_user(who).post("/api/announcements", {"title": "Hi", "body": "x"}), 403, "forbidden")
        assert_error(as_user(who).post("/api/newsletters", {"subject": "Hi", "send_at": "2030-01-01T00:00:00Z"}), 403, "forbidden")
    assert _counts() == before


def test_a_version_whose_file_is_gone_from_storage_is_a_404_not_a_crash(cast, media):
    resource = as_user(cast.vendor_admin).post("/api/resources", RESOURCE | {"filename": "a.txt", "content": "hello"}).json()
    version = ResourceVersion.objects.get(public_id=resource["versions"][0]["id"])
    version.file.storage.delete(version.file.name)
    download = f"/api/resources/{resource['id']}/versions/{version.public_id}/download"
    assert_error(as_user(cast.a_rep).get(download), 404, "not_found")
