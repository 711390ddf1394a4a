"""Which engagement model a partner deal starts with: pure rule math, no database.

The rules, in the order they are tried (the first that applies wins):

1. A deal below the small-deal threshold of its currency gets the simplified playbook: a small
   deal does not need six stages of joint selling.
2. A strategic partner (type ``strategic_alliance``, or one of the extra type codes the vendor
   names) on a deal at or above the strategic value of its currency co-sells.
3. Otherwise whoever found the deal leads it: partner-sourced → partner-led, vendor-sourced →
   vendor-led.

Thresholds are per currency, in minor units, like the registration program's minimums; there is
no exchange-rate table, so a currency without a configured threshold simply skips rules 1 and 2,
and the reason says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from covey.core.money import Money

PARTNER_LED = "partner_led"
VENDOR_LED = "vendor_led"
CO_SELL = "co_sell"
SIMPLIFIED = "simplified"

STRATEGIC_TYPE = "strategic_alliance"  # always strategic, whatever else is configured

# Defaults: 15,000.00 and 100,000.00 in the three currencies most programs price in.
DEFAULT_SMALL_DEAL = {"USD": 1_500_000, "EUR": 1_500_000, "GBP": 1_500_000}
DEFAULT_STRATEGIC_VALUE = {"USD": 10_000_000, "EUR": 10_000_000, "GBP": 10_000_000}


def default_small_deal() -> dict[str, int]:
    return dict(DEFAULT_SMALL_DEAL)


def default_strategic_value() -> dict[str, int]:
    return dict(DEFAULT_STRATEGIC_VALUE)


@dataclass(frozen=True)
class RuleSet:
    small_deal_minor: Mapping[str, int] = field(default_factory=default_small_deal)
    strategic_minor: Mapping[str, int] = field(default_factory=default_strategic_value)
    strategic_types: frozenset[str] = frozenset()

    def is_strategic(self, partner_types: Iterable[str]) -> bool:
        codes = set(partner_types)
        return STRATEGIC_TYPE in codes or bool(codes & self.strategic_types)


def _money(minor: int, currency: str) -> str:
    return Money(minor, currency).plain()


def default_engagement_model(
    amount: int, currency: str, partner_types: Iterable[str], sourced_by_partner: bool, rules: RuleSet,
) -> tuple[str, str]:
    """``(model, why)`` for a deal of ``amount`` minor units of ``currency``.

    ``why`` is a sentence for people: it is stored with the engagement and shown in the deal room.
    """
    notes = []
    small = rules.small_deal_minor.get(currency)
    strategic = rules.strategic_minor.get(currency)
    if small is None and strategic is None:
        notes.append(f"No deal-size thresholds are set for {currency}.")
    if small is not None and amount < small:
        return SIMPLIFIED, f"Below the small-deal threshold of {_money(small, currency)}: simplified playbook."
    if rules.is_strategic(partner_types):
        if strategic is not None and amount >= strategic:
            return CO_SELL, f"Strategic partner on a deal of at least {_money(strategic, currency)}: true co-sell."
        if strategic is not None:
            notes.append(f"Strategic partner, but below {_money(strategic, currency)}.")
    if sourced_by_partner:
        return PARTNER_LED, " ".join([*notes, "Partner-sourced: the partner leads, the vendor supports."])
    return VENDOR_LED, " ".join([*notes, "Vendor-sourced: the vendor leads, the partner supports."])


def check_thresholds(small_deal_minor: Mapping[str, int], strategic_minor: Mapping[str, int]) -> list[str]:
    """Problems with a pair of threshold maps: a strategic value must sit above the small-deal line,
    or rule 2 could never apply in that currency."""
    problems = []
    for currency, small in sorted(small_deal_minor.items()):
        value = strategic_minor.get(currency)
        if value is not None and value <= small:
            problems.append(
                f"In {currency} the strategic value ({_money(value, currency)}) must be above the "
                f"small-deal threshold ({_money(small, currency)})."
            )
    return problems
