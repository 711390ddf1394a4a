"""Joint proposal pricing: line totals, subtotals, effective discount and the non-standard test.

Pure Python (no ORM), so the arithmetic is tested exhaustively without a database.

Design:
- Every amount is ``Money`` (integer minor units). A line's list value ``quantity × unit price`` is
  exact; the vendor discount is a ``Decimal`` percent with at most two decimals, turned into money
  at exactly one point per line (``Money.times`` with ROUND_HALF_UP). Subtotals are sums of the
  already rounded line totals, so the printed lines always add up to the printed subtotal.
- The effective vendor discount is ``(list value − net value) / list value`` of the vendor lines,
  as a percent rounded half-up to two decimals (what a deal desk reads).
- "Non-standard pricing" is any vendor line discounted above the threshold. A single deep line
  discount is what the deal desk must see even when other lines dilute the average, so the test
  is per line, not on the effective discount.
- The threshold defaults to ``DEFAULT_DISCOUNT_THRESHOLD`` (20 %); an installation changes it with
  the Django setting ``COVEY_PROPOSAL_DISCOUNT_THRESHOLD`` (a percent, e.g. ``"25"``), read by
  ``covey.joint.services.discount_threshold``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from covey.core.money import Money, MoneyError

VENDOR_PRODUCT = "vendor_product"
PARTNER_SERVICE = "partner_service"

DEFAULT_DISCOUNT_THRESHOLD = Decimal("20")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class PricingError(ValueError):
    """A discount or quantity that cannot be priced; the message is fit to show."""


def parse_percent(value: Decimal | str | int) -> Decimal:
    """A discount percent between 0 and 100 with at most two decimals, exactly as typed."""
    if isinstance(value, float):
        raise PricingError("Give the discount as a decimal such as 12.5, not a float.")
    try:
        percent = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise PricingError(f"{value!r} is not a percent (expected a number such as 12.5).") from None
    if not percent.is_finite():
        raise PricingError(f"{value!r} is not a percent (expected a number such as 12.5).")
    if percent < 0 or percent > HUNDRED:
        raise PricingError("A discount is between 0 and 100 percent.")
    if percent != percent.quantize(CENT):
        raise PricingError("A discount has at most two decimals (12.25, not 12.255).")
    return percent.quantize(CENT)


@dataclass(frozen=True, slots=True)
class PricedLine:
    """One line as the pricing sees it (built from a ``ProposalLine`` or from test data)."""

    kind: str
    quantity: int
    unit_price: Money
    discount_percent: Decimal = Decimal(0)

    @property
    def list_value(self) -> Money:
        return self.unit_price * self.quantity

    @property
    def discount(self) -> Money:
        """The discount in money: the line's one rounding point (half up, to whole minor units)."""
        if self.kind != VENDOR_PRODUCT or not self.discount_percent:
            return Money.zero(self.unit_price.currency)
        return self.list_value.times(self.discount_percent / HUNDRED, rounding=ROUND_HALF_UP)

    @property
    def total(self) -> Money:
        return self.list_value - self.discount


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    vendor_list: Money  # vendor lines before discount
    vendor_subtotal: Money  # vendor lines after discount
    partner_subtotal: Money
    grand_total: Money
    effective_discount_percent: Decimal  # of the vendor lines, two decimals
    max_discount_percent: Decimal  # deepest vendor line discount

    @property
    def vendor_discount(self) -> Money:
        return self.vendor_list - self.vendor_subtotal


def effective_discount(list_value: Money, net_value: Money) -> Decimal:
    """``(list − net) / list`` as a percent, half-up to two decimals; 0 when there is no list value."""
    if list_value.minor == 0:
        return Decimal("0.00")
    ratio = Decimal(list_value.minor - net_value.minor) * HUNDRED / Decimal(list_value.minor)
    return ratio.quantize(CENT, rounding=ROUND_HALF_UP)


def totals(lines: Iterable[PricedLine], currency: str) -> Totals:
    """Subtotals per side, the grand total and the discounts of a proposal's lines.

    Every line must be in ``currency`` (a proposal has one currency, the opportunity's).
    """
    zero = Money.zero(currency)
    vendor_list = vendor_net = partner = zero
    deepest = Decimal("0.00")
    for line in lines:
        if line.unit_price.currency != currency:
            raise MoneyError(f"a {line.unit_price.currency} line cannot be priced in a {currency} proposal")
        if line.kind == VENDOR_PRODUCT:
            vendor_list += line.list_value
            vendor_net += line.total
            deepest = max(deepest, line.discount_percent)
        elif line.kind == PARTNER_SERVICE:
            partner += line.total
        else:
            raise PricingError(f"unknown line kind {line.kind!r}")
    return Totals(
        currency=currency,
        vendor_list=vendor_list,
        vendor_subtotal=vendor_net,
        partner_subtotal=partner,
        grand_total=vendor_net + partner,
        effective_discount_percent=effective_discount(vendor_list, vendor_net),
        max_discount_percent=Decimal(deepest).quantize(CENT),
    )


def is_non_standard(lines: Iterable[PricedLine], threshold: Decimal = DEFAULT_DISCOUNT_THRESHOLD) -> bool:
    """True when any vendor line is discounted above ``threshold`` percent (deal desk review)."""
    return any(line.kind == VENDOR_PRODUCT and line.discount_percent > threshold for line in lines)
