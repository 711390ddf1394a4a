"""What the payout engine reads, loaded with a handful of set-based queries into Polars frames.

For one program, quarter and set of partners (those a program version governs):
- the partners' tiers (their enrolment on the quarter's last day);
- the won deals they are on that the version's rules can touch: closed in the quarter, in the fiscal
  year so far (annual rebates), in the months recurring commissions still run, and deals whose
  events (refunds, churn, milestones) fall in the quarter;
- the partner links of those deals, with each link's evidence: an approved registration converted
  into the deal (its approval date and the partner rep who submitted it) and a logged joint demo;
- the deals' events up to the quarter's end;
- for clawbacks, what each partner earned on those deals in earlier quarters, net of reversals;
- the quarter's FX table (the base currency counts as 1).

Each query is one statement (``core.bulk.read_frame``: COPY on PostgreSQL) joining two temporary
tables — the partners in scope and the deals in play — never a loop over deals.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from django.db import connection

from covey.core.bulk import read_frame
from covey.core.models import VendorSettings
from covey.crm.models import (
    Activity,
    DealEvent,
    Opportunity,
    OpportunityLine,
    OpportunityPartner,
    Product,
    Stage,
)
from covey.payouts import engine as E
from covey.payouts.models import FxRate, LedgerEntry
from covey.programs.models import Enrolment
from covey.registrations.models import Registration, Status

APPROVED = (Status.APPROVED, Status.CONVERTED, Status.WON)


def _month_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def earliest_close(version: E.VersionSpec, quarter: E.Quarter) -> date:
    """The first close date any rule of the version can still pay on in this quarter."""
    start = quarter.start
    for rule in version.rules:
        params = rule.params
        if rule.kind == "annual_rebate" and quarter.last_of_year:
            start = min(start, quarter.year_start)
        if rule.kind == "referral_commission" and params.mode == "recurring":
            start = min(start, _month_before(quarter.start, params.months + 1))
    return start


def tiers_on(program_id: int, day: date) -> dict[int, str]:
    return dict(Enrolment.objects.filter(program_id=program_id).on(day).values_list("partner_id", "tier_code"))


def fx_table(period_key: str) -> dict[str, Decimal]:
    base = VendorSettings.current().base_currency
    rates = dict(FxRate.objects.filter(period_key=period_key).values_list("currency", "per_base"))
    rates[base] = Decimal(1)
    return rates


SCOPE, PLAY = "covey_payout_scope", "covey_payout_play"


@contextlib.contextmanager
def _working_set(partner_ids: list[int], in_play_sql: str, params: list):
    """Temporary tables for one load: the partners in scope and the deals in play. Every query joins
    them instead of repeating an IN list or a subquery, and the planner sees their real sizes."""
    with connection.cursor() as cursor:
        for table in (SCOPE, PLAY):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {SCOPE} (partner_id bigint PRIMARY KEY)")
        if connection.vendor == "postgresql":
            cursor.execute(f"INSERT INTO {SCOPE} SELECT DISTINCT unnest(%s::bigint[])", [list(partner_ids)])
        else:
            cursor.executemany(f"INSERT OR IGNORE INTO {SCOPE} VALUES (%s)", [(int(p),) for p in partner_ids])
        cursor.execute(f"CREATE TEMPORARY TABLE {PLAY} AS {in_play_sql}", params)
        cursor.execute(f"ANALYZE {SCOPE}")
        cursor.execute(f"ANALYZE {PLAY}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in (SCOPE, PLAY):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")


def load(version: E.VersionSpec, quarter: E.Quarter, partner_ids: list[int]) -> E.Facts:
    q = connection.ops.quote_name
    opp, link, line, product = (q(Opportunity._meta.db_table), q(OpportunityPartner._meta.db_table),
                                q(OpportunityLine._meta.db_table), q(Product._meta.db_table))
    event, registration, activity = (q(DealEvent._meta.db_table), q(Registration._meta.db_table),
                                     q(Activity._meta.db_table))
    account = q(Opportunity._meta.get_field("account").related_model._meta.db_table)
    tiers = tiers_on(version.program_id, quarter.end)
    start = earliest_close(version, quarter)
    # The deals in play: won, one of these partners on it, closed in the window or with an event in
    # the quarter (a refund of an older deal, a milestone).
    in_play = (
        f"SELECT DISTINCT o.id FROM {opp} o JOIN {link} l ON l.opportunity_id = o.id "
        f"JOIN {SCOPE} s ON s.partner_id = l.partner_id WHERE o.stage = %s AND o.close_date <= %s AND "
        f"(o.close_date >= %s OR EXISTS (SELECT 1 FROM {event} e WHERE e.opportunity_id = o.id "
        f"AND e.occurred_on BETWEEN %s AND %s))"
    )
    with _working_set(partner_ids, in_play, [Stage.CLOSED_WON.value, quarter.end, start, quarter.start, quarter.end]):
        deals = read_frame(
            f"SELECT o.id, o.public_id, a.name, o.amount_minor, o.currency, o.close_date, o.type, pc.codes "
            f"FROM {PLAY} p JOIN {opp} o ON o.id = p.id JOIN {account} a ON a.id = o.account_id "
            f"LEFT JOIN (SELECT li.opportunity_id, {_string_agg('pr.code')} AS codes FROM {line} li "
            f"JOIN {PLAY} p2 ON p2.id = li.opportunity_id JOIN {product} pr ON pr.id = li.product_id "
            f"GROUP BY li.opportunity_id) pc ON pc.opportunity_id = o.id",
            [], E.DEALS_SCHEMA,
        )
        approved = ", ".join("%s" for _ in APPROVED)
        # A link's evidence: the partner's approved registration converted into this deal (when it was
        # approved, and the partner rep who submitted it) and a joint demo logged on the deal.
        links = read_frame(
            f"SELECT l.opportunity_id, l.id, l.partner_id, l.role, CASE WHEN l.is_primary THEN 1 ELSE 0 END, "
            f"r.rep_id, {_as_date('r.approved_at')}, CASE WHEN d.opportunity_id IS NULL THEN 0 ELSE 1 END "
            f"FROM {PLAY} p JOIN {link} l ON l.opportunity_id = p.id JOIN {SCOPE} s ON s.partner_id = l.partner_id "
            f"LEFT JOIN (SELECT r.opportunity_id, r.partner_id, MIN(r.submitted_by_id) AS rep_id, "
            f"MIN(r.decided_at) AS approved_at FROM {registration} r JOIN {PLAY} p2 ON p2.id = r.opportunity_id "
            f"WHERE r.status IN ({approved}) GROUP BY r.opportunity_id, r.partner_id) r "
            f"ON r.opportunity_id = l.opportunity_id AND r.partner_id = l.partner_id "
            f"LEFT JOIN (SELECT DISTINCT act.opportunity_id, act.partner_id FROM {activity} act "
            f"JOIN {PLAY} p3 ON p3.id = act.opportunity_id WHERE act.kind = 'demo' AND act.is_joint) d "
            f"ON d.opportunity_id = l.opportunity_id AND d.partner_id = l.partner_id",
            list(APPROVED), E.LINKS_SCHEMA,
        )
        # Links of partners outside this version (another program version, or not enrolled) still share
        # the deal's credit, so the deal's other links come along; they earn nothing here.
        others = read_frame(
            f"SELECT l.opportunity_id, l.id, l.partner_id, l.role, CASE WHEN l.is_primary THEN 1 ELSE 0 END, "
            f"NULL, NULL, 0 FROM {PLAY} p JOIN {link} l ON l.opportunity_id = p.id "
            f"WHERE NOT EXISTS (SELECT 1 FROM {SCOPE} s WHERE s.partner_id = l.partner_id)",
            [], E.LINKS_SCHEMA,
        )
        events = read_frame(
            f"SELECT e.id, e.opportunity_id, e.kind, e.occurred_on, e.amount_minor FROM {PLAY} p "
            f"JOIN {event} e ON e.opportunity_id = p.id WHERE e.occurred_on <= %s",
            [quarter.end], E.EVENTS_SCHEMA,
        )
        earned = E.empty(E.EARNED_SCHEMA)
        if any(r.kind == "clawback" for r in version.rules):
            ledger = q(LedgerEntry._meta.db_table)
            sources = ", ".join("%s" for _ in E.CLAWED_SOURCES)
            earned = read_frame(
                f"SELECT le.partner_id, le.opportunity_id, le.currency, SUM(le.amount_minor) FROM {ledger} le "
                f"JOIN {SCOPE} s ON s.partner_id = le.partner_id "
                f"WHERE le.program_id = %s AND le.period_key < %s AND le.source IN ({sources}) AND le.opportunity_id IN "
                f"(SELECT e.opportunity_id FROM {event} e WHERE e.occurred_on BETWEEN %s AND %s "
                f"AND e.kind IN ('churned', 'refunded')) GROUP BY le.partner_id, le.opportunity_id, le.currency",
                [version.program_id, quarter.key, *E.CLAWED_SOURCES, quarter.start, quarter.end], E.EARNED_SCHEMA,
            )
    tier_frame = pl.DataFrame({"partner_id": list(tiers), "tier": list(tiers.values())}, schema=E.TIERS_SCHEMA)
    return E.Facts(deals=deals, links=pl.concat([links, others]), tiers=tier_frame, events=events,
                   earned=earned, fx=fx_table(quarter.key))


def _string_agg(expression: str) -> str:
    if connection.vendor == "postgresql":
        return f"string_agg({expression}, '|' ORDER BY {expression})"
    return f"group_concat({expression}, '|')"


def _as_date(expression: str) -> str:
    return f"({expression})::date" if connection.vendor == "postgresql" else f"date({expression})"


def quarter_of(period_key: str) -> E.Quarter:
    """The fiscal quarter named ``2026Q3`` in the vendor's fiscal calendar."""
    calendar = VendorSettings.current().calendar
    fiscal_year, quarter = int(period_key[:4]), int(period_key[5:])
    period = calendar.quarter(fiscal_year, quarter)
    year = calendar.year(fiscal_year)
    return E.Quarter(key=period.key, start=period.start, end=period.end, year_key=year.label,
                     year_start=year.start, last_of_year=quarter == 4)


def next_quarter_start(day: date) -> date:
    calendar = VendorSettings.current().calendar
    return calendar.quarter_of(day).end + timedelta(days=1)
