"""Structured logs: a request id on every line, one access line per request, JSON when asked.

``COVEY_LOG_FORMAT=json`` makes every line one JSON object: ``time``, ``level``, ``logger``,
``message``, and, for lines written while a request is handled, ``request_id``, ``method``,
``path`` and (once known) ``user`` (the user's public id); the access line adds ``status`` and
``duration_ms``. The default, ``text``, stays plain human text for ``covey demo``. The access line is written when
``ACCESS_LOG`` is on (``covey serve --access-log``); a reverse proxy in front usually logs requests
already, and on a small machine the line costs about as much CPU as a light API request.

The request id comes from the client's ``X-Request-ID`` when it is well-formed (so a proxy's id
ties its logs to ours), otherwise a new one; either way it is sent back as ``X-Request-ID``.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")  # a UUID, a ULID, a proxy's hex id…
ACCESS_LOGGER = "covey.access"

# What the current request is, for every line logged while it is handled (threads and tasks alike).
_request: ContextVar[dict | None] = ContextVar("covey_request", default=None)
_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user")

access_log = logging.getLogger(ACCESS_LOGGER)


def request_id_from(header: str | None) -> str:
    """The client's id when it is well-formed, else a new random one."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    context = _request.get()
    return context["request_id"] if context else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Fields passed as ``extra`` win over the request's."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _request.get() or {}
        for name in _FIELDS:
            value = getattr(record, name, context.get(name))
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def granian_config(log_format: str) -> dict | None:
    """Granian's own logging config (its process and workers' start-up lines) in the same format."""
    if log_format != "json":
        return None
    from granian.log import LOGGING_CONFIG

    config = json.loads(json.dumps(LOGGING_CONFIG))
    for formatter in config["formatters"].values():
        formatter.clear()
        formatter["()"] = "covey.core.logs.JsonFormatter"
    return config


def note_user(user) -> None:
    """The request's user is known (the API's authentication): later lines carry its public id."""
    context = _request.get()
    if context is not None and getattr(user, "public_id", None):
        context["user"] = user.public_id


def _user_id(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "public_id", None)


class RequestLogMiddleware:
    """First in the chain: gives the request its id, answers with it, writes its access line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        context = {"request_id": request_id, "method": request.method, "path": request.path}
        # Set until the request is finished (not just until this returns): Django logs a 4xx/5xx
        # answer ("Not Found: …") after the middleware chain, and that line belongs to the request.
        _request.set(context)
        started = time.perf_counter()
        response = self.get_response(request)
        if "user" not in context and (user := _user_id(request)):
            context["user"] = user
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response[REQUEST_ID_HEADER] = request_id
        if not settings.ACCESS_LOG:  # off by default: the line costs about as much CPU as a light request
            return response
        access_log.info(
            "%s %s %s %.1fms", request.method, request.path, response.status_code, duration_ms,
            extra={"status": response.status_code, "duration_ms": duration_ms},
        )
        return response


def _forget_request(**_kwargs) -> None:
    _request.set(None)


request_finished.connect(_forget_request, dispatch_uid="covey.core.logs.forget_request")
