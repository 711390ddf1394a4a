"""Deterministic demo and benchmark data (``covey seed``, ``covey demo``).

Design:
- Same seed, same size, same ``today`` → the same rows, public ids included. Every table draws
  from its own ``random.Random`` seeded with ``"<seed>:<table>"``, so a change in how one table
  is generated does not reshuffle the others. Public ids come from ``core.ids.new_public_id``
  fed by a seeded stream (``_IdDraws``).
- Rows are plain tuples streamed into ``core.bulk.bulk_insert`` (COPY on PostgreSQL), never ORM
  objects, so a million opportunities fit in memory and time. Primary keys are given explicitly,
  starting above the largest existing id, so foreign keys are known without reading anything back.
- The whole run is one transaction: a failure leaves the database as it was.
- A marker audit event (``object_type="covey.seed"``) records the size, seed, ``today``, the demo
  log-ins and the id range written in every table. A second run with the marker present does
  nothing (idempotent); ``reset`` deletes exactly those id ranges (and, through the ORM, anything a
  person later attached to them) before generating again. No schema change is needed for this.
- The story behind the numbers: a handful of partners bring most deals (Pareto weights), partners
  mostly work deals in their own region, customer accounts renew and expand while prospects only
  have new business, closed deals lie in the past and open ones ahead, later stages sit closer to
  their close date, and partner-involved deals win a little more often.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import itertools
import math
import multiprocessing
import random
import re
import string
import sys
import time
import traceback
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from covey.core import ids
from covey.core.bulk import bulk_insert, indexes_deferred, next_id, prepare_rows
from covey.core.ids import new_public_id
from covey.core.models import AuditEvent, StaffRole, User, VendorSettings
from covey.core.periods import FiscalCalendar
from covey.core.vocab import Region, Segment
from covey.crm.models import (
    OPEN_STAGES,
    Account,
    AccountStatus,
    Activity,
    Opportunity,
    OpportunityLine,
    OpportunityPartner,
    PartnerInvolvement,
    Product,
    Stage,
)
from covey.demo import words
from covey.partners.models import (
    Lifecycle,
    Membership,
    Partner,
    PartnerRole,
    PartnerSegmentTag,
    PartnerType,
    PartnerTypeTag,
)

DEMO_PASSWORD = "covey-demo-2026"
MARKER_TYPE = "covey.seed"
DEFAULT_SEED = 42


@dataclass(frozen=True)
class SeedSpec:
    """How much to generate. ``SIZES`` holds the two the command offers; tests use smaller ones."""

    name: str
    partners: int
    accounts: int
    opportunities: int
    activities: int
    extra_managers: int = 0  # partner managers beyond the eight demo staff
    extra_reps: int = 0  # sales reps beyond the eight demo staff
    product_lines: bool = True
    audit_events: bool = True

    def __post_init__(self) -> None:
        # Below these, not every partner type, region and stage could appear.
        if self.partners < len(PartnerType) or self.accounts < len(Region) or self.opportunities < len(Stage):
            raise ValueError(
                f"a seed needs at least {len(PartnerType)} partners, {len(Region)} accounts and "
                f"{len(Stage)} opportunities"
            )


SIZES = {
    "small": SeedSpec("small", partners=40, accounts=400, opportunities=1_500, activities=2_500),
    # A tenth of large: benchmark figures on SQLite in minutes.
    "medium": SeedSpec("medium", partners=1_000, accounts=10_000, opportunities=100_000, activities=15_000,
                       extra_managers=4, extra_reps=10, product_lines=False, audit_events=False),
    "large": SeedSpec(
        "large", partners=10_000, accounts=100_000, opportunities=1_000_000, activities=150_000,
        extra_managers=22, extra_reps=60, product_lines=False, audit_events=False,
    ),
}


class SeedRefused(Exception):
    """The database is not in a state the generator may write to; the message says why."""


@dataclass
class Login:
    role: str
    email: str
    partner: str = ""


@dataclass
class SeedResult:
    status: str  # "seeded" or "skipped"
    size: str
    seed: int
    today: date
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0
    logins: list[Login] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "size": self.size, "seed": self.seed, "today": self.today.isoformat(), "status": self.status,
            "seconds": round(self.total_seconds, 2), "rows": self.rows,
            "table_seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "database": connection.vendor,
        }


class Reporter(Protocol):
    def start(self, table: str, total: int | None) -> None: ...
    def advance(self, table: str, rows: int) -> None: ...
    def finish(self, table: str, rows: int, seconds: float) -> None: ...


class _Quiet:
    def start(self, table: str, total: int | None) -> None:
        pass

    def advance(self, table: str, rows: int) -> None:
        pass

    def finish(self, table: str, rows: int, seconds: float) -> None:
        pass


# --- the marker --------------------------------------------------------------------------------


def existing_seed() -> AuditEvent | None:
    return AuditEvent.objects.filter(object_type=MARKER_TYPE).order_by("-id").first()


def describe(marker: AuditEvent) -> str:
    c = marker.changes
    return f"{c.get('size')} data set, seed {c.get('seed')}, today {c.get('today')}"


def marker_logins(marker: AuditEvent) -> list[Login]:
    return [Login(*row) for row in marker.changes.get("logins", [])]


# --- the public entry point --------------------------------------------------------------------


def seed_database(
    *,
    size: str | SeedSpec = "small",
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    reset: bool = False,
    reporter: Reporter | None = None,
    parallel: bool | None = None,
) -> SeedResult:
    """Generate a data set into the default database, or skip when one is already there.

    ``parallel`` generates the big tables in a second process (default: for large sets only).
    Raises ``SeedRefused`` when the database holds a different generated set (and ``reset`` is
    off) or data the generator did not make that it would mix with.
    """
    spec = SIZES[size] if isinstance(size, str) else size
    today = today or timezone.localdate()
    reporter = reporter or _Quiet()
    started = time.perf_counter()
    with _fast_sqlite(), transaction.atomic():
        _one_seeder_at_a_time()
        marker = existing_seed()
        if marker is not None and not reset:
            c = marker.changes
            if c.get("size") == spec.name and c.get("seed") == seed:
                return SeedResult("skipped", spec.name, seed, date.fromisoformat(c["today"]),
                                  rows=c.get("rows", {}), logins=marker_logins(marker))
            raise SeedRefused(
                f"This database already holds generated data ({describe(marker)}). "
                f"Add --reset to delete it and generate the {spec.name} set with seed {seed} instead."
            )
        if marker is None and (foreign := _foreign_data()):
            raise SeedRefused(
                f"This database already holds {foreign} that covey seed did not create. Generated data "
                "would mix with it; seed a fresh database instead (set COVEY_VAR_DIR or DATABASE_URL)."
            )
        world = _World(spec=spec, seed=seed, today=today, reporter=reporter, parallel=parallel)
        world.generate(replacing=marker)
        result = SeedResult("seeded", spec.name, seed, today, rows=world.rows, seconds=world.seconds,
                            logins=world.logins)
        AuditEvent.objects.create(
            actor=None, actor_label="system", action=AuditEvent.Action.IMPORT, object_type=MARKER_TYPE,
            object_id=f"{spec.name}-{seed}"[:24], object_repr=f"Generated {spec.name} data set (seed {seed})",
            source="seed",
            changes={
                "size": spec.name, "seed": seed, "today": today.isoformat(), "rows": world.rows,
                "ranges": world.ranges, "logins": [[x.role, x.email, x.partner] for x in world.logins],
            },
        )
        committing = time.perf_counter()
    # On PostgreSQL the deferred foreign-key checks of every row run here, at commit.
    result.seconds["commit"] = time.perf_counter() - committing
    # Fresh planner statistics: without them PostgreSQL picks index walks over a million rows for
    # a partner's twenty deals (seconds instead of milliseconds) until autovacuum catches up.
    analyzing = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result.seconds["analyze"] = time.perf_counter() - analyzing
    result.total_seconds = time.perf_counter() - started
    return result


def _one_seeder_at_a_time() -> None:
    """A second ``covey seed`` started meanwhile waits here, then finds the first one's marker.

    SQLite's write lock (transactions start IMMEDIATE) does this already; PostgreSQL needs a lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x636F766579])  # "covey"


class _fast_sqlite:
    """On SQLite, skip fsyncs and widen the page cache while seeding; restored afterwards.

    Both are connection settings that cost only durability against a power cut during the seed
    (which then simply has to be re-run); the data written is checked exactly as usual.
    """

    def __enter__(self):
        self.active = connection.vendor == "sqlite" and not connection.in_atomic_block
        if self.active:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous")
                self.synchronous = cursor.fetchone()[0]
                cursor.execute("PRAGMA cache_size")
                self.cache_size = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA cache_size=-1048576")  # 1 GiB, allocated only as pages are touched
        return self

    def __exit__(self, *exc):
        if self.active:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous={int(self.synchronous)}")
                cursor.execute(f"PRAGMA cache_size={int(self.cache_size)}")
        return False


def _foreign_data() -> str:
    found = [
        f"{n} {label}" for label, n in (
            ("partners", Partner.objects.count()), ("accounts", Account.objects.count()),
            ("opportunities", Opportunity.objects.count()), ("products", Product.objects.count()),
        ) if n
    ]
    return ", ".join(found)


# --- reset -------------------------------------------------------------------------------------

# Written in this order; deleted in the reverse one.
TABLE_ORDER: list[tuple[str, type[models.Model]]] = [
    ("products", Product), ("users", User), ("partners", Partner), ("partner types", PartnerTypeTag),
    ("partner segments", PartnerSegmentTag), ("memberships", Membership), ("accounts", Account),
    ("opportunities", Opportunity), ("opportunity lines", OpportunityLine),
    ("opportunity partners", OpportunityPartner), ("activities", Activity), ("audit events", AuditEvent),
]


def wipe(marker: AuditEvent) -> None:
    """Delete what the run behind ``marker`` generated, and the marker.

    Rows people attached later to generated ones (an activity on a demo deal, say) follow their
    relation's ``on_delete`` through the ORM; a protected one stops the reset with a message.
    """
    ranges = {label: tuple(r) for label, r in marker.changes.get("ranges", {}).items()}
    _delete_scenario_rows(ranges)
    with connection.cursor() as cursor:
        for _, model in reversed(TABLE_ORDER):
            span = ranges.get(model._meta.label)
            if not span:
                continue
            _release_references(model, span, ranges)
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            cursor.execute(f"DELETE FROM {table} WHERE {pk} BETWEEN %s AND %s", list(span))
    AuditEvent.objects.filter(object_type=MARKER_TYPE).delete()


def _delete_scenario_rows(ranges: dict) -> None:
    """The co-selling scenario (``covey.demo.scenario``) made registrations, the opportunities they
    converted into, and deal rooms on generated partners through the services; they go with those
    partners (they would protect them otherwise)."""
    from covey.cosell.models import Engagement
    from covey.demo.mdf_scenario import delete_mdf_scenario
    from covey.demo.payouts_scenario import remove_payouts
    from covey.registrations.models import Registration

    delete_mdf_scenario()  # first: its enrolments, statement lines and ledger rows name generated partners
    remove_payouts()  # then the payouts scenario's ledger entries and statements, which protect partners and accounts
    _delete_lifecycle_scenario()
    _delete_programs_scenario()
    _delete_mapping_scenario()
    span = ranges.get(Partner._meta.label)
    if span:
        converted = Registration.objects.filter(partner__id__gte=span[0], partner__id__lte=span[1], opportunity__isnull=False)
        Opportunity.objects.filter(pk__in=converted.values("opportunity_id")).delete()
        Registration.objects.filter(partner__id__gte=span[0], partner__id__lte=span[1]).delete()
        Engagement.objects.filter(partner__id__gte=span[0], partner__id__lte=span[1]).delete()


def _delete_lifecycle_scenario() -> None:
    """The lifecycle scenario (``covey.demo.lifecycle_scenario``) made applicants, evaluations,
    agreements, courses, library items and news, many of them naming generated users (through
    relations without a reverse accessor, which ``_release_references`` cannot see); they go too."""
    from covey.agreements.models import Agreement, AgreementTemplate
    from covey.enablement.models import Announcement, Completion, Course, Newsletter, Resource
    from covey.lifecycle.models import BusinessPlan, EvaluationRound

    Partner.objects.filter(application__isnull=False).delete()
    EvaluationRound.objects.all().delete()
    Agreement.objects.all().delete()
    AgreementTemplate.objects.all().delete()
    Completion.objects.all().delete()
    Course.objects.all().delete()
    for model in (Resource, Announcement, Newsletter, BusinessPlan):
        model.objects.all().delete()


def _delete_programs_scenario() -> None:
    """The programs scenario (``covey.demo.programs_scenario``) made a program whose enrolments name
    generated partners; it goes with its versions, tiers, rules and enrolments."""
    from covey.demo.programs_scenario import ProgramsInUse, remove_programs

    try:
        remove_programs()
    except ProgramsInUse as exc:
        raise SeedRefused(str(exc)) from None
def _delete_mapping_scenario() -> None:
    """The account mapping scenario (``covey.demo.mapping_scenario``): the lists with their rows,
    populations, sharing rules, runs and overlaps (the vendor's list too: it is read from the CRM
    being deleted), and introduction requests."""
    from covey.accountmaps.models import AccountList, IntroductionRequest

    IntroductionRequest.objects.all().delete()
    AccountList.objects.all().delete()


def _release_references(model: type[models.Model], span: tuple[int, int], ranges: dict) -> None:
    # include_hidden: relations declared with related_name="+" (an account's owner, an audit
    # event's actor) point here too, and would be left dangling by the raw delete below.
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        related = rel.related_model
        rows = related._base_manager.filter(**{f"{rel.field.name}__gte": span[0], f"{rel.field.name}__lte": span[1]})
        own = ranges.get(related._meta.label)
        if own:
            rows = rows.exclude(pk__range=tuple(own))
        on_delete = rel.on_delete
        if on_delete is models.DO_NOTHING:
            continue
        if on_delete is models.CASCADE:
            rows.delete()
        elif on_delete is models.SET_NULL:
            rows.update(**{rel.field.name: None})
        elif rows.exists():
            raise SeedRefused(
                f"Some {related._meta.verbose_name_plural} made after seeding refer to generated "
                f"{model._meta.verbose_name_plural}; delete them first, then reset."
            )


# --- helpers -----------------------------------------------------------------------------------


class _Draw(random.Random):
    """A seeded ``random.Random`` with the few cheap draws the hot loops need.

    ``randrange``/``choice`` cost ~0.4 µs each through their general paths; at a million rows
    times a dozen draws that is seconds, so these take one ``random()`` call instead (the tiny
    bias of ``int(random() * n)`` is irrelevant for generated data).
    """

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def between(self, lo: int, hi: int) -> int:
        """An int in [lo, hi)."""
        return lo + int(self.random() * (hi - lo))

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def minute(self) -> int:
        """A time of the working day, on a five-minute step (so timestamps repeat and cache)."""
        return 480 + 5 * int(self.random() * 120)


def _rng(seed: int, table: str) -> _Draw:
    return _Draw(f"{seed}:{table}")


class _IdDraws:
    """What ``new_public_id(prefix, rng)`` is given for a seeded stream of ids, 2.5x cheaper.

    ``new_public_id`` calls ``rng.choice(ALPHABET)`` once per character; ``Random.choice`` costs
    ~0.5 µs there, which is seconds over the ~1.8 million ids of the large set. Here ``choice`` is
    ``next`` on a stream of alphabet characters cut from seeded random bytes (a byte modulo 32 is
    uniform, as 256 is a multiple of 32), all in C. The argument ``new_public_id`` passes becomes
    ``next``'s unused default.
    """

    def __init__(self, rng: random.Random):
        if 256 % len(ids.ALPHABET):
            raise ValueError("the id alphabet must divide 256 for an unbiased byte mapping")
        table = bytes.maketrans(bytes(range(256)), (ids.ALPHABET * (256 // len(ids.ALPHABET))).encode())

        def chunks() -> Iterator[str]:
            while True:
                yield rng.randbytes(1 << 16).translate(table).decode()

        self.choice = functools.partial(next, itertools.chain.from_iterable(chunks()))


def _apportion(total: int, weights: list[int], *, at_least_one: bool) -> list[int]:
    """Split ``total`` by ``weights`` with the largest-remainder method (parts sum to total)."""
    base = [1 if at_least_one else 0] * len(weights)
    rest = total - sum(base)
    wsum = sum(weights)
    exact = [rest * w / wsum for w in weights]
    parts = [b + int(e) for b, e in zip(base, exact, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: int(exact[i]) - exact[i])
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


class _Weighted:
    """Fast repeated weighted choice: cumulative weights and bisect on one ``random()`` call."""

    def __init__(self, items: list, weights: list[float]):
        self.items = items
        self.cum = list(_accumulate(weights))
        self.total = self.cum[-1] if self.cum else 0.0

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _accumulate(values: Iterable[float]) -> Iterator[float]:
    running = 0.0
    for v in values:
        running += v
        yield running


def _stem(rng: random.Random) -> str:
    """An invented brand word such as "Bluepeak" or "Cedarforge" (never "Quillline")."""
    while True:
        head, tail = rng.pick(words.STEM_HEADS), rng.pick(words.STEM_TAILS)
        if head[-1].lower() != tail[0]:
            return head + tail


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    """Lower-case ASCII letters and digits only ("Köln Water Authority" → "kolnwaterauthority")."""
    return _NOT_SLUG.sub("", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def _counted(rows: Iterable[tuple], tick: Callable[[int], None], every: int = 5_000) -> Iterator[tuple]:
    n = 0
    for row in rows:
        yield row
        n += 1
        if n == every:
            tick(n)
            n = 0
    if n:
        tick(n)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_AT: dict[int, datetime] = {}  # cleared after each run
_DAY: dict[int, date] = {}


def _at(day_ordinal: int, minute_of_day: int) -> datetime:
    """An aware UTC datetime on a day (as an ordinal) at a minute of that day (memoised)."""
    key = day_ordinal * 1440 + minute_of_day
    value = _AT.get(key)
    if value is None:
        value = _AT[key] = EPOCH + timedelta(days=day_ordinal - _EPOCH_ORDINAL, minutes=minute_of_day)
    return value


def _day(day_ordinal: int) -> date:
    value = _DAY.get(day_ordinal)
    if value is None:
        value = _DAY[day_ordinal] = date.fromordinal(day_ordinal)
    return value


LIFECYCLE_SHARES = [
    (Lifecycle.ACTIVE, 58), (Lifecycle.ONBOARDING, 10), (Lifecycle.EVALUATING, 7), (Lifecycle.APPLIED, 6),
    (Lifecycle.PROSPECT, 6), (Lifecycle.INACTIVE, 9), (Lifecycle.TERMINATED, 4),
]
TYPE_SHARES = {
    "reseller": 25, "referral": 20, "system_integrator": 15, "msp": 10, "technology": 10,
    "distributor": 4, "co_marketing": 6, "affiliate": 6, "strategic_alliance": 4,
}
# Partner A (the demo's partner) is a reseller, partner B a referral partner; then every other type.
FIRST_TYPES = ["reseller", "referral", "system_integrator", "msp", "technology", "distributor",
               "co_marketing", "affiliate", "strategic_alliance"]
REGION_SHARES = {"na": 45, "emea": 30, "apac": 15, "latam": 10}
FIRST_REGIONS = ["na", "emea", "apac", "latam"]
SEGMENT_SHARES = {"smb": 45, "mid_market": 33, "enterprise": 15, "public_sector": 7}
ROLE_FOR_TYPE = {
    "referral": PartnerInvolvement.REFERRAL, "affiliate": PartnerInvolvement.REFERRAL,
    "reseller": PartnerInvolvement.RESELLER, "msp": PartnerInvolvement.RESELLER,
    "distributor": PartnerInvolvement.DISTRIBUTOR, "system_integrator": PartnerInvolvement.INTEGRATOR,
    "technology": PartnerInvolvement.TECHNOLOGY, "co_marketing": PartnerInvolvement.INFLUENCER,
    "strategic_alliance": PartnerInvolvement.INFLUENCER,
}
# Median first-year value (USD) by account segment, and how a deal type scales it.
MEDIAN_DOLLARS = {"smb": 9_000, "mid_market": 38_000, "enterprise": 140_000, "public_sector": 70_000}
TYPE_SCALE = {"new": 1.0, "expansion": 0.4, "renewal": 0.9}
CYCLE_DAYS = {"smb": (20, 60), "mid_market": (40, 120), "enterprise": (90, 240), "public_sector": (60, 200)}
STAGE_ORDER = list(Stage)
ACCOUNT_FIELDS = ["public_id", "name", "domain", "website", "industry", "region", "country", "city", "phone",
                  "segment", "employees", "status", "owner", "description", "created_at", "updated_at"]
OPPORTUNITY_FIELDS = ["public_id", "name", "account", "owner", "stage", "type", "amount_minor", "currency",
                      "close_date", "lost_reason", "lead_source", "description", "created_at", "updated_at"]
LINE_FIELDS = ["public_id", "opportunity", "product", "quantity", "unit_price_minor", "discount_minor"]
LINK_FIELDS = ["public_id", "opportunity", "partner", "role", "is_primary", "created_at"]
ACTIVITY_FIELDS = ["public_id", "kind", "subject", "notes", "occurred_at", "is_joint", "evidence_url",
                   "opportunity", "account", "partner", "created_by", "created_at"]
OPEN = list(OPEN_STAGES)


def _prepared(model: type[models.Model], fields: list[str], make: Callable[[], Iterable[tuple]]) -> Iterator[tuple]:
    return prepare_rows(model, ["id", *fields], make())


PARALLEL_FROM = 100_000  # opportunities; below this a second process is not worth starting


class _Producer:
    """Runs row generators in a forked child process and hands their rows to this one.

    Making a row costs about as much Python time as the database spends storing it. On a machine
    with two cores, generating in a child while this process inserts (and on PostgreSQL the server
    indexes) cuts the wall time of the large seed by about a third. The child inherits everything
    generated so far, touches no database connection, and sends batches through a pipe whose
    small buffer keeps the two in step (memory stays flat). It ends with ``os._exit`` (the
    multiprocessing default), so nothing of the parent's Django state is closed or flushed twice.
    """

    BATCH = 2_000

    def __init__(self, steps: list[tuple[str, Callable[[], Iterable[tuple]]]], *, finish: Callable[[], object]):
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=self._child, args=(send, steps, finish), daemon=True)
        self._process.start()
        send.close()  # the child holds the only writing end, so its exit ends our reads

    @staticmethod
    def _child(send, steps, finish) -> None:
        try:
            for label, make in steps:
                batch: list[tuple] = []
                for row in make():
                    batch.append(row)
                    if len(batch) >= _Producer.BATCH:
                        send.send((label, batch))
                        batch = []
                if batch:
                    send.send((label, batch))
                send.send((label, None))
            send.send(("done", finish()))
        except BaseException:  # report anything, including KeyboardInterrupt, to the parent
            send.send(("error", traceback.format_exc()))
        finally:
            send.close()

    def _next(self) -> tuple[str, object]:
        try:
            label, payload = self._recv.recv()
        except EOFError:
            raise RuntimeError("the row generator process ended unexpectedly") from None
        if label == "error":
            raise RuntimeError(f"generating rows failed in the child process:\n{payload}")
        return label, payload

    def rows(self, label: str) -> Iterator[tuple]:
        while True:
            got, batch = self._next()
            if got != label:
                raise RuntimeError(f"expected rows of {label}, got {got}")
            if batch is None:
                return
            yield from batch  # type: ignore[misc]

    def result(self) -> object:
        got, value = self._next()
        if got != "done":
            raise RuntimeError(f"expected the end of generation, got {got}")
        return value

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._recv.close()


@dataclass
class _Partner:
    name: str
    domain: str
    region: str
    country: str
    lifecycle: str
    types: list[str]
    created: int  # day ordinal
    weight: float
    owner_id: int | None = None
    writers: list[int] = field(default_factory=list)  # user ids of its admin and reps


class _World:
    """One generation run: holds what later tables need from earlier ones."""

    def __init__(self, *, spec: SeedSpec, seed: int, today: date, reporter: Reporter, parallel: bool | None = None):
        self.spec, self.seed, self.today, self.reporter = spec, seed, today, reporter
        if parallel is None:
            parallel = spec.opportunities >= PARALLEL_FROM
        # fork is safe and cheap on Linux; elsewhere (macOS, Windows) generate in one process.
        self.parallel = parallel and sys.platform.startswith("linux")
        self.today_ord = today.toordinal()
        self.calendar = FiscalCalendar(words.VENDOR["fiscal_year_start_month"])
        quarter = self.calendar.quarter_of(today)
        start = quarter
        for _ in range(6):
            start = self.calendar.previous(start)
        end = quarter
        for _ in range(2):
            end = self.calendar.next(end)
        self.window = (start.start.toordinal(), end.end.toordinal())
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.ranges: dict[str, list[int]] = {}
        self.logins: list[Login] = []
        self.audit: list[tuple] = []  # (at, actor_id, action, object_type, public_id, repr, changes)

    # -- plumbing --

    def _insert(self, label: str, model: type[models.Model], fields: list[str], rows: Iterable[tuple],
                total: int | None = None, *, numbered: bool = False, prepared: bool = False) -> int:
        """Insert rows; ``numbered`` rows already start with their id (``self.first[label] + i``)."""
        reporter = self.reporter
        reporter.start(label, total)
        t0 = time.perf_counter()
        # Ids were reserved up front (``self.first``) so other tables could refer to these rows
        # before they exist; an id taken meanwhile by someone else fails the insert loudly.
        first = self.first[label]
        count = bulk_insert(model, ["id", *fields], rows if numbered else self._numbered(first, rows),
                            batch_size=10_000, prepared=prepared)
        if count:
            self.ranges[model._meta.label] = [first, first + count - 1]
        took = time.perf_counter() - t0
        self.rows[label] = count
        self.seconds[label] = took
        reporter.finish(label, count, took)
        return count

    @staticmethod
    def _numbered(first: int, rows: Iterable[tuple]) -> Iterator[tuple]:
        return ((first + i, *row) for i, row in enumerate(rows))

    def _ids(self, table: str) -> _IdDraws:
        return _IdDraws(_rng(self.seed, f"{table} ids"))

    def _tick(self, label: str) -> Callable[[int], None]:
        return lambda n: self.reporter.advance(label, n)

    # -- the run --

    def generate(self, *, replacing: AuditEvent | None = None) -> None:
        """Write the data set; first delete the one ``replacing`` marks (a reset)."""
        spec = self.spec
        with self._indexes_built_after([Account, Opportunity, OpportunityLine, OpportunityPartner, Activity]):
            if replacing is not None:
                # Inside the window: deleting a million rows is also cheaper without their indexes.
                self.reporter.start("reset", None)
                t0 = time.perf_counter()
                wipe(replacing)
                self.seconds["reset"] = time.perf_counter() - t0
                self.reporter.finish("reset", 0, self.seconds["reset"])
            VendorSettings.objects.update_or_create(pk=1, defaults=words.VENDOR)
            self.first = {label: next_id(model) for label, model in TABLE_ORDER}
            self._plan_partners()
            self._products()
            self._users()
            self._partners()
            self._big_tables()
        if spec.audit_events:
            self._audit_events()
        _AT.clear()
        _DAY.clear()

    @contextlib.contextmanager
    def _indexes_built_after(self, tables: list[type[models.Model]]) -> Iterator[None]:
        """For the large set, build plain indexes (and PostgreSQL's foreign keys) once after
        the load instead of row by row; see ``core.bulk.indexes_deferred``."""
        if not self.parallel:
            yield
            return
        with indexes_deferred(tables) as statements:
            yield
            self.reporter.start("indexes and keys", len(statements))
            t0 = time.perf_counter()
        # leaving the block above ran the statements
        self.seconds["indexes and keys"] = time.perf_counter() - t0
        self.reporter.finish("indexes and keys", len(statements), self.seconds["indexes and keys"])

    def _big_tables(self) -> None:
        spec = self.spec
        # The big tables: each step makes its rows lazily, in this order (links and lines exist
        # once the opportunities have been generated).
        steps: list[tuple[str, type[models.Model], list[str], Callable[[], Iterable[tuple]], int | None]] = [
            ("accounts", Account, ACCOUNT_FIELDS, self._account_rows, spec.accounts),
            ("opportunities", Opportunity, OPPORTUNITY_FIELDS, self._opportunity_rows, spec.opportunities),
            ("opportunity lines", OpportunityLine, LINE_FIELDS, lambda: self.lines, None),
            ("opportunity partners", OpportunityPartner, LINK_FIELDS, lambda: self.links, None),
            ("activities", Activity, ACTIVITY_FIELDS, self._activity_rows, spec.activities),
        ]
        if not spec.product_lines:
            steps.pop(2)
        if self.parallel:
            producer = _Producer(
                # The child also turns values into the driver's form, so this process only inserts.
                [(label, functools.partial(_prepared, model, fields, make)) for label, model, fields, make, _ in steps],
                finish=lambda: self.audit,
            )
            try:
                for label, model, fields, _, total in steps:
                    self._insert(label, model, fields, _counted(producer.rows(label), self._tick(label)), total,
                                 numbered=True, prepared=True)
                self.audit = producer.result()
            finally:
                producer.close()
        else:
            for label, model, fields, make, total in steps:
                self._insert(label, model, fields, _counted(make(), self._tick(label)), total, numbered=True)
        self.links = self.lines = []

    # -- products --

    def _products(self) -> None:
        ids_prd = self._ids("products")
        rows = [
            (new_public_id("prd", ids_prd), name, code, family, price, "USD", recurring, True)
            for code, name, family, price, recurring in words.PRODUCTS
        ]
        self.product_ids = {code: self.first["products"] + i for i, (code, *_) in enumerate(words.PRODUCTS)}
        self.product_price = {code: price for code, _, _, price, _ in words.PRODUCTS}
        self._insert("products", Product, ["public_id", "name", "code", "family", "unit_price_minor",
                                           "currency", "recurring", "is_active"], rows, len(rows))

    # -- partners (planned first: users need their domains) --

    def _plan_partners(self) -> None:
        spec, rng = self.spec, _rng(self.seed, "partners")
        n = spec.partners
        lifecycles = [lc for lc, k in zip(
            [lc for lc, _ in LIFECYCLE_SHARES],
            _apportion(n, [w for _, w in LIFECYCLE_SHARES], at_least_one=n >= len(LIFECYCLE_SHARES)),
            strict=True,
        ) for _ in range(k)]
        rng.shuffle(lifecycles)
        for demo_slot in (0, 1):  # the demo's partners A and B are active
            if lifecycles[demo_slot] != Lifecycle.ACTIVE:
                swap = lifecycles.index(Lifecycle.ACTIVE, 2)
                lifecycles[demo_slot], lifecycles[swap] = lifecycles[swap], lifecycles[demo_slot]
        type_pick = _Weighted(list(TYPE_SHARES), list(TYPE_SHARES.values()))
        region_pick = _Weighted(list(REGION_SHARES), list(REGION_SHARES.values()))
        country_pick = {r: _Weighted([c for c, _ in cs], [w for _, w in cs]) for r, cs in words.COUNTRIES.items()}
        lifecycle_factor = {Lifecycle.ACTIVE: 1.0, Lifecycle.INACTIVE: 0.3, Lifecycle.TERMINATED: 0.2,
                            Lifecycle.ONBOARDING: 0.08}
        seen: set[str] = set()
        self.partners: list[_Partner] = []
        for i in range(n):
            primary = FIRST_TYPES[i] if i < len(FIRST_TYPES) else type_pick.pick(rng)
            types = [primary]
            extra = rng.random()
            companions = words.TYPE_COMPANIONS[primary]
            if i == 0:
                types.append("system_integrator")
            elif extra < 0.36:
                types.extend(rng.sample(companions, 2 if extra < 0.06 and len(companions) > 1 else 1))
            region = FIRST_REGIONS[i] if i < len(FIRST_REGIONS) else region_pick.pick(rng)
            while True:
                stem = _stem(rng)
                suffix = rng.pick(words.PARTNER_SUFFIXES[primary])
                name = f"{stem} {suffix}"
                if name not in seen:
                    seen.add(name)
                    break
            lifecycle = lifecycles[i]
            if lifecycle in (Lifecycle.ACTIVE, Lifecycle.INACTIVE, Lifecycle.TERMINATED):
                created = self.today_ord - rng.between(400, 2400)
            elif lifecycle == Lifecycle.ONBOARDING:
                created = self.today_ord - rng.between(20, 120)
            else:
                created = self.today_ord - rng.between(3, 90)
            # Pareto (alpha ≈ 1.16 is the "80/20" shape): a few partners bring most of the deals.
            weight = min(rng.paretovariate(1.16), 400.0) * lifecycle_factor.get(lifecycle, 0.0)
            self.partners.append(_Partner(
                name=name, domain=f"{_slug(stem)}-{_slug(suffix)}.example", region=region,
                country=country_pick[region].pick(rng), lifecycle=lifecycle, types=types, created=created,
                weight=weight,
            ))
        # The demo's partner A should be one of the busiest, B a solid middle one.
        ranked = sorted(p.weight for p in self.partners)
        self.partners[0].weight = max(self.partners[0].weight, ranked[int(len(ranked) * 0.95)])
        self.partners[1].weight = max(self.partners[1].weight, ranked[int(len(ranked) * 0.75)])
        self.partner_ids = [self.first["partners"] + i for i in range(n)]

    def _partner_pickers(self) -> None:
        """Weighted choosers per region, for current deals (active partners) and older ones."""
        current_ok = {Lifecycle.ACTIVE, Lifecycle.ONBOARDING}
        self.pick_current: dict[str | None, _Weighted] = {}
        self.pick_past: dict[str | None, _Weighted] = {}
        for region in [None, *REGION_SHARES]:
            for table, ok in ((self.pick_current, current_ok), (self.pick_past, None)):
                idx = [i for i, p in enumerate(self.partners)
                       if p.weight > 0 and (region is None or p.region == region) and (ok is None or p.lifecycle in ok)]
                if idx:
                    table[region] = _Weighted(idx, [self.partners[i].weight for i in idx])
        for region in REGION_SHARES:
            self.pick_current.setdefault(region, self.pick_current[None])
            self.pick_past.setdefault(region, self.pick_past[None])

    # -- users --

    def _users(self) -> None:
        spec, rng = self.spec, _rng(self.seed, "users")
        ids_usr = self._ids("users")
        salt = "".join(rng.pick(string.ascii_letters + string.digits) for _ in range(22))
        password = make_password(DEMO_PASSWORD, salt=salt)
        vendor_domain = words.VENDOR["domain"]
        first_user = self.first["users"]
        rows: list[tuple] = []
        emails: set[str] = set()
        self.user_email: dict[int, str] = {}

        def add(email: str, full_name: str, role: str, joined: int, active: bool = True) -> int:
            uid = first_user + len(rows)
            emails.add(email)
            self.user_email[uid] = email
            rows.append((password, None, new_public_id("usr", ids_usr), email, full_name, role, active,
                         _at(min(joined, self.today_ord - 1), rng.minute())))
            return uid

        def person(country: str) -> tuple[str, str]:
            firsts, lasts = words.name_pool(rng.pick(words.NAME_LOCALES[country]))
            return rng.pick(firsts), rng.pick(lasts)

        def unique_local(first: str, last: str, domain: str) -> str:
            base = f"{first}.{last}".lower()
            email, k = f"{base}@{domain}", 2
            while email in emails:
                email, k = f"{base}{k}@{domain}", k + 1
            return email

        staff_joined = self.today_ord - 1500
        self.managers: list[int] = []
        self.reps: list[int] = []
        for local, name, role in words.STAFF:
            uid = add(f"{local}@{vendor_domain}", name, role, staff_joined + rng.below(400))
            if role == StaffRole.PARTNER_MANAGER:
                self.managers.append(uid)
            elif role == StaffRole.SALES_REP:
                self.reps.append(uid)
            elif role == StaffRole.ADMIN:
                self.admin_id = uid
        for count, bucket, role in ((spec.extra_managers, self.managers, StaffRole.PARTNER_MANAGER),
                                    (spec.extra_reps, self.reps, StaffRole.SALES_REP)):
            for _ in range(count):
                first, last = person("US")
                bucket.append(add(unique_local(first, last, vendor_domain), f"{first} {last}", role,
                                  staff_joined + rng.below(1400)))
        # Sales reps split the regions between them; partner managers own partners at random
        # (the demo's partners A and B belong to the first two, so pm@ sees partner A).
        buckets = min(len(self.reps), len(REGION_SHARES))
        self.rep_by_region = {r: [uid for k, uid in enumerate(self.reps) if k % buckets == j % buckets]
                              for j, r in enumerate(REGION_SHARES)}
        members: list[tuple] = []
        for i, p in enumerate(self.partners):
            if i < 2:
                p.owner_id = self.managers[i]
            elif p.lifecycle in (Lifecycle.PROSPECT, Lifecycle.APPLIED) and rng.random() < 0.5:
                p.owner_id = None  # not yet assigned to anyone
            else:
                p.owner_id = rng.pick(self.managers)
            if p.lifecycle not in (Lifecycle.ONBOARDING, Lifecycle.ACTIVE, Lifecycle.INACTIVE, Lifecycle.TERMINATED):
                continue
            joined = p.created + rng.between(5, 60) if p.lifecycle != Lifecycle.ONBOARDING else p.created + 3
            joined = min(joined, self.today_ord - 1)
            active = p.lifecycle != Lifecycle.TERMINATED
            first, last = person(p.country)
            uid = add(f"admin@{p.domain}", f"{first} {last}", "", joined, active)
            members.append((uid, i, PartnerRole.ADMIN, joined))
            p.writers.append(uid)
            if p.lifecycle == Lifecycle.ACTIVE:
                for k in range(rng.pick((1, 1, 2, 2, 3)) if i > 1 else 2):
                    first, last = person(p.country)
                    email = f"rep@{p.domain}" if k == 0 else unique_local(first, last, p.domain)
                    uid = add(email, f"{first} {last}", "", joined + rng.below(200), active)
                    members.append((uid, i, PartnerRole.REP, joined))
                    p.writers.append(uid)
                if i == 0 or rng.random() < 0.25:
                    first, last = person(p.country)
                    uid = add(f"viewer@{p.domain}", f"{first} {last}", "", joined + rng.below(300), active)
                    members.append((uid, i, PartnerRole.READ_ONLY, joined))
        self.members = members
        existing = _existing_emails(emails)
        if existing:
            raise SeedRefused(
                f"{len(existing)} of the generated log-ins already exist as users (e.g. {sorted(existing)[0]}); "
                "seed a fresh database."
            )
        self._insert("users", User, ["password", "last_login", "public_id", "email", "full_name", "staff_role",
                                     "is_active", "date_joined"], rows, len(rows))
        a, b = self.partners[0], self.partners[1]
        self.logins = [
            Login("Vendor admin", f"admin@{vendor_domain}"),
            Login("Partner manager", f"pm@{vendor_domain}"),
            Login("Sales rep", f"sales@{vendor_domain}"),
            Login("Finance", f"finance@{vendor_domain}"),
            Login("Executive", f"exec@{vendor_domain}"),
            Login("Partner admin", f"admin@{a.domain}", a.name),
            Login("Partner rep", f"rep@{a.domain}", a.name),
            Login("Partner read-only", f"viewer@{a.domain}", a.name),
            Login("Partner rep (another partner)", f"rep@{b.domain}", b.name),
        ]

    def _partners(self) -> None:
        rng, ids_ptn = _rng(self.seed, "partner details"), self._ids("partners")
        emp_mu = math.log(60)

        def rows() -> Iterator[tuple]:
            for p in self.partners:
                legal = rng.pick(words.LEGAL_SUFFIXES[p.country])
                segment = rng.pick(list(words.SEGMENT_WORDS))
                place = rng.pick((rng.pick(words.CITIES[p.country]), Region(p.region).label))
                description = words.PARTNER_PITCH[p.types[0]].format(
                    segment=words.SEGMENT_WORDS[segment], place=place)
                employees = max(3, int(rng.lognormvariate(emp_mu, 1.0)))
                if p.types[0] == "strategic_alliance":
                    employees *= 40
                updated = p.created + rng.below(max(1, self.today_ord - p.created))
                public_id = new_public_id("ptn", ids_ptn)
                yield (public_id, p.name, f"{p.name} {legal}", f"https://www.{p.domain}",
                       p.domain, p.region, p.country, p.lifecycle, p.owner_id, description, employees,
                       _at(p.created, rng.minute()), _at(updated, rng.minute()))
                if self.spec.audit_events:
                    self.audit.append((_at(p.created, 9 * 60), p.owner_id or self.admin_id, "create",
                                       "partners.partner", public_id, p.name,
                                       {"name": [None, p.name], "lifecycle": [None, p.lifecycle]}))

        n = self._insert("partners", Partner, ["public_id", "name", "legal_name", "website", "domain", "region",
                                               "country", "lifecycle", "owner", "description", "employees",
                                               "created_at", "updated_at"], rows(), len(self.partners))
        assert n == len(self.partners)
        seg_pick = _Weighted(list(SEGMENT_SHARES), list(SEGMENT_SHARES.values()))
        type_rows = [(self.partner_ids[i], code) for i, p in enumerate(self.partners) for code in p.types]
        seg_rows = []
        for i in range(len(self.partners)):
            codes = {seg_pick.pick(rng) for _ in range(rng.pick((1, 1, 2, 2, 3)))}
            seg_rows.extend((self.partner_ids[i], code) for code in sorted(codes))
        self._insert("partner types", PartnerTypeTag, ["partner", "code"], type_rows, len(type_rows))
        self._insert("partner segments", PartnerSegmentTag, ["partner", "code"], seg_rows, len(seg_rows))
        member_rows = [(uid, self.partner_ids[i], role, _at(joined, 9 * 60)) for uid, i, role, joined in self.members]
        self._insert("memberships", Membership, ["user", "partner", "role", "created_at"], member_rows,
                     len(member_rows))
        self._partner_pickers()

    # -- accounts --

    def _account_rows(self) -> Iterator[tuple]:
        spec, rng, ids_acc = self.spec, _rng(self.seed, "accounts"), self._ids("accounts")
        n = spec.accounts
        industries = list(words.INDUSTRIES)
        industry_pick = _Weighted(industries, [words.INDUSTRIES[k][0] for k in industries])
        region_pick = _Weighted(list(REGION_SHARES), list(REGION_SHARES.values()))
        country_pick = {r: _Weighted([c for c, _ in cs], [w for _, w in cs]) for r, cs in words.COUNTRIES.items()}
        status_pick = _Weighted([AccountStatus.CUSTOMER.value, AccountStatus.PROSPECT.value, AccountStatus.FORMER.value],
                                [40, 50, 10])
        emp_mu = {"smb": math.log(45), "mid_market": math.log(600), "enterprise": math.log(9000)}
        window_start = self.window[0]
        self.acc_name: list[str] = []
        self.acc_segment: list[str] = []
        self.acc_status: list[str] = []
        self.acc_region: list[str] = []
        self.acc_country: list[str] = []
        self.acc_owner = array("q")
        self.acc_created = array("i")
        seen: set[str] = set()
        lasts_of: dict[str, list[str]] = {}
        first_acc = self.first["accounts"]

        def last_names(country: str) -> list[str]:
            if country not in lasts_of:
                lasts_of[country] = [last for loc in words.NAME_LOCALES[country] for last in words.name_pool(loc)[1]]
            return lasts_of[country]

        def rows() -> Iterator[tuple]:
            for i in range(n):
                region = FIRST_REGIONS[i] if i < len(FIRST_REGIONS) else region_pick.pick(rng)
                country = country_pick[region].pick(rng)
                industry = industry_pick.pick(rng)
                nouns = words.INDUSTRIES[industry][1]
                for attempt in range(50):
                    if industry == "Government":
                        stem = rng.pick(words.CITIES[country])
                        if attempt > 3 or rng.random() < 0.5:
                            district = words.DISTRICT_WORDS.get(country, "Regional")
                            base = f"{rng.pick(last_names(country))} {district} {rng.pick(words.DISTRICT_NOUNS)}"
                            if base not in seen:
                                break
                            continue
                    elif rng.random() < 0.7:
                        stem = rng.pick(last_names(country))
                        if attempt > 10 and rng.random() < 0.5:
                            stem = f"{stem} & {rng.pick(last_names(country))}"
                    else:
                        stem = _stem(rng)
                    base = f"{stem} {rng.pick(nouns)}"
                    if attempt > 25 and industry != "Government":
                        base = f"{base} {rng.pick(words.CITIES[country])}"
                    if base not in seen:
                        break
                seen.add(base)
                if i == 0:
                    status, segment, employees = AccountStatus.CUSTOMER.value, Segment.ENTERPRISE.value, 12_000
                else:
                    status = status_pick.pick(rng)
                    if industry == "Government" or (industry in words.PUBLIC_INDUSTRIES and rng.random() < 0.7):
                        segment = Segment.PUBLIC_SECTOR.value
                        employees = int(rng.lognormvariate(math.log(2500), 1.0))
                    else:
                        employees = int(rng.lognormvariate(emp_mu["mid_market"], 1.6))
                        segment = "smb" if employees < 200 else "mid_market" if employees < 2000 else "enterprise"
                employees = max(2, employees)
                public_body = industry == "Government"
                plain = industry in words.PUBLIC_INDUSTRIES or rng.random() < 0.7  # no "Inc." on a school
                name = base if plain else f"{base} {rng.pick(words.LEGAL_SUFFIXES[country])}"
                slug = _slug(base) if rng.random() < 0.8 else "-".join(_slug(w) for w in base.split() if _slug(w))
                if public_body:
                    tld = words.GOVERNMENT_TLDS.get(country, words.TLDS[country])
                else:
                    tld = ".io" if industry == "Software" and rng.random() < 0.3 else words.TLDS[country]
                domain = slug + tld
                owner = rng.pick(self.rep_by_region[region])
                if rng.random() < 0.85 or status != AccountStatus.PROSPECT:
                    created = window_start - rng.between(10, 1100)
                else:
                    created = window_start + rng.below(max(1, self.today_ord - 60 - window_start))
                description = rng.pick(words.ACCOUNT_BLURBS).format(n=rng.between(3, 40))
                digits = str(rng.between(2_000_000_000, 9_999_999_999))
                phone = f"+{words.CALLING_CODES[country]} {digits[:3]} {digits[3:6]} {digits[6:]}"
                updated = created + rng.below(max(1, self.today_ord - created))
                self.acc_name.append(base)
                self.acc_segment.append(segment)
                self.acc_status.append(status)
                self.acc_region.append(region)
                self.acc_country.append(country)
                self.acc_owner.append(owner)
                self.acc_created.append(created)
                public_id = new_public_id("acc", ids_acc)
                city = stem if public_body and base.startswith(stem) else rng.pick(words.CITIES[country])
                yield (first_acc + i, public_id, name, domain, f"https://www.{domain}", industry, region, country,
                       city, phone, segment, employees, status, owner, description,
                       _at(created, rng.minute()), _at(updated, rng.minute()))
                if spec.audit_events:
                    self.audit.append((_at(created, 9 * 60), owner, "create", "crm.account", public_id, name,
                                       {"name": [None, name], "status": [None, status]}))

        return rows()

    # -- opportunities, with their partner links and (small) product lines --

    def _opportunity_rows(self) -> Iterator[tuple]:
        """Opportunity rows; as they are made, their partner links and product lines collect in
        ``self.links``/``self.lines`` and the facts activities need in compact arrays."""
        spec = self.spec
        rng = _rng(self.seed, "opportunities")
        link_rng = _rng(self.seed, "opportunity partners")
        line_rng = _rng(self.seed, "opportunity lines")
        ids_opp, ids_opl, ids_oli = self._ids("opportunities"), self._ids("opportunity partners"), self._ids("lines")
        n_acc, n_opp = spec.accounts, spec.opportunities
        # How many deals each account has: bigger companies more, with noise; exact total.
        seg_weight = {"smb": 1.0, "mid_market": 1.6, "enterprise": 3.0, "public_sector": 1.5}
        status_weight = {AccountStatus.CUSTOMER: 1.6, AccountStatus.PROSPECT: 0.6, AccountStatus.FORMER: 0.8}
        acc_weights = [seg_weight[s] * status_weight[st] * rng.lognormvariate(0, 0.7)
                       for s, st in zip(self.acc_segment, self.acc_status, strict=True)]
        counts = [0] * n_acc
        for a in rng.choices(range(n_acc), weights=acc_weights, k=n_opp):
            counts[a] += 1
        need = len(STAGE_ORDER)  # account 0 shows every stage
        while counts[0] < need:
            donor = max(range(1, n_acc), key=counts.__getitem__)
            counts[donor] -= 1
            counts[0] += 1

        first_opp = self.first["opportunities"]
        first_acc = self.first["accounts"]
        today, (w_lo, w_hi) = self.today_ord, self.window
        partners, partner_ids = self.partners, self.partner_ids
        pick_current, pick_past = self.pick_current, self.pick_past
        calendar = self.calendar
        lead_pick = _Weighted([s for s, _ in words.LEAD_SOURCES if s != "Partner"],
                              [w for s, w in words.LEAD_SOURCES if s != "Partner"])
        lost_pick = _Weighted([s for s, _ in words.LOST_REASONS], [w for _, w in words.LOST_REASONS])
        churn_pick = _Weighted([s for s, _ in words.CHURN_REASONS], [w for _, w in words.CHURN_REASONS])
        customer_types = _Weighted(["new", "expansion", "renewal"], [25, 40, 35])
        labels = words.OPPORTUNITY_LABELS
        mu = {s: math.log(d) for s, d in MEDIAN_DOLLARS.items()}
        all_reps = self.reps
        won, lost = Stage.CLOSED_WON.value, Stage.CLOSED_LOST.value
        open_values = [s.value for s in OPEN]
        n_open = len(open_values)
        fy_label: dict[int, str] = {}

        # Compact per-opportunity facts the activities need later.
        self.opp_account = array("i")
        self.opp_partner = array("i")  # index into partners, -1 for a direct deal
        self.opp_start = array("i")
        self.opp_end = array("i")
        self.opp_owner = array("q")
        links: list[tuple] = []
        lines: list[tuple] = []
        first_link = self.first["opportunity partners"]
        first_line = self.first["opportunity lines"]
        role_for = {t: r.value for t, r in ROLE_FOR_TYPE.items()}
        sourced_role, influencer_role = PartnerInvolvement.SOURCED.value, PartnerInvolvement.INFLUENCER.value
        opp_account, opp_partner = self.opp_account.append, self.opp_partner.append
        opp_start, opp_end, opp_owner = self.opp_start.append, self.opp_end.append, self.opp_owner.append
        acc_created_of = self.acc_created
        prospect, former = AccountStatus.PROSPECT.value, AccountStatus.FORMER.value
        audit = self.audit if spec.audit_events else None
        make_lines = spec.product_lines
        tier_for = {"smb": "LKS-TEAM", "mid_market": "LKS-BUS", "enterprise": "LKS-ENT", "public_sector": "LKS-BUS"}
        price = self.product_price
        pid = self.product_ids

        def product_lines(opp_id: int, kind: str, segment: str) -> int:
            r = line_rng
            chosen: list[tuple[str, int]] = []
            tier = tier_for[segment]
            if kind == "new":
                chosen.append((tier, r.between(1, 4) if segment == "enterprise" else 1))
                if r.random() < 0.5:
                    chosen.append((r.pick(("LKS-PIPE", "LKS-GOV", "LKS-AI")), 1))
                if r.random() < 0.6:
                    chosen.append(("LKS-ONB", 1))
                if r.random() < 0.3:
                    chosen.append(("LKS-TRN", r.between(2, 11)))
            elif kind == "expansion":
                for code in r.sample(("LKS-PIPE", "LKS-GOV", "LKS-AI", "LKS-SUP", tier), r.between(1, 3)):
                    chosen.append((code, r.between(1, 3)))
            else:
                chosen.append((tier, r.between(1, 3)))
                if r.random() < 0.5:
                    chosen.append(("LKS-SUP", 1))
                if r.random() < 0.3:
                    chosen.append((r.pick(("LKS-PIPE", "LKS-GOV", "LKS-AI")), 1))
            total = 0
            for code, qty in chosen:
                gross = qty * price[code]
                # Bigger lines get a negotiated discount, in whole dollars.
                discount = (gross * r.between(5, 21) // 100) // 100 * 100 if gross >= 2_000_000 and r.random() < 0.4 else 0
                lines.append((first_line + len(lines), new_public_id("oli", ids_oli), opp_id, pid[code], qty, price[code],
                              discount))
                total += gross - discount
            return total

        def rows() -> Iterator[tuple]:
            i = 0
            for a in range(n_acc):
                k = counts[a]
                if not k:
                    continue
                acc_id = first_acc + a
                segment, status, region = self.acc_segment[a], self.acc_status[a], self.acc_region[a]
                acc_name, acc_owner = self.acc_name[a], self.acc_owner[a]
                acc_created = acc_created_of[a]
                lo = max(w_lo, acc_created + 30)
                span = w_hi - lo + 1
                seg_mu = mu[segment]
                cycle_lo, cycle_hi = CYCLE_DAYS[segment]
                p_partner = 0.46 if segment in ("smb", "public_sector") else 0.38
                for j in range(k):
                    opp_id = first_opp + i
                    forced = STAGE_ORDER[j] if a == 0 and j < need else None
                    # when it closes (or is expected to)
                    if forced is None:
                        close = lo + rng.below(span)
                    elif forced in (Stage.CLOSED_WON, Stage.CLOSED_LOST):
                        close = lo + rng.below(max(1, today - 21 - lo))
                    else:
                        close = today + rng.below(max(1, w_hi - today))
                    # what kind of deal
                    if status == prospect:
                        kind = "new"
                    elif status == former:
                        kind = "new" if close > today else ("renewal" if rng.random() < 0.6 else "expansion")
                    else:
                        kind = customer_types.pick(rng)
                    # which partner, if any
                    partner = -1
                    if a == 0 or rng.random() < p_partner:
                        if a == 0:
                            partner = 0
                        else:
                            picker = pick_current if close > today - 180 else pick_past
                            partner = picker[region if rng.random() < 0.85 else None].pick(rng)
                    # stage
                    if forced is not None:
                        stage = forced.value
                    elif close < today - 20 or (close <= today and rng.random() < 0.75):
                        if status == prospect:
                            stage = lost
                        elif status == former:
                            stage = lost if kind == "renewal" or rng.random() < 0.7 else won
                        else:
                            p_win = 0.85 if kind == "renewal" else 0.55 if kind == "expansion" else 0.26
                            if partner >= 0:
                                p_win += 0.08
                            stage = won if rng.random() < p_win else lost
                    else:
                        # Deals closing soon are further along; far-out ones are early.
                        ahead = max(0, close - today) / max(1, w_hi - today)
                        idx = int(rng.triangular(0, n_open, n_open * (1 - ahead) * 0.95))
                        stage = open_values[min(n_open - 1, idx)]
                    # amount
                    if make_lines and rng.random() < 0.8:
                        amount = product_lines(opp_id, kind, segment)
                    else:
                        # A random draw turned into whole hundreds of dollars; only the int is money.
                        dollars = rng.lognormvariate(seg_mu, 0.55) * TYPE_SCALE[kind] * (1.1 if partner >= 0 else 1.0)
                        amount = max(5, round(dollars / 100)) * 10_000
                    # names, sources, reasons
                    if kind == "renewal":
                        fy = fy_label.get(close)
                        if fy is None:
                            fy = fy_label[close] = f"FY{calendar.fiscal_year_of(date.fromordinal(close))}"
                        label = f"Renewal {fy}"
                    else:
                        label = rng.pick(labels[kind])
                    sourced = False
                    if partner >= 0:
                        ptype = partners[partner].types[0]
                        sourced = ptype in ("referral", "affiliate") or rng.random() < 0.35
                    lead = "Partner" if sourced else lead_pick.pick(rng)
                    if stage == lost:
                        reason = churn_pick.pick(rng) if status == former and kind == "renewal" else lost_pick.pick(rng)
                    else:
                        reason = ""
                    owner = acc_owner if rng.random() < 0.85 else rng.pick(all_reps)
                    created = max(acc_created + 1, close - rng.between(cycle_lo, cycle_hi + 1))
                    if created >= today:  # far-out deals were opened some weeks ago, not all today
                        created = max(acc_created + 1, today - rng.between(1, 90))
                    if stage == won or stage == lost:
                        updated = min(close, today)
                    else:
                        updated = created + rng.below(max(1, today - created + 1))
                    created_at = _at(created, rng.minute())
                    updated_at = max(created_at, _at(updated, rng.minute()))
                    public_id = new_public_id("opp", ids_opp)
                    yield (opp_id, public_id, f"{acc_name} - {label}", acc_id, owner, stage, kind, amount, "USD",
                           _day(close), reason, lead, "", created_at, updated_at)
                    # partner links
                    if partner >= 0:
                        role = sourced_role if sourced and ptype not in ("referral", "affiliate") else role_for[ptype]
                        linked = min(today, created + link_rng.below(10))
                        links.append((first_link + len(links), new_public_id("opl", ids_opl), opp_id,
                                      partner_ids[partner], role, True, _at(linked, link_rng.minute())))
                        if link_rng.random() < 0.12:
                            second = pick_current[None].pick(link_rng)
                            if second != partner:
                                role2 = role_for[partners[second].types[0]]
                                if role2 == role:
                                    role2 = influencer_role
                                links.append((first_link + len(links), new_public_id("opl", ids_opl), opp_id,
                                              partner_ids[second], role2, False,
                                              _at(min(today, linked + link_rng.below(30)), 11 * 60)))
                    opp_account(a)
                    opp_partner(partner)
                    opp_start(created)
                    opp_end(min(today, max(created, updated)))
                    opp_owner(owner)
                    if audit is not None:
                        name = f"{acc_name} - {label}"
                        audit.append((created_at, owner, "create", "crm.opportunity", public_id, name,
                                      {"name": [None, name], "amount_minor": [None, amount], "stage": [None, "Prospecting"]}))
                        if stage != Stage.PROSPECTING:
                            audit.append((updated_at, owner, "update", "crm.opportunity", public_id, name,
                                          {"stage": ["Prospecting", stage]}))
                    i += 1

        self.links, self.lines = links, lines
        return rows()

    # -- activities --

    def _activity_rows(self) -> Iterator[tuple]:
        spec, rng = self.spec, _rng(self.seed, "activities")
        ids_act, ids_rec = self._ids("activities"), self._ids("recordings")
        n = spec.activities
        first_opp, first_acc = self.first["opportunities"], self.first["accounts"]
        partner_opps = array("i", (i for i, p in enumerate(self.opp_partner) if p >= 0))
        n_opps = len(self.opp_partner)
        kinds = list(words.ACTIVITY_SUBJECTS)
        kind_pick = _Weighted(kinds, [30, 22, 12, 26, 10])
        subjects, notes = words.ACTIVITY_SUBJECTS, words.ACTIVITY_NOTES
        partners, partner_ids = self.partners, self.partner_ids
        active_partners = self.pick_current[None]
        today = self.today_ord
        vendor_domain = words.VENDOR["domain"]
        first_act = self.first["activities"]

        def rows() -> Iterator[tuple]:
            for k in range(n):
                act_id = first_act + k
                r = rng.random()
                if r < 0.10:
                    # Partner-level work, not tied to a deal: reviews, enablement.
                    pi = active_partners.pick(rng)
                    p = partners[pi]
                    kind, subject = rng.pick(words.PARTNER_ACTIVITY_SUBJECTS)
                    day = max(p.created, today - 365) + rng.below(max(1, today - max(p.created, today - 365)))
                    creator = p.owner_id or self.admin_id
                    yield (act_id, new_public_id("act", ids_act), kind, subject, "", _at(day, rng.minute()), True, "",
                           None, None, partner_ids[pi], creator, _at(day, 18 * 60))
                    continue
                if r < 0.78 and partner_opps:
                    o = partner_opps[rng.below(len(partner_opps))]
                else:
                    o = rng.below(n_opps)
                a = self.opp_account[o]
                start, end = self.opp_start[o], self.opp_end[o]
                day = start + rng.below(max(1, end - start + 1))
                kind = kind_pick.pick(rng)
                firsts, _ = words.name_pool(rng.pick(words.NAME_LOCALES[self.acc_country[a]]))
                subject = rng.pick(subjects[kind]).format(first=rng.pick(firsts))
                note = rng.pick(notes).format(first=rng.pick(firsts))
                pi = self.opp_partner[o]
                partner_id, joint, creator = None, False, self.opp_owner[o]
                if pi >= 0 and rng.random() < 0.85:
                    partner_id = partner_ids[pi]
                    joint = kind in ("meeting", "demo", "call") and rng.random() < 0.6
                    writers = partners[pi].writers
                    if writers and rng.random() < 0.5:
                        creator = rng.pick(writers)
                evidence = ""
                if joint and kind in ("meeting", "demo") and rng.random() < 0.5:
                    evidence = f"https://meet.{vendor_domain}/rec/{new_public_id('rec', ids_rec)[4:]}"
                at = _at(day, rng.minute())
                yield (act_id, new_public_id("act", ids_act), kind, subject, note, at, joint, evidence,
                       first_opp + o, first_acc + a, partner_id, creator, at)

        return rows()

    # -- audit trail (small set only) --

    def _audit_events(self) -> None:
        emails = self.user_email

        def rows() -> Iterator[tuple]:
            for at, actor, action, object_type, public_id, label, changes in sorted(self.audit, key=lambda e: e[0]):
                yield (at, actor, emails.get(actor, "system"), action, object_type, public_id, label[:300], changes,
                       "seed")

        self._insert("audit events", AuditEvent, ["at", "actor", "actor_label", "action", "object_type", "object_id",
                                                  "object_repr", "changes", "source"], rows(), len(self.audit))
        self.audit = []


def _existing_emails(emails: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(emails)
    for k in range(0, len(ordered), 500):
        found.update(User.objects.filter(email__in=ordered[k:k + 500]).values_list("email", flat=True))
    return found
