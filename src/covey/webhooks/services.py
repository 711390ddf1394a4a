"""Webhook workflows: emitting events into the outbox, sending due deliveries, replays, and endpoints.

``emit`` is called by producers inside their own transaction. It costs nothing when no endpoint
listens: the active subscriptions are kept per process for a few seconds (and forgotten at once
when this process changes an endpoint), so the busiest path — a registration — does not pay a
query for a feature it does not use.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import requests
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from covey.core import audit
from covey.core.models import StaffRole, User
from covey.core.notify import notify
from covey.core.validators import clean_text
from covey.webhooks.events import EVENTS
from covey.webhooks.models import Delivery, DeliveryStatus, Endpoint
from covey.webhooks.signing import new_secret, sign

MAX_ATTEMPTS = 8  # 1, 2, 4 … 64 minutes apart: about two hours of retries
DISABLE_AFTER = 15  # failed tries in a row (across deliveries) switch the endpoint off
TIMEOUT_SECONDS = 10
LEASE = timedelta(minutes=2)  # a claimed delivery is not claimed again by another worker meanwhile
CACHE_SECONDS = 5.0
SWEEP_BATCH = 100
USER_AGENT = "Covey-Webhooks/1"

ADMINS_ONLY = "Only admins manage webhooks: they receive every partner's events."
BAD_URL = "Enter an http:// or https:// address the server can reach."
NO_EVENTS = "Choose at least one event."
UNKNOWN_EVENT = "Unknown event {name!r}."

_subscribers: tuple[float, list[tuple[int, frozenset[str]]]] | None = None


def forget_subscribers(**_kwargs) -> None:
    global _subscribers
    _subscribers = None


def _listening(event: str) -> list[int]:
    global _subscribers
    now = time.monotonic()
    if _subscribers is None or _subscribers[0] < now:
        rows = Endpoint.objects.filter(is_active=True).values_list("pk", "events")
        _subscribers = (now + CACHE_SECONDS, [(pk, frozenset(events)) for pk, events in rows])
    return [pk for pk, events in _subscribers[1] if event in events]


def listening(event: str) -> bool:
    """Whether any active endpoint receives ``event`` (for producers whose payload costs a query)."""
    return bool(_listening(event))


def _envelope(event: str, data: dict) -> dict:
    return {"id": f"evt_{uuid.uuid4().hex}", "event": event,
            "created_at": timezone.now().isoformat(timespec="seconds"),
            "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder))}


def emit(event: str, data: dict | Callable[[], dict], *, endpoints: list[int] | None = None) -> list[Delivery]:
    """Queue ``event`` for every active endpoint subscribed to it (``data`` may be a callable, built
    only when someone listens). Sent after the surrounding transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    targets = endpoints if endpoints is not None else _listening(event)
    if not targets:
        return []
    payload = _envelope(event, data() if callable(data) else data)
    made = Delivery.objects.bulk_create([Delivery(endpoint_id=pk, event=event, payload=payload) for pk in targets])
    ids = [d.pk for d in made]
    transaction.on_commit(lambda: _enqueue(ids))
    return made


def _enqueue(ids: list[int]) -> None:
    from covey.webhooks.tasks import deliver_now

    deliver_now.enqueue(ids)


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=2 ** (attempts - 1))


def _claim(ids: list[int] | None, now: datetime) -> list[Delivery]:
    with transaction.atomic():
        qs = Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
                                     next_attempt_at__lte=now, endpoint__is_active=True)
        if ids is not None:
            qs = qs.filter(pk__in=ids)
        claimed = list(qs.select_for_update(skip_locked=True, of=("self",)).select_related("endpoint")
                       .order_by("next_attempt_at", "pk")[:SWEEP_BATCH])
        Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(next_attempt_at=now + LEASE)
    return claimed


def send(delivery: Delivery) -> tuple[int | None, str]:
    """POST the delivery once: (status code or None, error text or "")."""
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Covey-Event": delivery.event,
               "Covey-Delivery": delivery.public_id,
               "Covey-Signature": sign(delivery.endpoint.secret, body, int(time.time()))}
    try:
        response = requests.post(delivery.endpoint.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"answered {response.status_code}"


def deliver_due(*, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Send the due deliveries (or only ``ids``); record each try. Returns how many were delivered."""
    now = now or timezone.now()
    delivered = 0
    for delivery in _claim(ids, now):
        code, error = send(delivery)
        _record(delivery, code=code, error=error, now=timezone.now())
        delivered += not error
    return delivered


@transaction.atomic
def _record(delivery: Delivery, *, code: int | None, error: str, now: datetime) -> None:
    endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = code, error
    if not error:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        endpoint.consecutive_failures = 0
    else:
        give_up = delivery.attempts >= MAX_ATTEMPTS
        delivery.status = DeliveryStatus.FAILED if give_up else DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        endpoint.consecutive_failures += 1
        if endpoint.is_active and endpoint.consecutive_failures >= DISABLE_AFTER:
            endpoint.is_active = False
            endpoint.disabled_reason = f"Switched off after {DISABLE_AFTER} failed tries in a row; last: {error}"[:300]
            admins = User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True)
            notify(admins, kind="webhook.disabled", title=f"Webhook switched off: {endpoint.url}",
                   body=endpoint.disabled_reason, url=f"/settings/webhooks/{endpoint.public_id}/")
    delivery.save(update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at",
                                 "next_attempt_at"])
    endpoint.save(update_fields=["consecutive_failures", "is_active", "disabled_reason"])


@transaction.atomic
def replay(*, delivery: Delivery, actor, source: str = "web") -> Delivery:
    """Send the same event again (a new delivery with the same payload and event id)."""
    again = Delivery.objects.create(endpoint=delivery.endpoint, event=delivery.event, payload=delivery.payload,
                                    replay_of=delivery)
    audit.record(actor=actor, action="create", obj=delivery.endpoint, source=source,
                 changes={"replay": [delivery.public_id, again.public_id]})
    transaction.on_commit(lambda: _enqueue([again.pk]))
    return again


# --- endpoints ------------------------------------------------------------------------------------


def _clean(url: str, events, description: str) -> tuple[str, list[str], str]:
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
        if len(url) > 500:
            raise ValidationError(BAD_URL)
    except ValidationError:
        errors["url"] = [BAD_URL]
    chosen = list(dict.fromkeys(events or []))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        errors["events"] = [UNKNOWN_EVENT.format(name=unknown[0])]
    elif not chosen:
        errors["events"] = [NO_EVENTS]
    try:
        description = clean_text(description, field="description", limit=200)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return url, chosen, description


@transaction.atomic
def endpoint_create(*, url: str, events, description: str = "", actor, source: str = "web") -> Endpoint:
    url, events, description = _clean(url, events, description)
    endpoint = Endpoint.objects.create(url=url, events=events, description=description, secret=new_secret(),
                                       created_by=actor)
    audit.record(actor=actor, action="create", obj=endpoint, source=source,
                 changes={"url": [None, url], "events": [None, events]})
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, url: str, events, description: str = "", is_active: bool | None = None,
                    actor, source: str = "web") -> Endpoint:
    url, events, description = _clean(url, events, description)
    before = audit.snapshot(endpoint, ["url", "events", "description", "is_active"])
    endpoint.url, endpoint.events, endpoint.description = url, events, description
    if is_active is not None and is_active != endpoint.is_active:
        endpoint.is_active = is_active
        if is_active:
            endpoint.consecutive_failures, endpoint.disabled_reason = 0, ""
    endpoint.save()
    changes = audit.diff(before, audit.snapshot(endpoint, ["url", "events", "description", "is_active"]))
    if changes:
        audit.record(actor=actor, action="update", obj=endpoint, source=source, changes=changes)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, actor, source: str = "web") -> None:
    audit.record(actor=actor, action="delete", obj=endpoint, source=source, changes={"url": [endpoint.url, None]})
    endpoint.delete()


def ping(*, endpoint: Endpoint, actor) -> Delivery:
    with transaction.atomic():
        (delivery,) = emit("webhook.ping", {"endpoint": endpoint.public_id, "sent_by": actor.email},
                           endpoints=[endpoint.pk])
    return delivery
