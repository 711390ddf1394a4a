"""Plan pages: the plans list, one plan (tick, assign, pass gates), applying a template, and the
admins' template editor.

Plans are fetched through ``get_for_user`` (404 to outsiders); tasks and stages through their
plan's visibility. Ticking and assigning answer an htmx request with the updated task row (plus the
plan's progress, swapped out of band), and a plain form post with a redirect back.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import get_for_user, require
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.core.lookup import lookup_threshold
from covey.core.models import AuditEvent
from covey.core.vocab import EngagementModel
from covey.crm.models import Opportunity
from covey.partners.models import Partner
from covey.plans import access, services
from covey.plans.forms import (
    ApplyPlanForm,
    AssignForm,
    OpportunityPickForm,
    PlanTemplateForm,
    StageTemplateForm,
    TaskTemplateForm,
)
from covey.plans.models import (
    Plan,
    PlanKind,
    PlanStage,
    PlanTask,
    PlanTemplate,
    StageTemplate,
    TaskTemplate,
)
from covey.plans.selectors import assignee_choices, plan_context, task_row_context, with_progress

NO_APPLY = "Only the vendor's admins, partner managers and sales reps start plans."
NO_TEMPLATES = "Only the vendor's admins edit plan templates."
NO_TICK = "You can view this task but not tick it: it belongs to the other side, or your role is read-only."
NO_ASSIGN = "You can view this task but not reassign it."
NO_GATE = "Only the vendor's sellers record that a gate was passed."


def plan_history(plan: Plan):
    """The plan's audit events and its tasks' (ticks, assignments), newest first."""
    task_ids = list(plan.tasks.values_list("public_id", flat=True))
    return AuditEvent.objects.filter(
        Q(object_type=audit.object_type(plan), object_id=plan.public_id)
        | Q(object_type=audit.object_type(PlanTask()), object_id__in=task_ids)
    ).select_related("actor")


def _back(request: HttpRequest, plan: Plan) -> HttpResponse:
    """Back to where the form was (the deal room embeds plans), else to the plan page."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("plan_detail", public_id=plan.public_id)


# --- plans -----------------------------------------------------------------------------------


def _partner_filter(user) -> Filter:
    partners = Partner.objects.visible_to(user)
    if partners[: lookup_threshold() + 1].count() > lookup_threshold():
        return Filter("partner", "Partner", lookup="partner__public_id", kind="lookup", lookup_kind="partners")
    return Filter("partner", "Partner", lookup="partner__public_id",
                  choices=lambda: [(p.public_id, p.name) for p in partners.order_by("name")])


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    plans = with_progress(Plan.objects.visible_to(user)).select_related("partner", "opportunity", "template")
    mine = PlanTask.objects.filter(plan=OuterRef("pk"), assignee=user)
    filters = [
        Filter("kind", "Kind", lookup="kind", choices=PlanKind.choices),
        Filter("overdue", "Overdue", choices=[("yes", "With overdue tasks")], any_label="All plans",
               apply=lambda qs, _: qs.filter(tasks_overdue__gt=0)),
        Filter("mine", "Assigned", choices=[("yes", "Tasks of mine")], any_label="Anyone's",
               apply=lambda qs, _: qs.filter(Exists(mine))),
    ]
    if user.is_vendor:
        filters.insert(0, _partner_filter(user))
    listing = build_listing(
        request, plans, search=("name", "opportunity__name"), filters=filters,
        sorts={"name": ["name"], "start": ["start_date"], "created": ["created_at"], "overdue": ["tasks_overdue"]},
        default_sort="-created",
    )
    context = {"listing": listing, "can_apply": access.can_apply_template(user)}
    return render_list(request, "plans/plan_list.html", "plans/_plan_results.html", context)


@login_required
def plan_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    plan = get_for_user(Plan, user, public_id, select=("partner", "opportunity", "template", "created_by"))
    context = plan_context(plan, user)
    # The change log names people on both sides and the template's internals: vendor eyes only.
    context["history"] = plan_history(plan)[:40] if user.is_vendor else None
    return render(request, "plans/plan_detail.html", context)


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(access.can_apply_template(user), NO_APPLY)
    opportunity_id = request.GET.get("opportunity", "").strip()
    if not opportunity_id:
        # Submitted empty: bound, so the form says what is missing.
        pick = OpportunityPickForm(request.GET if "opportunity" in request.GET else None, user=user)
        pick.is_valid()
        return render(request, "plans/plan_pick.html", {"form": pick})
    opportunity = get_for_user(Opportunity, user, opportunity_id[:40], select=("account",))
    form = ApplyPlanForm(request.POST or None, opportunity=opportunity)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.apply_template(
                data["template"], partner=data["partner"], start=data["start"], actor=user, opportunity=opportunity,
                partner_assignee=data["partner_assignee"], vendor_assignee=data["vendor_assignee"], name=data["name"],
            )
        except ValidationError as exc:
            show_service_errors(form, exc, {"template": "template", "partner": "partner"})
        else:
            messages.success(request, f"Plan “{plan.name}” started with {plan.tasks.count()} tasks.")
            return redirect("plan_detail", public_id=plan.public_id)
    no_partner = not opportunity.partner_links.exists()
    return render(request, "plans/plan_form.html", {"form": form, "opportunity": opportunity, "no_partner": no_partner})


def _task(request: HttpRequest, public_id: str, write_check) -> PlanTask:
    return get_for_user(PlanTask, request.user, public_id, write_check=write_check, select=("plan", "plan__partner", "stage"))


def _task_answer(request: HttpRequest, task: PlanTask) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, "plans/_task_row.html", task_row_context(task, request.user))
    return _back(request, task.plan)


def _tick_check(user, task) -> bool:
    # Raised here rather than returned, so the 403 page says why (the other side's task, or read-only).
    if not access.can_tick(user, task):
        raise PermissionDenied(NO_TICK)
    return True


def _assign_check(user, task) -> bool:
    if not access.can_assign(user, task):
        raise PermissionDenied(NO_ASSIGN)
    return True


@login_required
@require_POST
def plan_task_tick(request: HttpRequest, public_id: str) -> HttpResponse:
    """``done`` present (the ticked checkbox) completes the task; absent reopens it."""
    task = _task(request, public_id, _tick_check)
    try:
        if request.POST.get("done"):
            services.complete_task(task, actor=request.user)
        else:
            services.reopen_task(task, actor=request.user)
    except ValidationError as exc:
        if getattr(request, "htmx", False):
            context = task_row_context(task, request.user)
            context["row_error"] = error_text(exc)
            return render(request, "plans/_task_row.html", context)
        messages.error(request, error_text(exc))
    return _task_answer(request, task)


@login_required
@require_POST
def plan_task_assign(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    task = _task(request, public_id, _assign_check)
    form = AssignForm(request.POST, choices=assignee_choices(task, user))
    error = ""
    if form.is_valid():
        try:
            changed = services.assign_task(task, assignee=form.cleaned_data["assignee"], actor=user)
        except ValidationError as exc:
            error = error_text(exc)
        else:
            if changed and not getattr(request, "htmx", False):
                messages.success(request, f"“{task.title}” is now {'with ' + str(task.assignee) if task.assignee else 'unassigned'}.")
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if error:
        if getattr(request, "htmx", False):
            context = task_row_context(task, user)
            context["row_error"] = error
            return render(request, "plans/_task_row.html", context)
        messages.error(request, error)
    return _task_answer(request, task)


@login_required
@require_POST
def plan_stage_gate(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    stage = PlanStage.objects.filter(plan__in=Plan.objects.visible_to(user).values("pk"), public_id=public_id).select_related("plan").first()
    if stage is None:
        raise Http404("No plan stage with that id")
    require(access.can_pass_gate(user, stage.plan), NO_GATE)
    try:
        passed = services.pass_gate(stage, actor=user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if passed:
            messages.success(request, f"Gate “{stage.gate_name}” passed.")
    return _back(request, stage.plan)


# --- templates -------------------------------------------------------------------------------


def _admin(request: HttpRequest) -> None:
    require(access.can_manage_templates(request.user), NO_TEMPLATES)


def _template(request: HttpRequest, public_id: str) -> PlanTemplate:
    _admin(request)
    return get_for_user(PlanTemplate, request.user, public_id)


def _stage(request: HttpRequest, public_id: str) -> StageTemplate:
    _admin(request)
    stage = StageTemplate.objects.select_related("template").filter(public_id=public_id).first()
    if stage is None:
        raise Http404("No stage with that id")
    return stage


def _task_template(request: HttpRequest, public_id: str) -> TaskTemplate:
    _admin(request)
    task = TaskTemplate.objects.select_related("stage", "stage__template").filter(public_id=public_id).first()
    if task is None:
        raise Http404("No task with that id")
    return task


def _to_template(template: PlanTemplate, anchor: str = "") -> HttpResponse:
    url = reverse("plan_template_detail", kwargs={"public_id": template.public_id})
    return redirect(url + (f"#{anchor}" if anchor else ""))


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    templates = PlanTemplate.objects.visible_to(request.user).annotate(
        stage_count=Count("stages", distinct=True), task_count=Count("stages__tasks", distinct=True),
        plan_count=Count("plans", distinct=True),
    )
    listing = build_listing(
        request, templates, search=("name", "description"),
        filters=[
            Filter("kind", "Kind", lookup="kind", choices=PlanKind.choices),
            Filter("model", "Engagement model", lookup="engagement_model", choices=EngagementModel.choices),
            Filter("active", "Status", choices=[("yes", "Active"), ("no", "Switched off")],
                   apply=lambda qs, v: qs.filter(is_active=v == "yes")),
        ],
        sorts={"name": ["name"], "kind": ["kind", "engagement_model", "name"], "updated": ["updated_at"]},
        default_sort="kind",
    )
    return render_list(request, "plans/template_list.html", "plans/_template_results.html", {"listing": listing})


@login_required
def template_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    form = PlanTemplateForm(request.POST or None, initial={"kind": PlanKind.DEAL, "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(actor=request.user, **form.values())
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Template “{template.name}” created. Add its stages and tasks below.")
            return _to_template(template)
    return render(request, "plans/template_form.html", {"form": form, "template": None})


def _editor_context(template: PlanTemplate, **forms) -> dict:
    stages = list(template.stages.prefetch_related(Prefetch("tasks", queryset=TaskTemplate.objects.order_by("order", "id"))))
    failed_task_forms = forms.get("task_forms") or {}
    for stage in stages:
        # Each stage has its own "add a task" form; the one that failed validation keeps its input.
        stage.task_form = failed_task_forms.get(stage.pk) or TaskTemplateForm(template=template, prefix=f"task-{stage.public_id}")
    return {
        "template": template,
        "stages": stages,
        "stage_form": forms.get("stage_form") or StageTemplateForm(initial=_next_window(stages)),
        "plan_count": template.plans.count(),
        "total_days": max((s.end_day for s in stages), default=0),
        "history": audit.history(template)[:30],
    }


def _next_window(stages: list[StageTemplate]) -> dict:
    """A new stage starts the day after the last one ends, a week long, as a sensible default."""
    last = max((s.end_day for s in stages), default=0)
    return {"start_day": last + 1, "end_day": last + 7}


@login_required
def template_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    template = _template(request, public_id)
    return render(request, "plans/template_detail.html", _editor_context(template))


@login_required
def template_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    template = _template(request, public_id)
    form = PlanTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.template_update(template, actor=request.user, **form.values())
        except ValidationError as exc:
            template.refresh_from_db()
            show_service_errors(form, exc)
        else:
            note = " It is no longer the default for its engagement model." if "is_default" in changes else ""
            messages.success(request, ("Template saved." if changes else "Nothing changed.") + note)
            return _to_template(template)
    return render(request, "plans/template_form.html", {"form": form, "template": template})


@login_required
def template_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    template = _template(request, public_id)
    if request.method == "POST":
        services.template_delete(template, actor=request.user)
        messages.success(request, f"Template “{template.name}” deleted.")
        return redirect("plan_template_list")
    n = template.plans.count()
    detail = "Its stages and tasks are deleted with it."
    if n:
        detail += f" The {n} plan{'s' if n != 1 else ''} made from it keep their own copy of every stage and task."
    if template.is_default:
        detail += f" It is the default for {template.get_engagement_model_display()}: new deals of that model get no plan until another template is made the default."
    return render(request, "includes/confirm_delete.html", {
        "title": f"Delete {template.name}", "question": f"Delete the template “{template.name}”?", "detail": detail,
        "button": "Delete template", "cancel_url": reverse("plan_template_detail", kwargs={"public_id": template.public_id}),
        "crumbs": [("Plan templates", reverse("plan_template_list")),
                   (template.name, reverse("plan_template_detail", kwargs={"public_id": template.public_id}))],
    })


@login_required
@require_POST
def template_duplicate(request: HttpRequest, public_id: str) -> HttpResponse:
    template = _template(request, public_id)
    copy = services.template_duplicate(template, actor=request.user)
    messages.success(request, f"Copied to “{copy.name}”. The copy is switched off until you activate it.")
    return _to_template(copy)


@login_required
@require_POST
def template_activate(request: HttpRequest, public_id: str) -> HttpResponse:
    """``active=1`` switches the template on; anything else switches it off."""
    template = _template(request, public_id)
    active = request.POST.get("active") == "1"
    was_default = template.is_default
    changes = services.template_set_active(template, active=active, actor=request.user)
    if changes:
        note = " It is no longer a default." if was_default and not active else ""
        messages.success(request, ("Template switched on." if active else "Template switched off.") + note)
    return _to_template(template)


@login_required
@require_POST
def template_make_default(request: HttpRequest, public_id: str) -> HttpResponse:
    template = _template(request, public_id)
    try:
        if services.template_make_default(template, actor=request.user):
            messages.success(request, f"“{template.name}” is now the default for {template.get_engagement_model_display()}.")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return _to_template(template)


@login_required
@require_POST
def stage_add(request: HttpRequest, public_id: str) -> HttpResponse:
    template = _template(request, public_id)
    form = StageTemplateForm(request.POST)
    if form.is_valid():
        try:
            stage = services.stage_add(template, actor=request.user, **form.values())
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Stage “{stage.name}” added.")
            return _to_template(template, f"stage-{stage.public_id}")
    return render(request, "plans/template_detail.html", _editor_context(template, stage_form=form))


@login_required
def stage_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    stage = _stage(request, public_id)
    form = StageTemplateForm(request.POST or None, instance=stage)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.stage_update(stage, actor=request.user, **form.values())
        except ValidationError as exc:
            stage.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Stage saved." if changed else "Nothing changed.")
            return _to_template(stage.template, f"stage-{stage.public_id}")
    return render(request, "plans/stage_form.html", {"form": form, "stage": stage, "template": stage.template})


@login_required
def stage_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    stage = _stage(request, public_id)
    template = stage.template
    if request.method == "POST":
        services.stage_delete(stage, actor=request.user)
        messages.success(request, f"Stage “{stage.name}” deleted.")
        return _to_template(template)
    n = stage.tasks.count()
    back = reverse("plan_template_detail", kwargs={"public_id": template.public_id})
    return render(request, "includes/confirm_delete.html", {
        "title": f"Delete stage {stage.name}", "question": f"Delete the stage “{stage.name}” of “{template.name}”?",
        "detail": (f"Its {n} task{'s are' if n != 1 else ' is'} deleted with it. " if n else "")
        + "Plans already made from this template keep theirs.",
        "button": "Delete stage", "cancel_url": back,
        "crumbs": [("Plan templates", reverse("plan_template_list")), (template.name, back)],
    })


@login_required
@require_POST
def stage_move(request: HttpRequest, public_id: str) -> HttpResponse:
    stage = _stage(request, public_id)
    services.stage_move(stage, direction=request.POST.get("direction", ""), actor=request.user)
    return _to_template(stage.template, f"stage-{stage.public_id}")


@login_required
@require_POST
def task_add(request: HttpRequest, public_id: str) -> HttpResponse:
    stage = _stage(request, public_id)
    template = stage.template
    form = TaskTemplateForm(request.POST, template=template, prefix=f"task-{stage.public_id}")
    if form.is_valid():
        try:
            task = services.task_add(stage, actor=request.user, **form.values())
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Task “{task.title}” added to {stage.name}.")
            return _to_template(template, f"stage-{stage.public_id}")
    return render(request, "plans/template_detail.html", _editor_context(template, task_forms={stage.pk: form}))


@login_required
def task_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    task = _task_template(request, public_id)
    template = task.stage.template
    form = TaskTemplateForm(request.POST or None, instance=task, template=template, with_stage=True)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.task_update(task, actor=request.user, **form.values())
        except ValidationError as exc:
            task.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Task saved." if changed else "Nothing changed.")
            return _to_template(template, f"stage-{task.stage.public_id}")
    return render(request, "plans/task_form.html", {"form": form, "task": task, "template": template})


@login_required
def task_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    task = _task_template(request, public_id)
    template = task.stage.template
    if request.method == "POST":
        services.task_delete(task, actor=request.user)
        messages.success(request, f"Task “{task.title}” deleted.")
        return _to_template(template, f"stage-{task.stage.public_id}")
    back = reverse("plan_template_detail", kwargs={"public_id": template.public_id})
    return render(request, "includes/confirm_delete.html", {
        "title": "Delete task", "question": f"Delete the task “{task.title}” from {task.stage.name}?",
        "detail": "Plans already made from this template keep theirs.", "button": "Delete task", "cancel_url": back,
        "crumbs": [("Plan templates", reverse("plan_template_list")), (template.name, back)],
    })


@login_required
@require_POST
def task_move(request: HttpRequest, public_id: str) -> HttpResponse:
    task = _task_template(request, public_id)
    services.task_move(task, direction=request.POST.get("direction", ""), actor=request.user)
    return _to_template(task.stage.template, f"stage-{task.stage.public_id}")
