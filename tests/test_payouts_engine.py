"""The payout engine (vectorised) against the reference (one line at a time, Decimal), and worked examples.

No database: the engine and the reference read frames and dicts. Hypothesis generates programs (every
rule kind, every credit model, two currencies, tiers) and deal sets (1–3 partners a deal, payments,
churn, refunds, milestones, earlier earnings) and requires the same entries to the cent.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covey.payouts import engine as E
from covey.payouts.reference import Reference, add_months
from covey.programs.rules import parse_rule

pytestmark = pytest.mark.pure

Q3 = E.Quarter("2026Q3", date(2026, 7, 1), date(2026, 9, 30), "FY2026", date(2026, 1, 1), False)
Q4 = E.Quarter("2026Q4", date(2026, 10, 1), date(2026, 12, 31), "FY2026", date(2026, 1, 1), True)
TIERS = {"silver": "Silver", "gold": "Gold"}
FX = {"USD": Decimal(1), "EUR": Decimal("1.0825")}


def version(rules, *, credit_model="origination", influence="10", role_shares=None, delay=30):
    specs = tuple(E.RuleSpec(i, kind, f"rule {i}", parse_rule(kind, params, tiers=set(TIERS)))
                  for i, (kind, params) in enumerate(rules, start=1))
    shares = {role: Decimal(v) / 100 for role, v in (role_shares or {"sourced": "70", "reseller": "20",
                                                                       "influencer": "10"}).items()}
    return E.VersionSpec(id=1, program_id=1, program_name="Partner Program", currency="USD", credit_model=credit_model,
                         influence_share=Decimal(influence) / 100, role_shares=shares, payout_delay_days=delay,
                         rules=specs, tier_names=TIERS)


def run_both(v, quarter, *, deals, links, tiers, events=(), earned=(), fx=FX):
    facts = E.Facts(E.frame(list(deals), E.DEALS_SCHEMA), E.frame(list(links), E.LINKS_SCHEMA),
                    E.frame([{"partner_id": p, "tier": t} for p, t in tiers.items()], E.TIERS_SCHEMA),
                    E.frame(list(events), E.EVENTS_SCHEMA), E.frame(list(earned), E.EARNED_SCHEMA), fx)
    out = E.compute(v, quarter, facts)
    engine = {row["key"]: (row["partner_id"], row["amount_minor"], row["currency"], row["source"])
              for row in out.iter_rows(named=True)}
    assert len(engine) == out.height, "two entries share a key"
    reference = Reference(v, quarter, deals=deals, links=links, tiers=tiers, events=events, earned=earned, fx=fx).run()
    return out, engine, reference


def deal(opp_id, amount, *, currency="USD", closed=date(2026, 8, 10), type_="new", products=()):
    return {"opp_id": opp_id, "opp_ref": f"opp_{opp_id:04d}", "account": f"Customer {opp_id}", "amount_minor": amount,
            "currency": currency, "close_date": closed, "type": type_, "products": list(products)}


def link(opp_id, partner, role, *, order=1, primary=False, rep=None, registered=None, demo=False):
    return {"opp_id": opp_id, "link_order": order, "partner_id": partner, "role": role, "is_primary": primary,
            "rep_id": rep, "registered_on": registered, "joint_demo": demo}


# --- worked examples -------------------------------------------------------------------------------


def test_gold_reseller_closes_ten_thousand_at_thirty_percent_margin():
    v = version([("resale_margin", {"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "30", "silver": "20"}}]})])
    out, engine, reference = run_both(v, Q3, deals=[deal(1, 1_000_000)],
                                      links=[link(1, 7, "reseller", primary=True)], tiers={7: "gold"})
    assert engine == reference == {"r1:p7:o1": (7, 300_000, "USD", "deal")}
    row = out.row(0, named=True)
    assert row["explanation"] == ("30% reseller margin (Gold, deals of any size) on 10,000.00 USD of Customer 1 "
                                  "(opp_0001) = 3,000.00 USD")
    # Earned on a deal: payable 30 days after the customer pays (statements check the payment).
    assert (row["payable_on"], row["awaits_payment"], row["payout_delay_days"]) == (date(2026, 8, 10), True, 30)


def test_referral_commission_explains_itself_and_waits_for_the_customer_to_pay():
    v = version([("referral_commission", {"mode": "percent_first_year", "currency": "USD", "rate": "10"})])
    out, engine, reference = run_both(v, Q3, deals=[deal(1, 4_800_000)], links=[link(1, 3, "referral")], tiers={})
    assert engine == reference == {"r1:p3:o1": (3, 480_000, "USD", "deal")}
    row = out.row(0, named=True)
    assert row["explanation"] == ("10% referral commission on first-year value 48,000.00 USD of Customer 1 (opp_0001) "
                                  "= 4,800.00 USD")
    assert row["awaits_payment"]


def test_accelerator_pays_only_on_the_portion_above_target():
    v = version([("accelerator", {"currency": "USD", "rate": "5", "target": "100000", "targets": {"gold": "150000"}})])
    deals = [deal(1, 12_000_000), deal(2, 8_000_000)]
    links = [link(1, 7, "sourced"), link(2, 7, "sourced"), link(1, 8, "influencer", order=2)]
    _, engine, reference = run_both(v, Q3, deals=deals, links=links, tiers={7: "gold", 8: "silver"})
    # Partner 7 (gold): 200,000 credited, target 150,000 → 5% of 50,000 = 2,500. Partner 8: 10% of
    # 120,000 = 12,000 credited, below the 100,000 default target → nothing.
    assert engine == reference == {"r1:p7:2026Q3": (7, 250_000, "USD", "accelerator")}


def test_role_based_credit_always_adds_up_to_the_deal():
    v = version([("referral_commission", {"mode": "percent_first_year", "currency": "USD", "rate": "100",
                                          "roles": ["sourced", "reseller", "influencer"]})],
                credit_model="role_based", role_shares={"sourced": "1", "reseller": "1", "influencer": "1"})
    links = [link(1, 1, "sourced", order=1), link(1, 2, "reseller", order=2), link(1, 3, "influencer", order=3)]
    _, engine, reference = run_both(v, Q3, deals=[deal(1, 100)], links=links, tiers={})
    assert engine == reference
    assert sorted(a for _, a, _, _ in engine.values()) == [33, 33, 34]  # a third each; the cent left goes first


def test_a_refund_within_the_window_takes_back_what_the_deal_earned_in_proportion():
    v = version([("resale_margin", {"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "30"}}]}),
                 ("clawback", {"within_days": "90", "events": ["refund"]})])
    events = [{"event_id": 9, "opp_id": 1, "kind": "refunded", "occurred_on": date(2026, 9, 1), "amount_minor": 250_000}]
    _, engine, reference = run_both(v, Q3, deals=[deal(1, 1_000_000)], links=[link(1, 7, "reseller")],
                                    tiers={7: "gold"}, events=events)
    assert engine == reference
    assert engine["r2:p7:o1:e9:USD"] == (7, -75_000, "USD", "clawback")  # a quarter refunded: 750.00 of 3,000.00


def test_a_deal_in_euros_is_measured_against_dollar_bands_with_the_quarters_rate():
    v = version([("resale_margin", {"currency": "USD", "bands": [{"from": "0", "to": "50000", "rates": {"gold": "20"}},
                                                                   {"from": "50000", "rates": {"gold": "30"}}]})])
    # 47,000 EUR × 1.0825 = 50,877.50 USD: the upper band.
    _, engine, reference = run_both(v, Q3, deals=[deal(1, 4_700_000, currency="EUR")], links=[link(1, 7, "reseller")],
                                    tiers={7: "gold"})
    assert engine == reference == {"r1:p7:o1": (7, 1_410_000, "EUR", "deal")}


def test_a_missing_exchange_rate_stops_the_run_with_the_currency_named():
    v = version([("resale_margin", {"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "20"}}]})])
    with pytest.raises(E.MissingRates) as caught:
        run_both(v, Q3, deals=[deal(1, 100, currency="GBP")], links=[link(1, 7, "reseller")], tiers={7: "gold"})
    assert caught.value.currencies == ["GBP"] and "nothing was posted" in str(caught.value)


def test_recurring_commission_stops_when_the_customer_churns():
    v = version([("referral_commission", {"mode": "recurring", "currency": "USD", "rate": "12", "months": "12"})])
    events = [{"event_id": 1, "opp_id": 1, "kind": "churned", "occurred_on": date(2026, 9, 5), "amount_minor": None}]
    _, engine, reference = run_both(v, Q3, deals=[deal(1, 1_200_000, closed=date(2026, 5, 5))],
                                    links=[link(1, 4, "referral")], tiers={}, events=events)
    assert engine == reference
    # Months 2 (5 July) and 3 (5 August) fall in Q3 before the churn on 5 September; month 4 does not.
    assert sorted(engine) == ["r1:p4:o1:m2", "r1:p4:o1:m3"]
    assert {a for _, a, _, _ in engine.values()} == {12_000}  # 12% × 12,000.00 / 12


def test_add_months_keeps_the_day_or_the_last_day_of_a_short_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_money_text_matches_plain_money_formatting():
    from covey.core.money import Money

    values = [0, 5, -5, 99, 100, 123456, -100000000, 12345678901234]
    frame = pl.DataFrame({"m": values, "c": ["USD"] * len(values), "e": [2] * len(values)}).with_columns(
        E.money_text(pl.col("m"), pl.col("c"), pl.col("e")).alias("t"))
    assert frame["t"].to_list() == [Money(v, "USD").plain() for v in values]
    jpy = pl.DataFrame({"m": [1234567], "c": ["JPY"], "e": [0]}).with_columns(
        E.money_text(pl.col("m"), pl.col("c"), pl.col("e")).alias("t"))
    assert jpy["t"].to_list() == ["1,234,567 JPY"]


# --- the engine equals the reference for generated programs and deals ------------------------------

ROLES = ("sourced", "referral", "reseller", "distributor", "integrator", "technology", "influencer")
money = st.integers(min_value=0, max_value=60_000).map(lambda major: f"{major}.{major % 100:02d}")
percent = st.decimals(min_value="0.5", max_value=60, places=2).map(str)


@st.composite
def rule_params(draw, kind):
    cur = draw(st.sampled_from(["USD", "EUR"]))
    roles = draw(st.lists(st.sampled_from(ROLES), min_size=2, max_size=6, unique=True))
    requires = draw(st.sampled_from([[], [], [], ["approved_registration"], ["joint_demo"]]))
    if kind == "resale_margin":
        cuts = sorted(draw(st.lists(st.integers(1, 300_000), min_size=0, max_size=2, unique=True)))
        edges = [0, *cuts]
        bands = []
        for i, start in enumerate(edges):
            band = {"from": str(start), "rates": {t: draw(percent) for t in draw(st.lists(
                st.sampled_from(sorted(TIERS)), min_size=1, max_size=2, unique=True))}}
            if i + 1 < len(edges):
                band["to"] = str(edges[i + 1])
            bands.append(band)
        return {"currency": cur, "bands": bands, "roles": roles, "requires": requires}
    if kind == "referral_commission":
        mode = draw(st.sampled_from(["percent_first_year", "flat_fee", "recurring"]))
        params = {"mode": mode, "currency": cur, "roles": roles, "requires": requires}
        if mode == "flat_fee":
            params["fee"] = draw(money.filter(lambda m: m != "0.00"))
        else:
            params["rate"] = draw(percent)
        if mode == "recurring":
            params["months"] = str(draw(st.integers(1, 14)))
        return params
    if kind == "registration_bonus":
        return {"currency": cur, "rate": draw(percent), "min_value": draw(money), "roles": roles,
                "close_within_days": str(draw(st.integers(1, 200)))}
    if kind == "accelerator":
        return {"currency": cur, "rate": draw(percent), "target": draw(money),
                "targets": {t: draw(money) for t in draw(st.lists(st.sampled_from(sorted(TIERS)), unique=True))}}
    if kind == "annual_rebate":
        starts = sorted(draw(st.lists(st.integers(1, 400_000), min_size=1, max_size=3, unique=True)))
        return {"currency": cur, "thresholds": [{"from": str(s), "rate": draw(percent)} for s in starts]}
    if kind == "spiff":
        start = date(2026, 6, 1) + timedelta(days=draw(st.integers(0, 60)))
        return {"currency": cur, "amount": draw(money.filter(lambda m: m != "0.00")), "starts_on": start.isoformat(),
                "ends_on": (start + timedelta(days=draw(st.integers(0, 120)))).isoformat(), "roles": roles,
                "products": draw(st.lists(st.sampled_from(["CORE", "ADDON", "DATA"]), max_size=2, unique=True)),
                "min_value": draw(money)}
    if kind == "outcome_bonus":
        event = draw(st.sampled_from(["renewal", "adoption_milestone"]))
        params = {"event": event, "currency": cur, "roles": roles}
        if event == "renewal" and draw(st.booleans()):
            params["rate"] = draw(percent.filter(lambda p: Decimal(p) > 0))
        else:
            params["amount"] = draw(money.filter(lambda m: m != "0.00"))
            params["within_days"] = str(draw(st.integers(0, 400)))
        return params
    if kind == "clawback":
        return {"within_days": str(draw(st.integers(1, 400))),
                "events": draw(st.lists(st.sampled_from(["churn", "refund"]), min_size=1, unique=True))}
    return {"scope": draw(st.sampled_from(["deal", "partner_period"])), "currency": cur,
            "amount": str(draw(st.integers(0, 5_000))),
            "applies_to": draw(st.lists(st.sampled_from(["resale_margin", "referral_commission", "registration_bonus",
                                                          "accelerator", "spiff", "outcome_bonus"]),
                                        min_size=3, max_size=6, unique=True))}


KINDS = ("resale_margin", "referral_commission", "registration_bonus", "accelerator", "annual_rebate", "spiff",
         "outcome_bonus", "clawback", "cap")


@st.composite
def programs(draw):
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    rules = [(kind, draw(rule_params(kind))) for kind in kinds]
    model = draw(st.sampled_from(["origination", "split", "role_based"]))
    shares = {role: str(draw(st.integers(0, 80))) for role in draw(st.lists(st.sampled_from(ROLES), min_size=1,
                                                                             max_size=4, unique=True))}
    return version(rules, credit_model=model, influence=draw(percent), role_shares=shares,
                   delay=draw(st.integers(0, 60)))


@st.composite
def deal_sets(draw):
    count = draw(st.integers(3, 12))
    deals, links, events, earned = [], [], [], []
    order = 0
    for opp in range(1, count + 1):
        # Mostly in the second half (the quarters run), some earlier (recurring, rebates, clawbacks).
        closed = date(2026, 1, 1) + timedelta(days=draw(st.one_of(st.integers(181, 364), st.integers(181, 364),
                                                                  st.integers(0, 364))))
        amount = draw(st.integers(50_000, 30_000_000))
        deals.append(deal(opp, amount, currency=draw(st.sampled_from(["USD", "EUR"])), closed=closed,
                          type_=draw(st.sampled_from(["new", "expansion", "renewal"])),
                          products=draw(st.lists(st.sampled_from(["CORE", "ADDON", "DATA"]), max_size=2, unique=True))))
        partners = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3, unique=True))
        primary = draw(st.sampled_from(partners))
        for partner in partners:
            order += 1
            links.append(link(opp, partner, draw(st.sampled_from(ROLES)), order=order, primary=partner == primary,
                              rep=draw(st.one_of(st.none(), st.integers(100, 103))),
                              registered=draw(st.one_of(st.none(), st.just(closed - timedelta(days=draw(st.integers(0, 150))))))
                              , demo=draw(st.booleans())))
            if draw(st.integers(0, 4)) == 0:
                earned.append({"partner_id": partner, "opp_id": opp, "currency": deals[-1]["currency"],
                               "amount_minor": draw(st.integers(-5_000, 500_000))})
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["paid", "churned", "refunded", "adoption"]))
            events.append({"event_id": len(events) + 1, "opp_id": opp, "kind": kind,
                           "occurred_on": closed + timedelta(days=draw(st.integers(0, 120))),
                           "amount_minor": draw(st.integers(0, amount)) if kind in ("refunded", "paid") else None})
    tiers = {p: draw(st.sampled_from(sorted(TIERS))) for p in range(1, 6) if draw(st.integers(0, 4))}
    return deals, links, events, earned, tiers


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs(), deal_sets(), st.sampled_from([Q3, Q4]))
def test_the_engine_pays_exactly_what_the_reference_pays(v, data, quarter):
    deals, links, events, earned, tiers = data
    _, engine, reference = run_both(v, quarter, deals=deals, links=links, tiers=tiers, events=events, earned=earned)
    assert engine == reference


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(deal_sets(), st.dictionaries(st.sampled_from(ROLES), st.integers(0, 90), min_size=1))
def test_role_based_credit_sums_to_every_deal(data, shares):
    deals, links, *_ = data
    v = version([("referral_commission", {"mode": "percent_first_year", "currency": "USD", "rate": "100",
                                          "roles": list(ROLES)})],
                credit_model="role_based", role_shares={r: str(s) for r, s in shares.items()})
    out, engine, reference = run_both(v, Q3, deals=deals, links=links, tiers={}, events=[], earned=[])
    assert engine == reference
    by_deal = out.group_by("opp_id").agg(pl.col("amount_minor").sum())
    for opp_id, total in by_deal.iter_rows():
        d = next(x for x in deals if x["opp_id"] == opp_id)
        present = {lk["role"] for lk in links if lk["opp_id"] == opp_id}
        assert total == (d["amount_minor"] if any(shares.get(r, 0) for r in present) else 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs(), deal_sets(), st.integers(2, 4))
def test_computing_in_parts_by_partner_gives_the_same_entries(v, data, parts):
    deals, links, events, earned, tiers = data
    facts = E.Facts(E.frame(deals, E.DEALS_SCHEMA), E.frame(links, E.LINKS_SCHEMA),
                    E.frame([{"partner_id": p, "tier": t} for p, t in tiers.items()], E.TIERS_SCHEMA),
                    E.frame(events, E.EVENTS_SCHEMA), E.frame(earned, E.EARNED_SCHEMA), FX)
    whole = E.compute(v, Q3, facts).sort("key")
    pieces = list(E.compute_chunks(v, Q3, facts, chunks=parts))
    assert sorted(p for members, _ in pieces for p in members) == sorted({lk["partner_id"] for lk in links})
    joined = pl.concat([entries for _, entries in pieces]).sort("key")
    assert joined.equals(whole)
