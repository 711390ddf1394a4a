"""The program guide in plain language: what a partner at a tier does and what it gets — no database.

Every sentence is generated from the validated rule parameters (``covey.programs.rules``), so the
guide cannot drift from what the payout engine pays: "Register a deal over 10,000.00 USD and close it
within 90 days of approval: 5% on top of your margin." The page, the PDF and the API all read
``tier_guide``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from covey.core.money import Money
from covey.programs import rules as r

ROLE_WORDS = {
    "sourced": "the partner who sourced it", "referral": "the referring partner", "reseller": "the reseller",
    "distributor": "the distributor", "integrator": "the integrator", "technology": "the technology partner",
    "influencer": "an influencing partner",
}
KIND_WORDS = {kind: label.lower() for kind, label in r.KIND_LABELS.items()}
CREDIT_WORDS = {
    "origination": "The partner who sourced a deal gets full credit for it; a supporting partner gets {share} of it.",
    "split": "Every partner on a deal gets full credit for it.",
    "role_based": "Credit for a deal is shared by role: {shares}.",
}


@dataclass(frozen=True)
class GuideLine:
    """One rule as a partner at one tier reads it."""

    name: str
    kind: str
    text: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TierFacts:
    requirements: tuple[str, ...]
    benefits: tuple[str, ...]


@dataclass
class RuleInput:
    """What the guide needs of a rule: its name, kind and parsed parameters (or the parse errors)."""

    name: str
    kind: str
    params: r.Params | None
    errors: dict = field(default_factory=dict)


def percent(rate: Decimal) -> str:
    """A fraction as a percent without trailing zeros: Decimal("0.125") → "12.5%"."""
    value = (rate * 100).quantize(Decimal("0.0001")).normalize()
    text = f"{value:f}"
    return f"{text}%"


def money(minor: int, currency: str) -> str:
    return Money(minor, currency).plain()


def day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _join(words: Sequence[str], last: str = "or") -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def _common_notes(common: r.Common, kind: str) -> tuple[str, ...]:
    notes = []
    if common.roles and tuple(common.roles) != r.DEFAULT_ROLES.get(kind, ()):
        notes.append(f"Paid when you are {_join([ROLE_WORDS[x] for x in common.roles])} on the deal.")
    if common.requires:
        notes.append(f"Needs {_join([r.EVIDENCE_LABELS[x] for x in common.requires], 'and')}.")
    return tuple(notes)


def _range(band: r.Band, currency: str) -> str:
    if band.to_minor is None:
        return f"{money(band.from_minor, currency)} or more" if band.from_minor else "any size"
    if band.from_minor == 0:
        return f"under {money(band.to_minor, currency)}"
    return f"from {money(band.from_minor, currency)} up to {money(band.to_minor, currency)}"


def describe(rule: RuleInput, tier: str) -> GuideLine | None:
    """``rule`` for a partner at ``tier``; None when it pays that tier nothing (no margin band for it)."""
    p = rule.params
    if p is None:
        return GuideLine(rule.name, rule.kind, "This rule is incomplete and is not shown to partners until it is fixed.")
    text: str
    notes: tuple[str, ...] = ()
    if isinstance(p, r.ResaleMargin):
        parts = [f"{_range(b, p.currency)}: {percent(b.rates[tier])} margin" for b in p.bands if tier in b.rates]
        if not parts:
            return None
        text = "Resell a deal and keep a margin on it by deal size — " + "; ".join(parts) + "."
        notes = _common_notes(p.common, rule.kind)
    elif isinstance(p, r.ReferralCommission):
        if p.mode == "flat_fee":
            text = f"Refer a customer who buys: {money(p.fee_minor, p.currency)} for each new customer."
        elif p.mode == "recurring":
            text = (f"Refer a customer who buys: {percent(p.rate)} of what it pays each month, for up to "
                    f"{p.months} months while it stays a customer.")
        else:
            text = f"Refer a customer who buys: {percent(p.rate)} of its first-year value."
        notes = _common_notes(p.common, rule.kind)
    elif isinstance(p, r.RegistrationBonus):
        over = f" over {money(p.min_value_minor, p.currency)}" if p.min_value_minor else ""
        text = (f"Register a deal{over} and close it within {p.close_within_days} days of approval: "
                f"{percent(p.rate)} on top of your margin.")
        notes = _common_notes(p.common, rule.kind)
        if "approved_registration" not in p.common.requires:
            notes = ("The registration must be approved before the deal closes.", *notes)
    elif isinstance(p, r.Accelerator):
        target = money(p.target_for(tier), p.currency)
        text = (f"Sell more than {target} in a quarter: an extra {percent(p.rate)} on the part above {target} "
                "(the first part earns the usual rates).")
    elif isinstance(p, r.AnnualRebate):
        steps = [f"reach {money(t.from_minor, p.currency)}: {percent(t.rate)}" for t in p.thresholds]
        text = ("At the end of the fiscal year, a rebate on the whole year's sales at the highest level you "
                "reached — " + "; ".join(steps) + ".")
    elif isinstance(p, r.Spiff):
        over = f" over {money(p.min_value_minor, p.currency)}" if p.min_value_minor else ""
        products = f" that includes {_join(list(p.products))}" if p.products else ""
        text = (f"Between {day(p.starts_on)} and {day(p.ends_on)}, close a deal{over}{products}: "
                f"{money(p.amount_minor, p.currency)} for each of your reps on the deal.")
        notes = _common_notes(p.common, rule.kind)
    elif isinstance(p, r.OutcomeBonus):
        pays = money(p.amount_minor, p.currency) if p.amount_minor else f"{percent(p.rate)} of the renewal's value"
        if p.event == "renewal":
            text = f"When a customer you brought in renews: {pays}."
        else:
            within = f" within {p.within_days} days of closing" if p.within_days else ""
            text = f"When a customer you brought in reaches its adoption milestone{within}: {pays}."
        notes = _common_notes(p.common, rule.kind)
    elif isinstance(p, r.Clawback):
        events = _join(["churns" if e == "churn" else "is refunded" for e in p.events])
        text = (f"If a customer {events} within {p.within_days} days of closing, what you earned on that deal is "
                "taken back" + (" (in proportion to the refund)." if "refund" in p.events else "."))
    elif isinstance(p, r.Cap):
        scope = "per deal" if p.scope == "deal" else "per partner in each payout period"
        text = (f"{_join([KIND_WORDS[k] for k in p.applies_to], 'and').capitalize()} pay at most "
                f"{money(p.amount_minor, p.currency)} {scope}.")
    else:  # pragma: no cover - every kind is handled above
        raise TypeError(type(p).__name__)
    return GuideLine(rule.name, rule.kind, text, notes)


def tier_guide(rules: Iterable[RuleInput], tier: str) -> list[GuideLine]:
    return [line for rule in rules if (line := describe(rule, tier)) is not None]


def tier_facts(tier, currency: str) -> TierFacts:
    """What it takes to hold ``tier`` (a ``Tier`` or anything with its fields) and what it brings."""
    req = []
    if tier.min_annual_sales_minor:
        req.append(f"Annual sales of at least {money(tier.min_annual_sales_minor, currency)}")
    if tier.min_certified_people:
        req.append(f"{tier.min_certified_people} certified {'person' if tier.min_certified_people == 1 else 'people'}")
    if tier.min_satisfaction is not None:
        req.append(f"Average customer satisfaction of {tier.min_satisfaction} out of 10 or better")
    if tier.min_deals:
        req.append(f"{tier.min_deals} won deal{'' if tier.min_deals == 1 else 's'} in the last year")
    benefits = []
    if tier.mdf_allowance_minor:
        benefits.append(f"{money(tier.mdf_allowance_minor, currency)} of market development funds each quarter")
    if tier.dedicated_manager:
        benefits.append("A dedicated partner manager")
    if tier.lead_sharing:
        benefits.append("Leads shared with you by our sales team")
    benefits.extend(tier.perks or [])
    return TierFacts(tuple(req), tuple(benefits))


def credit_sentence(credit_model: str, influence_share: Decimal, role_shares: dict) -> str:
    template = CREDIT_WORDS.get(credit_model, "")
    shares = _join([f"{ROLE_WORDS.get(role, role)} {value}%" for role, value in (role_shares or {}).items()], "and")
    return template.format(share=percent(Decimal(influence_share) / 100), shares=shares or "no shares set yet")


def payout_sentence(frequency: str, delay_days: int) -> str:
    every = "every month" if frequency == "monthly" else "every quarter"
    return (f"Statements are issued {every}; what you earn on a deal becomes payable {delay_days} days after "
            "the customer pays.")
