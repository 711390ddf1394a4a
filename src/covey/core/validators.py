from __future__ import annotations

from django.core.exceptions import ValidationError

from covey.core.money import is_currency


def validate_currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code such as USD or EUR.")


def validate_no_nul(value: str) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError("Text cannot contain NUL characters.")
