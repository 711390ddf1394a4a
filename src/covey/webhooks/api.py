"""Webhooks over the API (admins only; a partner user is not told they exist): endpoints, their
delivery log, replays and test events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router

from covey.core.access import is_admin, require
from covey.core.api import create_once, idempotency_key_header, no_content, page, search, user_of
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, InputSchema, OutSchema, Paging
from covey.webhooks import services
from covey.webhooks.models import Delivery, DeliveryStatus, Endpoint
from covey.webhooks.services import ADMINS_ONLY

router = Router(tags=["webhooks"])


class EndpointIn(InputSchema):
    url: str = Field(..., max_length=500)
    events: list[str] = Field(..., max_length=50)
    description: str = Field("", max_length=200)


class EndpointOut(OutSchema):
    id: str
    url: str
    events: list[str]
    description: str
    is_active: bool
    consecutive_failures: int
    disabled_reason: str
    secret: str


class EndpointPage(OutSchema):
    items: list[EndpointOut]
    count: int


class DeliveryOut(OutSchema):
    id: str
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    replay_of: str | None
    payload: dict[str, Any]


class DeliveryPage(OutSchema):
    items: list[DeliveryOut]
    count: int


class EndpointFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the URL or the description")


class DeliveryFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the event's name (registration.approved) or the delivery's id")
    status: DeliveryStatus | None = None


def endpoint_out(e: Endpoint) -> dict:
    return {"id": e.public_id, "url": e.url, "events": e.events, "description": e.description, "is_active": e.is_active,
            "consecutive_failures": e.consecutive_failures, "disabled_reason": e.disabled_reason, "secret": e.secret}


def delivery_out(d: Delivery) -> dict:
    return {"id": d.public_id, "event": d.event, "status": d.status, "attempts": d.attempts,
            "last_status_code": d.last_status_code, "last_error": d.last_error, "created_at": d.created_at,
            "delivered_at": d.delivered_at, "replay_of": d.replay_of.public_id if d.replay_of_id else None,
            "payload": d.payload}


def _admin(request: HttpRequest):
    user = user_of(request)
    if not user.is_vendor:
        raise Http404("No such operation for partner users")
    require(is_admin(user), ADMINS_ONLY)
    return user


def _endpoint(request: HttpRequest, public_id: str) -> tuple:
    user = _admin(request)
    endpoint = Endpoint.objects.filter(public_id=public_id[:40]).first()
    if endpoint is None:
        raise Http404("No webhook with that id")
    return user, endpoint


@router.get("/webhooks", response={200: EndpointPage, **READ_ERRORS}, operation_id="webhooks_list",
            summary="List webhooks", description="Admins only.")
def endpoints_list(request: HttpRequest, filters: Query[EndpointFilters]):
    _admin(request)
    return page(search(Endpoint.objects.all(), filters.q, "url", "description").order_by("url", "id"), filters, endpoint_out)


@router.post("/webhooks", response={201: EndpointOut, **WRITE_ERRORS}, operation_id="webhooks_create",
             summary="Create a webhook", description="The answer carries the signing secret. Admins only.")
def endpoint_create(request: HttpRequest, payload: EndpointIn, idempotency_key: str | None = idempotency_key_header()):
    user = _admin(request)
    return create_once(request, key=idempotency_key, schema=EndpointOut, render=endpoint_out,
                       make=lambda: services.endpoint_create(url=payload.url, events=payload.events,
                                                             description=payload.description, actor=user, source="api"))


@router.get("/webhooks/{id}", response={200: EndpointOut, **READ_ERRORS}, operation_id="webhooks_get",
            summary="Get a webhook", description="With its signing secret. Admins only.")
def endpoint_get(request: HttpRequest, id: str):
    return endpoint_out(_endpoint(request, id)[1])


@router.delete("/webhooks/{id}", response={204: None, **WRITE_ERRORS}, operation_id="webhooks_delete",
               summary="Delete a webhook", description="With its delivery log.")
def endpoint_delete(request: HttpRequest, id: str):
    user, endpoint = _endpoint(request, id)
    services.endpoint_delete(endpoint=endpoint, actor=user, source="api")
    return no_content()


@router.get("/webhooks/{id}/deliveries", response={200: DeliveryPage, **READ_ERRORS},
            operation_id="webhooks_deliveries", summary="A webhook's delivery log", description="Newest first.")
def deliveries_list(request: HttpRequest, id: str, filters: Query[DeliveryFilters]):
    endpoint = _endpoint(request, id)[1]
    qs = search(endpoint.deliveries.select_related("replay_of"), filters.q, "event", "public_id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs.order_by("-created_at", "-id"), filters, delivery_out)


@router.post("/webhooks/{id}/deliveries/{delivery_id}/replay", response={201: DeliveryOut, **WRITE_ERRORS},
             operation_id="webhooks_replay", summary="Send a delivery again",
             description="A new delivery with the same event id and payload, sent at once.")
def delivery_replay(request: HttpRequest, id: str, delivery_id: str,
                    idempotency_key: str | None = idempotency_key_header()):
    user, endpoint = _endpoint(request, id)
    delivery = endpoint.deliveries.filter(public_id=delivery_id[:40]).first()
    if delivery is None:
        raise Http404("No delivery with that id")
    return create_once(request, key=idempotency_key, schema=DeliveryOut, render=delivery_out,
                       make=lambda: services.replay(delivery=delivery, actor=user, source="api"))


@router.post("/webhooks/{id}/ping", response={201: DeliveryOut, **WRITE_ERRORS}, operation_id="webhooks_ping",
             summary="Send a test event", description="A webhook.ping delivery to this webhook only.")
def endpoint_ping(request: HttpRequest, id: str, idempotency_key: str | None = idempotency_key_header()):
    user, endpoint = _endpoint(request, id)
    if not endpoint.is_active:
        raise ValidationError("Turn the webhook on before sending it a test event.")
    return create_once(request, key=idempotency_key, schema=DeliveryOut, render=delivery_out,
                       make=lambda: services.ping(endpoint=endpoint, actor=user))
