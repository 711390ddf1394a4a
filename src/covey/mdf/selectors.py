"""MDF reads with the caller's scope: ROI per activity, per partner and per program.

An activity's ROI: its cost is what the vendor reimbursed (or, before that, what it approved); its
leads are those the claim delivered; its pipeline and won revenue are the amounts of the
opportunities carrying its campaign code, in the activity's currency (opportunities in another
currency are named, not converted). Opportunities are counted from the vendor's CRM as a whole, not
only the partner's deals: a campaign code is the attribution, wherever the deal landed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, Sum

from covey.crm.models import CLOSED_STAGES, Opportunity, Stage
from covey.mdf.models import ClaimStatus, FundRequest, RequestStatus
from covey.mdf.rules import ZERO, Roi

COUNTED = (RequestStatus.APPROVED, RequestStatus.SECOND_APPROVAL, RequestStatus.CLAIMED, RequestStatus.REIMBURSED)


@dataclass
class ActivityRoi:
    request: FundRequest
    roi: Roi
    other_currencies: list[str]


def _cost(request: FundRequest) -> int:
    approved_claim = next((c for c in request.claims.all() if c.status == ClaimStatus.APPROVED), None)
    if approved_claim is not None:
        return approved_claim.reimbursable_minor
    return request.approved_minor or 0


def _leads(request: FundRequest) -> int:
    claims = [c for c in request.claims.all() if c.status != ClaimStatus.REJECTED]
    return max((c.leads_count for c in claims), default=0)


def activity_rois(*, user, program=None, partner=None, q: str | None = None) -> list[ActivityRoi]:
    """Every approved (or later) activity the user may see, with its ROI, newest first; ``q`` keeps
    those whose title, campaign code or partner's name contains it."""
    qs = (FundRequest.objects.visible_to(user).filter(status__in=COUNTED)
          .select_related("partner", "allocation__budget__program").prefetch_related("claims"))
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(campaign_code__icontains=q) | Q(partner__name__icontains=q))
    if program is not None:
        qs = qs.filter(allocation__budget__program=program)
    if partner is not None:
        qs = qs.filter(partner=partner)
    requests = list(qs.order_by("-starts_on", "-id"))
    codes = {r.campaign_code for r in requests}
    figures: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"pipeline": 0, "won": 0})
    if codes:
        rows = (Opportunity.objects.filter(campaign_code__in=codes).values("campaign_code", "currency")
                .annotate(pipeline=Sum("amount_minor", filter=~Q(stage__in=CLOSED_STAGES)),
                          won=Sum("amount_minor", filter=Q(stage=Stage.CLOSED_WON))))
        for row in rows:
            figures[(row["campaign_code"], row["currency"])] = {"pipeline": row["pipeline"] or 0, "won": row["won"] or 0}
    out = []
    for r in requests:
        mine = figures.get((r.campaign_code, r.currency), {"pipeline": 0, "won": 0})
        others = sorted(cur for code, cur in figures if code == r.campaign_code and cur != r.currency)
        out.append(ActivityRoi(r, Roi(_cost(r), _leads(r), mine["pipeline"], mine["won"]), others))
    return out


@dataclass
class Summary:
    label: str
    currency: str
    roi: Roi
    activities: int


def summarise(rows: list[ActivityRoi], *, by: str) -> list[Summary]:
    """Totals per partner (``by="partner"``) or per program (``by="program"``) and currency."""
    totals: dict[tuple[str, str], Roi] = defaultdict(lambda: ZERO)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        name = row.request.partner.name if by == "partner" else row.request.allocation.budget.program.name
        key = (name, row.request.currency)
        totals[key] = totals[key] + row.roi
        counts[key] += 1
    return [Summary(name, currency, totals[(name, currency)], counts[(name, currency)])
            for name, currency in sorted(totals)]
