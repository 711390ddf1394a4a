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


# --- API tokens ------------------------------------------------------------------------------

TOKEN_SCOPE_WIDER = "A read-only token cannot create a token that may write."
TOKEN_NAME_NEEDED = "Give the token a name, e.g. “CRM sync”."
TOKEN_SCOPE_UNKNOWN = "The scope is 'read' or 'read_write'."


@transaction.atomic
def token_issue(*, user, name: str, scope: str, source: str = "web", via_scope: str | None = None):
    """A new personal token for ``user``; returns (token, key), the key shown once.

    ``via_scope`` is the scope of the token the request came with (API): a token never makes a
    token with more rights than its own (a read-only one cannot reach this at all, but say so).
    """
    from django.core.exceptions import ValidationError

    from covey.core.models import ApiToken

    if via_scope is not None and via_scope != ApiToken.Scope.READ_WRITE and scope == ApiToken.Scope.READ_WRITE:
        raise ValidationError({"scope": TOKEN_SCOPE_WIDER})
    name = name.strip()
    if not name:
        raise ValidationError({"name": TOKEN_NAME_NEEDED})
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": TOKEN_SCOPE_UNKNOWN})
    token, key = ApiToken.issue(user=user, name=name, scope=scope)
    audit.record(actor=user, action="create", obj=token, changes={"name": [None, token.name], "scope": [None, token.scope]},
                 source=source)
    return token, key


@transaction.atomic
def token_revoke(*, token, actor, source: str = "web") -> bool:
    """Revoke ``token`` (once); False when it was already revoked."""
    if not token.is_active:
        return False
    token.revoke()
    audit.record(actor=actor, action="update", obj=token, changes={"revoked": [False, True]}, source=source)
    return True
