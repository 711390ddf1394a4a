"""Audit records: who changed what, when.

Services call ``record`` explicitly (no signals), passing the field changes they computed with
``snapshot``/``diff``. Bulk paths (imports) write their events with ``record_many`` in one insert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.db import models
from django.utils import timezone

from covey.core.models import AuditEvent


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    """The current values of ``fields`` (foreign keys by their display text), JSON-ready."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.is_relation and field.many_to_one:
            related = getattr(obj, name)
            out[name] = str(related) if related is not None else None
        else:
            out[name] = _plain(getattr(obj, name))
    return out


def diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def object_type(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def event(*, actor, action: str, obj: models.Model, changes: dict | None = None, source: str = "web") -> AuditEvent:
    """An unsaved audit record (for ``core.bulk.insert_together``); ``record`` also writes it."""
    return AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=(actor.email if actor is not None and actor.pk else "system"),
        action=action,
        object_type=object_type(obj),
        object_id=getattr(obj, "public_id", None) or str(obj.pk),
        object_repr=str(obj)[:300],
        changes=changes or {},
        source=source,
    )


def record(*, actor, action: str, obj: models.Model, changes: dict | None = None, source: str = "web") -> AuditEvent:
    from covey.core.bulk import insert_instances

    made = event(actor=actor, action=action, obj=obj, changes=changes, source=source)
    insert_instances([made])  # append-only: a plain insert, never an update
    return made


def record_many(*, actor, action: str, objs: Iterable[models.Model], source: str, changes_for=None) -> int:
    """One event per object, written set-based (COPY on PostgreSQL) with one timestamp for the batch."""
    from covey.core.bulk import bulk_insert

    actor_id = actor.pk if actor is not None and actor.pk else None
    actor_label = actor.email if actor_id else "system"
    at = timezone.now()
    rows = (
        (
            at, actor_id, actor_label, action, object_type(o),
            getattr(o, "public_id", None) or str(o.pk), str(o)[:300],
            (changes_for(o) if changes_for else None) or {}, source,
        )
        for o in objs
    )
    return bulk_insert(
        AuditEvent,
        ["at", "actor", "actor_label", "action", "object_type", "object_id", "object_repr", "changes", "source"],
        rows,
    )


def history(obj: models.Model):
    """Audit events of one object, newest first (what the object's page shows)."""
    return AuditEvent.objects.filter(
        object_type=object_type(obj), object_id=getattr(obj, "public_id", None) or str(obj.pk)
    ).select_related("actor")
