"""Joint proposal pricing as pure arithmetic: no database, exact money, one rounding point per line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from covey.core.money import Money, MoneyError
from covey.joint.rules import (
    DEFAULT_DISCOUNT_THRESHOLD,
    PARTNER_SERVICE,
    VENDOR_PRODUCT,
    PricedLine,
    PricingError,
    effective_discount,
    is_non_standard,
    parse_percent,
    totals,
)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def vendor(quantity: int, unit_minor: int, percent: str = "0", currency: str = "USD") -> PricedLine:
    return PricedLine(VENDOR_PRODUCT, quantity, Money(unit_minor, currency), Decimal(percent))


def service(quantity: int, unit_minor: int, currency: str = "USD") -> PricedLine:
    return PricedLine(PARTNER_SERVICE, quantity, Money(unit_minor, currency))


def test_worked_example_platform_with_partner_rollout():
    # Three platform licences at 12,000.00 list, 15 % off, plus a partner's 10-day rollout at 1,250.00 a day.
    lines = [vendor(3, 1_200_000, "15"), service(10, 125_000)]
    t = totals(lines, "USD")
    assert lines[0].discount == usd(540_000)  # 5,400.00 off 36,000.00
    assert t.vendor_list == usd(3_600_000)
    assert t.vendor_subtotal == usd(3_060_000)
    assert t.partner_subtotal == usd(1_250_000)
    assert t.grand_total == usd(4_310_000)
    assert t.vendor_discount == usd(540_000)
    assert t.effective_discount_percent == Decimal("15.00")
    assert not is_non_standard(lines)


def test_a_discount_of_half_a_cent_rounds_up_once_per_line():
    # 0.05 at 10 % is 0.005 off: half up makes it one cent (half even would make it nothing).
    line = vendor(1, 5, "10")
    assert line.discount == usd(1)
    assert line.total == usd(4)
    # 0.15 at 10 % is 0.015 off: two cents, total 0.13.
    assert vendor(1, 15, "10").total == usd(13)


def test_lines_are_rounded_before_they_are_summed_so_the_printed_lines_add_up():
    lines = [vendor(1, 5, "10"), vendor(1, 5, "10"), vendor(1, 5, "10")]
    t = totals(lines, "USD")
    assert t.vendor_subtotal == sum((ln.total for ln in lines), usd(0)) == usd(12)


def test_currencies_without_minor_units_round_to_whole_yen():
    line = vendor(1, 999, "12.5", currency="JPY")  # 124.875 yen off → 125
    assert line.discount == Money(125, "JPY")
    assert totals([line], "JPY").grand_total == Money(874, "JPY")


def test_partner_services_are_never_discounted():
    line = PricedLine(PARTNER_SERVICE, 2, usd(10_000), Decimal("50"))
    assert line.discount == usd(0)
    assert line.total == usd(20_000)


def test_effective_discount_is_over_all_vendor_lines_but_one_deep_line_is_non_standard():
    lines = [vendor(1, 1_000_000, "0"), vendor(1, 1_000_000, "30")]
    t = totals(lines, "USD")
    assert t.effective_discount_percent == Decimal("15.00")
    assert t.max_discount_percent == Decimal("30.00")
    assert is_non_standard(lines)


def test_the_threshold_itself_is_standard_and_anything_above_is_not():
    assert DEFAULT_DISCOUNT_THRESHOLD == Decimal("20")
    assert not is_non_standard([vendor(1, 100, "20")])
    assert is_non_standard([vendor(1, 100, "20.01")])
    assert not is_non_standard([vendor(1, 100, "24")], threshold=Decimal("25"))


def test_effective_discount_rounds_half_up_to_two_decimals():
    assert effective_discount(usd(3), usd(2)) == Decimal("33.33")
    assert effective_discount(usd(200_000), usd(199_999)) == Decimal("0.00")  # 0.0005 % → 0.00
    assert effective_discount(usd(8), usd(7)) == Decimal("12.50")
    assert effective_discount(usd(0), usd(0)) == Decimal("0.00")


def test_a_proposal_has_one_currency():
    with pytest.raises(MoneyError):
        totals([vendor(1, 100, currency="EUR")], "USD")


def test_an_empty_proposal_totals_zero():
    t = totals([], "EUR")
    assert t.grand_total == Money(0, "EUR") and t.effective_discount_percent == Decimal("0.00")


@pytest.mark.parametrize("typed, expected", [("12.5", Decimal("12.50")), ("0", Decimal("0.00")), ("100", Decimal("100.00")),
                                             (" 7.25 ", Decimal("7.25")), (15, Decimal("15.00"))])
def test_percents_are_read_exactly(typed, expected):
    assert parse_percent(typed) == expected


@pytest.mark.parametrize("typed", ["12.555", "-1", "100.01", "abc", "NaN", "Infinity", "", 12.5])
def test_unusable_percents_are_refused_with_a_message(typed):
    with pytest.raises(PricingError) as caught:
        parse_percent(typed)
    assert str(caught.value)


@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from([VENDOR_PRODUCT, PARTNER_SERVICE]),
            st.integers(1, 10_000),
            st.integers(0, 10**9),
            st.integers(0, 10_000).map(lambda n: Decimal(n) / 100),
        ),
        max_size=8,
    )
)
def test_totals_always_reconcile(lines):
    priced = [PricedLine(kind, q, usd(unit), pct if kind == VENDOR_PRODUCT else Decimal(0)) for kind, q, unit, pct in lines]
    t = totals(priced, "USD")
    assert t.grand_total == t.vendor_subtotal + t.partner_subtotal
    assert t.vendor_subtotal + t.vendor_discount == t.vendor_list
    assert usd(0) <= t.vendor_subtotal <= t.vendor_list
    # Each line's discount is rounded once (at most half a minor unit off), so on small amounts the
    # overall percent may exceed the deepest line's by that rounding, never by more.
    vendor_lines = sum(1 for kind, *_ in lines if kind == VENDOR_PRODUCT)
    slack = Decimal(50 * vendor_lines) / t.vendor_list.minor if t.vendor_list.minor else Decimal(0)
    assert Decimal(0) <= t.effective_discount_percent <= t.max_discount_percent + slack + Decimal("0.01")
