"""The lifecycle end to end through the pages: apply, evaluate, approve, sign, countersign, onboard, activate.

And the bad inputs the issue names: missing fields, invalid websites, a company that is already a
partner, scores outside the scale, weights that sum to zero: each a clear message and nothing half-saved.
"""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from covey.agreements.models import Agreement, AgreementStatus
from covey.core.models import AuditEvent
from covey.lifecycle import services
from covey.lifecycle.models import Application, Criterion, EvaluationRound, PartnerJourney
from covey.partners.models import Lifecycle, Partner
from covey.plans.models import Plan, PlanKind

APPLICATION = {
    "company_name": "Northpeak Consulting", "website": "https://www.northpeak-consulting.example/", "types": ["system_integrator"],
    "regions": ["emea"], "segments": ["mid_market"], "employees": "45", "capabilities": "Implementation and training",
    "motivation": "Our customers ask for your product", "contact_name": "Nora Peak", "contact_email": "nora@northpeak-consulting.example",
}


@pytest.fixture
def shipped(db):
    from covey.lifecycle import criteria, playbooks
    from covey.plans.playbooks import install_current

    install_current()
    playbooks.install_current()
    criteria.install_current()


@pytest.fixture
def agreement_template(cast):
    from covey.agreements.services import template_create

    return template_create(actor=cast.vendor_admin, name="Reseller agreement", title="Partner agreement",
                           body="# Terms\n\nThe partner resells **our** products.")


def _apply(client, **changes):
    return client.post(reverse("apply"), {**APPLICATION, **changes}, REMOTE_ADDR="203.0.113.7")


# --- applying ---------------------------------------------------------------------------------


def test_an_application_makes_an_applied_partner_confirms_by_email_and_tells_the_vendor(client, cast, shipped,
                                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(client)
    assert response.status_code == 302 and response["Location"] == reverse("apply_thanks")
    partner = Partner.objects.get(name="Northpeak Consulting")
    assert partner.lifecycle == Lifecycle.APPLIED and partner.domain == "northpeak-consulting.example"
    assert partner.type_codes == ["system_integrator"] and partner.employees == 45
    application = Application.objects.get(partner=partner)
    assert application.ip_address == "203.0.113.7" and application.contact_email == "nora@northpeak-consulting.example"
    assert [m.to for m in mail.outbox if "received your partner application" in m.subject] == [["nora@northpeak-consulting.example"]]
    assert cast.vendor_admin.notifications.filter(kind="application.received").exists()
    assert PartnerJourney.objects.get(partner=partner).applied_on is not None


@pytest.mark.parametrize("field, value, message", [
    ("company_name", "", "This field is required."),
    ("website", "not a website", services.WEBSITE_INVALID),
    ("website", "http://localhost/", services.WEBSITE_INVALID),
    ("contact_email", "nora-at-example", "Enter a valid email address."),
    ("types", [], "This field is required."),
    ("employees", "-3", "Ensure this value is greater than or equal to 1."),
])
def test_bad_applications_get_a_message_and_store_nothing(client, cast, shipped, field, value, message):
    response = _apply(client, **{field: value})
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not Partner.objects.filter(name="Northpeak Consulting").exists() and not Application.objects.exists()


def test_a_company_that_is_already_a_partner_is_told_so_by_its_domain(client, cast, shipped):
    response = _apply(client, company_name="Alpha Integrations Ltd", website="https://eu.alpha.example/partners")
    assert services.ALREADY_PARTNER.format(domain="alpha.example") in html.unescape(response.content.decode())
    assert Partner.objects.count() == 2
    # …and a second application from the same company is a duplicate too.
    assert _apply(client).status_code == 302
    again = _apply(client, company_name="NorthPeak", website="northpeak-consulting.example")
    assert "already one of our partners or has already applied" in again.content.decode()
    assert Application.objects.count() == 1


def test_the_honeypot_thanks_a_bot_and_stores_nothing(client, cast, shipped):
    response = _apply(client, fax_number="+1 555 0100")
    assert response.status_code == 302 and not Application.objects.exists() and not mail.outbox


def test_the_rate_limit_stops_a_flood_from_one_address(client, cast, shipped):
    for i in range(services.APPLICATIONS_PER_HOUR):
        _apply(client, company_name=f"Spam {i}", website=f"https://spam{i}.example")
    response = _apply(client, company_name="One too many", website="https://toomany.example")
    assert response.status_code == 429 and services.RATE_LIMITED in response.content.decode()
    assert not Partner.objects.filter(name="One too many").exists()
    # Another address is not affected.
    other = client.post(reverse("apply"), {**APPLICATION}, REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 302


# --- evaluation -------------------------------------------------------------------------------


def _scores(client, round_, **values):
    data = {}
    for spec in round_.criteria:
        value = values.get(spec["code"], "4" if spec["scale"] == "numeric" else "high")
        data[f"score_{spec['code']}"] = value
        data[f"note_{spec['code']}"] = f"Note on {spec['name']}"
    return client.post(reverse("evaluation_score", args=[round_.public_id]), data)


def test_two_evaluators_score_and_the_total_follows_the_formula(client, login, cast, shipped):
    _apply(client)
    partner = Partner.objects.get(name="Northpeak Consulting")
    pm = login(cast.partner_manager)
    pm.post(reverse("evaluation_round_open", args=[partner.public_id]), {"name": ""})
    round_ = EvaluationRound.objects.get(partner=partner)
    partner.refresh_from_db()
    assert partner.lifecycle == Lifecycle.EVALUATING and round_.name == "Application review"
    assert _scores(pm, round_).status_code == 302
    admin = login(cast.vendor_admin)
    assert _scores(admin, round_, capacity="2", customer_fit="5", commitment="low").status_code == 302
    round_.refresh_from_db()
    # Weights: capacity 2, capability 2, commitment 1.5 (levels 5/3/1), customer fit 2, market overlap 1.5 (levels), technical fit 1.
    # Means: capacity 3, capability 4, commitment (5+1)/2 = 3, customer fit 4.5, market overlap 5, technical fit 4.
    # 10 × (2×3/5 + 2×4/5 + 1.5×3/5 + 2×4.5/5 + 1.5×5/5 + 1×4/5) / 10 = 1.2 + 1.6 + 0.9 + 1.8 + 1.5 + 0.8 = 7.80
    assert round_.total == Decimal("7.80") and round_.evaluator_count == 2
    page = admin.get(reverse("evaluation_candidate", args=[partner.public_id])).content.decode()
    assert "7.80 / 10" in page and "Note on Capacity" in page


def test_a_score_outside_the_scale_is_refused_and_nothing_is_saved(client, login, cast, shipped):
    _apply(client)
    partner = Partner.objects.get(name="Northpeak Consulting")
    pm = login(cast.partner_manager)
    pm.post(reverse("evaluation_round_open", args=[partner.public_id]), {})
    round_ = EvaluationRound.objects.get(partner=partner)
    response = _scores(pm, round_, capacity="7")
    assert response.status_code == 200 and "Capacity: 7 is outside the scale (1 to 5)." in response.content.decode()
    assert not round_.scorecards.exists()
    with pytest.raises(Exception, match="outside the scale"):
        services.scorecard_submit(round_=round_, evaluator=cast.partner_manager, scores={
            s["code"]: services.ScoreInput(value=0 if s["scale"] == "numeric" else None, level="high") for s in round_.criteria
        })
    assert not round_.scorecards.exists()


def test_weights_that_sum_to_zero_are_refused_with_a_message(login, cast, shipped):
    admin = login(cast.vendor_admin)
    criteria = list(Criterion.objects.filter(is_active=True))
    for c in criteria[:-1]:
        Criterion.objects.filter(pk=c.pk).update(weight=0)
    last = criteria[-1]
    response = admin.post(reverse("evaluation_criterion_edit", args=[last.public_id]), {
        "name": last.name, "weight": "0", "scale": last.scale, "high_value": "5", "medium_value": "3", "low_value": "1",
        "order": last.order, "is_active": "on",
    })
    assert response.status_code == 200 and "add up to zero" in response.content.decode()
    last.refresh_from_db()
    assert last.weight != 0


def test_the_comparison_shows_a_chart_and_every_candidate(client, login, cast, shipped):
    for i, name in enumerate(["Northpeak Consulting", "Southwind Systems", "Eastgate Partners"]):
        _apply(client, company_name=name, website=f"https://cand{i}.example", contact_email=f"c{i}@cand{i}.example")
    pm = login(cast.partner_manager)
    ids = []
    for partner in Partner.objects.filter(lifecycle=Lifecycle.APPLIED):
        pm.post(reverse("evaluation_round_open", args=[partner.public_id]), {})
        _scores(pm, EvaluationRound.objects.get(partner=partner))
        ids.append(partner.public_id)
    page = pm.get(reverse("evaluation_compare"), {"p": ids}).content.decode()
    assert "<svg" in page and all(n in page for n in ["Northpeak Consulting", "Southwind Systems", "Eastgate Partners"])
    ranking = pm.get(reverse("evaluation_ranking")).content.decode()
    assert "Northpeak Consulting" in ranking


# --- approval, agreement, onboarding, activation -----------------------------------------------


def test_approve_sign_countersign_onboard_and_activate(client, login, cast, shipped, agreement_template):
    _apply(client)
    partner = Partner.objects.get(name="Northpeak Consulting")
    pm = login(cast.partner_manager)
    response = pm.post(reverse("application_approve", args=[partner.public_id]), {"template": agreement_template.public_id})
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.lifecycle == Lifecycle.ONBOARDING and partner.owner == cast.partner_manager
    plan = Plan.objects.get(partner=partner, kind=PlanKind.ONBOARDING)
    assert plan.tasks.filter(title__icontains="first deal").exists()
    agreement = Agreement.objects.get(partner=partner)
    new_admin = partner.memberships.get(role="admin").user
    assert new_admin.email == "nora@northpeak-consulting.example"

    # Activation before the countersignature is refused.
    response = pm.post(reverse("partner_lifecycle_change", args=[partner.public_id]), {"lifecycle": "active"})
    assert services.NO_AGREEMENT.format(partner=partner) in response.content.decode()
    partner.refresh_from_db()
    assert partner.lifecycle == Lifecycle.ONBOARDING

    signer = login(new_admin)
    refused = signer.post(reverse("agreement_sign", args=[agreement.public_id]), {"name": "Nora Peak"})
    assert "Tick the box" in refused.content.decode()
    signer.post(reverse("agreement_sign", args=[agreement.public_id]), {"name": "Nora Peak", "consent": "on"},
                REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Test browser")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED and agreement.signed_ip == "192.0.2.44"
    assert agreement.signed_user_agent == "Test browser" and agreement.signed_by == new_admin

    # Only a vendor admin countersigns.
    assert pm.post(reverse("agreement_countersign", args=[agreement.public_id]), {"name": "Paul", "consent": "on"}).status_code == 403
    admin = login(cast.vendor_admin)
    admin.post(reverse("agreement_countersign", args=[agreement.public_id]), {"name": "Vera Admin", "consent": "on"})
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.COUNTERSIGNED and agreement.pdf and len(agreement.pdf_sha256) == 64
    pdf = b"".join(admin.get(reverse("agreement_pdf", args=[agreement.public_id])).streaming_content)
    import hashlib

    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == agreement.pdf_sha256

    admin.post(reverse("partner_lifecycle_change", args=[partner.public_id]), {"lifecycle": "active"})
    partner.refresh_from_db()
    assert partner.lifecycle == Lifecycle.ACTIVE
    journey = PartnerJourney.objects.get(partner=partner)
    assert journey.activated_on and journey.onboarding_started_on
    assert AuditEvent.objects.filter(object_id=partner.public_id, action="transition", changes__lifecycle=["onboarding", "active"]).exists()
    # The partner sees its journey with the plan; the other partner does not even see it exists.
    page = signer.get(reverse("partner_journey", args=[partner.public_id])).content.decode()
    assert "Onboarding plan" in page and "Active" in page
    assert login(cast.b_admin).get(reverse("partner_journey", args=[partner.public_id])).status_code == 404


def test_the_partner_form_cannot_activate_without_a_countersigned_agreement(login, cast, shipped):
    cast.partner_a.lifecycle = Lifecycle.ONBOARDING
    cast.partner_a.save()
    response = login(cast.partner_manager).post(reverse("partner_edit", args=[cast.partner_a.public_id]), {
        "name": "Alpha Integrations", "region": "na", "lifecycle": "active", "description": "changed",
    })
    assert response.status_code == 200 and "cannot become active" in response.content.decode()
    cast.partner_a.refresh_from_db()
    assert cast.partner_a.lifecycle == Lifecycle.ONBOARDING and cast.partner_a.description == ""


def test_declining_an_application_tells_the_applicant(client, login, cast, shipped, django_capture_on_commit_callbacks):
    _apply(client)
    partner = Partner.objects.get(name="Northpeak Consulting")
    pm = login(cast.partner_manager)
    assert "This field is required." in pm.post(reverse("application_decline", args=[partner.public_id]), {"reason": " "}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        pm.post(reverse("application_decline", args=[partner.public_id]), {"reason": "We have enough integrators in EMEA this year."})
    partner.refresh_from_db()
    assert partner.lifecycle == Lifecycle.TERMINATED
    assert any("enough integrators" in m.body for m in mail.outbox)


def test_the_pipeline_groups_by_state_with_owner_and_age(client, login, cast, shipped):
    _apply(client)
    page = login(cast.partner_manager).get(reverse("pipeline")).content.decode()
    assert "Applied" in page and "Northpeak Consulting" in page and "0 days in state" in page
    assert login(cast.a_admin).get(reverse("pipeline")).status_code == 404
