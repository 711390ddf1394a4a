"""Deal registrations over the API: submit outcomes, bad input, review actions, visibility."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from covey.registrations.models import Registration

pytestmark = pytest.mark.django_db

FUTURE = (date.today() + timedelta(days=60)).isoformat()


def body(**over):
    data = {
        "company_name": "Globex GmbH", "domain": "https://www.globex.de/about", "contact_name": "Hank Scorpio",
        "contact_email": "hank@globex.de", "contact_phone": "", "value": {"amount": "25000.00", "currency": "EUR"},
        "products": [], "expected_close": FUTURE, "deal_type": "new", "description": "Platform rollout",
        "evidence": "Joint discovery call on 3 March",
    }
    data.update(over)
    return data


def post(client, data, path="/api/registrations"):
    return client.post(path, data=json.dumps(data), content_type="application/json")


def test_partner_rep_registers_and_second_partner_sees_only_already_registered(world, login, client):
    c = login(world.a_rep)
    r = post(c, body(products=[world.product.public_id]))
    assert r.status_code == 201, r.content
    first = r.json()
    assert first["status"] == "submitted" and first["holds_claim"] is True
    assert first["claim_domain"] == "globex.de"
    assert first["partner"]["id"] == world.partner_a.public_id
    assert [p["id"] for p in first["products"]] == [world.product.public_id]
    client.logout()
    c = login(world.b_rep)
    r = post(c, body(company_name="GLOBEX", domain="globex.de"))
    assert r.status_code == 201
    second = r.json()
    assert second["status"] == "conflict" and second["holds_claim"] is False
    assert second["reason"] == "This account is already registered."
    assert second["conflict_with"] is None
    assert first["id"] not in r.content.decode() and "Alpha" not in r.content.decode()
    loser = Registration.objects.get(public_id=second["id"])
    assert loser.conflict_with.public_id == first["id"]


def test_submit_query_budget(world, login):
    c = login(world.a_rep)
    assert post(c, body(domain="warmup.com")).status_code == 201  # session, membership and caches warmed like a keep-alive client
    with CaptureQueriesContext(connection) as ctx:
        r = post(c, body(products=[world.product.public_id]))
    assert r.status_code == 201
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    # session + user (the browser's; a token is one query) + membership, products, program, CRM facts,
    # the insert, its products, the audit record, the reviewers and their notification.
    assert len(statements) <= 11, "\n".join(s[:120] for s in statements)


def api(user):
    from tests.test_api import as_user

    return as_user(user)


@pytest.mark.parametrize("over, field", [
    ({"domain": "localhost"}, "domain"),
    ({"domain": ""}, "domain"),
    ({"company_name": ""}, "company_name"),
    ({"company_name": "x" * 201}, "company_name"),
    ({"value": {"amount": "-1.00", "currency": "EUR"}}, "value.amount"),
    ({"value": {"amount": "0", "currency": "EUR"}}, "value"),
    ({"value": {"amount_minor": 10**14, "currency": "EUR"}}, "value"),
    ({"value": {"amount_minor": 0, "currency": "EUR"}}, "value"),
    ({"value": {"amount_minor": -3, "currency": "EUR"}}, "value.amount_minor"),
    ({"value": {"amount": 25000.5, "currency": "EUR"}}, "value.amount"),
    ({"value": {"amount": "25000.00", "currency": "XYZ"}}, "value.currency"),
    ({"value": {"amount": "25000.00", "currency": "DEM"}}, "value.currency"),
    ({"value": {"amount": "25000.00"}}, "value.currency"),
    ({"value": {"amount": "12.345", "currency": "EUR"}}, "value.amount"),
    ({"expected_close": "2020-01-01"}, "expected_close"),
    ({"expected_close": "tomorrow"}, "expected_close"),
    ({"description": "d" * 5001}, "description"),
    ({"contact_email": "nope"}, "contact_email"),
    ({"deal_type": "renewal"}, "deal_type"),
    ({"products": ["prd_000000000000"]}, "products"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(world, over, field):
    from covey.core.models import AuditEvent
    from tests.test_api import assert_error

    before = AuditEvent.objects.count()
    response = api(world.a_rep).post("/api/registrations", body(**over))
    assert_error(response, 422, "validation_error", field)
    assert not Registration.objects.exists() and AuditEvent.objects.count() == before


def test_nul_bytes_and_broken_json_are_refused_before_anything_is_stored(world):
    client = api(world.a_rep)
    assert client.post("/api/registrations", body(company_name="Glo\x00bex")).status_code == 400
    assert client.send("POST", "/api/registrations", raw=b'{"company_name": ').status_code == 400
    assert not Registration.objects.exists()


def test_vendor_staff_must_name_the_partner_and_partners_only_their_own(world):
    from tests.test_api import assert_error

    assert_error(api(world.partner_manager).post("/api/registrations", body()), 422, "validation_error", "partner")
    ok = api(world.partner_manager).post("/api/registrations", body(partner=world.partner_b.public_id))
    assert ok.status_code == 201 and ok.json()["partner"]["id"] == world.partner_b.public_id
    assert_error(api(world.a_rep).post("/api/registrations", body(domain="other.com", partner=world.partner_b.public_id)),
                 422, "validation_error", "partner")
    assert_error(api(world.a_readonly).post("/api/registrations", body(domain="other.com")), 403, "forbidden")


def test_rule_rejection_is_a_201_with_the_reason(world):
    r = api(world.a_rep).post("/api/registrations", body(value={"amount_minor": 5, "currency": "USD"}))
    assert r.status_code == 201
    assert r.json()["status"] == "rejected" and "minimum" in r.json()["reason"] and not r.json()["holds_claim"]


def test_idempotency_key_replays_the_first_answer(world):
    client = api(world.a_rep)
    first = client.post("/api/registrations", body(), headers={"Idempotency-Key": "k-1"})
    again = client.post("/api/registrations", body(), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and Registration.objects.count() == 1


def test_review_flow_over_the_api_and_partner_view(world):
    reg_id = api(world.a_rep).post("/api/registrations", body()).json()["id"]
    manager = api(world.partner_manager)
    assert manager.post(f"/api/registrations/{reg_id}/review").json()["status"] == "under_review"
    approved = manager.post(f"/api/registrations/{reg_id}/approve").json()
    assert approved["status"] == "converted" and approved["opportunity"] and approved["protection_expires_at"]
    again = manager.post(f"/api/registrations/{reg_id}/approve")
    assert again.status_code == 422
    partner = api(world.a_rep)
    ext = partner.post(f"/api/registrations/{reg_id}/extension", {"reason": "Budget moved"}).json()
    assert ext["extension_requested_at"] and ext["extension_granted"] is None
    decided = manager.post(f"/api/registrations/{reg_id}/extension-decision", {"grant": False}).json()
    assert decided["extension_granted"] is False
    listing = partner.get("/api/registrations", {"status": "converted"}).json()
    assert [r["id"] for r in listing["items"]] == [reg_id] and listing["count"] == 1
    assert api(world.b_rep).get("/api/registrations").json() == {"items": [], "count": 0}


def test_conflict_queue_and_resolution_over_the_api(world):
    holder = api(world.a_rep).post("/api/registrations", body()).json()
    loser = api(world.b_rep).post("/api/registrations", body(company_name="Globex AG", domain="globex.de")).json()
    queue = api(world.other_manager).get("/api/registration-conflicts").json()
    assert queue["count"] == 1
    contest = queue["items"][0]
    assert contest["domain"] == "globex.de" and contest["holder"]["id"] == holder["id"]
    assert [c["id"] for c in contest["contenders"]] == [loser["id"]]
    vendor_view = api(world.vendor_admin).get(f"/api/registrations/{loser['id']}").json()
    assert vendor_view["conflict_with"] == holder["id"]
    resolved = api(world.vendor_admin).post(
        "/api/registration-conflicts/resolve", {"domain": "globex.de", "outcome": "reject", "note": "Direct deal"},
    )
    assert resolved.status_code == 200 and set(resolved.json()["registrations"]) == {loser["id"]}
    assert api(world.b_rep).get(f"/api/registrations/{loser['id']}").json()["status"] == "rejected"
    assert api(world.vendor_admin).get("/api/registration-conflicts").json()["count"] == 0


def test_program_read_and_change(world):
    program = api(world.a_rep).get("/api/registration-program").json()
    assert {m["currency"] for m in program["minimums"]} == {"EUR", "GBP", "USD"}
    changed = api(world.vendor_admin).patch(
        "/api/registration-program", {"minimums": [{"amount": "5000", "currency": "CHF"}], "allow_expansion": True},
    ).json()
    assert changed["minimums"] == [{"amount_minor": 500000, "currency": "CHF", "amount": "5000.00"}]
    assert changed["allow_expansion"] is True
    bad = api(world.vendor_admin).patch("/api/registration-program", {"protection_days": 0})
    assert bad.status_code == 422
    assert api(world.vendor_admin).patch("/api/registration-program", {"allow_expansion": None}).status_code == 422
