"""Tier reviews as a story: Alpha (Silver) has earned Gold, Beta (Gold) has fallen below it.

The review of 2026Q3 is taken on 5 October 2026 and measures the year to 30 September: Alpha won
24,000.00 + 36,000.00 USD (and a EUR deal with no FX rate, counted as a deal but not as sales), has one
certified engineer and satisfaction scores 8.4 and 8.0 (average 8.2); Beta won one 24,000.00 USD deal
and has no certified people. Gold needs 50,000.00 USD, one certified person, satisfaction 8.0 and two
won deals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from covey.crm.models import Opportunity, OpportunityPartner
from covey.enablement import services as enablement
from covey.enablement.selectors import partner_tier_code
from covey.programs import services as programs
from covey.programs.models import Enrolment
from covey.tierreviews import services
from covey.tierreviews.jobs import quarterly
from covey.tierreviews.models import SatisfactionScore, TierProposal, TierReview
from tests.test_api import as_user

REVIEW_DAY = date(2026, 10, 5)


@pytest.fixture
def tiered(world):
    admin, before = world.vendor_admin, date(2026, 6, 1)
    program = programs.program_create(name="Partner Program", currency="USD", actor=admin, today=before)
    draft = program.versions.get()
    programs.version_update(version=draft, actor=admin, effective_from=date(2026, 7, 1), today=before)
    programs.tier_save(version=draft, actor=admin, code="silver", name="Silver", rank=1, today=before)
    programs.tier_save(version=draft, actor=admin, code="gold", name="Gold", rank=2, today=before,
                       min_annual_sales_minor=5_000_000, min_certified_people=1, min_satisfaction=Decimal("8.0"), min_deals=2)
    programs.version_publish(version=draft, actor=admin, today=before)
    for partner, tier in ((world.partner_a, "silver"), (world.partner_b, "gold")):
        programs.enrol(partner=partner, program=program, tier_code=tier, starts_on=date(2026, 7, 1), actor=admin)
    # Alpha's year
    Opportunity.objects.filter(pk=world.opportunity_a.pk).update(stage="Closed Won", close_date=date(2026, 8, 10))
    for amount, currency, closed in ((3_600_000, "USD", date(2026, 9, 1)), (1_000_000, "EUR", date(2026, 9, 2)),
                                     (9_900_000, "USD", date(2026, 10, 2))):  # the last one closes after the review's year
        opp = Opportunity.objects.create(name=f"Alpha {currency} {amount}", account=world.account_a, owner=world.sales_rep,
                                         stage="Closed Won", amount_minor=amount, currency=currency, close_date=closed)
        OpportunityPartner.objects.create(opportunity=opp, partner=world.partner_a, role="reseller", is_primary=True)
    course = enablement.course_create(actor=admin, title="Certified implementer", kind="internal", certifies=True,
                                      certification_name="Implementer", valid_months=12)
    enablement.completion_record(course=course, partner=world.partner_a, actor=world.partner_manager,
                                 completed_on=date(2026, 5, 1), person_name="Ada Engineer", today=date(2026, 5, 2))
    for score, on in (("8.4", date(2026, 4, 1)), ("8.0", date(2026, 9, 15)), ("2.0", date(2025, 6, 1))):  # the last is too old
        services.satisfaction_record(partner=world.partner_a, score=score, measured_on=on, source_text="CSAT survey",
                                     actor=world.partner_manager, today=REVIEW_DAY)
    # Beta's year: one won deal
    Opportunity.objects.filter(pk=world.opportunity_b.pk).update(stage="Closed Won", close_date=date(2026, 8, 1))
    return program


def test_the_review_proposes_a_promotion_and_a_demotion_each_with_its_evidence(world, tiered):
    review = services.review_run(program=tiered, actor=world.partner_manager, today=REVIEW_DAY)
    assert (review.period_key, review.as_of, review.effective_from) == ("2026Q3", date(2026, 9, 30), date(2027, 1, 1))
    alpha = review.proposals.get(partner=world.partner_a)
    assert (alpha.current_tier, alpha.proposed_tier, alpha.change, alpha.status) == ("silver", "gold", "promote", "pending")
    assert alpha.evidence["facts"] == {"sales_minor": 6_000_000, "certified": 1, "satisfaction": "8.2", "deals": 3}
    assert alpha.evidence["unconverted"] == ["EUR"]
    gold = next(t for t in alpha.evidence["tiers"] if t["code"] == "gold")
    assert gold["qualifies"] and all(c["met"] for c in gold["checks"])

    beta = review.proposals.get(partner=world.partner_b)
    assert (beta.current_tier, beta.proposed_tier, beta.change) == ("gold", "silver", "demote")
    assert beta.evidence["facts"] == {"sales_minor": 2_400_000, "certified": 0, "satisfaction": None, "deals": 1}
    unmet = {c["measure"] for t in beta.evidence["tiers"] if t["code"] == "gold" for c in t["checks"] if not c["met"]}
    assert unmet == {"sales", "certified", "satisfaction", "deals"}


def test_approval_changes_the_tier_from_the_next_quarter_not_before(world, tiered):
    review = services.review_run(program=tiered, today=REVIEW_DAY)
    alpha = review.proposals.get(partner=world.partner_a)
    decided = services.proposal_decide(proposal=alpha, actor=world.partner_manager, today=REVIEW_DAY)
    assert (decided.status, decided.decided_tier, decided.applies_from) == ("approved", "gold", date(2027, 1, 1))
    on = lambda day: Enrolment.objects.filter(partner=world.partner_a, program=tiered).on(day).get().tier_code  # noqa: E731
    assert on(date(2026, 12, 31)) == "silver" and on(date(2027, 1, 1)) == "gold"
    with pytest.raises(ValidationError, match="already been decided"):
        services.proposal_decide(proposal=alpha, actor=world.partner_manager, today=REVIEW_DAY)


def test_an_override_needs_a_reason_and_only_the_partners_own_manager_or_an_admin_decides(world, tiered):
    review = services.review_run(program=tiered, today=REVIEW_DAY)
    beta = review.proposals.get(partner=world.partner_b)
    with pytest.raises(PermissionDenied):
        services.proposal_decide(proposal=beta, actor=world.partner_manager, today=REVIEW_DAY)  # Beta is Olga's
    with pytest.raises(ValidationError) as refused:
        services.proposal_decide(proposal=beta, actor=world.other_manager, tier_code="gold", today=REVIEW_DAY)
    assert "reason" in refused.value.message_dict
    beta.refresh_from_db()
    assert beta.status == "pending"
    kept = services.proposal_decide(proposal=beta, actor=world.other_manager, tier_code="gold",
                                    reason="Two large renewals sign in November", today=REVIEW_DAY)
    assert (kept.status, kept.decided_tier) == ("overridden", "gold")
    assert Enrolment.objects.filter(partner=world.partner_b, program=tiered).count() == 1  # nothing to change


def test_taking_a_review_twice_gives_the_same_review_and_the_scheduler_takes_each_quarter_once(world, tiered):
    first = services.review_run(program=tiered, today=REVIEW_DAY)
    assert services.review_run(program=tiered, today=REVIEW_DAY) == first
    assert TierProposal.objects.count() == 2
    assert quarterly(datetime(2026, 10, 6, 9, tzinfo=UTC)) == 0  # 2026Q3's review exists
    assert quarterly(datetime(2027, 1, 1, 9, tzinfo=UTC)) == 1  # 2026Q4's is due
    assert quarterly(datetime(2027, 1, 1, 9, 1, tzinfo=UTC)) == 0
    assert list(TierReview.objects.values_list("period_key", flat=True).order_by("period_key")) == ["2026Q3", "2026Q4"]


def test_satisfaction_scores_are_checked_and_the_partners_tier_reaches_the_library(world, tiered):
    for score in ("11", "-1", "8.25", "abc", "NaN"):
        with pytest.raises(ValidationError):
            services.satisfaction_record(partner=world.partner_b, score=score, measured_on=REVIEW_DAY,
                                         source_text="CSAT", actor=world.other_manager, today=REVIEW_DAY)
    with pytest.raises(ValidationError):
        services.satisfaction_record(partner=world.partner_b, score="8", measured_on=date(2026, 10, 6),
                                     source_text="CSAT", actor=world.other_manager, today=REVIEW_DAY)
    with pytest.raises(PermissionDenied):
        services.satisfaction_record(partner=world.partner_b, score="8", measured_on=REVIEW_DAY,
                                     source_text="CSAT", actor=world.b_admin, today=REVIEW_DAY)
    assert not SatisfactionScore.objects.filter(partner=world.partner_b).exists()
    assert partner_tier_code(world.partner_b) == "gold"


def test_pages_review_decide_and_the_partners_progress(world, tiered, login):
    services.review_run(program=tiered, today=REVIEW_DAY)  # 2026Q3; the page's "now" takes 2026Q4's if asked
    review = TierReview.objects.get()
    client = login(world.partner_manager)
    assert b"Promotion" in client.get(f"/tier-reviews/{review.public_id}/").content
    alpha = review.proposals.get(partner=world.partner_a)
    r = client.post(f"/tier-proposals/{alpha.public_id}/decide/", {"tier_code": "", "reason": ""})
    assert r.status_code == 302
    alpha.refresh_from_db()
    assert alpha.status == "approved"

    client = login(world.a_admin)
    assert client.get("/tier-reviews/").status_code == 404
    r = client.get("/my-tier/", follow=True)
    assert r.status_code == 200 and b"Our tier and progress" in r.content
    assert client.get(f"/partners/{world.partner_b.public_id}/tier/").status_code == 404
    assert client.post(f"/partners/{world.partner_a.public_id}/tier/satisfaction/",
                       {"score": "9", "measured_on": "2026-10-01", "source": "x"}).status_code == 403

    client = login(world.other_manager)
    r = client.post(f"/partners/{world.partner_b.public_id}/tier/satisfaction/",
                    {"score": "12", "measured_on": "2026-10-01", "source": "Survey"})
    assert r.status_code == 200 and b"0 to 10" in r.content
    assert not SatisfactionScore.objects.filter(partner=world.partner_b).exists()


def test_api_review_decide_progress(world, tiered):
    services.review_run(program=tiered, today=REVIEW_DAY)
    review = TierReview.objects.get()
    pm = as_user(world.partner_manager)
    page = pm.get(f"/api/tier-reviews/{review.public_id}/proposals", {"change": "promote"}).json()
    assert [p["partner"]["id"] for p in page["items"]] == [world.partner_a.public_id]
    r = pm.post(f"/api/tier-proposals/{page['items'][0]['id']}/decide", {})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert as_user(world.b_admin).get("/api/tier-reviews").json()["count"] == 0
    assert as_user(world.b_admin).get(f"/api/tier-reviews/{review.public_id}/proposals").status_code == 404
    progress = as_user(world.a_admin).get(f"/api/partners/{world.partner_a.public_id}/tier-progress").json()
    assert progress[0]["tier"] == "silver" and progress[0]["next_tier"] == "gold"
    assert progress[0]["scheduled_tier"] == "gold"
    assert as_user(world.b_admin).get(f"/api/partners/{world.partner_a.public_id}/tier-progress").status_code == 404
    r = as_user(world.other_manager).post(f"/api/partners/{world.partner_b.public_id}/satisfaction",
                                          {"score": "8.5", "measured_on": "2026-10-01", "source": "Q3 CSAT"})
    assert r.status_code == 201 and r.json()["score"] == "8.5"
