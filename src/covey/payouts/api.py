"""Payouts over the API: statements with their lines (acknowledge, dispute, decide, approve), payout
batches (create, payment file, mark paid), quarter runs, the FX table, ledger entries, deal events
and the simulator.

Statements, lines, disputes and ledger entries are read through ``visible_to``: a partner user sees
its own partner's and nothing else (others' ids answer 404). Runs, FX rates, batches and simulations
are the vendor's: a partner user gets 404, other staff read them, finance and admins change them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router
from pydantic import StrictInt, field_validator

from covey.core import access
from covey.core.api import (
    ApiError,
    create_once,
    idempotency_key_header,
    lookup,
    page,
    search,
    user_of,
)
from covey.core.money import Money, MoneyError, parse_amount
from covey.core.schemas import (
    FLOAT_REFUSED,
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    MoneyOut,
    OutSchema,
    Paging,
    Ref,
    id_filter,
    money_out,
    quarter_filter,
    ref,
)
from covey.crm.models import DealEvent, DealEventKind, Opportunity
from covey.partners.models import Partner
from covey.payouts import selectors, services
from covey.payouts import statements as S
from covey.payouts.models import (
    BatchStatus,
    Dispute,
    LedgerEntry,
    PayoutBatch,
    PayoutRun,
    Source,
    Statement,
    StatementStatus,
)
from covey.programs.models import Program, ProgramVersion, VersionStatus

router = Router(tags=["payouts"])

MAX_MINOR = 10**15 - 1


def _vendor(user) -> None:
    selectors.require_vendor(user)


def _finance(user) -> None:
    selectors.require_vendor(user)
    access.require(selectors.is_finance(user), selectors.NO_FINANCE)


def _money(minor: int | None, currency: str) -> dict | None:
    return None if minor is None else money_out(Money(minor, currency))


# --- shapes ------------------------------------------------------------------------------------------


class EntryOut(OutSchema):
    id: str
    partner: Ref
    program: Ref
    period: str
    source: Source
    rule_kind: str
    opportunity: Ref | None
    explanation: str
    base: MoneyOut | None
    rate: str | None = Field(None, description="A fraction as a decimal string: \"0.3\" is 30 %")
    amount: MoneyOut
    reverses: str | None = Field(None, description="The id of the entry this one reverses")
    payable_on: date | None
    awaits_payment: bool
    posted_at: datetime


def entry_out(e: LedgerEntry) -> dict:
    return {"id": e.public_id, "partner": ref(e.partner), "program": ref(e.program), "period": e.period_key,
            "source": e.source, "rule_kind": e.rule_kind, "opportunity": ref(e.opportunity) if e.opportunity_id else None,
            "explanation": e.explanation, "base": _money(e.base_minor, e.currency),
            "rate": None if e.rate is None else str(e.rate.normalize()), "amount": _money(e.amount_minor, e.currency),
            "reverses": LedgerEntry(pk=e.reverses_id).public_id if e.reverses_id else None,
            "payable_on": e.payable_on, "awaits_payment": e.awaits_payment, "posted_at": e.posted_at}


class EntryPage(OutSchema):
    items: list[EntryOut]
    count: int


class LineFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Text in the line's explanation")


class DisputeFileOut(OutSchema):
    name: str
    size: int
    content_type: str
    uploaded_at: datetime


class DisputeOut(OutSchema):
    id: str
    statement: str
    line: str
    comment: str
    status: str
    resolution: str
    adjustment: EntryOut | None
    opened_by: Ref | None
    resolved_by: Ref | None
    created_at: datetime
    resolved_at: datetime | None
    files: list[DisputeFileOut]


def dispute_out(d: Dispute) -> dict:
    adjustment = None
    if d.adjustment_id:
        adjustment = entry_out(LedgerEntry.objects.select_related("partner", "program", "opportunity").get(pk=d.adjustment_id))
    return {"id": d.public_id, "statement": d.statement.public_id, "line": LedgerEntry(pk=d.entry_id).public_id,
            "comment": d.comment, "status": d.status, "resolution": d.resolution, "adjustment": adjustment,
            "opened_by": ref(d.opened_by), "resolved_by": ref(d.resolved_by), "created_at": d.created_at,
            "resolved_at": d.resolved_at,
            "files": [{"name": f.name, "size": f.size, "content_type": f.content_type, "uploaded_at": f.uploaded_at}
                      for f in d.files.all()]}


class StatementOut(OutSchema):
    id: str
    partner: Ref
    program: Ref
    period: str
    period_end: date
    status: StatementStatus
    total: MoneyOut
    acknowledged_at: datetime | None
    approved_at: datetime | None
    paid_at: datetime | None
    batch: str | None


def statement_out(s: Statement) -> dict:
    return {"id": s.public_id, "partner": ref(s.partner), "program": ref(s.program), "period": s.period_key,
            "period_end": s.period_end, "status": s.status, "total": _money(s.total_minor, s.currency),
            "acknowledged_at": s.acknowledged_at, "approved_at": s.approved_at, "paid_at": s.paid_at,
            "batch": s.batch.public_id if s.batch_id else None}


class StatementDetailOut(StatementOut):
    lines: list[EntryOut]
    disputes: list[DisputeOut]


class StatementPage(OutSchema):
    items: list[StatementOut]
    count: int


class StatementFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the partner's or the program's name")
    status: StatementStatus | None = None
    program: str | None = id_filter(Program)
    period: str | None = quarter_filter()
    partner: str | None = id_filter(Partner)


class ResolveIn(InputSchema):
    decision: str = Field(..., pattern="^(accept|reject)$", description="accept (post an adjustment) or reject")
    amount: str | None = Field(None, max_length=24, description='Accept: the adjustment in major units, e.g. "600.00" (negative takes back)')
    amount_minor: StrictInt | None = Field(None, ge=-MAX_MINOR, le=MAX_MINOR, description="Or the adjustment in minor units")
    note: str = Field(..., max_length=2000, description="The reason; the partner reads it")

    @field_validator("amount", mode="before")
    @classmethod
    def _text(cls, value):
        if isinstance(value, float):
            raise ValueError(FLOAT_REFUSED)
        return value


class BatchOut(OutSchema):
    id: str
    status: BatchStatus
    total: MoneyOut
    statements: list[str]
    created_at: datetime
    paid_at: datetime | None
    reference: str


def batch_out(b: PayoutBatch) -> dict:
    return {"id": b.public_id, "status": b.status, "total": _money(b.total_minor, b.currency),
            "statements": list(b.statements.order_by("id").values_list("public_id", flat=True)),
            "created_at": b.created_at, "paid_at": b.paid_at, "reference": b.reference}


class BatchPage(OutSchema):
    items: list[BatchOut]
    count: int


class BatchFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the payment reference")


class BatchIn(InputSchema):
    currency: str = Field(..., min_length=3, max_length=3)


class PaidIn(InputSchema):
    reference: str = Field("", max_length=100)


class RunOut(OutSchema):
    id: str
    program: Ref
    period: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    figures: dict


def run_out(r: PayoutRun) -> dict:
    return {"id": r.public_id, "program": ref(r.program), "period": r.period_key, "kind": r.kind, "status": r.status,
            "started_at": r.started_at, "finished_at": r.finished_at, "figures": r.figures}


class RunPage(OutSchema):
    items: list[RunOut]
    count: int


class RunFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the program's name or the quarter (2026Q3)")


class RunIn(InputSchema):
    program: str = Field(..., max_length=40)
    period: str = Field(..., max_length=8, description="A closed fiscal quarter such as 2026Q3")


class FxOut(OutSchema):
    period: str
    currency: str
    base_currency: str
    per_base: str = Field(..., description="Base-currency units one unit was worth, as a decimal string")


def fx_out(f) -> dict:
    return {"period": f.period_key, "currency": f.currency, "base_currency": f.base_currency,
            "per_base": str(Decimal(f.per_base).normalize())}


class FxPage(OutSchema):
    items: list[FxOut]
    count: int


class FxFilters(Paging):
    period: str | None = quarter_filter()


class FxIn(InputSchema):
    period: str = Field(..., max_length=8)
    currency: str = Field(..., max_length=3)
    per_base: str = Field(..., max_length=24, description='A decimal string such as "1.0842"')

    @field_validator("per_base", mode="before")
    @classmethod
    def _text(cls, value):
        if isinstance(value, float):
            raise ValueError("Send the rate as a decimal string such as \"1.0842\"; floats are not exact.")
        return value


class LedgerFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Text in the entry's explanation")
    period: str | None = quarter_filter()
    partner: str | None = id_filter(Partner)
    program: str | None = id_filter(Program)
    source: Source | None = None


class DealEventOut(OutSchema):
    id: str
    opportunity: str
    kind: DealEventKind
    occurred_on: date
    amount: MoneyOut | None
    note: str
    created_at: datetime


def deal_event_out(e: DealEvent) -> dict:
    return {"id": e.public_id, "opportunity": e.opportunity.public_id, "kind": e.kind, "occurred_on": e.occurred_on,
            "amount": _money(e.amount_minor, e.opportunity.currency), "note": e.note, "created_at": e.created_at}


class DealEventPage(OutSchema):
    items: list[DealEventOut]
    count: int


class DealEventIn(InputSchema):
    kind: DealEventKind
    occurred_on: date
    amount: str | None = Field(None, max_length=24, description="Payments and refunds: major units in the deal's currency")
    amount_minor: StrictInt | None = Field(None, ge=0, le=MAX_MINOR)
    note: str = Field("", max_length=300)

    @field_validator("amount", mode="before")
    @classmethod
    def _text(cls, value):
        if isinstance(value, float):
            raise ValueError(FLOAT_REFUSED)
        return value


class SimulateIn(InputSchema):
    version: str = Field(..., max_length=40, description="A draft program version's id")
    periods: list[str] = Field(..., min_length=1, max_length=10, description="Closed quarters, e.g. [\"2026Q2\", \"2026Q3\"]")


class SimulationRow(OutSchema):
    partner: str
    currency: str
    posted: MoneyOut
    simulated: MoneyOut
    difference: MoneyOut


class SimulationOut(OutSchema):
    id: str
    version: Ref
    periods: list[str]
    totals: dict[str, dict[str, MoneyOut]]
    gainers: int
    losers: int
    rows: list[SimulationRow]


def simulation_out(run: PayoutRun) -> dict:
    figures = run.figures
    return {
        "id": run.public_id, "version": ref(run.version), "periods": figures.get("quarters", []),
        "totals": {c: {k: money_out(Money(v, c)) for k, v in t.items()} for c, t in figures.get("totals", {}).items()},
        "gainers": figures.get("gainers", 0), "losers": figures.get("losers", 0),
        "rows": [{"partner": r["partner"], "currency": r["currency"], "posted": money_out(Money(r["posted"], r["currency"])),
                  "simulated": money_out(Money(r["simulated"], r["currency"])),
                  "difference": money_out(Money(r["difference"], r["currency"]))} for r in figures.get("rows", [])],
    }


# --- statements ----------------------------------------------------------------------------------------


def _statement(request: HttpRequest, id: str) -> Statement:
    return access.get_for_user(Statement, user_of(request), id, select=("partner", "program", "batch"))


def _statement_detail(s: Statement) -> dict:
    lines = selectors.statement_lines(s)
    for e in lines:
        e.partner, e.program = s.partner, s.program
    return {**statement_out(s), "lines": [entry_out(e) for e in lines],
            "disputes": [dispute_out(d) for d in s.disputes.select_related("statement", "opened_by", "resolved_by")
                         .prefetch_related("files")]}


@router.get("/payouts/statements", response={200: StatementPage, **READ_ERRORS}, operation_id="statements_list",
            summary="List statements", description="A partner user sees its own partner's statements only.")
def statement_list(request: HttpRequest, filters: Query[StatementFilters]):
    qs = search(selectors.statements(user=user_of(request)), filters.q, "partner__name", "program__name")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.program:
        qs = qs.filter(program__public_id=filters.program)
    if filters.period:
        qs = qs.filter(period_key=filters.period.strip().upper())
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    return page(qs.order_by("-period_end", "partner__name", "id"), filters, statement_out)


@router.get("/payouts/statements/{id}", response={200: StatementDetailOut, **READ_ERRORS}, operation_id="statements_get",
            summary="Get a statement", description="The statement with every line (its explanation) and its disputes.")
def statement_get(request: HttpRequest, id: str):
    return _statement_detail(_statement(request, id))


@router.get("/payouts/statements/{id}/lines", response={200: EntryPage, **READ_ERRORS}, operation_id="statements_lines",
            summary="A statement's lines", description="The ledger entries on the statement, in posting order.")
def statement_lines(request: HttpRequest, id: str, filters: Query[LineFilters]):
    s = _statement(request, id)
    qs = LedgerEntry.objects.filter(statement_line__statement=s).select_related("partner", "program", "opportunity")
    return page(search(qs, filters.q, "explanation").order_by("posted_at", "id"), filters, entry_out)


@router.post("/payouts/statements/{id}/acknowledge", response={200: StatementDetailOut, **WRITE_ERRORS},
             operation_id="statements_acknowledge", summary="Acknowledge a statement",
             description="The partner's admins agree with every line of a draft statement without open disputes.")
def statement_acknowledge(request: HttpRequest, id: str):
    s, user = _statement(request, id), user_of(request)
    access.require(selectors.is_partner_admin_of(user, s.partner_id), selectors.NO_PARTNER_ADMIN)
    return _statement_detail(S.statement_acknowledge(statement=s, actor=user, source="api"))


@router.post("/payouts/statements/{id}/approve", response={200: StatementDetailOut, **WRITE_ERRORS},
             operation_id="statements_approve", summary="Approve a statement for payment",
             description="Finance approves a draft or acknowledged statement without open disputes.")
def statement_approve(request: HttpRequest, id: str):
    s, user = _statement(request, id), user_of(request)
    access.require(selectors.is_finance(user), selectors.NO_FINANCE)
    return _statement_detail(S.statement_approve(statement=s, actor=user, source="api"))


DISPUTE_BODY = {
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["line", "comment"], "properties": {
            "line": {"type": "string", "description": "The id of the line (ledger entry) disputed"},
            "comment": {"type": "string", "maxLength": 5000},
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 5},
        }}},
        "application/json": {"schema": {"type": "object", "required": ["line", "comment"], "additionalProperties": False,
                                         "properties": {"line": {"type": "string"}, "comment": {"type": "string"}}}},
    },
}


def _dispute_input(request: HttpRequest, *, keyed: bool) -> tuple[str, str, list]:
    """line, comment and files from a multipart form (with files) or a JSON object (without)."""
    if request.content_type == "multipart/form-data":
        if keyed:
            # The Idempotency-Key compares request bodies, which Django keeps only when it is read before
            # the form is parsed (and then only up to MAX_REQUEST_BYTES in all).
            request.body  # noqa: B018
        data, files = request.POST, request.FILES.getlist("files")
        unknown = set(data) - {"line", "comment"}
    else:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise ApiError(400, "bad_input", "The body is neither JSON nor a multipart form.") from None
        if not isinstance(data, dict):
            raise ValidationError("Send a JSON object with line and comment.")
        files, unknown = [], set(data) - {"line", "comment"}
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    line, comment = data.get("line"), data.get("comment")
    if not isinstance(line, str) or not line.strip():
        raise ValidationError({"line": "Name the disputed line by its id."})
    if not isinstance(comment, str):
        raise ValidationError({"comment": S.COMMENT_REQUIRED})
    return line.strip()[:40], comment, files


@router.post("/payouts/statements/{id}/disputes", response={201: DisputeOut, **WRITE_ERRORS},
             operation_id="statements_dispute", summary="Dispute a line", openapi_extra={"requestBody": DISPUTE_BODY},
             description="The partner's admins dispute one line: multipart/form-data with line (the entry id), comment "
                         "and up to five files (PDF, PNG, JPEG, CSV, XLSX; 5 MB each), or JSON without files. Send an "
                         "Idempotency-Key header to make retries safe (with files: at most MAX_REQUEST_BYTES in all).")
def statement_dispute(request: HttpRequest, id: str, idempotency_key: str | None = idempotency_key_header()):
    s, user = _statement(request, id), user_of(request)
    access.require(selectors.is_partner_admin_of(user, s.partner_id), selectors.NO_PARTNER_ADMIN)
    line, comment, files = _dispute_input(request, keyed=idempotency_key is not None)
    entry = LedgerEntry.objects.by_public_id(line).filter(statement_line__statement=s).first()
    if entry is None:
        raise ValidationError({"line": S.NOT_ON_STATEMENT})
    return create_once(request, key=idempotency_key, schema=DisputeOut, render=dispute_out,
                       make=lambda: S.line_dispute(statement=s, entry=entry, actor=user, comment=comment,
                                                   files=files, source="api"))


@router.get("/payouts/disputes/{id}", response={200: DisputeOut, **READ_ERRORS}, operation_id="disputes_get",
            summary="Get a dispute", description="A dispute with its files and, once decided, the decision.")
def dispute_get(request: HttpRequest, id: str):
    return dispute_out(selectors.dispute_for(user_of(request), id))


@router.post("/payouts/disputes/{id}/resolve", response={200: DisputeOut, **WRITE_ERRORS}, operation_id="disputes_resolve",
             summary="Decide a dispute",
             description="Finance accepts with an adjustment (posted to the ledger, put on the statement) or rejects with a reason.")
def dispute_resolve(request: HttpRequest, id: str, payload: ResolveIn):
    user = user_of(request)
    dispute = selectors.dispute_for(user, id)
    access.require(selectors.is_finance(user), selectors.NO_FINANCE)
    amount = 0
    if payload.decision == "accept":
        currency = dispute.statement.currency
        if payload.amount is None and payload.amount_minor is None:
            raise ValidationError({"amount": "Accepting needs the adjustment: amount or amount_minor."})
        try:
            from_text = parse_amount(payload.amount, currency).minor if payload.amount is not None else None
        except MoneyError as exc:
            raise ValidationError({"amount": str(exc)}) from None
        if from_text is not None and payload.amount_minor is not None and from_text != payload.amount_minor:
            raise ValidationError({"amount": "amount and amount_minor disagree; send one of them."})
        amount = from_text if from_text is not None else payload.amount_minor
        if not amount or abs(amount) > MAX_MINOR:
            raise ValidationError({"amount": "Give an adjustment other than zero; to change nothing, reject."})
    S.dispute_resolve(dispute=dispute, actor=user, amount_minor=amount, note=payload.note, source="api")
    return dispute_out(selectors.dispute_for(user, id))


# --- batches -----------------------------------------------------------------------------------------------


def _batch(request: HttpRequest, id: str) -> PayoutBatch:
    _vendor(user_of(request))
    batch = PayoutBatch.objects.filter(public_id=id).first()
    if batch is None:
        raise Http404("No payout batch with that id")
    return batch


@router.get("/payouts/batches", response={200: BatchPage, **READ_ERRORS}, operation_id="batches_list",
            summary="List payout batches", description="Vendor staff only.")
def batch_list(request: HttpRequest, filters: Query[BatchFilters]):
    _vendor(user_of(request))
    batches = search(PayoutBatch.objects.all(), filters.q, "reference")
    return page(batches.order_by("-created_at", "-id"), filters, batch_out)


@router.post("/payouts/batches", response={201: BatchOut, **WRITE_ERRORS}, operation_id="batches_create",
             summary="Create a payout batch",
             description="Every approved, unpaid statement in the currency with something to pay. Send an Idempotency-Key "
                         "header to make retries safe.")
def batch_create(request: HttpRequest, payload: BatchIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    _finance(user)
    return create_once(request, key=idempotency_key, schema=BatchOut, render=batch_out,
                       make=lambda: S.batch_create(currency=payload.currency.strip().upper(), actor=user, source="api"))


@router.get("/payouts/batches/{id}", response={200: BatchOut, **READ_ERRORS}, operation_id="batches_get",
            summary="Get a payout batch", description="The batch with its statements, total and payment state (finance and admins).")
def batch_get(request: HttpRequest, id: str):
    return batch_out(_batch(request, id))


@router.get("/payouts/batches/{id}/csv", response={200: str, **READ_ERRORS}, operation_id="batches_csv",
            summary="The batch's payment file", description="CSV, one row per statement; finance and admins only.")
def batch_csv(request: HttpRequest, id: str):
    batch = _batch(request, id)
    _finance(user_of(request))
    response = HttpResponse(S.batch_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payout-batch-{batch.public_id}.csv"'
    return response


@router.post("/payouts/batches/{id}/mark-paid", response={200: BatchOut, **WRITE_ERRORS}, operation_id="batches_mark_paid",
             summary="Mark a batch paid", description="Every statement in it becomes paid; recorded and audited.")
def batch_mark_paid(request: HttpRequest, id: str, payload: PaidIn):
    batch = _batch(request, id)
    user = user_of(request)
    _finance(user)
    return batch_out(S.batch_mark_paid(batch=batch, actor=user, reference=payload.reference, source="api"))


# --- runs and the FX table ------------------------------------------------------------------------------


@router.get("/payouts/runs", response={200: RunPage, **READ_ERRORS}, operation_id="runs_list",
            summary="List payout runs", description="Posted quarter runs, newest first; vendor staff only.")
def run_list(request: HttpRequest, filters: Query[RunFilters]):
    _vendor(user_of(request))
    runs = search(selectors.runs(), filters.q, "program__name", "period_key")
    return page(runs.order_by("-started_at", "-id"), filters, run_out)


@router.post("/payouts/runs", response={201: RunOut, **WRITE_ERRORS}, operation_id="runs_start",
             summary="Run a quarter",
             description="Compute a program's closed quarter and post the difference to the ledger. Missing FX rates "
                         "answer 422 naming them (field fx), and nothing is posted. Idempotency-Key supported.")
def run_start(request: HttpRequest, payload: RunIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    _finance(user)
    program = lookup(Program, user, payload.program, field="program")
    return create_once(request, key=idempotency_key, schema=RunOut, render=run_out,
                       make=lambda: services.quarter_run(program=program, period_key=payload.period, actor=user, source="api"))


@router.get("/payouts/fx-rates", response={200: FxPage, **READ_ERRORS}, operation_id="fx_rates_list",
            summary="List FX rates", description="The per-quarter FX table; vendor staff only.")
def fx_list(request: HttpRequest, filters: Query[FxFilters]):
    from covey.payouts.models import FxRate

    _vendor(user_of(request))
    qs = FxRate.objects.all()
    if filters.period:
        qs = qs.filter(period_key=filters.period.strip().upper())
    return page(qs.order_by("-period_key", "currency"), filters, fx_out)


@router.post("/payouts/fx-rates", response={201: FxOut, **WRITE_ERRORS}, operation_id="fx_rates_set",
             summary="Add or change an FX rate", description="One rate per quarter and currency. Idempotency-Key supported.")
def fx_set(request: HttpRequest, payload: FxIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    _finance(user)
    return create_once(request, key=idempotency_key, schema=FxOut, render=fx_out,
                       make=lambda: services.fx_rate_set(period_key=payload.period, currency=payload.currency,
                                                         per_base=payload.per_base, actor=user, source="api"))


# --- the ledger ----------------------------------------------------------------------------------------------


@router.get("/payouts/ledger", response={200: EntryPage, **READ_ERRORS}, operation_id="ledger_list",
            summary="List ledger entries", description="A partner user sees its own partner's entries only.")
def ledger_list(request: HttpRequest, filters: Query[LedgerFilters]):
    qs = search(selectors.entries(user=user_of(request)), filters.q, "explanation")
    if filters.period:
        qs = qs.filter(period_key=filters.period.strip().upper())
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.program:
        qs = qs.filter(program__public_id=filters.program)
    if filters.source:
        qs = qs.filter(source=filters.source)
    return page(qs.order_by("-posted_at", "-id"), filters, entry_out)


# --- deal events ------------------------------------------------------------------------------------------------


@router.get("/opportunities/{id}/events", response={200: DealEventPage, **READ_ERRORS}, operation_id="deal_events_list",
            summary="A deal's payment and customer events", description="Vendor staff only.")
def deal_event_list(request: HttpRequest, id: str, paging: Query[Paging]):
    user = user_of(request)
    opportunity = access.get_for_user(Opportunity, user, id)
    _vendor(user)
    return page(opportunity.events.select_related("opportunity").order_by("occurred_on", "id"), paging, deal_event_out)


@router.post("/opportunities/{id}/events", response={201: DealEventOut, **WRITE_ERRORS}, operation_id="deal_events_create",
             summary="Record a payment, churn, refund or adoption",
             description="Finance and admins, on won deals. Payouts read it at the next run of its quarter. "
                         "Idempotency-Key supported.")
def deal_event_create(request: HttpRequest, id: str, payload: DealEventIn,
                      idempotency_key: str | None = idempotency_key_header()):
    from covey.crm import services as crm

    user = user_of(request)
    opportunity = access.get_for_user(Opportunity, user, id, write_check=lambda u, _o: selectors.is_finance(u))
    amount = payload.amount_minor
    if payload.amount is not None:
        try:
            money = parse_amount(payload.amount, opportunity.currency)
        except MoneyError as exc:
            raise ValidationError({"amount": str(exc)}) from None
        if amount is not None and amount != money.minor:
            raise ValidationError({"amount": "amount and amount_minor disagree; send one of them."})
        amount = money.minor
    return create_once(request, key=idempotency_key, schema=DealEventOut, render=deal_event_out,
                       make=lambda: crm.deal_event_record(opportunity=opportunity, kind=payload.kind,
                                                          occurred_on=payload.occurred_on, amount_minor=amount,
                                                          note=payload.note, actor=user, source="api"))


# --- the simulator ------------------------------------------------------------------------------------------------


@router.post("/payouts/simulations", response={201: SimulationOut, **WRITE_ERRORS}, operation_id="simulations_create",
             summary="Simulate a draft version over closed quarters",
             description="Replays the quarters under the draft and compares with what the ledger holds; posts nothing.")
def simulation_create(request: HttpRequest, payload: SimulateIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    _finance(user)
    draft = ProgramVersion.objects.filter(public_id=payload.version, status=VersionStatus.DRAFT).select_related("program").first()
    if draft is None:
        raise ValidationError({"version": f"No draft program version with id {payload.version!r}."})
    return create_once(request, key=idempotency_key, schema=SimulationOut, render=simulation_out,
                       make=lambda: services.simulate(draft=draft, period_keys=[p.strip().upper() for p in payload.periods],
                                                      actor=user, source="api"))
