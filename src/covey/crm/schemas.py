"""JSON shapes of accounts, products, opportunities (with lines and partners) and activities."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field

from covey.core.money import Money
from covey.core.schemas import (
    MAX_POSITIVE_INT,
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
from covey.core.vocab import Region, Segment
from covey.crm.models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    Opportunity,
    OpportunityLine,
    OpportunityPartner,
    OpportunityType,
    PartnerInvolvement,
    Product,
    Stage,
)
from covey.partners.models import Partner

MAX_QUANTITY = 1_000_000
# Optional choices, where "" means "not set": one Literal gives a single clear error message.
RegionOrBlank = Literal[("", *Region.values)]  # type: ignore[valid-type]
SegmentOrBlank = Literal[("", *Segment.values)]  # type: ignore[valid-type]

# --- accounts --------------------------------------------------------------------------------


class AccountOut(OutSchema):
    id: str
    name: str
    domain: str
    website: str
    industry: str
    region: RegionOrBlank
    country: str
    city: str
    phone: str
    segment: SegmentOrBlank
    employees: int | None
    status: AccountStatus
    owner: Ref | None
    external_id: str | None = Field(..., description="The record's id in your CRM")
    description: str
    created_at: datetime
    updated_at: datetime


def account_out(account: Account) -> dict:
    return {
        "id": account.public_id,
        **{f: getattr(account, f) for f in (
            "name", "domain", "website", "industry", "region", "country", "city", "phone", "segment",
            "employees", "status", "external_id", "description", "created_at", "updated_at",
        )},
        "owner": ref(account.owner),
    }


class AccountPage(OutSchema):
    items: list[AccountOut]
    count: int


class AccountFilters(Paging):
    q: str | None = Field(None, max_length=200, description="Part of the name or domain")
    status: AccountStatus | None = None
    region: Region | None = None
    segment: Segment | None = None


class AccountCreate(InputSchema):
    name: str
    domain: str = ""
    website: str = ""
    industry: str = ""
    region: RegionOrBlank = ""
    country: str = ""
    city: str = ""
    phone: str = ""
    segment: SegmentOrBlank = ""
    employees: int | None = Field(None, ge=0, le=MAX_POSITIVE_INT)
    status: AccountStatus = AccountStatus.PROSPECT
    owner: str | None = Field(None, description="User id of a vendor staff member")
    external_id: str | None = None
    description: str = ""


class AccountUpdate(InputSchema):
    """Only the fields sent change; null clears owner, employees or external_id."""

    name: str | None = None
    domain: str | None = None
    website: str | None = None
    industry: str | None = None
    region: RegionOrBlank | None = None
    country: str | None = None
    city: str | None = None
    phone: str | None = None
    segment: SegmentOrBlank | None = None
    employees: int | None = Field(None, ge=0, le=MAX_POSITIVE_INT)
    status: AccountStatus | None = None
    owner: str | None = None
    external_id: str | None = None
    description: str | None = None


# --- products --------------------------------------------------------------------------------


class ProductOut(OutSchema):
    id: str
    name: str
    code: str
    family: str
    unit_price: MoneyOut
    recurring: bool = Field(..., description="Billed yearly (subscription)")
    is_active: bool


def product_out(product: Product) -> dict:
    return {
        "id": product.public_id, "name": product.name, "code": product.code, "family": product.family,
        "unit_price": money_out(product.unit_price), "recurring": product.recurring, "is_active": product.is_active,
    }


class ProductPage(OutSchema):
    items: list[ProductOut]
    count: int


class ProductFilters(Paging):
    q: str | None = Field(None, max_length=200, description="Part of the name or code")
    family: str | None = Field(None, max_length=100)
    active: bool | None = None


# --- opportunities ---------------------------------------------------------------------------


class LineOut(OutSchema):
    id: str
    product: Ref
    quantity: int
    unit_price: MoneyOut
    discount: MoneyOut = Field(..., description="Total discount on the line")
    total: MoneyOut


def line_out(line: OpportunityLine) -> dict:
    return {
        "id": line.public_id,
        "product": ref(line.product),
        "quantity": line.quantity,
        "unit_price": money_out(line.unit_price),
        "discount": money_out(Money(line.discount_minor, line.opportunity.currency)),
        "total": money_out(line.total),
    }


class LinkOut(OutSchema):
    id: str = Field(..., description="The link's id (to remove the partner from the deal)")
    partner: Ref
    role: PartnerInvolvement
    is_primary: bool
    created_at: datetime


def link_out(link: OpportunityPartner) -> dict:
    return {
        "id": link.public_id, "partner": ref(link.partner), "role": link.role,
        "is_primary": link.is_primary, "created_at": link.created_at,
    }


class OpportunityOut(OutSchema):
    id: str
    name: str
    account: Ref
    owner: Ref | None
    stage: Stage
    probability: int = Field(..., description="Percent, from the stage")
    type: OpportunityType
    amount: MoneyOut
    close_date: date
    lost_reason: str
    lead_source: str
    campaign_code: str
    description: str
    external_id: str | None
    created_at: datetime
    updated_at: datetime


class OpportunityDetail(OpportunityOut):
    lines: list[LineOut]
    partners: list[LinkOut]


def opportunity_out(opp: Opportunity) -> dict:
    return {
        "id": opp.public_id,
        "name": opp.name,
        "account": ref(opp.account),
        "owner": ref(opp.owner),
        "stage": opp.stage,
        "probability": opp.probability,
        "type": opp.type,
        "amount": money_out(opp.amount),
        **{f: getattr(opp, f) for f in (
            "close_date", "lost_reason", "lead_source", "campaign_code", "description", "external_id", "created_at", "updated_at",
        )},
    }


class OpportunityPage(OutSchema):
    items: list[OpportunityOut]
    count: int


class OpportunityFilters(Paging):
    q: str | None = Field(None, max_length=200, description="Part of the opportunity's or account's name")
    stage: Stage | None = None
    status: Literal["open", "won", "lost"] | None = None
    partner: str | None = id_filter(Partner, "Partner id (ignored for partner users: they see their own deals)")
    account: str | None = id_filter(Account)
    close_date_from: date | None = None
    close_date_to: date | None = None


class OpportunityCreate(InputSchema):
    name: str
    account: str = Field(..., description="Account id")
    owner: str | None = Field(None, description="User id of a vendor staff member; defaults to you")
    stage: Stage = Stage.PROSPECTING
    type: OpportunityType = OpportunityType.NEW
    amount: MoneyIn | None = Field(None, description="Defaults to zero in the company's base currency")
    close_date: date
    lost_reason: str = Field("", description="Required when the stage is Closed Lost")
    lead_source: str = ""
    campaign_code: str = Field("", max_length=40, description="Marketing campaign code (MDF activities use it for ROI)")
    description: str = ""
    external_id: str | None = None


class OpportunityUpdate(InputSchema):
    """Only the fields sent change; null clears owner or external_id."""

    name: str | None = None
    account: str | None = None
    owner: str | None = None
    stage: Stage | None = None
    type: OpportunityType | None = None
    amount: MoneyIn | None = None
    close_date: date | None = None
    lost_reason: str | None = None
    lead_source: str | None = None
    campaign_code: str | None = Field(None, max_length=40)
    description: str | None = None
    external_id: str | None = None


class LineCreate(InputSchema):
    product: str = Field(..., description="Product id")
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)
    unit_price: MoneyIn | None = Field(None, description="Defaults to the product's list price")
    discount: MoneyIn | None = Field(None, description="Total discount on the line; defaults to none")


class LinkCreate(InputSchema):
    partner: str = Field(..., description="Partner id")
    role: PartnerInvolvement
    is_primary: bool = Field(False, description="The first partner on a deal is always its primary")


# --- activities ------------------------------------------------------------------------------


class ActivityOut(OutSchema):
    id: str
    kind: ActivityKind
    subject: str
    notes: str
    occurred_at: datetime
    is_joint: bool = Field(..., description="Vendor and partner took part together")
    evidence_url: str
    opportunity: Ref | None
    account: Ref | None
    partner: Ref | None
    created_by: Ref | None
    created_at: datetime


def activity_out(activity: Activity) -> dict:
    return {
        "id": activity.public_id,
        **{f: getattr(activity, f) for f in ("kind", "subject", "notes", "occurred_at", "is_joint", "evidence_url", "created_at")},
        **{f: ref(getattr(activity, f)) for f in ("opportunity", "account", "partner", "created_by")},
    }


class ActivityPage(OutSchema):
    items: list[ActivityOut]
    count: int


class ActivityFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the subject")
    kind: ActivityKind | None = None
    opportunity: str | None = id_filter(Opportunity)
    account: str | None = id_filter(Account)
    partner: str | None = id_filter(Partner)
    joint: bool | None = None


class ActivityCreate(InputSchema):
    kind: ActivityKind = ActivityKind.NOTE
    subject: str
    notes: str = ""
    occurred_at: datetime | None = Field(None, description="Defaults to now")
    is_joint: bool = False
    evidence_url: str = ""
    opportunity: str | None = Field(None, description="Opportunity id")
    account: str | None = Field(None, description="Account id; defaults to the opportunity's")
    partner: str | None = Field(None, description="Partner id; a partner user always logs for its own partner")


class ActivityUpdate(InputSchema):
    kind: ActivityKind | None = None
    subject: str | None = None
    notes: str | None = None
    occurred_at: datetime | None = None
    is_joint: bool | None = None
    evidence_url: str | None = None
    opportunity: str | None = None
    account: str | None = None
    partner: str | None = None
