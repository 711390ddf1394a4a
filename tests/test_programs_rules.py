"""Rule parameters: what a valid rule looks like, and the messages a bad one gets (named by field)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from covey.programs.rules import PERCENT_RANGE, REQUIRED, RuleInvalid, parse_rule, rate_ppm

pytestmark = pytest.mark.pure
TIERS = {"silver", "gold"}


def errors_of(kind, params, tiers=TIERS):
    with pytest.raises(RuleInvalid) as caught:
        parse_rule(kind, params, tiers=tiers)
    return caught.value.errors


def test_a_margin_by_tier_and_band_parses_into_exact_rates_and_minor_units():
    rule = parse_rule("resale_margin", {"currency": "usd", "bands": [
        {"from": "50000", "rates": {"gold": "35"}},
        {"from": "0", "to": "50000", "rates": {"gold": "30", "silver": "20.25"}},
    ]}, tiers=TIERS)
    assert rule.currency == "USD"
    assert [b.from_minor for b in rule.bands] == [0, 5_000_000]  # sorted by start
    assert rule.band_for(4_999_999).rates == {"gold": Decimal("0.30"), "silver": Decimal("0.2025")}
    assert rule.band_for(5_000_000).rates["gold"] == Decimal("0.35")
    assert rate_ppm(rule.bands[0].rates["silver"]) == 202_500
    assert rule.common.roles == ("reseller", "distributor")


def test_overlapping_bands_are_refused_naming_the_band():
    errors = errors_of("resale_margin", {"currency": "USD", "bands": [
        {"from": "0", "to": "60000", "rates": {"gold": "30"}},
        {"from": "50000", "rates": {"gold": "35"}},
    ]})
    assert errors == {"bands.1.from": "This band overlaps band 1; bands must not overlap."}


def test_negative_and_out_of_range_rates_are_refused():
    assert errors_of("referral_commission", {"mode": "percent_first_year", "currency": "USD", "rate": "-5"}) == {
        "rate": PERCENT_RANGE}
    assert errors_of("referral_commission", {"mode": "percent_first_year", "currency": "USD", "rate": "150"}) == {
        "rate": PERCENT_RANGE}
    assert "rate" in errors_of("referral_commission", {"mode": "recurring", "currency": "USD", "rate": "1.23456",
                                                       "months": "12"})
    assert errors_of("referral_commission", {"mode": "percent_first_year", "currency": "USD", "rate": "abc"})["rate"]


def test_a_cap_below_zero_and_an_unknown_currency_are_refused():
    assert errors_of("cap", {"scope": "deal", "currency": "USD", "amount": "-10"}) == {
        "amount": "An amount cannot be negative."}
    errors = errors_of("cap", {"scope": "deal", "currency": "XYZ", "amount": "10"})
    assert errors == {"currency": "'XYZ' is not an ISO 4217 currency code such as USD or EUR."}


def test_a_rebate_threshold_in_another_currency_is_refused():
    errors = errors_of("annual_rebate", {"currency": "USD", "thresholds": [
        {"from": "100000", "rate": "2"}, {"from": "500000", "currency": "EUR", "rate": "4"}]})
    assert errors == {"thresholds.1.from": "This threshold is in EUR, but the rebate is in USD; "
                                           "give every threshold in the rule's currency."}


def test_thresholds_must_rise_and_rates_name_existing_tiers():
    assert errors_of("annual_rebate", {"currency": "USD", "thresholds": [
        {"from": "500000", "rate": "4"}, {"from": "100000", "rate": "2"}]}) == {
        "thresholds.1.from": "Thresholds must rise from one to the next."}
    assert errors_of("resale_margin", {"currency": "USD", "bands": [{"from": "0", "rates": {"platinum": "40"}}]}) == {
        "bands.0.rates.platinum": "There is no tier 'platinum' in this version."}


def test_every_missing_field_is_reported_at_once():
    errors = errors_of("spiff", {})
    assert errors == {"currency": REQUIRED, "amount": REQUIRED, "starts_on": REQUIRED, "ends_on": REQUIRED}


def test_a_spiff_that_ends_before_it_starts_is_refused():
    errors = errors_of("spiff", {"currency": "USD", "amount": "500", "starts_on": "2026-09-30", "ends_on": "2026-07-01"})
    assert errors == {"ends_on": "The SPIFF cannot end before it starts."}


def test_a_spiff_parses_its_date_box_and_products():
    rule = parse_rule("spiff", {"currency": "EUR", "amount": "250", "starts_on": "2026-07-01", "ends_on": "2026-09-30",
                                "products": ["CORE", " "], "min_value": "10000"})
    assert (rule.amount_minor, rule.starts_on, rule.ends_on, rule.products, rule.min_value_minor) == (
        25_000, date(2026, 7, 1), date(2026, 9, 30), ("CORE",), 1_000_000)


def test_an_outcome_bonus_needs_an_amount_or_a_percent_but_not_both():
    assert errors_of("outcome_bonus", {"event": "renewal", "currency": "USD"}) == {"amount": "Give an amount or a percent."}
    assert errors_of("outcome_bonus", {"event": "renewal", "currency": "USD", "amount": "100", "rate": "5"}) == {
        "rate": "Give an amount or a percent, not both."}


def test_unknown_kinds_roles_and_evidence_are_refused():
    assert errors_of("mystery", {}) == {"kind": "Unknown rule kind 'mystery'; choose from resale_margin, "
                                                "referral_commission, registration_bonus, accelerator, annual_rebate, "
                                                "spiff, outcome_bonus, clawback, cap."}
    errors = errors_of("registration_bonus", {"currency": "USD", "rate": "5", "roles": ["wizard"],
                                              "requires": ["signed_napkin"]})
    assert set(errors) == {"roles", "requires"}


def test_parameters_that_are_not_an_object_are_refused():
    assert errors_of("cap", ["not", "a", "dict"])["params"] == "The parameters must be an object."
