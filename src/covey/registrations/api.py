"""Deal registrations over the API: submit, list, review, extensions, the conflict queue, program rules.

``POST /registrations`` is the hot path (integrations and the benchmark post hundreds a second): it
resolves the partner from the caller's membership, the products in one query, and leaves the rest
to ``services.submit``. A conflict is still a 201 (the registration is stored, as a conflict) whose
reason says only that the account is already registered.
"""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router

from covey.core import access
from covey.core.api import create_once, idempotency_key_header, page, user_of
from covey.core.money import Money, MoneyError, is_currency, parse_amount
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, MoneyIn, ref
from covey.crm.models import Product
from covey.partners.models import Partner
from covey.registrations import selectors, services
from covey.registrations.models import ConflictResolution, Registration, RegistrationProgram
from covey.registrations.schemas import (
    ConflictFilters,
    ConflictPage,
    ConflictResolveIn,
    ExtensionDecisionIn,
    ProgramOut,
    ProgramUpdate,
    ReasonIn,
    RegistrationCreate,
    RegistrationFilters,
    RegistrationOut,
    RegistrationPage,
    ResolutionOut,
    conflict_entry,
    program_out,
    registration_out,
)
from covey.registrations.selectors import can_manage_conflicts, can_review

router = Router(tags=["registrations"])

NO_REGISTER = "Your role does not allow registering deals."
PARTNER_REQUIRED = "Vendor staff register on behalf of a partner: give its id in partner."
OWN_PARTNER = "Partner users register for their own partner; leave partner out."
NO_REVIEW = "Only an admin or the partner's own manager reviews this registration."
NO_EXTENSION = "Only the partner's admins and reps can request an extension."
NO_CONFLICTS = "Only admins and partner managers work the conflict queue."
NO_PROGRAM = "Only admins change the registration program."
SELECT = ("partner", "opportunity", "conflict_with")


def _registration(user, public_id: str, *, check=None) -> Registration:
    return access.get_for_user(Registration, user, public_id, write_check=check, select=SELECT)


def _out(user, reg: Registration) -> dict:
    return registration_out(reg, user=user)


PRODUCT_CACHE_SECONDS = 5.0
_product_cache: tuple[float, dict[str, Product]] | None = None


def _active_products(wanted: list[str]) -> dict[str, Product]:
    """The active catalogue by public id, cached per process for a few seconds: every registration
    names products, the catalogue is small and rarely changes. An id the cache lacks reloads it (a
    product added a moment ago); a deactivation applies within 5 s."""
    global _product_cache
    cached = _product_cache
    stale = cached is None or time.monotonic() - cached[0] > PRODUCT_CACHE_SECONDS
    if stale or any(pid not in cached[1] for pid in wanted):
        cached = (time.monotonic(), {p.public_id: p for p in Product.objects.filter(is_active=True)})
        _product_cache = cached
    return cached[1]


def _products(public_ids: list[str]) -> list[Product]:
    if not public_ids:
        return []
    catalogue = _active_products(public_ids)
    found = {pid: catalogue[pid] for pid in public_ids if pid in catalogue}
    missing = [pid for pid in dict.fromkeys(public_ids) if pid not in found]
    if missing:
        raise ValidationError({"products": f"No active product with id {missing[0]!r}."})
    return [found[pid] for pid in dict.fromkeys(public_ids)]


def _value(given: MoneyIn) -> Money:
    if not given.currency:
        raise ValidationError({"value.currency": "Give the currency of the value, such as USD or EUR."})
    if given.amount_minor is None and given.amount is not None and is_currency(given.currency):
        # MoneyIn.to_money mistakes a parsed zero for "no amount"; zero is simply too little here.
        try:
            if parse_amount(given.amount, given.currency).minor == 0:
                raise ValidationError({"value": services.VALUE_NOT_POSITIVE})
        except MoneyError:
            pass  # to_money reports it with its field
    return given.to_money(default_currency=given.currency, field="value")


def _partner_for(user, given: str | None) -> Partner:
    if user.is_vendor:
        if not given:
            raise ValidationError({"partner": PARTNER_REQUIRED})
        partner = Partner.objects.filter(public_id=given).first()
        if partner is None:
            raise ValidationError({"partner": f"No partner with id {given!r}."})
        return partner
    membership = user.membership
    if given and given != membership.partner.public_id:
        raise ValidationError({"partner": OWN_PARTNER})
    return membership.partner


@router.post(
    "/registrations", response={201: RegistrationOut, **WRITE_ERRORS}, operation_id="registrations_create",
    summary="Register a deal",
    description="Registers a customer company for your partner (vendor staff: for the partner given). The answer is "
    "201 whatever the outcome: status submitted (you hold the account, review pending), rejected (a program rule; "
    "see reason) or conflict (the account is already registered). Send an Idempotency-Key header to make retries safe.",
)
def registration_create(request: HttpRequest, payload: RegistrationCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(selectors.can_register(user), NO_REGISTER)
    partner = _partner_for(user, payload.partner)
    value = _value(payload.value)
    products = _products(payload.products)
    submission = services.Submission(
        company_name=payload.company_name, domain=payload.domain, value=value, expected_close=payload.expected_close,
        contact_name=payload.contact_name, contact_email=payload.contact_email, contact_phone=payload.contact_phone,
        products=products, description=payload.description, evidence=payload.evidence, deal_type=payload.deal_type.value,
    )
    return create_once(
        request, key=idempotency_key,
        make=lambda: services.submit(partner=partner, actor=user, submission=submission, source="api"),
        schema=RegistrationOut, render=lambda reg: registration_out(reg, user=user, products=products),
    )


@router.get(
    "/registrations", response={200: RegistrationPage, **READ_ERRORS}, operation_id="registrations_list",
    summary="List registrations",
    description="Registrations you can see (a partner user: its partner's), newest first.",
)
def registration_list(request: HttpRequest, filters: Query[RegistrationFilters]):
    user = user_of(request)
    qs = Registration.objects.visible_to(user).select_related(*SELECT).prefetch_related("products")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.partner and user.is_vendor:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.q:
        qs = qs.filter(Q(company_name__icontains=filters.q) | Q(claim_domain__icontains=filters.q.lower()))
    if filters.overdue:
        qs = qs.overdue()
    return page(qs.order_by("-submitted_at", "-id"), filters, lambda r: _out(user, r))


@router.get(
    "/registrations/{id}", response={200: RegistrationOut, **READ_ERRORS}, operation_id="registrations_get",
    summary="Get a registration", description="One registration; 404 if it does not exist or you cannot see it.",
)
def registration_get(request: HttpRequest, id: str):
    user = user_of(request)
    return _out(user, _registration(user, id))


def _reviewed(request: HttpRequest, id: str, action) -> dict:
    user = user_of(request)
    reg = _registration(user, id, check=can_review)
    action(reg, user)
    reg.refresh_from_db()
    return _out(user, reg)


@router.post(
    "/registrations/{id}/review", response={200: RegistrationOut, **WRITE_ERRORS}, operation_id="registrations_review",
    summary="Start reviewing", description="Marks a submitted registration as under review.",
)
def registration_review(request: HttpRequest, id: str):
    return _reviewed(request, id, lambda reg, user: services.start_review(registration=reg, actor=user, source="api"))


@router.post(
    "/registrations/{id}/approve", response={200: RegistrationOut, **WRITE_ERRORS}, operation_id="registrations_approve",
    summary="Approve", description="Approves and starts the protection period; converts to an opportunity when the "
    "program says so.",
)
def registration_approve(request: HttpRequest, id: str):
    return _reviewed(request, id, lambda reg, user: services.approve(registration=reg, actor=user, source="api"))


@router.post(
    "/registrations/{id}/reject", response={200: RegistrationOut, **WRITE_ERRORS}, operation_id="registrations_reject",
    summary="Reject", description="Rejects with a reason (required; the partner reads it) and releases the account.",
)
def registration_reject(request: HttpRequest, id: str, payload: ReasonIn):
    return _reviewed(
        request, id, lambda reg, user: services.reject(registration=reg, actor=user, reason=payload.reason, source="api")
    )


@router.post(
    "/registrations/{id}/convert", response={200: RegistrationOut, **WRITE_ERRORS}, operation_id="registrations_convert",
    summary="Convert to an opportunity",
    description="Creates the account (when new), opportunity, product lines and the partner's sourced link for an "
    "approved registration (needed only when the program does not convert on approval).",
)
def registration_convert(request: HttpRequest, id: str):
    return _reviewed(request, id, lambda reg, user: services.convert(registration=reg, actor=user, source="api"))


@router.post(
    "/registrations/{id}/extension", response={200: RegistrationOut, **WRITE_ERRORS},
    operation_id="registrations_extension_request", summary="Request an extension",
    description="Asks once, before the protection period ends, for more time; a manager decides.",
)
def registration_extension(request: HttpRequest, id: str, payload: ReasonIn):
    user = user_of(request)
    reg = _registration(user, id, check=selectors.can_request_extension)
    services.request_extension(registration=reg, actor=user, reason=payload.reason, source="api")
    return _out(user, reg)


@router.post(
    "/registrations/{id}/extension-decision", response={200: RegistrationOut, **WRITE_ERRORS},
    operation_id="registrations_extension_decide", summary="Decide an extension request",
    description="Grants (the protection period grows by the program's extension days) or refuses.",
)
def registration_extension_decision(request: HttpRequest, id: str, payload: ExtensionDecisionIn):
    return _reviewed(
        request, id,
        lambda reg, user: services.decide_extension(registration=reg, actor=user, grant=payload.grant, source="api"),
    )


# --- conflicts -------------------------------------------------------------------------------


def _contest_out(contest) -> dict:
    return {
        "domain": contest.domain,
        "holder": conflict_entry(contest.holder) if contest.holder else None,
        "contenders": [conflict_entry(r) for r in contest.contenders],
        "vendor_opportunities": [ref(o) for o in contest.vendor_opportunities],
    }


@router.get(
    "/registration-conflicts", response={200: ConflictPage, **WRITE_ERRORS}, operation_id="registration_conflicts_list",
    summary="The conflict queue", description="Accounts with competing registrations waiting for a decision "
    "(admins and partner managers).",
)
def conflict_list(request: HttpRequest, filters: Query[ConflictFilters]):
    access.require(can_manage_conflicts(user_of(request)), NO_CONFLICTS)
    domains = selectors.contested_domains(filters.q or "")
    chosen = list(domains[filters.offset: filters.offset + filters.limit])
    return {"items": [_contest_out(c) for c in selectors.contests(chosen)], "count": domains.count()}


@router.post(
    "/registration-conflicts/resolve", response={200: ResolutionOut, **WRITE_ERRORS},
    operation_id="registration_conflicts_resolve", summary="Resolve a conflict",
    description="award_first: the holder keeps the account, the others are rejected; reject: every contender is "
    "rejected (note required); split_credit: the others join the holder's opportunity as influencers.",
)
def conflict_resolve(request: HttpRequest, payload: ConflictResolveIn):
    user = user_of(request)
    access.require(can_manage_conflicts(user), NO_CONFLICTS)
    resolution = services.resolve_conflict(
        claim_domain=payload.domain.strip().lower(), outcome=payload.outcome.value, note=payload.note, actor=user,
        source="api",
    )
    return _resolution_out(resolution)


def _resolution_out(resolution: ConflictResolution) -> dict:
    return {
        "id": resolution.public_id, "domain": resolution.claim_domain, "outcome": resolution.outcome,
        "note": resolution.note, "holder": resolution.holder.public_id if resolution.holder else None,
        "registrations": list(resolution.resolved.values_list("public_id", flat=True)),
        "decided_at": resolution.decided_at,
    }


# --- program ---------------------------------------------------------------------------------


@router.get(
    "/registration-program", response={200: ProgramOut, **READ_ERRORS}, operation_id="registration_program_get",
    summary="The registration program's rules", description="Minimums, accepted deal types, review SLA and protection.",
)
def program_get(request: HttpRequest):
    return program_out(RegistrationProgram.current())


@router.patch(
    "/registration-program", response={200: ProgramOut, **WRITE_ERRORS}, operation_id="registration_program_update",
    summary="Change the program's rules", description="Admins only; the fields sent change. minimums replaces the list.",
)
def program_update(request: HttpRequest, payload: ProgramUpdate):
    user = user_of(request)
    access.require(selectors.can_edit_program(user), NO_PROGRAM)
    values = payload.model_dump(exclude_unset=True)
    wrong = {k: "This field cannot be null." for k, v in values.items() if v is None}
    if wrong:
        raise ValidationError(wrong)
    if "minimums" in values:
        minimums = {}
        for i, item in enumerate(payload.minimums or []):
            if not item.currency:
                raise ValidationError({f"minimums.{i}.currency": "Give the currency of each minimum."})
            money = item.to_money(default_currency=item.currency, field=f"minimums.{i}")
            minimums[money.currency] = money.minor
        values["minimums"] = minimums
    services.update_program(actor=user, source="api", **values)
    return program_out(RegistrationProgram.objects.get(pk=1))

