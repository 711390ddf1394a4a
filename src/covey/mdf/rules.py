"""MDF money rules as plain functions (no database), so they are tested exactly and fast.

Every amount is an int of minor units; shares are Decimal percents. A computation rounds once,
half-up to the minor unit (``ROUND_HALF_UP``), at the point named in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
RATIO_PLACES = Decimal("0.01")


def vendor_share(cost_minor: int, co_investment_percent: Decimal) -> int:
    """The vendor's part of a cost: cost × (100 % − the partner's co-investment), rounded half-up once."""
    if isinstance(cost_minor, bool) or not isinstance(cost_minor, int):
        raise TypeError("cost_minor must be an int of minor units")
    if not isinstance(co_investment_percent, Decimal):
        raise TypeError("co_investment_percent must be a Decimal")
    exact = Decimal(cost_minor) * (HUNDRED - co_investment_percent) / HUNDRED
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def reimbursement(*, approved_minor: int, actual_cost_minor: int, co_investment_percent: Decimal,
                  claimed_minor: int | None = None) -> int:
    """min(approved amount, vendor share of the actual cost[, the amount claimed])."""
    amount = min(approved_minor, vendor_share(actual_cost_minor, co_investment_percent))
    return amount if claimed_minor is None else min(amount, claimed_minor)


@dataclass(frozen=True)
class Roi:
    """What an activity cost the vendor and what it brought, in one currency."""

    cost_minor: int
    leads: int
    pipeline_minor: int
    won_minor: int

    @property
    def cost_per_lead_minor(self) -> int | None:
        """Cost ÷ leads, rounded half-up to the minor unit (None without leads)."""
        if not self.leads:
            return None
        return int((Decimal(self.cost_minor) / Decimal(self.leads)).to_integral_value(rounding=ROUND_HALF_UP))

    @property
    def pipeline_per_unit(self) -> Decimal | None:
        """Pipeline per currency unit spent, to two places, half-up (None when nothing was spent)."""
        if not self.cost_minor:
            return None
        return (Decimal(self.pipeline_minor) / Decimal(self.cost_minor)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)

    @property
    def return_per_unit(self) -> Decimal | None:
        """Won revenue per currency unit spent, to two places, half-up (None when nothing was spent)."""
        if not self.cost_minor:
            return None
        return (Decimal(self.won_minor) / Decimal(self.cost_minor)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)

    def __add__(self, other: Roi) -> Roi:
        return Roi(self.cost_minor + other.cost_minor, self.leads + other.leads,
                   self.pipeline_minor + other.pipeline_minor, self.won_minor + other.won_minor)


ZERO = Roi(0, 0, 0, 0)
