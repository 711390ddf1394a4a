"""The deal room, escalation pages and the engagement rules page, from each side."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone


@pytest.fixture
def room(world):
    from covey.cosell.services import start_engagement

    world.engagement = start_engagement(world.opportunity_a, partner=world.partner_a, sourced_by_partner=True, actor=world.partner_manager)
    world.room_url = reverse("deal_room", kwargs={"public_id": world.opportunity_a.public_id})
    return world


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_vendor_sees_the_room_with_model_team_plan_and_sync_warning(login, room):
    html = _html(login(room.sales_rep).get(room.room_url))
    assert "Partner-led, vendor-supported" in html and "Partner-sourced" in html
    assert room.a_admin.full_name in html and room.sales_rep.full_name in html
    assert "No sync logged in 7 days" in html
    assert "Joint demo A" in html and "Joint" in html
    assert 'action="' + reverse("engagement_change_model", kwargs={"public_id": room.engagement.public_id}) in html
    if room.engagement.plan_id:
        assert room.engagement.plan.name in html


def test_a_joint_meeting_clears_the_sync_warning(login, room):
    from covey.crm.models import Activity

    Activity.objects.create(
        kind="meeting", subject="Weekly sync", opportunity=room.opportunity_a, partner=room.partner_a, is_joint=True,
        occurred_at=timezone.now() - timedelta(days=2),
    )
    assert "No sync logged in 7 days" not in _html(login(room.a_rep).get(room.room_url))
    Activity.objects.filter(subject="Weekly sync").update(occurred_at=timezone.now() - timedelta(days=8))
    assert "No sync logged in 7 days" in _html(login(room.a_rep).get(room.room_url))


def test_the_partner_sees_its_room_but_read_only_users_get_no_forms(login, room):
    html = _html(login(room.a_rep).get(room.room_url))
    assert "Add note" in html and "Ask" in html and "Change the engagement model" not in html
    html = _html(login(room.a_readonly).get(room.room_url))
    assert "Add note" not in html and "Escalate this deal" not in html
    assert login(room.a_readonly).post(
        reverse("deal_note_add", kwargs={"public_id": room.engagement.public_id}), {"body": "Hi"},
    ).status_code == 403


def test_partner_b_cannot_reach_partner_a_room_or_records(client, room):
    from covey.cosell.services import add_note, ask_question, raise_escalation

    note = add_note(room.engagement, body="Secret A note", actor=room.a_admin)
    question = ask_question(room.engagement, body="Secret A question", actor=room.a_admin)
    escalation = raise_escalation(room.opportunity_a, level=2, trigger="manual", reason="Secret A escalation", actor=room.a_admin, partner=room.partner_a)
    client.force_login(room.b_admin)
    assert client.get(room.room_url).status_code == 404
    assert client.post(reverse("deal_note_add", kwargs={"public_id": room.engagement.public_id}), {"body": "x"}).status_code == 404
    assert client.post(reverse("question_answer", kwargs={"public_id": question.public_id}), {"answer": "x"}).status_code == 404
    assert client.get(reverse("escalation_detail", kwargs={"public_id": escalation.public_id})).status_code == 404
    listing = client.get(reverse("escalation_list")).content.decode()
    assert "Secret A" not in listing and escalation.public_id not in listing
    assert note.body not in listing


def test_two_partners_on_one_deal_never_see_each_others_room(login, room):
    from covey.cosell.services import add_note, ask_question, start_engagement
    from covey.crm.models import OpportunityPartner

    OpportunityPartner.objects.create(opportunity=room.opportunity_a, partner=room.partner_b, role="influencer")
    b_room = start_engagement(room.opportunity_a, partner=room.partner_b, sourced_by_partner=False, actor=room.sales_rep)
    add_note(room.engagement, body="Only for Alpha", actor=room.a_admin)
    ask_question(room.engagement, body="Alpha asks the vendor", actor=room.a_admin)
    add_note(b_room, body="Only for Beta", actor=room.b_admin)

    b_view = _html(login(room.b_rep).get(room.room_url + f"?partner={room.partner_a.public_id}"))
    assert "Only for Beta" in b_view
    assert "Only for Alpha" not in b_view and "Alpha asks" not in b_view and room.partner_a.name not in b_view
    a_view = _html(login(room.a_rep).get(room.room_url))
    assert "Only for Alpha" in a_view and "Only for Beta" not in a_view and room.partner_b.name not in a_view
    vendor = _html(login(room.sales_rep).get(room.room_url + f"?partner={room.partner_b.public_id}"))
    assert "Only for Beta" in vendor and "Only for Alpha" not in vendor
    assert room.partner_a.name in vendor  # the vendor switches between the two rooms


def test_notes_questions_answers_through_the_room(login, room):
    from covey.cosell.models import DealNote, DealQuestion

    engagement = room.engagement
    client = login(room.a_rep)
    response = client.post(reverse("deal_note_add", kwargs={"public_id": engagement.public_id}), {"body": "  "})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not DealNote.objects.exists()
    response = client.post(reverse("deal_note_add", kwargs={"public_id": engagement.public_id}), {"body": "Prospect prefers Tuesdays"})
    assert response.status_code == 302 and response["Location"].endswith("#notes")
    assert DealNote.objects.get().side == "partner"

    client.post(reverse("question_ask", kwargs={"public_id": engagement.public_id}), {"body": "Trial licences?", "to_side": "vendor"})
    question = DealQuestion.objects.get()
    assert question.to_side == "vendor"
    # A partner user cannot answer what was put to the vendor.
    assert client.post(reverse("question_answer", kwargs={"public_id": question.public_id}), {"answer": "x"}).status_code == 403
    vendor = login(room.sales_rep)
    html = _html(vendor.get(room.room_url))
    assert f'action="{reverse("question_answer", kwargs={"public_id": question.public_id})}"' in html
    vendor.post(reverse("question_answer", kwargs={"public_id": question.public_id}), {"answer": "Ten, for 30 days"})
    question.refresh_from_db()
    assert question.answer == "Ten, for 30 days"


def test_overdue_question_shows_a_badge(login, room):
    from covey.cosell.services import ask_question

    ask_question(room.engagement, body="Late one", actor=room.a_admin, now=timezone.now() - timedelta(hours=30))
    assert "Overdue" in _html(login(room.a_admin).get(room.room_url))


def test_team_add_and_remove_from_the_room(login, room):
    from covey.cosell.models import DealTeamMember

    engagement = room.engagement
    client = login(room.a_admin)
    html = _html(client.get(room.room_url))
    assert room.a_rep.public_id in html and room.executive.public_id not in html  # partner users pick colleagues only
    client.post(reverse("deal_team_add", kwargs={"public_id": engagement.public_id}), {"user": room.a_rep.public_id, "role": "partner_rep"})
    member = DealTeamMember.objects.get(user=room.a_rep)
    vendor_member = DealTeamMember.objects.get(user=room.sales_rep)
    # A partner admin removes its own side only.
    assert client.post(reverse("deal_team_remove", kwargs={"public_id": engagement.public_id, "member_id": vendor_member.public_id})).status_code == 403
    client.post(reverse("deal_team_remove", kwargs={"public_id": engagement.public_id, "member_id": member.public_id}))
    assert not DealTeamMember.objects.filter(pk=member.pk).exists()
    response = login(room.sales_rep).post(
        reverse("deal_team_add", kwargs={"public_id": engagement.public_id}), {"user": room.b_rep.public_id, "role": "other"},
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_change_model_from_the_room(login, room):
    url = reverse("engagement_change_model", kwargs={"public_id": room.engagement.public_id})
    assert login(room.a_admin).post(url, {"model": "co_sell", "reason": "x"}).status_code == 403
    client = login(room.partner_manager)
    response = client.post(url, {"model": "co_sell", "reason": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(url, {"model": "co_sell", "reason": "The customer wants both teams"})
    assert response.status_code == 302
    room.engagement.refresh_from_db()
    assert room.engagement.model == "co_sell"
    assert "The customer wants both teams" in _html(client.get(room.room_url))


def test_meeting_records(login, room):
    from covey.cosell.models import MeetingRecord

    url = reverse("meeting_record_create", kwargs={"public_id": room.engagement.public_id})
    client = login(room.a_rep)
    assert _html(client.get(url + "?kind=debrief"))
    response = client.post(url, {"kind": "debrief", "meeting_date": "2026-02-03", "title": "Demo debrief"})
    assert response.status_code == 200 and "A debrief needs" in response.content.decode()
    response = client.post(url, {
        "kind": "debrief", "meeting_date": "2026-02-03", "title": "Demo debrief",
        "learnings": "Security is the blocker", "next_steps": "Send the SOC 2 report (vendor, Sam)",
    })
    assert response.status_code == 302
    record = MeetingRecord.objects.get()
    assert record.engagement == room.engagement and record.created_by == room.a_rep
    html = _html(client.get(room.room_url))
    assert "Demo debrief" in html and "Security is the blocker" in html
    assert "No sync logged in 7 days" not in html  # a meeting record counts as a sync


def test_starting_a_room_from_the_opportunity(login, world):
    from covey.cosell.models import Engagement

    url = reverse("deal_room", kwargs={"public_id": world.opportunity_a.public_id})
    html = _html(login(world.a_admin).get(url))
    assert "No deal room yet" in html and "Open deal room" not in html
    client = login(world.sales_rep)
    assert "Open deal room" in _html(client.get(url))
    response = client.post(
        reverse("engagement_start", kwargs={"public_id": world.opportunity_a.public_id}),
        {"partner": world.partner_a.public_id, "sourced_by_partner": ""},
    )
    assert response.status_code == 302
    assert Engagement.objects.get().model == "vendor_led"


def test_escalation_pages(login, room):
    from covey.cosell.models import Escalation

    client = login(room.a_rep)
    response = client.post(reverse("escalation_raise", kwargs={"public_id": room.engagement.public_id}), {"level": "2", "reason": ""})
    assert response.status_code == 200 and not Escalation.objects.exists()
    response = client.post(reverse("escalation_raise", kwargs={"public_id": room.engagement.public_id}), {"level": "2", "reason": "Prospect went dark"})
    escalation = Escalation.objects.get()
    assert response["Location"] == reverse("escalation_detail", kwargs={"public_id": escalation.public_id})
    assert escalation.partner == room.partner_a and escalation.owner == room.partner_manager

    listing = _html(client.get(reverse("escalation_list") + "?status=live&level=2"))
    assert "Deal A" in listing
    assert "Deal A" not in _html(client.get(reverse("escalation_list") + "?status=resolved"))

    manager = login(room.partner_manager)
    assert "Deal A" in _html(manager.get(reverse("escalation_list") + "?mine=owner"))
    detail = reverse("escalation_detail", kwargs={"public_id": escalation.public_id})
    assert "Prospect went dark" in _html(manager.get(detail))
    manager.post(reverse("escalation_take", kwargs={"public_id": escalation.public_id}))
    escalation.refresh_from_db()
    assert escalation.status == "in_progress"
    response = manager.post(reverse("escalation_resolve", kwargs={"public_id": escalation.public_id}), {"resolution": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    manager.post(reverse("escalation_resolve", kwargs={"public_id": escalation.public_id}), {"resolution": "Exec call held"})
    escalation.refresh_from_db()
    assert escalation.status == "resolved" and escalation.resolution == "Exec call held"
    assert login(room.finance).post(reverse("escalation_take", kwargs={"public_id": escalation.public_id})).status_code == 403


def test_rules_page_edits_and_audits(login, world):
    from covey.core.models import AuditEvent
    from covey.cosell.models import EngagementRules

    client = login(world.vendor_admin)
    url = reverse("cosell_settings")
    html = _html(client.get(url))
    assert "USD 15000.00" in html
    response = client.post(url, {
        "small_deal": "USD 20000\nEUR 18000.00", "strategic_value": "USD 15000", "stalled_days": "30", "prospect_silent_days": "10",
    })
    assert response.status_code == 200 and "must be above the small-deal threshold" in response.content.decode()
    response = client.post(url, {
        "small_deal": "USD xyz", "strategic_value": "", "stalled_days": "30", "prospect_silent_days": "10",
    })
    assert response.status_code == 200 and "Line 1" in response.content.decode()
    response = client.post(url, {
        "small_deal": "USD 20000\nEUR 18000.00", "strategic_value": "USD 250000", "strategic_partner_types": ["system_integrator"],
        "stalled_days": "30", "prospect_silent_days": "10",
    })
    assert response.status_code == 302
    rules = EngagementRules.current()
    assert rules.small_deal_minor == {"USD": 2_000_000, "EUR": 1_800_000}
    assert rules.strategic_minor == {"USD": 25_000_000}
    assert rules.strategic_partner_types == ["system_integrator"] and rules.stalled_days == 30
    assert AuditEvent.objects.filter(object_type="cosell.engagementrules", action="update").exists()
    assert login(world.partner_manager).get(url).status_code == 403
