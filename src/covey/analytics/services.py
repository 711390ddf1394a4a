"""Writes: targets, scorecard notes and the analytics settings, each with its audit record."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from covey.analytics.models import MONEY_MEASURES, AnalyticsSettings, ScorecardNote, Target
from covey.core import audit
from covey.core.models import StaffRole, VendorSettings

TARGET_SETTERS = frozenset({StaffRole.ADMIN, StaffRole.PARTNER_MANAGER})
NO_TARGETS = "Only admins and partner managers set targets."
NO_NOTES = "Only an admin or the partner's own manager keeps its scorecard notes."
NO_SETTINGS = "Only admins change the analytics settings."
DUPLICATE_TARGET = "There is already a target for that measure, quarter and {who}; delete it first."
NOT_A_QUARTER = "Targets are set per fiscal quarter, like 2026Q3."
UNKNOWN_PARTNER = "No partner with that id."


def can_set_targets(user) -> bool:
    return user.is_authenticated and user.staff_role in TARGET_SETTERS


def can_keep_notes(user, partner) -> bool:
    if not user.is_authenticated:
        return False
    return user.staff_role == StaffRole.ADMIN or (user.staff_role == StaffRole.PARTNER_MANAGER and partner.owner_id == user.id)


def _quarter_key(text: str) -> str:
    try:
        period = VendorSettings.current().calendar.parse(text)
    except ValueError:
        raise ValidationError({"period": NOT_A_QUARTER}) from None
    if not period.quarter:
        raise ValidationError({"period": NOT_A_QUARTER})
    return period.key


@transaction.atomic
def target_set(*, actor, period: str, measure: str, partner=None, tier_code: str = "",
               amount_minor: int | None = None, value: Decimal | None = None) -> Target:
    if not can_set_targets(actor):
        raise PermissionDenied(NO_TARGETS)
    if (partner is None) == (not tier_code):
        raise ValidationError("Set the target for one partner or for one tier.")
    if (measure in MONEY_MEASURES) != (amount_minor is not None) or (amount_minor is None) == (value is None):
        raise ValidationError({"value": "Money measures take an amount; the others a number."})
    target = Target(period_key=_quarter_key(period), partner=partner, tier_code="" if partner else tier_code,
                    measure=measure, amount_minor=amount_minor, value=value, created_by=actor)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        who = "partner" if partner else "tier"
        raise ValidationError(DUPLICATE_TARGET.format(who=who)) from None
    audit.record(actor=actor, action="create", obj=target,
                 changes={"measure": measure, "period": target.period_key, "amount_minor": amount_minor,
                          "value": str(value) if value is not None else None,
                          "partner": partner.name if partner else None, "tier": tier_code or None})
    return target


@transaction.atomic
def target_update(*, actor, target: Target, amount_minor: int | None = None, value: Decimal | None = None,
                  source: str = "web") -> Target:
    """A new value for a target (money measures an amount, the others a number), audited before → after."""
    if not can_set_targets(actor):
        raise PermissionDenied(NO_TARGETS)
    if (target.measure in MONEY_MEASURES) != (amount_minor is not None) or (amount_minor is None) == (value is None):
        raise ValidationError({"value": "Money measures take an amount; the others a number."})
    target = Target.objects.select_for_update().get(pk=target.pk)
    fields = ["amount_minor", "value"]
    before = audit.snapshot(target, fields)
    target.amount_minor, target.value = amount_minor, value
    target.full_clean(exclude=["partner", "created_by"])
    target.save(update_fields=fields)
    target.refresh_from_db()
    audit.record(actor=actor, action="update", obj=target, changes=audit.diff(before, audit.snapshot(target, fields)),
                 source=source)
    return target


@transaction.atomic
def target_delete(*, actor, target: Target) -> None:
    if not can_set_targets(actor):
        raise PermissionDenied(NO_TARGETS)
    audit.record(actor=actor, action="delete", obj=target, changes={"target": str(target)})
    target.delete()


@transaction.atomic
def note_save(*, actor, partner, period_key: str, text: str) -> ScorecardNote:
    if not can_keep_notes(actor, partner):
        raise PermissionDenied(NO_NOTES)
    note, _ = ScorecardNote.objects.get_or_create(partner=partner, period_key=period_key)
    before = note.text
    note.text = text
    note.updated_by = actor
    note.save(update_fields=["text", "updated_by", "updated_at"])
    audit.record(actor=actor, action="update", obj=note, changes={"text": [before, text]})
    return note


@transaction.atomic
def settings_update(*, actor, active_rule: str, overhead_minor: int, green_at: Decimal, amber_at: Decimal) -> AnalyticsSettings:
    if not (actor.is_authenticated and actor.staff_role == StaffRole.ADMIN):
        raise PermissionDenied(NO_SETTINGS)
    s = AnalyticsSettings.current()
    before = audit.snapshot(s, ["active_rule", "overhead_per_quarter_minor", "green_at", "amber_at"])
    s.active_rule, s.overhead_per_quarter_minor, s.green_at, s.amber_at = active_rule, overhead_minor, green_at, amber_at
    s.save()
    after = audit.snapshot(s, ["active_rule", "overhead_per_quarter_minor", "green_at", "amber_at"])
    audit.record(actor=actor, action="update", obj=s, changes=audit.diff(before, after))
    return s
