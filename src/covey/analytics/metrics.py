"""The program's metrics: a registry of definitions and their set-based computation.

Design overview
---------------
Every deal is put in exactly one *motion*, decided from its partner links:

- **sourced**: a partner on it brought it (link role "sourced" or "referral");
- **influenced**: partners are on it, none of them brought it (reseller, integrator, influencer…);
- **direct**: no partner is on it.

Partner filters (one partner, partner type, tier, region, segment) narrow which partners *count*: a
deal sourced by a partner outside the filter is "other partners", neither sourced nor influenced.
Totals (the denominator of every share) and direct deals are always the whole business.

*Pipeline* is the value of deals **created** in the period (whatever their stage now); *revenue* is
the value of deals **closed won** in the period (by close date). Win rate, deal size and cycle length
look at deals **closed** (won or lost) in the period.

All figures come from a handful of aggregate queries (``Cube``): the database groups the deals by
motion, currency, fiscal quarter and stage, and hands back a few hundred rows however many deals
there are; per-partner figures are grouped by partner the same way. Nothing loops over deals in
Python. Money is summed per currency and quarter in integer minor units, then converted to the base
currency with that quarter's FX rate (``payouts.FxRate``) and rounded half-even to the minor unit:
one rounding per (currency, quarter) group. A currency without a rate for a quarter is left out and
named in ``Cube.missing_rates`` so a page can say so. Ratios are ``Decimal``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from covey.core.models import VendorSettings
from covey.core.money import currency_exponent
from covey.core.periods import Period

SOURCING_ROLES = ("sourced", "referral")
MOTIONS = ("sourced", "influenced", "direct")
WON, LOST = "Closed Won", "Closed Lost"
TREND_QUARTERS = 8
TOP_SHARE = Decimal("0.20")

BAD_PERIOD = "{value!r} is not a fiscal period: use a quarter like 2026Q3 or a year like 2026."
UNKNOWN_PARTNER = "No partner with id {value!r}."
UNKNOWN_CHOICE = "{value!r} is not a known {what}."
OWN_PARTNER_ONLY = "Partner users see their own partner's figures only."


class FilterError(ValueError):
    """Bad filter input; the message is shown to the user as it is."""


@dataclass(frozen=True)
class Filters:
    period: Period
    partner_id: int | None = None
    partner_type: str = ""
    tier: str = ""
    region: str = ""
    segment: str = ""
    # (first, last) opportunity id, inclusive: the bench's sample; not offered in the UI.
    opportunity_ids: tuple[int, int] | None = None

    @property
    def narrows_partners(self) -> bool:
        return bool(self.partner_id or self.partner_type or self.tier or self.region or self.segment)


# --- filters from request parameters ----------------------------------------------------------


def default_period(today: date | None = None) -> Period:
    return VendorSettings.current().calendar.quarter_of(today or timezone.localdate())


def parse_period(text: str | None, *, today: date | None = None) -> Period:
    if not text:
        return default_period(today)
    try:
        return VendorSettings.current().calendar.parse(text[:12])
    except ValueError:
        raise FilterError(BAD_PERIOD.format(value=text[:12])) from None


def parse_filters(params: Mapping[str, str], *, user, today: date | None = None) -> tuple[Filters, object | None]:
    """Filters from query parameters (``period``, ``partner`` public id, ``partner_type``, ``tier``,
    ``region``, ``segment``) and the partner they name. A partner user is always held to its own
    partner: naming another one is refused, naming none means its own."""
    from covey.core.vocab import Region, Segment
    from covey.partners.models import Partner, PartnerType

    period = parse_period(params.get("period"), today=today)
    partner = None
    public_id = (params.get("partner") or "").strip()[:40]
    if not user.is_vendor:
        membership = user.membership
        if membership is None:
            raise FilterError(OWN_PARTNER_ONLY)
        partner = membership.partner
        if public_id and public_id != partner.public_id:
            raise FilterError(OWN_PARTNER_ONLY)
    elif public_id:
        partner = Partner.objects.filter(public_id=public_id).first()
        if partner is None:
            raise FilterError(UNKNOWN_PARTNER.format(value=public_id))
    choices = {"partner_type": ("partner type", PartnerType.values), "region": ("region", Region.values),
               "segment": ("segment", Segment.values)}
    values: dict[str, str] = {}
    for name, (what, allowed) in choices.items():
        value = (params.get(name) or "").strip()[:30]
        if value and value not in allowed:
            raise FilterError(UNKNOWN_CHOICE.format(value=value, what=what))
        values[name] = value
    tier = (params.get("tier") or "").strip()[:30]
    if tier and tier not in tier_codes():
        raise FilterError(UNKNOWN_CHOICE.format(value=tier, what="tier"))
    return Filters(period=period, partner_id=partner.pk if partner else None, tier=tier, **values), partner


def tier_codes() -> list[str]:
    from covey.programs.models import Tier

    return sorted(set(Tier.objects.values_list("code", flat=True)))


# --- SQL pieces -------------------------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _tables():
    from covey.crm.models import Opportunity, OpportunityPartner

    return _q(Opportunity._meta.db_table), _q(OpportunityPartner._meta.db_table)


def partner_queryset(f: Filters):
    """The partners the filters keep."""
    from covey.partners.models import Partner
    from covey.programs.models import Enrolment

    qs = Partner.objects.all()
    if f.partner_id:
        qs = qs.filter(pk=f.partner_id)
    if f.partner_type:
        qs = qs.filter(types__code=f.partner_type)
    if f.region:
        qs = qs.filter(region=f.region)
    if f.segment:
        qs = qs.filter(segments__code=f.segment)
    if f.tier:
        qs = qs.filter(pk__in=Enrolment.objects.on(f.period.end).filter(tier_code=f.tier).values("partner_id"))
    return qs.distinct()


def _partner_subquery(f: Filters) -> tuple[str, list]:
    """SQL selecting the ids of the partners the filters keep."""
    sql, params = partner_queryset(f).order_by().values("id").query.sql_with_params()
    return sql, list(params)


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _start(day: date):
    return connection.ops.adapt_datetimefield_value(_aware(day))


def _quarter_case(column: str, quarters: list[Period], *, is_datetime: bool) -> tuple[str, list]:
    """An SQL expression naming the fiscal quarter (its key) that ``column`` falls in.

    On PostgreSQL it is the month as an integer (``202605``), which hashes and groups far faster than
    a CASE of text labels over a million rows; ``quarter_key`` turns it back into the quarter (fiscal
    quarters are whole months). Datetimes are read in the installation's time zone."""
    if connection.vendor == "postgresql":
        if is_datetime:
            local = f"({column} AT TIME ZONE %s)"
            return (f"CAST(EXTRACT(YEAR FROM {local}) * 100 + EXTRACT(MONTH FROM {local}) AS integer)",
                    [settings.TIME_ZONE, settings.TIME_ZONE])
        return f"CAST(EXTRACT(YEAR FROM {column}) * 100 + EXTRACT(MONTH FROM {column}) AS integer)", []
    parts, params = [], []
    for p in quarters:
        if is_datetime:
            parts.append(f"WHEN {column} >= %s AND {column} < %s THEN %s")
            params += [_start(p.start), _start(p.end + timedelta(days=1)), p.key]
        else:
            parts.append(f"WHEN {column} BETWEEN %s AND %s THEN %s")
            params += [p.start, p.end, p.key]
    return f"CASE {' '.join(parts)} END", params


def quarter_key(value, calendar) -> str | None:
    """What ``_quarter_case`` selected, as a quarter key."""
    if isinstance(value, int):
        return calendar.quarter_of(date(value // 100, value % 100, 1)).key
    return value


def _cycle_days() -> str:
    if connection.vendor == "postgresql":
        return "(o.close_date - CAST(o.created_at AS date))"
    return "CAST(julianday(o.close_date) - julianday(date(o.created_at)) AS INTEGER)"


def _sourcing_sql() -> str:
    return "(" + ", ".join(f"'{r}'" for r in SOURCING_ROLES) + ")"


def _motion_join(f: Filters) -> tuple[str, str, list]:
    """(join clause, motion expression, params) classifying each deal by its counted partners."""
    _, link = _tables()
    params: list = []
    where = ""
    if f.narrows_partners:
        sub, params = _partner_subquery(f)
        where = f" WHERE partner_id IN ({sub})"
    join = (f"LEFT JOIN (SELECT opportunity_id, MAX(CASE WHEN role IN {_sourcing_sql()} THEN 1 ELSE 0 END) AS src "
            f"FROM {link}{where} GROUP BY opportunity_id) m ON m.opportunity_id = o.id")
    if f.narrows_partners:
        motion = (f"CASE WHEN m.src = 1 THEN 'sourced' WHEN m.src = 0 THEN 'influenced' "
                  f"WHEN EXISTS (SELECT 1 FROM {link} x WHERE x.opportunity_id = o.id) THEN 'other' ELSE 'direct' END")
    else:
        motion = "CASE WHEN m.src = 1 THEN 'sourced' WHEN m.src = 0 THEN 'influenced' ELSE 'direct' END"
    return join, motion, params


def _id_range(f: Filters, alias: str = "o") -> tuple[str, list]:
    if not f.opportunity_ids:
        return "", []
    return f" AND {alias}.id BETWEEN %s AND %s", list(f.opportunity_ids)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- FX ---------------------------------------------------------------------------------------


@dataclass
class Converter:
    base: str
    rates: dict[tuple[str, str], Decimal]  # (quarter key, currency) → base units per unit
    calendar: object = None
    missing: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def for_quarters(cls, keys: list[str]) -> Converter:
        from covey.payouts.models import FxRate

        vendor = VendorSettings.current()
        base = vendor.base_currency
        rates = {(k, c): r for k, c, r in FxRate.objects.filter(period_key__in=keys)
                 .values_list("period_key", "currency", "per_base")}
        return cls(base, rates, vendor.calendar)

    def to_base(self, amount_minor: int, currency: str, quarter_key: str) -> int | None:
        """``amount_minor`` of ``currency`` in base minor units, rounded half-even; None without a rate."""
        if currency == self.base:
            return int(amount_minor)
        rate = self.rates.get((quarter_key, currency))
        if rate is None:
            self.missing.add((currency, quarter_key))
            return None
        shift = currency_exponent(self.base) - currency_exponent(currency)
        exact = Decimal(int(amount_minor)) * rate * (Decimal(10) ** shift)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# --- the cube: every aggregate the metrics need, in a few queries ----------------------------


@dataclass
class Bucket:
    count: int = 0
    amount: int = 0  # base minor units
    cycle_days: int = 0


@dataclass
class Cube:
    filters: Filters
    quarters: list[Period]  # the trend window, oldest first; the period's quarters are the last ones
    period_keys: list[str]
    base: str
    pipeline: dict[tuple[str, str], Bucket]  # (motion, quarter) → created in it
    funnel: dict[tuple[str, str], Bucket]  # (motion, stage) → created in the period, by stage now
    won: dict[tuple[str, str], Bucket]  # (motion, quarter) → closed won in it
    lost: dict[tuple[str, str], Bucket]
    partner_revenue: dict[int, int]  # partner id → won revenue in the period it is on (any role)
    partner_sourced: dict[int, int]  # partner id → won revenue in the period it sourced
    active_partner_ids: set[int]
    incentives: int  # base minor, ledger entries for the period's quarters
    overhead: int  # base minor, configured overhead for the period
    missing_rates: list[tuple[str, str]]
    as_of: datetime | None = None  # read from rollups brought up to date at this moment; None: computed now

    def total(self, table: str, motions, keys=None) -> Bucket:
        source = getattr(self, table)
        keys = self.period_keys if keys is None else keys
        out = Bucket()
        for (motion, key), b in source.items():
            if motion in motions and key in keys:
                out.count += b.count
                out.amount += b.amount
                out.cycle_days += b.cycle_days
        return out


ALL_MOTIONS = ("sourced", "influenced", "other", "direct")
PARTNER_MOTIONS = ("sourced", "influenced")


def trend_quarters(period: Period, n: int = TREND_QUARTERS) -> list[Period]:
    calendar = VendorSettings.current().calendar
    last = calendar.quarter_of(period.end)
    quarters = [last]
    while len(quarters) < n:
        quarters.append(calendar.previous(quarters[-1]))
    return list(reversed(quarters))


def period_quarters(period: Period) -> list[Period]:
    if period.quarter:
        return [period]
    return VendorSettings.current().calendar.quarters(period.fiscal_year)


def _grouped(rows, n_keys: int, qpos: int, calendar) -> dict[tuple, list[int]]:
    """Rows summed by their first ``n_keys`` columns (column ``qpos`` turned into its quarter key), so
    each (…, currency, quarter) group is converted and rounded once however the rows were split."""
    out: dict[tuple, list[int]] = {}
    keys: dict = {}  # month → quarter key, worked out once per month
    for row in rows:
        key = list(row[:n_keys])
        q = key[qpos]
        if q not in keys:
            keys[q] = quarter_key(q, calendar)
        key[qpos] = keys[q]
        acc = out.setdefault(tuple(key), [0] * (len(row) - n_keys))
        for i, v in enumerate(row[n_keys:]):
            acc[i] += int(v or 0)
    return out


def build_cube(f: Filters, *, timings: dict[str, float] | None = None, source: str = "auto") -> Cube:
    """Every aggregate the metrics need. ``source``: "direct" scans the deals (the reference), "rollups"
    reads ``rollups`` (which must be built), "auto" reads the rollups when they are built (never for the
    bench's id slice) and scans otherwise. Both give the same numbers: the readers return the same rows."""
    import time as _time

    from covey.analytics import rollups

    clock = _time.perf_counter
    timings = {} if timings is None else timings
    state = None if source == "direct" or f.opportunity_ids else rollups.current_state()
    if source == "rollups" and state is None:
        raise RuntimeError("The analytics rollups are not built: run covey analytics rebuild.")
    reader = rollups.Reader(f) if state is not None else DirectReader(f)
    quarters = trend_quarters(f.period, max(TREND_QUARTERS, len(period_quarters(f.period)) * 2))
    period_keys = [p.key for p in period_quarters(f.period)]
    fx = Converter.for_quarters([q.key for q in quarters])

    t = clock()
    pipeline: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
    funnel: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
    for (m, currency, q, stage), (n, amount) in _grouped(reader.created(quarters), 4, 2, fx.calendar).items():
        value = fx.to_base(amount, currency, q)
        if value is None:
            continue
        b = pipeline[(m, q)]
        b.count += n
        b.amount += value
        if q in period_keys:
            s = funnel[(m, stage)]
            s.count += n
            s.amount += value
    timings["pipeline"] = clock() - t

    t = clock()
    won: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
    lost: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
    for (m, currency, q, stage), (n, amount, cycle) in _grouped(reader.closed(quarters), 4, 2, fx.calendar).items():
        value = fx.to_base(amount, currency, q)
        if value is None:
            continue
        b = (won if stage == WON else lost)[(m, q)]
        b.count += n
        b.amount += value
        b.cycle_days += cycle
    timings["closed"] = clock() - t

    t = clock()
    partner_revenue, partner_sourced = _partner_revenue(reader, fx, period_quarters(f.period))
    timings["partners"] = clock() - t
    t = clock()
    active = _active_partners(f, reader)
    timings["active"] = clock() - t
    t = clock()
    incentives = _incentives(f, fx, period_keys)
    timings["incentives"] = clock() - t
    from covey.analytics.models import AnalyticsSettings

    overhead = AnalyticsSettings.current().overhead_per_quarter_minor * len(period_keys)
    return Cube(f, quarters, period_keys, fx.base, dict(pipeline), dict(funnel), dict(won), dict(lost),
                partner_revenue, partner_sourced, active, incentives, overhead, sorted(fx.missing),
                as_of=state.as_of if state is not None else None)


def _partner_where(f: Filters, alias: str) -> tuple[str, list]:
    if not f.narrows_partners:
        return "", []
    sub, params = _partner_subquery(f)
    return f" AND {alias}.partner_id IN ({sub})", params


class DirectReader:
    """The Cube's deal aggregates straight from the deals and their links (the reference computation)."""

    def __init__(self, f: Filters) -> None:
        self.f = f

    def created(self, quarters: list[Period]) -> list[tuple]:
        """(motion, currency, quarter, stage, deals, amount) of the deals created in ``quarters``."""
        opp, _ = _tables()
        join, motion, mparams = _motion_join(self.f)
        ids_sql, ids_params = _id_range(self.f)
        qcase, qparams = _quarter_case("o.created_at", quarters, is_datetime=True)
        return _rows(
            f"SELECT {motion} AS motion, o.currency, {qcase} AS q, o.stage, COUNT(*), SUM(o.amount_minor) "
            f"FROM {opp} o {join} WHERE o.created_at >= %s AND o.created_at < %s{ids_sql} "
            f"GROUP BY 1, 2, 3, 4",
            qparams + mparams + [_start(quarters[0].start), _start(quarters[-1].end + timedelta(days=1))] + ids_params,
        )

    def closed(self, quarters: list[Period]) -> list[tuple]:
        """(motion, currency, quarter, stage, deals, amount, cycle days) of the deals won or lost in ``quarters``."""
        opp, _ = _tables()
        join, motion, mparams = _motion_join(self.f)
        ids_sql, ids_params = _id_range(self.f)
        ccase, cparams = _quarter_case("o.close_date", quarters, is_datetime=False)
        return _rows(
            f"SELECT {motion} AS motion, o.currency, {ccase} AS q, o.stage, COUNT(*), SUM(o.amount_minor), "
            f"SUM({_cycle_days()}) FROM {opp} o {join} "
            f"WHERE o.close_date BETWEEN %s AND %s AND o.stage IN (%s, %s){ids_sql} GROUP BY 1, 2, 3, 4",
            cparams + mparams + [quarters[0].start, quarters[-1].end, WON, LOST] + ids_params,
        )

    def partner_revenue(self, quarters: list[Period]) -> list[tuple]:
        """(partner id, currency, quarter, sourcing 0/1, won amount) over ``quarters``."""
        opp, link = _tables()
        pwhere, pparams = _partner_where(self.f, "l")
        ids_sql, ids_params = _id_range(self.f)
        qcase, qparams = _quarter_case("o.close_date", quarters, is_datetime=False)
        return _rows(
            f"SELECT l.partner_id, o.currency, {qcase} AS q, CASE WHEN l.role IN {_sourcing_sql()} THEN 1 ELSE 0 END, "
            f"SUM(o.amount_minor) FROM {link} l JOIN {opp} o ON o.id = l.opportunity_id "
            f"WHERE o.stage = %s AND o.close_date BETWEEN %s AND %s{pwhere}{ids_sql} GROUP BY 1, 2, 3, 4",
            qparams + [WON, quarters[0].start, quarters[-1].end] + pparams + ids_params,
        )

    def deal_partners(self, quarters: list[Period], *, won_only: bool) -> set[int]:
        """Partners on a deal created or won in ``quarters`` (``won_only``: won)."""
        opp, link = _tables()
        pwhere, pparams = _partner_where(self.f, "l")
        ids_sql, ids_params = _id_range(self.f)
        first, last = quarters[0].start, quarters[-1].end
        cond, cparams = "(o.stage = %s AND o.close_date BETWEEN %s AND %s)", [WON, first, last]
        if not won_only:
            cond = f"((o.created_at >= %s AND o.created_at < %s) OR {cond})"
            cparams = [_start(first), _start(last + timedelta(days=1))] + cparams
        rows = _rows(f"SELECT DISTINCT l.partner_id FROM {link} l JOIN {opp} o ON o.id = l.opportunity_id "
                     f"WHERE {cond}{pwhere}{ids_sql}", cparams + pparams + ids_params)
        return {r[0] for r in rows}


def _partner_revenue(reader, fx: Converter, quarters: list[Period]) -> tuple[dict[int, int], dict[int, int]]:
    """Won revenue in the period per partner on the deal (a deal with two partners counts for both)."""
    revenue: dict[int, int] = defaultdict(int)
    sourced: dict[int, int] = defaultdict(int)
    for (partner_id, currency, q, src), (amount,) in _grouped(reader.partner_revenue(quarters), 4, 2, fx.calendar).items():
        value = fx.to_base(amount, currency, q)
        if value is None:
            continue
        revenue[partner_id] += value
        if src:
            sourced[partner_id] += value
    return dict(revenue), dict(sourced)


def active_partners(f: Filters) -> set[int]:
    """The partners active in ``f``'s period under the configured rule (read from the rollups when built)."""
    from covey.analytics import rollups

    reader = rollups.Reader(f) if not f.opportunity_ids and rollups.current_state() is not None else DirectReader(f)
    return _active_partners(f, reader)


def _active_partners(f: Filters, reader) -> set[int]:
    from covey.analytics.models import ActiveRule, AnalyticsSettings
    from covey.registrations.models import Registration

    rule = AnalyticsSettings.current().active_rule
    active: set[int] = set()
    if rule in (ActiveRule.DEAL, ActiveRule.REGISTRATION_OR_DEAL, ActiveRule.WON_DEAL):
        active |= reader.deal_partners(period_quarters(f.period), won_only=rule == ActiveRule.WON_DEAL)
    if rule in (ActiveRule.REGISTRATION, ActiveRule.REGISTRATION_OR_DEAL) and not f.opportunity_ids:
        reg = _q(Registration._meta.db_table)
        rwhere, rparams = _partner_where(f, "r")
        start, end = _start(f.period.start), _start(f.period.end + timedelta(days=1))
        rows = _rows(f"SELECT DISTINCT r.partner_id FROM {reg} r WHERE r.submitted_at >= %s AND r.submitted_at < %s"
                     f"{rwhere}", [start, end] + rparams)
        active.update(r[0] for r in rows)
    return active


def _incentives(f: Filters, fx: Converter, period_keys: list[str]) -> int:
    from covey.payouts.models import LedgerEntry

    entries = _q(LedgerEntry._meta.db_table)
    pwhere, pparams = _partner_where(f, "e")
    if f.opportunity_ids:
        pwhere += " AND e.opportunity_id BETWEEN %s AND %s"
        pparams = pparams + list(f.opportunity_ids)
    marks = ", ".join(["%s"] * len(period_keys))
    rows = _rows(f"SELECT e.currency, e.period_key, SUM(e.amount_minor) FROM {entries} e "
                 f"WHERE e.period_key IN ({marks}){pwhere} GROUP BY 1, 2", list(period_keys) + pparams)
    total = 0
    for currency, key, amount in rows:
        value = fx.to_base(amount or 0, currency, key)
        if value is not None:
            total += value
    return total


# --- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    name: str
    definition: str
    unit: str  # "money", "count", "ratio", "days"
    compute: Callable[[Cube], int | Decimal | None]
    records: str  # what its drill-down lists: "pipeline:<motions>", "won:<motions>", "closed:<motions>", "partners", "ledger"
    for_partners: bool = True  # shown on a partner's own dashboard


def ratio(part: int, whole: int, places: int = 4) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def per(amount: int, n: int) -> int | None:
    """``amount`` minor units shared over ``n``, rounded half-even to the minor unit."""
    if not n:
        return None
    return int((Decimal(amount) / Decimal(n)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def top_share(values: list[int], share: Decimal = TOP_SHARE) -> Decimal | None:
    """Share of the sum held by the top ``share`` of the values (at least one), e.g. top 20% of partners."""
    positive = sorted((v for v in values if v > 0), reverse=True)
    if not positive:
        return None
    n = max(1, math.ceil(len(positive) * share))
    return ratio(sum(positive[:n]), sum(positive))


def _win_rate(motions) -> Callable[[Cube], Decimal | None]:
    return lambda c: ratio(c.total("won", motions).count, c.total("won", motions).count + c.total("lost", motions).count)


def _avg_deal(motions) -> Callable[[Cube], int | None]:
    return lambda c: per(c.total("won", motions).amount, c.total("won", motions).count)


def _cycle(motions) -> Callable[[Cube], Decimal | None]:
    def compute(c: Cube) -> Decimal | None:
        b = c.total("won", motions)
        return None if not b.count else (Decimal(b.cycle_days) / b.count).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return compute


def _roi(c: Cube) -> Decimal | None:
    cost = c.incentives + c.overhead
    if not cost:
        return None
    return ratio(c.total("won", ("sourced",)).amount - cost, cost, places=2)


_MOTION_WORDS = {
    "sourced": "partner-sourced deals (a partner on the deal brought it: role sourced or referral)",
    "influenced": "partner-influenced deals (partners on the deal, none of which brought it)",
    "direct": "direct deals (no partner on the deal)",
}

_metrics: list[Metric] = [
    Metric("sourced_pipeline", "Partner-sourced pipeline",
           "The value of deals created in the period that a partner brought (a partner link with role sourced or "
           "referral), whatever their stage now, in the base currency.",
           "money", lambda c: c.total("pipeline", ("sourced",)).amount, "pipeline:sourced"),
    Metric("sourced_revenue", "Partner-sourced revenue",
           "The value of deals closed won in the period (by close date) that a partner brought.",
           "money", lambda c: c.total("won", ("sourced",)).amount, "won:sourced"),
    Metric("influenced_pipeline", "Partner-influenced pipeline",
           "The value of deals created in the period with partners on them, none of which brought the deal "
           "(resellers, integrators, influencers helping a deal our team found).",
           "money", lambda c: c.total("pipeline", ("influenced",)).amount, "pipeline:influenced"),
    Metric("influenced_revenue", "Partner-influenced revenue",
           "The value of deals closed won in the period with partners on them, none of which brought the deal.",
           "money", lambda c: c.total("won", ("influenced",)).amount, "won:influenced"),
    Metric("sourced_revenue_share", "Sourced share of revenue",
           "Partner-sourced revenue divided by all revenue closed won in the period (every deal, partner or not).",
           "ratio", lambda c: ratio(c.total("won", ("sourced",)).amount, c.total("won", ALL_MOTIONS).amount),
           "won:sourced", for_partners=False),
    Metric("influenced_revenue_share", "Influenced share of revenue",
           "Partner-influenced revenue divided by all revenue closed won in the period.",
           "ratio", lambda c: ratio(c.total("won", ("influenced",)).amount, c.total("won", ALL_MOTIONS).amount),
           "won:influenced", for_partners=False),
    Metric("partner_pipeline_share", "Partner share of pipeline",
           "Partner-sourced plus partner-influenced pipeline divided by all pipeline created in the period.",
           "ratio", lambda c: ratio(c.total("pipeline", PARTNER_MOTIONS).amount, c.total("pipeline", ALL_MOTIONS).amount),
           "pipeline:sourced,influenced", for_partners=False),
    Metric("active_partners", "Active partners",
           "Partners that were active in the period by the rule set in the analytics settings (by default: at "
           "least one deal registration submitted, or at least one deal created or won with the partner on it).",
           "count", lambda c: len(c.active_partner_ids), "partners", for_partners=False),
    Metric("revenue_per_active_partner", "Revenue per active partner",
           "Partner-sourced plus partner-influenced revenue in the period divided by the number of active "
           "partners, rounded to the cent.",
           "money", lambda c: per(c.total("won", PARTNER_MOTIONS).amount, len(c.active_partner_ids)), "partners",
           for_partners=False),
    Metric("attach_rate", "Partner attach rate",
           "The share of deals closed won in the period that had at least one partner on them.",
           "ratio", lambda c: ratio(c.total("won", PARTNER_MOTIONS).count, c.total("won", ALL_MOTIONS).count),
           "won:sourced,influenced", for_partners=False),
    Metric("concentration", "Revenue concentration (top 20%)",
           "The share of partner revenue won in the period that came from the top 20% of partners with any "
           "(at least one partner). Each partner is credited with the full value of every won deal it is on.",
           "ratio", lambda c: top_share(list(c.partner_revenue.values())), "partners", for_partners=False),
    Metric("incentives", "Incentives (ledger)",
           "Every ledger entry earned in the period's quarters: commissions, margins, bonuses, rebates, MDF, "
           "net of reversals and clawbacks, converted to the base currency.",
           "money", lambda c: c.incentives, "ledger"),
    Metric("program_roi", "Program ROI",
           "(Partner-sourced revenue − program cost) ÷ program cost, where the cost is the incentives in the "
           "ledger plus the configured program overhead per quarter. 3.00 means every 1.00 spent brought 4.00.",
           "ratio", _roi, "ledger", for_partners=False),
]
for motion in MOTIONS:
    words = _MOTION_WORDS[motion]
    _metrics += [
        Metric(f"win_rate_{motion}", f"Win rate, {motion}",
               f"Of the {words} closed in the period, the share closed won (won ÷ won and lost).",
               "ratio", _win_rate((motion,)), f"closed:{motion}", for_partners=motion != "direct"),
        Metric(f"avg_deal_{motion}", f"Average deal size, {motion}",
               f"The revenue of the {words} closed won in the period divided by their number, rounded to the cent.",
               "money", _avg_deal((motion,)), f"won:{motion}", for_partners=motion != "direct"),
        Metric(f"cycle_{motion}", f"Sales cycle, {motion}",
               f"For the {words} closed won in the period, the average number of days from the deal's creation "
               "to its close date.",
               "days", _cycle((motion,)), f"won:{motion}", for_partners=motion != "direct"),
    ]

METRICS: dict[str, Metric] = {m.key: m for m in _metrics}


def metrics_for(user) -> list[Metric]:
    return [m for m in METRICS.values() if user.is_vendor or m.for_partners]


def compute_all(cube: Cube, metrics: list[Metric] | None = None) -> dict[str, int | Decimal | None]:
    return {m.key: m.compute(cube) for m in (metrics or list(METRICS.values()))}


def previous_filters(f: Filters) -> Filters:
    from dataclasses import replace

    return replace(f, period=VendorSettings.current().calendar.previous(f.period))
