"""JSON shapes of engagements, the deal room's records and escalations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field

from covey.core.schemas import InputSchema, OutSchema, Paging, Ref, id_filter, ref
from covey.core.vocab import EngagementModel
from covey.cosell.models import (
    DealNote,
    DealQuestion,
    DealTeamMember,
    Engagement,
    Escalation,
    EscalationStatus,
    EscalationTrigger,
    MeetingKind,
    MeetingRecord,
    Side,
    TeamRole,
)
from covey.cosell.selectors import last_sync
from covey.crm.models import Opportunity
from covey.partners.models import Partner

Level = Literal[1, 2, 3, 4]

# --- engagements -----------------------------------------------------------------------------


class TeamMemberOut(OutSchema):
    id: str
    user: Ref
    side: Side
    role: TeamRole
    added_at: datetime


def member_out(member: DealTeamMember) -> dict:
    return {"id": member.public_id, "user": ref(member.user), "side": member.side, "role": member.role, "added_at": member.added_at}


class SyncOut(OutSchema):
    last: datetime | None = Field(..., description="The last joint meeting or call, or meeting record")
    warning: bool = Field(..., description="True when nothing was synced in the last 7 days")


class EngagementOut(OutSchema):
    id: str
    opportunity: Ref
    partner: Ref
    model: EngagementModel
    why: str
    sourced_by_partner: bool
    plan: Ref | None
    team: list[TeamMemberOut]
    sync: SyncOut
    created_at: datetime


def engagement_out(engagement: Engagement) -> dict:
    sync = last_sync(engagement)
    return {
        "id": engagement.public_id,
        "opportunity": ref(engagement.opportunity),
        "partner": ref(engagement.partner),
        "model": engagement.model,
        "why": engagement.why,
        "sourced_by_partner": engagement.sourced_by_partner,
        "plan": ref(engagement.plan),
        "team": [member_out(m) for m in engagement.team.select_related("user")],
        "sync": {"last": sync.last, "warning": sync.warn},
        "created_at": engagement.created_at,
    }


class EngagementPage(OutSchema):
    items: list[EngagementOut]
    count: int


class EngagementFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the opportunity's or the partner's name")
    opportunity: str | None = id_filter(Opportunity)
    partner: str | None = id_filter(Partner)
    model: EngagementModel | None = None


class EngagementCreate(InputSchema):
    opportunity: str
    partner: str = Field(..., description="A partner on the opportunity")
    sourced_by_partner: bool = False


class EngagementUpdate(InputSchema):
    model: EngagementModel
    reason: str = Field(..., max_length=2000)
    replan: bool = Field(False, description="Apply the new model's plan template (the current plan is kept)")


class TeamMemberCreate(InputSchema):
    user: str = Field(..., description="User id")
    role: TeamRole = TeamRole.OTHER


class TeamPage(OutSchema):
    items: list[TeamMemberOut]
    count: int


class TeamFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the person's name")


# --- notes, meetings, questions --------------------------------------------------------------


class NoteOut(OutSchema):
    id: str
    author: Ref | None
    side: Side
    body: str
    created_at: datetime


def note_out(note: DealNote) -> dict:
    return {"id": note.public_id, "author": ref(note.author), "side": note.side, "body": note.body, "created_at": note.created_at}


class NotePage(OutSchema):
    items: list[NoteOut]
    count: int


class NoteFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Text in the note")


class NoteCreate(InputSchema):
    body: str = Field(..., max_length=10_000)


MEETING_TEXT = ("agenda", "leads", "key_messages", "follow_ups", "learnings", "next_steps", "concerns")


class MeetingOut(OutSchema):
    id: str
    kind: MeetingKind
    meeting_date: date
    title: str
    agenda: str
    leads: str
    key_messages: str
    follow_ups: str
    learnings: str
    next_steps: str
    concerns: str
    created_by: Ref | None
    created_at: datetime


def meeting_out(record: MeetingRecord) -> dict:
    return {
        "id": record.public_id, "kind": record.kind, "meeting_date": record.meeting_date, "title": record.title,
        **{f: getattr(record, f) for f in MEETING_TEXT},
        "created_by": ref(record.created_by), "created_at": record.created_at,
    }


class MeetingPage(OutSchema):
    items: list[MeetingOut]
    count: int


class MeetingFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the meeting's title")


class MeetingCreate(InputSchema):
    kind: MeetingKind
    meeting_date: date
    title: str = Field(..., max_length=200)
    agenda: str = Field("", max_length=5_000)
    leads: str = Field("", max_length=2_000)
    key_messages: str = Field("", max_length=5_000)
    follow_ups: str = Field("", max_length=5_000)
    learnings: str = Field("", max_length=5_000)
    next_steps: str = Field("", max_length=5_000)
    concerns: str = Field("", max_length=5_000)


class QuestionOut(OutSchema):
    id: str
    asked_by: Ref | None
    to_side: Side
    body: str
    asked_at: datetime
    due_at: datetime
    overdue: bool
    answer: str
    answered_by: Ref | None
    answered_at: datetime | None


def question_out(question: DealQuestion) -> dict:
    return {
        "id": question.public_id, "asked_by": ref(question.asked_by), "to_side": question.to_side, "body": question.body,
        "asked_at": question.asked_at, "due_at": question.due_at, "overdue": question.is_overdue(),
        "answer": question.answer, "answered_by": ref(question.answered_by), "answered_at": question.answered_at,
    }


class QuestionPage(OutSchema):
    items: list[QuestionOut]
    count: int


class QuestionFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Text in the question or its answer")


class QuestionCreate(InputSchema):
    body: str = Field(..., max_length=5_000)
    to_side: Side | None = Field(None, description="Defaults to the other side")


class AnswerIn(InputSchema):
    answer: str = Field(..., max_length=10_000)


# --- escalations -----------------------------------------------------------------------------


class EscalationOut(OutSchema):
    id: str
    opportunity: Ref
    partner: Ref | None
    level: Level
    trigger: EscalationTrigger
    reason: str
    raised_by: Ref | None
    owner: Ref | None
    status: EscalationStatus
    resolution: str
    resolved_by: Ref | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


def escalation_out(escalation: Escalation) -> dict:
    return {
        "id": escalation.public_id, "opportunity": ref(escalation.opportunity), "partner": ref(escalation.partner),
        **{f: getattr(escalation, f) for f in (
            "level", "trigger", "reason", "status", "resolution", "created_at", "updated_at", "resolved_at",
        )},
        "raised_by": ref(escalation.raised_by), "owner": ref(escalation.owner), "resolved_by": ref(escalation.resolved_by),
    }


class EscalationPage(OutSchema):
    items: list[EscalationOut]
    count: int


class EscalationFilters(Paging):
    opportunity: str | None = id_filter(Opportunity)
    status: EscalationStatus | None = None
    live: bool | None = Field(None, description="true: open or in progress only")
    level: int | None = Field(None, ge=1, le=4)
    trigger: EscalationTrigger | None = None
    mine: bool | None = Field(None, description="true: the ones you own")
    q: str | None = Field(None, max_length=200, description="Part of the deal's name or the reason")


class EscalationCreate(InputSchema):
    opportunity: str
    level: Level
    reason: str = Field(..., max_length=5_000)
    partner: str | None = Field(None, description="The partner it concerns (a partner user's own, always)")


class EscalationUpdate(InputSchema):
    """Only the fields sent change; resolving needs a resolution (sent now or before)."""

    status: EscalationStatus | None = None
    owner: str | None = Field(None, description="User id of the new owner")
    resolution: str | None = Field(None, max_length=5_000)
    level: Level | None = None
