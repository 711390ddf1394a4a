"""Access rows for webhooks (the contract is in tests/access_rows/__init__.py).

Webhooks receive every partner's events, so only admins manage them; other vendor staff are refused
(403) and partner users are not told they exist (404). ``build`` adds one endpoint pointing at the
discard port of loopback (a delivery the tables trigger never leaves the test's savepoint anyway)
with one delivery in its log.
"""

from __future__ import annotations

from tests.matrix import PARTNER_A, PARTNER_B, Route, expect, rest

ADMINS = ("vendor_admin",)
ADMIN_PAGE = expect(ok=ADMINS, forbidden=rest(ADMINS, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B)
HOOK = {"public_id": "webhook.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "webhook_list": Route(ADMIN_PAGE),
    "webhook_create": Route(ADMIN_PAGE),
    "webhook_detail": Route(ADMIN_PAGE, kwargs=HOOK),
    "webhook_edit": Route(ADMIN_PAGE, kwargs=HOOK),
    "webhook_delete": Route(ADMIN_PAGE, method="POST", kwargs=HOOK),
    "webhook_ping": Route(ADMIN_PAGE, method="POST", kwargs=HOOK),
    "webhook_replay": Route(ADMIN_PAGE, method="POST", kwargs={**HOOK, "delivery_id": "webhook_delivery.public_id"}),
}

W = "/api/webhooks/{webhook}"
ADMIN_ONLY_READ = (200, 403, 403, 403, 403, 403, 404, 404, 404, 404, 404)
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("create webhook", "POST", "/api/webhooks", {"url": "https://crm.example/in", "events": ["opportunity.won"]},
                                                                             (201, 403, 403, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("list webhooks", "GET", "/api/webhooks", None,                          ADMIN_ONLY_READ),
    ("read webhook", "GET", W, None,                                         ADMIN_ONLY_READ),
    ("webhook deliveries", "GET", W + "/deliveries", None,                   ADMIN_ONLY_READ),
    ("replay delivery", "POST", W + "/deliveries/{webhook_delivery}/replay", {},
                                                                             (201, 403, 403, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("ping webhook", "POST", W + "/ping", {},                                (201, 403, 403, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("delete webhook", "DELETE", W, None,                                    (204, 403, 403, 403, 403, 403, 404, 404, 404, 404, 404)),
]
# Lists a partner may call: for partner users the webhooks list answers 404, never A's data.
API_LISTS: list[str] = []


def build(world) -> None:
    from covey.webhooks import services

    w = world
    w.webhook = services.endpoint_create(url="http://127.0.0.1:9/covey-access-table", events=["webhook.ping"],
                                         description="Access table receiver", actor=w.vendor_admin)
    (w.webhook_delivery,) = services.emit("webhook.ping", {"note": "access table"}, endpoints=[w.webhook.pk])


def ids(world) -> dict[str, str]:
    return {"webhook": world.webhook.public_id, "webhook_delivery": world.webhook_delivery.public_id}


def secrets(world) -> list[str]:
    return [world.webhook.secret]


def state():
    from covey.webhooks.models import Delivery, Endpoint

    return (list(Endpoint.objects.values_list("public_id", "url", "is_active").order_by("id")), Delivery.objects.count())
