"""JSON shapes of joint proposals (with lines and totals) and joint account plans (with steps).

Percents travel as decimal strings (``"12.50"``), like money amounts: a float has already lost the
exact value, so one is refused with a message that says why.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field
from pydantic import field_validator

from covey.core.models import User
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
from covey.crm.models import Account, Opportunity
from covey.joint.models import (
    AccountPlanStep,
    JointAccountPlan,
    LineKind,
    PlanStatus,
    ProposalLine,
    ProposalStatus,
    Side,
)
from covey.joint.rules import Totals
from covey.joint.services import MAX_QUANTITY
from covey.partners.models import Partner

PERCENT_AS_TEXT = 'Send the discount as a decimal string such as "12.5" (a float cannot hold it exactly).'


def _percent_text(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError(PERCENT_AS_TEXT)
    if isinstance(value, bool):
        raise ValueError(PERCENT_AS_TEXT)
    if isinstance(value, int):
        return str(value)
    return value


# --- proposals -------------------------------------------------------------------------------


class TotalsOut(OutSchema):
    vendor_list: MoneyOut = Field(..., description="Vendor product lines at list price")
    vendor_subtotal: MoneyOut = Field(..., description="Vendor product lines after discount")
    vendor_discount: MoneyOut
    partner_subtotal: MoneyOut = Field(..., description="The partner's service lines")
    grand_total: MoneyOut
    effective_discount_percent: str = Field(..., description="Discount over all vendor lines, two decimals")
    max_discount_percent: str = Field(..., description="The deepest discount of any vendor line")
    non_standard: bool = Field(..., description="A vendor line is discounted above the threshold (deal desk review)")
    threshold_percent: str


def totals_out(totals: Totals, *, non_standard: bool, threshold) -> dict:
    return {
        "vendor_list": money_out(totals.vendor_list),
        "vendor_subtotal": money_out(totals.vendor_subtotal),
        "vendor_discount": money_out(totals.vendor_discount),
        "partner_subtotal": money_out(totals.partner_subtotal),
        "grand_total": money_out(totals.grand_total),
        "effective_discount_percent": str(totals.effective_discount_percent),
        "max_discount_percent": str(totals.max_discount_percent),
        "non_standard": non_standard,
        "threshold_percent": str(threshold),
    }


class ProposalLineOut(OutSchema):
    id: str
    kind: LineKind
    product: Ref | None = Field(..., description="The catalogue product of a vendor line")
    description: str = Field(..., description="The service of a partner line")
    quantity: int
    unit_price: MoneyOut = Field(..., description="Vendor lines: list price; partner lines: the partner's price")
    discount_percent: str
    discount: MoneyOut
    total: MoneyOut


def line_out(line: ProposalLine, currency: str) -> dict:
    priced = line.priced(currency)
    return {
        "id": line.public_id, "kind": line.kind, "product": ref(line.product) if line.product_id else None,
        "description": line.description, "quantity": line.quantity, "unit_price": money_out(priced.unit_price),
        "discount_percent": str(line.discount_percent), "discount": money_out(priced.discount), "total": money_out(priced.total),
    }


class DecisionOut(OutSchema):
    by: Ref | None
    at: datetime | None
    note: str


class ProposalOut(OutSchema):
    id: str
    title: str
    status: ProposalStatus
    opportunity: Ref
    account: Ref
    partner: Ref
    currency: str
    valid_until: date | None
    notes: str
    created_by: Ref | None
    submitted_by: Ref | None
    submitted_at: datetime | None
    decision: DecisionOut | None = Field(..., description="The pricing decision, while it stands (a later change voids it)")
    totals: TotalsOut
    created_at: datetime
    updated_at: datetime


class ProposalDetail(ProposalOut):
    lines: list[ProposalLineOut]


class ProposalPage(OutSchema):
    items: list[ProposalOut]
    count: int


class ProposalFilters(Paging):
    q: str | None = Field(None, max_length=200, description="Part of the title, opportunity or account name")
    status: ProposalStatus | None = None
    partner: str | None = id_filter(Partner)
    opportunity: str | None = id_filter(Opportunity)


class ProposalCreate(InputSchema):
    opportunity: str = Field(..., max_length=24, description="Opportunity id")
    partner: str | None = Field(None, max_length=24, description="Partner id (one of the deal's); partner users: always their own")
    title: str = Field("", max_length=200, description="Defaults to “<opportunity> — joint proposal”")
    valid_until: date | None = None
    notes: str = Field("", max_length=10_000)


class ProposalUpdate(InputSchema):
    """Only the fields sent change. Changing an approved proposal voids the approval."""

    title: str | None = Field(None, min_length=1, max_length=200)
    valid_until: date | None = None
    notes: str | None = Field(None, max_length=10_000)


class ProposalLineCreate(InputSchema):
    kind: LineKind
    product: str | None = Field(None, max_length=24, description="Vendor lines: the product id (priced at list)")
    description: str = Field("", max_length=300, description="Partner lines: the service")
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)
    discount_percent: str | None = Field(None, max_length=10, description='Vendor lines: percent off list, e.g. "12.5"')
    unit_price: MoneyIn | None = Field(None, description="Partner lines: the unit price")

    @field_validator("discount_percent", mode="before")
    @classmethod
    def _percent_is_text(cls, value: Any) -> Any:
        return _percent_text(value)


class ProposalLineUpdate(InputSchema):
    description: str | None = Field(None, max_length=300)
    quantity: int | None = Field(None, ge=1, le=MAX_QUANTITY)
    discount_percent: str | None = Field(None, max_length=10)
    unit_price: MoneyIn | None = None

    @field_validator("discount_percent", mode="before")
    @classmethod
    def _percent_is_text(cls, value: Any) -> Any:
        return _percent_text(value)


class DecisionIn(InputSchema):
    decision: Literal["approve", "request_changes"]
    note: str = Field("", max_length=2_000, description="Required when requesting changes")


class MarkIn(InputSchema):
    status: Literal["sent", "accepted", "declined"] = Field(..., description="sent (from approved), then accepted or declined")


# --- account plans ---------------------------------------------------------------------------


class StepOut(OutSchema):
    id: str
    text: str
    owner_side: Side
    owner: Ref | None
    due_date: date | None
    overdue: bool
    done: bool
    done_at: datetime | None
    done_by: Ref | None


def step_out(step: AccountPlanStep) -> dict:
    return {
        "id": step.public_id, "text": step.text, "owner_side": step.owner_side, "owner": ref(step.owner),
        "due_date": step.due_date, "overdue": step.is_overdue(), "done": step.done, "done_at": step.done_at,
        "done_by": ref(step.done_by),
    }


class PlanOut(OutSchema):
    id: str
    title: str
    status: PlanStatus
    account: Ref
    partner: Ref
    vendor_goals: str
    partner_goals: str
    target_products: list[Ref]
    vendor_owner: Ref | None
    partner_owner: Ref | None
    period_start: date | None
    period_end: date | None
    created_at: datetime
    updated_at: datetime


def plan_out(plan: JointAccountPlan) -> dict:
    return {
        "id": plan.public_id, "title": plan.title, "status": plan.status, "account": ref(plan.account),
        "partner": ref(plan.partner), "vendor_goals": plan.vendor_goals, "partner_goals": plan.partner_goals,
        "target_products": [ref(p) for p in plan.target_products.all()],
        "vendor_owner": ref(plan.vendor_owner), "partner_owner": ref(plan.partner_owner),
        "period_start": plan.period_start, "period_end": plan.period_end,
        "created_at": plan.created_at, "updated_at": plan.updated_at,
    }


class PlanDetail(PlanOut):
    steps: list[StepOut]
    opportunities: list[Ref] = Field(..., description="Linked deals you can see")


class PlanPage(OutSchema):
    items: list[PlanOut]
    count: int


class PlanFilters(Paging):
    q: str | None = Field(None, max_length=200, description="Part of the title or account name")
    status: PlanStatus | None = None
    partner: str | None = id_filter(Partner)
    account: str | None = id_filter(Account)
    owner: str | None = id_filter(User, "User id of either owner (usr_…)")


class PlanCreate(InputSchema):
    account: str = Field(..., max_length=24, description="Account id (one you can see)")
    partner: str | None = Field(None, max_length=24, description="Partner id; partner users: always their own")
    title: str = Field(..., min_length=1, max_length=200)
    status: PlanStatus = PlanStatus.DRAFT
    vendor_goals: str = Field("", max_length=10_000)
    partner_goals: str = Field("", max_length=10_000)
    target_products: list[str] = Field(default_factory=list, max_length=200, description="Product ids")
    vendor_owner: str | None = Field(None, max_length=24, description="User id of a vendor staff member")
    partner_owner: str | None = Field(None, max_length=24, description="User id of a user of the partner")
    period_start: date | None = None
    period_end: date | None = None


class PlanUpdate(InputSchema):
    """Only the fields sent change; null clears an owner or a period date."""

    title: str | None = Field(None, min_length=1, max_length=200)
    status: PlanStatus | None = None
    vendor_goals: str | None = Field(None, max_length=10_000)
    partner_goals: str | None = Field(None, max_length=10_000)
    target_products: list[str] | None = Field(None, max_length=200)
    vendor_owner: str | None = Field(None, max_length=24)
    partner_owner: str | None = Field(None, max_length=24)
    period_start: date | None = None
    period_end: date | None = None


class StepCreate(InputSchema):
    text: str = Field(..., min_length=1, max_length=500)
    owner_side: Side
    owner: str | None = Field(None, max_length=24, description="User id: vendor staff for a vendor step, a partner user for a partner step")
    due_date: date | None = None


class StepUpdate(InputSchema):
    text: str | None = Field(None, min_length=1, max_length=500)
    owner_side: Side | None = None
    owner: str | None = Field(None, max_length=24)
    due_date: date | None = None
    done: bool | None = None


class LinkIn(InputSchema):
    opportunity: str = Field(..., max_length=24, description="Opportunity id on the plan's account")

