"""Exact money: integer minor units plus an ISO 4217 currency.

Design:
- ``Money`` holds an ``int`` count of minor units (cents for USD, yen for JPY, fils for KWD) and a
  currency code. It refuses floats everywhere, including as a multiplier: a float has already lost
  the exact value, so accepting one would hide the bug instead of reporting it.
- Rates are ``Decimal``. Multiplying by a rate takes an explicit rounding mode, and that one call is
  the single rounding point of a computation.
- ``split`` divides an amount by weights with the largest-remainder method, so the parts always sum
  to the whole and the leftover minor units go to the parts that lost most to truncation.
- Minor-unit exponents and display come from Babel's CLDR data (bundled, offline).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies

__all__ = [
    "Money",
    "MoneyError",
    "currency_exponent",
    "is_currency",
    "parse_amount",
    "split",
    "ROUND_HALF_EVEN",
    "ROUND_HALF_UP",
]

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _tender_currencies(*, years: int = 10) -> frozenset[str]:
    """Legal tender somewhere in the last ``years`` years, from CLDR's territory data (bundled).

    Withdrawn currencies (DEM, FRF) and non-money codes (gold, test and fund codes) are refused;
    recently replaced ones (HRK until 2023) stay valid so historic deals still import.
    """
    today = date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(
            get_territory_currencies(territory, start_date=date(today.year - years, 1, 1), end_date=today, tender=True)
        )
    return frozenset(codes)


_CURRENCIES = _tender_currencies()


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def is_currency(code: str) -> bool:
    return bool(_CURRENCY_RE.match(code or "")) and code in _CURRENCIES


def currency_exponent(code: str) -> int:
    """Number of minor-unit digits: 2 for USD, 0 for JPY, 3 for KWD."""
    if not is_currency(code):
        raise MoneyError(f"{code!r} is not an ISO 4217 currency code")
    # CLDR's "precision" for a few currencies (e.g. HUF's cash rounding) differs from ISO 4217's
    # minor unit; ISO's is what invoices and bank files use.
    return _ISO_EXPONENT_OVERRIDES.get(code, get_currency_precision(code))


_ISO_EXPONENT_OVERRIDES = {"HUF": 2, "TWD": 2, "UGX": 0, "ISK": 0, "CLP": 0}


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(f"{what} must be an int of minor units, not {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True, order=False)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        _check_int(self.minor, "Money.minor")
        if not is_currency(self.currency):
            raise MoneyError(f"{self.currency!r} is not an ISO 4217 currency code")

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: Decimal | str | int, currency: str, *, rounding: str | None = None) -> Money:
        """From a major-unit amount (``Decimal("12.34")`` USD → 1234 minor units).

        Without ``rounding`` an amount with more decimals than the currency has is refused; with it,
        the amount is rounded once, with that mode.
        """
        if isinstance(amount, float):
            raise MoneyError("floats cannot represent money exactly; pass a Decimal or a string")
        try:
            value = Decimal(amount)
        except (InvalidOperation, TypeError):
            raise MoneyError(f"{amount!r} is not a number") from None
        if not value.is_finite():
            raise MoneyError(f"{amount!r} is not a finite number")
        exp = currency_exponent(currency)
        scaled = value.scaleb(exp)
        if scaled != scaled.to_integral_value():
            if rounding is None:
                raise MoneyError(f"{amount} has more than {exp} decimal places for {currency}")
            scaled = scaled.to_integral_value(rounding=rounding)
        return cls(int(scaled), currency)

    # --- views ------------------------------------------------------------------------------
    @property
    def amount(self) -> Decimal:
        """The major-unit value as an exact Decimal."""
        return Decimal(self.minor).scaleb(-currency_exponent(self.currency))

    def format(self, locale: str = "en_US") -> str:
        return format_currency(self.amount, self.currency, locale=locale)

    def plain(self) -> str:
        """``48,000.00 USD``: the form explanations and exports use."""
        exp = currency_exponent(self.currency)
        return f"{self.amount:,.{exp}f} {self.currency}"

    def __str__(self) -> str:
        return self.plain()

    # --- arithmetic -------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: object) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: object) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: object) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: object) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: object) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: object) -> bool:
        return self.minor >= self._same(other).minor

    def __mul__(self, factor: object) -> Money:
        # Whole-number multiplication is exact; a rate needs an explicit rounding mode: use .times().
        return Money(self.minor * _check_int(factor, "multiplier (use .times() for a rate)"), self.currency)

    __rmul__ = __mul__

    def times(self, rate: Decimal, *, rounding: str) -> Money:
        """Multiply by a Decimal rate, rounding once to whole minor units with ``rounding``."""
        if not isinstance(rate, (Decimal, int)) or isinstance(rate, bool):
            raise MoneyError(f"a rate must be a Decimal, not {type(rate).__name__}")
        exact = Decimal(self.minor) * Decimal(rate)
        return Money(int(exact.to_integral_value(rounding=rounding)), self.currency)

    def split(self, weights: Sequence[int | Decimal]) -> list[Money]:
        return [Money(part, self.currency) for part in split(self.minor, weights)]

    def __bool__(self) -> bool:
        return self.minor != 0


def split(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split ``total`` minor units by ``weights`` (largest remainder); the parts sum to ``total``.

    Ties in remainders go to the earlier part, so the result is deterministic. Negative totals
    split symmetrically to positive ones.
    """
    _check_int(total, "total")
    if not weights:
        raise MoneyError("split needs at least one weight")
    ws = []
    for w in weights:
        if isinstance(w, float) or isinstance(w, bool):
            raise MoneyError("split weights must be int or Decimal")
        ws.append(Decimal(w))
    if any(w < 0 for w in ws):
        raise MoneyError("split weights cannot be negative")
    weight_sum = sum(ws)
    if weight_sum == 0:
        raise MoneyError("split weights cannot all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    # Exact fractions, not Decimal division: at 28 digits a larger integer part leaves fewer digits
    # for the remainder, which would break ties by the size of the part instead of by position.
    exact = [Fraction(magnitude) * Fraction(w) / Fraction(weight_sum) for w in ws]
    parts = [int(e) for e in exact]  # truncation toward zero
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(ws)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    assert sum(parts) == magnitude, "largest-remainder split lost a minor unit"
    return [sign * p for p in parts]


_AMOUNT_RE = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)?(\.\d+)?$")


def parse_amount(text: str, currency: str) -> Money:
    """Parse user or file input such as ``"125000"``, ``"1,250.50"`` into Money, exactly.

    Refuses anything ambiguous (letters, several dots, exponents, more decimals than the currency
    allows) with a message fit to show the person who typed it.
    """
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not raw or raw in {"+", "-", "."} or not _AMOUNT_RE.match(raw):
        raise MoneyError(f"{text!r} is not an amount (expected digits such as 1250.50)")
    return Money.from_decimal(Decimal(raw.replace(",", "")), currency)


def all_currencies() -> list[str]:
    """Tender currency codes, sorted; for choice lists."""
    return sorted(c for c in _CURRENCIES if is_currency(c))
