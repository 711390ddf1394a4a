"""The numbers behind the ecosystem map, for one fiscal period.

Flows: every partner link on a deal is one of four value flows, by its role —
referrals (sourced, referral), resale (reseller, distributor), integrations (technology) and services
(integrator, influencer). A flow's *pipeline* is the value of the deals created in the period with
such a link, its *revenue* the value of those closed won in the period (by close date), each in the
base currency with the quarter's FX rate (``analytics.metrics.Converter``; a currency without a rate
is left out and named). A deal with two partners counts in each of their flows, as on the metrics'
per-partner figures. Each flow is also split by the partner's types (so the map draws type → company)
and by the customer's segment (company → segment).

Gaps: *active* is the analytics rule (``metrics.active_partners``: by default a registration, or a
deal created or won, in the period). A region or a segment has a gap for a partner type when some
partner of that type is active somewhere but none in that region (partner's region) or serving that
segment (the partner's segment tags). Partners whose lifecycle is active but who had no activity in
the period are listed, and so are partners with *no overlap*: not one deal with the vendor ever and
no account-mapping overlap found (no matched pair in any mapping run).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Sum

from covey.analytics import metrics as M
from covey.core.periods import Period
from covey.core.vocab import Region, Segment

FLOWS = {"referrals": ("sourced", "referral"), "resale": ("reseller", "distributor"),
         "integrations": ("technology",), "services": ("integrator", "influencer")}
FLOW_OF_ROLE = {role: flow for flow, roles in FLOWS.items() for role in roles}
NO_SEGMENT = ""


@dataclass
class Value:
    pipeline: int = 0
    revenue: int = 0

    def add(self, measure: str, amount: int) -> None:
        setattr(self, measure, getattr(self, measure) + amount)


@dataclass
class Facts:
    period: Period
    base: str
    flows: dict[str, Value]  # flow → value
    by_type: dict[tuple[str, str], Value]  # (partner type, flow) → value
    by_segment: dict[tuple[str, str], Value]  # (flow, account segment or "") → value
    partners: dict[str, dict[str, tuple[int, int]]]  # type → region → (active, all)
    region_gaps: list[tuple[str, str]]  # (region, type)
    segment_gaps: list[tuple[str, str]]  # (segment, type)
    idle: list[object] = field(default_factory=list)  # active-lifecycle partners without activity in the period
    no_overlap: list[object] = field(default_factory=list)
    missing_rates: list[tuple[str, str]] = field(default_factory=list)


def _links_in(measure: str, quarter: Period):
    from covey.crm.models import OpportunityPartner

    qs = OpportunityPartner.objects.all()
    if measure == "pipeline":
        qs = qs.filter(opportunity__created_at__gte=M._aware(quarter.start),
                       opportunity__created_at__lt=M._aware(quarter.end + timedelta(days=1)))
    else:
        qs = qs.filter(opportunity__stage=M.WON, opportunity__close_date__range=(quarter.start, quarter.end))
    return (qs.order_by().values("role", "partner_id", "opportunity__account__segment", "opportunity__currency")
            .annotate(amount=Sum("opportunity__amount_minor")))


def build(period: Period) -> Facts:
    from covey.partners.models import Lifecycle, Partner, PartnerSegmentTag, PartnerTypeTag

    quarters = M.period_quarters(period)
    fx = M.Converter.for_quarters([q.key for q in quarters])
    types_of: dict[int, list[str]] = defaultdict(list)
    for pid, code in PartnerTypeTag.objects.values_list("partner_id", "code"):
        types_of[pid].append(code)
    flows = {f: Value() for f in FLOWS}
    by_type: dict[tuple[str, str], Value] = defaultdict(Value)
    by_segment: dict[tuple[str, str], Value] = defaultdict(Value)
    for measure in ("pipeline", "revenue"):
        for q in quarters:
            for row in _links_in(measure, q):
                value = fx.to_base(row["amount"] or 0, row["opportunity__currency"], q.key)
                flow = FLOW_OF_ROLE.get(row["role"])
                if value is None or flow is None:
                    continue
                flows[flow].add(measure, value)
                for code in types_of.get(row["partner_id"]) or ["(untyped)"]:
                    by_type[(code, flow)].add(measure, value)
                by_segment[(flow, row["opportunity__account__segment"] or NO_SEGMENT)].add(measure, value)

    active = M.active_partners(M.Filters(period=period))
    live = Partner.objects.exclude(lifecycle=Lifecycle.TERMINATED)
    region_of = dict(live.values_list("id", "region"))
    segments_of: dict[int, set[str]] = defaultdict(set)
    for pid, code in PartnerSegmentTag.objects.filter(partner_id__in=list(region_of)).values_list("partner_id", "code"):
        segments_of[pid].add(code)
    partners: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    active_regions: dict[str, set[str]] = defaultdict(set)
    active_segments: dict[str, set[str]] = defaultdict(set)
    for pid, region in region_of.items():
        for code in types_of.get(pid, []):
            cell = partners[code][region]
            cell[1] += 1
            if pid in active:
                cell[0] += 1
                active_regions[code].add(region)
                active_segments[code] |= segments_of[pid]
    region_gaps = [(r, t) for t in sorted(active_regions) for r in Region.values if r not in active_regions[t]]
    segment_gaps = [(s, t) for t in sorted(active_segments) for s in Segment.values if s not in active_segments[t]]

    idle = list(live.filter(lifecycle=Lifecycle.ACTIVE).exclude(pk__in=active).order_by("name"))
    no_overlap = list(live.filter(lifecycle=Lifecycle.ACTIVE).exclude(pk__in=_overlapping_partner_ids()).order_by("name"))
    return Facts(period, fx.base, flows, dict(by_type), dict(by_segment),
                 {t: {r: (c[0], c[1]) for r, c in regions.items()} for t, regions in partners.items()},
                 region_gaps, segment_gaps, idle, no_overlap, sorted(fx.missing))


def _overlapping_partner_ids():
    """Partners with any deal link, or any matched pair from account mapping."""
    from covey.accountmaps.models import MatchedPair
    from covey.crm.models import OpportunityPartner

    ids = set(OpportunityPartner.objects.values_list("partner_id", flat=True).distinct())
    ids |= set(MatchedPair.objects.values_list("run__partner_id", flat=True).distinct())
    return ids
