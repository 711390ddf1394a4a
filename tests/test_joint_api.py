"""Joint proposals and account plans over the API: the whole flow, conflicts, and bad input."""

from __future__ import annotations

from covey.joint.models import AccountPlanStep, JointAccountPlan, JointProposal, ProposalLine
from tests.test_api import as_user, assert_error


def _create(world, api=None):
    api = api or as_user(world.sales_rep)
    return api.post("/api/proposals", {"opportunity": world.opportunity_a.public_id, "partner": world.partner_a.public_id,
                                       "valid_until": "2099-01-31"})


def test_a_proposal_goes_from_draft_to_accepted_through_the_api(world):
    created = _create(world)
    assert created.status_code == 201, created.content
    body = created.json()
    pid = body["id"]
    assert body["status"] == "draft" and body["currency"] == "USD" and len(body["lines"]) == 1
    assert body["totals"]["vendor_subtotal"] == {"amount_minor": 2_400_000, "currency": "USD", "amount": "24000.00"}

    partner = as_user(world.a_rep)
    line = partner.post(f"/api/proposals/{pid}/lines", {"kind": "partner_service", "description": "Rollout", "quantity": 5,
                                                        "unit_price": {"amount": "1200.00"}})
    assert line.status_code == 201 and line.json()["total"]["amount"] == "6000.00"
    vendor_line = body["lines"][0]["id"]
    changed = as_user(world.sales_rep).patch(f"/api/proposals/{pid}/lines/{vendor_line}", {"discount_percent": "25"})
    assert changed.status_code == 200 and changed.json()["discount"]["amount"] == "6000.00"

    submitted = partner.post(f"/api/proposals/{pid}/submit")
    assert submitted.status_code == 200
    totals = submitted.json()["totals"]
    assert submitted.json()["status"] == "submitted"
    assert totals["grand_total"]["amount"] == "24000.00" and totals["effective_discount_percent"] == "25.00"
    assert totals["non_standard"] is True

    locked = partner.post(f"/api/proposals/{pid}/lines", {"kind": "partner_service", "description": "More", "unit_price": {"amount": "1"}})
    assert_error(locked, 422, "validation_error")

    manager = as_user(world.partner_manager)
    assert_error(manager.post(f"/api/proposals/{pid}/decide", {"decision": "request_changes"}), 422, "validation_error", field="note")
    decided = manager.post(f"/api/proposals/{pid}/decide", {"decision": "approve", "note": "Deal desk agreed"})
    assert decided.status_code == 200
    assert decided.json()["decision"]["by"]["id"] == world.partner_manager.public_id
    assert decided.json()["decision"]["note"] == "Deal desk agreed"

    assert partner.post(f"/api/proposals/{pid}/mark", {"status": "sent"}).json()["status"] == "sent"
    assert partner.post(f"/api/proposals/{pid}/mark", {"status": "accepted"}).json()["status"] == "accepted"


def test_a_second_proposal_for_the_deal_is_a_conflict_naming_the_first(world):
    first = _create(world).json()
    again = _create(world, as_user(world.vendor_admin))
    body = assert_error(again, 409, "conflict")
    assert first["id"] in body["detail"]
    assert JointProposal.objects.count() == 1


def test_creates_are_idempotent_with_a_key(world):
    api = as_user(world.a_rep)
    body = {"opportunity": world.opportunity_a.public_id}
    first = api.post("/api/proposals", body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/proposals", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert first.json()["partner"]["id"] == world.partner_a.public_id  # a partner user proposes as its own partner


def test_bad_line_input_is_a_clear_422_and_writes_nothing(world):
    pid = _create(world).json()["id"]
    vendor, partner = as_user(world.sales_rep), as_user(world.a_rep)
    cases = [
        (vendor, {"kind": "vendor_product", "product": world.product.public_id, "discount_percent": 12.5}, "discount_percent"),
        (vendor, {"kind": "vendor_product", "product": world.product.public_id, "discount_percent": "120"}, "discount_percent"),
        (vendor, {"kind": "vendor_product", "product": "prd_000000000000"}, "product"),
        (vendor, {"kind": "vendor_product", "product": world.product.public_id, "unit_price": {"amount": "1.00"}}, "unit_price"),
        (partner, {"kind": "partner_service", "description": "Days", "unit_price": {"amount": "1.00", "currency": "EUR"}}, "unit_price.currency"),
        (partner, {"kind": "partner_service", "description": "Days", "unit_price": {"amount": 1.5}}, "unit_price.amount"),
        (partner, {"kind": "partner_service", "description": "x" * 301, "unit_price": {"amount": "1"}}, "description"),
        (partner, {"kind": "partner_service", "description": "Days", "quantity": 0, "unit_price": {"amount": "1"}}, "quantity"),
        (partner, {"kind": "hardware"}, "kind"),
    ]
    for api, body, field in cases:
        assert_error(api.post(f"/api/proposals/{pid}/lines", body), 422, "validation_error", field=field)
    assert ProposalLine.objects.count() == 1


def test_an_unknown_field_or_a_null_is_refused(world):
    pid = _create(world).json()["id"]
    api = as_user(world.sales_rep)
    assert_error(api.patch(f"/api/proposals/{pid}", {"titel": "typo"}), 422, "validation_error")
    assert_error(api.patch(f"/api/proposals/{pid}", {"notes": None}), 422, "validation_error", field="notes")


def test_account_plans_through_the_api(world):
    api = as_user(world.a_admin)
    created = api.post("/api/account-plans", {
        "account": world.account_a.public_id, "title": "Customer A joint plan", "status": "active",
        "target_products": [world.product.public_id], "partner_owner": world.a_rep.public_id,
        "vendor_owner": world.partner_manager.public_id,
    })
    assert created.status_code == 201, created.content
    plan = created.json()
    assert plan["partner"]["id"] == world.partner_a.public_id and plan["target_products"][0]["id"] == world.product.public_id
    path = f"/api/account-plans/{plan['id']}"

    step = api.post(path + "/steps", {"text": "Intro to the CFO", "owner_side": "partner", "owner": world.a_rep.public_id,
                                      "due_date": "2026-02-01"})
    assert step.status_code == 201 and step.json()["owner"]["id"] == world.a_rep.public_id
    ticked = api.patch(f"{path}/steps/{step.json()['id']}", {"done": True})
    assert ticked.json()["done"] is True and ticked.json()["done_by"]["id"] == world.a_admin.public_id

    linked = api.post(path + "/opportunities", {"opportunity": world.opportunity_a.public_id})
    assert [o["id"] for o in linked.json()["opportunities"]] == [world.opportunity_a.public_id]
    assert_error(api.post(path + "/opportunities", {"opportunity": world.opportunity_b.public_id}), 422, "validation_error", field="opportunity")

    changed = api.patch(path, {"partner_owner": None, "target_products": []})
    assert changed.json()["partner_owner"] is None and changed.json()["target_products"] == []

    listed = as_user(world.executive).get("/api/account-plans", {"owner": world.partner_manager.public_id}).json()
    assert [p["id"] for p in listed["items"]] == [plan["id"]]


def test_plan_owners_and_step_owners_come_from_the_right_side(world):
    api = as_user(world.sales_rep)
    body = {"account": world.account_a.public_id, "partner": world.partner_a.public_id, "title": "Plan"}
    assert_error(api.post("/api/account-plans", {**body, "partner_owner": world.b_rep.public_id}), 422, "validation_error", field="partner_owner")
    assert_error(api.post("/api/account-plans", {**body, "vendor_owner": world.a_rep.public_id}), 422, "validation_error", field="vendor_owner")
    assert_error(api.post("/api/account-plans", {"account": world.account_a.public_id, "title": "Plan"}), 422, "validation_error", field="partner")
    assert_error(api.post("/api/account-plans", {**body, "period_start": "2026-05-01", "period_end": "2026-01-01"}),
                 422, "validation_error", field="period_end")
    assert not JointAccountPlan.objects.exists()
    plan = api.post("/api/account-plans", body).json()
    wrong = api.post(f"/api/account-plans/{plan['id']}/steps", {"text": "Call", "owner_side": "vendor", "owner": world.a_rep.public_id})
    assert_error(wrong, 422, "validation_error", field="owner")
    assert not AccountPlanStep.objects.exists()


def test_a_partner_user_cannot_plan_for_another_partner(world):
    api = as_user(world.a_rep)
    response = api.post("/api/account-plans", {"account": world.account_a.public_id, "partner": world.partner_b.public_id, "title": "X"})
    body = assert_error(response, 422, "validation_error", field="partner")
    assert "Beta" not in body["detail"]
