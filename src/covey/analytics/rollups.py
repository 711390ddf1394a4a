"""Rollups: the deal figures the dashboards and scorecards need, summed ahead of time.

Three tables (``models``), all in integer minor units per currency and by *local month* (fiscal
quarters are whole months, so any calendar folds months into quarters at read time, and FX is applied
at read time per (currency, quarter) exactly as the direct computation does):

- ``DealRollup``: every deal by its motion on the whole program (sourced / influenced / direct),
  currency, month and stage, once by creation month ("created") and once, for won and lost deals, by
  close month ("closed", with the cycle-day sum). Unfiltered program figures come from here alone.
- ``PartnerRollup``: every partner link summed the same way per partner, split by whether the partner
  brought the deal and whether the deal has other partners (``shared``). Scorecards, per-partner
  revenue, active partners, and the single-partner deals of a partner filter come from here.
- ``DealLink``: every partner link, one row each with the deal's facts: a partner filter counts a
  deal with several partners (``shared``) once, sourced if any *counted* partner brought it; a
  scorecard's top deals come from here.
  Under a partner filter, "other partners" = all partner deals − counted single − counted shared.

Freshness: triggers on the deal and partner-link tables (``install_triggers``; put back after every
``migrate``) write each insert, counted-field update and delete — with the old and new dates — to
``RollupChange``. ``refresh`` (the periodic job ``analytics.refresh_rollups``, every minute under
``covey worker``) reads that log, recomputes only the touched groups — the (basis, month) rows of
``DealRollup`` for every old and new month, every ``PartnerRollup`` row of each partner on (or just
removed from) a touched deal, and the ``DealLink`` rows of each touched deal — and deletes the
log rows it applied. Deletes and link removals are in the log like any change, so nothing is missed;
``covey analytics rebuild`` (or a log too long to apply) recomputes everything. A change of the
installation's time zone or of ``VERSION`` makes the rollups unready until rebuilt; meanwhile every
page computes directly (``metrics.build_cube(source="direct")``, kept as the reference).

Extending: a new Cube figure that is a sum over deals gets a column here (or a new ``basis`` value
— e.g. "paid" by payment month), the same column in the three INSERT … SELECTs below and in the
reader's SELECTs, and a bump of ``VERSION`` (which forces one rebuild). Figures that are not sums over
deals (ledger, registrations, surveys) stay direct queries in ``metrics`` and need nothing here.
"""

from __future__ import annotations

import time
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from covey.analytics import metrics as M

VERSION = 1
MAX_LOG = 20_000  # more pending changes than this: rebuild instead of applying them one group at a time
CHUNK = 500
LOCK_KEY = 0x636F7665  # PostgreSQL advisory lock taken by refresh and rebuild

DEALS, PARTNERS, LINKS, CHANGES = ("analytics_dealrollup", "analytics_partnerrollup", "analytics_deallink",
                                    "analytics_rollupchange")


# --- months ------------------------------------------------------------------------------------


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def local_month(moment: datetime) -> int:
    return month_of(timezone.localtime(moment).date())


def month_start(month: int) -> date:
    return date(month // 100, month % 100, 1)


def next_month(month: int) -> int:
    y, m = divmod(month, 100)
    return (y + 1) * 100 + 1 if m == 12 else month + 1


def months_between(first: int, last: int) -> list[int]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def _month_sql(column: str, *, is_datetime: bool, months: list[int]) -> tuple[str, list]:
    """SQL naming the local month (YYYYMM) of ``column``; on SQLite a CASE over ``months``."""
    if connection.vendor == "postgresql":
        return M._quarter_case(column, [], is_datetime=is_datetime)
    if not is_datetime:
        return f"CAST(strftime('%%Y%%m', {column}) AS integer)", []
    parts, params = [], []
    for m in months:
        parts.append(f"WHEN {column} >= %s AND {column} < %s THEN %s")
        params += [M._start(month_start(m)), M._start(month_start(next_month(m))), m]
    return f"CASE {' '.join(parts)} END", params


def _data_months() -> list[int]:
    """Every local month a deal was created in (SQLite's CASE needs them; PostgreSQL computes)."""
    if connection.vendor == "postgresql":
        return []
    from django.db.models import Max, Min

    from covey.crm.models import Opportunity

    span = Opportunity.objects.aggregate(lo=Min("created_at"), hi=Max("created_at"))
    if span["lo"] is None:
        return []
    return months_between(local_month(span["lo"]), local_month(span["hi"]))


def _in(column: str, values) -> tuple[str, list]:
    values = list(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _chunks(values, size: int = CHUNK):
    values = sorted(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- the INSERT … SELECTs that fill the tables (rebuild: everything; refresh: a scope) -----------


def _src() -> str:
    return f"l.role IN {M._sourcing_sql()}"


def _fill_deals(basis: str, scope: str, params: list, months: list[int], *, whole: bool) -> None:
    opp, link = M._tables()
    if basis == "created":
        month, mparams = _month_sql("o.created_at", is_datetime=True, months=months)
        cycle, where = "0", ""
    else:
        month, mparams = _month_sql("o.close_date", is_datetime=False, months=months)
        cycle, where = M._cycle_days(), f" AND o.stage IN ('{M.WON}', '{M.LOST}')"
    src_case = f"MAX(CASE WHEN x.role IN {M._sourcing_sql()} THEN 1 ELSE 0 END)"
    if whole:  # one pass over the links (hash join) beats a lookup per deal
        join = f"LEFT JOIN (SELECT x.opportunity_id, {src_case} AS src FROM {link} x GROUP BY x.opportunity_id) m " \
               "ON m.opportunity_id = o.id"
        src = "m.src"
    else:
        join, src = "", f"(SELECT {src_case} FROM {link} x WHERE x.opportunity_id = o.id)"
    _execute(
        f"INSERT INTO {DEALS} (basis, motion, currency, month, stage, deals, amount_minor, cycle_days) "
        f"SELECT %s, CASE WHEN t.src = 1 THEN 'sourced' WHEN t.src = 0 THEN 'influenced' ELSE 'direct' END, "
        f"t.currency, t.month, t.stage, COUNT(*), SUM(t.amount), SUM(t.cycle) FROM ("
        f"SELECT o.currency, {month} AS month, o.stage, o.amount_minor AS amount, {cycle} AS cycle, {src} AS src "
        f"FROM {opp} o {join} WHERE ({scope}){where}) t GROUP BY 2, 3, 4, 5",
        [basis] + mparams + params,
    )


def _links_sql(months: list[int], *, whole: bool) -> tuple[str, str, list]:
    """(FROM … clause, shared expression, params) for links joined to their deals."""
    opp, link = M._tables()
    if whole:
        return (f"{link} l JOIN {opp} o ON o.id = l.opportunity_id JOIN (SELECT opportunity_id, COUNT(*) AS n FROM {link} "
                "GROUP BY opportunity_id) c ON c.opportunity_id = l.opportunity_id", "c.n > 1", [])
    return (f"{link} l JOIN {opp} o ON o.id = l.opportunity_id",
            f"(SELECT COUNT(*) FROM {link} y WHERE y.opportunity_id = l.opportunity_id) > 1", [])


def _fill_partners(scope: str, params: list, months: list[int], *, whole: bool) -> None:
    source, shared, _ = _links_sql(months, whole=whole)
    created, cparams = _month_sql("o.created_at", is_datetime=True, months=months)
    closed, dparams = _month_sql("o.close_date", is_datetime=False, months=months)
    columns = "partner_id, sourcing, shared, basis, currency, month, stage, deals, amount_minor, cycle_days"
    for basis, month, mparams, cycle, where in (
        ("created", created, cparams, "0", ""),
        ("closed", closed, dparams, M._cycle_days(), f" AND o.stage IN ('{M.WON}', '{M.LOST}')"),
    ):
        _execute(
            f"INSERT INTO {PARTNERS} ({columns}) SELECT t.partner_id, t.src, t.shared, %s, t.currency, t.month, t.stage, "
            f"COUNT(*), SUM(t.amount), SUM(t.cycle) FROM (SELECT l.partner_id, {_src()} AS src, {shared} AS shared, "
            f"o.currency, {month} AS month, o.stage, o.amount_minor AS amount, {cycle} AS cycle FROM {source} "
            f"WHERE ({scope}){where}) t GROUP BY t.partner_id, t.src, t.shared, t.currency, t.month, t.stage",
            [basis] + mparams + params,
        )


def _fill_links(scope: str, params: list, months: list[int], *, whole: bool) -> None:
    source, shared, _ = _links_sql(months, whole=whole)
    created, cparams = _month_sql("o.created_at", is_datetime=True, months=months)
    closed, dparams = _month_sql("o.close_date", is_datetime=False, months=months)
    _execute(
        f"INSERT INTO {LINKS} (opportunity_id, partner_id, sourcing, shared, currency, created_month, close_month, stage, "
        f"amount_minor, cycle_days) SELECT l.opportunity_id, l.partner_id, {_src()}, {shared}, o.currency, {created}, "
        f"{closed}, o.stage, o.amount_minor, CASE WHEN o.stage IN ('{M.WON}', '{M.LOST}') THEN {M._cycle_days()} END "
        f"FROM {source} WHERE ({scope})",
        cparams + dparams + params,
    )


# --- state ---------------------------------------------------------------------------------------


def current_state():
    """The rollup state when the rollups can be read (built, same time zone and version); else None."""
    from covey.analytics.models import RollupState

    state = RollupState.objects.filter(pk=1).first()
    if state is None or state.version != VERSION or state.time_zone != settings.TIME_ZONE:
        return None
    return state


def _lock(*, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: transactions are IMMEDIATE, one writer at a time
    fn = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fn}(%s)", [LOCK_KEY])
        row = cursor.fetchone()
    return wait or bool(row[0])


def _save_state(*, as_of: datetime, built: bool, seconds: float, changes: int) -> None:
    from covey.analytics.models import RollupState

    state = RollupState.objects.filter(pk=1).first() or RollupState(pk=1, built_at=as_of)
    if built:
        state.built_at = as_of
    state.version, state.time_zone, state.as_of = VERSION, settings.TIME_ZONE, as_of
    state.last_seconds, state.last_changes = round(seconds, 3), changes
    state.save()


def _forget(ids: list[int]) -> None:
    from covey.analytics.models import RollupChange

    for chunk in _chunks(ids, 5000):
        RollupChange.objects.filter(id__in=chunk).delete()


def rebuild() -> dict:
    """Recompute every rollup from the deals, in one transaction (readers see the old ones until it commits)."""
    from covey.analytics.models import RollupChange

    started = time.perf_counter()
    with transaction.atomic():
        _lock(wait=True)
        as_of = timezone.now()
        pending = list(RollupChange.objects.values_list("id", flat=True))  # applied by this rebuild
        for table in (DEALS, PARTNERS, LINKS):
            _execute(f"DELETE FROM {table}", [])
        months = _data_months()
        for basis in ("created", "closed"):
            _fill_deals(basis, "1 = 1", [], months, whole=True)
        _fill_partners("1 = 1", [], months, whole=True)
        _fill_links("1 = 1", [], months, whole=True)
        _forget(pending)
        seconds = time.perf_counter() - started
        _save_state(as_of=as_of, built=True, seconds=seconds, changes=len(pending))
    if connection.vendor == "postgresql":  # fresh statistics, and a visibility map for index-only scans
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        for table in (DEALS, PARTNERS, LINKS):
            _execute(f"{verb} {table}", [])
    return {"rebuilt": True, "changes": len(pending), "seconds": round(time.perf_counter() - started, 3)}


def refresh() -> dict:
    """Apply the logged changes: recompute only the groups they touched (or rebuild when needed)."""
    from covey.analytics.models import RollupChange
    from covey.crm.models import Opportunity, OpportunityPartner

    if current_state() is None or RollupChange.objects.count() > MAX_LOG:
        return rebuild()
    started = time.perf_counter()
    with transaction.atomic():
        if not _lock(wait=False):
            return {"skipped": "another refresh is running"}
        as_of = timezone.now()  # every change committed before the log is read below is in it
        log = list(RollupChange.objects.order_by("id").values_list("id", "opportunity_id", "partner_id",
                                                                    "created_at", "close_date"))
        if not log:
            _save_state(as_of=as_of, built=False, seconds=time.perf_counter() - started, changes=0)
            return {"changes": 0, "seconds": round(time.perf_counter() - started, 3)}
        deals = {row[1] for row in log}
        partners = {row[2] for row in log if row[2] is not None}
        created = {local_month(row[3]) for row in log if row[3] is not None}
        closed = {month_of(row[4]) for row in log if row[4] is not None}
        for chunk in _chunks(deals):
            for created_at, close_date in Opportunity.objects.filter(pk__in=chunk).values_list("created_at", "close_date"):
                created.add(local_month(created_at))
                closed.add(month_of(close_date))
            partners.update(OpportunityPartner.objects.filter(opportunity_id__in=chunk).values_list("partner_id", flat=True))
        months = _data_months()
        _refresh_deals("created", created, months)
        _refresh_deals("closed", closed, months)
        for chunk in _chunks(partners):
            where, params = _in("partner_id", chunk)
            _execute(f"DELETE FROM {PARTNERS} WHERE {where}", params)
            _fill_partners(where.replace("partner_id", "l.partner_id", 1), params, months, whole=False)
        for chunk in _chunks(deals):
            where, params = _in("opportunity_id", chunk)
            _execute(f"DELETE FROM {LINKS} WHERE {where}", params)
            _fill_links(where.replace("opportunity_id", "l.opportunity_id", 1), params, months, whole=False)
        _forget([row[0] for row in log])
        seconds = time.perf_counter() - started
        _save_state(as_of=as_of, built=False, seconds=seconds, changes=len(log))
    return {"changes": len(log), "deals": len(deals), "partners": len(partners),
            "months": len(created | closed), "seconds": round(seconds, 3)}


def _refresh_deals(basis: str, touched: set[int], months: list[int]) -> None:
    if not touched:
        return
    where, params = _in("month", touched)
    _execute(f"DELETE FROM {DEALS} WHERE basis = %s AND {where}", [basis] + params)
    scope, sparams = [], []
    for m in sorted(touched):
        first, after = month_start(m), month_start(next_month(m))
        if basis == "created":
            scope.append("(o.created_at >= %s AND o.created_at < %s)")
            sparams += [M._start(first), M._start(after)]
        else:
            scope.append("(o.close_date >= %s AND o.close_date < %s)")
            sparams += [first, after]
    _fill_deals(basis, " OR ".join(scope), sparams, sorted(set(months) | touched), whole=False)


# --- triggers: the change log ----------------------------------------------------------------------


OPP_FIELDS = ("stage", "amount_minor", "currency", "created_at", "close_date")
LINK_FIELDS = ("role", "partner_id", "opportunity_id")


def install_triggers(conn) -> None:
    """Create (or recreate) the triggers that log deal and link changes; idempotent."""
    tables = set(conn.introspection.table_names())
    if not {CHANGES, "crm_opportunity", "crm_opportunitypartner"} <= tables:
        return
    opp_log = (f"INSERT INTO {CHANGES} (opportunity_id, partner_id, created_at, close_date) "
               "VALUES ({r}.id, NULL, {r}.created_at, {r}.close_date);")
    link_log = (f"INSERT INTO {CHANGES} (opportunity_id, partner_id, created_at, close_date) "
                "VALUES ({r}.opportunity_id, {r}.partner_id, NULL, NULL);")
    opp_changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in OPP_FIELDS)
    link_changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in LINK_FIELDS)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            for name, table, log, changed, fields in (
                ("opportunity", "crm_opportunity", opp_log, opp_changed, OPP_FIELDS),
                ("link", "crm_opportunitypartner", link_log, link_changed, LINK_FIELDS),
            ):
                cursor.execute(f"""
                    CREATE OR REPLACE FUNCTION covey_rollup_{name}_changed() RETURNS trigger AS $$
                    BEGIN
                        IF TG_OP IN ('UPDATE', 'DELETE') THEN {log.format(r='OLD')} END IF;
                        IF TG_OP IN ('UPDATE', 'INSERT') THEN {log.format(r='NEW')} END IF;
                        RETURN NULL;
                    END;
                    $$ LANGUAGE plpgsql
                """)
                cursor.execute(f"DROP TRIGGER IF EXISTS rollup_{name}_write ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS rollup_{name}_update ON {table}")
                cursor.execute(f"CREATE TRIGGER rollup_{name}_write AFTER INSERT OR DELETE ON {table} "
                               f"FOR EACH ROW EXECUTE FUNCTION covey_rollup_{name}_changed()")
                cursor.execute(f"CREATE TRIGGER rollup_{name}_update AFTER UPDATE OF {', '.join(fields)} ON {table} "
                               f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION covey_rollup_{name}_changed()")
        else:
            for name, table, log, fields in (("opportunity", "crm_opportunity", opp_log, OPP_FIELDS),
                                             ("link", "crm_opportunitypartner", link_log, LINK_FIELDS)):
                changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in fields)
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS rollup_{name}_insert AFTER INSERT ON {table} "
                               f"BEGIN {log.format(r='NEW')} END")
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS rollup_{name}_delete AFTER DELETE ON {table} "
                               f"BEGIN {log.format(r='OLD')} END")
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS rollup_{name}_update AFTER UPDATE OF {', '.join(fields)} "
                               f"ON {table} WHEN {changed} BEGIN {log.format(r='OLD')} {log.format(r='NEW')} END")


def remove_triggers(conn) -> None:
    with conn.cursor() as cursor:
        for name, table in (("opportunity", "crm_opportunity"), ("link", "crm_opportunitypartner")):
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS rollup_{name}_write ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS rollup_{name}_update ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS covey_rollup_{name}_changed()")
            else:
                for event in ("insert", "delete", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS rollup_{name}_{event}")


# --- reading: rows shaped like the direct computation's, for ``metrics.build_cube`` -------------------


class Reader:
    """The Cube's deal aggregates from the rollups; every method returns what ``metrics.DirectReader``'s
    does (month keys instead of quarter keys; ``metrics`` folds both the same way)."""

    def __init__(self, f: M.Filters) -> None:
        self.f = f

    def _partners(self, column: str) -> tuple[str, list]:
        if not self.f.narrows_partners:
            return "", []
        sub, params = M._partner_subquery(self.f)
        return f" AND {column} IN ({sub})", params

    @staticmethod
    def _span(quarters) -> list[int]:
        return [month_of(quarters[0].start), month_of(quarters[-1].end)]

    def deals(self, basis: str, quarters) -> list[tuple]:
        """(motion, currency, month, stage, deals, amount, cycle days) for deals by ``basis`` month."""
        span = self._span(quarters)
        rows = M._rows(f"SELECT motion, currency, month, stage, SUM(deals), SUM(amount_minor), SUM(cycle_days) "
                       f"FROM {DEALS} WHERE basis = %s AND month BETWEEN %s AND %s GROUP BY 1, 2, 3, 4", [basis] + span)
        if not self.f.narrows_partners:
            return rows
        out = [r for r in rows if r[0] == "direct"]
        other: dict[tuple, list[int]] = {}
        for motion, currency, month, stage, n, amount, cycle in rows:
            if motion != "direct":
                acc = other.setdefault((currency, month, stage), [0, 0, 0])
                acc[0], acc[1], acc[2] = acc[0] + n, acc[1] + amount, acc[2] + cycle
        pwhere, pparams = self._partners("partner_id")
        single = M._rows(
            f"SELECT CASE WHEN sourcing THEN 'sourced' ELSE 'influenced' END, currency, month, stage, SUM(deals), "
            f"SUM(amount_minor), SUM(cycle_days) FROM {PARTNERS} WHERE basis = %s AND NOT shared AND month BETWEEN %s AND %s"
            f"{pwhere} GROUP BY 1, 2, 3, 4", [basis] + span + pparams)
        column = "created_month" if basis == "created" else "close_month"
        cycle = "0" if basis == "created" else "COALESCE(cycle_days, 0)"
        closed = "" if basis == "created" else f" AND stage IN ('{M.WON}', '{M.LOST}')"
        shared = M._rows(
            f"SELECT CASE WHEN t.src = 1 THEN 'sourced' ELSE 'influenced' END, t.currency, t.month, t.stage, COUNT(*), "
            f"SUM(t.amount), SUM(t.cycle) FROM (SELECT opportunity_id, MAX(CASE WHEN sourcing THEN 1 ELSE 0 END) AS src, "
            f"MAX(currency) AS currency, MAX({column}) AS month, MAX(stage) AS stage, MAX(amount_minor) AS amount, "
            f"MAX({cycle}) AS cycle FROM {LINKS} WHERE shared AND {column} BETWEEN %s AND %s{closed}{pwhere} "
            "GROUP BY opportunity_id) t "
            "GROUP BY 1, 2, 3, 4", span + pparams)
        for motion, currency, month, stage, n, amount, cyc in single + shared:
            out.append((motion, currency, month, stage, n, amount, cyc))
            acc = other.setdefault((currency, month, stage), [0, 0, 0])
            acc[0], acc[1], acc[2] = acc[0] - n, acc[1] - amount, acc[2] - cyc
        out += [("other", c, m, s, n, a, y) for (c, m, s), (n, a, y) in other.items() if n]
        return out

    def created(self, quarters) -> list[tuple]:
        return [r[:6] for r in self.deals("created", quarters)]

    def closed(self, quarters) -> list[tuple]:
        return self.deals("closed", quarters)

    def partner_revenue(self, quarters) -> list[tuple]:
        """(partner id, currency, month, sourcing 0/1, won amount) in the period."""
        pwhere, pparams = self._partners("partner_id")
        return M._rows(f"SELECT partner_id, currency, month, CASE WHEN sourcing THEN 1 ELSE 0 END, SUM(amount_minor) "
                       f"FROM {PARTNERS} WHERE basis = 'closed' AND stage = %s AND month BETWEEN %s AND %s{pwhere} "
                       "GROUP BY 1, 2, 3, 4", [M.WON] + self._span(quarters) + pparams)

    def deal_partners(self, quarters, *, won_only: bool) -> set[int]:
        """Partners on a deal created or won in the period (``won_only``: won)."""
        pwhere, pparams = self._partners("partner_id")
        span = self._span(quarters)
        # A UNION of two index-only scans (the covering index), not one OR (a bitmap heap scan).
        sql = f"SELECT partner_id FROM {PARTNERS} WHERE basis = 'closed' AND stage = %s AND month BETWEEN %s AND %s{pwhere}"
        params = [M.WON] + span + pparams
        if not won_only:
            sql += f" UNION SELECT partner_id FROM {PARTNERS} WHERE basis = 'created' AND month BETWEEN %s AND %s{pwhere}"
            params += span + pparams
        return {r[0] for r in M._rows(sql, params)}


def partner_rows(partner_id: int, quarters) -> list[tuple]:
    """(basis, month, sourcing 0/1, stage, currency, deals, amount) of one partner's links: the scorecard."""
    span = Reader._span(quarters)
    return M._rows(f"SELECT basis, month, CASE WHEN sourcing THEN 1 ELSE 0 END, stage, currency, SUM(deals), "
                   f"SUM(amount_minor) FROM {PARTNERS} WHERE partner_id = %s AND month BETWEEN %s AND %s "
                   "GROUP BY 1, 2, 3, 4, 5", [partner_id] + span)


def top_deal_ids(partner_id: int, quarter, limit: int) -> list[int]:
    """The partner's largest deals not lost that close in ``quarter`` (whole months), largest first."""
    rows = M._rows(f"SELECT opportunity_id FROM {LINKS} WHERE partner_id = %s AND close_month BETWEEN %s AND %s "
                   f"AND stage <> %s ORDER BY amount_minor DESC, opportunity_id LIMIT %s",
                   [partner_id, month_of(quarter.start), month_of(quarter.end), M.LOST, limit])
    return [r[0] for r in rows]
