"""Program design workflows: programs, draft versions, tiers, rules, publishing, pilots, enrolments.

Every write checks the version's lock first: a published version whose first quarter has begun is
what partners are paid by this quarter, so it cannot change. An attempt is refused with
``VERSION_LOCKED`` and leaves an audit record (action "refused") naming who tried what. Changes go
into a new draft version, published from the next quarter.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from covey.core import audit
from covey.core.models import VendorSettings
from covey.core.validators import clean_text
from covey.programs.models import (
    CreditModel,
    Enrolment,
    PayoutFrequency,
    Program,
    ProgramVersion,
    Rule,
    Tier,
    VersionStatus,
)
from covey.programs.rules import KINDS, ROLES, RuleInvalid, parse_rule

VERSION_LOCKED = ("This version is locked: its first quarter began on {start}, and rules never change mid-quarter. "
                  "Make a new draft version; it takes effect from the next quarter.")
NOT_QUARTER_START = "A version starts on the first day of a fiscal quarter ({suggestion}, for example)."
STARTS_TOO_EARLY = ("The quarter starting {start} is already governed by version {number}; "
                    "a new version can start on {next_start} at the earliest.")
NO_TIERS = "Add at least one tier before publishing."
ONLY_DRAFTS = "Only a draft version can be published."
NOT_A_PILOT = "Only a pilot version can be rolled out."
NO_PILOT_PARTNERS = "Choose the partners who take part in the pilot."
UNKNOWN_TIER = "There is no tier {code!r} in {program}'s current version."
SHARE_INVALID = "Enter a percent from 0 to 100 with at most four decimals."


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def quarter_start_of(day: date) -> date:
    return VendorSettings.current().calendar.quarter_of(day).start


def next_quarter_start(day: date) -> date:
    return VendorSettings.current().calendar.quarter_of(day).end + timedelta(days=1)


def require_editable(version: ProgramVersion, *, actor, what: str, source: str = "web",
                     today: date | None = None) -> None:
    """Refuse (and record the attempt) when ``version`` is locked.

    Services call it *before* opening their transaction, so the record of the refused attempt is
    kept although nothing else is written."""
    if version.is_locked(_today(today)):
        audit.record(actor=actor, action="refused", obj=version, source=source,
                     changes={"attempted": [None, what], "reason": [None, "version locked"]})
        raise ValidationError(VERSION_LOCKED.format(start=version.effective_from.isoformat()))


# --- programs and versions ---------------------------------------------------------------------


@transaction.atomic
def program_create(*, name: str, currency: str, summary: str = "", actor, source: str = "web",
                   today: date | None = None) -> Program:
    program = Program(name=clean_text(name, field="name", limit=120).strip(), currency=(currency or "").upper(),
                      summary=clean_text(summary, field="summary", limit=5000))
    program.full_clean()
    program.save()
    audit.record(actor=actor, action="create", obj=program, source=source,
                 changes={"name": [None, program.name], "currency": [None, program.currency]})
    version_draft(program=program, actor=actor, source=source, effective_from=quarter_start_of(_today(today)))
    return program


CURRENCY_FIXED = ("The currency cannot change once a version has been published: its tiers, rules and the "
                  "ledger are in {currency}. Make a new program for another currency.")


@transaction.atomic
def program_update(*, program: Program, actor, name: str, summary: str = "", currency: str | None = None,
                   source: str = "web") -> dict:
    """Rename a program or rewrite its summary; its currency only while no version has been published."""
    before = audit.snapshot(program, ["name", "summary", "currency"])
    program.name = clean_text(name, field="name", limit=120, required="Name the program.").strip()
    program.summary = clean_text(summary, field="summary", limit=5000)
    wanted = (currency or program.currency).upper()
    if wanted != program.currency:
        if program.versions.filter(status=VersionStatus.PUBLISHED).exists():
            raise ValidationError({"currency": CURRENCY_FIXED.format(currency=program.currency)})
        program.currency = wanted
    program.full_clean()
    program.save()
    changes = audit.diff(before, audit.snapshot(program, ["name", "summary", "currency"]))
    if changes:
        audit.record(actor=actor, action="update", obj=program, source=source, changes=changes)
    return changes


@transaction.atomic
def version_draft(*, program: Program, actor, based_on: ProgramVersion | None = None,
                  effective_from: date | None = None, pilot: bool = False, source: str = "web",
                  today: date | None = None) -> ProgramVersion:
    """A new draft, copied from ``based_on`` (default: the latest version) with its tiers and rules."""
    based_on = based_on or program.versions.order_by("-number").first()
    number = (program.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = ProgramVersion(program=program, number=number, pilot=pilot, based_on=based_on, created_by=actor,
                           effective_from=effective_from or next_quarter_start(_today(today)))
    if based_on is not None:
        for name in ("credit_model", "influence_share", "role_shares", "payout_frequency", "payout_delay_days"):
            setattr(draft, name, getattr(based_on, name))
    draft.save()
    if based_on is not None:
        Tier.objects.bulk_create([
            Tier(version=draft, code=t.code, name=t.name, rank=t.rank, min_annual_sales_minor=t.min_annual_sales_minor,
                 min_certified_people=t.min_certified_people, min_satisfaction=t.min_satisfaction, min_deals=t.min_deals,
                 mdf_allowance_minor=t.mdf_allowance_minor, dedicated_manager=t.dedicated_manager,
                 lead_sharing=t.lead_sharing, perks=list(t.perks))
            for t in based_on.tiers.all()
        ])
        Rule.objects.bulk_create([Rule(version=draft, kind=r.kind, name=r.name, params=r.params, position=r.position)
                                  for r in based_on.rules.all()])
    audit.record(actor=actor, action="create", obj=draft, source=source,
                 changes={"version": [None, number], "based_on": [None, based_on.number if based_on else None]})
    return draft


def _percent(value, field: str) -> Decimal:
    try:
        pct = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: SHARE_INVALID}) from None
    if not pct.is_finite() or pct < 0 or pct > 100 or pct != pct.quantize(Decimal("0.0001")):
        raise ValidationError({field: SHARE_INVALID})
    return pct


def version_update(*, version: ProgramVersion, actor, source: str = "web", today: date | None = None,
                   **values) -> dict:
    """Change a version's credit model, shares, payout timing, start, notes or pilot flag."""
    require_editable(version, actor=actor, what=f"change {', '.join(sorted(values))}", source=source, today=today)
    with transaction.atomic():
        errors = {}
        if "credit_model" in values and values["credit_model"] not in CreditModel.values:
            errors["credit_model"] = "Choose origination, split or role-based credit."
        if "payout_frequency" in values and values["payout_frequency"] not in PayoutFrequency.values:
            errors["payout_frequency"] = "Choose monthly or quarterly statements."
        if "influence_share" in values:
            values["influence_share"] = _percent(values["influence_share"], "influence_share")
        if "role_shares" in values:
            shares = values["role_shares"] or {}
            if not isinstance(shares, dict) or any(role not in ROLES for role in shares):
                errors["role_shares"] = f"Give a percent for roles among {', '.join(ROLES)}."
            else:
                values["role_shares"] = {role: str(_percent(v, f"role_shares.{role}")) for role, v in shares.items()}
        if "payout_delay_days" in values:
            try:
                days = int(values["payout_delay_days"])
            except (TypeError, ValueError):
                days = -1
            if not 0 <= days <= 365:
                errors["payout_delay_days"] = "Enter a number of days from 0 to 365."
            values["payout_delay_days"] = days
        if "effective_from" in values and values["effective_from"] is not None:
            start = values["effective_from"]
            if quarter_start_of(start) != start:
                errors["effective_from"] = NOT_QUARTER_START.format(suggestion=next_quarter_start(start).isoformat())
        if "notes" in values:
            values["notes"] = clean_text(values["notes"], field="notes", limit=5000)
        if errors:
            raise ValidationError(errors)
        before = audit.snapshot(version, list(values))
        for name, value in values.items():
            setattr(version, name, value)
        changes = audit.diff(before, audit.snapshot(version, list(values)))
        if changes:
            version.save(update_fields=list(values))
            audit.record(actor=actor, action="update", obj=version, changes=changes, source=source)
        return changes


def governing_general(program: Program, day: date) -> ProgramVersion | None:
    """The published general (not pilot) version in force on ``day``."""
    return (program.versions.filter(status=VersionStatus.PUBLISHED, pilot=False, effective_from__lte=day)
            .order_by("-effective_from", "-number").first())


@transaction.atomic
def version_publish(*, version: ProgramVersion, actor, source: str = "web", today: date | None = None) -> ProgramVersion:
    """Publish a draft: every rule must parse, there must be tiers, and it may not reach back into a
    quarter another version already governs."""
    today = _today(today)
    version = ProgramVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(ONLY_DRAFTS)
    errors: dict[str, str] = {}
    tiers = {t.code for t in version.tiers.all()}
    if not tiers:
        errors["tiers"] = NO_TIERS
    for rule in version.rules.all():
        try:
            parse_rule(rule.kind, rule.params, tiers=tiers)
        except RuleInvalid as exc:
            errors[f"rule {rule.name}"] = "; ".join(exc.errors.values())
    start = version.effective_from
    if quarter_start_of(start) != start:
        errors["effective_from"] = NOT_QUARTER_START.format(suggestion=next_quarter_start(start).isoformat())
    current = governing_general(version.program, today)
    if current is not None and not version.pilot and start <= today:
        errors["effective_from"] = STARTS_TOO_EARLY.format(start=quarter_start_of(today).isoformat(),
                                                           number=current.number,
                                                           next_start=next_quarter_start(today).isoformat())
    if version.pilot and not version.pilot_partners.exists():
        errors["pilot_partners"] = NO_PILOT_PARTNERS
    if errors:
        raise ValidationError(errors)
    version.status, version.published_at, version.published_by = VersionStatus.PUBLISHED, timezone.now(), actor
    version.save(update_fields=["status", "published_at", "published_by"])
    audit.record(actor=actor, action="transition", obj=version, source=source,
                 changes={"status": [VersionStatus.DRAFT, VersionStatus.PUBLISHED],
                          "effective_from": [None, start.isoformat()]})
    return version


def pilot_partners_set(*, version: ProgramVersion, partners, actor, source: str = "web",
                       today: date | None = None) -> None:
    require_editable(version, actor=actor, what="change the pilot partners", source=source, today=today)
    with transaction.atomic():
        before = sorted(version.pilot_partners.values_list("name", flat=True))
        version.pilot_partners.set(partners)
        after = sorted(p.name for p in partners)
        if before != after:
            audit.record(actor=actor, action="update", obj=version, source=source, changes={"pilot_partners": [before, after]})


@transaction.atomic
def pilot_roll_out(*, pilot: ProgramVersion, actor, source: str = "web", today: date | None = None) -> ProgramVersion:
    """Give everyone the pilot's rules from the next quarter: a general version copied from the pilot,
    published at once. The pilot keeps governing its partners until then."""
    if not pilot.pilot or pilot.status != VersionStatus.PUBLISHED:
        raise ValidationError(NOT_A_PILOT)
    today = _today(today)
    general = version_draft(program=pilot.program, based_on=pilot, actor=actor, source=source,
                            effective_from=next_quarter_start(today), today=today)
    general.notes = f"Rolled out from pilot version {pilot.number}."
    general.save(update_fields=["notes"])
    return version_publish(version=general, actor=actor, source=source, today=today)


# --- tiers and rules ----------------------------------------------------------------------------

TIER_FIELDS = ("code", "name", "rank", "min_annual_sales_minor", "min_certified_people", "min_satisfaction",
               "min_deals", "mdf_allowance_minor", "dedicated_manager", "lead_sharing", "perks")


def tier_save(*, version: ProgramVersion, actor, tier: Tier | None = None, source: str = "web",
              today: date | None = None, **values) -> Tier:
    require_editable(version, actor=actor, what=f"{'change' if tier else 'add'} a tier", source=source, today=today)
    with transaction.atomic():
        unknown = set(values) - set(TIER_FIELDS)
        if unknown:
            raise ValueError(f"unknown tier fields {sorted(unknown)}")
        perks = values.get("perks")
        if perks is not None:
            if not isinstance(perks, list) or any(not isinstance(p, str) for p in perks):
                raise ValidationError({"perks": "Give the perks as a list of short phrases."})
            values["perks"] = [clean_text(p, field="perks", limit=120).strip() for p in perks if p.strip()]
        is_new = tier is None
        tier = tier or Tier(version=version)
        before = {} if is_new else audit.snapshot(tier, list(values))
        for name, value in values.items():
            setattr(tier, name, value)
        # Duplicates first: they deserve a message on the field rather than full_clean's generic one.
        if version.tiers.exclude(pk=tier.pk).filter(code=tier.code).exists():
            raise ValidationError({"code": f"This version already has a tier {tier.code!r}."})
        if version.tiers.exclude(pk=tier.pk).filter(rank=tier.rank).exists():
            raise ValidationError({"rank": f"Another tier already has rank {tier.rank}."})
        tier.full_clean()
        tier.save()
        audit.record(actor=actor, action="create" if is_new else "update", obj=version, source=source,
                     changes={f"tier {tier.code}": [before or None, audit.snapshot(tier, list(values))]})
        return tier


def tier_delete(*, tier: Tier, actor, source: str = "web", today: date | None = None) -> None:
    require_editable(tier.version, actor=actor, what=f"remove tier {tier.code}", source=source, today=today)
    with transaction.atomic():
        audit.record(actor=actor, action="delete", obj=tier.version, source=source, changes={f"tier {tier.code}": [tier.name, None]})
        tier.delete()


def rule_save(*, version: ProgramVersion, actor, kind: str, name: str, params: dict, rule: Rule | None = None,
              position: int | None = None, source: str = "web", today: date | None = None) -> Rule:
    """Add or change a rule; the parameters are validated (``RuleInvalid`` → field errors)."""
    require_editable(version, actor=actor, what=f"{'change' if rule else 'add'} rule {name}", source=source, today=today)
    with transaction.atomic():
        if kind not in KINDS:
            raise ValidationError({"kind": f"Choose one of {', '.join(KINDS)}."})
        try:
            parse_rule(kind, params, tiers={t.code for t in version.tiers.all()})
        except RuleInvalid as exc:
            raise ValidationError({f"params.{k}": v for k, v in exc.errors.items()}) from None
        name = clean_text(name, field="name", limit=120).strip()
        if not name:
            raise ValidationError({"name": "Give the rule a name partners will read."})
        is_new = rule is None
        rule = rule or Rule(version=version)
        before = None if is_new else {"kind": rule.kind, "name": rule.name, "params": rule.params}
        rule.kind, rule.name, rule.params = kind, name, params
        if position is not None:
            rule.position = position
        elif is_new:
            rule.position = (version.rules.aggregate(p=Max("position"))["p"] or 0) + 1
        rule.save()
        audit.record(actor=actor, action="create" if is_new else "update", obj=version, source=source,
                     changes={f"rule {name}": [before, {"kind": kind, "name": name, "params": params}]})
        return rule


def rule_delete(*, rule: Rule, actor, source: str = "web", today: date | None = None) -> None:
    require_editable(rule.version, actor=actor, what=f"remove rule {rule.name}", source=source, today=today)
    with transaction.atomic():
        audit.record(actor=actor, action="delete", obj=rule.version, source=source, changes={f"rule {rule.name}": [rule.params, None]})
        rule.delete()


# --- enrolments ---------------------------------------------------------------------------------


@transaction.atomic
def enrol(*, partner, program: Program, tier_code: str, starts_on: date, actor, reason: str = "",
          source: str = "web") -> Enrolment:
    """Put ``partner`` in ``tier_code`` from ``starts_on``; the current enrolment (if any) ends the day before."""
    version = governing_general(program, starts_on) or program.versions.order_by("-number").first()
    codes = set(version.tiers.values_list("code", flat=True)) if version else set()
    if tier_code not in codes:
        raise ValidationError({"tier_code": UNKNOWN_TIER.format(code=tier_code, program=program.name)})
    current = Enrolment.objects.select_for_update().filter(partner=partner, program=program, ends_on__isnull=True).first()
    if current is not None:
        if current.tier_code == tier_code:
            return current
        if starts_on <= current.starts_on:
            raise ValidationError({"starts_on": f"The current enrolment started on {current.starts_on}; "
                                                "a change must start after it."})
        current.ends_on = starts_on - timedelta(days=1)
        current.save(update_fields=["ends_on"])
    enrolment = Enrolment.objects.create(partner=partner, program=program, tier_code=tier_code, starts_on=starts_on,
                                         reason=clean_text(reason, field="reason", limit=500), created_by=actor)
    audit.record(actor=actor, action="create" if current is None else "transition", obj=enrolment, source=source,
                 changes={"tier": [current.tier_code if current else None, tier_code],
                          "from": [None, starts_on.isoformat()]})
    return enrolment
