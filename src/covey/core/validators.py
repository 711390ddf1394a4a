from __future__ import annotations

from django.core.exceptions import ValidationError

from covey.core.money import is_currency


def validate_currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code such as USD or EUR.")


def validate_no_nul(value: str) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError("Text cannot contain NUL characters.")


def clean_text(value: str | None, *, field: str, limit: int, required: str = "") -> str:
    """``value`` stripped, or a field error: ``required`` is the message when it is empty (empty is
    allowed when no message is given); longer than ``limit`` or holding NUL characters is refused."""
    value = (value or "").strip()
    if not value and required:
        raise ValidationError({field: required})
    if len(value) > limit or "\x00" in value:
        raise ValidationError({field: f"At most {limit:,} characters, without NUL characters."})
    return value
