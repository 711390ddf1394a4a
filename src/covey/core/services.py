"""Generic create/update/delete with validation and an audit record, for the simple models.

Services of each app call these for plain field changes and add their own domain rules around
them; a workflow with rules of its own (registrations, payouts) writes its own service instead.
"""

from __future__ import annotations

from django.db import models, transaction

from covey.core import audit


def _editable_fields(obj: models.Model) -> list[str]:
    return [
        f.name for f in obj._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in {"created_at", "updated_at"}
    ]


@transaction.atomic
def create_object(model: type[models.Model], *, actor, source: str = "web", **values) -> models.Model:
    obj = model(**values)
    obj.full_clean()
    obj.save()
    after = audit.snapshot(obj, [k for k in _editable_fields(obj) if getattr(obj, k, None) not in (None, "")])
    audit.record(actor=actor, action="create", obj=obj, changes={k: [None, v] for k, v in after.items()}, source=source)
    return obj


@transaction.atomic
def update_object(obj: models.Model, *, actor, source: str = "web", **values) -> dict:
    """Apply ``values``, validate, save only the changed fields and audit them. Returns the diff."""
    names = list(values)
    before = audit.snapshot(obj, names)
    for name, value in values.items():
        setattr(obj, name, value)
    obj.full_clean()
    changes = audit.diff(before, audit.snapshot(obj, names))
    if changes:
        update = [obj._meta.get_field(n).attname for n in changes]
        if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
            update.append("updated_at")
        obj.save(update_fields=update)
        audit.record(actor=actor, action="update", obj=obj, changes=changes, source=source)
    return changes


@transaction.atomic
def delete_object(obj: models.Model, *, actor, source: str = "web") -> None:
    audit.record(actor=actor, action="delete", obj=obj, source=source)
    obj.delete()
