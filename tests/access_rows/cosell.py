"""Access rows for the cosell feature (the contract is in tests/access_rows/__init__.py).

Partner A's deal room on opportunity A: the engagement (team: A's admin, the vendor's sales rep,
A's rep), a note, a question from A to the vendor, a meeting record and a manual escalation.
Writers of a deal room are the vendor's CRM editors and partner A's admin and rep.
"""

from __future__ import annotations

from tests.matrix import (
    ADMIN_ONLY,
    CRM_EDITORS,
    CRM_WRITE_A,
    EVERYONE,
    PARTNER_B,
    READ_A,
    Route,
    expect,
    rest,
)

ROOM_WRITERS = CRM_EDITORS + ("a_admin", "a_rep")
ROOM_WRITE_A = expect(ok=ROOM_WRITERS, forbidden=rest(ROOM_WRITERS, PARTNER_B), hidden=PARTNER_B)
A_OPP = {"public_id": "opportunity_a.public_id"}
A_ENG = {"public_id": "engagement_a.public_id"}
A_ESC = {"public_id": "escalation_a.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "deal_room": Route(READ_A, kwargs=A_OPP),
    # Partner A already has its deal room, so an editor's empty form just comes back with a message.
    "engagement_start": Route(CRM_WRITE_A, method="POST", kwargs=A_OPP),
    "engagement_change_model": Route(CRM_WRITE_A, method="POST", kwargs=A_ENG),
    "deal_team_add": Route(ROOM_WRITE_A, method="POST", kwargs=A_ENG),
    "deal_team_remove": Route(ROOM_WRITE_A, method="POST", kwargs={**A_ENG, "member_id": "team_member_a.public_id"}),
    "deal_note_add": Route(ROOM_WRITE_A, method="POST", kwargs=A_ENG),
    "meeting_record_create": Route(ROOM_WRITE_A, kwargs=A_ENG),
    "question_ask": Route(ROOM_WRITE_A, method="POST", kwargs=A_ENG),
    "escalation_raise": Route(ROOM_WRITE_A, method="POST", kwargs=A_ENG),
    # The question was put to the vendor: its sellers answer it.
    "question_answer": Route(CRM_WRITE_A, method="POST", kwargs={"public_id": "question_a.public_id"}),
    "escalation_list": Route(EVERYONE),
    "escalation_detail": Route(READ_A, kwargs=A_ESC),
    "escalation_take": Route(ROOM_WRITE_A, method="POST", kwargs=A_ESC),
    "escalation_status": Route(ROOM_WRITE_A, method="POST", kwargs=A_ESC),
    "escalation_resolve": Route(ROOM_WRITE_A, method="POST", kwargs=A_ESC),
    "cosell_settings": Route(ADMIN_ONLY),
}

ENG = "/api/engagements/{engagement_a}"
ESC = "/api/escalations/{escalation_a}"
READ = (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)
#                                                                        admin  pm   pm2  rep  fin  exec  a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("read engagement", "GET", ENG, None, READ),
    ("change engagement model", "PATCH", ENG, {"model": "co_sell", "reason": "Both products matter"},
                                                                            (200, 200, 200, 200, 403, 403, 403, 403, 403, 404, 404)),
    # Partner A's deal room exists already: the editors pass the gate and are told so.
    ("open deal room", "POST", "/api/engagements", {"opportunity": "{opportunity_a}", "partner": "{partner_a}"},
                                                                            (422, 422, 422, 422, 403, 403, 403, 403, 403, 403, 403)),
    ("list deal team", "GET", ENG + "/team", None, READ),
    ("add to deal team", "POST", ENG + "/team", {"user": "{a_readonly_user}", "role": "other"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 404, 404)),
    ("remove from deal team", "DELETE", ENG + "/team/{team_member_a}", None,
                                                                            (204, 204, 204, 204, 403, 403, 204, 204, 403, 404, 404)),
    ("list deal notes", "GET", ENG + "/notes", None, READ),
    ("add deal note", "POST", ENG + "/notes", {"body": "Prep call booked"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 404, 404)),
    ("list meeting records", "GET", ENG + "/meetings", None, READ),
    ("add meeting record", "POST", ENG + "/meetings",
     {"kind": "prep", "meeting_date": "2026-03-02", "title": "Discovery", "agenda": "Goals"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 404, 404)),
    ("list deal questions", "GET", ENG + "/questions", None, READ),
    ("ask deal question", "POST", ENG + "/questions", {"body": "Who joins the demo?"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 404, 404)),
    ("answer deal question", "POST", "/api/questions/{question_a}/answer", {"answer": "Our engineer"},
                                                                            (200, 200, 200, 200, 403, 403, 403, 403, 403, 404, 404)),
    ("read escalation", "GET", ESC, None, READ),
    ("work on escalation", "PATCH", ESC, {"status": "in_progress"},       (200, 200, 200, 200, 403, 403, 200, 200, 403, 404, 404)),
    # Partner B cannot escalate a deal it cannot see: the reference reads as unknown.
    ("escalate a deal", "POST", "/api/escalations", {"opportunity": "{opportunity_a}", "level": 1, "reason": "Blocked"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 422, 422)),
]
API_LISTS: list[str] = [
    "/api/engagements", "/api/engagements?opportunity={opportunity_a}", "/api/engagements?partner={partner_a}",
    "/api/escalations", "/api/escalations?opportunity={opportunity_a}", "/api/escalations?q=Deal",
]

NOTE = "Alpha pricing worry, keep internal"
QUESTION = "Can the Alpha architect join the security review"
ESCALATION = "Alpha needs an executive sponsor for the board meeting"
MEETING = "Alpha discovery workshop"


def build(world) -> None:
    from covey.cosell.services import (
        add_meeting_record,
        add_note,
        add_team_member,
        ask_question,
        raise_escalation,
        start_engagement,
    )

    world.engagement_a = start_engagement(
        world.opportunity_a, partner=world.partner_a, sourced_by_partner=True, actor=world.partner_manager,
    )
    world.team_member_a = add_team_member(world.engagement_a, user=world.a_rep, role="partner_rep", actor=world.a_admin)
    world.note_a = add_note(world.engagement_a, body=NOTE, actor=world.a_admin)
    world.question_a = ask_question(world.engagement_a, body=QUESTION, actor=world.a_admin)
    world.meeting_a = add_meeting_record(
        world.engagement_a, actor=world.a_rep, kind="prep", meeting_date=world.opportunity_a.close_date,
        title=MEETING, agenda="Scope and goals",
    )
    world.escalation_a = raise_escalation(
        world.opportunity_a, level=3, trigger="manual", reason=ESCALATION, actor=world.a_admin, partner=world.partner_a,
    )


def ids(world) -> dict[str, str]:
    return {
        "engagement_a": world.engagement_a.public_id,
        "team_member_a": world.team_member_a.public_id,
        "note_a": world.note_a.public_id,
        "question_a": world.question_a.public_id,
        "meeting_a": world.meeting_a.public_id,
        "escalation_a": world.escalation_a.public_id,
        "a_readonly_user": world.a_readonly.public_id,
    }


def secrets(world) -> list[str]:
    return [
        NOTE, QUESTION, ESCALATION, MEETING, world.engagement_a.public_id, world.escalation_a.public_id,
        world.question_a.public_id, world.note_a.public_id,
    ]


def state():
    from covey.cosell.models import (
        DealNote,
        DealQuestion,
        DealTeamMember,
        Engagement,
        Escalation,
        MeetingRecord,
    )

    return (
        list(Engagement.objects.values_list("public_id", "model").order_by("id")),
        list(DealTeamMember.objects.values_list("public_id", "role").order_by("id")),
        DealNote.objects.count(),
        MeetingRecord.objects.count(),
        list(DealQuestion.objects.values_list("public_id", "answer").order_by("id")),
        list(Escalation.objects.values_list("public_id", "status", "owner_id", "level").order_by("id")),
    )
