"""Program outcomes and leading indicators: cost lines and partner CAC, customer retention, churn and
net revenue retention, time to partner productivity, payout lag, joint pipeline velocity, engagement
depth and enablement content use.

Each group of figures is a few grouped SQL queries, run once per ``Cube`` the first time one of its
metrics is asked for (``outcomes_of``), with the same filters as the rest of the dashboard: the
period, and the partner filters (one partner, type, tier, region, segment) narrowing which partners
count. Money is summed per currency and fiscal quarter in the database and converted with that
quarter's FX rate (``metrics.Converter``). Medians and percentiles are read from a histogram the
database returns (days → how many), so no query hands back one row per deal.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property

from django.conf import settings
from django.db import connection
from django.utils import timezone

from covey.analytics import metrics as M

RETENTION_QUARTERS = 4  # the customer window: a year of fiscal quarters
WINDOW_WORDS = ("the four fiscal quarters ending with the period's last quarter (for a fiscal year: the year itself)")


SNAPSHOT_MAX_AGE = timedelta(seconds=90)  # the job refreshes the standard views every minute


def snapshot_key(f: M.Filters) -> str | None:
    """The filter set a snapshot is for; None for the bench's id slice, which is never kept."""
    if f.opportunity_ids:
        return None
    return "|".join([f.period.key, str(f.partner_id or ""), f.partner_type, f.tier, f.region, f.segment])


def _table(model) -> str:
    return M._q(model._meta.db_table)


def _local_date(column: str) -> str:
    """A datetime column as a date in the installation's time zone (SQLite stores UTC: its UTC date)."""
    if connection.vendor == "postgresql":
        zone = settings.TIME_ZONE
        if not re.fullmatch(r"[A-Za-z0-9_/+\-]+", zone):
            raise ValueError(f"unexpected time zone name {zone!r}")
        return f"CAST(({column} AT TIME ZONE '{zone}') AS date)"
    return f"date({column})"


def _days(later: str, earlier: str) -> str:
    """Whole days between two date expressions."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def median(hist: dict[int, int]) -> Decimal | None:
    """The median of a histogram {value: count}: the middle value, or the mean of the two middle ones."""
    n = sum(hist.values())
    if not n:
        return None
    lo, hi = _rank(hist, (n + 1) // 2), _rank(hist, n // 2 + 1)
    return (Decimal(lo + hi) / 2).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


def percentile(hist: dict[int, int], share: Decimal) -> int | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of the counts at or below it."""
    n = sum(hist.values())
    if not n:
        return None
    return _rank(hist, max(1, math.ceil(n * share)))


def _rank(hist: dict[int, int], k: int) -> int:
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= k:
            return value
    raise ValueError("rank beyond the histogram")


def _per(part: int, whole: int) -> Decimal | None:
    return None if not whole else (Decimal(part) / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@dataclass
class Retention:
    customers: int = 0
    retained: int = 0
    revenue_before: int = 0  # base minor, the year before
    revenue_now: int = 0  # base minor, the year ending with the period, same customers


class Outcomes:
    def __init__(self, cube: M.Cube):
        self.cube = cube
        self.f: M.Filters = cube.filters
        self.period_keys = [p.key for p in M.period_quarters(self.f.period)]

    # --- shared SQL bits ------------------------------------------------------------------------

    def _pwhere(self, alias: str) -> tuple[str, list]:
        return M._partner_where(self.f, alias)

    def _sum(self, rows, fx: M.Converter) -> int:
        total = 0
        for currency, q, amount in rows:
            value = fx.to_base(amount or 0, currency, M.quarter_key(q, fx.calendar))
            if value is not None:
                total += value
        # Amounts without a rate are left out and named with the cube's own, so the page says so.
        missing = self.cube.missing_rates
        if isinstance(missing, list):
            missing.extend(sorted(m for m in fx.missing if m not in missing))
        return total

    def _bounds(self):
        return M._start(self.f.period.start), M._start(self.f.period.end + timedelta(days=1))

    # --- cost lines and CAC ---------------------------------------------------------------------

    @cached_property
    def costs(self) -> dict[str, int]:
        """Ledger entries of the period's quarters split into MDF and the other incentives, plus overhead."""
        from covey.analytics.models import AnalyticsSettings
        from covey.payouts.models import LedgerEntry, Source

        pwhere, pparams = self._pwhere("e")
        if self.f.opportunity_ids:
            pwhere += " AND e.opportunity_id BETWEEN %s AND %s"
            pparams = pparams + list(self.f.opportunity_ids)
        marks = ", ".join(["%s"] * len(self.period_keys))
        rows = M._rows(f"SELECT CASE WHEN e.source = %s THEN 1 ELSE 0 END, e.currency, e.period_key, SUM(e.amount_minor) "
                       f"FROM {_table(LedgerEntry)} e WHERE e.period_key IN ({marks}){pwhere} GROUP BY 1, 2, 3",
                       [Source.MDF, *self.period_keys, *pparams])
        fx = M.Converter.for_quarters(self.period_keys)
        mdf = self._sum([r[1:] for r in rows if r[0] == 1], fx)
        other = self._sum([r[1:] for r in rows if r[0] == 0], fx)
        overhead = AnalyticsSettings.current().overhead_per_quarter_minor * len(self.period_keys)
        return {"incentives": other, "mdf": mdf, "overhead": overhead, "total": other + mdf + overhead}

    def _sourced(self) -> tuple[str, list]:
        """SQL true when a counted partner brought deal ``o``: an index probe per deal, cheaper than
        grouping every partner link when the deals are already narrowed by stage and date."""
        _, link = M._tables()
        pwhere, pparams = self._pwhere("l")
        return (f"EXISTS (SELECT 1 FROM {link} l WHERE l.opportunity_id = o.id AND l.role IN {M._sourcing_sql()}{pwhere})",
                pparams)

    def _new_customer_sql(self) -> tuple[str, list]:
        opp, _ = M._tables()
        sourced, sparams = self._sourced()
        ids_sql, ids_params = M._id_range(self.f)
        return (f"FROM {opp} o WHERE o.stage = %s AND o.type = %s AND o.close_date BETWEEN %s AND %s "
                f"AND {sourced}{ids_sql}", [M.WON, "new", self.f.period.start, self.f.period.end] + sparams + ids_params)

    @cached_property
    def new_customers(self) -> int:
        return self._slow["new_customers"]

    def _new_customers_live(self) -> int:
        sql, params = self._new_customer_sql()
        return M._rows(f"SELECT COUNT(DISTINCT o.account_id) {sql}", params)[0][0]

    def cac(self) -> int | None:
        return M.per(self.costs["total"], self.new_customers)

    # --- retention, churn, net revenue retention ------------------------------------------------

    def _windows(self):
        quarters = M.trend_quarters(self.f.period, 2 * RETENTION_QUARTERS)
        return quarters, quarters[RETENTION_QUARTERS].start

    def _accounts_cte(self) -> tuple[str, list]:
        """``acct``: one row per customer with won revenue in the year before, its kind (sourced or direct,
        by that year's won deals) and whether it was retained; ``rev``: its won revenue less refunds."""
        from covey.crm.models import DealEvent, OpportunityPartner

        opp, _ = M._tables()
        events = _table(DealEvent)
        sourced, mparams = self._sourced()
        ids_sql, ids_params = M._id_range(self.f)
        quarters, cur_start = self._windows()
        first, last = quarters[0].start, quarters[-1].end
        anyone = f"EXISTS (SELECT 1 FROM {_table(OpportunityPartner)} x WHERE x.opportunity_id = o.id)"
        kind = f"CASE WHEN {sourced} THEN 2 WHEN {anyone} THEN 0 ELSE 1 END"
        sql = (
            f"WITH rev AS (SELECT o.account_id AS acct, o.currency AS cur, o.close_date AS day, o.amount_minor AS amount, "
            f"{kind} AS kind FROM {opp} o WHERE o.stage = %s AND o.close_date BETWEEN %s AND %s{ids_sql} "
            f"UNION ALL SELECT o.account_id, o.currency, e.occurred_on, -e.amount_minor, NULL FROM {events} e "
            f"JOIN {opp} o ON o.id = e.opportunity_id WHERE e.kind = %s AND e.amount_minor IS NOT NULL "
            f"AND e.occurred_on BETWEEN %s AND %s{ids_sql}), "
            f"churned AS (SELECT DISTINCT o.account_id AS acct FROM {events} e JOIN {opp} o ON o.id = e.opportunity_id "
            f"WHERE e.kind = %s AND e.occurred_on BETWEEN %s AND %s{ids_sql}), "
            f"flags AS (SELECT acct, MAX(CASE WHEN day < %s AND kind = 2 THEN 1 ELSE 0 END) AS src, "
            f"MAX(CASE WHEN day < %s AND kind IN (0, 2) THEN 1 ELSE 0 END) AS partnered, "
            f"MAX(CASE WHEN day < %s AND kind IS NOT NULL THEN 1 ELSE 0 END) AS before, "
            f"MAX(CASE WHEN day >= %s AND kind IS NOT NULL THEN 1 ELSE 0 END) AS now FROM rev GROUP BY acct), "
            f"acct AS (SELECT f.acct, CASE WHEN f.src = 1 THEN 'sourced' ELSE 'direct' END AS seg, "
            f"CASE WHEN f.now = 1 AND c.acct IS NULL THEN 1 ELSE 0 END AS kept "
            f"FROM flags f LEFT JOIN churned c ON c.acct = f.acct WHERE f.before = 1 AND (f.src = 1 OR f.partnered = 0)) "
        )
        params = (mparams + [M.WON, first, last] + ids_params + ["refunded", first, last] + ids_params
                  + ["churned", cur_start, last] + ids_params + [cur_start] * 4)
        return sql, params

    @cached_property
    def retention(self) -> dict[str, Retention]:
        return {seg: Retention(*values) for seg, values in self._slow["retention"].items()}

    def _retention_live(self) -> tuple[dict[str, list[int]], list]:
        """Per segment [customers, retained, revenue before, revenue now], and the (currency, quarter)
        pairs without an FX rate."""
        cte, params = self._accounts_cte()
        quarters, cur_start = self._windows()
        out = {"sourced": Retention(), "direct": Retention()}
        qcase, qparams = M._quarter_case("r.day", quarters, is_datetime=False)
        # One statement: the customer counts (part 0) and their revenue per year, currency and quarter (part 1).
        rows = M._rows(f"{cte}SELECT 0, seg, kept, NULL, NULL, COUNT(*) FROM acct GROUP BY seg, kept UNION ALL "
                       f"SELECT 1, a.seg, CASE WHEN r.day < %s THEN 0 ELSE 1 END, r.cur, {qcase}, SUM(r.amount) "
                       f"FROM rev r JOIN acct a ON a.acct = r.acct GROUP BY 2, 3, 4, 5", params + [cur_start] + qparams)
        for _, seg, kept, _, _, n in (r for r in rows if r[0] == 0):
            out[seg].customers += int(n)
            out[seg].retained += int(n) if kept else 0
        fx = M.Converter.for_quarters([q.key for q in quarters])
        for seg in out:
            out[seg].revenue_before = self._sum([r[3:] for r in rows if r[:3] == (1, seg, 0)], fx)
            out[seg].revenue_now = self._sum([r[3:] for r in rows if r[:3] == (1, seg, 1)], fx)
        by_seg = {seg: [r.customers, r.retained, r.revenue_before, r.revenue_now] for seg, r in out.items()}
        return by_seg, sorted(fx.missing)

    # --- the snapshot of the slow figures -------------------------------------------------------

    @cached_property
    def _slow(self) -> dict:
        """Retention and new customers: from a snapshot at most ``SNAPSHOT_MAX_AGE`` old, else computed now
        and kept for the next page."""
        from covey.analytics.models import OutcomeSnapshot

        key = snapshot_key(self.f)
        data = None
        if key is not None:
            data = (OutcomeSnapshot.objects.filter(key=key, computed_at__gte=timezone.now() - SNAPSHOT_MAX_AGE)
                    .values_list("data", flat=True).first())
        if data is None:
            data = self.snapshot()
        missing = self.cube.missing_rates
        if isinstance(missing, list):  # the page names the rates retention went without, with the cube's own
            missing.extend(sorted(m for m in map(tuple, data["missing"]) if m not in missing))
        return data

    def snapshot(self) -> dict:
        """Compute the slow figures now and keep them (one row per filter set, replaced in place)."""
        from covey.analytics.models import OutcomeSnapshot

        retention, missing = self._retention_live()
        data = {"retention": retention, "missing": missing, "new_customers": self._new_customers_live()}
        key = snapshot_key(self.f)
        if key is not None:
            OutcomeSnapshot.objects.bulk_create(
                [OutcomeSnapshot(key=key, computed_at=timezone.now(), data=data)],
                update_conflicts=True, unique_fields=["key"], update_fields=["computed_at", "data"])
        return data

    def retention_rate(self, seg: str) -> Decimal | None:
        r = self.retention[seg]
        return M.ratio(r.retained, r.customers)

    def churn_rate(self, seg: str) -> Decimal | None:
        r = self.retention[seg]
        return M.ratio(r.customers - r.retained, r.customers)

    def nrr(self, seg: str) -> Decimal | None:
        r = self.retention[seg]
        return M.ratio(r.revenue_now, r.revenue_before) if r.revenue_before > 0 else None

    # --- time to partner productivity -----------------------------------------------------------

    def _signed_cte(self) -> tuple[str, list]:
        from covey.agreements.models import Agreement, AgreementStatus

        pwhere, pparams = self._pwhere("a")
        start, end = self._bounds()
        return (f"WITH s AS (SELECT a.partner_id, MIN(a.signed_at) AS signed FROM {_table(Agreement)} a "
                f"WHERE a.signed_at IS NOT NULL AND a.status <> %s{pwhere} GROUP BY a.partner_id "
                f"HAVING MIN(a.signed_at) >= %s AND MIN(a.signed_at) < %s) ",
                [AgreementStatus.VOID, *pparams, start, end])

    def _firsts_sql(self) -> tuple[str, list]:
        """Per partner signed in the period: signed day, first registration day and first win day after it."""
        from covey.registrations.models import Registration

        opp, link = M._tables()
        cte, params = self._signed_cte()
        signed_day = _local_date("s.signed")
        return (f"{cte}, f AS (SELECT s.partner_id, {signed_day} AS signed_day, "
                f"(SELECT MIN({_local_date('r.submitted_at')}) FROM {_table(Registration)} r "
                f"WHERE r.partner_id = s.partner_id AND r.submitted_at >= s.signed) AS first_reg, "
                f"(SELECT MIN(o.close_date) FROM {link} l JOIN {opp} o ON o.id = l.opportunity_id "
                f"WHERE l.partner_id = s.partner_id AND o.stage = %s AND o.close_date >= {signed_day}) AS first_win FROM s) ",
                params + [M.WON])

    @cached_property
    def productivity(self) -> dict[str, dict[int, int]]:
        cte, params = self._firsts_sql()
        out: dict[str, dict[int, int]] = {"registration": {}, "win": {}}
        for name, column in (("registration", "first_reg"), ("win", "first_win")):
            for days, n in M._rows(f"{cte}SELECT {_days(column, 'signed_day')}, COUNT(*) FROM f "
                                   f"WHERE {column} IS NOT NULL GROUP BY 1", params):
                out[name][int(days)] = n
        return out

    # --- payout lag -----------------------------------------------------------------------------

    def _payouts_sql(self) -> tuple[str, list]:
        from covey.payouts.models import LedgerEntry, PayoutBatch, Statement, StatementLine

        opp, _ = M._tables()
        pwhere, pparams = self._pwhere("e")
        ids_sql, ids_params = M._id_range(self.f)
        start, end = self._bounds()
        paid = "COALESCE(s.paid_at, b.paid_at)"
        return (f"FROM {_table(Statement)} s LEFT JOIN {_table(PayoutBatch)} b ON b.id = s.batch_id "
                f"JOIN {_table(StatementLine)} sl ON sl.statement_id = s.id JOIN {_table(LedgerEntry)} e ON e.id = sl.entry_id "
                f"JOIN {opp} o ON o.id = e.opportunity_id WHERE {paid} >= %s AND {paid} < %s AND e.amount_minor > 0 "
                f"AND o.stage = %s{pwhere}{ids_sql}", [start, end, M.WON, *pparams, *ids_params], _local_date(paid))

    @cached_property
    def payout_lag(self) -> dict[int, int]:
        sql, params, paid_day = self._payouts_sql()
        return {int(d): n for d, n in M._rows(f"SELECT {_days(paid_day, 'o.close_date')}, COUNT(*) {sql} GROUP BY 1", params)}

    # --- leading indicators ---------------------------------------------------------------------

    def _cosell_ids(self) -> tuple[str, list]:
        from covey.cosell.models import Engagement

        pwhere, pparams = self._pwhere("g")
        return f"SELECT g.opportunity_id FROM {_table(Engagement)} g WHERE 1 = 1{pwhere}", pparams

    @cached_property
    def velocity(self) -> dict[str, object]:
        """Co-sell pipeline created in the period, the co-sell win rate and cycle of deals closed in it."""
        opp, _ = M._tables()
        ids, iparams = self._cosell_ids()
        ids_sql, ids_params = M._id_range(self.f)
        start, end = self._bounds()
        quarters = M.period_quarters(self.f.period)
        qcase, qparams = M._quarter_case("o.created_at", quarters, is_datetime=True)
        rows = M._rows(f"SELECT o.currency, {qcase}, SUM(o.amount_minor) FROM {opp} o WHERE o.created_at >= %s "
                       f"AND o.created_at < %s AND o.id IN ({ids}){ids_sql} GROUP BY 1, 2",
                       qparams + [start, end] + iparams + ids_params)
        pipeline = self._sum(rows, M.Converter.for_quarters(self.period_keys))
        closed = {stage: (n, cycle or 0) for stage, n, cycle in M._rows(
            f"SELECT o.stage, COUNT(*), SUM({M._cycle_days()}) FROM {opp} o WHERE o.stage IN (%s, %s) "
            f"AND o.close_date BETWEEN %s AND %s AND o.id IN ({ids}){ids_sql} GROUP BY 1",
            [M.WON, M.LOST, self.f.period.start, self.f.period.end] + iparams + ids_params)}
        won, cycle = closed.get(M.WON, (0, 0))
        lost, _ = closed.get(M.LOST, (0, 0))
        return {"pipeline": pipeline, "won": won, "lost": lost, "cycle_days": int(cycle)}

    def joint_velocity(self) -> int | None:
        v = self.velocity
        if not v["won"] or not v["cycle_days"]:
            return None
        # pipeline × (won ÷ closed) ÷ (cycle days ÷ won) = pipeline × won² ÷ (closed × cycle days)
        exact = Decimal(v["pipeline"]) * v["won"] * v["won"] / (Decimal(v["won"] + v["lost"]) * v["cycle_days"])
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))

    def _engaged_sql(self) -> tuple[str, list]:
        """Co-sell deals (an engagement of a counted partner) open at some time in the period."""
        from covey.cosell.models import Engagement

        opp, _ = M._tables()
        pwhere, pparams = self._pwhere("g")
        ids_sql, ids_params = M._id_range(self.f)
        start, end = self._bounds()
        return (f"FROM {_table(Engagement)} g JOIN {opp} o ON o.id = g.opportunity_id WHERE g.created_at < %s "
                f"AND o.created_at < %s AND (o.stage NOT IN (%s, %s) OR o.close_date >= %s){pwhere}{ids_sql}",
                [end, end, M.WON, M.LOST, self.f.period.start, *pparams, *ids_params])

    @cached_property
    def depth(self) -> tuple[int, int]:
        """(joint activities in the period on those deals with an engaged partner, number of deals)."""
        from covey.crm.models import Activity

        sql, params = self._engaged_sql()
        deals = M._rows(f"SELECT COUNT(DISTINCT g.opportunity_id) {sql}", params)[0][0]
        start, end = self._bounds()
        joint = M._rows(f"SELECT COUNT(*) FROM {_table(Activity)} a WHERE a.is_joint = %s AND a.occurred_at >= %s "
                        f"AND a.occurred_at < %s AND EXISTS (SELECT 1 {sql} AND g.opportunity_id = a.opportunity_id "
                        f"AND g.partner_id = a.partner_id)", [True, start, end] + params)[0][0]
        return joint, deals

    @cached_property
    def enablement_by_partner(self) -> dict[int, list[int]]:
        """Partner id → [content views and downloads, course completions] by its people in the period."""
        from covey.enablement.models import Completion, ResourceUse

        start, end = self._bounds()
        uwhere, uparams = self._pwhere("u")
        cwhere, cparams = self._pwhere("c")
        counts: dict[int, list[int]] = {}
        for pid, n in M._rows(f"SELECT u.partner_id, COUNT(*) FROM {_table(ResourceUse)} u WHERE u.partner_id IS NOT NULL "
                              f"AND u.at >= %s AND u.at < %s{uwhere} GROUP BY 1", [start, end] + uparams):
            counts.setdefault(pid, [0, 0])[0] = n
        for pid, n in M._rows(f"SELECT c.partner_id, COUNT(*) FROM {_table(Completion)} c WHERE c.completed_on BETWEEN %s "
                              f"AND %s{cwhere} GROUP BY 1", [self.f.period.start, self.f.period.end] + cparams):
            counts.setdefault(pid, [0, 0])[1] = n
        return counts

    @property
    def enablement(self) -> tuple[int, int]:
        rows = self.enablement_by_partner.values()
        return sum(r[0] for r in rows), sum(r[1] for r in rows)

    def active_partners(self) -> int:
        return M.METRICS["active_partners"].compute(self.cube) or 0


def outcomes_of(cube: M.Cube) -> Outcomes:
    """The cube's outcomes, computed once per cube (and group) however many metrics ask."""
    found = cube.__dict__.get("_outcomes")
    if found is None:
        found = Outcomes(cube)
        object.__setattr__(cube, "_outcomes", found)
    return found


def _o(fn):
    return lambda cube: fn(outcomes_of(cube))


# --- the registry entries -----------------------------------------------------------------------

_SEG_WORDS = {"sourced": "partner-sourced customers (at least one of their won deals in the year before was "
                         "partner-sourced)",
              "direct": "direct customers (none of their won deals in the year before had a partner on it)"}
_CUSTOMERS = (f"A customer is an account with won revenue in the year before the current window ({WINDOW_WORDS}). ")

METRICS: list[M.Metric] = [
    M.Metric("cost_incentives", "Cost: incentives (without MDF)",
             "Ledger entries earned in the period's quarters other than market development funds: commissions, "
             "margins, bonuses, rebates, net of reversals and clawbacks, in the base currency.",
             "money", _o(lambda o: o.costs["incentives"]), "outcome:ledger:incentives"),
    M.Metric("cost_mdf", "Cost: MDF reimbursed",
             "Market development funds reimbursed to partners: the ledger's MDF entries of the period's quarters "
             "(posted when a claim is approved), in the base currency.",
             "money", _o(lambda o: o.costs["mdf"]), "outcome:ledger:mdf"),
    M.Metric("program_cost", "Program cost",
             "Incentives (without MDF) + MDF reimbursed + the configured program overhead per quarter, for the "
             "period's quarters: the cost Program ROI and Partner CAC divide by.",
             "money", _o(lambda o: o.costs["total"]), "ledger", for_partners=False),
    M.Metric("new_sourced_customers", "New partner-sourced customers",
             "Accounts with at least one partner-sourced deal of type New business closed won in the period.",
             "count", _o(lambda o: o.new_customers), "outcome:new_customers", for_partners=False),
    M.Metric("partner_cac", "Partner CAC",
             "Program cost (incentives + MDF + overhead) divided by the number of new partner-sourced customers, "
             "rounded to the cent; none without a new customer.",
             "money", _o(Outcomes.cac), "outcome:new_customers", for_partners=False),
]
for _seg in ("sourced", "direct"):
    _words, _mine = _SEG_WORDS[_seg], _seg == "sourced"
    METRICS += [
        M.Metric(f"retention_{_seg}", f"Customer retention, {_seg}",
                 f"{_CUSTOMERS}Of the {_words}, the share retained: with won revenue in the current window and no "
                 "churn recorded (a 'customer churned' deal event) in it.",
                 "ratio", _o(lambda o, s=_seg: o.retention_rate(s)), f"outcome:customers:{_seg}", for_partners=_mine),
        M.Metric(f"churn_{_seg}", f"Customer churn, {_seg}",
                 f"{_CUSTOMERS}Of the {_words}, the share lost: no won revenue in the current window, or a churn "
                 "recorded in it (1 − retention).",
                 "ratio", _o(lambda o, s=_seg: o.churn_rate(s)), f"outcome:customers:{_seg}", for_partners=_mine),
        M.Metric(f"nrr_{_seg}", f"Net revenue retention, {_seg}",
                 f"{_CUSTOMERS}For the {_words}: their won revenue in the current window divided by their won "
                 "revenue in the year before, each net of refunds recorded in that year. 1.10 means they spend 10% more.",
                 "ratio", _o(lambda o, s=_seg: o.nrr(s)), f"outcome:customers:{_seg}", for_partners=_mine),
    ]
METRICS += [
    M.Metric("ramp_registration", "Time to first registration",
             "For partners whose first agreement was signed in the period: the median number of days from signing "
             "to their first deal registration submitted after it (partners without one yet are left out; the "
             "records list them).",
             "days", _o(lambda o: median(o.productivity["registration"])), "outcome:ramp"),
    M.Metric("ramp_win", "Time to first win",
             "For partners whose first agreement was signed in the period: the median number of days from signing "
             "to the close date of the first won deal they are on.",
             "days", _o(lambda o: median(o.productivity["win"])), "outcome:ramp"),
    M.Metric("payout_lag_median", "Payout lag, median",
             "For each payout made in the period (a ledger entry for a won deal on a statement paid in the period, "
             "or in a batch marked paid in it): the days from the deal's close date to the payment; the median.",
             "days", _o(lambda o: median(o.payout_lag)), "outcome:payouts"),
    M.Metric("payout_lag_p90", "Payout lag, 90th percentile",
             "The same payouts: 90% of them were paid within this many days of the deal's close (nearest rank).",
             "days", _o(lambda o: percentile(o.payout_lag, Decimal("0.9"))), "outcome:payouts"),
    M.Metric("joint_velocity", "Joint pipeline velocity (per day)",
             "For co-sell deals (a counted partner has a co-sell engagement on them): pipeline created in the period "
             "× win rate of those closed in it ÷ the average days from creation to close of those won: the co-sell "
             "revenue the pipeline turns into per day.",
             "money", _o(Outcomes.joint_velocity), "outcome:cosell"),
    M.Metric("engagement_depth", "Engagement depth",
             "Joint activities (vendor and partner together) logged in the period on co-sell deals with an engaged "
             "partner, per co-sell deal open at some time in the period.",
             "count", _o(lambda o: _per(*o.depth)), "outcome:cosell"),
    M.Metric("content_use_per_active_partner", "Content use per active partner",
             "Views and downloads of enablement resources by partner users in the period, per active partner.",
             "count", _o(lambda o: _per(o.enablement[0], o.active_partners())), "outcome:enablement"),
    M.Metric("completions_per_active_partner", "Course completions per active partner",
             "Enablement course completions by partner people in the period, per active partner.",
             "count", _o(lambda o: _per(o.enablement[1], o.active_partners())), "outcome:enablement"),
]


# --- the records behind them ----------------------------------------------------------------------


def _money(minor: int, currency: str) -> str:
    from covey.analytics.views import major

    return major(minor, currency)


def _names(ids) -> dict[int, str]:
    from covey.partners.models import Partner

    return dict(Partner.objects.filter(pk__in=set(ids)).values_list("id", "name"))


def _deal_rows(qs) -> list[list]:
    return [[o.name, o.public_id, o.account.name, o.stage, _money(o.amount_minor, o.currency), o.currency,
             o.created_at.date().isoformat(), o.close_date.isoformat()] for o in qs.select_related("account").order_by("-amount_minor", "id")]


DEAL_HEADER = ["deal", "deal_id", "account", "stage", "amount", "currency", "created", "close_date"]


def records(cube: M.Cube, kind: str) -> tuple[list[str], list[list]]:
    """(header, rows) of the records behind an ``outcome:…`` metric, as plain text for a table or CSV."""
    from django.db.models.expressions import RawSQL

    from covey.crm.models import Account, Opportunity

    o, f = outcomes_of(cube), cube.filters
    what, _, arg = kind.partition(":")
    if what == "ledger":
        from covey.analytics.records import ledger

        qs = ledger(f)
        qs = qs.filter(source="mdf") if arg == "mdf" else qs.exclude(source="mdf")
        return (["entry", "partner", "quarter", "source", "amount", "currency", "explanation"],
                [[e.public_id, e.partner.name, e.period_key, e.source, _money(e.amount_minor, e.currency), e.currency,
                  e.explanation] for e in qs])
    if what == "new_customers":
        sql, params = o._new_customer_sql()
        return DEAL_HEADER, _deal_rows(Opportunity.objects.filter(pk__in=RawSQL(f"SELECT o.id {sql}", params)))
    if what == "customers":
        cte, params = o._accounts_cte()
        rows = M._rows(f"{cte}SELECT acct, kept FROM acct WHERE seg = %s", params + [arg])
        names = dict(Account.objects.filter(pk__in=[r[0] for r in rows]).values_list("id", "name"))
        return (["account", "customer", "status"],
                sorted([[names.get(a, "?"), arg, "retained" if kept else "churned"] for a, kept in rows]))
    if what == "ramp":
        cte, params = o._firsts_sql()
        rows = M._rows(f"{cte}SELECT partner_id, signed_day, first_reg, {_days('first_reg', 'signed_day')}, first_win, "
                       f"{_days('first_win', 'signed_day')} FROM f", params)
        names = _names(r[0] for r in rows)
        return (["partner", "signed", "first_registration", "days_to_registration", "first_win", "days_to_win"],
                sorted([[names.get(r[0], "?"), *("" if v is None else str(v) for v in r[1:])] for r in rows]))
    if what == "payouts":
        sql, params, paid_day = o._payouts_sql()
        rows = M._rows(f"SELECT e.partner_id, o.name, o.close_date, {paid_day}, {_days(paid_day, 'o.close_date')}, "
                       f"e.amount_minor, e.currency {sql} ORDER BY 5 DESC, o.id", params)
        names = _names(r[0] for r in rows)
        return (["partner", "deal", "close_date", "paid", "days", "amount", "currency"],
                [[names.get(r[0], "?"), r[1], str(r[2]), str(r[3]), r[4], _money(r[5], r[6]), r[6]] for r in rows])
    if what == "cosell":
        sql, params = o._engaged_sql()
        return DEAL_HEADER, _deal_rows(Opportunity.objects.filter(pk__in=RawSQL(f"SELECT g.opportunity_id {sql}", params)))
    if what == "enablement":
        names = _names(o.enablement_by_partner)
        return (["partner", "content_uses", "course_completions"],
                sorted([[names.get(p, "?"), *c] for p, c in o.enablement_by_partner.items()]))
    raise ValueError(f"no records of kind {kind!r}")


PREVIOUS_MAX_AGE = 60.0  # seconds: the rollups themselves are refreshed once a minute
_previous_kept: dict[tuple, tuple[float, dict]] = {}  # per process: (filters, metrics, rollups as of) → values
_previous_lock = threading.Lock()


def previous_values(filters: M.Filters, figures) -> tuple[dict, dict]:
    """Each figure's value in the previous period (the quarter or fiscal year before) and the change to it.

    The previous period's figures rarely move, yet computing them costs as much as the page's own; a
    process keeps them for a minute, and only while the rollups have not taken in new changes."""
    from covey.analytics import rollups

    metrics = [fig.metric for fig in figures]
    state = None if filters.opportunity_ids else rollups.current_state()
    key = (M.previous_filters(filters), tuple(m.key for m in metrics), state.as_of if state else None)
    now = time.monotonic()
    with _previous_lock:
        kept = _previous_kept.get(key) if state is not None else None
    if kept is not None and now - kept[0] < PREVIOUS_MAX_AGE:
        previous = kept[1]
    else:
        previous = M.compute_all(M.build_cube(M.previous_filters(filters)), metrics)
        if state is not None:
            with _previous_lock:
                for old in [k for k, (at, _) in _previous_kept.items() if now - at >= PREVIOUS_MAX_AGE]:
                    del _previous_kept[old]
                _previous_kept[key] = (now, previous)
    changes = {fig.metric.key: fig.value - previous[fig.metric.key]
               for fig in figures if fig.value is not None and previous[fig.metric.key] is not None}
    return previous, changes
