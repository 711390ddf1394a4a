"""Partner NPS: campaigns, the audience, answering by link and signed in, the sweep, the figures."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from covey.core.models import Notification
from covey.surveys import nps, services
from covey.surveys.models import Answer, CampaignStatus, Invitation

pytestmark = pytest.mark.django_db


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def _campaign(cast, opens=date(2026, 3, 2), closes=date(2026, 3, 16), **kw):
    return services.campaign_create(actor=cast.vendor_admin, name="Q1 pulse", opens_on=opens, closes_on=closes, **kw)


@pytest.mark.pure
def test_tally_hand_computed():
    t = nps.Tally()
    for score in (10, 9, 9, 8, 7, 6, 0):  # 3 promoters, 2 passives, 2 detractors of 7
        t.add(score)
    assert (t.promoters, t.passives, t.detractors, t.total) == (3, 2, 2, 7)
    assert t.nps == Decimal("14.3")  # 100 × (3 − 2) / 7 = 14.285…
    assert nps.Tally().nps is None
    assert nps.Tally(0, 0, 4).nps == Decimal("-100.0")


def test_send_invites_each_partner_user_with_a_personal_link(cast, django_capture_on_commit_callbacks):
    campaign = _campaign(cast)
    assert "Acme Cloud" in campaign.question  # the standard NPS question with the company's name
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_send(campaign=campaign, actor=cast.vendor_admin, now=_at(date(2026, 3, 2)))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN
    assert Invitation.objects.filter(campaign=campaign).count() == 5  # 3 of Alpha, 2 of Beta
    notes = Notification.objects.filter(kind="survey.invitation")
    assert notes.count() == 5
    inv = Invitation.objects.get(campaign=campaign, user=cast.a_rep)
    note = notes.get(recipient=cast.a_rep)
    token = re.search(r"/surveys/answer/([^/\s]+)/", note.body).group(1)
    assert services.invitation_for_token(token) == inv  # the link names this person's invitation
    assert len(mail.outbox) == 5  # tasks run inline in tests: sent once the send commits
    with pytest.raises(ValidationError):
        services.campaign_send(campaign=campaign, actor=cast.vendor_admin, now=_at(date(2026, 3, 2)))


def test_audience_by_partner_and_type(cast):
    only_b = _campaign(cast, audience_all=False, partners=[cast.partner_b])
    assert {m.user for m in services.audience(only_b, date(2026, 3, 2))} == {cast.b_admin, cast.b_rep}
    integrators = _campaign(cast, audience_all=False, partner_types=["system_integrator"])
    assert {m.partner for m in services.audience(integrators, date(2026, 3, 2))} == {cast.partner_a}
    with pytest.raises(ValidationError) as err:
        _campaign(cast, audience_all=False)
    assert services.NO_AUDIENCE in str(err.value)
    with pytest.raises(ValidationError):
        _campaign(cast, opens=date(2026, 3, 10), closes=date(2026, 3, 1))
    with pytest.raises(ValidationError):
        _campaign(cast, audience_all=False, partner_types=["nonsense"])


def test_answer_once_and_clear_errors(cast):
    campaign = _campaign(cast)
    services.campaign_send(campaign=campaign, actor=cast.vendor_admin, now=_at(date(2026, 3, 2)))
    inv = Invitation.objects.get(campaign=campaign, user=cast.a_rep)
    answer = services.answer_submit(invitation=inv, score=9, comment="Great team", now=_at(date(2026, 3, 3)))
    assert answer.partner == cast.partner_a and answer.partner_types == ["system_integrator"]
    with pytest.raises(ValidationError) as err:
        services.answer_submit(invitation=inv, score=3, now=_at(date(2026, 3, 3)))
    assert services.ALREADY_ANSWERED in str(err.value)
    other = Invitation.objects.get(campaign=campaign, user=cast.b_rep)
    with pytest.raises(ValidationError):
        services.answer_submit(invitation=other, score=11, now=_at(date(2026, 3, 3)))
    with pytest.raises(ValidationError) as err:
        services.answer_submit(invitation=other, score=5, now=_at(date(2026, 3, 17)))
    assert "expired on 16 March 2026" in str(err.value)
    services.campaign_close(campaign=campaign, actor=cast.vendor_admin, now=_at(date(2026, 3, 10)))
    with pytest.raises(ValidationError) as err:
        services.answer_submit(invitation=other, score=5, now=_at(date(2026, 3, 11)))
    assert "closed on 10 March 2026" in str(err.value)
    assert Answer.objects.count() == 1


def test_sweep_sends_scheduled_reminds_once_and_closes(cast):
    from covey.core.schedule import run_jobs

    campaign = _campaign(cast)
    services.campaign_send(campaign=campaign, actor=cast.vendor_admin, now=_at(date(2026, 2, 20)))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED and not campaign.invitations.exists()
    run_jobs(now=_at(date(2026, 3, 1)), only="surveys.sweep")
    assert not campaign.invitations.exists()
    run_jobs(now=_at(date(2026, 3, 2)), only="surveys.sweep")
    assert campaign.invitations.count() == 5
    inv = Invitation.objects.get(campaign=campaign, user=cast.a_rep)
    services.answer_submit(invitation=inv, score=10, now=_at(date(2026, 3, 5)))
    run_jobs(now=_at(date(2026, 3, 12)), only="surveys.sweep")  # 4 days before closing: no reminder yet
    assert not Notification.objects.filter(kind="survey.reminder").exists()
    run_jobs(now=_at(date(2026, 3, 13)), only="surveys.sweep")
    run_jobs(now=_at(date(2026, 3, 14)), only="surveys.sweep")
    reminded = Notification.objects.filter(kind="survey.reminder")
    assert reminded.count() == 4 and not reminded.filter(recipient=cast.a_rep).exists()  # once, not to who answered
    run_jobs(now=_at(date(2026, 3, 16)), only="surveys.sweep")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN  # the close date is the last day to answer
    run_jobs(now=_at(date(2026, 3, 17)), only="surveys.sweep")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED


def _answered_campaign(cast, opens, scores):
    campaign = _campaign(cast, opens=opens, closes=opens + timedelta(days=14))
    services.campaign_send(campaign=campaign, actor=cast.vendor_admin, now=_at(opens))
    for user, score in scores.items():
        services.answer_submit(invitation=Invitation.objects.get(campaign=campaign, user=getattr(cast, user)),
                               score=score, comment=f"{user} says {score}", now=_at(opens + timedelta(days=1)))
    return campaign


def test_results_breakdown_trend_and_metric(cast):
    from covey.analytics import metrics as M
    from covey.core.periods import Period  # noqa: F401
    from covey.surveys import selectors
    from covey.surveys.models import Campaign

    first = _answered_campaign(cast, date(2026, 1, 12), {"a_admin": 10, "a_rep": 9, "b_rep": 3})
    second = _answered_campaign(cast, date(2026, 4, 13), {"a_admin": 8, "b_admin": 9, "b_rep": 10, "a_rep": 6})
    r = selectors.results(first)
    assert r["invited"] == 5 and r["tally"].nps == Decimal("33.3")  # (2 − 1) / 3
    by_partner = {name: t for name, _, t in r["by_partner"]}
    assert by_partner["Alpha Integrations"].nps == Decimal("100.0")
    assert by_partner["Beta Resellers"].nps == Decimal("-100.0")
    assert r["by_type_codes"]["reseller"].total == 1
    assert [a.score for a in r["comments"]] == [3, 9, 10] or len(r["comments"]) == 3
    trend = nps.trend(Campaign.objects.all())
    assert [(c.pk, t.nps) for c, t in trend] == [(first.pk, Decimal("33.3")), (second.pk, Decimal("25.0"))]  # (2 − 1) / 4
    calendar = __import__("covey.core.models", fromlist=["VendorSettings"]).VendorSettings.current().calendar
    q1 = calendar.parse("2026Q1")
    assert M.METRICS["partner_nps"].compute(M.build_cube(M.Filters(period=q1))) == Decimal("33.3")
    assert nps.period_nps(M.Filters(period=q1, partner_id=cast.partner_b.pk)) == Decimal("-100.0")
    assert nps.period_nps(M.Filters(period=calendar.parse("2025Q4"))) is None


def test_link_page_answers_once_and_refuses_others(cast, client):
    from django.urls import reverse

    today = timezone.localdate()
    campaign = _campaign(cast, opens=today, closes=today + timedelta(days=7))
    services.campaign_send(campaign=campaign, actor=cast.vendor_admin)
    inv = Invitation.objects.get(campaign=campaign, user=cast.a_rep)
    url = reverse("survey_answer_link", kwargs={"token": services.token_for(inv)})
    assert client.get(url).status_code == 200
    assert client.post(url, {"score": "12"}).status_code == 422
    assert not Answer.objects.exists()
    client.force_login(cast.b_rep)
    response = client.get(url)
    assert response.status_code == 404 and b"sent to someone else" in response.content
    client.logout()
    assert client.post(url, {"score": "7", "comment": "ok"}).status_code == 200
    assert Answer.objects.get().score == 7
    again = client.post(url, {"score": "10"})
    assert again.status_code == 409 and b"already answered" in again.content
    assert client.get(reverse("survey_answer_link", kwargs={"token": "x" + services.token_for(inv)})).status_code == 404


def test_api_create_send_answer_results(cast, client):
    import json

    today = timezone.localdate()
    client.force_login(cast.partner_manager)
    made = client.post("/api/surveys/campaigns", json.dumps({
        "name": "API pulse", "audience_all": False, "partner_types": ["reseller"], "opens_on": str(today),
        "closes_on": str(today + timedelta(days=3))}), content_type="application/json")
    assert made.status_code == 201, made.content
    cid = made.json()["id"]
    bad = client.post("/api/surveys/campaigns", json.dumps({"name": "x", "opens_on": str(today), "closes_on": str(today - timedelta(days=1))}),
                      content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert client.post(f"/api/surveys/campaigns/{cid}/send").json()["status"] == "open"
    client.force_login(cast.b_rep)
    assert client.post(f"/api/surveys/campaigns/{cid}/answer", json.dumps({"score": 10, "comment": "Good"}),
                       content_type="application/json").status_code == 201
    again = client.post(f"/api/surveys/campaigns/{cid}/answer", json.dumps({"score": 1}), content_type="application/json")
    assert again.status_code == 422 and services.ALREADY_ANSWERED in again.content.decode()
    client.force_login(cast.b_admin)
    client.post(f"/api/surveys/campaigns/{cid}/answer", json.dumps({"score": 5}), content_type="application/json")
    client.force_login(cast.a_rep)  # not in the audience (Alpha is an integrator)
    assert client.post(f"/api/surveys/campaigns/{cid}/answer", json.dumps({"score": 5}),
                       content_type="application/json").status_code == 404
    assert client.get(f"/api/surveys/campaigns/{cid}/results").status_code == 404
    client.force_login(cast.finance)
    r = client.get(f"/api/surveys/campaigns/{cid}/results").json()
    assert r["invited"] == 2 and r["score"] == {"nps": "0.0", "answers": 2, "promoters": 1, "passives": 0, "detractors": 1}
    assert [(g["key"], g["nps"]) for g in r["by_type"]] == [("reseller", "0.0")]
    assert [c["comment"] for c in r["comments"]] == ["Good"]


def test_results_page_and_metric_drill_down(cast, client):
    today = timezone.localdate()
    campaign = _campaign(cast, opens=today, closes=today + timedelta(days=7))
    services.campaign_send(campaign=campaign, actor=cast.vendor_admin)
    services.answer_submit(invitation=Invitation.objects.get(campaign=campaign, user=cast.a_rep), score=4, comment="Slow payouts")
    client.force_login(cast.executive)
    page = client.get(f"/surveys/{campaign.public_id}/").content.decode()
    assert "Slow payouts" in page and "-100.0" in page
    assert "Q1 pulse" in client.get("/surveys/").content.decode()
    drill = client.get("/analytics/metrics/partner_nps/")
    assert drill.status_code == 302 and drill["Location"].startswith("/surveys/answers/")
    assert "Slow payouts" in client.get(drill["Location"]).content.decode()
    assert "Partner NPS" in client.get("/analytics/").content.decode()


def test_demo_scenario_once(cast):
    from covey.demo.surveys_scenario import seed_surveys
    from covey.surveys.models import Campaign

    answered = seed_surveys(admin_email=cast.vendor_admin.email, today=date(2026, 5, 10))
    assert answered == 4  # five partner users, the fifth does not answer
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.CLOSED and campaign.answers.count() == 4
    assert seed_surveys(admin_email=cast.vendor_admin.email, today=date(2026, 5, 10)) == 0
