"""The benchmark's own PostgreSQL database: find it, create it, migrate it, wipe it, fill it.

The bench wipes every Covey table of the database it is pointed at, so it refuses a database that
holds anything but its own data (``BENCH_VENDOR`` marks a bench database).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/covey_bench"
BENCH_VENDOR = "Covey Bench Vendor"
PASSWORDLESS = "!bench"  # an unusable password hash: bench users only ever use API tokens
# Tables the wipe keeps: filled by migrations, not by data.
KEEP_TABLES = {"django_content_type", "auth_permission", "django_migrations"}


class BenchError(Exception):
    """Something the operator must fix before the bench can run; the message says what."""


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in {"postgres", "postgresql", "pgsql", "postgis"}


def resolve_url(explicit: str | None) -> str:
    """``--database-url``, else ``DATABASE_URL`` when it is PostgreSQL, else the default."""
    if explicit:
        if not is_postgres_url(explicit):
            raise BenchError(f"--database-url must be a postgresql:// URL; got {explicit.split(':', 1)[0]}:…")
        return explicit
    env = os.environ.get("DATABASE_URL", "")
    return env if is_postgres_url(env) else DEFAULT_URL


def conninfo(url: str) -> str:
    """A libpq URL (dj-database-url also accepts schemes libpq does not)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise BenchError(f"The database URL names no database: {redact(url)}")
    return name


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def ensure_database(url: str) -> bool:
    """Create the database when it is missing (True when created). BenchError when no server answers."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    maintenance = urlunsplit(urlsplit(conninfo(url))._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(
            f"No PostgreSQL server answers at {redact(maintenance)} ({first_line}). The bench needs "
            "PostgreSQL: start it, or pass --database-url postgresql://user@host:port/dbname."
        ) from None


# --- Django side (the bench process is configured for the bench database) ---------------------


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def wipe() -> None:
    """Empty every Covey table, after checking the database is the bench's own (or empty)."""
    from django.db import connection

    from covey.core.models import VendorSettings
    from covey.partners.models import Partner

    vendor = VendorSettings.objects.filter(pk=1).values_list("company_name", flat=True).first()
    if vendor not in (None, BENCH_VENDOR) or (vendor is None and Partner.objects.exists()):
        raise BenchError(
            f"The database {connection.settings_dict['NAME']!r} holds data that is not the bench's "
            f"(vendor {vendor!r}). The bench empties its database before each run; point it at its own "
            "database with --database-url."
        )
    tables = sorted(set(connection.introspection.django_table_names(only_existing=True)) - KEEP_TABLES)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " RESTART IDENTITY CASCADE"
            )
        return
    from covey.payouts.ledger import maintenance  # the ledger refuses deletes otherwise

    with maintenance("bench wipe"), connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = OFF")
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
        cursor.execute("DELETE FROM sqlite_sequence")
        cursor.execute("PRAGMA foreign_keys = ON")


@dataclass
class Loaded:
    """What the traffic needs from the generated data."""

    tokens: list[str]  # one API token per client, in client order
    partner_ids: list[int]  # the partner each client acts for
    user_ids: list[int]
    product_public_ids: list[str]
    product_ids: list[int]
    account_domains: int


def load(plan, *, today: date) -> Loaded:
    """Write the plan's partners, reps (with tokens), products, accounts and vendor opportunities."""
    from django.db import transaction

    from covey.bench.plan import PRODUCTS
    from covey.core.models import ApiToken, StaffRole, User, VendorSettings
    from covey.crm.models import Account, Opportunity, Product, Stage
    from covey.partners.models import Membership, Partner, PartnerRole

    with transaction.atomic():
        VendorSettings.objects.update_or_create(pk=1, defaults={"company_name": BENCH_VENDOR, "domain": "bench-vendor.example"})
        managers = User.objects.bulk_create([
            User(email=f"pm{i}@bench-vendor.example", full_name=f"Bench Manager {i}", staff_role=StaffRole.PARTNER_MANAGER,
                 password=PASSWORDLESS)
            for i in range(4)
        ])
        seller = User.objects.create(email="sales@bench-vendor.example", full_name="Bench Seller",
                                     staff_role=StaffRole.SALES_REP, password=PASSWORDLESS)
        partners = Partner.objects.bulk_create([
            Partner(name=f"Bench Partner {i:03d}", domain=f"benchpartner{i}.example", lifecycle="active",
                    owner=managers[i % len(managers)])
            for i in range(plan.partners)
        ])
        reps = User.objects.bulk_create([
            User(email=f"rep@benchpartner{i}.example", full_name=f"Bench Rep {i}", password=PASSWORDLESS)
            for i in range(plan.clients)
        ])
        Membership.objects.bulk_create([
            Membership(user=rep, partner=partners[i], role=PartnerRole.REP) for i, rep in enumerate(reps)
        ])
        tokens = [ApiToken.issue(user=rep, name="covey bench")[1] for rep in reps]
        products = Product.objects.bulk_create([
            Product(code=code, name=name, unit_price_minor=price, currency="USD") for code, name, price in PRODUCTS
        ])
        accounts = Account.objects.bulk_create([
            Account(name=spec.name, domain=spec.domain, website=f"https://www.{spec.domain}/", status=spec.status,
                    owner=seller)
            for spec in plan.accounts
        ])
        opportunities = []
        for spec, account in zip(plan.accounts, accounts, strict=True):
            if spec.open_opportunity:
                opportunities.append(Opportunity(
                    name=f"{spec.name} platform", account=account, owner=seller, stage=Stage.NEEDS_ANALYSIS,
                    amount_minor=4_800_000, currency="USD", close_date=today + timedelta(days=60),
                ))
            if spec.closed_opportunity:
                opportunities.append(Opportunity(
                    name=f"{spec.name} pilot", account=account, owner=seller, stage=Stage.CLOSED_LOST,
                    amount_minor=900_000, currency="USD", close_date=today - timedelta(days=200),
                    lost_reason="No budget",
                ))
        Opportunity.objects.bulk_create(opportunities)
        _program_defaults()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as after any large load
    return Loaded(
        tokens=tokens, partner_ids=[p.pk for p in partners[: plan.clients]], user_ids=[r.pk for r in reps],
        product_public_ids=[p.public_id for p in products], product_ids=[p.pk for p in products],
        account_domains=len(accounts),
    )


def _program_defaults() -> None:
    """The program row with its shipped defaults (the plan's expected outcomes assume them)."""
    from covey.registrations.models import RegistrationProgram

    RegistrationProgram.objects.get_or_create(pk=1)


def clear_registrations() -> None:
    """Remove every registration and what submitting wrote, so the peer starts from the same state."""
    from django.db import connection

    from covey.core.models import AuditEvent, Notification
    from covey.registrations.models import ConflictResolution, Registration

    tables = [Registration._meta.db_table, Registration.products.through._meta.db_table, ConflictResolution._meta.db_table,
              Notification._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE")
    AuditEvent.objects.filter(object_type__startswith="registrations.").delete()


def owners_per_domain(domains: list[str]) -> dict[str, tuple[int, int]]:
    """claim domain → (registrations holding the claim, registrations in all), read from the table."""
    from django.db.models import Count, Q

    from covey.registrations.models import Registration

    rows = (
        Registration.objects.filter(claim_domain__in=domains).order_by().values("claim_domain")
        .annotate(owners=Count("id", filter=Q(holds_claim=True)), total=Count("id"))
    )
    found = {row["claim_domain"]: (row["owners"], row["total"]) for row in rows}
    return {d: found.get(d, (0, 0)) for d in domains}


def registration_count() -> int:
    from covey.registrations.models import Registration

    return Registration.objects.count()
