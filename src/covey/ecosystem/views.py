"""The ecosystem map page (vendor staff) and its SVG and PNG downloads, for a fiscal period."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from covey.analytics import metrics as M
from covey.core.access import require_vendor
from covey.core.models import VendorSettings
from covey.ecosystem import draw, facts
from covey.partners.models import PartnerType

MEASURES = ("pipeline", "revenue")
BAD_MEASURE = "Size the flows by pipeline or revenue."


@login_required
def ecosystem_map(request: HttpRequest) -> HttpResponse:
    require_vendor(request.user)
    try:
        period = M.parse_period(request.GET.get("period"))
    except M.FilterError as exc:
        return render(request, "error.html", {"status": 400, "title": "Check the filters", "message": str(exc)}, status=400)
    measure = request.GET.get("measure") or "pipeline"
    if measure not in MEASURES:
        return render(request, "error.html", {"status": 400, "title": "Check the filters", "message": BAD_MEASURE}, status=400)
    data = facts.build(period)
    picture = draw.svg(data, VendorSettings.current().company_name or "Our company", measure)
    fmt = request.GET.get("format")
    if fmt in ("svg", "png"):
        body, kind = (picture.encode(), "image/svg+xml") if fmt == "svg" else (draw.png(picture), "image/png")
        response = HttpResponse(body, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="ecosystem-{period.key}-{measure}.{fmt}"'
        return response
    labels = dict(PartnerType.choices)
    return render(request, "ecosystem/map.html", {
        "facts": data, "svg": picture, "period": period, "measure": measure, "query": request.GET.urlencode(),
        "region_gaps": [(r, labels.get(t, t)) for r, t in data.region_gaps],
        "segment_gaps": [(s, labels.get(t, t)) for s, t in data.segment_gaps]})
