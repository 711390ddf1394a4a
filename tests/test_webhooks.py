"""Webhooks: events land in the outbox with the change, are POSTed signed to a real local receiver,
retried with back-off, switched off after repeated failures, replayed; admins only."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from covey.crm import services as crm
from covey.webhooks import services
from covey.webhooks.models import Delivery, Endpoint
from covey.webhooks.signing import sign, verify
from tests.test_api import as_user


class Receiver:
    """A real HTTP server on loopback that records requests and answers ``status``."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def test_the_documented_recipe_and_the_signer_agree():
    body = b'{"event":"webhook.ping"}'
    header = sign("whsec_test", body, 1_700_000_000)
    assert verify("whsec_test", body, header, now=1_700_000_100)
    assert not verify("whsec_test", body + b" ", header, now=1_700_000_100)
    assert not verify("whsec_other", body, header, now=1_700_000_100)
    assert not verify("whsec_test", body, header, now=1_700_000_000 + 301)  # too old: a replay
    assert not verify("whsec_test", body, "garbage", now=1_700_000_000)


@pytest.mark.django_db(transaction=True)
def test_a_won_deal_reaches_the_subscribed_receiver_signed_and_only_it(world, receiver):
    hook = services.endpoint_create(url=receiver.url, events=["opportunity.won"], actor=world.vendor_admin)
    other = services.endpoint_create(url=receiver.url + "/other", events=["opportunity.lost"], actor=world.vendor_admin)
    crm.opportunity_update(opportunity=world.opportunity_a, actor=world.sales_rep, stage="Closed Won")
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert headers["Covey-Event"] == "opportunity.won"
    assert verify(hook.secret, body, headers["Covey-Signature"], now=int(time.time()))
    payload = json.loads(body)
    assert payload["data"]["id"] == world.opportunity_a.public_id
    assert payload["data"]["partners"][0]["name"] == world.partner_a.name
    delivery = Delivery.objects.get(endpoint=hook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert headers["Covey-Delivery"] == delivery.public_id
    assert not Delivery.objects.filter(endpoint=other).exists()


@pytest.mark.django_db(transaction=True)
def test_failures_back_off_then_give_up_and_repeated_failures_switch_the_endpoint_off(world, receiver):
    receiver.status = 500
    hook = services.endpoint_create(url=receiver.url, events=["webhook.ping"], actor=world.vendor_admin)
    delivery = services.ping(endpoint=hook, actor=world.vendor_admin)  # the first try runs on commit
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("retrying", 1, "answered 500")
    first_retry = delivery.next_attempt_at
    assert services.deliver_due(now=timezone.now()) == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    later = first_retry + timedelta(seconds=1)
    services.deliver_due(now=later)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at - timezone.now() > timedelta(minutes=1, seconds=50)
    for attempt in range(3, services.MAX_ATTEMPTS + 1):
        services.deliver_due(now=timezone.now() + timedelta(days=attempt))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", services.MAX_ATTEMPTS)

    receiver.status = 200
    again = services.replay(delivery=delivery, actor=world.vendor_admin)
    again.refresh_from_db()
    assert again.status == "delivered" and again.payload["id"] == delivery.payload["id"]

    receiver.status = 503
    for _ in range(services.DISABLE_AFTER):
        services.ping(endpoint=hook, actor=world.vendor_admin)
    hook.refresh_from_db()
    assert not hook.is_active and "15 failed tries" in hook.disabled_reason
    assert world.vendor_admin.notifications.filter(kind="webhook.disabled").exists()
    sent = len(receiver.requests)
    services.deliver_due(now=timezone.now() + timedelta(days=30))
    assert len(receiver.requests) == sent  # a switched-off endpoint gets nothing


@pytest.mark.django_db(transaction=True)
def test_a_registration_that_rolls_back_sends_nothing(world, receiver):
    from django.db import transaction

    services.endpoint_create(url=receiver.url, events=["opportunity.lost"], actor=world.vendor_admin)
    with pytest.raises(RuntimeError), transaction.atomic():
        crm.opportunity_update(opportunity=world.opportunity_b, actor=world.sales_rep, stage="Closed Lost",
                               lost_reason="Budget")
        raise RuntimeError("the surrounding work failed")
    assert not Delivery.objects.exists() and receiver.requests == []


@pytest.mark.django_db
def test_bad_endpoints_are_refused_and_nothing_is_saved(world):
    from django.core.exceptions import ValidationError

    for url, events, field in (("ftp://x.example", ["webhook.ping"], "url"), ("not a url", ["webhook.ping"], "url"),
                               ("https://x.example", [], "events"), ("https://x.example", ["nope"], "events")):
        with pytest.raises(ValidationError) as refused:
            services.endpoint_create(url=url, events=events, actor=world.vendor_admin)
        assert field in refused.value.message_dict
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_pages_and_api_are_for_admins_only(world, login):
    assert login(world.vendor_admin).post("/settings/webhooks/new/", {
        "url": "https://crm.example/hook", "events": ["registration.approved"], "description": "CRM"}).status_code == 302
    hook = Endpoint.objects.get()
    assert login(world.vendor_admin).get(f"/settings/webhooks/{hook.public_id}/").status_code == 200
    assert login(world.partner_manager).get("/settings/webhooks/").status_code == 403
    assert login(world.a_admin).get("/settings/webhooks/").status_code == 404
    api = as_user(world.vendor_admin)
    r = api.post("/api/webhooks", {"url": "https://chat.example/in", "events": ["tier.changed"]})
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    assert as_user(world.finance).get("/api/webhooks").status_code == 403
    assert as_user(world.b_admin).get(f"/api/webhooks/{hook.public_id}").status_code == 404
    assert api.post("/api/webhooks", {"url": "file:///etc/passwd", "events": ["tier.changed"]}).status_code == 422


def test_webhook_dates_serialise(db):
    assert services._envelope("webhook.ping", {"on": date(2026, 1, 2)})["data"] == {"on": "2026-01-02"}
