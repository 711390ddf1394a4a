"""MDF workflows: budgets, allocations, requests and their decisions, claims, reimbursement, deadlines.

Locking order (see the models' docstring): claim → request → budget → allocation, each with
``select_for_update``. Every balance check happens after the locks, on the figures just re-read, and
every balance write uses ``F()``; the CHECK constraints are the last line of defence.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from covey.core import audit
from covey.core.models import StaffRole, User, VendorSettings
from covey.core.money import Money
from covey.core.notify import notify
from covey.core.schemas import money_out
from covey.core.uploads import check_files
from covey.core.validators import clean_text
from covey.mdf import rules
from covey.mdf.models import (
    ActivityType,
    Allocation,
    Budget,
    Claim,
    ClaimFile,
    ClaimStatus,
    FileKind,
    FundRequest,
    RequestStatus,
)
from covey.partners.models import Partner
from covey.programs.models import Enrolment, Program

MAX_MINOR = 10**15 - 1
REMINDER_DAYS = 7

NOT_QUARTER = "Name a fiscal quarter such as 2026Q3."
BUDGET_EXISTS = "{program} already has a budget for {period}."
NO_ROLE_BUDGET = "Only admins create MDF budgets."
NO_ROLE_ALLOCATE = "Only admins and partner managers allocate MDF."
NO_ROLE_ADJUST = "Only an admin or the partner's manager adjusts its allocation."
REASON_REQUIRED = "Give a reason; it is kept in the audit trail and the partner's manager reads it."
BELOW_COMMITTED = "The allocation cannot be less than what is already approved or spent ({committed})."
NOT_PARTNER_WRITER = "Only the partner's admins and reps request funds and claim them."
OVER_BALANCE = "The vendor share of this plan ({wanted}) is more than the available balance of {available}."
OVER_BUDGET = "The budget has only {available} left; approve at most that."
END_BEFORE_START = "The end date is before the start date."
SHARE_RANGE = "The co-investment share is a percent from 0 up to (not including) 100, e.g. 30 or 25.5."
TITLE_REQUIRED = "Give the activity a short title."
CAMPAIGN_REQUIRED = "Give a campaign code; opportunities carrying it count towards this activity's ROI."
CAMPAIGN_FORMAT = "Use letters, digits, dashes and underscores only (at most 40), e.g. WEB-2026-Q3."
COST_POSITIVE = "The planned cost must be more than zero."
AMOUNT_RANGE = "Amounts must be between 0 and {max}."
NOT_SUBMITTED = "This request has already been decided."
NO_ROLE_DECIDE = "Only an admin or the partner's manager decides its fund requests."
APPROVE_POSITIVE = "Approve more than zero, or reject the request."
OVER_REQUESTED = "Approve at most the requested {requested}."
NOT_AWAITING_SECOND = "This request does not await a second approval."
NO_ROLE_SECOND = "Only an admin gives the second approval."
SAME_APPROVER = "The second approval must come from a different admin than the first."
CANNOT_CLAIM = "Only an approved request without an open claim can be claimed."
CLAIM_TOO_EARLY = "Claim once the activity has ended ({ends_on})."
CLAIM_TOO_LATE = "The claim deadline was {due}; the approval has lapsed."
CLAIM_OVER_APPROVED = "The claim ({claimed}) is more than the approved amount of {approved}."
PROOF_REQUIRED = "Attach proof of performance: at least one invoice, screenshot or attendee list."
LEADS_NOT_CSV = "The lead list must be a CSV file with one lead per row under a header row."
LEADS_COUNT = "Leads delivered is a whole number from 0."
NO_ROLE_FINANCE = "Only finance and admins decide claims."
CLAIM_DECIDED = "This claim has already been decided."
NOTE_REQUIRED = "Say why; the partner reads it."
FOREIGN_REQUEST = "No fund request with that id."


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _money(minor: int, currency: str) -> str:
    return Money(minor, currency).plain()


def _check_minor(value, field: str, currency: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MINOR:
        raise ValidationError({field: AMOUNT_RANGE.format(max=_money(MAX_MINOR, currency))})
    return value


# --- who may -----------------------------------------------------------------------------------


def can_manage_budgets(user) -> bool:
    return user.is_authenticated and user.staff_role == StaffRole.ADMIN


def can_allocate(user) -> bool:
    return user.is_authenticated and user.staff_role in (StaffRole.ADMIN, StaffRole.PARTNER_MANAGER)


def can_manage_partner_mdf(user, partner: Partner) -> bool:
    """An admin, or the partner manager who owns the partner: adjusts allocations, decides requests."""
    if not user.is_authenticated:
        return False
    if user.staff_role == StaffRole.ADMIN:
        return True
    return user.staff_role == StaffRole.PARTNER_MANAGER and partner.owner_id == user.id


def can_second_approve(user) -> bool:
    return user.is_authenticated and user.staff_role == StaffRole.ADMIN


def can_request(user, partner_id: int | None = None) -> bool:
    """A partner's admin or rep (read-only members and vendor staff do not request funds)."""
    if not user.is_authenticated or user.is_vendor:
        return False
    membership = user.membership
    return bool(membership and membership.can_write and (partner_id is None or membership.partner_id == partner_id))


def can_decide_claims(user) -> bool:
    return user.is_authenticated and user.staff_role in (StaffRole.ADMIN, StaffRole.FINANCE)


# --- budgets and allocations --------------------------------------------------------------------


def parse_quarter(key: str):
    try:
        return VendorSettings.current().calendar.parse((key or "").strip().upper())
    except (ValueError, KeyError):
        raise ValidationError({"period_key": NOT_QUARTER}) from None


@transaction.atomic
def budget_create(*, program: Program, period_key: str, amount_minor: int, actor,
                  second_approval_above_minor: int | None = None, claim_days: int = 60,
                  source: str = "web") -> Budget:
    if not can_manage_budgets(actor):
        raise PermissionDenied(NO_ROLE_BUDGET)
    period = parse_quarter(period_key)
    if len(period.key) != 6 or period.key[4] != "Q":
        raise ValidationError({"period_key": NOT_QUARTER})
    _check_minor(amount_minor, "amount", program.currency)
    if second_approval_above_minor is not None:
        _check_minor(second_approval_above_minor, "second_approval_above", program.currency)
    if not isinstance(claim_days, int) or not 1 <= claim_days <= 365:
        raise ValidationError({"claim_days": "Claims are due 1 to 365 days after the activity."})
    if Budget.objects.filter(program=program, period_key=period.key).exists():
        raise ValidationError({"period_key": BUDGET_EXISTS.format(program=program.name, period=period.key)})
    budget = Budget.objects.create(program=program, period_key=period.key, amount_minor=amount_minor,
                                   currency=program.currency, second_approval_above_minor=second_approval_above_minor,
                                   claim_days=claim_days, created_by=actor)
    audit.record(actor=actor, action="create", obj=budget, source=source, changes={
        "program": [None, program.name], "period": [None, period.key],
        "amount": [None, _money(amount_minor, budget.currency)],
        "second_approval_above": [None, None if second_approval_above_minor is None
                                  else _money(second_approval_above_minor, budget.currency)],
        "claim_days": [None, claim_days]})
    return budget


def budget_period(budget: Budget):
    return VendorSettings.current().calendar.parse(budget.period_key)


@transaction.atomic
def allocations_generate(*, budget: Budget, actor, source: str = "web") -> int:
    """An allocation for every partner enrolled in the budget's program on the quarter's first day,
    of its tier's MDF allowance under the version in force then. Existing allocations stay as they are
    (a manager may have adjusted them); run it again after new enrolments."""
    from covey.programs.services import governing_general

    if not can_allocate(actor):
        raise PermissionDenied(NO_ROLE_ALLOCATE)
    budget = Budget.objects.select_for_update().select_related("program").get(pk=budget.pk)
    start = budget_period(budget).start
    version = governing_general(budget.program, start)
    allowances = {t.code: t.mdf_allowance_minor for t in version.tiers.all()} if version else {}
    have = set(budget.allocations.values_list("partner_id", flat=True))
    made = []
    for enrolment in (Enrolment.objects.on(start).filter(program=budget.program).exclude(partner_id__in=have)
                      .select_related("partner").order_by("partner__name")):
        allowance = allowances.get(enrolment.tier_code, 0)
        made.append(Allocation(budget=budget, partner=enrolment.partner, tier_code=enrolment.tier_code,
                               amount_minor=allowance))
    audit.record(actor=actor, action="update", obj=budget, source=source,
                 changes={"allocations generated": [None, len(made)]})
    for allocation in made:
        allocation.save()
        audit.record(actor=actor, action="create", obj=allocation, source=source, changes={
            "partner": [None, allocation.partner.name], "tier": [None, allocation.tier_code],
            "amount": [None, _money(allocation.amount_minor, budget.currency)]})
    return len(made)


@transaction.atomic
def allocation_adjust(*, allocation: Allocation, amount_minor: int, reason: str, actor,
                      source: str = "web") -> Allocation:
    if not can_manage_partner_mdf(actor, allocation.partner):
        raise PermissionDenied(NO_ROLE_ADJUST)
    reason = clean_text(reason, field="reason", limit=500, required=REASON_REQUIRED)
    budget = Budget.objects.select_for_update().get(pk=allocation.budget_id)
    locked = Allocation.objects.select_for_update().get(pk=allocation.pk)
    _check_minor(amount_minor, "amount", budget.currency)
    committed = locked.reserved_minor + locked.spent_minor
    if amount_minor < committed:
        raise ValidationError({"amount": BELOW_COMMITTED.format(committed=_money(committed, budget.currency))})
    before = locked.amount_minor
    Allocation.objects.filter(pk=locked.pk).update(amount_minor=amount_minor, adjusted=True)
    audit.record(actor=actor, action="update", obj=locked, source=source, changes={
        "amount": [_money(before, budget.currency), _money(amount_minor, budget.currency)], "reason": [None, reason]})
    allocation.refresh_from_db()
    return allocation


# --- requests ----------------------------------------------------------------------------------


def parse_percent(value) -> Decimal:
    try:
        share = Decimal(str(value).strip().rstrip("%").strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationError({"co_investment_percent": SHARE_RANGE}) from None
    if not share.is_finite() or not Decimal(0) <= share < Decimal(100) or share != share.quantize(Decimal("0.01")):
        raise ValidationError({"co_investment_percent": SHARE_RANGE})
    return share.quantize(Decimal("0.01"))


def _campaign(code: str) -> str:
    import re

    code = clean_text(code, field="campaign_code", limit=40, required=CAMPAIGN_REQUIRED).upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]*", code):
        raise ValidationError({"campaign_code": CAMPAIGN_FORMAT})
    return code


def _managers(partner: Partner) -> list[User | None]:
    return [partner.owner] if partner.owner_id else list(User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True))


def _partner_people(request: FundRequest) -> list[User | None]:
    admins = User.objects.filter(is_active=True, pk__in=request.partner.memberships.filter(role="admin")
                                 .values("user_id"))
    return [request.created_by, *admins]


def request_url(request: FundRequest) -> str:
    return f"/mdf/requests/{request.public_id}/"


@transaction.atomic
def request_create(*, allocation: Allocation, actor, activity_type: str, title: str, starts_on: date,
                   ends_on: date, planned_cost_minor: int, co_investment_percent, campaign_code: str,
                   description: str = "", expected_leads: int = 0, expected_pipeline_minor: int = 0,
                   source: str = "web") -> FundRequest:
    """A partner asks for the vendor's share of a planned activity from its allocation."""
    if not can_request(actor, allocation.partner_id):
        raise PermissionDenied(NOT_PARTNER_WRITER)
    currency = allocation.budget.currency
    errors: dict[str, str] = {}
    if activity_type not in ActivityType.values:
        errors["activity_type"] = "Choose an activity type."
    try:
        title = clean_text(title, field="title", limit=160, required=TITLE_REQUIRED)
        description = clean_text(description, field="description", limit=5000)
        campaign_code = _campaign(campaign_code)
        share = parse_percent(co_investment_percent)
        _check_minor(planned_cost_minor, "planned_cost", currency)
        _check_minor(expected_pipeline_minor, "expected_pipeline", currency)
    except ValidationError as exc:
        raise ValidationError({**errors, **exc.message_dict}) from None
    if planned_cost_minor <= 0:
        errors["planned_cost"] = COST_POSITIVE
    if isinstance(expected_leads, bool) or not isinstance(expected_leads, int) or not 0 <= expected_leads <= 10**9:
        errors["expected_leads"] = LEADS_COUNT
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = END_BEFORE_START
    if errors:
        raise ValidationError(errors)
    wanted = rules.vendor_share(planned_cost_minor, share)
    locked = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if wanted > locked.available_minor:
        raise ValidationError({"planned_cost": OVER_BALANCE.format(wanted=_money(wanted, currency),
                                                                   available=_money(locked.available_minor, currency))})
    request = FundRequest.objects.create(
        allocation=allocation, partner_id=allocation.partner_id, activity_type=activity_type, title=title,
        description=description, starts_on=starts_on, ends_on=ends_on, planned_cost_minor=planned_cost_minor,
        currency=currency, co_investment_percent=share, requested_minor=wanted, expected_leads=expected_leads,
        expected_pipeline_minor=expected_pipeline_minor, campaign_code=campaign_code, created_by=actor)
    audit.record(actor=actor, action="create", obj=request, source=source, changes={
        "title": [None, title], "activity_type": [None, activity_type], "dates": [None, f"{starts_on} – {ends_on}"],
        "planned_cost": [None, _money(planned_cost_minor, currency)], "co_investment": [None, f"{share} %"],
        "requested": [None, _money(wanted, currency)], "campaign_code": [None, campaign_code]})
    partner = allocation.partner
    notify(_managers(partner), kind="mdf.requested", exclude=actor,
           title=f"MDF request from {partner.name}: {title}",
           body=f"{partner.name} asks for {_money(wanted, currency)} towards “{title}” "
                f"({starts_on:%d %b} – {ends_on:%d %b %Y}).", url=request_url(request))
    return request


@dataclass
class Locked:
    request: FundRequest
    budget: Budget
    allocation: Allocation


def _lock(request: FundRequest) -> Locked:
    """The request, its budget and its allocation, locked in the documented order and re-read."""
    fresh = FundRequest.objects.select_for_update().get(pk=request.pk)
    allocation_id = fresh.allocation_id
    budget_id = Allocation.objects.filter(pk=allocation_id).values_list("budget_id", flat=True).get()
    budget = Budget.objects.select_for_update().select_related("program").get(pk=budget_id)
    allocation = Allocation.objects.select_for_update().get(pk=allocation_id)
    fresh.allocation = allocation
    allocation.budget = budget
    return Locked(fresh, budget, allocation)


def _move(locked: Locked, *, reserved: int = 0, spent: int = 0) -> None:
    """Change both rows' reserved and spent figures by these amounts (with F(), under the locks)."""
    for model, pk in ((Budget, locked.budget.pk), (Allocation, locked.allocation.pk)):
        model.objects.filter(pk=pk).update(reserved_minor=F("reserved_minor") + reserved,
                                           spent_minor=F("spent_minor") + spent)


def _sync(target: FundRequest, locked: Locked) -> FundRequest:
    locked.request.refresh_from_db()
    target.__dict__.update({k: v for k, v in locked.request.__dict__.items() if not k.startswith("_")})
    return target


def request_webhook_data(request: FundRequest) -> dict:
    """The payload of ``mdf.request.decided``."""
    approved = request.approved_minor
    return {
        "id": request.public_id, "title": request.title, "status": request.status,
        "activity_type": request.activity_type, "campaign_code": request.campaign_code,
        "partner": {"id": request.partner.public_id, "name": request.partner.name},
        "requested": money_out(Money(request.requested_minor, request.currency)),
        "approved": money_out(Money(approved, request.currency)) if approved is not None else None,
        "reason": request.decision_reason, "decided_by": request.decided_by.email if request.decided_by_id else None,
        "decided_at": request.decided_at, "second_approved_at": request.second_approved_at,
        "claim_due_on": request.claim_due_on,
    }


def _emit_decided(pk: int, stage: str) -> None:
    from covey.webhooks.services import emit

    emit("mdf.request.decided", lambda: request_webhook_data(
        FundRequest.objects.select_related("partner", "decided_by").get(pk=pk)) | {"decision": stage})


@transaction.atomic
def request_decide(*, request: FundRequest, actor, approve: bool, reason: str = "",
                   approved_minor: int | None = None, source: str = "web") -> FundRequest:
    """The partner's manager approves all of the requested amount, part of it (with a reason), or
    rejects it (with a reason). The approved amount is reserved from the allocation and the budget
    at once; above the budget's threshold an admin's second approval follows."""
    if not can_manage_partner_mdf(actor, request.partner):
        raise PermissionDenied(NO_ROLE_DECIDE)
    reason = clean_text(reason, field="reason", limit=1000)
    locked = _lock(request)
    fresh, budget, allocation = locked.request, locked.budget, locked.allocation
    if fresh.status != RequestStatus.SUBMITTED:
        raise ValidationError(NOT_SUBMITTED)
    currency = fresh.currency
    now = timezone.now()
    if not approve:
        if not reason:
            raise ValidationError({"reason": REASON_REQUIRED})
        FundRequest.objects.filter(pk=fresh.pk).update(status=RequestStatus.REJECTED, decision_reason=reason,
                                                       decided_by=actor, decided_at=now)
        changes = {"status": [fresh.status, RequestStatus.REJECTED], "reason": [None, reason]}
        what = f"was not approved: {reason}"
    else:
        amount = fresh.requested_minor if approved_minor is None else approved_minor
        _check_minor(amount, "approved_amount", currency)
        if amount <= 0:
            raise ValidationError({"approved_amount": APPROVE_POSITIVE})
        if amount > fresh.requested_minor:
            raise ValidationError({"approved_amount": OVER_REQUESTED.format(requested=_money(fresh.requested_minor, currency))})
        if amount < fresh.requested_minor and not reason:
            raise ValidationError({"reason": "Say why you approve less than requested; the partner reads it."})
        if amount > allocation.available_minor:
            raise ValidationError({"approved_amount": OVER_BALANCE.format(
                wanted=_money(amount, currency), available=_money(allocation.available_minor, currency))})
        if amount > budget.available_minor:
            raise ValidationError({"approved_amount": OVER_BUDGET.format(available=_money(budget.available_minor, currency))})
        needs_second = budget.second_approval_above_minor is not None and amount > budget.second_approval_above_minor
        status = RequestStatus.SECOND_APPROVAL if needs_second else RequestStatus.APPROVED
        _move(locked, reserved=amount)
        FundRequest.objects.filter(pk=fresh.pk).update(
            status=status, approved_minor=amount, decision_reason=reason, decided_by=actor, decided_at=now,
            claim_due_on=fresh.ends_on + timedelta(days=budget.claim_days))
        changes = {"status": [fresh.status, status], "approved": [None, _money(amount, currency)],
                   "reason": [None, reason or None]}
        part = "in full" if amount == fresh.requested_minor else f"in part ({_money(amount, currency)} of {_money(fresh.requested_minor, currency)})"
        what = f"was approved {part}" + (", pending an admin's second approval" if needs_second else "") + (
            f": {reason}" if reason else ".")
        if needs_second:
            notify(User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True), kind="mdf.second_approval",
                   exclude=actor, title=f"Second approval needed: {fresh.title} ({request.partner.name})",
                   body=f"{actor} approved {_money(amount, currency)}, above the {budget} threshold of "
                        f"{_money(budget.second_approval_above_minor or 0, currency)}.", url=request_url(fresh))
    audit.record(actor=actor, action="transition", obj=fresh, source=source, changes=changes)
    stage = "first"
    notify(_partner_people(fresh), kind="mdf.decided", exclude=actor, title=f"Your MDF request “{fresh.title}”",
           body=f"Your request {what}", url=request_url(fresh))
    _emit_decided(fresh.pk, stage)
    return _sync(request, locked)


@transaction.atomic
def request_second_approve(*, request: FundRequest, actor, approve: bool, reason: str = "",
                           source: str = "web") -> FundRequest:
    """An admin (not the first approver) confirms a large approval, or rejects it and the reservation
    returns to the balance."""
    if not can_second_approve(actor):
        raise PermissionDenied(NO_ROLE_SECOND)
    reason = clean_text(reason, field="reason", limit=1000)
    locked = _lock(request)
    fresh = locked.request
    if fresh.status != RequestStatus.SECOND_APPROVAL:
        raise ValidationError(NOT_AWAITING_SECOND)
    if fresh.decided_by_id == actor.id:
        raise ValidationError(SAME_APPROVER)
    now = timezone.now()
    if approve:
        FundRequest.objects.filter(pk=fresh.pk).update(status=RequestStatus.APPROVED, second_approved_by=actor,
                                                       second_approved_at=now)
        status, what = RequestStatus.APPROVED, "received its second approval; you can run the activity and claim."
    else:
        if not reason:
            raise ValidationError({"reason": REASON_REQUIRED})
        _move(locked, reserved=-(fresh.approved_minor or 0))
        FundRequest.objects.filter(pk=fresh.pk).update(status=RequestStatus.REJECTED, second_approved_by=actor,
                                                       second_approved_at=now, decision_reason=reason)
        status, what = RequestStatus.REJECTED, f"was not confirmed by the second approver: {reason}"
    audit.record(actor=actor, action="transition", obj=fresh, source=source,
                 changes={"status": [fresh.status, status], "second_approval": [None, approve],
                          "reason": [None, reason or None]})
    stage = "second"
    notify(_partner_people(fresh), kind="mdf.decided", exclude=actor, title=f"Your MDF request “{fresh.title}”",
           body=f"Your request {what}", url=request_url(fresh))
    _emit_decided(fresh.pk, stage)
    return _sync(request, locked)


# --- claims ------------------------------------------------------------------------------------


def count_leads(upload) -> int:
    """Rows under the header of a CSV lead list (blank rows ignored)."""
    upload.seek(0)
    raw = upload.read()
    upload.seek(0)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"leads_file": LEADS_NOT_CSV}) from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValidationError({"leads_file": LEADS_NOT_CSV})
    return len(rows) - 1


@transaction.atomic
def claim_create(*, request: FundRequest, actor, actual_cost_minor: int, files=(), leads_count: int | None = None,
                 leads_file=None, claimed_minor: int | None = None, note: str = "", source: str = "web",
                 today: date | None = None) -> Claim:
    """The partner claims after the activity: actual cost, proof files (``(kind, upload)`` pairs),
    leads delivered (a CSV list or a count). The reimbursement is worked out now and shown to both
    sides; finance approves it."""
    if not can_request(actor, request.partner_id):
        raise PermissionDenied(NOT_PARTNER_WRITER)
    today = _today(today)
    note = clean_text(note, field="note", limit=5000)
    pairs = [(kind if kind in FileKind.values else FileKind.OTHER, upload) for kind, upload in files]
    if not pairs:
        raise ValidationError({"files": PROOF_REQUIRED})
    check_files([u for _, u in pairs] + ([leads_file] if leads_file else []), max_files=6)
    locked = _lock(request)
    fresh = locked.request
    currency = fresh.currency
    if fresh.status != RequestStatus.APPROVED:
        raise ValidationError(CANNOT_CLAIM)
    if today < fresh.ends_on:
        raise ValidationError(CLAIM_TOO_EARLY.format(ends_on=f"{fresh.ends_on:%d %b %Y}"))
    if fresh.claim_due_on and today > fresh.claim_due_on:
        raise ValidationError(CLAIM_TOO_LATE.format(due=f"{fresh.claim_due_on:%d %b %Y}"))
    _check_minor(actual_cost_minor, "actual_cost", currency)
    approved = fresh.approved_minor or 0
    if claimed_minor is not None:
        _check_minor(claimed_minor, "claimed_amount", currency)
        if claimed_minor > approved:
            raise ValidationError({"claimed_amount": CLAIM_OVER_APPROVED.format(
                claimed=_money(claimed_minor, currency), approved=_money(approved, currency))})
    if leads_file is not None:
        if not (leads_file.name or "").lower().endswith(".csv"):
            raise ValidationError({"leads_file": LEADS_NOT_CSV})
        leads = count_leads(leads_file)
    elif leads_count is not None:
        if isinstance(leads_count, bool) or not isinstance(leads_count, int) or not 0 <= leads_count <= 10**9:
            raise ValidationError({"leads_count": LEADS_COUNT})
        leads = leads_count
    else:
        leads = 0
    reimbursable = rules.reimbursement(approved_minor=approved, actual_cost_minor=actual_cost_minor,
                                       co_investment_percent=fresh.co_investment_percent, claimed_minor=claimed_minor)
    claim = Claim.objects.create(request=fresh, actual_cost_minor=actual_cost_minor,
                                 claimed_minor=reimbursable if claimed_minor is None else claimed_minor,
                                 reimbursable_minor=reimbursable, leads_count=leads, note=note, created_by=actor)
    uploads = [*pairs, *([(FileKind.LEADS, leads_file)] if leads_file else [])]
    for kind, upload in uploads:
        ClaimFile.objects.create(claim=claim, kind=kind, file=upload, name=(upload.name or "file")[:200],
                                 size=upload.size, content_type=(getattr(upload, "content_type", "") or "")[:100],
                                 uploaded_by=actor)
    FundRequest.objects.filter(pk=fresh.pk).update(status=RequestStatus.CLAIMED)
    audit.record(actor=actor, action="create", obj=claim, source=source, changes={
        "request": [None, fresh.public_id], "actual_cost": [None, _money(actual_cost_minor, currency)],
        "reimbursable": [None, _money(reimbursable, currency)], "leads": [None, leads], "files": [None, len(uploads)]})
    audit.record(actor=actor, action="transition", obj=fresh, source=source,
                 changes={"status": [RequestStatus.APPROVED, RequestStatus.CLAIMED]})
    notify(User.objects.filter(staff_role=StaffRole.FINANCE, is_active=True), kind="mdf.claimed", exclude=actor,
           title=f"MDF claim to check: {fresh.partner.name} · {fresh.title}",
           body=f"{fresh.partner.name} claims {_money(reimbursable, currency)} (actual cost "
                f"{_money(actual_cost_minor, currency)}, {len(uploads)} proof file(s)).", url=request_url(fresh))
    return claim


def reimbursement_explanation(request: FundRequest, claim: Claim) -> str:
    currency = request.currency
    vendor_percent = Decimal(100) - request.co_investment_percent
    share = rules.vendor_share(claim.actual_cost_minor, request.co_investment_percent)
    text = (f"MDF reimbursement for “{request.title[:120]}” ({request.public_id}): min(approved "
            f"{_money(request.approved_minor or 0, currency)}, {vendor_percent.normalize():f}% of actual cost "
            f"{_money(claim.actual_cost_minor, currency)} = {_money(share, currency)}")
    if claim.claimed_minor < min(request.approved_minor or 0, share):
        text += f", claimed {_money(claim.claimed_minor, currency)}"
    return f"{text}) = {_money(claim.reimbursable_minor, currency)}"


def _put_on_statement(entry, *, program: Program, today: date) -> None:
    """Put the new entry on the partner's draft statement for today's statement period (made when
    missing), so the reimbursement is visible at once; a statement that is no longer a draft leaves
    it for the next period's refresh."""
    from covey.payouts.models import LedgerEntry, Statement, StatementLine, StatementStatus
    from covey.payouts.statements import statement_period
    from covey.programs.services import governing_general

    version = governing_general(program, today)
    period = statement_period(program, today, monthly=bool(version and version.payout_frequency == "monthly"))
    statement, _ = Statement.objects.get_or_create(
        program=program, partner_id=entry.partner_id, period_key=period.key, currency=entry.currency,
        defaults={"period_end": period.end})
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != StatementStatus.DRAFT:
        return
    StatementLine.objects.create(statement=statement, entry=entry)
    total = (LedgerEntry.objects.filter(statement_line__statement=statement).aggregate(t=Sum("amount_minor"))["t"]
             or 0)
    Statement.objects.filter(pk=statement.pk).update(total_minor=total)


@transaction.atomic
def claim_decide(*, claim: Claim, actor, approve: bool, note: str = "", source: str = "web",
                 today: date | None = None) -> Claim:
    """Finance approves: the reimbursement is posted to the payouts ledger as an MDF entry of the
    budget's program and put on the partner's statement; the unused reservation returns to the
    balance. Finance rejects (with a reason): the request is claimable again until its deadline."""
    from covey.payouts.models import LedgerEntry, Source

    if not can_decide_claims(actor):
        raise PermissionDenied(NO_ROLE_FINANCE)
    today = _today(today)
    note = clean_text(note, field="note", limit=1000)
    fresh_claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if fresh_claim.status != ClaimStatus.SUBMITTED:
        raise ValidationError(CLAIM_DECIDED)
    locked = _lock(fresh_claim.request)
    request, budget = locked.request, locked.budget
    currency = request.currency
    now = timezone.now()
    if approve:
        amount = fresh_claim.reimbursable_minor
        approved = request.approved_minor or 0
        entry = LedgerEntry(program=budget.program, partner_id=request.partner_id, period_key=budget.period_key,
                            source=Source.MDF, rule_kind="", key=f"mdf:{fresh_claim.public_id}", amount_minor=amount,
                            currency=currency, explanation=reimbursement_explanation(request, fresh_claim)[:500],
                            payable_on=today)
        entry.save()
        _move(locked, reserved=-approved, spent=amount)
        Claim.objects.filter(pk=fresh_claim.pk).update(status=ClaimStatus.APPROVED, decided_by=actor, decided_at=now,
                                                       decision_note=note, ledger_entry=entry)
        FundRequest.objects.filter(pk=request.pk).update(status=RequestStatus.REIMBURSED)
        _put_on_statement(entry, program=budget.program, today=today)
        status, request_status = ClaimStatus.APPROVED, RequestStatus.REIMBURSED
        what = (f"was approved: {_money(amount, currency)} is on your statement"
                + (f" and {_money(approved - amount, currency)} returned to your allocation" if approved > amount else "")
                + ".")
        changes = {"status": [ClaimStatus.SUBMITTED, status], "reimbursed": [None, _money(amount, currency)],
                   "ledger_entry": [None, entry.public_id], "returned": [None, _money(approved - amount, currency)]}
    else:
        if not note:
            raise ValidationError({"note": NOTE_REQUIRED})
        Claim.objects.filter(pk=fresh_claim.pk).update(status=ClaimStatus.REJECTED, decided_by=actor, decided_at=now,
                                                       decision_note=note)
        FundRequest.objects.filter(pk=request.pk).update(status=RequestStatus.APPROVED)
        status, request_status = ClaimStatus.REJECTED, RequestStatus.APPROVED
        what = f"was rejected: {note}. You can claim again until {request.claim_due_on:%d %b %Y}."
        changes = {"status": [ClaimStatus.SUBMITTED, status], "note": [None, note]}
    audit.record(actor=actor, action="transition", obj=fresh_claim, source=source, changes=changes)
    audit.record(actor=actor, action="transition", obj=request, source=source,
                 changes={"status": [RequestStatus.CLAIMED, request_status]})
    notify(_partner_people(request), kind="mdf.claim_decided", exclude=actor,
           title=f"Your MDF claim for “{request.title}”", body=f"Your claim {what}", url=request_url(request))
    fresh_claim.refresh_from_db()
    claim.__dict__.update({k: v for k, v in fresh_claim.__dict__.items() if not k.startswith("_")})
    return claim


# --- deadlines ---------------------------------------------------------------------------------


def lapse_overdue(*, today: date) -> int:
    """Approvals (first or second) still unclaimed after their deadline lapse; the reservation returns."""
    count = 0
    due = FundRequest.objects.filter(status__in=(RequestStatus.APPROVED, RequestStatus.SECOND_APPROVAL),
                                     claim_due_on__lt=today).values_list("pk", flat=True)
    for pk in list(due[:500]):
        with transaction.atomic():
            locked = _lock(FundRequest(pk=pk))
            fresh = locked.request
            if fresh.status not in (RequestStatus.APPROVED, RequestStatus.SECOND_APPROVAL) or not (
                    fresh.claim_due_on and fresh.claim_due_on < today):
                continue  # another worker got there first
            _move(locked, reserved=-(fresh.approved_minor or 0))
            FundRequest.objects.filter(pk=pk).update(status=RequestStatus.LAPSED)
            audit.record(actor=None, action="transition", obj=fresh, source="job", changes={
                "status": [fresh.status, RequestStatus.LAPSED],
                "returned": [None, _money(fresh.approved_minor or 0, fresh.currency)]})
            notify(_partner_people(fresh), kind="mdf.lapsed", title=f"MDF approval lapsed: {fresh.title}",
                   body=f"No claim arrived by {fresh.claim_due_on:%d %b %Y}; the "
                        f"{_money(fresh.approved_minor or 0, fresh.currency)} went back to the budget.",
                   url=request_url(fresh))
            count += 1
    return count


def remind_due(*, now, days: int = REMINDER_DAYS) -> int:
    """One reminder per approved request whose claim deadline is within ``days``."""
    today = timezone.localdate(now)
    count = 0
    for request in (FundRequest.objects.filter(status=RequestStatus.APPROVED, reminded_at__isnull=True,
                                               claim_due_on__gte=today, claim_due_on__lte=today + timedelta(days=days))
                    .select_related("partner", "created_by")[:500]):
        if not FundRequest.objects.filter(pk=request.pk, reminded_at__isnull=True).update(reminded_at=now):
            continue  # claimed by a concurrent sweep
        notify(_partner_people(request), kind="mdf.claim_due", title=f"Claim due by {request.claim_due_on:%d %b %Y}: {request.title}",
               body=f"Claim the {_money(request.approved_minor or 0, request.currency)} approved for “{request.title}” "
                    f"with the actual cost and proof by {request.claim_due_on:%d %b %Y}, or it lapses.",
               url=request_url(request))
        count += 1
    return count
