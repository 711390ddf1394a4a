"""The API's ``/me`` endpoint and the helpers every app's router uses.

Helpers here keep endpoints to the same four steps as views: fetch through the access helper,
validate (the schema), call one service, answer. ``create_once`` gives every create its
``Idempotency-Key`` behaviour; ``lookup`` resolves ids in a request body through ``visible_to`` so
a reference to something the caller cannot see reads exactly like one that does not exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Field, Header, Query, Router
from pydantic import BaseModel

from covey.core import access
from covey.core.models import ApiToken, IdempotencyKey, User
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, InputSchema, OutSchema, Paging, Ref, ref

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


def _is_unique_key(model: type[models.Model], term: Any) -> bool:
    """Whether ordering on ``term`` ("name", "-id", an expression…) alone tells every row apart."""
    if not isinstance(term, str):
        return False  # an expression: assume it can tie
    name = term.removeprefix("-")
    if name == "pk":
        return True
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False  # an annotation or a lookup across a relation ("partner__name")
    # A relation orders by the other model's ordering; a nullable unique column may hold many NULLs.
    return field.unique and not field.null and not field.is_relation


def total_order(queryset: models.QuerySet) -> models.QuerySet:
    """``queryset`` in its own order (or its model's ``Meta.ordering``), with the primary key last
    unless that order already ends in a unique key.

    Lists page with LIMIT/OFFSET, and each page is its own query: where the order ties (two deals
    closing the same day), the database may put the tied rows in a different order from one query to
    the next, so a row can show up on two pages and another on none. PostgreSQL and SQLite break
    ties differently (and PostgreSQL differently as the plan or the data changes), so it can pass on
    one and fail on the other. The primary key last makes the order total and every page disjoint.
    For querysets of model rows (not ``values()`` with aggregates, whose grouping the key would change).
    """
    ordering = list(queryset.query.order_by)
    if not ordering and queryset.query.default_ordering:
        ordering = list(queryset.model._meta.ordering)
    if ordering and _is_unique_key(queryset.model, ordering[-1]):
        return queryset.order_by(*ordering)  # Meta.ordering spelled out: GROUP BY queries would drop it
    last = ordering[-1] if ordering else None
    descending = last.startswith("-") if isinstance(last, str) else bool(getattr(last, "descending", False))
    return queryset.order_by(*ordering, "-pk" if descending else "pk")


def search(queryset: models.QuerySet, q: str | None, *fields: str) -> models.QuerySet:
    """The rows of ``queryset`` where any of ``fields`` contains ``q``, in any case (all of them when
    ``q`` is empty). It only narrows: ``queryset`` is already what the caller may see. Name fields of
    the row or of what it points to, never of a to-many relation (that would repeat rows)."""
    if not q:
        return queryset
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": q})
    return queryset.filter(condition)


def page(queryset: models.QuerySet, paging: Paging, render: Callable[[Any], dict]) -> dict:
    """One page of ``queryset`` (in a total order, so pages never overlap) and the count of all of it."""
    queryset = total_order(queryset)
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


ONE_CONTENT = "Send the file as either content or content_base64."
BAD_BASE64 = "content_base64 is not valid base64."
TOO_BIG = "The file is {size:,} bytes; uploads are limited to {limit:,}."


def uploaded_bytes(content: str | None, content_base64: str | None, *, limit: int) -> bytes:
    """A file sent inside a JSON body: as text (``content``, sent back as UTF-8) or as base64
    (``content_base64``, for binary files or text in another encoding). Exactly one of the two."""
    if (content is None) == (content_base64 is None):
        raise ValidationError({"content": ONE_CONTENT})
    if content is not None:
        data = content.encode("utf-8")
    else:
        try:
            data = base64.b64decode(content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError({"content_base64": BAD_BASE64}) from None
    if len(data) > limit:
        raise ApiError(413, "too_large", TOO_BIG.format(size=len(data), limit=limit))
    return data


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
    unstored: Callable[[M], dict] | None = None,
) -> HttpResponse:
    """Run ``make`` and answer 201 with the new object, at most once per ``Idempotency-Key``.

    The object and the stored answer are written in one transaction, so two concurrent requests
    with the same key cannot both create: the loser's insert of the key fails, its object is rolled
    back and it answers with the winner's stored response. ``unstored`` adds fields to the first
    answer only (a secret); the stored one, and so a replay, has what ``render`` gives.
    """
    def first(obj: M, body: dict) -> HttpResponse:
        return JsonResponse(body | (unstored(obj) if unstored else {}), status=201)

    if key is None:
        obj = make()
        return first(obj, schema.model_validate(render(obj)).model_dump(mode="json"))
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
    return first(obj, body)


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


# --- /tokens: the caller's own API tokens ------------------------------------------------------

tokens_router = Router(tags=["tokens"])


class TokenOut(OutSchema):
    id: str
    name: str
    scope: Literal["read", "read_write"]
    hint: str = Field(..., description="The key's last characters, to recognise it")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenPage(OutSchema):
    items: list[TokenOut]
    count: int


class TokenFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the token's name")


class TokenCreated(TokenOut):
    key: str = Field(..., description="The secret, shown this once; Covey keeps only its hash. A replay "
                     "(same Idempotency-Key) answers with an empty key: revoke that token and create another.")


class TokenIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=100)
    scope: Literal["read", "read_write"] = Field("read", description="read: safe methods only; read_write: as the user")


def token_out(t: ApiToken) -> dict:
    return {"id": t.public_id, "name": t.name, "scope": t.scope, "hint": t.hint, "created_at": t.created_at,
            "last_used_at": t.last_used_at, "revoked_at": t.revoked_at}


@tokens_router.get("/tokens", response={200: TokenPage, **READ_ERRORS}, operation_id="tokens_list",
                   summary="List my API tokens", description="Yours only, newest first, revoked ones included.")
def tokens_list(request: HttpRequest, filters: Query[TokenFilters]):
    tokens = search(user_of(request).api_tokens.all(), filters.q, "name")
    return page(tokens.order_by("-created_at", "-id"), filters, token_out)


@tokens_router.post(
    "/tokens", response={201: TokenCreated, **WRITE_ERRORS}, operation_id="tokens_create", summary="Create an API token",
    description="The answer carries the key, this once. A read-only token may create only read-only tokens.",
)
def tokens_create(request: HttpRequest, payload: TokenIn, idempotency_key: str | None = idempotency_key_header()):
    from covey.core.services import token_issue

    user = user_of(request)
    keys: dict = {}

    def make() -> ApiToken:
        token, secret = token_issue(user=user, name=payload.name, scope=payload.scope, source="api",
                                    via_scope=getattr(user, "token_scope", None))
        keys[token.pk] = secret
        return token

    return create_once(request, key=idempotency_key, make=make, schema=TokenCreated,
                       render=lambda t: token_out(t) | {"key": ""}, unstored=lambda t: {"key": keys[t.pk]})


@tokens_router.delete("/tokens/{id}", response={204: None, **WRITE_ERRORS}, operation_id="tokens_revoke",
                      summary="Revoke an API token", description="It stops working at once. Revoking twice is fine.")
def tokens_revoke(request: HttpRequest, id: str):
    from covey.core.services import token_revoke

    user = user_of(request)
    token = user.api_tokens.filter(public_id=id[:40]).first()
    if token is None:
        raise Http404("No token with that id")
    token_revoke(token=token, actor=user, source="api")
    return no_content()
