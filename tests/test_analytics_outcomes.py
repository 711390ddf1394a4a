"""Worked examples for the outcome metrics (``covey.analytics.outcomes``), on FY2026 Q2 (April–June).

Deals of the quarter (A = Alpha, B = Beta):

- N1: account X, new business, A sourced, won 40,000.00 USD, created 1 Apr, closed 10 May (39 days); co-sell A.
- N2: account Y, new business, A sourced and B influencer, won 10,000.00 EUR (× 1.10 = 11,000.00 USD),
  created 15 Apr, closed 20 May (35 days); co-sell B.
- N3: account X again, new business, A sourced, won 1,000.00 USD (X is one new customer).
- E1: account Z, expansion, A sourced, won 2,000.00 USD, closed 20 Apr (not a new customer).
- L1: account W, new business, A sourced, lost 5,000.00 USD, created 20 Apr, closed 1 Jun; co-sell A.
- D1: account V, new business, direct, won 3,000.00 USD.
- O1: open, A, created in March; co-sell A.  P1: A, closed won 15 Mar (before the quarter); co-sell A.

Ledger in Q2: A 3,000.00 (N1), A 1,000.00 (E1), B 500.00 (N2): incentives 4,500.00; MDF A 2,000.00 USD and
B 1,000.00 EUR (1,100.00 USD): 3,100.00; overhead 7,000.00: cost 14,600.00; CAC 14,600.00 / 2 = 7,300.00.

Customers (the year before = Jul 2024–Jun 2025, the current window = Jul 2025–Jun 2026):

- C1 (A sourced): 10,000.00 in 2024Q4, 12,000.00 in 2025Q4: retained.
- C2 (A sourced): 5,000.00 in 2025Q1, nothing since: churned.
- C3 (direct): 20,000.00 in 2025Q2, 10,000.00 in 2026Q1, churn recorded in 2026Q2: churned.
- C4 (direct): 10,000.00 EUR in 2025Q1 (× 1.20 = 12,000.00 USD), 10,000.00 EUR in 2026Q2 (11,000.00 USD)
  less a 1,000.00 EUR refund (1,100.00 USD): 9,900.00 now: retained.
- C5 (B influenced only): in neither group.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from covey.analytics import metrics as M
from covey.analytics import outcomes as O
from covey.analytics.models import AnalyticsSettings
from covey.core.models import VendorSettings

Q2 = "2026Q2"


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _deal(name, stage, amount_minor, created, closed, links=(), *, account=None, currency="USD", type="new"):
    from covey.crm.models import Account, Opportunity, OpportunityPartner

    account = account or Account.objects.create(name=f"{name} customer", domain=f"{name.lower()}.example")
    opp = Opportunity.objects.create(name=name, account=account, stage=stage, amount_minor=amount_minor, currency=currency,
                                     close_date=closed, created_at=_at(created), type=type)
    for i, (partner, role) in enumerate(links):
        OpportunityPartner.objects.create(opportunity=opp, partner=partner, role=role, is_primary=i == 0)
    return opp


def _entry(program, partner, amount, *, source="deal", currency="USD", opp=None, period=Q2):
    from covey.payouts.models import LedgerEntry

    return LedgerEntry.objects.create(program=program, partner=partner, period_key=period, source=source,
                                      key=f"{source}:{amount}:{opp.pk if opp else ''}", amount_minor=amount,
                                      currency=currency, opportunity=opp, explanation=f"{source} {amount}")


def _statement(program, partner, entries, *, paid=None, batch=None, period=Q2):
    from covey.payouts.models import Statement, StatementLine

    s = Statement.objects.create(program=program, partner=partner, period_key=period, period_end=date(2026, 6, 30),
                                 currency=entries[0].currency, status="paid" if paid or batch else "approved",
                                 paid_at=paid, batch=batch)
    for e in entries:
        StatementLine.objects.create(statement=s, entry=e)
    return s


def _agreement(partner, signed: date, *, status="signed"):
    from covey.agreements.models import Agreement, AgreementTemplate, AgreementVersion

    template = AgreementTemplate.objects.create(name=f"Agreement {AgreementTemplate.objects.count() + 1}")
    version = AgreementVersion.objects.create(template=template, number=1, title="Partner agreement", body="Terms")
    return Agreement.objects.create(partner=partner, version=version, title="Partner agreement", body="Terms",
                                    status=status, signed_at=_at(signed))


def _registration(partner, submitted: date):
    from covey.registrations.models import Registration

    name = f"r{partner.pk}{submitted:%m%d}"
    return Registration.objects.create(partner=partner, company_name=name, domain=f"{name}.example",
                                       claim_domain=f"{name}.example", normalised_name=name, amount_minor=1, currency="USD",
                                       expected_close=date(2026, 9, 1), status="submitted", submitted_at=_at(submitted))


def _joint(opp, partner, day: date, *, joint=True):
    from covey.crm.models import Activity

    return Activity.objects.create(subject="Joint call", kind="call", opportunity=opp, partner=partner, is_joint=joint,
                                   occurred_at=_at(day))


@pytest.fixture
def world(cast):
    from covey.cosell.models import Engagement
    from covey.crm.models import Account, DealEvent
    from covey.enablement.models import Completion, Course, Resource, ResourceUse
    from covey.payouts.models import FxRate, PayoutBatch
    from covey.programs.models import Program

    a, b = cast.partner_a, cast.partner_b
    for key, rate in ((Q2, "1.10"), ("2025Q1", "1.20")):
        FxRate.objects.create(period_key=key, currency="EUR", base_currency="USD", per_base=Decimal(rate))
    x = Account.objects.create(name="X customer", domain="x.example")
    w = cast
    w.n1 = _deal("N1", "Closed Won", 4_000_000, date(2026, 4, 1), date(2026, 5, 10), [(a, "sourced")], account=x)
    w.n2 = _deal("N2", "Closed Won", 1_000_000, date(2026, 4, 15), date(2026, 5, 20), [(a, "sourced"), (b, "influencer")],
                 currency="EUR")
    w.n3 = _deal("N3", "Closed Won", 100_000, date(2026, 4, 2), date(2026, 5, 2), [(a, "sourced")], account=x)
    w.e1 = _deal("E1", "Closed Won", 200_000, date(2026, 4, 3), date(2026, 4, 20), [(a, "sourced")], type="expansion")
    w.l1 = _deal("L1", "Closed Lost", 500_000, date(2026, 4, 20), date(2026, 6, 1), [(a, "sourced")])
    w.d1 = _deal("D1", "Closed Won", 300_000, date(2026, 4, 4), date(2026, 6, 2))
    w.o1 = _deal("O1", "Proposal/Price Quote", 700_000, date(2026, 3, 1), date(2026, 8, 1), [(a, "reseller")])
    w.p1 = _deal("P1", "Closed Won", 800_000, date(2026, 1, 5), date(2026, 3, 15), [(a, "reseller")])
    for opp, partner in ((w.n1, a), (w.n2, b), (w.l1, a), (w.o1, a), (w.p1, a)):
        Engagement.objects.create(opportunity=opp, partner=partner, model="co_sell", created_at=opp.created_at)

    # customers of the year before and now
    c1 = _deal("C1a", "Closed Won", 1_000_000, date(2024, 10, 1), date(2024, 11, 1), [(a, "sourced")])
    _deal("C1b", "Closed Won", 1_200_000, date(2025, 10, 1), date(2025, 11, 1), [(a, "sourced")], account=c1.account)
    _deal("C2a", "Closed Won", 500_000, date(2025, 1, 2), date(2025, 2, 1), [(a, "referral")])
    c3 = _deal("C3a", "Closed Won", 2_000_000, date(2025, 4, 1), date(2025, 5, 1))
    c3b = _deal("C3b", "Closed Won", 1_000_000, date(2026, 1, 2), date(2026, 2, 1), account=c3.account)
    DealEvent.objects.create(opportunity=c3b, kind="churned", occurred_on=date(2026, 5, 1))
    c4 = _deal("C4a", "Closed Won", 1_000_000, date(2025, 1, 2), date(2025, 2, 1), currency="EUR")
    c4b = _deal("C4b", "Closed Won", 1_000_000, date(2026, 4, 2), date(2026, 4, 10), account=c4.account, currency="EUR")
    DealEvent.objects.create(opportunity=c4b, kind="refunded", occurred_on=date(2026, 5, 5), amount_minor=100_000)
    DealEvent.objects.create(opportunity=c4b, kind="paid", occurred_on=date(2026, 4, 15), amount_minor=1_000_000)
    _deal("C5a", "Closed Won", 900_000, date(2024, 8, 1), date(2024, 9, 1), [(b, "reseller")])

    # costs and payouts
    program = Program.objects.create(name="Partner program")
    on_n1 = _entry(program, a, 300_000, opp=w.n1)
    on_e1 = _entry(program, a, 100_000, opp=w.e1)
    on_n2 = _entry(program, b, 50_000, opp=w.n2)
    clawback = _entry(program, a, -20_000, opp=w.e1, source="clawback", period="2026Q1")
    _entry(program, a, 200_000, source="mdf")
    _entry(program, b, 100_000, source="mdf", currency="EUR")
    _statement(program, a, [on_n1, on_e1, clawback], paid=_at(date(2026, 6, 10)))
    batch = PayoutBatch.objects.create(currency="USD", status="paid", paid_at=_at(date(2026, 5, 30)))
    _statement(program, b, [on_n2], batch=batch)
    late = _entry(program, a, 10_000, opp=w.n3, period="2026Q3")
    _statement(program, a, [late], paid=_at(date(2026, 7, 5)), period="2026Q3")
    settings = AnalyticsSettings.current()
    settings.overhead_per_quarter_minor = 700_000
    settings.save()

    # ramp
    _agreement(a, date(2026, 4, 10))
    _agreement(a, date(2026, 6, 1))
    _agreement(b, date(2026, 1, 1), status="void")
    _agreement(b, date(2026, 5, 1))
    _registration(a, date(2026, 4, 5))  # before signing: not the first after it
    _registration(a, date(2026, 4, 30))  # 20 days
    _registration(b, date(2026, 5, 11))  # 10 days

    # joint activities: 2 + 1 counted
    _joint(w.n1, a, date(2026, 4, 8))
    _joint(w.n1, a, date(2026, 5, 1))
    _joint(w.n1, a, date(2026, 5, 2), joint=False)
    _joint(w.n2, b, date(2026, 4, 20))
    _joint(w.n2, a, date(2026, 4, 21))  # A has no engagement on N2
    _joint(w.o1, a, date(2026, 3, 20))  # before the quarter
    _joint(w.p1, a, date(2026, 4, 9))  # P1 closed before the quarter

    # enablement: A 3 uses and 1 completion in Q2, B 1 use
    resource = Resource.objects.create(title="Battle card", kind="battle_card")
    for partner, user, day in ((a, w.a_rep, date(2026, 4, 3)), (a, w.a_rep, date(2026, 5, 3)), (a, w.a_admin, date(2026, 6, 3)),
                               (b, w.b_rep, date(2026, 4, 9)), (None, w.sales_rep, date(2026, 4, 9)),
                               (a, w.a_rep, date(2026, 3, 3))):
        ResourceUse.objects.create(resource=resource, user=user, partner=partner, action="view", at=_at(day))
    course = Course.objects.create(title="Platform basics")
    Completion.objects.create(course=course, partner=a, person_name="Ann", person_key="ann", completed_on=date(2026, 5, 5))
    Completion.objects.create(course=course, partner=b, person_name="Bob", person_key="bob", completed_on=date(2026, 7, 5))
    return w


def _values(period=Q2, **filters):
    f = M.Filters(period=VendorSettings.current().calendar.parse(period), **filters)
    cube = M.build_cube(f)
    return M.compute_all(cube), cube


def test_the_outcome_metrics_are_in_the_registry():
    for m in O.METRICS:
        assert M.METRICS[m.key] is m
        assert m.definition


def test_mdf_is_its_own_cost_line_and_program_cost_adds_overhead(world):
    values, _ = _values()
    assert values["cost_incentives"] == 450_000  # 3,000 + 1,000 + 500
    assert values["cost_mdf"] == 310_000  # 2,000 USD + 1,000 EUR × 1.10
    assert values["program_cost"] == 1_460_000  # + 7,000 overhead
    assert values["incentives"] == values["cost_incentives"] + values["cost_mdf"]  # the ledger total is unchanged


def test_partner_cac_divides_cost_by_new_partner_sourced_customers(world):
    values, _ = _values()
    assert values["new_sourced_customers"] == 2  # X (N1 and N3) and Y (N2, two partners); not E1, L1 or D1
    assert values["partner_cac"] == 730_000


def test_partner_filter_narrows_costs_and_customers(world):
    b, _ = _values(partner_id=world.partner_b.pk)
    assert b["cost_incentives"] == 50_000
    assert b["cost_mdf"] == 110_000
    assert b["new_sourced_customers"] == 0  # B only influenced N2
    assert b["partner_cac"] is None


def test_retention_churn_and_nrr_of_sourced_and_direct_customers(world):
    values, cube = _values()
    r = O.outcomes_of(cube).retention
    assert (r["sourced"].customers, r["sourced"].retained) == (2, 1)  # C1 kept, C2 gone
    assert (r["direct"].customers, r["direct"].retained) == (2, 1)  # C3 churned, C4 kept
    assert values["retention_sourced"] == Decimal("0.5000")
    assert values["churn_sourced"] == Decimal("0.5000")
    assert values["nrr_sourced"] == Decimal("0.8000")  # 12,000 / (10,000 + 5,000)
    assert (r["direct"].revenue_before, r["direct"].revenue_now) == (3_200_000, 1_990_000)
    assert values["nrr_direct"] == Decimal("0.6219")  # (10,000 + 11,000 − 1,100) / (20,000 + 12,000)
    assert values["retention_direct"] == Decimal("0.5000")


def test_retention_for_a_partner_with_no_sourced_customers(world):
    values, _ = _values(partner_id=world.partner_b.pk)
    assert values["retention_sourced"] is None
    assert values["nrr_sourced"] is None
    assert values["retention_direct"] == Decimal("0.5000")  # direct customers are the whole business


def test_time_to_first_registration_and_first_win(world):
    values, _ = _values()
    assert values["ramp_registration"] == Decimal("15.0")  # median of 20 (A) and 10 (B)
    assert values["ramp_win"] == Decimal("14.5")  # A: 10 Apr → E1 20 Apr 10; B: 1 May → N2 20 May 19
    a, _ = _values(partner_id=world.partner_a.pk)
    assert (a["ramp_registration"], a["ramp_win"]) == (Decimal("20.0"), Decimal("10.0"))
    q1, _ = _values(period="2026Q1")
    assert q1["ramp_registration"] is None  # B's January agreement was withdrawn


def test_payout_lag_median_and_p90(world):
    values, _ = _values()
    # N1 10 May → 10 Jun 31 days, E1 20 Apr → 10 Jun 51, N2 20 May → batch paid 30 May 10; the clawback and
    # the July payment are not counted
    assert values["payout_lag_median"] == Decimal("31.0")
    assert values["payout_lag_p90"] == 51
    b, _ = _values(partner_id=world.partner_b.pk)
    assert (b["payout_lag_median"], b["payout_lag_p90"]) == (Decimal("10.0"), 10)


def test_joint_pipeline_velocity(world):
    values, _ = _values()
    # co-sell pipeline 40,000 + 11,000 + 5,000 = 56,000; win rate 2/3; cycle (39 + 35) / 2 = 37 days
    # 56,000 × 2/3 ÷ 37 = 1,009.009… per day
    assert values["joint_velocity"] == 100_901
    a, _ = _values(partner_id=world.partner_a.pk)
    assert a["joint_velocity"] == 57_692  # 45,000 × 1/2 ÷ 39


def test_engagement_depth(world):
    values, _ = _values()
    assert values["engagement_depth"] == Decimal("0.75")  # 3 joint activities on N1, N2, L1, O1
    a, _ = _values(partner_id=world.partner_a.pk)
    assert a["engagement_depth"] == Decimal("0.67")  # 2 on N1, L1, O1


def test_enablement_use_per_active_partner(world):
    values, _ = _values()
    assert values["active_partners"] == 2
    assert values["content_use_per_active_partner"] == Decimal("2.00")  # 4 partner uses / 2
    assert values["completions_per_active_partner"] == Decimal("0.50")
    a, _ = _values(partner_id=world.partner_a.pk)
    assert (a["content_use_per_active_partner"], a["completions_per_active_partner"]) == (Decimal("3.00"), Decimal("1.00"))


def test_no_deals_gives_no_figures_not_errors(cast):
    values, _ = _values()
    for key in ("partner_cac", "retention_sourced", "nrr_direct", "ramp_registration", "payout_lag_median",
                "payout_lag_p90", "joint_velocity", "engagement_depth", "content_use_per_active_partner"):
        assert values[key] is None, key
    assert values["cost_mdf"] == 0 and values["new_sourced_customers"] == 0


def test_all_lost_co_sell_deals_have_no_velocity(cast):
    from covey.cosell.models import Engagement

    opp = _deal("L", "Closed Lost", 100_000, date(2026, 4, 1), date(2026, 5, 1), [(cast.partner_a, "sourced")])
    Engagement.objects.create(opportunity=opp, partner=cast.partner_a, model="co_sell", created_at=opp.created_at)
    values, _ = _values()
    assert values["joint_velocity"] is None
    assert values["new_sourced_customers"] == 0
    assert values["engagement_depth"] == Decimal("0.00")  # one co-sell deal, no joint activity


def test_median_and_percentile_from_a_histogram():
    assert O.median({3: 1, 7: 2}) == Decimal("7.0")
    assert O.median({1: 1, 2: 1, 10: 2}) == Decimal("6.0")
    assert O.percentile({1: 9, 100: 1}, Decimal("0.9")) == 1
    assert O.percentile({1: 8, 100: 2}, Decimal("0.9")) == 100
    assert O.median({}) is None


@pytest.mark.parametrize("key,expected", [
    ("cost_mdf", "mdf"), ("partner_cac", "N3"), ("retention_sourced", "churned"), ("ramp_win", "Beta Resellers"),
    ("payout_lag_p90", "51"), ("engagement_depth", "O1"), ("content_use_per_active_partner", "Alpha Integrations"),
])
def test_each_outcome_metric_lists_its_records(world, client, key, expected):
    client.force_login(world.vendor_admin)
    page = client.get(f"/analytics/metrics/{key}/?period={Q2}")
    assert page.status_code == 200
    assert expected in page.content.decode()
    csv = client.get(f"/analytics/metrics/{key}/?period={Q2}&format=csv")
    assert csv.status_code == 200 and expected in csv.content.decode()


def test_a_partner_sees_only_its_own_outcome_records(world, client):
    client.force_login(world.b_rep)
    page = client.get(f"/analytics/metrics/payout_lag_median/?period={Q2}").content.decode()
    assert "N2" in page and "N1" not in page
    assert client.get(f"/analytics/metrics/partner_cac/?period={Q2}").status_code == 404  # vendor-only metric


def test_dashboard_shows_the_change_from_the_previous_quarter(world, client):
    client.force_login(world.vendor_admin)
    page = client.get(f"/analytics/?period={Q2}").content.decode()
    assert 'data-value="partner_cac"' in page
    assert 'data-change="cost_mdf">+' in page  # 3,100.00 in Q2, none in Q1
    csv = client.get(f"/analytics/?period={Q2}&export=figures").content.decode()
    assert csv.splitlines()[0].endswith("previous_period,change")
    line = next(row for row in csv.splitlines() if ",cost_mdf," in row)
    assert line.startswith("Cost: MDF reimbursed,cost_mdf,3100.00,USD,") and line.endswith(",0.00,3100.00")


def test_the_api_lists_the_outcome_metrics(world, client):
    client.force_login(world.vendor_admin)
    body = client.get(f"/api/analytics/metrics?period={Q2}").json()
    got = {m["key"]: m for m in body["metrics"]}
    assert got["partner_cac"]["value"] == "7300.00" and got["partner_cac"]["value_minor"] == 730_000
    assert got["nrr_sourced"]["value"] == "0.8000"
    client.force_login(world.a_rep)
    mine = {m["key"] for m in client.get(f"/api/analytics/metrics?period={Q2}").json()["metrics"]}
    assert "retention_sourced" in mine and "partner_cac" not in mine and "retention_direct" not in mine


# --- editing targets --------------------------------------------------------------------------


@pytest.fixture
def target(cast):
    from covey.analytics.models import Target

    return Target.objects.create(period_key=Q2, partner=cast.partner_a, measure="win_rate", value=Decimal("0.30"),
                                 created_by=cast.partner_manager)


def _audits(target):
    from covey.core.models import AuditEvent

    return list(AuditEvent.objects.filter(object_id=target.public_id, action="update").values_list("changes", "source"))


def test_a_target_is_edited_on_its_page_and_audited(cast, client, target):
    client.force_login(cast.partner_manager)
    page = client.get(f"/analytics/targets/{target.public_id}/edit/")
    assert page.status_code == 200 and 'value="30"' in page.content.decode()  # win rates typed as a percentage
    bad = client.post(f"/analytics/targets/{target.public_id}/edit/", {"value": "lots"})
    assert bad.status_code == 200 and "Enter a non-negative number" in bad.content.decode()
    response = client.post(f"/analytics/targets/{target.public_id}/edit/", {"value": "45"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.value == Decimal("0.4500")
    assert _audits(target) == [({"value": ["0.3000", "0.4500"]}, "web")]


def test_only_target_setters_edit_and_partners_never_see_the_page(cast, client, target):
    client.force_login(cast.finance)
    assert client.post(f"/analytics/targets/{target.public_id}/edit/", {"value": "45"}).status_code == 403
    client.force_login(cast.a_admin)
    assert client.get(f"/analytics/targets/{target.public_id}/edit/").status_code == 404
    target.refresh_from_db()
    assert target.value == Decimal("0.3000")


def test_a_target_is_edited_through_the_api(cast, target):
    from tests.test_api import as_user, assert_error

    admin = as_user(cast.vendor_admin)
    response = admin.send("PATCH", f"/api/analytics/targets/{target.public_id}", {"value": "0.5"})
    assert response.status_code == 200, response.content
    assert response.json()["value"] == "0.5000"
    assert _audits(target)[-1][1] == "api"
    assert_error(admin.send("PATCH", f"/api/analytics/targets/{target.public_id}", {"value": "-1"}), 422, "validation_error")
    assert admin.send("PATCH", "/api/analytics/targets/tgt_nonesuch", {"value": "1"}).status_code == 404
    assert as_user(cast.finance).send("PATCH", f"/api/analytics/targets/{target.public_id}", {"value": "1"}).status_code == 403
    assert as_user(cast.a_admin).send("PATCH", f"/api/analytics/targets/{target.public_id}", {"value": "1"}).status_code == 404
    target.refresh_from_db()
    assert target.value == Decimal("0.5000")


def test_a_money_target_takes_an_amount(cast, target):
    from covey.analytics import services
    from covey.analytics.models import Target
    from tests.test_api import as_user

    money = Target.objects.create(period_key=Q2, tier_code="gold", measure="revenue_closed", amount_minor=100_000)
    response = as_user(cast.partner_manager).send("PATCH", f"/api/analytics/targets/{money.public_id}", {"value": "2500.50"})
    assert response.json()["value"] == "2500.50"
    with pytest.raises(services.ValidationError):
        services.target_update(actor=cast.partner_manager, target=money, value=Decimal("3"))


def test_a_currency_without_a_rate_is_left_out_and_named(cast):
    from covey.payouts.models import LedgerEntry
    from covey.programs.models import Program

    LedgerEntry.objects.create(program=Program.objects.create(name="P"), partner=cast.partner_a, period_key=Q2,
                               source="mdf", key="m", amount_minor=5_000, currency="GBP", explanation="MDF")
    values, cube = _values()
    assert values["cost_mdf"] == 0
    assert ("GBP", Q2) in cube.missing_rates


# --- the snapshot of the slow figures --------------------------------------------------------------


def test_a_second_view_within_the_snapshot_age_reads_the_kept_figures(world, cast):
    from covey.analytics.models import OutcomeSnapshot

    assert _values()[0]["new_sourced_customers"] == 2
    assert OutcomeSnapshot.objects.filter(key=O.snapshot_key(M.Filters(period=VendorSettings.current().calendar.parse(Q2)))).exists()
    _deal("N4", "Closed Won", 100_000, date(2026, 4, 2), date(2026, 5, 2), [(cast.partner_b, "sourced")])
    assert _values()[0]["new_sourced_customers"] == 2  # kept: at most SNAPSHOT_MAX_AGE old
    OutcomeSnapshot.objects.update(computed_at=datetime.now(UTC) - O.SNAPSHOT_MAX_AGE)  # too old now
    assert _values()[0]["new_sourced_customers"] == 3


def test_the_snapshot_keeps_the_missing_rates_it_went_without(world, cast):
    from covey.payouts.models import FxRate

    FxRate.objects.filter(currency="EUR").delete()
    first = _values()[1].missing_rates
    again = _values()[1].missing_rates  # from the snapshot this time
    assert ("EUR", "2025Q1") in first and ("EUR", "2025Q1") in again  # C4's year-before revenue


def test_the_job_recomputes_this_quarter_the_last_and_the_one_before(world, cast):
    from covey.analytics.models import OutcomeSnapshot
    from covey.core.schedule import run_jobs

    now = datetime(2026, 7, 15, 9, tzinfo=UTC)  # FY2026 Q3: Q2 is the last complete quarter
    assert run_jobs(now, only="analytics.snapshot_outcomes")["analytics.snapshot_outcomes"] == 3
    assert sorted(k.split("|")[0] for k in OutcomeSnapshot.objects.values_list("key", flat=True)) == \
        ["2026Q1", "2026Q2", "2026Q3"]
    _deal("N4", "Closed Won", 100_000, date(2026, 4, 2), date(2026, 5, 2), [(cast.partner_b, "sourced")])
    run_jobs(now, only="analytics.snapshot_outcomes")
    assert _values()[0]["new_sourced_customers"] == 3  # the job's fresh figure, not a stale one
