"""Tier standing math with worked numbers (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from covey.tierreviews.standing import Facts, TierSpec, change, checks, next_tier, standing

pytestmark = pytest.mark.pure

SILVER = TierSpec("silver", "Silver", 1)
GOLD = TierSpec("gold", "Gold", 2, min_sales_minor=5_000_000, min_certified=1, min_satisfaction=Decimal("8.0"), min_deals=2)
PLATINUM = TierSpec("platinum", "Platinum", 3, min_sales_minor=20_000_000, min_certified=4, min_deals=6)
TIERS = [PLATINUM, SILVER, GOLD]  # any order: rank decides


def test_a_partner_meeting_every_gold_requirement_stands_at_gold_not_platinum():
    facts = Facts(sales_minor=6_000_000, certified=1, satisfaction=Decimal("8.2"), deals=3)
    assert standing(TIERS, facts) == GOLD
    platinum = {c.measure: c for c in checks(PLATINUM, facts)}
    assert platinum["sales"].shortfall == 14_000_000 and platinum["certified"].shortfall == 3
    assert platinum["deals"].shortfall == 3 and "satisfaction" not in platinum  # Platinum sets no satisfaction minimum


def test_exactly_at_a_threshold_meets_it_and_one_cent_short_does_not():
    at = Facts(sales_minor=5_000_000, certified=1, satisfaction=Decimal("8.0"), deals=2)
    assert standing(TIERS, at) == GOLD
    short = Facts(sales_minor=4_999_999, certified=1, satisfaction=Decimal("8.0"), deals=2)
    assert standing(TIERS, short) == SILVER
    assert [c.measure for c in checks(GOLD, short) if not c.met] == ["sales"]


def test_unmeasured_satisfaction_never_meets_a_satisfaction_requirement():
    facts = Facts(sales_minor=9_000_000, certified=3, satisfaction=None, deals=9)
    satisfaction = next(c for c in checks(GOLD, facts) if c.measure == "satisfaction")
    assert not satisfaction.met and satisfaction.shortfall is None
    assert standing(TIERS, facts) == SILVER
    # Each tier is judged by its own requirements: Platinum sets no satisfaction minimum.
    assert standing([SILVER, PLATINUM], Facts(sales_minor=20_000_000, certified=4, satisfaction=None, deals=6)) == PLATINUM


def test_the_entry_tier_is_the_floor_and_changes_follow_rank():
    nothing = Facts(sales_minor=0, certified=0, satisfaction=None, deals=0)
    assert standing(TIERS, nothing) == SILVER
    assert change(TIERS, "silver", "gold") == "promote"
    assert change(TIERS, "platinum", "gold") == "demote"
    assert change(TIERS, "gold", "gold") == "keep"
    assert change(TIERS, "bronze", "silver") == "move"  # a tier the program no longer offers
    assert next_tier(TIERS, "silver") == GOLD and next_tier(TIERS, "platinum") is None
    with pytest.raises(ValueError):
        standing([], nothing)
