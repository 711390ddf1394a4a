"""The quarterly partner scorecard: one partner's quarter against its targets, with red/amber/green
status and the change from the previous quarter.

The figures are aggregates over the partner's own links (``metrics`` does the FX the same way); the
status is plain rule math (``rag``) so it is tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from covey.analytics import metrics as M
from covey.analytics.models import MONEY_MEASURES, AnalyticsSettings, Measure, Target
from covey.core.models import VendorSettings
from covey.core.periods import Period

GREEN, AMBER, RED = "green", "amber", "red"
NOT_A_QUARTER = "A scorecard covers one fiscal quarter, like 2026Q3."


def rag(actual: int | Decimal | None, target: int | Decimal | None, *, green_at: Decimal, amber_at: Decimal) -> str | None:
    """Status of ``actual`` against ``target``: green from ``green_at`` of target, amber from ``amber_at``,
    red below; None when there is no target (or nothing to measure). A target of 0 is met by anything."""
    if target is None or actual is None:
        return None
    target, actual = Decimal(target), Decimal(actual)
    if target <= 0:
        return GREEN
    share = actual / target
    if share >= green_at:
        return GREEN
    if share >= amber_at:
        return AMBER
    return RED


def change(now: int | Decimal | None, before: int | Decimal | None) -> int | Decimal | None:
    if now is None or before is None:
        return None
    return now - before


@dataclass
class Line:
    measure: str
    label: str
    unit: str  # "money", "count", "ratio"
    actual: int | Decimal | None
    previous: int | Decimal | None
    target: int | Decimal | None
    status: str | None

    @property
    def change(self):
        return change(self.actual, self.previous)

    @property
    def attainment(self) -> Decimal | None:
        if self.target in (None, 0) or self.actual is None:
            return None
        return (Decimal(self.actual) / Decimal(self.target)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@dataclass
class Scorecard:
    partner: object
    quarter: Period
    previous: Period
    tier_code: str | None
    base: str
    lines: list[Line]
    missing_rates: list[tuple[str, str]]
    note: str
    as_of: object = None  # when the rollups it was read from were brought up to date; None: computed now


UNITS = {Measure.WIN_RATE: "ratio", **{m: "money" for m in MONEY_MEASURES}}


def _deal_rows(partner_id: int, quarters: list[Period], source: str) -> tuple[list[tuple], object]:
    """(basis, quarter, sourcing 0/1, stage, currency, deals, amount) of the partner's links over
    ``quarters`` (contiguous) — from the rollups when built (``source`` as in ``metrics.build_cube``),
    else from the deals — and the rollup state read."""
    from covey.analytics import rollups

    state = None if source == "direct" else rollups.current_state()
    if state is not None:
        return rollups.partner_rows(partner_id, quarters), state
    opp, link = M._tables()
    src = f"CASE WHEN l.role IN {M._sourcing_sql()} THEN 1 ELSE 0 END"
    qcase, qparams = M._quarter_case("o.created_at", quarters, is_datetime=True)
    ccase, cparams = M._quarter_case("o.close_date", quarters, is_datetime=False)
    first, last = quarters[0], quarters[-1]
    created = M._rows(
        f"SELECT 'created', {qcase}, {src}, '', o.currency, COUNT(*), SUM(o.amount_minor) FROM {link} l "
        f"JOIN {opp} o ON o.id = l.opportunity_id WHERE l.partner_id = %s AND o.created_at >= %s AND o.created_at < %s "
        "GROUP BY 2, 3, 5",
        qparams + [partner_id, M._start(first.start), M._start(last.end + timedelta(days=1))])
    closed = M._rows(
        f"SELECT 'closed', {ccase}, 0, o.stage, o.currency, COUNT(*), SUM(o.amount_minor) FROM {link} l "
        f"JOIN {opp} o ON o.id = l.opportunity_id WHERE l.partner_id = %s AND o.close_date BETWEEN %s AND %s "
        "AND o.stage IN (%s, %s) GROUP BY 2, 4, 5",
        cparams + [partner_id, first.start, last.end, M.WON, M.LOST])
    return created + closed, None


def deal_figures(partner_id: int, quarters: list[Period], *, source: str = "auto") -> tuple[dict[str, dict], list, object]:
    """Per quarter key: deals sourced, pipeline sourced and influenced, revenue closed, won and lost
    counts; the missing FX rates; the rollup state read (None: computed from the deals)."""
    rows, state = _deal_rows(partner_id, quarters, source)
    fx = M.Converter.for_quarters([q.key for q in quarters])
    out = {q.key: {"deals_sourced": 0, "pipe": {0: 0, 1: 0}, "won": 0, "lost": 0, "revenue": 0} for q in quarters}
    sums = M._grouped([(basis, q, int(is_src) if basis == "created" else 0, stage if basis == "closed" else "", currency,
                        n, amount) for basis, q, is_src, stage, currency, n, amount in rows], 5, 1, fx.calendar)
    for (basis, q, is_src, stage, currency), (n, amount) in sorted(sums.items()):
        fig = out.get(q)
        if fig is None:
            continue
        if basis == "created":
            if is_src:
                fig["deals_sourced"] += n
            value = fx.to_base(amount, currency, q)
            if value is not None:
                fig["pipe"][is_src] += value
        elif stage == M.WON:
            fig["won"] += n
            value = fx.to_base(amount, currency, q)
            if value is not None:
                fig["revenue"] += value
        else:
            fig["lost"] += n
    return out, sorted(fx.missing), state


def quarter_figures(partner_id: int, quarter: Period) -> tuple[dict[str, int | Decimal | None], list]:
    """The scorecard's measures for one partner and quarter."""
    figures, missing, _ = _quarter_figures(partner_id, quarter)
    return figures, missing


def _quarter_figures(partner_id: int, quarter: Period):
    from covey.crm.models import Activity
    from covey.enablement.models import Completion
    from covey.enablement.selectors import certified_people_by_partner

    deals, missing, state = deal_figures(partner_id, [quarter])
    d = deals[quarter.key]
    engagements = (Activity.objects.filter(partner_id=partner_id, opportunity__isnull=False,
                                           occurred_at__gte=M._aware(quarter.start),
                                           occurred_at__lt=M._aware(quarter.end + timedelta(days=1)))
                   .values("opportunity_id").distinct().count())
    completions = Completion.objects.filter(partner_id=partner_id, completed_on__range=(quarter.start, quarter.end)).count()
    certified = certified_people_by_partner([partner_id], on=quarter.end).get(partner_id, 0)
    figures = {
        Measure.DEALS_SOURCED: d["deals_sourced"],
        Measure.PIPELINE_SOURCED: d["pipe"][1],
        Measure.PIPELINE_INFLUENCED: d["pipe"][0],
        Measure.REVENUE_CLOSED: d["revenue"],
        Measure.WIN_RATE: M.ratio(d["won"], d["won"] + d["lost"]),
        Measure.AVG_DEAL_SIZE: M.per(d["revenue"], d["won"]),
        Measure.ACTIVE_ENGAGEMENTS: engagements,
        Measure.CERTIFIED_PEOPLE: certified,
        Measure.TRAINING_COMPLETIONS: completions,
    }
    return figures, missing, state


def tier_on(partner_id: int, day) -> str | None:
    from covey.programs.models import Enrolment

    return (Enrolment.objects.filter(partner_id=partner_id).on(day).order_by("program__name")
            .values_list("tier_code", flat=True).first())


def targets_for(partner_id: int, quarter: Period, tier_code: str | None) -> dict[str, int | Decimal]:
    """The partner's own targets, and its tier's for measures it has none of."""
    out: dict[str, int | Decimal] = {}
    if tier_code:
        for t in Target.objects.filter(period_key=quarter.key, partner__isnull=True, tier_code=tier_code):
            out[t.measure] = t.amount_minor if t.amount_minor is not None else t.value
    for t in Target.objects.filter(period_key=quarter.key, partner_id=partner_id):
        out[t.measure] = t.amount_minor if t.amount_minor is not None else t.value
    return out


def build_scorecard(partner, quarter: Period) -> Scorecard:
    from covey.analytics.models import ScorecardNote

    if not quarter.quarter:
        raise M.FilterError(NOT_A_QUARTER)
    calendar = VendorSettings.current().calendar
    previous = calendar.previous(quarter)
    now, missing, state = _quarter_figures(partner.pk, quarter)
    before, missing_before, _ = _quarter_figures(partner.pk, previous)
    tier_code = tier_on(partner.pk, quarter.end)
    targets = targets_for(partner.pk, quarter, tier_code)
    settings = AnalyticsSettings.current()
    lines = []
    for measure in Measure:
        target = targets.get(measure.value)
        lines.append(Line(measure.value, measure.label, UNITS.get(measure, "count"), now[measure], before[measure], target,
                          rag(now[measure], target, green_at=settings.green_at, amber_at=settings.amber_at)))
    note = ScorecardNote.objects.filter(partner=partner, period_key=quarter.key).values_list("text", flat=True).first()
    return Scorecard(partner, quarter, previous, tier_code, VendorSettings.current().base_currency, lines,
                     sorted(set(missing) | set(missing_before)), note or "", state.as_of if state is not None else None)


def top_deals(partner, quarter: Period, limit: int = 10):
    """The partner's largest deals won or still open that close in the quarter."""
    from covey.analytics import rollups
    from covey.crm.models import Opportunity

    if rollups.current_state() is not None:  # a busy partner's thousands of deals are not visited one by one
        ids = rollups.top_deal_ids(partner.pk, quarter, limit)
        deals = {o.pk: o for o in Opportunity.objects.filter(pk__in=ids).select_related("account")}
        return [deals[pk] for pk in ids if pk in deals]
    return (Opportunity.objects.filter(partner_links__partner=partner, close_date__range=(quarter.start, quarter.end))
            .exclude(stage=M.LOST).select_related("account").order_by("-amount_minor", "id")[:limit])


def trend(partner, quarter: Period, n: int = 4) -> list[tuple[str, int]]:
    """Revenue closed per quarter, the last ``n`` quarters to ``quarter``."""
    quarters = M.trend_quarters(quarter, n)
    figures, _, _ = deal_figures(partner.pk, quarters)
    return [(q.label, figures[q.key]["revenue"]) for q in quarters]

