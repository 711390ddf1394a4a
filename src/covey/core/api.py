"""The API's ``/me`` endpoint and the helpers every app's router uses.

Helpers here keep endpoints to the same four steps as views: fetch through the access helper,
validate (the schema), call one service, answer. ``create_once`` gives every create its
``Idempotency-Key`` behaviour; ``lookup`` resolves ids in a request body through ``visible_to`` so
a reference to something the caller cannot see reads exactly like one that does not exist.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Header, Router
from pydantic import BaseModel

from covey.core import access
from covey.core.models import IdempotencyKey, User
from covey.core.schemas import READ_ERRORS, OutSchema, Paging, Ref, ref

M = TypeVar("M", bound=models.Model)

IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX = 255
KEY_REUSED = (
    "This Idempotency-Key was already used for a different request. "
    "Use a new key for a new request; repeat a request unchanged to get its first answer."
)


class ApiError(Exception):
    """An answer with a status, a stable code and a sentence; turned into JSON by the API."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        self.status, self.code, self.detail = status, code, detail
        super().__init__(detail)


def user_of(request: HttpRequest) -> User:
    """The person the request acts for: the token's owner or the signed-in user."""
    return request.auth  # type: ignore[attr-defined]


# --- reading ---------------------------------------------------------------------------------


def page(queryset: models.QuerySet, paging: Paging, render: Callable[[Any], dict]) -> dict:
    items = queryset[paging.offset: paging.offset + paging.limit]
    return {"items": [render(obj) for obj in items], "count": queryset.count()}


def lookup(model: type[M], user, public_id: str, *, field: str) -> M:
    """An object named in the input, through ``visible_to``; unknown and invisible read the same."""
    try:
        return access.get_for_user(model, user, public_id)
    except Http404:
        raise ValidationError({field: f"No {model._meta.verbose_name} with id {public_id!r}."}) from None


def staff_user(public_id: str, *, field: str, roles: Iterable[str] | None = None) -> User:
    """A vendor staff member named as an owner. Only vendor staff can set owners, and they see staff."""
    users = User.objects.filter(public_id=public_id, is_active=True).exclude(staff_role="")
    if roles is not None:
        users = users.filter(staff_role__in=list(roles))
    user = users.first()
    if user is None:
        raise ValidationError({field: f"No active staff member with id {public_id!r} can own this."})
    return user


def refuse_nulls(values: dict, *, nullable: Iterable[str] = ()) -> None:
    """PATCH bodies may send null only for fields that can be empty-as-null (owner, external id…)."""
    allowed = set(nullable)
    wrong = {k: "This field cannot be null." for k, v in values.items() if v is None and k not in allowed}
    if wrong:
        raise ValidationError(wrong)


def no_content() -> HttpResponse:
    return HttpResponse(status=204)


# --- idempotent creates ----------------------------------------------------------------------


def _request_digest(request: HttpRequest) -> str:
    body = request.body
    try:  # the same JSON with other whitespace or key order is the same request
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).hexdigest()


def _stored(user: User, key: str) -> IdempotencyKey | None:
    stored = IdempotencyKey.objects.filter(user=user, key=key).first()
    if stored is not None and stored.created_at < timezone.now() - IDEMPOTENCY_TTL:
        stored.delete()  # an expired key may be used afresh
        return None
    return stored


def _replay(stored: IdempotencyKey, digest: str) -> HttpResponse:
    if stored.request_hash != digest:
        raise ValidationError({"Idempotency-Key": KEY_REUSED})
    response = JsonResponse(stored.response_body, status=stored.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_key_header():
    """The optional ``Idempotency-Key`` header of a create, declared so the OpenAPI document shows it."""
    return Header(
        None, alias="Idempotency-Key", min_length=1, max_length=IDEMPOTENCY_KEY_MAX,
        description="Any unique string (a UUID, say). Repeating the request with the same key returns "
        "the first answer instead of creating again; reusing it for a different request is a 422.",
    )


def create_once(
    request: HttpRequest, *, key: str | None, make: Callable[[], M], schema: type[BaseModel], render: Callable[[M], dict],
) -> HttpResponse:
    """Run ``make`` and answer 201 with the new object, at most once per ``Idempotency-Key``.

    The object and the stored answer are written in one transaction, so two concurrent requests
    with the same key cannot both create: the loser's insert of the key fails, its object is rolled
    back and it answers with the winner's stored response.
    """
    if key is None:
        obj = make()
        return JsonResponse(schema.model_validate(render(obj)).model_dump(mode="json"), status=201)
    user = user_of(request)
    digest = _request_digest(request)
    stored = _stored(user, key)
    if stored is not None:
        return _replay(stored, digest)
    try:
        with transaction.atomic():
            obj = make()
            body = schema.model_validate(render(obj)).model_dump(mode="json")
            IdempotencyKey.objects.create(user=user, key=key, request_hash=digest, response_status=201, response_body=body)
    except IntegrityError:
        stored = _stored(user, key)
        if stored is None:
            raise  # a conflict of the object itself, not of the key
        return _replay(stored, digest)
    return JsonResponse(body, status=201)


# --- /me -------------------------------------------------------------------------------------

router = Router(tags=["me"])


class Permissions(OutSchema):
    edit_crm: bool
    create_partner: bool
    log_activity: bool


class MeOut(OutSchema):
    id: str
    email: str
    full_name: str
    is_vendor: bool
    role: str
    role_label: str
    partner: Ref | None
    permissions: Permissions


@router.get(
    "/me", response={200: MeOut, **READ_ERRORS}, operation_id="me_get", summary="Who am I",
    description="The user this token or session acts for: role, partner (for partner users) and what they may change.",
)
def me(request: HttpRequest):
    user = user_of(request)
    membership = None if user.is_vendor else user.membership
    return {
        "id": user.public_id,
        "email": user.email,
        "full_name": user.full_name,
        "is_vendor": user.is_vendor,
        "role": user.staff_role or (membership.role if membership else ""),
        "role_label": user.role_label,
        "partner": ref(membership.partner) if membership else None,
        "permissions": {
            "edit_crm": access.can_edit_crm(user),
            "create_partner": access.can_create_partner(user),
            "log_activity": access.can_log_activity(user),
        },
    }
