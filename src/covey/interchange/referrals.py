"""Microsoft Partner Center referral shapes: the pure mapping, no database.

Status and substatus follow the published table (referral-resources, "Status & Substatus
transition states"): New → New/Active/Closed with Pending or Received; Active → Active/Closed with
Accepted; Closed stays Closed with Won, Lost, Declined or Expired. A transition outside it is refused
with ``ReferralError`` before anything is written.

``dealValue`` is a JSON number in major units. It is read with ``parse_float=Decimal`` and written by
``dumps`` as the exact decimal text, so money never passes through a float.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from covey.core.money import Money, MoneyError

STATUSES = ("New", "Active", "Closed")
SUBSTATUSES = {"New": ("Pending", "Received"), "Active": ("Accepted",), "Closed": ("Won", "Lost", "Declined", "Expired")}
TRANSITIONS = {"New": ("New", "Active", "Closed"), "Active": ("Active", "Closed"), "Closed": ("Closed",)}
TYPES = ("Shared", "Independent")
QUALIFICATIONS = ("None", "Direct", "MarketingQualified", "SalesQualified")
SIZES = (
    (9, "1to9employees"), (50, "10to50employees"), (250, "51to250employees"), (1000, "251to1000employees"),
    (5000, "1001to5000employees"), (10000, "5001to10000employees"), (20000, "10001to20000employees"),
)
LARGEST_SIZE = "Morethan20000employees"
MAX_MINOR = 10**17  # far beyond any deal, well inside a 64-bit column

ILLEGAL_TRANSITION = "A {old} referral cannot become {new}: from {old} it may only become {allowed}."
ILLEGAL_SUBSTATUS = "A {status} referral's substatus must be one of {allowed}, not {sub!r}."
UNKNOWN_STATUS = "The referral status must be one of New, Active, Closed, not {status!r}."


class ReferralError(ValueError):
    """A referral Covey refuses; the message says why."""


@dataclass
class ReferralDeal:
    public_id: str
    name: str
    stage: str
    amount_minor: int
    currency: str
    close_date: date
    account_name: str
    description: str = ""
    lost_reason: str = ""
    country: str = ""
    city: str = ""
    employees: int | None = None
    industry: str = ""
    referral_id: str = ""
    status: str = ""
    substatus: str = ""
    consent_to_share: bool = False
    consent_to_contact: bool = False


def status_for_stage(stage: str, *, current: tuple[str, str] = ("", "")) -> tuple[str, str]:
    """(status, substatus) a Covey stage is shown as; an open deal keeps a New referral New."""
    if stage == "Closed Won":
        return "Closed", "Won"
    if stage == "Closed Lost":
        return ("Closed", current[1]) if current[0] == "Closed" and current[1] in ("Lost", "Declined", "Expired") else ("Closed", "Lost")
    if current[0] == "New" and current[1] in SUBSTATUSES["New"]:
        return current
    return "Active", "Accepted"


def check_transition(old: tuple[str, str] | None, new: tuple[str, str]) -> None:
    status, sub = new
    if status not in STATUSES:
        raise ReferralError(UNKNOWN_STATUS.format(status=status))
    if sub not in SUBSTATUSES[status]:
        raise ReferralError(ILLEGAL_SUBSTATUS.format(status=status, allowed=", ".join(SUBSTATUSES[status]), sub=sub))
    if old and old[0] in TRANSITIONS and status not in TRANSITIONS[old[0]]:
        raise ReferralError(ILLEGAL_TRANSITION.format(old=old[0], new=status, allowed=", ".join(TRANSITIONS[old[0]])))
    if old and old[0] == "Closed" and status == "Closed" and old[1] != sub:
        raise ReferralError(f"A closed referral stays {old[1]}; it cannot become {sub}.")


def size_for(employees: int | None) -> str | None:
    if not employees:
        return None
    for limit, label in SIZES:
        if employees <= limit:
            return label
    return LARGEST_SIZE


def export_referral(deal: ReferralDeal) -> dict:
    status, sub = status_for_stage(deal.stage, current=(deal.status, deal.substatus))
    check_transition((deal.status, deal.substatus) if deal.status else None, (status, sub))
    try:
        value = Money(deal.amount_minor, deal.currency).amount
    except MoneyError as exc:
        raise ReferralError(f"Deal value: {exc}") from None
    profile: dict[str, Any] = {"name": deal.account_name, "address": {"country": deal.country.upper()}, "team": [], "ids": []}
    if deal.city:
        profile["address"]["city"] = deal.city
    if size_for(deal.employees):
        profile["size"] = size_for(deal.employees)
    body: dict[str, Any] = {
        "name": deal.name,
        "externalReferenceId": deal.public_id,
        "status": status,
        "substatus": sub,
        "statusReason": deal.lost_reason if status == "Closed" and sub != "Won" else None,
        "qualification": "SalesQualified",
        "type": "Independent",
        "customerProfile": profile,
        "consent": {"consentToToShareInfoWithOthers": deal.consent_to_share, "consentToContact": deal.consent_to_contact},
        "details": {
            "notes": deal.description,
            "dealValue": value,
            "currency": deal.currency,
            "closingDateTime": f"{deal.close_date.isoformat()}T00:00:00Z",
            "requirements": {"industries": [{"id": deal.industry}] if deal.industry else []},
        },
        "team": [],
    }
    if deal.referral_id:
        body["id"] = deal.referral_id
    return body


_DECIMAL = re.compile(r'"\\u0000decimal:([-0-9.]+)\\u0000"')


def dumps(document: Any, *, indent: int | None = 2) -> str:
    """JSON with ``Decimal`` values written as exact numbers (never through a float)."""
    def default(value):
        if isinstance(value, Decimal):
            return f"\u0000decimal:{value}\u0000"
        raise TypeError(f"{type(value).__name__} is not JSON")
    return _DECIMAL.sub(lambda m: m.group(1), json.dumps(document, default=default, indent=indent, ensure_ascii=False))


@dataclass
class IncomingReferral:
    referral_id: str
    external_id: str
    name: str
    status: str
    substatus: str
    status_reason: str
    company_name: str
    country: str
    city: str
    amount_minor: int | None
    currency: str | None
    close_date: date | None
    expires_on: date | None
    notes: str
    consent_to_share: bool
    consent_to_contact: bool


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date(value: Any, where: str) -> date | None:
    if not _text(value):
        return None
    try:
        return date.fromisoformat(_text(value)[:10])
    except ValueError:
        raise ReferralError(f"{where} {value!r} is not a date.") from None


def read_referral(document: Any) -> IncomingReferral:
    """A referral object; ``ReferralError`` for anything Covey cannot use as it stands."""
    if not isinstance(document, dict):
        raise ReferralError("A referral must be a JSON object.")
    status, sub = _text(document.get("status")), _text(document.get("substatus"))
    check_transition(None, (status, sub))
    profile = document.get("customerProfile") if isinstance(document.get("customerProfile"), dict) else {}
    address = profile.get("address") if isinstance(profile.get("address"), dict) else {}
    details = document.get("details") if isinstance(document.get("details"), dict) else {}
    consent = document.get("consent") if isinstance(document.get("consent"), dict) else {}
    amount_minor = currency = None
    if details.get("dealValue") is not None:
        raw, currency = details.get("dealValue"), _text(details.get("currency")) or "USD"
        if isinstance(raw, float | bool) or not isinstance(raw, int | Decimal | str):
            raise ReferralError("details.dealValue must be a number (read it with Decimal, not float).")
        try:
            amount_minor = Money.from_decimal(Decimal(str(raw)), currency).minor
        except (MoneyError, ArithmeticError) as exc:
            raise ReferralError(f"details.dealValue {raw} {currency}: {exc}") from None
        if not 0 <= amount_minor <= MAX_MINOR:
            raise ReferralError(f"details.dealValue {raw} is out of range (0 to {MAX_MINOR:,} minor units).")
    close = _date(details.get("closingDateTime"), "details.closingDateTime")
    expires = _date(document.get("expirationDateTime"), "expirationDateTime")
    return IncomingReferral(
        referral_id=_text(document.get("id")), external_id=_text(document.get("externalReferenceId")),
        name=_text(document.get("name")), status=status, substatus=sub,
        status_reason=_text(document.get("statusReason")), company_name=_text(profile.get("name")),
        country=_text(address.get("country"))[:2].upper(), city=_text(address.get("city")),
        amount_minor=amount_minor, currency=currency, close_date=close, expires_on=expires, notes=_text(details.get("notes")),
        consent_to_share=consent.get("consentToToShareInfoWithOthers") is True,
        consent_to_contact=consent.get("consentToContact") is True,
    )


def stage_for(incoming: IncomingReferral, current_stage: str) -> str:
    """The Covey stage a referral's status means; an open referral leaves an open deal's stage alone."""
    if incoming.status == "Closed":
        return "Closed Won" if incoming.substatus == "Won" else "Closed Lost"
    return current_stage if current_stage not in ("Closed Won", "Closed Lost") else "Prospecting"
