"""Recognition over the API: the awards (a partner user: its own partner's), the quarter's
leaderboards and rules (vendor staff), giving a quarter's missing awards (admins and partner
managers) and changing a rule (admins). The same services as the awards page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router

from covey.analytics import metrics as M
from covey.core import access
from covey.core.api import page, user_of
from covey.core.periods import Period
from covey.core.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    OutSchema,
    Paging,
    Ref,
    id_filter,
)
from covey.partners.models import Partner
from covey.recognition import services
from covey.recognition.models import THRESHOLD_HELP, Award, AwardKind, AwardRule

router = Router(tags=["recognition"])


class AwardOut(OutSchema):
    id: str
    period: str = Field(description="Fiscal quarter, e.g. 2026Q3")
    kind: str
    label: str
    partner: Ref
    value: str = Field(description="The figure it was won with, as shown")
    explanation: str
    created_at: datetime


class AwardPage(OutSchema):
    items: list[AwardOut]
    count: int


class AwardFilters(Paging):
    period: str | None = Field(None, max_length=8, description="Fiscal quarter, e.g. 2026Q3")
    kind: AwardKind | None = None
    partner: str | None = id_filter(Partner, "A partner's id (vendor staff)")
    q: str | None = Field(None, max_length=100, description="Text in the partner's name or the explanation")


class CandidateOut(OutSchema):
    partner: Ref
    value: str
    explanation: str


class RuleOut(OutSchema):
    kind: str
    label: str
    enabled: bool
    threshold: str = Field(description="A decimal string; what it means is in threshold_help")
    threshold_help: str


class BoardOut(OutSchema):
    rule: RuleOut
    leaders: list[CandidateOut] = Field(description=f"The best {services.LEADERBOARD} who clear the rule's bar, best first")


class BoardsOut(OutSchema):
    period: str
    boards: list[BoardOut]


class RunIn(InputSchema):
    period: str | None = Field(None, max_length=8, description="Fiscal quarter; default: the last complete one")


class RunOut(OutSchema):
    period: str
    given: list[AwardOut] = Field(description="The awards this call gave (empty when they were given already)")


class RuleIn(InputSchema):
    enabled: bool | None = None
    threshold: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)


def award_out(award: Award) -> dict:
    return {"id": award.public_id, "period": award.period_key, "kind": award.kind, "label": award.get_kind_display(),
            "partner": {"id": award.partner.public_id, "name": award.partner.name}, "value": award.value,
            "explanation": award.explanation, "created_at": award.created_at}


def rule_out(rule: AwardRule) -> dict:
    return {"kind": rule.kind, "label": rule.get_kind_display(), "enabled": rule.enabled,
            "threshold": f"{rule.threshold:f}", "threshold_help": str(THRESHOLD_HELP[rule.kind])}


def _vendor(user) -> None:
    if not user.is_vendor:
        raise Http404("No such operation for partner users")


def _quarter(text: str | None) -> Period:
    try:
        period = M.parse_period(text or services.last_complete_quarter(timezone.localdate()).key)
    except M.FilterError as exc:
        raise ValidationError({"period": str(exc)}) from None
    if not period.quarter:
        raise ValidationError({"period": "Awards are given per quarter: use a quarter like 2026Q3."})
    return period


@router.get("/recognition/awards", response={200: AwardPage, **READ_ERRORS}, operation_id="recognition_awards_list",
            summary="List awards", description="Awards given, newest quarter first. A partner user sees its own partner's.")
def awards_list(request: HttpRequest, filters: Query[AwardFilters]):
    user = user_of(request)
    qs = Award.objects.visible_to(user).select_related("partner")
    if filters.period:
        qs = qs.filter(period_key=_quarter(filters.period).key)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.partner and user.is_vendor:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.q:
        qs = qs.filter(Q(partner__name__icontains=filters.q) | Q(explanation__icontains=filters.q))
    return page(qs.order_by("-period_key", "kind", "id"), filters, award_out)


@router.get("/recognition/leaderboards", response={200: BoardsOut, **READ_ERRORS},
            operation_id="recognition_leaderboards", summary="The quarter's leaderboards",
            description="For each enabled rule, the partners who clear its bar, best first (vendor staff).")
def leaderboards(request: HttpRequest, period: str | None = Query(None, max_length=8)):
    _vendor(user_of(request))
    quarter = _quarter(period)
    return {"period": quarter.key, "boards": [
        {"rule": rule_out(rule), "leaders": [
            {"partner": {"id": c.partner.public_id, "name": c.partner.name}, "value": c.value, "explanation": c.explanation}
            for c in leaders]}
        for rule, leaders in services.leaderboards(quarter)]}


@router.post("/recognition/awards/run", response={200: RunOut, **WRITE_ERRORS}, operation_id="recognition_awards_run",
             summary="Give a quarter's awards",
             description="Gives each enabled rule's award for the quarter to its leader, unless given already; the winner's "
             "users and manager are told. Running it again gives nothing new. Admins and partner managers.")
def awards_run(request: HttpRequest, payload: RunIn):
    user = user_of(request)
    _vendor(user)
    access.require(services.can_run(user), services.NO_RUN)
    quarter = _quarter(payload.period)
    made = services.awards_run(quarter=quarter, actor=user, source="api")
    return {"period": quarter.key, "given": [award_out(a) for a in made]}


@router.get("/recognition/rules", response={200: list[RuleOut], **READ_ERRORS}, operation_id="recognition_rules_list",
            summary="List award rules", description="Which awards run and the bar a winner must clear (vendor staff).")
def rules_list(request: HttpRequest):
    _vendor(user_of(request))
    return [rule_out(r) for r in AwardRule.all_rules()]


@router.patch("/recognition/rules/{kind}", response={200: RuleOut, **WRITE_ERRORS}, operation_id="recognition_rules_update",
              summary="Change an award rule", description="Turn a rule on or off, or change its threshold. Admins.")
def rule_update(request: HttpRequest, kind: str, payload: RuleIn):
    user = user_of(request)
    _vendor(user)
    if kind not in AwardKind.values:
        raise Http404("No award rule of that kind")
    access.require(access.is_admin(user), services.NO_RULES)  # before all_rules, which makes the default rules
    rule = next(r for r in AwardRule.all_rules() if r.kind == kind)
    return rule_out(services.rule_update(
        actor=user, rule=rule, source="api",
        enabled=rule.enabled if payload.enabled is None else payload.enabled,
        threshold=rule.threshold if payload.threshold is None else payload.threshold))
