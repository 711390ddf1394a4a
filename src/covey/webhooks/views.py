"""Webhook pages (admins only: a webhook receives every partner's events): endpoints, their delivery log
with replay, a test event, and the signing secret."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from covey.core.access import is_admin, require, require_vendor
from covey.core.formtools import show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.webhooks import services
from covey.webhooks.forms import EndpointForm
from covey.webhooks.models import Delivery, DeliveryStatus, Endpoint
from covey.webhooks.services import ADMINS_ONLY


def _admin(request: HttpRequest) -> None:
    require_vendor(request.user)
    require(is_admin(request.user), ADMINS_ONLY)


def _endpoint(request: HttpRequest, public_id: str) -> Endpoint:
    _admin(request)
    endpoint = Endpoint.objects.filter(public_id=public_id[:40]).first()
    if endpoint is None:
        raise Http404("No webhook with that id")
    return endpoint


@login_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "webhooks/endpoint_list.html", {"endpoints": Endpoint.objects.all()})


@login_required
def endpoint_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            endpoint = services.endpoint_create(url=d["url"], events=d["events"], description=d["description"],
                                                actor=request.user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Webhook created. Copy its signing secret into the receiver.")
            return redirect("webhook_detail", public_id=endpoint.public_id)
    return render(request, "webhooks/endpoint_form.html", {"form": form})


@login_required
def endpoint_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    form = EndpointForm(request.POST or None, initial={"url": endpoint.url, "description": endpoint.description,
                                                       "events": endpoint.events, "is_active": endpoint.is_active})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.endpoint_update(endpoint=endpoint, url=d["url"], events=d["events"], description=d["description"],
                                     is_active=d["is_active"], actor=request.user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Webhook saved.")
            return redirect("webhook_detail", public_id=endpoint.public_id)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint})


@login_required
def endpoint_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    listing = build_listing(request, endpoint.deliveries.all(), search=("event", "public_id"),
                            filters=[Filter("status", "Status", lookup="status", choices=DeliveryStatus.choices)],
                            sorts={"created": ["created_at"]}, default_sort="-created")
    return render_list(request, "webhooks/endpoint_detail.html", "webhooks/_delivery_results.html",
                       {"endpoint": endpoint, "listing": listing})


@login_required
@require_POST
def endpoint_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    services.endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, f"Webhook {endpoint.url} deleted with its delivery log.")
    return redirect("webhook_list")


@login_required
@require_POST
def endpoint_ping(request: HttpRequest, public_id: str) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    if not endpoint.is_active:
        messages.error(request, "Turn the webhook on before sending it a test event.")
    else:
        services.ping(endpoint=endpoint, actor=request.user)
        messages.success(request, "Test event queued; its delivery shows below within seconds.")
    return redirect("webhook_detail", public_id=endpoint.public_id)


@login_required
@require_POST
def delivery_replay(request: HttpRequest, public_id: str, delivery_id: str) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    delivery = Delivery.objects.filter(endpoint=endpoint, public_id=delivery_id[:40]).first()
    if delivery is None:
        raise Http404("No delivery with that id")
    services.replay(delivery=delivery, actor=request.user)
    messages.success(request, f"{delivery.event} queued again.")
    return redirect("webhook_detail", public_id=endpoint.public_id)
