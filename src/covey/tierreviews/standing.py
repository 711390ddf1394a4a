"""Where a partner stands against a program's tiers: pure rule math, no ORM.

A tier's requirements are optional minimums (annual sales in the program's currency, certified
people, average customer satisfaction, won deals in the last year); a partner qualifies for a tier
when it meets every requirement the tier sets. Its standing is the highest-ranked tier it qualifies
for, and never below the entry tier: being enrolled at all is the entry tier's only condition.
An unmeasured satisfaction never meets a satisfaction requirement — evidence missing is not evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class TierSpec:
    code: str
    name: str
    rank: int
    min_sales_minor: int | None = None
    min_certified: int | None = None
    min_satisfaction: Decimal | None = None
    min_deals: int | None = None


@dataclass(frozen=True)
class Facts:
    """One partner's measured results over the review's year."""

    sales_minor: int
    certified: int
    satisfaction: Decimal | None  # average score 0–10, None when no score was recorded
    deals: int


@dataclass(frozen=True)
class Check:
    measure: str  # "sales" | "certified" | "satisfaction" | "deals"
    required: int | Decimal
    actual: int | Decimal | None
    met: bool

    @property
    def shortfall(self) -> int | Decimal | None:
        """How much is missing (None when unmeasured, 0 when met)."""
        if self.actual is None:
            return None
        return max(self.required - self.actual, 0)


MEASURES = ("sales", "certified", "satisfaction", "deals")


def checks(tier: TierSpec, facts: Facts) -> list[Check]:
    """One check per requirement the tier sets, in a fixed order."""
    pairs = (
        ("sales", tier.min_sales_minor, facts.sales_minor),
        ("certified", tier.min_certified, facts.certified),
        ("satisfaction", tier.min_satisfaction, facts.satisfaction),
        ("deals", tier.min_deals, facts.deals),
    )
    return [Check(measure, required, actual, actual is not None and actual >= required)
            for measure, required, actual in pairs if required is not None]


def qualifies(tier: TierSpec, facts: Facts) -> bool:
    return all(check.met for check in checks(tier, facts))


def standing(tiers: Sequence[TierSpec], facts: Facts) -> TierSpec:
    """The highest tier whose every requirement ``facts`` meet; the entry tier at worst."""
    if not tiers:
        raise ValueError("a program needs at least one tier")
    ranked = sorted(tiers, key=lambda t: t.rank)
    best = ranked[0]
    for tier in ranked[1:]:
        if qualifies(tier, facts):
            best = tier
    return best


def next_tier(tiers: Sequence[TierSpec], current_code: str | None) -> TierSpec | None:
    """The tier ranked just above ``current_code`` (the entry tier when not enrolled); None at the top."""
    ranked = sorted(tiers, key=lambda t: t.rank)
    if current_code is None:
        return ranked[0] if ranked else None
    ranks = [t.code for t in ranked]
    if current_code not in ranks:
        return None
    position = ranks.index(current_code)
    return ranked[position + 1] if position + 1 < len(ranked) else None


def change(tiers: Sequence[TierSpec], current_code: str, proposed_code: str) -> str:
    """"promote", "demote" or "keep" — by rank, so renaming a tier changes nothing; "move" when the
    partner's tier is no longer offered by the program and it has to be placed again."""
    rank = {t.code: t.rank for t in tiers}
    if current_code not in rank:
        return "move"
    if rank[proposed_code] > rank[current_code]:
        return "promote"
    if rank[proposed_code] < rank[current_code]:
        return "demote"
    return "keep"
