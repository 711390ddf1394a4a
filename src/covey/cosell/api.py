"""Engagements, deal teams, notes, meeting records, questions and escalations over the API.

Reads go through ``visible_to`` / ``get_for_user``, writes through ``cosell.services`` with
``source="api"``, with the same permission rules as the deal room in the browser.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from ninja import Query, Router

from covey.core import access
from covey.core.api import (
    create_once,
    idempotency_key_header,
    lookup,
    no_content,
    page,
    search,
    user_of,
)
from covey.core.models import User
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS
from covey.cosell import permissions, services
from covey.cosell.models import DealQuestion, Engagement, Escalation, EscalationTrigger
from covey.cosell.schemas import (
    AnswerIn,
    EngagementCreate,
    EngagementFilters,
    EngagementOut,
    EngagementPage,
    EngagementUpdate,
    EscalationCreate,
    EscalationFilters,
    EscalationOut,
    EscalationPage,
    EscalationUpdate,
    MeetingCreate,
    MeetingFilters,
    MeetingOut,
    MeetingPage,
    NoteCreate,
    NoteFilters,
    NoteOut,
    NotePage,
    QuestionCreate,
    QuestionFilters,
    QuestionOut,
    QuestionPage,
    TeamFilters,
    TeamMemberCreate,
    TeamMemberOut,
    TeamPage,
    engagement_out,
    escalation_out,
    meeting_out,
    member_out,
    note_out,
    question_out,
)
from covey.crm.models import Opportunity
from covey.partners.models import Membership, Partner

router = Router(tags=["co-selling"])

READ_ONLY = "Your role can view this deal room but not change it."
MODEL_DENIED = "Only the vendor's sellers change a deal's engagement model."
START_DENIED = "Only the vendor's sellers open a deal room."
ANSWER_DENIED = "The side this question was put to answers it."
ESCALATION_DENIED = "Your role can view this escalation but not work on it."
ESCALATE_DENIED = "Your role does not allow escalating deals."
DELETED = {204: None}


def _engagement(user, public_id: str, *, write: str | None = None) -> Engagement:
    engagement = access.get_for_user(Engagement, user, public_id, select=("opportunity", "partner", "plan"))
    if write == "model":
        access.require(permissions.can_change_model(user, engagement), MODEL_DENIED)
    elif write:
        access.require(permissions.can_write_engagement(user, engagement), READ_ONLY)
    return engagement


def _person(user, public_id: str, *, field: str, partner_id: int | None = None) -> User:
    """A person named in the input. Partner users may name only their own colleagues (and, where
    ``partner_id`` is None, the vendor's staff); unknown and out-of-reach read the same."""
    people = User.objects.filter(public_id=public_id, is_active=True)
    if not user.is_vendor:
        own = Membership.objects.filter(partner_id=user.membership.partner_id).values("user_id")
        people = people.filter(Q(pk__in=own) | (Q(staff_role__gt="") if partner_id is None else Q(pk__in=[])))
    found = people.first()
    if found is None:
        raise ValidationError({field: f"No person with id {public_id!r}."})
    return found


# --- engagements -----------------------------------------------------------------------------


@router.get(
    "/engagements", response={200: EngagementPage, **READ_ERRORS}, operation_id="engagements_list",
    summary="List engagements", description="Deal rooms you can see (a partner user: its own partner's), oldest first.",
)
def engagement_list(request: HttpRequest, filters: Query[EngagementFilters]):
    qs = Engagement.objects.visible_to(user_of(request)).select_related("opportunity", "partner", "plan")
    qs = search(qs, filters.q, "opportunity__name", "partner__name")
    if filters.opportunity:
        qs = qs.filter(opportunity__public_id=filters.opportunity)
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.model:
        qs = qs.filter(model=filters.model)
    return page(qs, filters, engagement_out)


@router.get(
    "/engagements/{id}", response={200: EngagementOut, **READ_ERRORS}, operation_id="engagements_get",
    summary="Get an engagement", description="One deal room: model and why, plan, deal team, last sync.",
)
def engagement_get(request: HttpRequest, id: str):
    return engagement_out(_engagement(user_of(request), id))


@router.post(
    "/engagements", response={201: EngagementOut, **WRITE_ERRORS}, operation_id="engagements_create",
    summary="Open a deal room",
    description="Vendor sellers open the deal room of a partner on an opportunity; the engagement model follows "
    "the rules and its playbook becomes the deal's plan. One per partner and opportunity (422 if it exists).",
)
def engagement_create(request: HttpRequest, payload: EngagementCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(permissions.can_start_engagement(user), START_DENIED)
    opportunity = lookup(Opportunity, user, payload.opportunity, field="opportunity")
    partner = lookup(Partner, user, payload.partner, field="partner")
    if not opportunity.partner_links.filter(partner=partner).exists():
        raise ValidationError({"partner": services.NOT_ON_DEAL.format(partner=partner)})

    def start() -> Engagement:
        # Checked inside create_once, so a retry with the same Idempotency-Key replays the first answer.
        existing = Engagement.objects.filter(opportunity=opportunity, partner=partner).first()
        if existing is not None:
            raise ValidationError({"partner": f"{partner} already has a deal room on this opportunity ({existing.public_id})."})
        return services.start_engagement(
            opportunity, partner=partner, sourced_by_partner=payload.sourced_by_partner, actor=user, source="api",
        )

    return create_once(request, key=idempotency_key, make=start, schema=EngagementOut, render=engagement_out)


@router.patch(
    "/engagements/{id}", response={200: EngagementOut, **WRITE_ERRORS}, operation_id="engagements_update",
    summary="Change the engagement model",
    description="Vendor sellers change who leads, with a reason (kept in the history). replan applies the new "
    "model's plan template as a new plan.",
)
def engagement_update(request: HttpRequest, id: str, payload: EngagementUpdate):
    user = user_of(request)
    engagement = _engagement(user, id, write="model")
    services.change_engagement_model(
        engagement, model=payload.model.value, reason=payload.reason, replan=payload.replan, actor=user, source="api",
    )
    engagement.refresh_from_db()
    return engagement_out(engagement)


# --- deal team -------------------------------------------------------------------------------


@router.get(
    "/engagements/{id}/team", response={200: TeamPage, **READ_ERRORS}, operation_id="engagements_team_list",
    summary="List the deal team", description="Both sides' people on the deal, vendor first.",
)
def team_list(request: HttpRequest, id: str, filters: Query[TeamFilters]):
    engagement = _engagement(user_of(request), id)
    # Not the e-mail: the team shows names only, and a search must not test what it does not show.
    team = search(engagement.team.select_related("user"), filters.q, "user__full_name")
    return page(team, filters, member_out)


@router.post(
    "/engagements/{id}/team", response={201: TeamMemberOut, **WRITE_ERRORS}, operation_id="engagements_team_add",
    summary="Add someone to the deal team",
    description="Vendor sellers add staff or the partner's people; partner admins and reps add their own colleagues. "
    "The person is notified.",
)
def team_add(request: HttpRequest, id: str, payload: TeamMemberCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    engagement = _engagement(user, id, write="team")
    person = _person(user, payload.user, field="user")
    return create_once(
        request, key=idempotency_key,
        make=lambda: services.add_team_member(engagement, user=person, role=payload.role.value, actor=user, source="api"),
        schema=TeamMemberOut, render=member_out,
    )


@router.delete(
    "/engagements/{id}/team/{member_id}", response={**DELETED, **WRITE_ERRORS}, operation_id="engagements_team_remove",
    summary="Take someone off the deal team", description="Partner users remove only their own side's people.",
)
def team_remove(request: HttpRequest, id: str, member_id: str):
    user = user_of(request)
    engagement = _engagement(user, id, write="team")
    member = engagement.team.select_related("user", "engagement").filter(public_id=member_id).first()
    if member is None:
        raise Http404("No deal team member with that id")
    access.require(permissions.can_remove_member(user, member), "Partner users remove only their own side of the team.")
    services.remove_team_member(member, actor=user, source="api")
    return no_content()


# --- notes, meetings, questions --------------------------------------------------------------


@router.get(
    "/engagements/{id}/notes", response={200: NotePage, **READ_ERRORS}, operation_id="engagements_notes_list",
    summary="List shared notes", description="The deal room's notes, newest first.",
)
def note_list(request: HttpRequest, id: str, filters: Query[NoteFilters]):
    engagement = _engagement(user_of(request), id)
    return page(search(engagement.notes.select_related("author"), filters.q, "body"), filters, note_out)


@router.post(
    "/engagements/{id}/notes", response={201: NoteOut, **WRITE_ERRORS}, operation_id="engagements_notes_add",
    summary="Add a shared note", description="Both sides' writers add notes.",
)
def note_add(request: HttpRequest, id: str, payload: NoteCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    engagement = _engagement(user, id, write="note")
    return create_once(
        request, key=idempotency_key,
        make=lambda: services.add_note(engagement, body=payload.body, actor=user, source="api"),
        schema=NoteOut, render=note_out,
    )


@router.get(
    "/engagements/{id}/meetings", response={200: MeetingPage, **READ_ERRORS}, operation_id="engagements_meetings_list",
    summary="List meeting records", description="Meeting preps and debriefs, latest meeting first.",
)
def meeting_list(request: HttpRequest, id: str, filters: Query[MeetingFilters]):
    engagement = _engagement(user_of(request), id)
    return page(search(engagement.meetings.select_related("created_by"), filters.q, "title"), filters, meeting_out)


@router.post(
    "/engagements/{id}/meetings", response={201: MeetingOut, **WRITE_ERRORS}, operation_id="engagements_meetings_add",
    summary="Record a meeting prep or debrief",
    description="Prep: agenda and objectives, who leads which part, key messages, follow-ups. Debrief: learnings, "
    "next steps with owners, concerns.",
)
def meeting_add(request: HttpRequest, id: str, payload: MeetingCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    engagement = _engagement(user, id, write="meeting")
    values = payload.model_dump()
    values["kind"] = payload.kind.value
    return create_once(
        request, key=idempotency_key,
        make=lambda: services.add_meeting_record(engagement, actor=user, source="api", **values),
        schema=MeetingOut, render=meeting_out,
    )


@router.get(
    "/engagements/{id}/questions", response={200: QuestionPage, **READ_ERRORS}, operation_id="engagements_questions_list",
    summary="List internal questions", description="Questions between the two sides, newest first, with their 24-hour clock.",
)
def question_list(request: HttpRequest, id: str, filters: Query[QuestionFilters]):
    engagement = _engagement(user_of(request), id)
    questions = engagement.questions.select_related("asked_by", "answered_by")
    return page(search(questions, filters.q, "body", "answer"), filters, question_out)


@router.post(
    "/engagements/{id}/questions", response={201: QuestionOut, **WRITE_ERRORS}, operation_id="engagements_questions_ask",
    summary="Ask the other side a question", description="Due 24 hours later; the side asked is notified.",
)
def question_ask(request: HttpRequest, id: str, payload: QuestionCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    engagement = _engagement(user, id, write="question")
    to_side = payload.to_side.value if payload.to_side is not None else None
    return create_once(
        request, key=idempotency_key,
        make=lambda: services.ask_question(engagement, body=payload.body, to_side=to_side, actor=user, source="api"),
        schema=QuestionOut, render=question_out,
    )


@router.post(
    "/questions/{id}/answer", response={200: QuestionOut, **WRITE_ERRORS}, operation_id="questions_answer",
    summary="Answer a question", description="The side it was put to answers it, once; the asker is notified.",
)
def question_answer(request: HttpRequest, id: str, payload: AnswerIn):
    user = user_of(request)
    question = (
        DealQuestion.objects.filter(public_id=id, engagement__in=Engagement.objects.visible_to(user))
        .select_related("engagement__opportunity", "engagement__partner").first()
    )
    if question is None:
        raise Http404("No deal question with that id")
    access.require(permissions.can_answer(user, question), ANSWER_DENIED)
    return question_out(services.answer_question(question, answer=payload.answer, actor=user, source="api"))


# --- escalations -----------------------------------------------------------------------------


def _escalation(user, public_id: str, *, write: bool = False) -> Escalation:
    escalation = access.get_for_user(Escalation, user, public_id, select=("opportunity", "partner", "owner", "raised_by"))
    if write:
        access.require(permissions.can_work_escalation(user, escalation), ESCALATION_DENIED)
    return escalation


@router.get(
    "/escalations", response={200: EscalationPage, **READ_ERRORS}, operation_id="escalations_list",
    summary="List escalations", description="Escalations you can see, newest first.",
)
def escalation_list(request: HttpRequest, filters: Query[EscalationFilters]):
    user = user_of(request)
    qs = Escalation.objects.visible_to(user).select_related("opportunity", "partner", "owner", "raised_by", "resolved_by")
    if filters.opportunity:
        qs = qs.filter(opportunity__public_id=filters.opportunity)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.live:
        qs = qs.live()
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.trigger:
        qs = qs.filter(trigger=filters.trigger)
    if filters.mine:
        qs = qs.filter(owner=user)
    if filters.q:
        qs = qs.filter(Q(opportunity__name__icontains=filters.q) | Q(reason__icontains=filters.q))
    return page(qs, filters, escalation_out)


@router.get(
    "/escalations/{id}", response={200: EscalationOut, **READ_ERRORS}, operation_id="escalations_get",
    summary="Get an escalation", description="One escalation; 404 if it does not exist or you cannot see it.",
)
def escalation_get(request: HttpRequest, id: str):
    return escalation_out(_escalation(user_of(request), id))


@router.post(
    "/escalations", response={201: EscalationOut, **WRITE_ERRORS}, operation_id="escalations_create",
    summary="Escalate a deal",
    description="Raised by hand (trigger manual) at level 1 (reps), 2 (managers), 3 (executives) or 4 (deal desk "
    "and legal). A partner user's escalation concerns its own partner; the owner defaults by level.",
)
def escalation_create(request: HttpRequest, payload: EscalationCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    opportunity = lookup(Opportunity, user, payload.opportunity, field="opportunity")
    if user.is_vendor:
        access.require(access.can_edit_crm(user), ESCALATE_DENIED)
        partner = lookup(Partner, user, payload.partner, field="partner") if payload.partner else None
    else:
        membership = user.membership
        access.require(membership.can_write, ESCALATE_DENIED)
        if payload.partner and payload.partner != membership.partner.public_id:
            raise ValidationError({"partner": f"No partner with id {payload.partner!r}."})
        partner = membership.partner
    return create_once(
        request, key=idempotency_key,
        make=lambda: services.raise_escalation(
            opportunity, level=payload.level, trigger=EscalationTrigger.MANUAL, reason=payload.reason,
            actor=user, partner=partner, source="api",
        ),
        schema=EscalationOut, render=escalation_out,
    )


@router.patch(
    "/escalations/{id}", response={200: EscalationOut, **WRITE_ERRORS}, operation_id="escalations_update",
    summary="Work on an escalation",
    description="Change status (open, in_progress, resolved), owner, level or resolution. Resolving needs a resolution.",
)
def escalation_update(request: HttpRequest, id: str, payload: EscalationUpdate):
    user = user_of(request)
    escalation = _escalation(user, id, write=True)
    values = payload.model_dump(exclude_unset=True)
    wrong = {k: "This field cannot be null." for k, v in values.items() if v is None}
    if wrong:
        raise ValidationError(wrong)
    owner = _person(user, values["owner"], field="owner") if "owner" in values else None
    services.update_escalation(
        escalation, actor=user, source="api", owner=owner, level=values.get("level"),
        status=payload.status.value if payload.status is not None else None, resolution=values.get("resolution"),
    )
    escalation.refresh_from_db()
    return escalation_out(escalation)

