"""MDF over the API, scoped like the pages: budgets (vendor staff; a partner user's list is empty and
any budget id answers 404), allocations, fund requests and their decisions, claims (proof files sent
as base64 in the JSON body, checked like uploads) and their finance decision, and ROI per activity."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router

from covey.core import access
from covey.core.api import create_once, idempotency_key_header, lookup, page, search, user_of
from covey.core.money import Money
from covey.core.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    MoneyIn,
    MoneyOut,
    OutSchema,
    Paging,
    id_filter,
    money_out,
    ref,
)
from covey.core.uploads import MAX_FILE_MB
from covey.mdf import selectors, services
from covey.mdf.models import (
    ActivityType,
    Allocation,
    Budget,
    Claim,
    FileKind,
    FundRequest,
    RequestStatus,
)
from covey.programs.models import Program

router = Router(tags=["market development funds"])

NOT_FOR_PARTNERS = "No such operation for partner users"


def _m(minor: int | None, currency: str) -> dict | None:
    return None if minor is None else money_out(Money(minor, currency))


# --- shapes ------------------------------------------------------------------------------------


class BudgetOut(OutSchema):
    id: str
    program: dict
    period_key: str
    amount: MoneyOut
    reserved: MoneyOut
    spent: MoneyOut
    available: MoneyOut
    second_approval_above: MoneyOut | None
    claim_days: int


class BudgetPage(OutSchema):
    items: list[BudgetOut]
    count: int


class BudgetFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the program's name or the quarter (2026Q3)")


class BudgetIn(InputSchema):
    program: str = Field(..., max_length=40)
    period_key: str = Field(..., max_length=8, description="Fiscal quarter, e.g. 2026Q3")
    amount: MoneyIn
    second_approval_above: MoneyIn | None = None
    claim_days: int = Field(60, ge=1, le=365)


class GenerateOut(OutSchema):
    created: int


class AllocationOut(OutSchema):
    id: str
    budget: str
    program: dict
    period_key: str
    partner: dict
    tier_code: str
    amount: MoneyOut
    reserved: MoneyOut
    spent: MoneyOut
    available: MoneyOut
    adjusted: bool


class AllocationPage(OutSchema):
    items: list[AllocationOut]
    count: int


class AllocationFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the partner's or the program's name")


class AdjustIn(InputSchema):
    amount: MoneyIn
    reason: str = Field(..., max_length=500)


class RequestOut(OutSchema):
    id: str
    allocation: str
    partner: dict
    activity_type: str
    title: str
    description: str
    starts_on: date
    ends_on: date
    planned_cost: MoneyOut
    co_investment_percent: str
    requested: MoneyOut
    approved: MoneyOut | None
    expected_leads: int
    expected_pipeline: MoneyOut
    campaign_code: str
    status: str
    decision_reason: str
    claim_due_on: date | None
    created_at: datetime


class RequestPage(OutSchema):
    items: list[RequestOut]
    count: int


class RequestFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the title, the campaign code or the partner's name")
    status: RequestStatus | None = None
    activity_type: ActivityType | None = None


class RequestIn(InputSchema):
    allocation: str = Field(..., max_length=40, description="The allocation (budget quarter) to fund it from")
    activity_type: ActivityType
    title: str = Field(..., max_length=160)
    description: str = Field("", max_length=5000)
    starts_on: date
    ends_on: date
    planned_cost: MoneyIn
    co_investment_percent: str = Field("0", max_length=8, description='The partner\'s share in percent, e.g. "30"')
    expected_leads: int = Field(0, ge=0, le=10**9)
    expected_pipeline: MoneyIn | None = None
    campaign_code: str = Field(..., max_length=40)


class DecideIn(InputSchema):
    approve: bool
    approved_amount: MoneyIn | None = Field(None, description="Leave out to approve the whole requested amount")
    reason: str = Field("", max_length=1000, description="Required for a partial approval or a rejection")


class SecondIn(InputSchema):
    approve: bool
    reason: str = Field("", max_length=1000)


class FileIn(InputSchema):
    kind: FileKind = FileKind.INVOICE
    name: str = Field(..., max_length=200)
    content_base64: str = Field(..., max_length=(MAX_FILE_MB * 1024 * 1024 * 4) // 3 + 8)


class ClaimIn(InputSchema):
    actual_cost: MoneyIn
    claimed_amount: MoneyIn | None = Field(None, description="Leave out to claim the most: min(approved, vendor share)")
    leads_count: int | None = Field(None, ge=0, le=10**9)
    leads_csv_base64: str | None = Field(None, max_length=(MAX_FILE_MB * 1024 * 1024 * 4) // 3 + 8,
                                         description="A CSV lead list (one lead a row under a header) instead of a count")
    note: str = Field("", max_length=5000)
    files: list[FileIn] = Field(..., max_length=5, description="Proof of performance: invoices, screenshots, attendee lists")


class ClaimOut(OutSchema):
    id: str
    request: str
    actual_cost: MoneyOut
    claimed: MoneyOut
    reimbursement: MoneyOut
    leads_count: int
    status: str
    files: list[dict]
    ledger_entry: str | None
    decision_note: str


class ClaimPage(OutSchema):
    items: list[ClaimOut]
    count: int


class ClaimFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the claimed request's title or its partner's name")


class ClaimDecideIn(InputSchema):
    approve: bool
    note: str = Field("", max_length=1000, description="Required to reject")


class RoiOut(OutSchema):
    request: dict
    partner: dict
    program: dict
    campaign_code: str
    cost: MoneyOut
    leads: int
    cost_per_lead: MoneyOut | None
    pipeline: MoneyOut
    won: MoneyOut
    pipeline_per_unit: str | None
    return_per_unit: str | None
    other_currencies: list[str]


class RoiFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the activity's title, its campaign code or the partner's name")
    program: str | None = id_filter(Program)


class RoiPage(OutSchema):
    items: list[RoiOut]
    count: int


# --- renderers ---------------------------------------------------------------------------------


def budget_out(b: Budget) -> dict:
    c = b.currency
    return {"id": b.public_id, "program": ref(b.program), "period_key": b.period_key, "amount": _m(b.amount_minor, c),
            "reserved": _m(b.reserved_minor, c), "spent": _m(b.spent_minor, c), "available": _m(b.available_minor, c),
            "second_approval_above": _m(b.second_approval_above_minor, c), "claim_days": b.claim_days}


def allocation_out(a: Allocation) -> dict:
    c = a.budget.currency
    return {"id": a.public_id, "budget": a.budget.public_id, "program": ref(a.budget.program),
            "period_key": a.budget.period_key, "partner": ref(a.partner), "tier_code": a.tier_code,
            "amount": _m(a.amount_minor, c), "reserved": _m(a.reserved_minor, c), "spent": _m(a.spent_minor, c),
            "available": _m(a.available_minor, c), "adjusted": a.adjusted}


def request_out(r: FundRequest) -> dict:
    c = r.currency
    return {"id": r.public_id, "allocation": r.allocation.public_id, "partner": ref(r.partner),
            "activity_type": r.activity_type, "title": r.title, "description": r.description, "starts_on": r.starts_on,
            "ends_on": r.ends_on, "planned_cost": _m(r.planned_cost_minor, c),
            "co_investment_percent": f"{r.co_investment_percent}", "requested": _m(r.requested_minor, c),
            "approved": _m(r.approved_minor, c), "expected_leads": r.expected_leads,
            "expected_pipeline": _m(r.expected_pipeline_minor, c), "campaign_code": r.campaign_code, "status": r.status,
            "decision_reason": r.decision_reason, "claim_due_on": r.claim_due_on, "created_at": r.created_at}


def claim_out(c: Claim) -> dict:
    cur = c.request.currency
    return {"id": c.public_id, "request": c.request.public_id, "actual_cost": _m(c.actual_cost_minor, cur),
            "claimed": _m(c.claimed_minor, cur), "reimbursement": _m(c.reimbursable_minor, cur),
            "leads_count": c.leads_count, "status": c.status,
            "files": [{"id": f.public_id, "name": f.name, "kind": f.kind, "size": f.size} for f in c.files.all()],
            "ledger_entry": c.ledger_entry.public_id if c.ledger_entry_id else None, "decision_note": c.decision_note}


def _request(user, public_id: str, *, write_check=None) -> FundRequest:
    return access.get_for_user(FundRequest, user, public_id[:40], select=("partner", "allocation__budget__program"),
                               write_check=write_check)


# --- budgets and allocations --------------------------------------------------------------------


@router.get("/mdf/budgets", response={200: BudgetPage, **READ_ERRORS}, operation_id="mdf_budgets_list",
            summary="List MDF budgets", description="Budgets per program and quarter with their balances (vendor staff).")
def budgets_list(request: HttpRequest, filters: Query[BudgetFilters]):
    qs = Budget.objects.visible_to(user_of(request)).select_related("program").order_by("-period_key", "program__name")
    return page(search(qs, filters.q, "program__name", "period_key"), filters, budget_out)


@router.post("/mdf/budgets", response={201: BudgetOut, **WRITE_ERRORS}, operation_id="mdf_budgets_create",
             summary="Create an MDF budget", description="A program's MDF budget for one quarter, in the program's currency. Admins.")
def budget_create(request: HttpRequest, payload: BudgetIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    if not user.is_vendor:
        raise Http404(NOT_FOR_PARTNERS)
    access.require(services.can_manage_budgets(user), services.NO_ROLE_BUDGET)
    program = lookup(Program, user, payload.program, field="program")
    amount = payload.amount.to_money(default_currency=program.currency, field="amount")
    second = (payload.second_approval_above.to_money(default_currency=program.currency, field="second_approval_above")
              if payload.second_approval_above else None)
    for money, field in ((amount, "amount"), (second, "second_approval_above")):
        if money is not None and money.currency != program.currency:
            raise ValidationError({f"{field}.currency": f"MDF budgets are in the program's currency, {program.currency}."})
    return create_once(request, key=idempotency_key, schema=BudgetOut, render=budget_out,
                       make=lambda: services.budget_create(
                           program=program, period_key=payload.period_key, amount_minor=amount.minor,
                           second_approval_above_minor=second.minor if second else None, claim_days=payload.claim_days,
                           actor=user, source="api"))


@router.post("/mdf/budgets/{id}/allocations/generate", response={200: GenerateOut, **WRITE_ERRORS},
             operation_id="mdf_allocations_generate", summary="Generate allocations from tiers",
             description="An allocation of its tier's MDF allowance for every partner enrolled on the quarter's first day "
             "that has none yet. Admins and partner managers.")
def allocations_generate(request: HttpRequest, id: str):
    user = user_of(request)
    budget = access.get_for_user(Budget, user, id[:40], select=("program",))
    access.require(services.can_allocate(user), services.NO_ROLE_ALLOCATE)
    return {"created": services.allocations_generate(budget=budget, actor=user, source="api")}


@router.get("/mdf/allocations", response={200: AllocationPage, **READ_ERRORS}, operation_id="mdf_allocations_list",
            summary="List MDF allocations", description="Vendor staff see every partner's; a partner user its own.")
def allocations_list(request: HttpRequest, filters: Query[AllocationFilters]):
    qs = (Allocation.objects.visible_to(user_of(request)).select_related("budget__program", "partner")
          .order_by("-budget__period_key", "partner__name"))
    return page(search(qs, filters.q, "partner__name", "budget__program__name"), filters, allocation_out)


@router.post("/mdf/allocations/{id}/adjust", response={200: AllocationOut, **WRITE_ERRORS},
             operation_id="mdf_allocations_adjust", summary="Adjust an allocation",
             description="Set a partner's allocation with a reason (audited). An admin or the partner's manager.")
def allocation_adjust(request: HttpRequest, id: str, payload: AdjustIn):
    user = user_of(request)
    allocation = access.get_for_user(Allocation, user, id[:40], select=("budget__program", "partner"),
                                     write_check=lambda u, a: services.can_manage_partner_mdf(u, a.partner))
    amount = payload.amount.to_money(default_currency=allocation.budget.currency, field="amount")
    services.allocation_adjust(allocation=allocation, amount_minor=amount.minor, reason=payload.reason, actor=user,
                               source="api")
    return allocation_out(allocation)


# --- requests ----------------------------------------------------------------------------------


@router.get("/mdf/requests", response={200: RequestPage, **READ_ERRORS}, operation_id="mdf_requests_list",
            summary="List fund requests", description="Newest first; a partner user sees its own partner's.")
def requests_list(request: HttpRequest, filters: Query[RequestFilters]):
    qs = FundRequest.objects.visible_to(user_of(request)).select_related("partner", "allocation")
    qs = search(qs, filters.q, "title", "campaign_code", "partner__name")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.activity_type:
        qs = qs.filter(activity_type=filters.activity_type)
    return page(qs.order_by("-created_at", "-id"), filters, request_out)


@router.post("/mdf/requests", response={201: RequestOut, **WRITE_ERRORS}, operation_id="mdf_requests_create",
             summary="Request funds", description="A partner admin or rep asks for the vendor's share of a planned activity "
             "(planned cost less the co-investment) from one of its allocations.")
def request_create(request: HttpRequest, payload: RequestIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    allocation = lookup(Allocation, user, payload.allocation, field="allocation")
    currency = allocation.budget.currency
    cost = payload.planned_cost.to_money(default_currency=currency, field="planned_cost")
    pipeline = (payload.expected_pipeline.to_money(default_currency=currency, field="expected_pipeline")
                if payload.expected_pipeline else Money(0, currency))
    for money, field in ((cost, "planned_cost"), (pipeline, "expected_pipeline")):
        if money.currency != currency:
            raise ValidationError({f"{field}.currency": f"This allocation is in {currency}."})
    return create_once(request, key=idempotency_key, schema=RequestOut, render=request_out,
                       make=lambda: services.request_create(
                           allocation=allocation, actor=user, activity_type=payload.activity_type, title=payload.title,
                           description=payload.description, starts_on=payload.starts_on, ends_on=payload.ends_on,
                           planned_cost_minor=cost.minor, co_investment_percent=payload.co_investment_percent,
                           expected_leads=payload.expected_leads, expected_pipeline_minor=pipeline.minor,
                           campaign_code=payload.campaign_code, source="api"))


@router.get("/mdf/requests/{id}", response={200: RequestOut, **READ_ERRORS}, operation_id="mdf_requests_get",
            summary="A fund request", description="Its plan, the decision, the approved amount and the claim deadline.")
def request_get(request: HttpRequest, id: str):
    return request_out(_request(user_of(request), id))


@router.post("/mdf/requests/{id}/decide", response={200: RequestOut, **WRITE_ERRORS}, operation_id="mdf_requests_decide",
             summary="Decide a fund request", description="Approve in full, in part (with a reason) or reject (with a "
             "reason); the approved amount is reserved. An admin or the partner's manager.")
def request_decide(request: HttpRequest, id: str, payload: DecideIn):
    user = user_of(request)
    fund_request = _request(user, id, write_check=lambda u, r: services.can_manage_partner_mdf(u, r.partner))
    amount = (payload.approved_amount.to_money(default_currency=fund_request.currency, field="approved_amount").minor
              if payload.approved_amount else None)
    services.request_decide(request=fund_request, actor=user, approve=payload.approve, approved_minor=amount,
                            reason=payload.reason, source="api")
    return request_out(fund_request)


@router.post("/mdf/requests/{id}/second-approval", response={200: RequestOut, **WRITE_ERRORS},
             operation_id="mdf_requests_second_approval", summary="Second approval of a large request",
             description="An admin other than the first approver confirms or rejects an approval above the budget's threshold.")
def request_second(request: HttpRequest, id: str, payload: SecondIn):
    user = user_of(request)
    fund_request = _request(user, id, write_check=lambda u, r: services.can_second_approve(u))
    services.request_second_approve(request=fund_request, actor=user, approve=payload.approve, reason=payload.reason,
                                    source="api")
    return request_out(fund_request)


def _decode(content: str, name: str, field: str) -> SimpleUploadedFile:
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({field: f"{name}: content_base64 is not valid base64."}) from None
    return SimpleUploadedFile(name, data)


@router.post("/mdf/requests/{id}/claims", response={201: ClaimOut, **WRITE_ERRORS}, operation_id="mdf_claims_create",
             summary="Claim an approved request", description="After the activity: actual cost, proof files and the leads "
             "delivered. The reimbursement is min(approved, vendor share of the actual cost, the amount claimed).")
def claim_create(request: HttpRequest, id: str, payload: ClaimIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    fund_request = _request(user, id, write_check=lambda u, r: services.can_request(u, r.partner_id))
    currency = fund_request.currency
    actual = payload.actual_cost.to_money(default_currency=currency, field="actual_cost")
    claimed = payload.claimed_amount.to_money(default_currency=currency, field="claimed_amount") if payload.claimed_amount else None
    files = [(f.kind, _decode(f.content_base64, f.name, "files")) for f in payload.files]
    leads_file = _decode(payload.leads_csv_base64, "leads.csv", "leads_csv_base64") if payload.leads_csv_base64 else None
    return create_once(request, key=idempotency_key, schema=ClaimOut, render=claim_out,
                       make=lambda: services.claim_create(
                           request=fund_request, actor=user, actual_cost_minor=actual.minor,
                           claimed_minor=claimed.minor if claimed else None, files=files, leads_file=leads_file,
                           leads_count=payload.leads_count, note=payload.note, source="api"))


@router.get("/mdf/claims", response={200: ClaimPage, **READ_ERRORS}, operation_id="mdf_claims_list",
            summary="List claims", description="Newest first; a partner user sees its own partner's.")
def claims_list(request: HttpRequest, filters: Query[ClaimFilters]):
    qs = (Claim.objects.visible_to(user_of(request)).select_related("request", "ledger_entry")
          .prefetch_related("files").order_by("-created_at", "-id"))
    return page(search(qs, filters.q, "request__title", "request__partner__name"), filters, claim_out)


@router.post("/mdf/claims/{id}/decide", response={200: ClaimOut, **WRITE_ERRORS}, operation_id="mdf_claims_decide",
             summary="Decide a claim", description="Finance approves (the reimbursement is posted to the partner's ledger "
             "and statement) or rejects with a note. Finance and admins.")
def claim_decide(request: HttpRequest, id: str, payload: ClaimDecideIn):
    user = user_of(request)
    claim = access.get_for_user(Claim, user, id[:40], select=("request",),
                                write_check=lambda u, c: services.can_decide_claims(u))
    services.claim_decide(claim=claim, actor=user, approve=payload.approve, note=payload.note, source="api")
    return claim_out(Claim.objects.select_related("request", "ledger_entry").get(pk=claim.pk))


# --- ROI ---------------------------------------------------------------------------------------


@router.get("/mdf/roi", response={200: RoiPage, **READ_ERRORS}, operation_id="mdf_roi",
            summary="ROI per activity", description="Cost, leads, cost per lead, pipeline and won revenue of the "
            "opportunities carrying each activity's campaign code, and the return per currency unit.")
def roi(request: HttpRequest, filters: Query[RoiFilters]):
    user = user_of(request)
    program = lookup(Program, user, filters.program, field="program") if filters.program else None
    rows = selectors.activity_rois(user=user, program=program, q=filters.q)
    items = []
    for row in rows[filters.offset: filters.offset + filters.limit]:
        r, c = row.request, row.request.currency
        items.append({"request": ref(r), "partner": ref(r.partner), "program": ref(r.allocation.budget.program),
                      "campaign_code": r.campaign_code, "cost": _m(row.roi.cost_minor, c), "leads": row.roi.leads,
                      "cost_per_lead": _m(row.roi.cost_per_lead_minor, c), "pipeline": _m(row.roi.pipeline_minor, c),
                      "won": _m(row.roi.won_minor, c),
                      "pipeline_per_unit": None if row.roi.pipeline_per_unit is None else f"{row.roi.pipeline_per_unit}",
                      "return_per_unit": None if row.roi.return_per_unit is None else f"{row.roi.return_per_unit}",
                      "other_currencies": row.other_currencies})
    return {"items": items, "count": len(rows)}
