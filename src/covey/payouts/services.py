"""Payout workflows: running a quarter, statements, disputes, payout batches, the simulator.

Running a quarter (``quarter_run``): for each program version in force (the general one and any
pilot), load the facts for the partners it governs (``facts.load``), compute the entries
(``engine.compute``) and post the difference to the ledger (``posting.post``), all in one
transaction with the program row locked, so two runs of one program cannot interleave. Missing FX
rates stop the run before anything is written. A run for a few partners (``partner_ids``) recomputes
only theirs: that is how one deal's change is reflected in about a second.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from decimal import Decimal

import polars as pl
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from covey.core import audit
from covey.payouts import engine as E
from covey.payouts import facts as F
from covey.payouts.models import PayoutRun, RunKind, RunStatus
from covey.payouts.posting import Posted, post, posted_net
from covey.programs.models import Enrolment, Program, ProgramVersion, VersionStatus
from covey.programs.rules import parse_rule

NO_VERSION = "No published version of {program} governs {quarter}; publish one first."
QUARTER_NOT_OVER = "{quarter} has not ended yet; a quarter is paid after its last day ({end})."
BAD_PERIOD = "Name a fiscal quarter such as 2026Q3."


def version_spec(version: ProgramVersion) -> E.VersionSpec:
    """The pure form of a version the engine reads (rules parsed, percents as fractions)."""
    tiers = list(version.tiers.all())
    codes = {t.code for t in tiers}
    rules = tuple(E.RuleSpec(r.id, r.kind, r.name, parse_rule(r.kind, r.params, tiers=codes))
                  for r in version.rules.all())
    return E.VersionSpec(
        id=version.id, program_id=version.program_id, program_name=version.program.name,
        currency=version.program.currency, credit_model=version.credit_model,
        influence_share=Decimal(version.influence_share) / 100,
        role_shares={role: Decimal(str(pct)) / 100 for role, pct in (version.role_shares or {}).items()},
        payout_delay_days=version.payout_delay_days, rules=rules, tier_names={t.code: t.name for t in tiers},
    )


def governing(program: Program, quarter: E.Quarter) -> list[tuple[ProgramVersion, list[int]]]:
    """(version, partner ids) for every version in force in the quarter: a pilot governs its pilot
    partners (once it is at least as new as the general version), the general version everyone else
    enrolled in the program on the quarter's last day."""
    from covey.programs.services import governing_general

    general = governing_general(program, quarter.start)
    enrolled = set(Enrolment.objects.filter(program=program).on(quarter.end).values_list("partner_id", flat=True))
    out = []
    piloted: set[int] = set()
    if general is not None:
        pilots = (program.versions.filter(status=VersionStatus.PUBLISHED, pilot=True, effective_from__lte=quarter.start,
                                          effective_from__gte=general.effective_from)
                  .order_by("-effective_from", "-number"))
        for pilot in pilots:
            members = set(pilot.pilot_partners.values_list("id", flat=True)) & enrolled - piloted
            if members:
                out.append((pilot, sorted(members)))
                piloted |= members
        out.insert(0, (general, sorted(enrolled - piloted)))
    return out


def parse_period(period_key: str) -> E.Quarter:
    key = (period_key or "").strip().upper()
    if len(key) != 6 or not key[:4].isdigit() or key[4] != "Q" or key[5] not in "1234":
        raise ValidationError({"period": BAD_PERIOD})
    return F.quarter_of(key)


PARTS = 4  # a run computes partners in this many parts, writing one while the next is computed


def _in_force(program: Program, quarter: E.Quarter, partner_ids: list[int] | None,
              versions: list[tuple[ProgramVersion, list[int]]] | None):
    for version, partners in versions if versions is not None else governing(program, quarter):
        if partner_ids is not None:
            partners = sorted(set(partners) & set(partner_ids))
        if partners:
            yield version, partners


def _parts(version: ProgramVersion, spec: E.VersionSpec, quarter: E.Quarter, facts: E.Facts, partners: list[int],
           parts: int):
    """(partner ids, entries) of the version's own partners, in ``parts`` parts (no database work:
    safe to run in another thread)."""
    mine, members_of = pl.Series(partners, dtype=pl.Int64).implode(), set(partners)
    for members, entries in E.compute_chunks(spec, quarter, facts, chunks=parts):
        yield ([p for p in members if p in members_of],
               entries.filter(pl.col("partner_id").is_in(mine)).with_columns(pl.lit(version.id, pl.Int64).alias("version_id")))


def compute_quarter(program: Program, quarter: E.Quarter, *, partner_ids: list[int] | None = None,
                    versions: list[tuple[ProgramVersion, list[int]]] | None = None) -> pl.DataFrame:
    """Every entry the versions in force give (engine frames plus ``version_id``), without posting."""
    frames = []
    for version, partners in _in_force(program, quarter, partner_ids, versions):
        spec = version_spec(version)
        facts = F.load(spec, quarter, partners)
        frames.extend(entries for _, entries in _parts(version, spec, quarter, facts, partners, 1))
    if not frames:
        return E.empty(E.ENTRY_COLUMNS).with_columns(pl.lit(None, pl.Int64).alias("version_id"))
    return pl.concat(frames)


def _one_ahead(parts):
    """Iterate ``parts`` with the next item computed in a background thread meanwhile: Polars works
    outside the interpreter lock, so the engine computes the next part while the database writes
    this one."""
    from concurrent.futures import ThreadPoolExecutor

    done = object()
    iterator = iter(parts)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="covey-payouts") as pool:
        future = pool.submit(next, iterator, done)
        while (item := future.result()) is not done:
            future = pool.submit(next, iterator, done)
            yield item


def quarter_run(*, program: Program, period_key: str, actor=None, partner_ids: list[int] | None = None,
                now: datetime | None = None, source: str = "web", allow_open_quarter: bool = False) -> PayoutRun:
    """Compute and post a quarter (or, with ``partner_ids``, some partners' part of it).

    Raises ``ValidationError`` for a quarter that has not ended (unless ``allow_open_quarter``), with no
    version in force, or with missing FX rates; nothing is posted then.
    """
    now = now or timezone.now()
    quarter = parse_period(period_key)
    if quarter.end >= timezone.localdate(now) and not allow_open_quarter:
        raise ValidationError({"period": QUARTER_NOT_OVER.format(quarter=quarter.key, end=quarter.end)})
    versions = governing(program, quarter)
    if not versions:
        raise ValidationError({"period": NO_VERSION.format(program=program.name, quarter=quarter.key)})
    began = time.perf_counter()
    timings = {"load": 0.0, "compute_and_post": 0.0, "post": 0.0}
    with transaction.atomic():
        Program.objects.select_for_update().filter(pk=program.pk).first()  # one run of a program at a time
        if connection.vendor == "postgresql":
            # A batch job: room for the hash joins of a million deals in memory rather than on disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
        run = PayoutRun.objects.create(program=program, period_key=quarter.key, kind=RunKind.POST, actor=actor,
                                       started_at=now)
        net = posted_net(program_id=program.id, period_key=quarter.key, partner_ids=partner_ids)
        posted, handled, computed = Posted(), set(), 0
        try:
            for version, partners in _in_force(program, quarter, partner_ids, versions):
                loading = time.perf_counter()
                spec = version_spec(version)
                facts = F.load(spec, quarter, partners)  # here: database work stays on this thread
                timings["load"] = timings.get("load", 0.0) + time.perf_counter() - loading
                computing = time.perf_counter()
                for members, drafts in _one_ahead(_parts(version, spec, quarter, facts, partners, PARTS)):
                    handled.update(members)
                    computed += drafts.height
                    writing = time.perf_counter()
                    part_net = net.filter(pl.col("partner_id").is_in(pl.Series(members, dtype=pl.Int64).implode()))
                    posted.add(post(drafts=drafts, program_id=program.id, period_key=quarter.key, run_id=run.id,
                                    now=now, net=part_net))
                    timings["post"] += time.perf_counter() - writing
                timings["compute_and_post"] += time.perf_counter() - computing
        except E.MissingRates as exc:
            raise ValidationError({"fx": ValidationError(str(exc), code="missing_rates",
                                                         params={"currencies": exc.currencies, "period": quarter.key})}) from None
        # Partners with posted entries and nothing earned now (no longer enrolled, every deal gone):
        # their entries are reversed.
        gone = net.filter(~pl.col("partner_id").is_in(pl.Series(sorted(handled), dtype=pl.Int64).implode()))
        if gone.height:
            posted.add(post(drafts=E.empty(E.ENTRY_COLUMNS).with_columns(pl.lit(None, pl.Int64).alias("version_id")),
                            program_id=program.id, period_key=quarter.key, run_id=run.id, now=now, net=gone))
        run.status, run.finished_at = RunStatus.DONE, timezone.now()
        run.figures = {**posted.as_dict(), "entries_computed": computed,
                       "partners": partner_ids if partner_ids is not None else None,
                       "seconds": {k: round(v, 3) for k, v in timings.items()} | {
                           "total": round(time.perf_counter() - began, 3)}}
        run.save(update_fields=["status", "finished_at", "figures"])
        audit.record(actor=actor, action="create", obj=run, source=source,
                     changes={"period": [None, quarter.key], "new_entries": [None, posted.new_entries],
                              "reversals": [None, posted.reversals]})
    return run


def partner_rerun(*, program: Program, partner_id: int, on: date, actor=None, now: datetime | None = None) -> PayoutRun:
    """Recompute one partner's quarter containing ``on`` (after one of its deals changed)."""
    from covey.core.models import VendorSettings

    key = VendorSettings.current().calendar.quarter_of(on).key
    return quarter_run(program=program, period_key=key, actor=actor, partner_ids=[partner_id], now=now,
                       allow_open_quarter=True)


# --- the simulator -------------------------------------------------------------------------------

ONLY_CLOSED = "{quarter} has not ended; the simulator replays closed quarters only."
NO_PERIODS = "Choose at least one closed quarter to replay."
TOO_MANY_PERIODS = "Replay at most {count} quarters at a time."
MAX_REPLAYED = 10


def simulate(*, draft: ProgramVersion, period_keys: list[str], actor=None, now: datetime | None = None,
             source: str = "web") -> PayoutRun:
    """Replay closed quarters under ``draft`` without posting anything: per partner and currency, what
    the draft would have paid against what the ledger holds for those quarters.

    The draft stands in for the version it would replace: a general draft for every partner the
    general version governed, a pilot draft for its pilot partners only.
    """
    now = now or timezone.now()
    if not period_keys:
        raise ValidationError({"periods": NO_PERIODS})
    quarters = [parse_period(key) for key in dict.fromkeys(period_keys)]
    if len(quarters) > MAX_REPLAYED:
        raise ValidationError({"periods": TOO_MANY_PERIODS.format(count=MAX_REPLAYED)})
    for quarter in quarters:
        if quarter.end >= timezone.localdate(now):
            raise ValidationError({"periods": ONLY_CLOSED.format(quarter=quarter.key)})
    program = draft.program
    began = time.perf_counter()
    simulated, posted = [], []
    for quarter in quarters:
        in_force = governing(program, quarter)
        if draft.pilot:
            partners = sorted(set(draft.pilot_partners.values_list("id", flat=True))
                              & {p for _, members in in_force for p in members})
        else:
            partners = in_force[0][1] if in_force and not in_force[0][0].pilot else []
        try:
            entries = compute_quarter(program, quarter, partner_ids=partners, versions=[(draft, partners)])
        except E.MissingRates as exc:
            raise ValidationError({"fx": str(exc)}) from None
        simulated.append(entries.group_by("partner_id", "currency").agg(pl.col("amount_minor").sum().alias("simulated")))
        posted.append(_posted_by_partner(program, quarter.key, partners))
    table = (pl.concat(simulated).group_by("partner_id", "currency").agg(pl.col("simulated").sum())
             .join(pl.concat(posted).group_by("partner_id", "currency").agg(pl.col("posted").sum()),
                   on=["partner_id", "currency"], how="full", coalesce=True)
             .with_columns(pl.col("simulated").fill_null(0), pl.col("posted").fill_null(0))
             .with_columns((pl.col("simulated") - pl.col("posted")).alias("difference"))
             .sort(["difference", "partner_id"]))
    from covey.partners.models import Partner

    names = dict(Partner.objects.filter(pk__in=table["partner_id"].to_list()).values_list("id", "name"))
    rows = [{"partner_id": r["partner_id"], "partner": names.get(r["partner_id"], "?"), "currency": r["currency"],
             "posted": r["posted"], "simulated": r["simulated"], "difference": r["difference"]}
            for r in table.iter_rows(named=True)]
    totals = {c: {"posted": p, "simulated": s, "difference": s - p} for c, p, s in
              table.group_by("currency").agg(pl.col("posted").sum(), pl.col("simulated").sum()).sort("currency").iter_rows()}
    run = PayoutRun.objects.create(
        program=program, version=draft, period_key=",".join(q.key for q in quarters), kind=RunKind.SIMULATE,
        status=RunStatus.DONE, actor=actor, started_at=now, finished_at=timezone.now(),
        figures={"quarters": [q.key for q in quarters], "totals": totals, "rows": rows,
                 "gainers": sum(1 for r in rows if r["difference"] > 0),
                 "losers": sum(1 for r in rows if r["difference"] < 0),
                 "seconds": round(time.perf_counter() - began, 3)},
    )
    audit.record(actor=actor, action="create", obj=run, source=source,
                 changes={"simulated": [None, draft.number], "quarters": [None, [q.key for q in quarters]]})
    return run


def _posted_by_partner(program: Program, period_key: str, partner_ids: list[int]) -> pl.DataFrame:
    from covey.payouts.models import LedgerEntry

    rows = (LedgerEntry.objects.filter(program=program, period_key=period_key, partner_id__in=partner_ids)
            .values_list("partner_id", "currency").annotate(total=models.Sum("amount_minor")))
    return pl.DataFrame([(p, c, int(t)) for p, c, t in rows], schema={"partner_id": pl.Int64, "currency": pl.Utf8,
                                                                        "posted": pl.Int64}, orient="row")


# --- the FX table --------------------------------------------------------------------------------

FX_POSITIVE = "A rate is a positive number: how many units of the base currency one unit is worth."
FX_BASE = "{currency} is the base currency; its rate is always 1."
_RATE_TEXT = re.compile(r"^\d+(\.\d+)?$")  # plain decimals: no sign, exponent or separators
FX_TOO_PRECISE = "Give the rate with at most 10 decimal places and 10 digits before the point."


@transaction.atomic
def fx_rate_set(*, period_key: str, currency: str, per_base, actor, source: str = "web"):
    """Add or change a quarter's rate for ``currency`` (``per_base``: base-currency units per unit).

    Changing a rate of a quarter already run changes nothing posted; the next run of that quarter
    converts with the new rate and posts the difference, like any other correction.
    """
    from decimal import InvalidOperation

    from covey.core.models import VendorSettings
    from covey.core.money import is_currency
    from covey.payouts.models import FxRate

    quarter = parse_period(period_key)
    currency = (currency or "").strip().upper()
    if not is_currency(currency):
        raise ValidationError({"currency": f"{currency!r} is not an ISO 4217 currency code such as EUR."})
    base = VendorSettings.current().base_currency
    if currency == base:
        raise ValidationError({"currency": FX_BASE.format(currency=base)})
    if isinstance(per_base, float):
        raise ValidationError({"per_base": "Give the rate as a decimal string, not a float."})
    text = str(per_base).strip()
    if not _RATE_TEXT.match(text):
        raise ValidationError({"per_base": FX_POSITIVE})
    try:
        rate = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationError({"per_base": FX_POSITIVE}) from None
    if not rate.is_finite() or rate <= 0:
        raise ValidationError({"per_base": FX_POSITIVE})
    sign, digits, exponent = rate.as_tuple()
    if -int(exponent) > 10 or len(digits) + int(exponent) > 10:
        raise ValidationError({"per_base": FX_TOO_PRECISE})
    existing = FxRate.objects.select_for_update().filter(period_key=quarter.key, currency=currency).first()
    before = str(existing.per_base.normalize()) if existing else None
    if existing is None:
        fx = FxRate.objects.create(period_key=quarter.key, currency=currency, base_currency=base, per_base=rate)
    else:
        existing.per_base, existing.base_currency = rate, base
        existing.save(update_fields=["per_base", "base_currency"])
        fx = existing
    audit.record(actor=actor, action="create" if existing is None else "update", obj=fx, source=source,
                 changes={"rate": [before, str(rate.normalize())], "period": [None, quarter.key]})
    return fx


def closed_quarters(*, count: int = 8, today: date | None = None) -> list[str]:
    """The keys of the last ``count`` fiscal quarters that have ended, newest first."""
    from covey.core.models import VendorSettings

    calendar = VendorSettings.current().calendar
    quarter = calendar.previous(calendar.quarter_of(today or timezone.localdate()))
    keys = []
    for _ in range(count):
        keys.append(quarter.key)
        quarter = calendar.previous(quarter)
    return keys
