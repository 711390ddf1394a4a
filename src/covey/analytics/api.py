"""Analytics over the API: the metrics with their definitions (filtered like the dashboard), a
partner's quarterly scorecard, and the scorecard targets. A partner user's figures are its own
partner's; naming another partner is refused the same way whether it exists or not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from covey.analytics import metrics as M
from covey.analytics import scorecard as S
from covey.analytics import services
from covey.analytics.models import MONEY_MEASURES, Measure, Target
from covey.analytics.views import major
from covey.core import access
from covey.core.api import create_once, idempotency_key_header, lookup, page, search, user_of
from covey.core.models import VendorSettings
from covey.core.money import MoneyError, parse_amount
from covey.core.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    OutSchema,
    Paging,
    quarter_filter,
)
from covey.partners.models import Partner

router = Router(tags=["analytics"])


class MetricFilters(Schema):
    period: str | None = Field(None, max_length=12, description="Fiscal quarter (2026Q3) or year (2026); default: this quarter")
    partner: str | None = Field(None, max_length=40, description="A partner's id (partner users: their own only)")
    partner_type: str | None = Field(None, max_length=30)
    tier: str | None = Field(None, max_length=30)
    region: str | None = Field(None, max_length=30)
    segment: str | None = Field(None, max_length=30)


class MetricOut(OutSchema):
    key: str
    name: str
    definition: str
    unit: str
    value: str | None = Field(description="Money: a decimal string in the base currency; ratios: a decimal share; days; counts")
    value_minor: int | None = Field(description="Money metrics only: the value in base-currency minor units")
    currency: str | None


class MetricsOut(OutSchema):
    period: str
    start: date
    end: date
    base_currency: str
    missing_fx_rates: list[str]
    metrics: list[MetricOut]


class LineOut(OutSchema):
    measure: str
    label: str
    unit: str
    actual: str | None
    previous: str | None
    change: str | None
    target: str | None
    status: str | None


class ScorecardOut(OutSchema):
    partner: dict
    quarter: str
    previous_quarter: str
    tier: str | None
    base_currency: str
    lines: list[LineOut]
    notes: str
    missing_fx_rates: list[str]


class TargetOut(OutSchema):
    id: str
    period: str
    partner: dict | None
    tier: str
    measure: str
    value: str


class TargetPage(OutSchema):
    items: list[TargetOut]
    count: int


class TargetFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the partner's name, the tier code or the measure")
    period: str | None = quarter_filter()


class TargetIn(InputSchema):
    period: str = Field(..., max_length=8, description="Fiscal quarter, e.g. 2026Q3")
    measure: str = Field(..., max_length=24, description=", ".join(Measure.values))
    partner: str | None = Field(None, max_length=40, description="A partner's id, or leave out and give tier")
    tier: str = Field("", max_length=30)
    value: str = Field(..., max_length=30, description="Money as a decimal string in the base currency; counts; "
                                                        "rates as a share (0.35)")


def _text(value, unit: str, base: str) -> str | None:
    if value is None:
        return None
    if unit == "money":
        return major(int(value), base)
    return str(value)


def _filters(request: HttpRequest, params: dict):
    try:
        return M.parse_filters({k: v for k, v in params.items() if v}, user=user_of(request))
    except M.FilterError as exc:
        raise ValidationError(str(exc)) from None


@router.get("/analytics/metrics", response={200: MetricsOut, **READ_ERRORS}, operation_id="analytics_metrics",
            summary="Program metrics", description="Every metric with its definition and value for the period and filters. "
            "Partner users get their own partner's metrics.")
def metrics(request: HttpRequest, filters: Query[MetricFilters]):
    user = user_of(request)
    f, _ = _filters(request, filters.dict())
    cube = M.build_cube(f)
    chosen = M.metrics_for(user)
    values = M.compute_all(cube, chosen)
    return {"period": f.period.key, "start": f.period.start, "end": f.period.end, "base_currency": cube.base,
            "missing_fx_rates": [f"{c} {q}" for c, q in cube.missing_rates],
            "metrics": [{"key": m.key, "name": m.name, "definition": m.definition, "unit": m.unit,
                         "value": _text(values[m.key], m.unit, cube.base),
                         "value_minor": values[m.key] if m.unit == "money" else None,
                         "currency": cube.base if m.unit == "money" else None} for m in chosen]}


@router.get("/analytics/scorecards/{partner}/{quarter}", response={200: ScorecardOut, **READ_ERRORS},
            operation_id="analytics_scorecard", summary="A partner's quarterly scorecard",
            description="Each measure for the quarter and the one before, its target (the partner's own, else its tier's) "
                        "and red/amber/green status.")
def scorecard(request: HttpRequest, partner: str, quarter: str):
    who = access.get_for_user(Partner, user_of(request), partner[:40])
    try:
        period = M.parse_period(quarter)
        card = S.build_scorecard(who, period)
    except M.FilterError as exc:
        raise ValidationError({"quarter": str(exc)}) from None
    return {"partner": {"id": who.public_id, "name": who.name}, "quarter": card.quarter.key,
            "previous_quarter": card.previous.key, "tier": card.tier_code, "base_currency": card.base, "notes": card.note,
            "missing_fx_rates": [f"{c} {q}" for c, q in card.missing_rates],
            "lines": [{"measure": line.measure, "label": line.label, "unit": line.unit,
                       "actual": _text(line.actual, line.unit, card.base), "previous": _text(line.previous, line.unit, card.base),
                       "change": _text(line.change, line.unit, card.base), "target": _text(line.target, line.unit, card.base),
                       "status": line.status} for line in card.lines]}


def target_out(t: Target) -> dict:
    base = VendorSettings.current().base_currency
    value = major(t.amount_minor, base) if t.amount_minor is not None else str(t.value)
    return {"id": t.public_id, "period": t.period_key, "partner": {"id": t.partner.public_id, "name": t.partner.name}
            if t.partner else None, "tier": t.tier_code, "measure": t.measure, "value": value}


@router.get("/analytics/targets", response={200: TargetPage, **READ_ERRORS}, operation_id="analytics_targets_list",
            summary="List scorecard targets", description="Vendor staff see every target; a partner user its own and the tiers'.")
def targets_list(request: HttpRequest, filters: Query[TargetFilters]):
    qs = Target.objects.visible_to(user_of(request)).select_related("partner")
    qs = search(qs, filters.q, "partner__name", "tier_code", "measure")
    if filters.period:
        qs = qs.filter(period_key=filters.period.strip().upper())
    return page(qs.order_by("-period_key", "measure", "id"), filters, target_out)


@router.post("/analytics/targets", response={201: TargetOut, **WRITE_ERRORS}, operation_id="analytics_targets_create",
             summary="Set a scorecard target", description="For one partner or one tier in one quarter. Admins and partner managers.")
def target_create(request: HttpRequest, payload: TargetIn, idempotency_key: str | None = idempotency_key_header()):
    user = _setter(request)
    partner = lookup(Partner, user, payload.partner, field="partner") if payload.partner else None
    if payload.measure not in Measure.values:
        raise ValidationError({"measure": f"Not a measure; one of {', '.join(Measure.values)}."})
    amount_minor, value = _value(payload.measure, payload.value)
    return create_once(request, key=idempotency_key, schema=TargetOut, render=target_out,
                       make=lambda: services.target_set(actor=user, period=payload.period, measure=payload.measure,
                                                        partner=partner, tier_code=payload.tier, amount_minor=amount_minor,
                                                        value=value))


def _setter(request: HttpRequest):
    user = user_of(request)
    if not user.is_vendor:
        raise Http404("No such operation for partner users")
    access.require(services.can_set_targets(user), services.NO_TARGETS)
    return user


def _value(measure: str, text: str) -> tuple[int | None, Decimal | None]:
    """(amount_minor, value) from the API's text: money in the base currency, counts, rates as a share."""
    try:
        if measure in MONEY_MEASURES:
            return parse_amount(text, VendorSettings.current().base_currency).minor, None
        value = Decimal(text)
        if not value.is_finite() or value < 0:
            raise InvalidOperation
        return None, value
    except (MoneyError, InvalidOperation):
        raise ValidationError({"value": "Enter a non-negative decimal, e.g. 12500.00, 4 or 0.35."}) from None


class TargetPatch(InputSchema):
    value: str = Field(..., max_length=30, description="The new value: money as a decimal string in the base currency; "
                                                        "counts; rates as a share (0.35)")


@router.patch("/analytics/targets/{id}", response={200: TargetOut, **WRITE_ERRORS}, operation_id="analytics_targets_update",
              summary="Change a scorecard target's value",
              description="Its quarter, measure and partner or tier stay. Admins and partner managers; the change is audited.")
def target_update(request: HttpRequest, id: str, payload: TargetPatch):
    user = _setter(request)
    target = access.get_for_user(Target, user, id[:40])
    amount_minor, value = _value(target.measure, payload.value)
    return target_out(services.target_update(actor=user, target=target, amount_minor=amount_minor, value=value,
                                             source="api"))
