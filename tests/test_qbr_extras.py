"""The QBR pack's joint-business-plan goals and open issues, on the scorecard page and in the PDF."""

from __future__ import annotations

from datetime import date

import pytest

from covey.analytics import qbr

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_world(world):
    from covey.cosell.models import Escalation
    from covey.crm.models import Opportunity, OpportunityPartner
    from covey.lifecycle.models import BusinessGoal, BusinessPlan

    w = world
    w.plan = BusinessPlan.objects.create(partner=w.partner_a, title="Alpha FY26 plan", starts_on=date(2026, 1, 1),
                                         ends_on=date(2026, 12, 31))
    BusinessGoal.objects.create(plan=w.plan, metric="won_deals", target=4, note="Two a half")
    BusinessPlan.objects.create(partner=w.partner_a, title="Alpha FY25 plan", starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    won = Opportunity.objects.create(name="Won A", account=w.account_a, stage="Closed Won", amount_minor=100, currency="USD",
                                     close_date=date(2026, 2, 1))
    OpportunityPartner.objects.create(opportunity=won, partner=w.partner_a, role="reseller")
    w.esc = Escalation.objects.create(opportunity=w.opportunity_a, partner=w.partner_a, level=2, reason="Pricing stuck at legal")
    Escalation.objects.create(opportunity=w.opportunity_b, partner=w.partner_b, level=3, reason="Beta's own trouble")
    Escalation.objects.create(opportunity=w.opportunity_a, partner=w.partner_a, level=1, reason="Old and done", status="resolved",
                              resolution="Sorted")
    return w


def test_goals_and_issues_of_the_partner_only(plan_world):
    from covey.core.models import VendorSettings

    w = plan_world
    q1 = VendorSettings.current().calendar.parse("2026Q1")
    plans = qbr.goals(w.partner_a, q1)
    assert [p.title for p, _ in plans] == ["Alpha FY26 plan"]  # the FY25 plan does not overlap the quarter
    assert [(g.goal.target, g.actual, g.percent) for g in plans[0][1]] == [(4, 1, 25)]
    assert [e.reason for e in qbr.open_escalations(w.partner_a)] == ["Pricing stuck at legal"]
    assert qbr.open_disputes(w.partner_a) == []
    assert [e.reason for e in qbr.open_escalations(w.partner_b)] == ["Beta's own trouble"]


def test_scorecard_page_and_pdf_show_them(plan_world, client):
    w = plan_world
    client.force_login(w.a_readonly)
    page = client.get(f"/analytics/scorecards/{w.partner_a.public_id}/2026Q1/").content.decode()
    assert "Alpha FY26 plan" in page and "Pricing stuck at legal" in page and "Beta&#x27;s own trouble" not in page
    pdf = client.get(f"/analytics/scorecards/{w.partner_a.public_id}/2026Q1/qbr.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    client.force_login(w.b_rep)
    assert client.get(f"/analytics/scorecards/{w.partner_a.public_id}/2026Q1/").status_code == 404
