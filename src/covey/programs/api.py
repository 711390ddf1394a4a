"""Incentive programs over the API: programs, versions, tiers, rules, pilots, enrolments and the guide.

The same services as the builder pages: rule parameters are validated by ``covey.programs.rules``,
so a bad one is a 422 naming the field (``params.bands.1.from``). Changing a locked version (a
published one whose first quarter has begun) is a 409 ``version_locked``, and the attempt is
recorded in the audit trail. Partner users read the programs they are enrolled in (published
versions only), their own enrolments and their tier's guide; everything else is a 404.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router

from covey.core import access
from covey.core.api import (
    ApiError,
    create_once,
    idempotency_key_header,
    lookup,
    no_content,
    page,
    refuse_nulls,
    search,
    user_of,
)
from covey.core.formtools import error_text
from covey.core.schemas import (
    FLOAT_REFUSED,
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    OutSchema,
    Paging,
    Ref,
    id_filter,
    ref,
)
from covey.partners.models import Partner
from covey.programs import selectors, services
from covey.programs.models import (
    CreditModel,
    Enrolment,
    PayoutFrequency,
    Program,
    ProgramVersion,
    Rule,
    Tier,
    VersionStatus,
)

router = Router(tags=["programs"])

NO_DESIGN = "Only admins and partner managers change incentive programs."
NO_ENROL = "Only admins, and partner managers for their own partners, enrol partners."
DELETED = {204: None}


# --- shapes ----------------------------------------------------------------------------------


class TierOut(OutSchema):
    id: str
    code: str
    name: str
    rank: int
    min_annual_sales_minor: int | None
    min_certified_people: int | None
    min_satisfaction: Decimal | None
    min_deals: int | None
    mdf_allowance_minor: int
    dedicated_manager: bool
    lead_sharing: bool
    perks: list[str]


class RuleOut(OutSchema):
    id: str
    kind: str
    name: str
    position: int
    params: dict


class VersionSummary(OutSchema):
    id: str
    number: int
    status: str
    effective_from: date
    pilot: bool
    locked: bool


class VersionOut(VersionSummary):
    program: Ref
    credit_model: str
    influence_share: Decimal
    role_shares: dict[str, str]
    payout_frequency: str
    payout_delay_days: int
    notes: str
    based_on: str | None
    published_at: datetime | None
    pilot_partners: list[Ref]
    tiers: list[TierOut]
    rules: list[RuleOut]


class ProgramOut(OutSchema):
    id: str
    name: str
    summary: str
    currency: str
    created_at: datetime
    versions: list[VersionSummary]


class ProgramPage(OutSchema):
    items: list[ProgramOut]
    count: int


class EnrolmentOut(OutSchema):
    id: str
    partner: Ref
    program: Ref
    tier_code: str
    starts_on: date
    ends_on: date | None
    reason: str


class EnrolmentPage(OutSchema):
    items: list[EnrolmentOut]
    count: int


class GuideLineOut(OutSchema):
    name: str
    kind: str
    text: str
    notes: list[str]


class GuideTierOut(OutSchema):
    code: str
    name: str
    rank: int
    requirements: list[str]
    benefits: list[str]
    lines: list[GuideLineOut]


class GuideOut(OutSchema):
    program: Ref
    version: VersionSummary
    tier: str | None = Field(None, description="A partner user's own tier; null for vendor staff reading all tiers")
    credit: str
    payout: str
    tiers: list[GuideTierOut]


def tier_out(t: Tier) -> dict:
    return {"id": t.public_id, "code": t.code, "name": t.name, "rank": t.rank, "min_annual_sales_minor": t.min_annual_sales_minor,
            "min_certified_people": t.min_certified_people, "min_satisfaction": t.min_satisfaction, "min_deals": t.min_deals,
            "mdf_allowance_minor": t.mdf_allowance_minor, "dedicated_manager": t.dedicated_manager,
            "lead_sharing": t.lead_sharing, "perks": list(t.perks)}


def rule_out(r: Rule) -> dict:
    return {"id": r.public_id, "kind": r.kind, "name": r.name, "position": r.position, "params": r.params}


def version_summary(v: ProgramVersion) -> dict:
    return {"id": v.public_id, "number": v.number, "status": v.status, "effective_from": v.effective_from, "pilot": v.pilot,
            "locked": v.is_locked()}


def version_out(v: ProgramVersion) -> dict:
    return version_summary(v) | {
        "program": ref(v.program), "credit_model": v.credit_model, "influence_share": v.influence_share,
        "role_shares": {k: str(x) for k, x in (v.role_shares or {}).items()}, "payout_frequency": v.payout_frequency,
        "payout_delay_days": v.payout_delay_days, "notes": v.notes, "based_on": v.based_on.public_id if v.based_on else None,
        "published_at": v.published_at, "pilot_partners": [ref(p) for p in v.pilot_partners.order_by("name")],
        "tiers": [tier_out(t) for t in v.tiers.all()], "rules": [rule_out(r) for r in v.rules.all()],
    }


def _program_out(user):
    def render(p: Program) -> dict:
        versions = ProgramVersion.objects.visible_to(user).filter(program=p).order_by("-number")
        return {"id": p.public_id, "name": p.name, "summary": p.summary, "currency": p.currency, "created_at": p.created_at,
                "versions": [version_summary(v) for v in versions]}

    return render


def enrolment_out(e: Enrolment) -> dict:
    return {"id": e.public_id, "partner": ref(e.partner), "program": ref(e.program), "tier_code": e.tier_code,
            "starts_on": e.starts_on, "ends_on": e.ends_on, "reason": e.reason}


# --- inputs ----------------------------------------------------------------------------------


class ProgramIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    currency: str = Field("USD", min_length=3, max_length=3)
    summary: str = Field("", max_length=5000)


class DraftIn(InputSchema):
    based_on: str | None = Field(None, description="Id of the version to copy (default: the newest)")
    effective_from: date | None = Field(None, description="First day of a fiscal quarter (default: the next quarter)")
    pilot: bool = False


class VersionUpdate(InputSchema):
    effective_from: date | None = None
    credit_model: CreditModel | None = None
    influence_share: str | None = Field(None, max_length=12, description='Percent as a string, e.g. "25"')
    role_shares: dict[str, str] | None = Field(None, description='Percent per role as strings, e.g. {"sourced": "70"}')
    payout_frequency: PayoutFrequency | None = None
    payout_delay_days: int | None = Field(None, ge=0, le=365)
    notes: str | None = Field(None, max_length=5000)


class TierIn(InputSchema):
    code: str = Field(..., max_length=30)
    name: str = Field(..., max_length=60)
    rank: int = Field(..., ge=1, le=99)
    min_annual_sales_minor: int | None = Field(None, ge=0, strict=True, description="In the program's currency")
    min_certified_people: int | None = Field(None, ge=0, le=100_000)
    min_satisfaction: str | None = Field(None, max_length=5, description='0 to 10 as a string, e.g. "8.5"')
    min_deals: int | None = Field(None, ge=0, le=100_000)
    mdf_allowance_minor: int = Field(0, ge=0, strict=True)
    dedicated_manager: bool = False
    lead_sharing: bool = False
    perks: list[str] = Field(default_factory=list, max_length=30)


class TierUpdate(InputSchema):
    code: str | None = Field(None, max_length=30)
    name: str | None = Field(None, max_length=60)
    rank: int | None = Field(None, ge=1, le=99)
    min_annual_sales_minor: int | None = Field(None, ge=0, strict=True)
    min_certified_people: int | None = Field(None, ge=0, le=100_000)
    min_satisfaction: str | None = Field(None, max_length=5)
    min_deals: int | None = Field(None, ge=0, le=100_000)
    mdf_allowance_minor: int | None = Field(None, ge=0, strict=True)
    dedicated_manager: bool | None = None
    lead_sharing: bool | None = None
    perks: list[str] | None = Field(None, max_length=30)


class RuleIn(InputSchema):
    kind: str = Field(..., max_length=24, description="resale_margin, referral_commission, registration_bonus, accelerator, "
                      "annual_rebate, spiff, outcome_bonus, clawback or cap")
    name: str = Field(..., max_length=120)
    params: dict = Field(..., description='The kind\'s parameters; amounts and percents as strings, e.g. {"currency": "USD", "amount": "500.00"}')
    position: int | None = Field(None, ge=0, le=10_000)


class RuleUpdate(InputSchema):
    name: str | None = Field(None, max_length=120)
    params: dict | None = None
    position: int | None = Field(None, ge=0, le=10_000)


class PilotPartnersIn(InputSchema):
    partners: list[str] = Field(..., max_length=1000, description="Ids of the partners taking part")


class EnrolIn(InputSchema):
    partner: str
    tier_code: str = Field(..., max_length=30)
    starts_on: date
    reason: str = Field("", max_length=500)


class EnrolmentFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the partner's name or the tier code")
    partner: str | None = id_filter(Partner)
    current: bool | None = Field(None, description="Only current enrolments (true) or only ended ones (false)")


class ProgramFilters(Paging):
    q: str | None = Field(None, max_length=200)


# --- helpers ---------------------------------------------------------------------------------


def _design(user) -> None:
    access.require(selectors.can_manage_programs(user), NO_DESIGN)


def _editable(version: ProgramVersion, user, what: str) -> None:
    """A locked version is a 409; the service records the attempt (outside any transaction here, so
    the record stays although nothing else is written)."""
    if version.is_locked():
        try:
            services.require_editable(version, actor=user, what=what, source="api")
        except ValidationError as exc:
            raise ApiError(409, "version_locked", error_text(exc)) from None


def _no_floats(value, path: str = "params") -> None:
    if isinstance(value, float):
        raise ValidationError({path: FLOAT_REFUSED})
    if isinstance(value, dict):
        for k, v in value.items():
            _no_floats(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_floats(v, f"{path}.{i}")


def _satisfaction(values: dict) -> None:
    if values.get("min_satisfaction") is not None:
        try:
            value = Decimal(values["min_satisfaction"].strip())
        except ArithmeticError:
            value = Decimal("NaN")
        if not value.is_finite() or not 0 <= value <= 10 or value != value.quantize(Decimal("0.1")):
            raise ValidationError({"min_satisfaction": "Enter a number from 0 to 10 with at most one decimal, e.g. 8.5."})
        values["min_satisfaction"] = value


# --- programs --------------------------------------------------------------------------------


@router.get("/programs", response={200: ProgramPage, **READ_ERRORS}, operation_id="programs_list", summary="List programs",
            description="Vendor staff: every program; partner users: the programs their partner is enrolled in.")
def program_list(request: HttpRequest, filters: Query[ProgramFilters]):
    user = user_of(request)
    qs = Program.objects.visible_to(user)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    return page(qs.order_by("name", "id"), filters, _program_out(user))


@router.post("/programs", response={201: ProgramOut, **WRITE_ERRORS}, operation_id="programs_create", summary="Create a program",
             description="Creates the program with a draft version 1 for the current quarter. Send an Idempotency-Key header "
             "to make retries safe.")
def program_create(request: HttpRequest, payload: ProgramIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    _design(user)
    return create_once(request, key=idempotency_key, schema=ProgramOut, render=_program_out(user),
                       make=lambda: services.program_create(actor=user, source="api", **payload.model_dump()))


@router.get("/programs/{id}", response={200: ProgramOut, **READ_ERRORS}, operation_id="programs_get", summary="Get a program",
            description="The program with its versions (partner users: published versions only).")
def program_get(request: HttpRequest, id: str):
    user = user_of(request)
    return _program_out(user)(access.get_for_user(Program, user, id))


class ProgramPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    currency: str | None = Field(None, min_length=3, max_length=3)
    summary: str | None = Field(None, max_length=5000)


@router.patch("/programs/{id}", response={200: ProgramOut, **WRITE_ERRORS}, operation_id="programs_update",
              summary="Change a program", description="Its name and summary; its currency only until a version is published.")
def program_update(request: HttpRequest, id: str, payload: ProgramPatch):
    user = user_of(request)
    program = access.get_for_user(Program, user, id)
    _design(user)
    services.program_update(program=program, actor=user, name=payload.name if payload.name is not None else program.name,
                            summary=payload.summary if payload.summary is not None else program.summary,
                            currency=payload.currency, source="api")
    return _program_out(user)(program)


@router.post("/programs/{id}/versions", response={201: VersionOut, **WRITE_ERRORS}, operation_id="programs_versions_create",
             summary="Draft a new version", description="A draft copied (tiers and rules) from based_on or the newest version. "
             "Send an Idempotency-Key header to make retries safe.")
def version_create(request: HttpRequest, id: str, payload: DraftIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    program = access.get_for_user(Program, user, id)
    _design(user)
    based_on = None
    if payload.based_on:
        based_on = program.versions.filter(public_id=payload.based_on).first()
        if based_on is None:
            raise ValidationError({"based_on": f"No version of this program with id {payload.based_on!r}."})
    if payload.effective_from is not None and services.quarter_start_of(payload.effective_from) != payload.effective_from:
        raise ValidationError({"effective_from": services.NOT_QUARTER_START.format(
            suggestion=services.next_quarter_start(payload.effective_from).isoformat())})
    return create_once(request, key=idempotency_key, schema=VersionOut, render=version_out,
                       make=lambda: services.version_draft(program=program, actor=user, based_on=based_on, source="api",
                                                           effective_from=payload.effective_from, pilot=payload.pilot))


# --- versions --------------------------------------------------------------------------------


@router.get("/program-versions/{id}", response={200: VersionOut, **READ_ERRORS}, operation_id="program_versions_get",
            summary="Get a program version", description="Settings, tiers and rules; partner users see published versions only.")
def version_get(request: HttpRequest, id: str):
    return version_out(selectors.version_get(user_of(request), id))


@router.patch("/program-versions/{id}", response={200: VersionOut, **WRITE_ERRORS}, operation_id="program_versions_update",
              summary="Change a version's settings", description="Only the fields sent change. A locked version is a 409.")
def version_update(request: HttpRequest, id: str, payload: VersionUpdate):
    user = user_of(request)
    version = selectors.version_get(user, id)
    _design(user)
    values = payload.model_dump(exclude_unset=True)
    refuse_nulls(values)
    _editable(version, user, f"change {', '.join(sorted(values))}")
    services.version_update(version=version, actor=user, source="api", **values)
    return version_out(version)


@router.post("/program-versions/{id}/publish", response={200: VersionOut, **WRITE_ERRORS}, operation_id="program_versions_publish",
             summary="Publish a draft version", description="Every rule must validate and there must be a tier; it may not start "
             "in a quarter another version already governs (422 with the reasons).")
def version_publish(request: HttpRequest, id: str):
    user = user_of(request)
    version = selectors.version_get(user, id)
    _design(user)
    if version.status != VersionStatus.DRAFT:
        raise ApiError(409, "conflict", services.ONLY_DRAFTS)
    return version_out(services.version_publish(version=version, actor=user, source="api"))


@router.put("/program-versions/{id}/pilot-partners", response={200: VersionOut, **WRITE_ERRORS},
            operation_id="program_versions_pilot_partners", summary="Choose the pilot partners",
            description="Marks the version a pilot and sets who takes part. A locked version is a 409.")
def pilot_partners(request: HttpRequest, id: str, payload: PilotPartnersIn):
    user = user_of(request)
    version = selectors.version_get(user, id)
    _design(user)
    _editable(version, user, "change the pilot partners")
    partners = [lookup(Partner, user, pid, field=f"partners.{i}") for i, pid in enumerate(payload.partners)]
    if not version.pilot:
        services.version_update(version=version, actor=user, source="api", pilot=True)
    services.pilot_partners_set(version=version, partners=partners, actor=user, source="api")
    return version_out(version)


@router.post("/program-versions/{id}/roll-out", response={200: VersionOut, **WRITE_ERRORS}, operation_id="program_versions_roll_out",
             summary="Roll a pilot out to everyone", description="Publishes a general version with the pilot's rules from the "
             "next quarter and answers with it.")
def roll_out(request: HttpRequest, id: str):
    user = user_of(request)
    version = selectors.version_get(user, id)
    _design(user)
    return version_out(services.pilot_roll_out(pilot=version, actor=user, source="api"))


# --- tiers -----------------------------------------------------------------------------------


@router.post("/program-versions/{id}/tiers", response={201: TierOut, **WRITE_ERRORS}, operation_id="program_versions_tiers_create",
             summary="Add a tier", description="A locked version is a 409. Send an Idempotency-Key header to make retries safe.")
def tier_create(request: HttpRequest, id: str, payload: TierIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    version = selectors.version_get(user, id)
    _design(user)
    _editable(version, user, "add a tier")
    values = payload.model_dump()
    _satisfaction(values)
    return create_once(request, key=idempotency_key, schema=TierOut, render=tier_out,
                       make=lambda: services.tier_save(version=version, actor=user, source="api", **values))


@router.patch("/program-tiers/{id}", response={200: TierOut, **WRITE_ERRORS}, operation_id="program_tiers_update",
              summary="Change a tier", description="Only the fields sent change. A locked version is a 409.")
def tier_update(request: HttpRequest, id: str, payload: TierUpdate):
    user = user_of(request)
    tier = selectors.tier_get(user, id)
    _design(user)
    values = payload.model_dump(exclude_unset=True)
    refuse_nulls(values, nullable=("min_annual_sales_minor", "min_certified_people", "min_satisfaction", "min_deals"))
    _editable(tier.version, user, f"change tier {tier.code}")
    _satisfaction(values)
    try:
        saved = services.tier_save(version=tier.version, tier=tier, actor=user, source="api", **values)
    except ValidationError:
        tier.refresh_from_db()
        raise
    return tier_out(saved)


@router.delete("/program-tiers/{id}", response={**DELETED, **WRITE_ERRORS}, operation_id="program_tiers_delete",
               summary="Remove a tier", description="A locked version is a 409.")
def tier_delete(request: HttpRequest, id: str):
    user = user_of(request)
    tier = selectors.tier_get(user, id)
    _design(user)
    _editable(tier.version, user, f"remove tier {tier.code}")
    services.tier_delete(tier=tier, actor=user, source="api")
    return no_content()


# --- rules -----------------------------------------------------------------------------------


@router.post("/program-versions/{id}/rules", response={201: RuleOut, **WRITE_ERRORS}, operation_id="program_versions_rules_create",
             summary="Add a rule", description="The parameters are validated for the kind: a 422 names each field at fault "
             "(params.bands.1.from). A locked version is a 409. Send an Idempotency-Key header to make retries safe.")
def rule_create(request: HttpRequest, id: str, payload: RuleIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    version = selectors.version_get(user, id)
    _design(user)
    _editable(version, user, f"add rule {payload.name}")
    _no_floats(payload.params)
    return create_once(request, key=idempotency_key, schema=RuleOut, render=rule_out,
                       make=lambda: services.rule_save(version=version, actor=user, kind=payload.kind, name=payload.name,
                                                       params=payload.params, position=payload.position, source="api"))


@router.patch("/program-rules/{id}", response={200: RuleOut, **WRITE_ERRORS}, operation_id="program_rules_update",
              summary="Change a rule", description="Only the fields sent change; params are replaced whole and validated. "
              "A locked version is a 409.")
def rule_update(request: HttpRequest, id: str, payload: RuleUpdate):
    user = user_of(request)
    rule = selectors.rule_get(user, id)
    _design(user)
    values = payload.model_dump(exclude_unset=True)
    refuse_nulls(values)
    _editable(rule.version, user, f"change rule {rule.name}")
    params = values.get("params", rule.params)
    _no_floats(params)
    saved = services.rule_save(version=rule.version, rule=rule, actor=user, kind=rule.kind, name=values.get("name", rule.name),
                               params=params, position=values.get("position"), source="api")
    return rule_out(saved)


@router.delete("/program-rules/{id}", response={**DELETED, **WRITE_ERRORS}, operation_id="program_rules_delete",
               summary="Remove a rule", description="A locked version is a 409.")
def rule_delete(request: HttpRequest, id: str):
    user = user_of(request)
    rule = selectors.rule_get(user, id)
    _design(user)
    _editable(rule.version, user, f"remove rule {rule.name}")
    services.rule_delete(rule=rule, actor=user, source="api")
    return no_content()


# --- enrolments and the guide ----------------------------------------------------------------


@router.get("/programs/{id}/enrolments", response={200: EnrolmentPage, **READ_ERRORS}, operation_id="programs_enrolments_list",
            summary="List enrolments", description="The tier history of partners in the program (partner users: their own).")
def enrolment_list(request: HttpRequest, id: str, filters: Query[EnrolmentFilters]):
    user = user_of(request)
    program = access.get_for_user(Program, user, id)
    qs = search(selectors.enrolment_history(user, program), filters.q, "partner__name", "tier_code")
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.current is not None:
        qs = qs.filter(ends_on__isnull=filters.current)
    return page(qs.order_by("partner__name", "-starts_on", "id"), filters, enrolment_out)


@router.post("/programs/{id}/enrolments", response={201: EnrolmentOut, **WRITE_ERRORS}, operation_id="programs_enrolments_create",
             summary="Enrol a partner at a tier", description="The partner's current enrolment (if any) ends the day before. "
             "Send an Idempotency-Key header to make retries safe.")
def enrolment_create(request: HttpRequest, id: str, payload: EnrolIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    program = access.get_for_user(Program, user, id)
    access.require(selectors.can_enrol(user), NO_ENROL)
    partner = lookup(Partner, user, payload.partner, field="partner")
    access.require(selectors.can_enrol(user, partner), NO_ENROL)
    return create_once(request, key=idempotency_key, schema=EnrolmentOut, render=enrolment_out,
                       make=lambda: services.enrol(partner=partner, program=program, tier_code=payload.tier_code,
                                                   starts_on=payload.starts_on, actor=user, reason=payload.reason, source="api"))


@router.get("/programs/{id}/guide", response={200: GuideOut, **READ_ERRORS}, operation_id="programs_guide",
            summary="The program guide", description="Plain-language rules per tier. Partner users get their own tier of the "
            "version governing them; vendor staff may pick version and tier.")
def guide(request: HttpRequest, id: str, version: str | None = Query(None, max_length=40),
          tier: str | None = Query(None, max_length=30)):
    user = user_of(request)
    program = access.get_for_user(Program, user, id)
    c = selectors.guide_context(user, program, version_id=version, tier_code=tier)
    if c["version"] is None:
        raise Http404("This program has no published version yet")
    return {
        "program": ref(program), "version": version_summary(c["version"]), "tier": c["tier_code"] or None,
        "credit": c["credit"], "payout": c["payout"],
        "tiers": [{"code": s["tier"].code, "name": s["tier"].name, "rank": s["tier"].rank,
                   "requirements": list(s["facts"].requirements), "benefits": list(s["facts"].benefits),
                   "lines": [{"name": x.name, "kind": x.kind, "text": x.text, "notes": list(x.notes)} for x in s["lines"]]}
                  for s in c["sections"]],
    }

