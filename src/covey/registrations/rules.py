"""The program rules a registration must pass, as pure functions (no database).

The service gathers the facts (the program's settings, what the CRM knows about the account) and asks
``check`` for a verdict; the first broken rule gives the reason the partner reads at once. "First
valid registration wins" is not here: it is the claim index in the database (see models).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from covey.core.money import Money

BELOW_MINIMUM = "The estimated value is below the program minimum of {minimum}."
NEW_BUSINESS_ONLY = "The program registers new business only; expansion deals are not accepted."
EXISTING_CUSTOMER = "This company is already a customer, and the program does not accept registrations for existing customers."
REGISTER_AS_EXPANSION = "This company is already a customer; register the deal as an expansion."
OPEN_VENDOR_OPPORTUNITY = "Our sales team is already working an open opportunity with this company."
ALREADY_REGISTERED = "This account is already registered."


@dataclass(frozen=True, slots=True)
class ProgramRules:
    minimums: Mapping[str, int]  # currency -> minor units
    allow_expansion: bool = False
    block_open_vendor_opportunity: bool = True


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the vendor's CRM knows about the company's account (none: it is unknown)."""

    is_customer: bool = False
    has_open_vendor_opportunity: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: str = ""  # empty: every rule passed
    no_minimum_configured: bool = False

    @property
    def ok(self) -> bool:
        return not self.reason


def minimum_reason(rules: ProgramRules, value: Money) -> tuple[str, bool]:
    """(reason or "", whether the currency has no minimum). A currency without one is accepted."""
    minimum = rules.minimums.get(value.currency)
    if minimum is None:
        return "", True
    if value.minor < int(minimum):
        return BELOW_MINIMUM.format(minimum=Money(int(minimum), value.currency)), False
    return "", False


def check(rules: ProgramRules, *, value: Money, deal_type: str, facts: AccountFacts) -> Verdict:
    """The verdict of the program rules, in the order a partner would want to hear them."""
    reason, no_minimum = minimum_reason(rules, value)
    if reason:
        return Verdict(reason, no_minimum)
    if deal_type == "expansion" and not rules.allow_expansion:
        return Verdict(NEW_BUSINESS_ONLY, no_minimum)
    if facts.is_customer:
        if not rules.allow_expansion:
            return Verdict(EXISTING_CUSTOMER, no_minimum)
        if deal_type != "expansion":
            return Verdict(REGISTER_AS_EXPANSION, no_minimum)
    if facts.has_open_vendor_opportunity and rules.block_open_vendor_opportunity:
        return Verdict(OPEN_VENDOR_OPPORTUNITY, no_minimum)
    return Verdict("", no_minimum)


def duplicate_candidates(name: str, domain: str, others, *, threshold: float = 90.0, similarity=None):
    """Possible duplicates among ``others`` (objects with ``company_name`` and ``claim_domain``): a name
    at least ``threshold`` similar under a different domain, best first, as (other, score) pairs."""
    if similarity is None:
        from covey.core.normalise import name_similarity as similarity
    scored = []
    for other in others:
        if other.claim_domain == domain:
            continue
        score = similarity(name, other.company_name)
        if score >= threshold:
            scored.append((other, score))
    scored.sort(key=lambda pair: -pair[1])
    return scored
