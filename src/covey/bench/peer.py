"""The peer ceiling: the registration checks and insert straight through psycopg, no Django, no HTTP.

Per registration, in one transaction on the thread's own connection: read the program's minimums,
look for an existing customer or an open vendor opportunity on the domain, insert the registration
holding the claim with ``INSERT … ON CONFLICT (claim_domain) WHERE holds_claim DO NOTHING`` (the
same partial unique index Covey relies on) and, when another registration holds the claim, insert
it as a conflict pointing at the holder; then link its products. This is the least work any
implementation of the feature can do against the same schema, so it bounds what Covey can reach.

The statement texts are built once from the Django model's columns (so the peer follows schema
changes), before the clock starts; the timed part runs only psycopg.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from covey.bench import stats
from covey.core.ids import new_public_id
from covey.core.normalise import normalise_company, normalise_domain
from covey.core.periods import add_business_days

ALREADY_REGISTERED = "This account is already registered."


@dataclass(frozen=True)
class PeerSql:
    insert_claim: str
    insert_plain: str
    holder: str
    program: str
    account_facts: str
    link_product: str
    columns: list[str]  # attnames, in statement order
    base_row: dict  # defaults for every column the peer does not set


def build_sql() -> PeerSql:
    """Statement texts for the current schema (uses Django's model metadata; call before timing)."""
    from covey.crm.models import CLOSED_STAGES, Account, Opportunity
    from covey.registrations.models import Registration, RegistrationProgram

    table = Registration._meta.db_table
    fields = [f for f in Registration._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = ", ".join(["%s"] * len(fields))
    base_row = {f.attname: (None if f.null else f.get_default()) for f in fields}
    through = Registration.products.through._meta
    reg_fk = next(f.column for f in through.concrete_fields if f.related_model is Registration)
    product_fk = next(f.column for f in through.concrete_fields if f.related_model is not Registration and not f.primary_key)
    closed = ", ".join(f"'{stage}'" for stage in CLOSED_STAGES)
    account, opportunity = Account._meta.db_table, Opportunity._meta.db_table
    return PeerSql(
        insert_claim=f'INSERT INTO "{table}" ({columns}) VALUES ({values}) '
                     'ON CONFLICT ("claim_domain") WHERE "holds_claim" DO NOTHING RETURNING "id"',
        insert_plain=f'INSERT INTO "{table}" ({columns}) VALUES ({values}) RETURNING "id"',
        holder=f'SELECT "id" FROM "{table}" WHERE "claim_domain" = %s AND "holds_claim"',
        program=f'SELECT "minimums", "allow_expansion", "block_open_vendor_opportunity" '
                f'FROM "{RegistrationProgram._meta.db_table}" WHERE "id" = 1',
        account_facts=(
            f'SELECT COALESCE(bool_or(a."status" = \'customer\'), false), '
            f'COALESCE(bool_or(EXISTS (SELECT 1 FROM "{opportunity}" o WHERE o."account_id" = a."id" '
            f'AND o."stage" NOT IN ({closed}) AND NOT EXISTS (SELECT 1 FROM "{table}" r WHERE r."opportunity_id" = o."id"))'
            f'), false), min(a."id") FROM "{account}" a WHERE a."domain" = ANY(%s)'
        ),
        link_product=f'INSERT INTO "{through.db_table}" ("{reg_fk}", "{product_fk}") VALUES (%s, %s)',
        columns=[f.attname for f in fields],
        base_row=base_row,
    )


@dataclass(frozen=True, slots=True)
class PeerOutcome:
    seconds: float
    status: str
    error: str


def _minor(amount: str) -> int:
    return int(Decimal(amount) * 100)  # the plan's currencies all have two decimals


def register(conn, sql: PeerSql, body: dict, *, partner_id: int, user_id: int, product_ids: dict[str, int]) -> tuple[str, str]:
    """Submit one registration; (its status, its public id)."""
    domain = normalise_domain(body["domain"])
    amount_minor, currency = _minor(body["value"]["amount"]), body["value"]["currency"]
    now = datetime.now(UTC)
    with conn.transaction():
        with conn.cursor() as cur:
            minimums, allow_expansion, block_open = cur.execute(sql.program).fetchone()
            is_customer, open_opportunity, account_id = cur.execute(sql.account_facts, [[domain, f"www.{domain}"]]).fetchone()
            minimum = (minimums or {}).get(currency)
            reason = ""
            if minimum is not None and amount_minor < int(minimum):
                reason = "The estimated value is below the program minimum."
            elif is_customer and not allow_expansion:
                reason = "This company is already a customer."
            elif open_opportunity and block_open:
                reason = "Our sales team is already working an open opportunity with this company."
            row = dict(sql.base_row)
            row.update(
                public_id=new_public_id("reg"), partner_id=partner_id, submitted_by_id=user_id,
                company_name=body["company_name"], domain=body["domain"], claim_domain=domain,
                normalised_name=normalise_company(body["company_name"]), contact_name=body["contact_name"],
                contact_email=body["contact_email"], contact_phone=body["contact_phone"],
                amount_minor=amount_minor, currency=currency, no_minimum_configured=minimum is None,
                expected_close=date.fromisoformat(body["expected_close"]), description=body["description"],
                evidence=body["evidence"], deal_type=body["deal_type"], submitted_at=now, account_id=account_id,
            )
            if reason:
                row.update(status="rejected", reason=reason, holds_claim=False, decided_at=now)
                statement = sql.insert_plain
            else:
                row.update(status="submitted", holds_claim=True, review_due_at=add_business_days(now, 2))
                statement = sql.insert_claim
            found = cur.execute(statement, [row[c] for c in sql.columns]).fetchone()
            if found is None:  # another registration holds the claim
                holder = cur.execute(sql.holder, [domain]).fetchone()
                row.update(status="conflict", reason=ALREADY_REGISTERED, holds_claim=False,
                           conflict_with_id=holder[0] if holder else None, review_due_at=None)
                found = cur.execute(sql.insert_plain, [row[c] for c in sql.columns]).fetchone()
            cur.executemany(sql.link_product, [(found[0], product_ids[p]) for p in body["products"]])
            return row["status"], row["public_id"]


@dataclass
class PeerResult:
    outcomes: list[PeerOutcome]
    seconds: float
    cpu_seconds: float  # this process's CPU (the peer's Python side) while it ran
    database_cpu_seconds: float | None  # PostgreSQL's processes' CPU meanwhile (None: not on this machine)


def run_peer(conninfo: str, sql: PeerSql, queues: list[list[dict]], *, partner_ids: list[int], user_ids: list[int],
             product_ids: dict[str, int]) -> PeerResult:
    """One thread and one connection per client, all started together; returns per-request outcomes."""
    import psycopg

    connections = [psycopg.connect(conninfo) for _ in queues]
    for conn in connections:  # warm: first round trip and the prepared-statement cache start here
        conn.execute("SELECT 1")
        conn.commit()
    start = threading.Barrier(len(queues) + 1)
    results: list[list[PeerOutcome]] = [[] for _ in queues]

    def work(i: int) -> None:
        conn, out = connections[i], results[i]
        start.wait()
        for body in queues[i]:
            began = time.perf_counter()
            try:
                status = register(conn, sql, body, partner_id=partner_ids[i], user_id=user_ids[i], product_ids=product_ids)[0]
                out.append(PeerOutcome(time.perf_counter() - began, status, ""))
            except psycopg.Error as exc:
                out.append(PeerOutcome(time.perf_counter() - began, "", f"{type(exc).__name__}: {exc}"[:200]))

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(queues))]
    for thread in threads:
        thread.start()
    start.wait()
    began, cpu, database = time.perf_counter(), time.process_time(), stats.process_cpu_ticks("postgres")
    for thread in threads:
        thread.join()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    database_cpu = stats.cpu_seconds_between(database, stats.process_cpu_ticks("postgres"))
    for conn in connections:
        conn.close()
    return PeerResult(outcomes=[o for out in results for o in out], seconds=seconds, cpu_seconds=cpu,
                      database_cpu_seconds=database_cpu)


def warm() -> None:
    """Load the normaliser's public suffix list before the clock starts (the server's workers have
    loaded theirs while answering the warm-up requests)."""
    normalise_domain("example.com")
    normalise_company("Example Inc.")
