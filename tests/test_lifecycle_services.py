"""Lifecycle services: frozen agreement versions, journey milestones kept by the job, goals against
real results, and the API's answers to bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from covey.agreements import services as agreements
from covey.core.schedule import run_jobs
from covey.lifecycle import criteria, services
from covey.lifecycle.models import PartnerJourney
from covey.lifecycle.selectors import goal_actuals
from tests.test_api import as_user, assert_error


def test_issuing_freezes_the_version_a_later_version_does_not_change_it(cast):
    template = agreements.template_create(actor=cast.vendor_admin, name="Reseller", title="Reseller agreement", body="Version one text.")
    issued = agreements.agreement_issue(partner=cast.partner_a, template=template, actor=cast.vendor_admin)
    agreements.version_publish(template=template, actor=cast.vendor_admin, title="Reseller agreement", body="Version two text.")
    issued.refresh_from_db()
    assert (issued.version.number, issued.body) == (1, "Version one text.")
    later = agreements.agreement_issue(partner=cast.partner_b, template=template, actor=cast.vendor_admin)
    assert (later.version.number, later.body) == (2, "Version two text.")


def test_a_second_countersignature_and_signing_out_of_order_are_refused(cast):
    template = agreements.template_create(actor=cast.vendor_admin, name="Referral", title="Referral terms", body="Terms.")
    issued = agreements.agreement_issue(partner=cast.partner_a, template=template, actor=cast.vendor_admin)
    with pytest.raises(Exception, match="partner has signed"):
        agreements.agreement_countersign(agreement=issued, actor=cast.vendor_admin, name="Vera", consent=True, ip=None, user_agent="")
    with pytest.raises(Exception, match="Type your full name"):
        agreements.agreement_sign(agreement=issued, actor=cast.a_admin, name="  ", consent=True, ip=None, user_agent="")
    issued.refresh_from_db()
    assert issued.status == "issued" and issued.signed_at is None


def test_the_milestones_job_records_first_registered_and_won_deals(world):
    from covey.crm.models import Opportunity
    from covey.registrations.models import Registration

    Registration.objects.create(partner=world.partner_a, company_name="X", domain="x.example", claim_domain="x.example",
                                normalised_name="x", amount_minor=1, currency="USD", expected_close=date(2026, 9, 1),
                                status="submitted", submitted_at=datetime(2026, 3, 4, 10, tzinfo=UTC))
    Registration.objects.create(partner=world.partner_a, company_name="Y", domain="y.example", claim_domain="y.example",
                                normalised_name="y", amount_minor=1, currency="USD", expected_close=date(2026, 9, 1),
                                status="rejected", submitted_at=datetime(2026, 2, 1, 10, tzinfo=UTC))
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage="Closed Won", close_date=date(2026, 5, 20))
    now = timezone.now()
    assert run_jobs(now=now, only="lifecycle.milestones")["lifecycle.milestones"] >= 1
    journey = PartnerJourney.objects.get(partner=world.partner_a)
    assert (journey.first_registration_on, journey.first_won_on) == (date(2026, 3, 4), date(2026, 5, 20))
    assert PartnerJourney.objects.get(partner=world.partner_b).first_won_on is None
    # Recomputed, not only set once: the win reopened in the CRM moves the date away again.
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage="Negotiation/Review")
    run_jobs(now=now + timedelta(minutes=1), only="lifecycle.milestones")
    assert PartnerJourney.objects.get(partner=world.partner_a).first_won_on is None


def test_business_goals_are_measured_against_registrations_wins_and_certifications(world):
    from covey.crm.models import Opportunity
    from covey.enablement import services as enablement
    from covey.registrations.models import Registration

    plan = services.business_plan_create(partner=world.partner_a, actor=world.partner_manager, title="H1", starts_on=date(2026, 1, 1),
                                         ends_on=date(2026, 6, 30), goals=[("registered_deals", 5, ""), ("won_deals", 3, ""),
                                                                           ("certified_people", 2, "")])
    for i, (day, status) in enumerate([(date(2026, 2, 1), "approved"), (date(2026, 3, 1), "rejected"), (date(2025, 12, 1), "approved")]):
        Registration.objects.create(partner=world.partner_a, company_name=f"C{i}", domain=f"c{i}.example", claim_domain=f"c{i}.example",
                                    normalised_name=f"c{i}", amount_minor=1, currency="USD", expected_close=date(2026, 9, 1), status=status,
                                    submitted_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC))
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage="Closed Won", close_date=date(2026, 4, 2))
    course = enablement.course_create(actor=world.vendor_admin, title="Cert", kind="internal", certifies=True, valid_months=12)
    enablement.completion_record(course=course, partner=world.partner_a, actor=world.partner_manager, completed_on=date(2026, 1, 5),
                                 person_name="One", today=date(2026, 6, 1))
    actual = {g.goal.metric: (g.actual, g.met) for g in goal_actuals(plan, today=date(2026, 6, 1))}
    assert actual == {"registered_deals": (1, False), "won_deals": (1, False), "certified_people": (1, False)}


def test_the_api_refuses_scores_outside_the_scale_and_floats(world):
    criteria.install_current()
    round_ = services.round_open(partner=world.partner_a, actor=world.partner_manager)
    api = as_user(world.partner_manager)
    scores = {s["code"]: ({"value": "9"} if s["scale"] == "numeric" else {"level": "high"}) for s in round_.criteria}
    response = api.send("PUT", f"/api/evaluation-rounds/{round_.public_id}/scorecard", {"scores": scores})
    assert_error(response, 422, "validation_error")
    assert "outside the scale" in response.json()["detail"] or "outside the scale" in str(response.json()["errors"])
    floats = {s["code"]: ({"value": 4.5} if s["scale"] == "numeric" else {"level": "high"}) for s in round_.criteria}
    assert_error(api.send("PUT", f"/api/evaluation-rounds/{round_.public_id}/scorecard", {"scores": floats}), 422, "validation_error")
    assert not round_.scorecards.exists()


def test_the_api_refuses_activation_without_a_countersigned_agreement(world):
    from covey.partners.models import Partner

    Partner.objects.filter(pk=world.partner_a.pk).update(lifecycle="onboarding")
    response = as_user(world.vendor_admin).post(f"/api/partners/{world.partner_a.public_id}/lifecycle", {"lifecycle": "active"})
    assert_error(response, 422, "validation_error")
    assert "countersigned" in response.json()["detail"]


def test_the_demo_scenario_is_made_through_the_services_once(cast):
    from covey.agreements.models import Agreement
    from covey.demo.lifecycle_scenario import seed_lifecycle
    from covey.partners.models import Partner

    kwargs = {"admin_email": cast.vendor_admin.email, "manager_email": cast.partner_manager.email, "partner_admin_email": cast.a_admin.email}
    assert seed_lifecycle(**kwargs) == 4
    assert seed_lifecycle(**kwargs) == 0
    ridgeline = Partner.objects.get(name="Ridgeline IT")
    assert ridgeline.lifecycle == "onboarding" and Agreement.objects.get(partner=ridgeline).status == "countersigned"
    assert set(Partner.objects.filter(application__isnull=False).values_list("lifecycle", flat=True)) == {"applied", "evaluating", "onboarding"}
