"""Money is exact: integer minor units, no floats, explicit rounding, splits that sum to the whole."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from covey.core.money import (
    Money,
    MoneyError,
    all_currencies,
    currency_exponent,
    parse_amount,
    split,
)


def test_money_refuses_a_float_amount():
    with pytest.raises(MoneyError):
        Money(10.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money.from_decimal(10.5, "USD")  # type: ignore[arg-type]


def test_money_refuses_a_float_multiplier_and_rate():
    with pytest.raises(MoneyError):
        Money(100, "USD") * 1.5  # type: ignore[operator]
    with pytest.raises(MoneyError):
        Money(100, "USD").times(0.1, rounding=ROUND_HALF_UP)  # type: ignore[arg-type]


def test_unknown_currency_is_refused():
    with pytest.raises(MoneyError, match="ISO 4217"):
        Money(100, "usd")
    with pytest.raises(MoneyError):
        Money(100, "XAU")  # gold is not a payout currency
    with pytest.raises(MoneyError):
        Money(100, "DEM")  # withdrawn in 2002


def test_choice_lists_offer_only_currencies_in_use():
    currencies = all_currencies()
    assert {"USD", "EUR", "JPY", "KWD", "CHF"} <= set(currencies)
    assert not {"DEM", "FRF", "XAU", "XTS"} & set(currencies)


def test_minor_unit_exponents_follow_iso_4217():
    assert currency_exponent("USD") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("KWD") == 3
    assert currency_exponent("EUR") == 2


def test_from_decimal_is_exact_and_refuses_hidden_rounding():
    assert Money.from_decimal(Decimal("48000.00"), "USD").minor == 4_800_000
    assert Money.from_decimal("1234", "JPY").minor == 1234
    with pytest.raises(MoneyError, match="more than 2 decimal places"):
        Money.from_decimal("1.005", "USD")
    assert Money.from_decimal("1.005", "USD", rounding=ROUND_HALF_UP).minor == 101
    assert Money.from_decimal("1.005", "USD", rounding=ROUND_HALF_EVEN).minor == 100


def test_ten_percent_commission_on_first_year_value():
    first_year = Money.from_decimal("48000.00", "USD")
    assert first_year.times(Decimal("0.10"), rounding=ROUND_HALF_UP) == Money(480_000, "USD")
    assert str(Money(480_000, "USD")) == "4,800.00 USD"


def test_currencies_do_not_mix():
    with pytest.raises(MoneyError, match="USD with EUR"):
        Money(1, "USD") + Money(1, "EUR")


@pytest.mark.parametrize(
    "text, minor",
    [("125000", 12_500_000), ("1,250.50", 125_050), ("  42.1 ", 4210), ("-3.00", -300), ("0", 0)],
)
def test_parse_amount_accepts_what_people_type(text, minor):
    assert parse_amount(text, "USD").minor == minor


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1e5", "12,34", "NaN", "Infinity", "1.234"])
def test_parse_amount_refuses_ambiguous_input(text):
    with pytest.raises(MoneyError):
        parse_amount(text, "USD")


def test_split_gives_leftover_cents_to_the_largest_remainders():
    assert split(100, [1, 1, 1]) == [34, 33, 33]
    assert split(1000, [Decimal("0.7"), Decimal("0.3")]) == [700, 300]
    assert split(-100, [1, 1, 1]) == [-34, -33, -33]
    assert Money(1001, "USD").split([1, 1]) == [Money(501, "USD"), Money(500, "USD")]


def test_split_breaks_equal_remainders_by_position_whatever_the_part_sizes():
    # 13/15 and 1/15 of 50,000 leave the same third of a cent; the earlier part gets the cent,
    # even though the larger part leaves fewer digits for its remainder in 28-digit Decimal.
    assert split(50000, [13_000_000, 1_000_000, 1_000_000]) == [43334, 3333, 3333]
    assert split(50000, [1_000_000, 13_000_000, 1_000_000]) == [3334, 43333, 3333]


def test_split_refuses_meaningless_weights():
    for weights in ([], [0, 0], [1, -1], [0.5, 0.5]):
        with pytest.raises(MoneyError):
            split(100, weights)


@given(
    total=st.integers(min_value=-10**15, max_value=10**15),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(any),
)
def test_split_parts_always_sum_to_the_whole(total, weights):
    parts = split(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    # No part strays more than one minor unit from its exact share.
    weight_sum = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        assert abs(Decimal(part) - Decimal(total) * w / weight_sum) < 1
