"""JSON shapes every part of the API shares: errors, money, references, pages.

Money leaves the server as ``{"amount_minor": 4800000, "currency": "USD", "amount": "48000.00"}``
(the amount as a string, never a float) and comes in as the same object with either
``amount_minor`` or ``amount`` plus an optional ``currency``. Floats are refused with a message that
says why: a float has already lost the exact value, so accepting one would hide the client's bug.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict, field_validator

from covey.core.money import Money, MoneyError, is_currency, parse_amount

# Far above any real deal and far below 2**63, so sums over many rows still fit in a bigint.
MAX_AMOUNT_MINOR = 10**15 - 1
# Short enough that Decimal's default 28-digit precision never rounds a typed amount silently.
MAX_AMOUNT_TEXT = 24
MAX_POSITIVE_INT = 2_147_483_647  # PositiveIntegerField's ceiling on every database

FLOAT_REFUSED = (
    "Floats cannot represent money exactly; send amount_minor as an integer (4800000) "
    "or amount as a decimal string (\"48000.00\")."
)


class OutSchema(BaseModel):
    """Answers are built as plain dicts by the ``*_out`` functions; plain pydantic models validate
    them several times faster than ninja's attribute-reading Schema (a 500-row page matters)."""


class FieldError(OutSchema):
    field: str | None = Field(None, description="Dotted path of the input field; null for the request as a whole")
    message: str


class Error(OutSchema):
    """Every error answer: a stable machine code, a sentence for people, and field errors on 422."""

    code: str = Field(..., description="not_authenticated, forbidden, not_found, validation_error, bad_input, …")
    detail: str
    errors: list[FieldError] | None = None


# Error answers an endpoint can give, for the OpenAPI document.
READ_ERRORS: dict[int, Any] = {400: Error, 401: Error, 404: Error, 422: Error}
WRITE_ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 413: Error, 422: Error}


class InputSchema(Schema):
    """Request bodies refuse unknown fields, so a typo is an error rather than a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class MoneyOut(OutSchema):
    amount_minor: int = Field(..., description="Integer count of the currency's minor units (cents)")
    currency: str = Field(..., description="ISO 4217 code")
    amount: str = Field(..., description="The same value in major units as an exact decimal string")


def money_out(money: Money) -> dict:
    return {"amount_minor": money.minor, "currency": money.currency, "amount": f"{money.amount:f}"}


class MoneyIn(InputSchema):
    """An amount: ``amount_minor`` (integer) or ``amount`` (decimal string), and a currency."""

    amount_minor: int | None = Field(None, ge=0, le=MAX_AMOUNT_MINOR, description="Minor units, e.g. 4800000")
    amount: str | None = Field(None, max_length=MAX_AMOUNT_TEXT, description='Major units as a string, e.g. "48000.00"')
    currency: str | None = Field(None, description="ISO 4217 code; defaults to the record's currency")

    @field_validator("amount_minor", mode="before")
    @classmethod
    def _minor_is_int(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(FLOAT_REFUSED)
        if isinstance(value, (bool, str)):
            raise ValueError("amount_minor must be a JSON integer such as 4800000.")
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_text(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(FLOAT_REFUSED)
        if isinstance(value, bool):
            raise ValueError('amount must be a decimal string such as "48000.00".')
        if isinstance(value, int):
            return str(value)  # a JSON integer is exact, so it is as good as its string
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _currency_upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def to_money(self, *, default_currency: str, field: str) -> Money:
        """The exact Money this input means, or a ValidationError naming ``field``."""
        currency = self.currency or default_currency
        if not is_currency(currency):
            raise ValidationError({f"{field}.currency": f"{currency!r} is not an ISO 4217 currency code such as USD or EUR."})
        if self.amount_minor is None and self.amount is None:
            raise ValidationError({field: "Give amount_minor (an integer) or amount (a decimal string)."})
        try:
            from_text = parse_amount(self.amount, currency) if self.amount is not None else None
        except MoneyError as exc:
            raise ValidationError({f"{field}.amount": str(exc)}) from None
        if from_text is not None and self.amount_minor is not None and from_text.minor != self.amount_minor:
            raise ValidationError({field: "amount and amount_minor disagree; send one of them."})
        money = from_text if from_text is not None else Money(self.amount_minor, currency)  # type: ignore[arg-type]
        if not 0 <= money.minor <= MAX_AMOUNT_MINOR:
            raise ValidationError({f"{field}.amount": f"The amount must be between 0 and {Money(MAX_AMOUNT_MINOR, currency).plain()}."})
        return money


class Ref(OutSchema):
    """Another object, by its public id and name."""

    id: str
    name: str


def ref(obj) -> dict | None:
    return None if obj is None else {"id": obj.public_id, "name": str(obj)}


class Paging(Schema):
    limit: int = Field(50, ge=1, le=500, description="Items per page (at most 500)")
    offset: int = Field(0, ge=0, le=MAX_POSITIVE_INT, description="Items to skip")


def id_filter(model, description: str = "") -> Any:
    """A list filter naming one ``model`` object by public id (``ptn_`` and twelve letters or digits).

    A malformed id, or another kind's (an account's id where a partner's belongs), is a 422 naming
    the parameter; a well-formed id that names nothing the caller can see leaves the list empty, as
    an invisible object reads exactly like a missing one.
    """
    from covey.core.ids import LENGTH, PublicIdField

    prefix = next(f.prefix for f in model._meta.concrete_fields if isinstance(f, PublicIdField))
    return Field(None, pattern=f"^{prefix}_[0-9a-z]{{{LENGTH}}}$",
                 description=description or f"{str(model._meta.verbose_name).capitalize()} id ({prefix}_…)")


QUARTER_KEY = r"^\s*[0-9]{4}[Qq][1-4]\s*$"


def quarter_filter(description: str = "A fiscal quarter such as 2026Q3") -> Any:
    """A list filter naming a fiscal quarter; anything else (2026Q5, "last") is a 422 on the parameter.
    Compare ``value.strip().upper()`` with the stored keys."""
    return Field(None, max_length=8, pattern=QUARTER_KEY, description=description)


def _plain_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


def plain(values: dict) -> dict:
    """Enum members to their values, so services and audit records see plain strings."""
    return {k: _plain_value(v) for k, v in values.items()}
