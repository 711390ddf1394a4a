"""The quarterly scorecard: red/amber/green against targets, a partner's target over its tier's, and
the change from the previous quarter, worked by hand.

Alpha, Silver from January 2026. Q1: one sourced deal created (8,000.00), won in Q1. Q2: two sourced
deals created (10,000.00 and 30,000.00), one won (30,000.00) and one lost; one influenced deal
created (5,000.00); one joint activity on a deal; one course completed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from covey.analytics import scorecard as S
from covey.analytics.models import AnalyticsSettings, Target
from covey.core.models import VendorSettings

G, A = Decimal("1.00"), Decimal("0.80")


def test_green_from_the_target_amber_from_eighty_percent_red_below():
    assert S.rag(100, 100, green_at=G, amber_at=A) == S.GREEN
    assert S.rag(120, 100, green_at=G, amber_at=A) == S.GREEN
    assert S.rag(80, 100, green_at=G, amber_at=A) == S.AMBER
    assert S.rag(79, 100, green_at=G, amber_at=A) == S.RED
    assert S.rag(Decimal("0.30"), Decimal("0.40"), green_at=G, amber_at=A) == S.RED


def test_no_target_means_no_status_and_a_zero_target_is_met():
    assert S.rag(50, None, green_at=G, amber_at=A) is None
    assert S.rag(None, 100, green_at=G, amber_at=A) is None
    assert S.rag(0, 0, green_at=G, amber_at=A) == S.GREEN


def test_thresholds_are_configurable():
    assert S.rag(90, 100, green_at=Decimal("0.90"), amber_at=Decimal("0.50")) == S.GREEN
    assert S.rag(49, 100, green_at=Decimal("0.90"), amber_at=Decimal("0.50")) == S.RED


def _deal(name, stage, amount, created, closed, partner, role):
    from covey.crm.models import Account, Opportunity, OpportunityPartner

    account = Account.objects.create(name=f"{name} Co", domain=f"{name.lower()}.example")
    opp = Opportunity.objects.create(name=name, account=account, stage=stage, amount_minor=amount, currency="USD",
                                     close_date=closed, created_at=datetime(*created, 9, tzinfo=UTC))
    OpportunityPartner.objects.create(opportunity=opp, partner=partner, role=role, is_primary=True)
    return opp


@pytest.fixture
def alpha(cast):
    from covey.crm.models import Activity
    from covey.enablement.models import Completion, Course
    from covey.programs.models import Enrolment, Program

    a = cast.partner_a
    program = Program.objects.create(name="Partner program")
    Enrolment.objects.create(partner=a, program=program, tier_code="silver", starts_on=date(2026, 1, 1))
    _deal("Q1won", "Closed Won", 800_000, (2026, 1, 10), date(2026, 3, 1), a, "sourced")
    big = _deal("Q2won", "Closed Won", 3_000_000, (2026, 4, 2), date(2026, 6, 1), a, "sourced")
    _deal("Q2lost", "Closed Lost", 1_000_000, (2026, 4, 3), date(2026, 5, 1), a, "sourced")
    _deal("Q2help", "Qualification", 500_000, (2026, 4, 4), date(2026, 9, 1), a, "influencer")
    Activity.objects.create(kind="meeting", subject="Joint call", opportunity=big, partner=a, is_joint=True,
                            occurred_at=datetime(2026, 5, 3, 10, tzinfo=UTC), created_by=cast.a_rep)
    course = Course.objects.create(title="Sales basics")
    Completion.objects.create(course=course, partner=a, person_name="Ana", person_email="ana@alpha.example",
                              person_key="ana@alpha.example", completed_on=date(2026, 5, 10))
    Target.objects.create(period_key="2026Q2", tier_code="silver", measure="deals_sourced", value=2)
    Target.objects.create(period_key="2026Q2", tier_code="silver", measure="revenue_closed", amount_minor=5_000_000)
    Target.objects.create(period_key="2026Q2", partner=a, measure="revenue_closed", amount_minor=3_500_000)
    Target.objects.create(period_key="2026Q2", tier_code="silver", measure="win_rate", value=Decimal("0.8"))
    return cast


def _card(cast, key="2026Q2"):
    return S.build_scorecard(cast.partner_a, VendorSettings.current().calendar.parse(key))


def _line(card, measure):
    return next(line for line in card.lines if line.measure == measure)


def test_the_scorecard_figures_for_the_quarter(alpha):
    card = _card(alpha)
    assert card.tier_code == "silver"
    assert _line(card, "deals_sourced").actual == 2
    assert _line(card, "pipeline_sourced").actual == 4_000_000
    assert _line(card, "pipeline_influenced").actual == 500_000
    assert _line(card, "revenue_closed").actual == 3_000_000
    assert _line(card, "win_rate").actual == Decimal("0.5000")
    assert _line(card, "avg_deal_size").actual == 3_000_000
    assert _line(card, "active_engagements").actual == 1
    assert _line(card, "training_completions").actual == 1


def test_a_partner_target_wins_over_its_tier_target(alpha):
    revenue = _line(_card(alpha), "revenue_closed")
    assert revenue.target == 3_500_000  # not the tier's 5,000,000
    assert revenue.attainment == Decimal("0.86")
    assert revenue.status == S.AMBER


def test_status_against_the_tier_targets(alpha):
    card = _card(alpha)
    assert _line(card, "deals_sourced").status == S.GREEN  # 2 of 2
    assert _line(card, "win_rate").status == S.RED  # 0.50 of 0.80 is 62.5%
    assert _line(card, "certified_people").status is None  # no target


def test_the_change_from_the_previous_quarter(alpha):
    card = _card(alpha)
    assert card.previous.key == "2026Q1"
    revenue = _line(card, "revenue_closed")
    assert revenue.previous == 800_000
    assert revenue.change == 2_200_000
    deals = _line(card, "deals_sourced")
    assert (deals.previous, deals.change) == (1, 1)
    win = _line(card, "win_rate")
    assert win.previous == Decimal("1.0000") and win.change == Decimal("-0.5000")


def test_moving_the_thresholds_changes_the_status(alpha):
    settings = AnalyticsSettings.current()
    settings.green_at, settings.amber_at = Decimal("0.85"), Decimal("0.50")
    settings.save()
    card = _card(alpha)
    assert _line(card, "revenue_closed").status == S.GREEN
    assert _line(card, "win_rate").status == S.AMBER


def test_a_scorecard_is_for_a_quarter_not_a_year(alpha):
    from covey.analytics.metrics import FilterError

    with pytest.raises(FilterError, match="one fiscal quarter"):
        _card(alpha, "2026")
