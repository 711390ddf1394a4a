"""Training, certifications, the library, announcements, newsletters and the opt-out.

Reminders and newsletters run on a controlled clock through ``run_jobs(now=…)``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from covey.core.models import Notification
from covey.core.schedule import run_jobs
from covey.enablement import services
from covey.enablement.models import Completion, EmailPreference, ResourceUse
from covey.enablement.selectors import certified_people, certified_people_by_partner

TODAY = date(2026, 6, 15)


@pytest.fixture
def course(cast):
    return services.course_create(actor=cast.vendor_admin, title="Certified implementer", kind="internal", certifies=True,
                                  certification_name="Implementer", valid_months=12)


def _record(cast, course, *, on, user=None, name="", email="", partner=None):
    return services.completion_record(course=course, partner=partner or cast.partner_a, actor=cast.partner_manager, completed_on=on,
                                      user=user, person_name=name, person_email=email, today=TODAY)


# --- certifications --------------------------------------------------------------------------


def test_certified_people_counts_distinct_people_with_a_valid_certification(cast, course):
    other = services.course_create(actor=cast.vendor_admin, title="Sales foundations", kind="internal", certifies=True, valid_months=24)
    plain = services.course_create(actor=cast.vendor_admin, title="Portal tour", kind="internal")
    _record(cast, course, on=date(2026, 1, 10), user=cast.a_rep)               # valid until 2027-01-10
    _record(cast, other, on=date(2026, 2, 1), user=cast.a_rep)                 # the same person again
    _record(cast, course, on=date(2025, 3, 1), name="Kim Field", email="kim@alpha.example")  # expires 2026-03-01
    _record(cast, plain, on=date(2026, 5, 1), user=cast.a_admin)               # not a certification
    _record(cast, course, on=date(2026, 4, 1), name="Lee Nologin")             # no e-mail, counted by name
    _record(cast, course, on=date(2026, 4, 1), user=cast.b_rep, partner=cast.partner_b)
    assert certified_people(cast.partner_a, on=TODAY) == 2  # a_rep and Lee; Kim expired, a_admin's course does not certify
    assert certified_people(cast.partner_a, on=date(2026, 3, 1)) == 2  # Kim's last day counts; Lee not yet certified
    assert certified_people(cast.partner_a, on=date(2026, 1, 9)) == 1  # only Kim, before a_rep completed
    assert certified_people_by_partner([cast.partner_a.pk, cast.partner_b.pk], on=TODAY) == {cast.partner_a.pk: 2, cast.partner_b.pk: 1}


def test_expiry_is_the_same_day_months_later_or_the_months_last_day(cast, course):
    assert _record(cast, course, on=date(2026, 1, 31), name="A").expires_on == date(2027, 1, 31)
    assert services.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert services.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


@pytest.mark.parametrize("kwargs, field", [
    ({"on": TODAY + timedelta(days=1), "name": "Future Person"}, "completed_on"),
    ({"on": TODAY, "name": ""}, "person_name"),
    ({"on": TODAY, "name": "Pat", "email": "not-an-address"}, "person_email"),
])
def test_bad_completions_are_refused(cast, course, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        _record(cast, course, **kwargs)
    assert field in caught.value.message_dict and not Completion.objects.exists()


def test_a_person_of_another_partner_cannot_be_recorded_for_this_one(cast, course):
    with pytest.raises(ValidationError, match="does not work for"):
        _record(cast, course, on=TODAY, user=cast.b_rep)


def test_reminders_go_once_before_expiry_to_the_person_and_the_partner_admins(cast, course):
    completion = _record(cast, course, on=date(2025, 7, 1), user=cast.a_rep)  # expires 2026-07-01
    early = datetime(2026, 5, 1, 9, tzinfo=UTC)
    assert run_jobs(now=early, only="enablement.certification_reminders") == {"enablement.certification_reminders": 0}
    due = datetime(2026, 6, 10, 9, tzinfo=UTC)  # 21 days before
    assert run_jobs(now=due, only="enablement.certification_reminders")["enablement.certification_reminders"] == 1
    assert run_jobs(now=due + timedelta(days=1), only="enablement.certification_reminders")["enablement.certification_reminders"] == 0
    told = set(Notification.objects.filter(kind="enablement.certification_expiring").values_list("recipient__email", flat=True))
    assert told == {cast.a_rep.email, cast.a_admin.email}
    completion.refresh_from_db()
    assert completion.reminded_at == due


def test_a_partner_admin_records_for_its_own_people_only(login, cast, course):
    client = login(cast.a_admin)
    response = client.post(reverse("completion_create"), {
        "course": course.public_id, "user": cast.a_rep.public_id, "completed_on": "2026-01-05",
    })
    assert response.status_code == 302
    assert Completion.objects.get().partner == cast.partner_a
    refused = client.post(reverse("completion_create"), {"course": course.public_id, "user": cast.b_rep.public_id, "completed_on": "2026-01-05"})
    assert refused.status_code == 200 and Completion.objects.count() == 1
    assert login(cast.b_admin).get(reverse("training_home")).content.decode().count("Rep") == 0


# --- library ---------------------------------------------------------------------------------


def test_resources_are_shown_by_partner_type_and_views_and_downloads_are_counted(login, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    pdf = SimpleUploadedFile("Integrator playbook.pdf", b"%PDF-1.7 playbook", content_type="application/pdf")
    for_integrators = services.resource_create(actor=cast.vendor_admin, title="Integrator playbook", kind="playbook",
                                               partner_types=["system_integrator"], file=pdf)
    for_all = services.resource_create(actor=cast.vendor_admin, title="Pricing battle card", kind="battle_card", link="https://docs.example/card")
    tiered = services.resource_create(actor=cast.vendor_admin, title="Gold-only deck", kind="training", tier_codes=["gold"],
                                      link="https://docs.example/gold")
    a, b = login(cast.a_rep), None
    listing = a.get(reverse("library")).content.decode()
    assert "Integrator playbook" in listing and "Pricing battle card" in listing and "Gold-only deck" not in listing
    version = for_integrators.versions.get()
    a.get(reverse("resource_detail", args=[for_integrators.public_id]))
    download = a.get(reverse("resource_download", args=[for_integrators.public_id, version.public_id]))
    assert b"".join(download.streaming_content) == b"%PDF-1.7 playbook"
    assert download["Content-Disposition"].startswith("attachment")
    uses = list(ResourceUse.objects.values_list("action", "user", "partner", "version"))
    assert uses == [("download", cast.a_rep.pk, cast.partner_a.pk, version.pk), ("view", cast.a_rep.pk, cast.partner_a.pk, version.pk)]
    b = login(cast.b_rep)
    assert b.get(reverse("resource_detail", args=[for_integrators.public_id])).status_code == 404
    assert b.get(reverse("resource_detail", args=[for_all.public_id])).status_code == 200
    assert b.get(reverse("resource_detail", args=[tiered.public_id])).status_code == 404


@pytest.mark.parametrize("name, content, message", [
    ("payload.exe", b"MZ\x90\x00", services.FILE_TYPE_REFUSED),
    ("fake.pdf", b"<html>not a pdf</html>", "does not match its type (.pdf)"),
    ("notes.txt", b"\xff\xfe\x00\x00binary", "does not match its type (.txt)"),
])
def test_uploads_of_the_wrong_type_are_refused_and_nothing_is_stored(cast, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    from covey.enablement.models import Resource

    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        services.resource_create(actor=cast.vendor_admin, title="Bad", kind="training", file=SimpleUploadedFile(name, content))
    assert not Resource.objects.exists() and not any(tmp_path.rglob("*.*"))


def test_an_upload_over_the_size_limit_is_refused(cast, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ValidationError, match="at most"):
        services.resource_create(actor=cast.vendor_admin, title="Big", kind="training",
                                 file=SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 20))


# --- announcements, newsletters, opt-out -----------------------------------------------------


def test_an_announcement_reaches_its_audience_and_respects_the_opt_out(cast, django_capture_on_commit_callbacks):
    EmailPreference.objects.create(user=cast.a_admin, partner_news=False)
    with django_capture_on_commit_callbacks(execute=True):
        announcement = services.announcement_publish(actor=cast.vendor_admin, title="Integrator summit", body="Join us in May.",
                                                     partner_types=["system_integrator"])
    people = set(Notification.objects.filter(kind="enablement.announcement").values_list("recipient__email", flat=True))
    assert people == {cast.a_admin.email, cast.a_rep.email, cast.a_readonly.email}  # B (resellers) is not in the audience
    mailed = {m.to[0] for m in mail.outbox if "Integrator summit" in m.subject}
    assert mailed == {cast.a_rep.email, cast.a_readonly.email}  # a_admin opted out: in the portal only
    assert all("/unsubscribe/" in m.body for m in mail.outbox if "Integrator summit" in m.subject)
    assert announcement.recipients == 3


def test_the_unsubscribe_link_works_without_logging_in_and_only_on_post(client, cast):
    token = services.unsubscribe_token(cast.a_rep)
    page = client.get(reverse("unsubscribe", args=[token]))
    assert page.status_code == 200 and not EmailPreference.objects.exists()  # a link scanner's GET changes nothing
    assert cast.a_rep.email not in page.content.decode()
    client.post(reverse("unsubscribe", args=[token]), {"action": "unsubscribe"})
    assert EmailPreference.objects.get(user=cast.a_rep).partner_news is False
    client.post(reverse("unsubscribe", args=[token]), {"action": "subscribe"})
    assert EmailPreference.objects.get(user=cast.a_rep).partner_news is True
    assert client.get(reverse("unsubscribe", args=[token[:-3] + "abc"])).status_code == 404


def test_a_scheduled_newsletter_goes_out_once_with_the_news_since_the_last_issue(cast, django_capture_on_commit_callbacks):
    send_at = datetime(2026, 7, 1, 8, tzinfo=UTC)
    services.announcement_publish(actor=cast.vendor_admin, title="New deal registration rules", body="Details.",
                                  now=datetime(2026, 6, 20, tzinfo=UTC))
    newsletter = services.newsletter_schedule(actor=cast.vendor_admin, subject="July partner news", intro="Hello partners.",
                                              send_at=send_at, now=datetime(2026, 6, 25, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        assert run_jobs(now=send_at - timedelta(minutes=1), only="enablement.newsletters") == {"enablement.newsletters": 0}
        assert run_jobs(now=send_at, only="enablement.newsletters") == {"enablement.newsletters": 1}
        assert run_jobs(now=send_at + timedelta(minutes=1), only="enablement.newsletters") == {"enablement.newsletters": 0}
    newsletter.refresh_from_db()
    assert newsletter.sent_at == send_at and "New deal registration rules" in newsletter.body_sent
    assert newsletter.recipients == 5
    assert len([m for m in mail.outbox if m.subject == "July partner news"]) == 5
