"""In-app notifications with e-mail, and the periodic jobs sweep."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse

from covey.core import notify as notify_module
from covey.core.models import EmailStatus, Notification
from covey.core.notify import MAX_EMAIL_ATTEMPTS, RECIPIENT_INACTIVE, deliver_pending_emails, notify
from covey.core.schedule import periodic, run_jobs


def test_notify_writes_one_inbox_entry_per_person_and_mails_after_commit(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = notify([cast.a_rep, cast.a_rep, None, cast.a_admin], kind="test", title="Deal approved",
                      body="Your registration was approved.", url="/registrations/", exclude=cast.a_admin)
    assert [n.recipient for n in made] == [cast.a_rep]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cast.a_rep.email]
    assert "Your registration was approved." in mail.outbox[0].body
    assert "/registrations/" in mail.outbox[0].body


def test_nothing_is_mailed_when_the_transaction_rolls_back(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([cast.a_rep], kind="test", title="Never sent")
    assert len(callbacks) == 1  # queued for commit, not sent inline
    assert mail.outbox == []


def _pending(user, title="Registration to review"):
    return Notification.objects.create(recipient=user, kind="test", title=title, body="Please look.",
                                       url="/registrations/", email_status=EmailStatus.PENDING)


def test_the_outbox_sends_a_pending_email_once_and_marks_it_sent(cast):
    note = _pending(cast.a_rep)
    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert deliver_pending_emails(now=moment) == 1
    assert deliver_pending_emails(now=moment) == 0  # nothing twice
    note.refresh_from_db()
    assert note.email_status == EmailStatus.SENT and note.emailed_at == moment and note.email_attempts == 1
    assert [m.subject for m in mail.outbox] == ["Registration to review"]
    assert "Please look." in mail.outbox[0].body and "/registrations/" in mail.outbox[0].body


def test_a_failed_send_is_retried_later_and_given_up_after_the_last_attempt(cast, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(notify_module, "send_mail", down)
    note = _pending(cast.a_rep)
    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert deliver_pending_emails(now=moment) == 0
    note.refresh_from_db()
    assert note.email_status == EmailStatus.PENDING and note.email_attempts == 1
    assert "SMTP server down" in note.email_error
    assert deliver_pending_emails(now=moment) == 0  # not due again before its retry time
    note.refresh_from_db()
    assert note.email_attempts == 1
    for _ in range(MAX_EMAIL_ATTEMPTS - 1):
        deliver_pending_emails(now=note.email_next_attempt_at)
        note.refresh_from_db()
    assert note.email_status == EmailStatus.FAILED and note.email_attempts == MAX_EMAIL_ATTEMPTS
    assert mail.outbox == []


def test_no_email_goes_to_a_deactivated_user(cast):
    note = _pending(cast.a_rep)
    cast.a_rep.is_active = False
    cast.a_rep.save(update_fields=["is_active"])
    deliver_pending_emails()
    note.refresh_from_db()
    assert note.email_status == EmailStatus.FAILED and note.email_error == RECIPIENT_INACTIVE
    assert mail.outbox == []


def test_the_periodic_sweep_sends_pending_emails_too(cast):
    for i in range(3):
        _pending(cast.a_rep, title=f"Note {i}")
    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert run_jobs(moment, only="core.deliver_emails") == {"core.deliver_emails": 3}
    assert len(mail.outbox) == 3


def test_a_notification_without_email_is_never_mailed(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify([cast.a_rep], kind="test", title="Only in the app", email=False)
    deliver_pending_emails()
    assert mail.outbox == []


def test_inbox_shows_unread_and_opening_marks_read_and_follows_the_link(client, cast):
    note = Notification.objects.create(recipient=cast.a_rep, kind="test", title="Task assigned", url="/opportunities/")
    Notification.objects.create(recipient=cast.b_rep, kind="test", title="Someone else's")
    client.force_login(cast.a_rep)
    page = client.get(reverse("notification_list")).content.decode()
    assert "Task assigned" in page and "Someone else" not in page
    assert 'aria-label="1 unread"' in client.get(reverse("home")).content.decode()

    response = client.post(reverse("notification_open", args=[note.public_id]))
    assert response.status_code == 302 and response["Location"] == "/opportunities/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_notification_never_redirects_off_site(client, cast):
    note = Notification.objects.create(recipient=cast.a_rep, kind="test", title="Odd", url="//evil.example/")
    client.force_login(cast.a_rep)
    response = client.post(reverse("notification_open", args=[note.public_id]))
    assert response["Location"] == reverse("notification_list")


def test_mark_all_read(client, cast):
    for i in range(3):
        Notification.objects.create(recipient=cast.a_rep, kind="test", title=f"N{i}")
    client.force_login(cast.a_rep)
    client.post(reverse("notification_read_all"))
    assert not Notification.objects.filter(recipient=cast.a_rep, read_at__isnull=True).exists()


def test_run_jobs_passes_the_clock_and_isolates_a_failing_job(db):
    seen = []

    @periodic("test.records_now")
    def records(now):
        seen.append(now)
        return 1

    @periodic("test.breaks")
    def breaks(now):
        raise RuntimeError("boom")

    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    results = run_jobs(moment)
    assert results["test.records_now"] == 1 and results["test.breaks"] == -1
    assert seen == [moment]
    assert run_jobs(moment, only="test.records_now") == {"test.records_now": 1}
    with pytest.raises(ValueError):
        periodic("test.records_now")(lambda now: 0)


def test_housekeeping_drops_idempotency_keys_past_the_replay_window(cast):
    from datetime import timedelta

    from covey.core.models import IdempotencyKey

    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for age_hours in (1, 30):
        IdempotencyKey.objects.create(user=cast.a_rep, key=f"k{age_hours}", request_hash="x", response_status=201,
                                      response_body={}, created_at=now - timedelta(hours=age_hours))
    assert run_jobs(now, only="core.purge_idempotency_keys") == {"core.purge_idempotency_keys": 1}
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k1"]
