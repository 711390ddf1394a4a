"""Co-selling over the API: engagements, deal team, notes, meetings, questions, escalations."""

from __future__ import annotations

import pytest

from tests.test_api import as_user, assert_error


@pytest.fixture
def room(world):
    from covey.cosell.services import start_engagement

    world.engagement = start_engagement(world.opportunity_a, partner=world.partner_a, sourced_by_partner=True, actor=world.partner_manager)
    world.eng = f"/api/engagements/{world.engagement.public_id}"
    return world


def test_open_a_deal_room_through_the_api(world):
    api = as_user(world.sales_rep)
    body = {"opportunity": world.opportunity_a.public_id, "partner": world.partner_a.public_id, "sourced_by_partner": True}
    response = api.post("/api/engagements", body, headers={"Idempotency-Key": "open-a"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["model"] == "partner_led" and data["partner"]["id"] == world.partner_a.public_id
    assert {m["side"] for m in data["team"]} == {"partner", "vendor"}
    assert data["sync"]["warning"] is True
    replay = api.post("/api/engagements", body, headers={"Idempotency-Key": "open-a"})
    assert replay.status_code == 201 and replay.json()["id"] == data["id"]
    assert_error(api.post("/api/engagements", body), 422, "validation_error")
    # A partner that is not on the deal cannot get a room on it.
    wrong = {"opportunity": world.opportunity_a.public_id, "partner": world.partner_b.public_id}
    assert_error(api.post("/api/engagements", wrong), 422, "validation_error")


def test_list_and_filter_engagements(room):
    api = as_user(room.executive)
    assert api.get("/api/engagements").json()["count"] == 1
    assert api.get(f"/api/engagements?opportunity={room.opportunity_b.public_id}").json()["count"] == 0
    assert api.get("/api/engagements?model=co_sell").json()["count"] == 0
    assert as_user(room.b_rep).get("/api/engagements").json() == {"items": [], "count": 0}


def test_change_model_needs_a_reason(room):
    api = as_user(room.partner_manager)
    assert_error(api.patch(room.eng, {"model": "co_sell", "reason": " "}), 422, "validation_error")
    assert_error(api.patch(room.eng, {"model": "bogus", "reason": "x"}), 422, "validation_error")
    response = api.patch(room.eng, {"model": "co_sell", "reason": "Joint bid"})
    assert response.status_code == 200 and response.json()["model"] == "co_sell"
    assert "Joint bid" in response.json()["why"]


def test_team_through_the_api(room):
    admin = as_user(room.a_admin)
    # A partner user cannot name another partner's person: it reads as unknown.
    response = admin.post(room.eng + "/team", {"user": room.b_rep.public_id, "role": "other"})
    assert_error(response, 422, "validation_error")
    assert room.b_rep.full_name not in response.content.decode()
    assert_error(admin.post(room.eng + "/team", {"user": room.executive.public_id}), 422, "validation_error")
    response = admin.post(room.eng + "/team", {"user": room.a_rep.public_id, "role": "partner_rep"})
    assert response.status_code == 201 and response.json()["side"] == "partner"
    assert_error(admin.post(room.eng + "/team", {"user": room.a_rep.public_id, "role": "partner_rep"}), 422, "validation_error")
    team = admin.get(room.eng + "/team").json()
    assert team["count"] == 3
    vendor_member = next(m for m in team["items"] if m["side"] == "vendor")
    assert_error(admin.delete(room.eng + f"/team/{vendor_member['id']}"), 403, "forbidden")
    assert_error(admin.delete(room.eng + "/team/dtm_000000000000"), 404, "not_found")


def test_notes_meetings_and_questions(room):
    rep = as_user(room.a_rep)
    assert_error(rep.post(room.eng + "/notes", {"body": ""}), 422, "validation_error")
    assert_error(rep.post(room.eng + "/notes", {"body": "x" * 10_001}), 422, "validation_error")
    assert rep.post(room.eng + "/notes", {"body": "Budget confirmed"}).status_code == 201
    assert rep.get(room.eng + "/notes").json()["items"][0]["body"] == "Budget confirmed"

    bad = rep.post(room.eng + "/meetings", {"kind": "debrief", "meeting_date": "2026-13-01", "title": "x"})
    assert_error(bad, 422, "validation_error")
    meeting = rep.post(room.eng + "/meetings", {
        "kind": "debrief", "meeting_date": "2026-02-01", "title": "Demo debrief", "next_steps": "POC plan (Alpha, Dana)",
    })
    assert meeting.status_code == 201 and meeting.json()["next_steps"] == "POC plan (Alpha, Dana)"

    asked = rep.post(room.eng + "/questions", {"body": "Can we get trial keys?"})
    assert asked.status_code == 201
    question = asked.json()
    assert question["to_side"] == "vendor" and question["overdue"] is False and question["answer"] == ""
    assert_error(rep.post(f"/api/questions/{question['id']}/answer", {"answer": "x"}), 403, "forbidden")
    answered = as_user(room.sales_rep).post(f"/api/questions/{question['id']}/answer", {"answer": "Sent"})
    assert answered.status_code == 200 and answered.json()["answered_by"]["id"] == room.sales_rep.public_id
    assert_error(as_user(room.sales_rep).post(f"/api/questions/{question['id']}/answer", {"answer": "Again"}), 422, "validation_error")
    assert_error(as_user(room.b_rep).post(f"/api/questions/{question['id']}/answer", {"answer": "x"}), 404, "not_found")


def test_escalations_through_the_api(room):
    rep = as_user(room.a_rep)
    created = rep.post("/api/escalations", {"opportunity": room.opportunity_a.public_id, "level": 2, "reason": "Prospect dark"})
    assert created.status_code == 201, created.content
    escalation = created.json()
    assert escalation["partner"]["id"] == room.partner_a.public_id and escalation["trigger"] == "manual"
    assert escalation["owner"]["id"] == room.partner_manager.public_id
    assert_error(rep.post("/api/escalations", {"opportunity": room.opportunity_a.public_id, "level": 5, "reason": "x"}), 422, "validation_error")
    assert_error(
        rep.post("/api/escalations", {"opportunity": room.opportunity_a.public_id, "level": 1, "reason": "x", "partner": room.partner_b.public_id}),
        422, "validation_error",
    )
    url = f"/api/escalations/{escalation['id']}"
    manager = as_user(room.partner_manager)
    assert_error(manager.patch(url, {"status": "resolved"}), 422, "validation_error")
    assert_error(manager.patch(url, {"owner": room.b_admin.public_id}), 422, "validation_error")
    assert_error(manager.patch(url, {"owner": None}), 422, "validation_error")
    done = manager.patch(url, {"status": "resolved", "resolution": "Exec sponsor named"})
    assert done.status_code == 200 and done.json()["status"] == "resolved" and done.json()["resolved_by"]["id"] == room.partner_manager.public_id

    assert manager.get("/api/escalations?live=true").json()["count"] == 0
    assert manager.get("/api/escalations?status=resolved&level=2").json()["count"] == 1
    assert manager.get("/api/escalations?mine=true").json()["count"] == 1
    assert as_user(room.b_admin).get("/api/escalations").json()["count"] == 0
    assert_error(as_user(room.b_admin).get(url), 404, "not_found")


def test_the_non_standard_pricing_escalation_a_proposal_raises_is_listed(room):
    from covey.cosell.services import raise_escalation

    raise_escalation(room.opportunity_a, level=4, trigger="non_standard_pricing", reason="35 % vendor discount")
    items = as_user(room.a_admin).get("/api/escalations?trigger=non_standard_pricing").json()["items"]
    assert [(e["level"], e["raised_by"], e["partner"]) for e in items] == [(4, None, None)]
