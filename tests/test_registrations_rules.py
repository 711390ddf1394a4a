"""The registration program's rules as pure functions: no database."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from covey.core.money import Money
from covey.registrations import rules
from covey.registrations.rules import AccountFacts, ProgramRules, check

DEFAULT = ProgramRules(minimums={"USD": 1_000_000, "EUR": 1_000_000, "GBP": 1_000_000})
EXPANSION_OK = ProgramRules(minimums=DEFAULT.minimums, allow_expansion=True)
NOTHING_KNOWN = AccountFacts()
ENOUGH = Money(2_500_000, "EUR")


def verdict(value=ENOUGH, deal_type="new", facts=NOTHING_KNOWN, program=DEFAULT):
    return check(program, value=value, deal_type=deal_type, facts=facts)


def test_a_new_deal_above_the_minimum_on_an_unknown_company_passes():
    v = verdict()
    assert v.ok and v.reason == "" and not v.no_minimum_configured


@pytest.mark.parametrize("minor, ok", [(999_999, False), (1_000_000, True), (1_000_001, True)])
def test_the_minimum_is_inclusive(minor, ok):
    v = verdict(Money(minor, "USD"))
    assert v.ok is ok
    if not ok:
        assert v.reason == "The estimated value is below the program minimum of 10,000.00 USD."


def test_a_currency_without_a_minimum_is_accepted_and_flagged():
    v = verdict(Money(100, "JPY"))
    assert v.ok and v.no_minimum_configured


def test_expansion_needs_the_program_to_allow_it():
    assert verdict(deal_type="expansion").reason == rules.NEW_BUSINESS_ONLY
    assert verdict(deal_type="expansion", program=EXPANSION_OK).ok


def test_an_existing_customer_is_refused_unless_expansion_is_allowed_and_chosen():
    customer = AccountFacts(is_customer=True)
    assert verdict(facts=customer).reason == rules.EXISTING_CUSTOMER
    assert verdict(facts=customer, program=EXPANSION_OK).reason == rules.REGISTER_AS_EXPANSION
    assert verdict(facts=customer, program=EXPANSION_OK, deal_type="expansion").ok


def test_an_open_vendor_opportunity_blocks_only_when_the_program_says_so():
    busy = AccountFacts(has_open_vendor_opportunity=True)
    assert verdict(facts=busy).reason == rules.OPEN_VENDOR_OPPORTUNITY
    relaxed = ProgramRules(minimums=DEFAULT.minimums, block_open_vendor_opportunity=False)
    assert verdict(facts=busy, program=relaxed).ok


def test_the_minimum_is_reported_first():
    v = verdict(Money(5, "USD"), deal_type="expansion", facts=AccountFacts(True, True))
    assert v.reason.startswith("The estimated value is below")


def test_possible_duplicates_are_similar_names_under_other_domains_best_first():
    others = [
        SimpleNamespace(company_name="Globex Corporation", claim_domain="globex.com"),
        SimpleNamespace(company_name="Globex GmbH", claim_domain="globex.de"),  # same domain: the claim handles it
        SimpleNamespace(company_name="Globexx", claim_domain="globexx.io"),
        SimpleNamespace(company_name="Initech", claim_domain="initech.com"),
    ]
    found = rules.duplicate_candidates("Globex AG", "globex.de", others)
    names = [o.company_name for o, _ in found]
    assert names[0] == "Globex Corporation" and "Initech" not in names and "Globex GmbH" not in names
    assert all(score >= 90 for _, score in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
