"""JSON shapes of deal registrations, conflicts and the program rules."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field

from covey.core.money import Money
from covey.core.schemas import (
    InputSchema,
    MoneyIn,
    MoneyOut,
    OutSchema,
    Paging,
    Ref,
    id_filter,
    money_out,
    ref,
)
from covey.partners.models import Partner
from covey.registrations.models import (
    ConflictOutcome,
    DealType,
    Registration,
    RegistrationProgram,
    Status,
)
from covey.registrations.services import LIMITS, NOTE_MAX, REASON_MAX

MAX_PRODUCTS = 50


class RegistrationCreate(InputSchema):
    company_name: str = Field(..., max_length=LIMITS["company_name"])
    domain: str = Field(..., max_length=LIMITS["domain"], description="Web domain or address; normalised to the registrable domain")
    contact_name: str = Field("", max_length=LIMITS["contact_name"])
    contact_email: str = Field("", max_length=LIMITS["contact_email"])
    contact_phone: str = Field("", max_length=LIMITS["contact_phone"])
    value: MoneyIn = Field(..., description="Estimated deal value")
    products: list[str] = Field(default_factory=list, max_length=MAX_PRODUCTS, description="Product ids")
    expected_close: date
    deal_type: DealType = DealType.NEW
    description: str = Field("", max_length=LIMITS["description"])
    evidence: str = Field("", max_length=LIMITS["evidence"], description="Joint work with the customer so far")
    partner: str | None = Field(None, max_length=24, description="Partner id; vendor staff only (partner users register for their own)")


class RegistrationOut(OutSchema):
    id: str
    status: Status
    holds_claim: bool
    reason: str = Field(..., description="Why it was rejected, or the conflict message")
    partner: Ref
    company_name: str
    domain: str = Field(..., description="As typed")
    claim_domain: str = Field(..., description="The registrable domain the claim is on")
    contact_name: str
    contact_email: str
    contact_phone: str
    value: MoneyOut
    no_minimum_configured: bool
    products: list[Ref]
    expected_close: date
    deal_type: DealType
    description: str
    evidence: str
    submitted_at: datetime
    review_due_at: datetime | None
    review_overdue: bool
    decided_at: datetime | None
    protection_starts_at: datetime | None
    protection_expires_at: datetime | None
    extension_requested_at: datetime | None
    extension_reason: str
    extension_granted: bool | None
    opportunity: Ref | None
    conflict_with: str | None = Field(None, description="The holder's id (vendor staff only)")


def registration_out(reg: Registration, *, user, products=None) -> dict:
    """``products`` may be passed when the caller already has them (saves a query on create)."""
    if products is None:
        products = list(reg.products.all())
    return {
        "id": reg.public_id,
        "status": reg.status,
        "holds_claim": reg.holds_claim,
        "reason": reg.reason,
        "partner": ref(reg.partner),
        "company_name": reg.company_name,
        "domain": reg.domain,
        "claim_domain": reg.claim_domain,
        "contact_name": reg.contact_name,
        "contact_email": reg.contact_email,
        "contact_phone": reg.contact_phone,
        "value": money_out(Money(reg.amount_minor, reg.currency)),
        "no_minimum_configured": reg.no_minimum_configured,
        "products": [ref(p) for p in products],
        "expected_close": reg.expected_close,
        "deal_type": reg.deal_type,
        "description": reg.description,
        "evidence": reg.evidence,
        "submitted_at": reg.submitted_at,
        "review_due_at": reg.review_due_at,
        "review_overdue": reg.is_overdue(),
        "decided_at": reg.decided_at,
        "protection_starts_at": reg.protection_starts_at,
        "protection_expires_at": reg.protection_expires_at,
        "extension_requested_at": reg.extension_requested_at,
        "extension_reason": reg.extension_reason,
        "extension_granted": reg.extension_granted,
        "opportunity": ref(reg.opportunity) if reg.opportunity_id else None,
        # The losing partner of a conflict must never learn who holds the account.
        "conflict_with": (reg.conflict_with.public_id if reg.conflict_with_id else None) if user.is_vendor else None,
    }


class RegistrationPage(OutSchema):
    items: list[RegistrationOut]
    count: int


class RegistrationFilters(Paging):
    status: Status | None = None
    partner: str | None = id_filter(Partner, "Partner id (vendor staff only)")
    q: str | None = Field(None, max_length=200, description="Part of the company name or domain")
    overdue: bool | None = Field(None, description="Only registrations past their review deadline")


class ConflictFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the contested domain or a contender's company name")


class ReasonIn(InputSchema):
    reason: str = Field(..., max_length=REASON_MAX)


class ExtensionDecisionIn(InputSchema):
    grant: bool


class ConflictResolveIn(InputSchema):
    domain: str = Field(..., max_length=253, description="The contested registrable domain")
    outcome: ConflictOutcome
    note: str = Field("", max_length=NOTE_MAX, description="Required for reject")


class ConflictEntry(OutSchema):
    id: str
    partner: Ref
    company_name: str
    status: Status
    value: MoneyOut
    submitted_at: datetime


def conflict_entry(reg: Registration) -> dict:
    return {
        "id": reg.public_id, "partner": ref(reg.partner), "company_name": reg.company_name, "status": reg.status,
        "value": money_out(reg.value), "submitted_at": reg.submitted_at,
    }


class ConflictOut(OutSchema):
    domain: str
    holder: ConflictEntry | None
    contenders: list[ConflictEntry]
    vendor_opportunities: list[Ref] = Field(..., description="Open opportunities on accounts with this domain")


class ConflictPage(OutSchema):
    items: list[ConflictOut]
    count: int


class ResolutionOut(OutSchema):
    id: str
    domain: str
    outcome: ConflictOutcome
    note: str
    holder: str | None
    registrations: list[str]
    decided_at: datetime


class ProgramOut(OutSchema):
    minimums: list[MoneyOut]
    allow_expansion: bool
    block_open_vendor_opportunity: bool
    review_sla_business_days: int
    protection_days: int
    expiry_warning_days: int
    extension_days: int
    convert_on_approval: bool
    updated_at: datetime


def program_out(program: RegistrationProgram) -> dict:
    return {
        "minimums": [money_out(Money(int(v), k)) for k, v in sorted((program.minimums or {}).items())],
        **{f: getattr(program, f) for f in (
            "allow_expansion", "block_open_vendor_opportunity", "review_sla_business_days", "protection_days",
            "expiry_warning_days", "extension_days", "convert_on_approval", "updated_at",
        )},
    }


class ProgramUpdate(InputSchema):
    minimums: list[MoneyIn] | None = Field(None, max_length=200, description="The full list of minimums (replaces it)")
    allow_expansion: bool | None = None
    block_open_vendor_opportunity: bool | None = None
    review_sla_business_days: int | None = Field(None, ge=0, le=60)
    protection_days: int | None = Field(None, ge=1, le=730)
    expiry_warning_days: int | None = Field(None, ge=0, le=365)
    extension_days: int | None = Field(None, ge=1, le=365)
    convert_on_approval: bool | None = None

