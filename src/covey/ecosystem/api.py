"""The ecosystem map's numbers over the API (vendor staff; partner users: 404): the value flowing
through each kind of partnership, by partner type and by customer segment, where partner types are
missing by region and segment, and the partners who are idle or overlap with nothing. Money is in
the base currency's minor units, as on the map."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from covey.analytics import metrics as M
from covey.core.api import user_of
from covey.core.schemas import READ_ERRORS, OutSchema, Ref
from covey.ecosystem import facts

router = Router(tags=["analytics"])


class EcosystemFilters(Schema):
    period: str | None = Field(None, max_length=12, description="Fiscal quarter (2026Q3) or year (2026); default: this quarter")


class ValueOut(OutSchema):
    pipeline_minor: int = Field(description="Deals created in the period with such a partner link, base-currency minor units")
    revenue_minor: int = Field(description="Deals won in the period with such a partner link, base-currency minor units")


class FlowOut(ValueOut):
    flow: str = Field(description="referrals, resale, integrations or services")


class TypeFlowOut(FlowOut):
    partner_type: str


class SegmentFlowOut(FlowOut):
    segment: str = Field(description="The customer's segment; empty when the account has none")


class CoverageOut(OutSchema):
    partner_type: str
    region: str
    active: int
    partners: int


class GapOut(OutSchema):
    partner_type: str
    region: str | None = None
    segment: str | None = None


class EcosystemOut(OutSchema):
    period: str
    base_currency: str
    missing_fx_rates: list[str]
    flows: list[FlowOut]
    by_partner_type: list[TypeFlowOut]
    by_segment: list[SegmentFlowOut]
    coverage: list[CoverageOut]
    region_gaps: list[GapOut]
    segment_gaps: list[GapOut]
    idle_partners: list[Ref] = Field(description="Active in the lifecycle, but no registration or deal in the period")
    partners_without_overlap: list[Ref] = Field(description="No deal with the vendor ever and no account-mapping overlap")


def _value(v: facts.Value) -> dict:
    return {"pipeline_minor": v.pipeline, "revenue_minor": v.revenue}


def _ref(partner) -> dict:
    return {"id": partner.public_id, "name": partner.name}


@router.get("/analytics/ecosystem", response={200: EcosystemOut, **READ_ERRORS}, operation_id="analytics_ecosystem",
            summary="The ecosystem map's numbers", description="Value flows, coverage and gaps for a fiscal period (vendor staff).")
def ecosystem(request: HttpRequest, filters: Query[EcosystemFilters]):
    if not user_of(request).is_vendor:
        raise Http404("No such operation for partner users")
    try:
        period = M.parse_period(filters.period)
    except M.FilterError as exc:
        raise ValidationError({"period": str(exc)}) from None
    data = facts.build(period)
    return {
        "period": period.key, "base_currency": data.base,
        "missing_fx_rates": [f"{c} {q}" for c, q in data.missing_rates],
        "flows": [{"flow": flow, **_value(v)} for flow, v in data.flows.items()],
        "by_partner_type": [{"partner_type": t, "flow": flow, **_value(v)} for (t, flow), v in sorted(data.by_type.items())],
        "by_segment": [{"segment": s, "flow": flow, **_value(v)} for (flow, s), v in sorted(data.by_segment.items())],
        "coverage": [{"partner_type": t, "region": r, "active": a, "partners": n}
                     for t, regions in sorted(data.partners.items()) for r, (a, n) in sorted(regions.items())],
        "region_gaps": [{"partner_type": t, "region": r} for r, t in data.region_gaps],
        "segment_gaps": [{"partner_type": t, "segment": s} for s, t in data.segment_gaps],
        "idle_partners": [_ref(p) for p in data.idle],
        "partners_without_overlap": [_ref(p) for p in data.no_overlap],
    }
