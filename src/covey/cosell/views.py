"""The deal room, escalations and the engagement rules page.

Reads go through ``visible_to`` / ``get_for_user``; each write checks ``cosell.permissions`` and
calls one service. A form that fails validation re-renders the page it was on with the messages
next to the fields.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import get_for_user, require
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.cosell import permissions, selectors, services
from covey.cosell.forms import (
    AnswerForm,
    ChangeModelForm,
    EscalationRaiseForm,
    EscalationResolveForm,
    EscalationStatusForm,
    MeetingRecordForm,
    NoteForm,
    QuestionForm,
    RulesForm,
    StartEngagementForm,
    TeamMemberForm,
)
from covey.cosell.models import (
    DealQuestion,
    Engagement,
    EngagementRules,
    Escalation,
    EscalationLevel,
    EscalationStatus,
    EscalationTrigger,
)
from covey.crm.models import Opportunity

READ_ONLY = "Your role can view this deal room but not change it."
MODEL_DENIED = "Only the vendor's sellers change a deal's engagement model."
ESCALATION_DENIED = "Your role can view this escalation but not work on it."


def _engagement(user, public_id: str, *, write_check=None) -> Engagement:
    return get_for_user(Engagement, user, public_id, write_check=write_check, select=("opportunity__account", "partner"))


def _writer(user, engagement) -> bool:
    return permissions.can_write_engagement(user, engagement)


def _back(engagement: Engagement, anchor: str) -> HttpResponse:
    return redirect(services.room_url(engagement) + f"#{anchor}")


# --- the deal room ---------------------------------------------------------------------------


def _startable_links(opportunity: Opportunity):
    """Partners on the deal without an engagement yet."""
    return (
        opportunity.partner_links.select_related("partner")
        .exclude(partner_id__in=Engagement.objects.filter(opportunity=opportunity).values("partner_id"))
    )


def _room_context(request: HttpRequest, opportunity: Opportunity, engagement: Engagement | None = None, **forms) -> dict:
    user = request.user
    engagements = list(Engagement.objects.visible_to(user).filter(opportunity=opportunity).select_related("partner", "plan"))
    if engagement is None and engagements:
        wanted = request.GET.get("partner", "")
        engagement = next((e for e in engagements if e.partner.public_id == wanted), engagements[0])
    context: dict = {"opportunity": opportunity, "engagements": engagements, "engagement": engagement}
    if permissions.can_start_engagement(user):
        links = list(_startable_links(opportunity))
        if links:
            context["start_form"] = forms.get("start_form") or StartEngagementForm(links=links)
    if engagement is None:
        return context
    can_write = _writer(user, engagement)
    questions = list(engagement.questions.select_related("asked_by", "answered_by"))
    for question in questions:
        question.can_answer = question.answered_at is None and permissions.can_answer(user, question)
    context.update({
        "can_write": can_write,
        "can_change_model": permissions.can_change_model(user, engagement),
        "model_form": forms.get("model_form") or ChangeModelForm(initial={"model": engagement.model}),
        "changes": engagement.changes.select_related("changed_by")[:10],
        "team": engagement.team.select_related("user"),
        "team_form": forms.get("team_form") or (TeamMemberForm(engagement=engagement, actor=user) if can_write else None),
        "timeline": selectors.timeline(engagement, user),
        "notes": engagement.notes.select_related("author")[:50],
        "note_form": forms.get("note_form") or NoteForm(),
        "meetings": engagement.meetings.select_related("created_by")[:20],
        "questions": questions,
        "question_form": forms.get("question_form") or QuestionForm(actor=user),
        "answer_question": forms.get("answer_question"),
        "answer_form": forms.get("answer_form"),
        "sync": selectors.last_sync(engagement),
        "escalations": selectors.escalations_of(engagement, user)[:20],
        "escalation_form": forms.get("escalation_form") or EscalationRaiseForm(),
    })
    if engagement.plan_id and engagement.plan is not None:
        from covey.plans.models import Plan
        from covey.plans.selectors import plan_context

        if Plan.objects.visible_to(user).filter(pk=engagement.plan_id).exists():
            context.update(plan_context(engagement.plan, user))
    return context


def _render_room(request, engagement: Engagement, status: int = 200, **forms) -> HttpResponse:
    context = _room_context(request, engagement.opportunity, engagement, **forms)
    return render(request, "cosell/deal_room.html", context, status=status)


@login_required
def deal_room(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = get_for_user(Opportunity, request.user, public_id, select=("account", "owner"))
    return render(request, "cosell/deal_room.html", _room_context(request, opportunity))


@login_required
@require_POST
def engagement_start(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    opportunity = get_for_user(Opportunity, user, public_id, select=("account", "owner"))
    require(permissions.can_start_engagement(user), "Only the vendor's sellers open a deal room.")
    form = StartEngagementForm(request.POST, links=_startable_links(opportunity))
    if form.is_valid():
        engagement = services.start_engagement(
            opportunity, partner=form.cleaned_data["partner"], sourced_by_partner=form.cleaned_data["sourced_by_partner"],
            actor=user,
        )
        messages.success(request, f"Deal room opened with {engagement.partner.name}: {engagement.get_model_display().lower()}.")
        return redirect(services.room_url(engagement))
    return render(request, "cosell/deal_room.html", _room_context(request, opportunity, start_form=form))


@login_required
@require_POST
def engagement_change_model(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    engagement = _engagement(user, public_id, write_check=lambda u, e: permissions.can_change_model(u, e) or _deny(MODEL_DENIED))
    form = ChangeModelForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.change_engagement_model(engagement, model=data["model"], reason=data["reason"], replan=data["replan"], actor=user)
        except ValidationError as exc:
            engagement.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Engagement model changed.")
            return _back(engagement, "engagement")
    return _render_room(request, engagement, model_form=form)


def _deny(message: str) -> bool:
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied(message)


def _write(message: str = READ_ONLY):
    return lambda u, e: _writer(u, e) or _deny(message)


@login_required
@require_POST
def deal_team_add(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    engagement = _engagement(user, public_id, write_check=_write())
    form = TeamMemberForm(request.POST, engagement=engagement, actor=user)
    if form.is_valid():
        try:
            member = services.add_team_member(engagement, user=form.cleaned_data["user"], role=form.cleaned_data["role"], actor=user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"{member.user} joined the deal team as {member.get_role_display().lower()}.")
            return _back(engagement, "team")
    return _render_room(request, engagement, team_form=form)


@login_required
@require_POST
def deal_team_remove(request: HttpRequest, public_id: str, member_id: str) -> HttpResponse:
    user = request.user
    engagement = _engagement(user, public_id, write_check=_write())
    member = engagement.team.select_related("user", "engagement").filter(public_id=member_id).first()
    if member is None:
        raise Http404("No such member of this deal team")
    require(permissions.can_remove_member(user, member), "Partner users remove only their own side of the team.")
    services.remove_team_member(member, actor=user)
    messages.success(request, f"{member.user} left the deal team.")
    return _back(engagement, "team")


@login_required
@require_POST
def deal_note_add(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    engagement = _engagement(user, public_id, write_check=_write())
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(engagement, body=form.cleaned_data["body"], actor=user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Note added.")
            return _back(engagement, "notes")
    return _render_room(request, engagement, note_form=form)


@login_required
def meeting_record_create(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    engagement = _engagement(user, public_id, write_check=_write())
    form = MeetingRecordForm(request.POST or None, initial={"kind": request.GET.get("kind", "prep")})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.add_meeting_record(engagement, actor=user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"{record.get_kind_display()} “{record.title}” saved.")
            return _back(engagement, "meetings")
    return render(request, "cosell/meeting_form.html", {"form": form, "engagement": engagement, "opportunity": engagement.opportunity})


@login_required
@require_POST
def question_ask(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    engagement = _engagement(user, public_id, write_check=_write())
    form = QuestionForm(request.POST, actor=user)
    if form.is_valid():
        try:
            services.ask_question(engagement, body=form.cleaned_data["body"], to_side=form.cleaned_data["to_side"], actor=user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Question sent; the answer is due within 24 hours.")
            return _back(engagement, "questions")
    return _render_room(request, engagement, question_form=form)


@login_required
@require_POST
def question_answer(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    question = DealQuestion.objects.filter(
        public_id=public_id, engagement__in=Engagement.objects.visible_to(user),
    ).select_related("engagement__opportunity__account", "engagement__partner").first()
    if question is None:
        raise Http404("No deal question with that id")
    require(permissions.can_answer(user, question), "The side this question was put to answers it.")
    engagement = question.engagement
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer_question(question, answer=form.cleaned_data["answer"], actor=user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Answer sent.")
            return _back(engagement, "questions")
    return _render_room(request, engagement, answer_question=question, answer_form=form)


@login_required
@require_POST
def escalation_raise(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    engagement = _engagement(user, public_id, write_check=_write())
    form = EscalationRaiseForm(request.POST)
    if form.is_valid():
        try:
            escalation = services.raise_escalation(
                engagement.opportunity, level=form.cleaned_data["level"], trigger=EscalationTrigger.MANUAL,
                reason=form.cleaned_data["reason"], actor=user, partner=engagement.partner,
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Escalated at level {escalation.level}; {escalation.owner or 'nobody yet'} owns it.")
            return redirect("escalation_detail", public_id=escalation.public_id)
    return _render_room(request, engagement, escalation_form=form)


# --- escalations -----------------------------------------------------------------------------


def _escalation_listing(request: HttpRequest):
    user = request.user

    def mine(qs, value):
        return qs.filter(owner=user) if value == "owner" else qs.filter(raised_by=user)

    return build_listing(
        request,
        Escalation.objects.visible_to(user).select_related("opportunity__account", "owner", "partner"),
        search=("opportunity__name", "opportunity__account__name", "reason"),
        filters=[
            Filter("status", "Status", choices=[("live", "Open or in progress"), *EscalationStatus.choices],
                   apply=lambda qs, v: qs.live() if v == "live" else qs.filter(status=v)),
            Filter("level", "Level", lookup="level", choices=EscalationLevel.choices),
            Filter("trigger", "Trigger", lookup="trigger", choices=EscalationTrigger.choices),
            Filter("mine", "Mine", choices=[("owner", "I own"), ("raised", "I raised")], apply=mine),
        ],
        sorts={"created": ["created_at"], "level": ["level", "-created_at"], "deal": ["opportunity__name", "-created_at"]},
        default_sort="-created",
    )


@login_required
def escalation_list(request: HttpRequest) -> HttpResponse:
    context = {"listing": _escalation_listing(request)}
    return render_list(request, "cosell/escalation_list.html", "cosell/_escalation_results.html", context)


def _escalation(user, public_id: str, *, write: bool = False) -> Escalation:
    check = (lambda u, e: permissions.can_work_escalation(u, e)) if write else None
    return get_for_user(Escalation, user, public_id, write_check=check, select=("opportunity__account", "owner", "raised_by", "partner"))


def _escalation_page(request, escalation: Escalation, **forms) -> HttpResponse:
    user = request.user
    engagement = None
    if escalation.partner_id:
        engagement = Engagement.objects.visible_to(user).filter(
            opportunity_id=escalation.opportunity_id, partner_id=escalation.partner_id,
        ).select_related("partner", "opportunity").first()
    context = {
        "escalation": escalation,
        "engagement": engagement,
        "can_work": permissions.can_work_escalation(user, escalation),
        "status_form": forms.get("status_form") or EscalationStatusForm(initial={"status": escalation.status}),
        "resolve_form": forms.get("resolve_form") or EscalationResolveForm(),
        # The change log names people of the vendor and partner: shown only to who may see the deal.
        "history": audit.history(escalation)[:20],
    }
    return render(request, "cosell/escalation_detail.html", context)


@login_required
def escalation_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _escalation_page(request, _escalation(request.user, public_id))


@login_required
@require_POST
def escalation_take(request: HttpRequest, public_id: str) -> HttpResponse:
    escalation = _escalation(request.user, public_id, write=True)
    if not escalation.is_live:
        messages.error(request, "This escalation is resolved; there is nothing to take on.")
    else:
        services.take_escalation(escalation, actor=request.user)
        messages.success(request, "You own this escalation now.")
    return redirect("escalation_detail", public_id=escalation.public_id)


@login_required
@require_POST
def escalation_status(request: HttpRequest, public_id: str) -> HttpResponse:
    escalation = _escalation(request.user, public_id, write=True)
    form = EscalationStatusForm(request.POST)
    if form.is_valid():
        try:
            changes = services.update_escalation(escalation, actor=request.user, status=form.cleaned_data["status"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, "Status changed." if changes else "Nothing changed.")
            return redirect("escalation_detail", public_id=escalation.public_id)
    escalation.refresh_from_db()
    return _escalation_page(request, escalation, status_form=form)


@login_required
@require_POST
def escalation_resolve(request: HttpRequest, public_id: str) -> HttpResponse:
    escalation = _escalation(request.user, public_id, write=True)
    form = EscalationResolveForm(request.POST)
    if form.is_valid():
        try:
            services.resolve_escalation(escalation, resolution=form.cleaned_data["resolution"], actor=request.user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Escalation resolved.")
            return redirect("escalation_detail", public_id=escalation.public_id)
    escalation.refresh_from_db()
    return _escalation_page(request, escalation, resolve_form=form)


# --- rules -----------------------------------------------------------------------------------


@login_required
def cosell_settings(request: HttpRequest) -> HttpResponse:
    require(permissions.can_edit_rules(request.user), "Only an admin changes the engagement rules.")
    current = EngagementRules.current()
    form = RulesForm.for_rules(current, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.update_rules(actor=request.user, **form.values())
        except ValidationError as exc:
            show_service_errors(form, exc, {"strategic_minor": "strategic_value", "small_deal_minor": "small_deal"})
        else:
            messages.success(request, "Engagement rules saved." if changes else "Nothing changed.")
            return redirect("cosell_settings")
    return render(request, "cosell/settings.html", {"form": form, "history": audit.history(current)[:20]})

