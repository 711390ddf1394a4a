"""The REST API: one NinjaAPI mounting each app's router. OpenAPI docs at /api/docs.

Design:
- Two ways in, tried in order: a personal token (``Authorization: Bearer cvy_…``, stored only as a
  SHA-256 hash) and the signed-in browser's session (which needs the CSRF token on unsafe methods,
  like any form). Either way ``request.auth`` is the user, and from there every endpoint uses the
  same access helpers as the web views, so a token sees and changes exactly what its user could.
- Every error is JSON of one shape, ``{"code", "detail", "errors"?}``: 401 not signed in, 403 seen
  but not changeable, 404 absent *or invisible* (existence never leaks), 422 invalid input with
  field errors, 400 unreadable input, 405/409/413 as HTTP means them. Unknown paths under /api/ and
  wrong methods answer in the same shape rather than with an HTML page.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import lru_cache, wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.http.request import RawPostDataException
from django.urls import re_path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.openapi import schema as ninja_openapi
from ninja.schema import NinjaGenerateJsonSchema
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from covey.accountmaps.api import router as accountmaps_router
from covey.agreements.api import router as agreements_router
from covey.analytics.api import router as analytics_router
from covey.core.api import ApiError, tokens_router
from covey.core.api import router as core_router
from covey.core.logs import note_user
from covey.core.models import ApiToken
from covey.core.money import MoneyError
from covey.core.notifications_api import router as notifications_router
from covey.core.settings_api import router as settings_router
from covey.core.sql import prepared_cursor
from covey.cosell.api import router as cosell_router
from covey.crm.api import router as crm_router
from covey.crm.transfer_api import router as crm_files_router
from covey.ecosystem.api import router as ecosystem_router
from covey.enablement import authoring_api  # noqa: F401  (adds the authoring endpoints to the enablement router)
from covey.enablement.api import router as enablement_router
from covey.interchange.api import router as interchange_router
from covey.joint.api import router as joint_router
from covey.lifecycle.api import router as lifecycle_router
from covey.mdf.api import router as mdf_router
from covey.partners.api import router as partners_router
from covey.payouts.api import router as payouts_router
from covey.plans.api import router as plans_router
from covey.programs.api import router as programs_router
from covey.recognition.api import router as recognition_router
from covey.registrations.api import router as registrations_router
from covey.surveys.api import router as surveys_router
from covey.tierreviews.api import router as tierreviews_router
from covey.webhooks.api import router as webhooks_router

log = logging.getLogger(__name__)

TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is a hint, not a log: one write a minute at most
TOKEN_MAX_LENGTH = 200
BAD_TOKEN = "The API token is not valid: it is unknown, revoked, or its user is deactivated."
NOT_SIGNED_IN = "Send an API token as 'Authorization: Bearer cvy_…', or sign in."
CSRF_FAILED = "The CSRF check failed. Browser requests that change data must send the X-CSRFToken header."
READ_ONLY_TOKEN = (
    "This token is read-only: it may only read (GET). Create a read-and-write token under "
    "Settings → API tokens to change data."
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

CODES = {
    400: "bad_input", 401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 422: "validation_error", 429: "throttled",
}


# --- authentication --------------------------------------------------------------------------


def _columns(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@lru_cache(maxsize=8)
def _converters(model) -> list[tuple]:
    """Per column of ``model``: the (expression, converters) the ORM would apply to a raw value
    (SQLite returns date-times as text, for one)."""
    found = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        found.append((column, connection.ops.get_db_converters(column) + field.get_db_converters(connection)))
    return found


def _from_row_value(model, attname: str, value):
    for column, converters in _converters(model):
        if column.target.attname == attname:
            for convert in converters:
                value = convert(value, column, connection)
            return value
    raise LookupError(attname)


def _from_row(model, values: list):
    converted = []
    for value, (column, converters) in zip(values, _converters(model), strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, _columns(model), converted)


def _token_parts() -> list[tuple[str, type]]:
    """(alias, model) of what the token query loads besides the token: its user, the membership,
    the partner and the partner's owner (who hears about what the partner submits)."""
    from covey.core.models import User
    from covey.partners.models import Membership, Partner

    return [("u", User), ("m", Membership), ("p", Partner), ("o", User)]


@lru_cache(maxsize=1)
def _token_sql() -> str:
    """The token with everything ``_token_parts`` names, in one statement.

    Every API call starts here, so this is plain SQL: building the ORM queries it replaces cost
    more CPU than the database spent answering them (measured by ``covey bench registrations``).
    """
    from covey.core.models import User
    from covey.partners.models import Membership, Partner

    q = connection.ops.quote_name
    select = ", ".join(f"{alias}.{q(col)}" for alias, model in _token_parts() for col in _columns(model))
    return (
        f"SELECT t.{q('id')}, t.{q('last_used_at')}, t.{q('scope')}, {select}"
        f" FROM {q(ApiToken._meta.db_table)} t"
        f" JOIN {q(User._meta.db_table)} u ON u.{q('id')} = t.{q('user_id')}"
        f" LEFT JOIN {q(Membership._meta.db_table)} m ON m.{q('user_id')} = u.{q('id')}"
        f" LEFT JOIN {q(Partner._meta.db_table)} p ON p.{q('id')} = m.{q('partner_id')}"
        f" LEFT JOIN {q(User._meta.db_table)} o ON o.{q('id')} = p.{q('owner_id')}"
        f" WHERE t.{q('key_hash')} = %s AND t.{q('revoked_at')} IS NULL"
    )


def user_for_token(key: str):
    """The active user a token key belongs to, or None. Touches ``last_used_at`` at most once a minute.

    The user comes with its membership, partner and the partner's owner already loaded, as
    ``user.membership`` would load them, so the request needs no second query to know whose data
    it may see or whom to tell; ``user.token_scope`` is the token's scope.
    """
    from covey.core.models import User
    from covey.partners.models import Membership, Partner

    if not key.startswith(f"{ApiToken.PREFIX}_") or len(key) > TOKEN_MAX_LENGTH:
        return None
    with prepared_cursor() as cursor:
        cursor.execute(_token_sql(), [ApiToken.hash_key(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    token_id, scope, values = row[0], row[2], list(row[3:])
    last_used_at = _from_row_value(ApiToken, "last_used_at", row[1])
    per_model = []
    for _alias, model in _token_parts():
        width = len(_columns(model))
        per_model.append(values[:width])
        values = values[width:]
    user_values, membership_values, partner_values, owner_values = per_model
    user = _from_row(User, user_values)
    if not user.is_active:
        return None
    user.token_scope = scope
    if not user.is_vendor:
        membership = None
        if membership_values[0] is not None:
            membership = _from_row(Membership, membership_values)
            membership.partner = _from_row(Partner, partner_values)
            membership.partner.owner = _from_row(User, owner_values) if owner_values[0] is not None else None
            membership.user = user
        user.__dict__["membership"] = membership  # fills the cached_property
    now = timezone.now()
    if last_used_at is None or now - last_used_at >= TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cvy_…``. A token that is sent but wrong is a 401, never a fallback.

    The one place a token's scope is enforced: a read-only token's unsafe request is a 403 before
    any endpoint runs (or looks anything up), whatever the path. Scopes only ever take away.
    """

    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token.strip())
        if user is None:
            raise AuthenticationError(message=BAD_TOKEN)
        if request.method not in SAFE_METHODS and user.token_scope != ApiToken.Scope.READ_WRITE:
            raise ApiError(403, "insufficient_scope", READ_ONLY_TOKEN)
        note_user(user)
        request.user = user  # so anything reading request.user sees the token's owner
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser. Unsafe methods need the CSRF token, checked only once signed in, so an
    anonymous POST is a 401 (sign in) rather than a confusing CSRF 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise ApiError(403, "csrf_failed", CSRF_FAILED)
        note_user(user)
        return user

    def authenticate(self, request: HttpRequest, key: str | None):  # required by the base class
        return None


# --- the API ---------------------------------------------------------------------------------


def error_response(status: int, detail: str, *, code: str | None = None, errors: list | None = None) -> JsonResponse:
    body: dict = {"code": code or CODES.get(status, "error"), "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status)


def _json_method_errors(view):
    """Ninja answers a wrong method with an empty text 405; say it in JSON like every other error."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = ", ".join(sorted(m.strip() for m in response["Allow"].split(",")))
            response = error_response(405, f"{request.method} is not allowed here; use {allowed}.")
            response["Allow"] = allowed
        return response

    return wrapped


@csrf_exempt
def _unknown_path(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return error_response(404, "There is no API endpoint at this address; see /api/docs.")


class _AppScopedNames(NinjaGenerateJsonSchema):
    """Ninja pours every operation's definitions into one ``components`` section keyed by class
    name, so two apps' ``PlanOut`` would silently share one schema (the last one seen) and the
    document would describe the wrong answer. A name first claimed by one class is kept; another
    class of that name is named after its app (``JointPlanOut``). Generation order is the routers'
    order, so the names are stable."""

    claimed: dict[str, str] = {}

    def get_defs_ref(self, core_mode_ref):
        defs_ref = super().get_defs_ref(core_mode_ref)
        choices = self._prioritized_defsref_choices[defs_ref]
        short, path = str(choices[0]), re.sub(r":\d+", "", core_mode_ref[0])
        if self.claimed.setdefault(short, path) != path:
            parts = path.split(".")
            unique = f"{parts[1].title() if parts[0] == 'covey' and len(parts) > 2 else 'X'}{short}"
            self.claimed.setdefault(unique, path)
            self._prioritized_defsref_choices[defs_ref] = [unique, f"{unique}-{choices[1].rsplit('-', 1)[-1]}", *choices[2:]]
        return defs_ref


ninja_openapi.NinjaGenerateJsonSchema = _AppScopedNames  # what ninja's OpenAPI builder looks up


class CoveyAPI(NinjaAPI):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._openapi_cache: dict = {}

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # Ninja rebuilds the whole document on every request; it only changes with the code.
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        if key not in self._openapi_cache:
            self._openapi_cache[key] = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return self._openapi_cache[key]

    def _get_urls(self):
        patterns = super()._get_urls()
        for pattern in patterns:
            pattern.callback = _json_method_errors(pattern.callback)
        return [*patterns, re_path(r"^.*$", _unknown_path)]


api = CoveyAPI(
    title="Covey API",
    version="1",
    description=(
        "Covey's REST API. Authenticate with a personal token from Settings → API tokens, sent as "
        "`Authorization: Bearer cvy_…`; a token sees and changes exactly what its user can. Objects are "
        "addressed by their public id. Money is `{amount_minor, currency, amount}` with `amount` a decimal "
        "string; send `amount_minor` (integer) or `amount` (string), never a float. Lists take `limit` "
        "(default 50, at most 500) and `offset` and answer `{items, count}`. Creates accept an "
        "`Idempotency-Key` header: repeating the request with the same key returns the first answer. "
        "Errors are `{code, detail, errors?}`."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    # No external validator badge: the docs page must work offline and call no one.
    docs=Swagger(settings={"validatorUrl": None}),
)
api.add_router("", core_router)
api.add_router("", tokens_router)
api.add_router("", partners_router)
api.add_router("", crm_router)
api.add_router("", registrations_router)
api.add_router("", plans_router)
api.add_router("", cosell_router)
api.add_router("", joint_router)
api.add_router("", lifecycle_router)
api.add_router("", agreements_router)
api.add_router("", enablement_router)
api.add_router("", programs_router)
api.add_router("", tierreviews_router)
api.add_router("", webhooks_router)
api.add_router("", payouts_router)
api.add_router("", accountmaps_router)
api.add_router("", mdf_router)
api.add_router("", interchange_router)
api.add_router("", analytics_router)
api.add_router("", surveys_router)
api.add_router("", recognition_router)
api.add_router("", ecosystem_router)
api.add_router("", notifications_router)
api.add_router("", crm_files_router)
api.add_router("", settings_router)


# --- errors ----------------------------------------------------------------------------------


def _field_path(loc: tuple | list) -> str | None:
    """ninja's ("body", "payload", "amount", "amount_minor") → "amount.amount_minor".

    Pydantic adds the member tried for a union ("function-after[…]"); a client wants the field.
    """
    parts = [str(p) for p in loc]
    parts = parts[2:] if parts[:1] == ["body"] else parts[1:]
    return ".".join(p for p in parts if re.fullmatch(r"[\w-]+", p)) or None


def _message(error: dict) -> str:
    message = str(error.get("msg", "Invalid value"))
    return message.removeprefix("Value error, ")


@api.exception_handler(SchemaValidationError)
def _schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    errors = [{"field": _field_path(e.get("loc", ())), "message": _message(e)} for e in exc.errors]
    return _invalid(errors)


# Model field names that the API spells differently.
FIELD_NAMES = {"amount_minor": "amount", "currency": "amount.currency", "unit_price_minor": "unit_price", "discount_minor": "discount"}


@api.exception_handler(DjangoValidationError)
def _service_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors = []
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.error_dict.items():
            name = None if field == "__all__" else FIELD_NAMES.get(field, field)
            errors.extend({"field": name, "message": m} for e in field_errors for m in e.messages)
    else:
        errors.extend({"field": None, "message": m} for m in exc.messages)
    return _invalid(errors)


def _invalid(errors: list[dict]) -> HttpResponse:
    if len(errors) == 1:
        detail = errors[0]["message"] if errors[0]["field"] is None else f"{errors[0]['field']}: {errors[0]['message']}"
    else:
        detail = f"The input has {len(errors)} problems; see errors."
    return error_response(422, detail, errors=errors)


@api.exception_handler(MoneyError)
def _money_invalid(request: HttpRequest, exc: MoneyError) -> HttpResponse:
    return _invalid([{"field": None, "message": str(exc)}])


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.detail, code=exc.code)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = exc.message if exc.message != "Unauthorized" else NOT_SIGNED_IN
    response = error_response(401, detail)
    response["WWW-Authenticate"] = 'Bearer realm="covey"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = str(exc)
    if exc.status_code == 400 and detail.startswith("Cannot parse request body"):
        detail = "The request body is not valid JSON."
    return error_response(exc.status_code, detail)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # get_for_user says "No <thing> with that id" whether it is missing or invisible: safe to show.
    return error_response(404, str(exc) or "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, str(exc) or "Your role does not allow this.")


@api.exception_handler(IntegrityError)
def _conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # Validation catches duplicates first; this is the race where two requests wrote at once.
    log.info("API integrity conflict: %s", exc)
    return error_response(409, "That conflicts with another record written at the same time; fetch and retry.")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    if type(exc).__name__ == "RequestDataTooBig":
        return error_response(413, "The request is larger than this server accepts.")
    return error_response(400, "The request could not be read.")


@api.exception_handler(RawPostDataException)
def _unreadable(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    return error_response(400, "The request could not be read.")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, "Something went wrong on our side. The error has been logged.", code="server_error")
