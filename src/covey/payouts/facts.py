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

Each query is one statement (``core.bulk.read_frame``: COPY on PostgreSQL), never a loop over deals.
"""

from __future__ import annotations

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


def _ids(values) -> str:
    """A literal id list for SQL (ints only, so nothing can be injected)."""
    return ",".join(str(int(v)) for v in values) or "NULL"


def tiers_on(program_id: int, day: date) -> dict[int, str]:
    return dict(Enrolment.objects.filter(program_id=program_id).on(day).values_list("partner_id", "tier_code"))


def fx_table(period_key: str) -> dict[str, Decimal]:
    base = VendorSettings.current().base_currency
    rates = dict(FxRate.objects.filter(period_key=period_key).values_list("currency", "per_base"))
    rates[base] = Decimal(1)
    return rates


def load(version: E.VersionSpec, quarter: E.Quarter, partner_ids: list[int]) -> E.Facts:
    q = connection.ops.quote_name
    opp, link, line, product = (Opportunity._meta.db_table, OpportunityPartner._meta.db_table,
                                OpportunityLine._meta.db_table, Product._meta.db_table)
    event, registration, activity = DealEvent._meta.db_table, Registration._meta.db_table, Activity._meta.db_table
    account = Opportunity._meta.get_field("account").related_model._meta.db_table
    tiers = tiers_on(version.program_id, quarter.end)
    partners = _ids(partner_ids)
    start = earliest_close(version, quarter)
    # The deals in play: won, one of these partners on it, closed in the window or with an event in
    # the quarter (a refund of an older deal, a milestone).
    in_play = (
        f"SELECT o.id FROM {q(opp)} o WHERE o.stage = %s AND o.close_date <= %s AND "
        f"EXISTS (SELECT 1 FROM {q(link)} l WHERE l.opportunity_id = o.id AND l.partner_id IN ({partners})) AND "
        f"(o.close_date >= %s OR EXISTS (SELECT 1 FROM {q(event)} e WHERE e.opportunity_id = o.id "
        f"AND e.occurred_on BETWEEN %s AND %s))"
    )
    in_play_params = [Stage.CLOSED_WON.value, quarter.end, start, quarter.start, quarter.end]
    products = (f"(SELECT {_string_agg('p.code')} FROM {q(line)} li JOIN {q(product)} p ON p.id = li.product_id "
                f"WHERE li.opportunity_id = o.id)")
    deals = read_frame(
        f"SELECT o.id, o.public_id, a.name, o.amount_minor, o.currency, o.close_date, o.type, {products} "
        f"FROM {q(opp)} o JOIN {q(account)} a ON a.id = o.account_id WHERE o.id IN ({in_play})",
        in_play_params, E.DEALS_SCHEMA,
    )
    approved = ", ".join("%s" for _ in APPROVED)
    links = read_frame(
        f"SELECT l.opportunity_id, l.id, l.partner_id, l.role, CASE WHEN l.is_primary THEN 1 ELSE 0 END, "
        f"(SELECT r.submitted_by_id FROM {q(registration)} r WHERE r.opportunity_id = l.opportunity_id "
        f" AND r.partner_id = l.partner_id AND r.status IN ({approved}) ORDER BY r.decided_at LIMIT 1), "
        f"(SELECT {_as_date('r.decided_at')} FROM {q(registration)} r WHERE r.opportunity_id = l.opportunity_id "
        f" AND r.partner_id = l.partner_id AND r.status IN ({approved}) ORDER BY r.decided_at LIMIT 1), "
        f"CASE WHEN EXISTS (SELECT 1 FROM {q(activity)} act WHERE act.opportunity_id = l.opportunity_id "
        f" AND act.partner_id = l.partner_id AND act.kind = 'demo' AND act.is_joint) THEN 1 ELSE 0 END "
        f"FROM {q(link)} l WHERE l.partner_id IN ({partners}) AND l.opportunity_id IN ({in_play})",
        [*APPROVED, *APPROVED, *in_play_params], E.LINKS_SCHEMA,
    )
    # Links of partners outside this version (another program version, or not enrolled) still share
    # the deal's credit, so the deal's other links come along; they earn nothing here.
    others = read_frame(
        f"SELECT l.opportunity_id, l.id, l.partner_id, l.role, CASE WHEN l.is_primary THEN 1 ELSE 0 END, "
        f"NULL, NULL, 0 FROM {q(link)} l WHERE l.partner_id NOT IN ({partners}) AND l.opportunity_id IN ({in_play})",
        in_play_params, E.LINKS_SCHEMA,
    )
    events = read_frame(
        f"SELECT e.id, e.opportunity_id, e.kind, e.occurred_on, e.amount_minor FROM {q(event)} e "
        f"WHERE e.occurred_on <= %s AND e.opportunity_id IN ({in_play})",
        [quarter.end, *in_play_params], E.EVENTS_SCHEMA,
    )
    earned = E.empty(E.EARNED_SCHEMA)
    if any(r.kind == "clawback" for r in version.rules):
        ledger = LedgerEntry._meta.db_table
        sources = ", ".join("%s" for _ in E.CLAWED_SOURCES)
        earned = read_frame(
            f"SELECT le.partner_id, le.opportunity_id, le.currency, SUM(le.amount_minor) FROM {q(ledger)} le "
            f"WHERE le.program_id = %s AND le.period_key < %s AND le.partner_id IN ({partners}) "
            f"AND le.source IN ({sources}) AND le.opportunity_id IN (SELECT e.opportunity_id FROM {q(event)} e WHERE e.occurred_on BETWEEN %s AND %s "
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
