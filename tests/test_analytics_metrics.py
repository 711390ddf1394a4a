"""Worked examples for the metric definitions, on a quarter small enough to add up by hand.

FY2026 Q2 (April–June; the fiscal year starts in January):

- S1: Alpha sourced, Beta influenced; won 40,000.00 USD, created 1 Apr, closed 10 May (39 days).
- S2: Alpha sourced; won 20,000.00 USD, created 15 Apr, closed 1 Jun (47 days).
- S3: Alpha sourced; lost 10,000.00 USD, created 20 Apr, closed 15 May.
- I1: Beta resells; won 15,000.00 EUR at 1.10 USD per EUR = 16,500.00 USD, created 5 Apr, closed 5 May.
- D1: direct, won 25,000.00 USD, created in March (Q1), closed 20 May.
- D2: direct, lost 5,000.00 USD, created 2 Apr, closed 10 Jun.
- G1: direct, won 1,000.00 GBP, no GBP rate for the quarter: left out and reported.

Sourced revenue 60,000.00; sourced win rate 2/3; all revenue 101,500.00 (G1 left out).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from covey.analytics import metrics as M
from covey.analytics.models import ActiveRule, AnalyticsSettings
from covey.core.models import VendorSettings

Q2 = "2026Q2"


def _deal(name, stage, amount_minor, currency, created, closed, links=()):
    from covey.crm.models import Account, Opportunity, OpportunityPartner

    account = Account.objects.create(name=f"{name} customer", domain=f"{name.lower()}.example")
    opp = Opportunity.objects.create(name=name, account=account, stage=stage, amount_minor=amount_minor, currency=currency,
                                     close_date=closed, created_at=datetime(created.year, created.month, created.day, 12,
                                                                            tzinfo=UTC))
    for i, (partner, role) in enumerate(links):
        OpportunityPartner.objects.create(opportunity=opp, partner=partner, role=role, is_primary=i == 0)
    return opp


@pytest.fixture
def quarter(cast):
    from covey.payouts.models import FxRate, LedgerEntry
    from covey.programs.models import Program

    a, b = cast.partner_a, cast.partner_b
    FxRate.objects.create(period_key=Q2, currency="EUR", base_currency="USD", per_base=Decimal("1.10"))
    cast.s1 = _deal("S1", "Closed Won", 4_000_000, "USD", date(2026, 4, 1), date(2026, 5, 10), [(a, "sourced"), (b, "influencer")])
    cast.s2 = _deal("S2", "Closed Won", 2_000_000, "USD", date(2026, 4, 15), date(2026, 6, 1), [(a, "sourced")])
    cast.s3 = _deal("S3", "Closed Lost", 1_000_000, "USD", date(2026, 4, 20), date(2026, 5, 15), [(a, "referral")])
    cast.i1 = _deal("I1", "Closed Won", 1_500_000, "EUR", date(2026, 4, 5), date(2026, 5, 5), [(b, "reseller")])
    cast.d1 = _deal("D1", "Closed Won", 2_500_000, "USD", date(2026, 3, 1), date(2026, 5, 20))
    cast.d2 = _deal("D2", "Closed Lost", 500_000, "USD", date(2026, 4, 2), date(2026, 6, 10))
    cast.g1 = _deal("G1", "Closed Won", 100_000, "GBP", date(2026, 4, 3), date(2026, 5, 1))
    program = Program.objects.create(name="Referral program")
    LedgerEntry.objects.create(program=program, partner=a, period_key=Q2, source="deal", key="s1", amount_minor=300_000,
                               currency="USD", explanation="10% of S1")
    settings = AnalyticsSettings.current()
    settings.overhead_per_quarter_minor = 700_000
    settings.save()
    return cast


def _values(**filters):
    f = M.Filters(period=VendorSettings.current().calendar.parse(filters.pop("period", Q2)), **filters)
    cube = M.build_cube(f)
    return M.compute_all(cube), cube


def test_sourced_revenue_counts_won_deals_a_partner_brought(quarter):
    values, _ = _values()
    assert values["sourced_revenue"] == 6_000_000  # 60,000.00
    assert values["sourced_pipeline"] == 7_000_000  # S1 + S2 + S3 were created in the quarter


def test_win_rate_average_deal_and_cycle_per_motion(quarter):
    values, _ = _values()
    assert values["win_rate_sourced"] == Decimal("0.6667")  # 2 of 3
    assert values["avg_deal_sourced"] == 3_000_000
    assert values["cycle_sourced"] == Decimal("43.0")  # (39 + 47) / 2
    assert values["win_rate_influenced"] == Decimal("1.0000")
    assert values["win_rate_direct"] == Decimal("0.5000")  # D1 won, D2 lost (G1 has no rate)
    assert values["avg_deal_direct"] == 2_500_000


def test_a_foreign_currency_deal_is_converted_with_the_quarter_rate(quarter):
    values, cube = _values()
    assert values["influenced_revenue"] == 1_650_000  # 15,000.00 EUR × 1.10
    assert values["influenced_pipeline"] == 1_650_000


def test_a_currency_without_a_rate_is_left_out_and_named(quarter):
    _, cube = _values()
    assert ("GBP", Q2) in cube.missing_rates


def test_shares_of_total_and_attach_rate(quarter):
    values, _ = _values()
    # all revenue: 40,000 + 20,000 + 16,500 + 25,000 = 101,500.00
    assert values["sourced_revenue_share"] == Decimal("0.5911")
    assert values["influenced_revenue_share"] == Decimal("0.1626")
    assert values["attach_rate"] == Decimal("0.7500")  # 3 of the 4 won deals had a partner
    # pipeline created in Q2: S1–S3 70,000 + I1 16,500 + D2 5,000 = 91,500 (D1 was created in Q1)
    assert values["partner_pipeline_share"] == Decimal("0.9454")


def test_active_partners_and_revenue_per_active_partner(quarter):
    values, _ = _values()
    assert values["active_partners"] == 2
    assert values["revenue_per_active_partner"] == 3_825_000  # (60,000 + 16,500) / 2


def test_the_active_rule_is_configurable(quarter):
    settings = AnalyticsSettings.current()
    settings.active_rule = ActiveRule.REGISTRATION
    settings.save()
    values, _ = _values()
    assert values["active_partners"] == 0  # no registrations were submitted


def test_a_deal_with_two_partners_counts_once_in_totals_and_for_both_in_concentration(quarter):
    values, cube = _values()
    assert cube.partner_revenue == {quarter.partner_a.pk: 6_000_000, quarter.partner_b.pk: 5_650_000}
    # top 20% of two partners is one partner: 60,000 of 116,500
    assert values["concentration"] == Decimal("0.5150")


def test_incentives_and_program_roi(quarter):
    values, _ = _values()
    assert values["incentives"] == 300_000
    # cost = 3,000 incentives + 7,000 overhead; (60,000 − 10,000) / 10,000
    assert values["program_roi"] == Decimal("5.00")


def test_a_partner_filter_narrows_which_partners_count(quarter):
    a, _ = _values(partner_id=quarter.partner_a.pk)
    assert a["sourced_revenue"] == 6_000_000
    assert a["influenced_revenue"] == 0
    b, _ = _values(partner_id=quarter.partner_b.pk)
    # Beta brought nothing; it helped on S1 (Alpha's) and resold I1
    assert b["sourced_revenue"] == 0
    assert b["influenced_revenue"] == 5_650_000
    assert b["sourced_revenue_share"] == 0  # the total stays the whole business


def test_partner_type_and_region_filters(quarter):
    resellers, _ = _values(partner_type="reseller")
    assert resellers["influenced_revenue"] == 5_650_000
    nowhere, _ = _values(region="apac")
    assert nowhere["sourced_revenue"] == 0 and nowhere["influenced_revenue"] == 0


def test_a_fiscal_year_sums_its_quarters(quarter):
    values, _ = _values(period="2026")
    assert values["sourced_revenue"] == 6_000_000
    assert values["win_rate_sourced"] == Decimal("0.6667")


def test_a_quarter_with_no_deals_has_zero_money_and_no_rates(quarter):
    values, _ = _values(period="2025Q1")
    assert values["sourced_revenue"] == 0
    assert values["win_rate_sourced"] is None
    assert values["avg_deal_sourced"] is None
    assert values["concentration"] is None
    assert values["program_roi"] is not None  # overhead alone is a cost: all of it lost
    assert values["program_roi"] == Decimal("-1.00")


def test_a_quarter_with_only_lost_deals_has_a_zero_win_rate(cast):
    _deal("L1", "Closed Lost", 900_000, "USD", date(2026, 7, 2), date(2026, 8, 1), [(cast.partner_a, "sourced")])
    values, _ = _values(period="2026Q3")
    assert values["win_rate_sourced"] == Decimal("0.0000")
    assert values["avg_deal_sourced"] is None
    assert values["cycle_sourced"] is None


def test_every_metric_has_a_name_and_a_written_definition():
    for metric in M.METRICS.values():
        assert metric.name and len(metric.definition) > 40, metric.key
        assert metric.unit in ("money", "count", "ratio", "days", "points"), metric.key  # points: partner_nps


def test_bad_period_and_unknown_partner_are_clear_errors(cast):
    with pytest.raises(M.FilterError, match="not a fiscal period"):
        M.parse_filters({"period": "2026Q9"}, user=cast.vendor_admin)
    with pytest.raises(M.FilterError, match="No partner with id"):
        M.parse_filters({"partner": "par_nothere"}, user=cast.vendor_admin)
    with pytest.raises(M.FilterError, match="not a known region"):
        M.parse_filters({"region": "mars"}, user=cast.vendor_admin)


def test_a_partner_user_is_held_to_its_own_partner(cast):
    f, partner = M.parse_filters({}, user=cast.b_rep)
    assert f.partner_id == cast.partner_b.pk and partner == cast.partner_b
    with pytest.raises(M.FilterError, match="own partner"):
        M.parse_filters({"partner": cast.partner_a.public_id}, user=cast.b_rep)
