"""Plan templates and plans over the API: read templates, start plans, tick and assign tasks.

Reads go through ``visible_to`` / ``get_for_user`` and writes through ``covey.plans.services`` with
``source="api"``, under the same rules as the plan page (``covey.plans.access``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from covey.core import access as core_access
from covey.core.api import create_once, idempotency_key_header, lookup, page, search, user_of
from covey.core.models import User
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, Error
from covey.crm.models import Opportunity
from covey.partners.models import Partner
from covey.plans import access, services
from covey.plans.models import Plan, PlanTask, PlanTemplate
from covey.plans.schemas import (
    PlanCreate,
    PlanDetail,
    PlanFilters,
    PlanPage,
    PlanTaskOut,
    PlanTaskUpdate,
    PlanTemplateDetail,
    PlanTemplateFilters,
    PlanTemplatePage,
    plan_out,
    stage_out,
    task_out,
    template_detail_out,
    template_out,
)
from covey.plans.selectors import with_progress

router = Router(tags=["plans"])

NO_TEMPLATES = "Plan templates are the vendor's playbooks; partner users see the plans made from them."
NO_APPLY = "Only the vendor's admins, partner managers and sales reps start plans."
NO_TICK = "You can view this task but not tick it: it belongs to the other side, or your role is read-only."
NO_ASSIGN = "You can view this task but not reassign it."


# --- templates -------------------------------------------------------------------------------


@router.get(
    "/plan-templates", response={200: PlanTemplatePage, **READ_ERRORS, 403: Error},
    operation_id="plan_templates_list", summary="List plan templates",
    description="The vendor's playbooks (vendor staff only), by kind and name.",
)
def template_list(request: HttpRequest, filters: Query[PlanTemplateFilters]):
    user = user_of(request)
    core_access.require(user.is_vendor, NO_TEMPLATES)
    qs = search(PlanTemplate.objects.visible_to(user), filters.q, "name", "description")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.engagement_model:
        qs = qs.filter(engagement_model=filters.engagement_model)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    return page(qs.order_by("kind", "name", "id"), filters, template_out)


@router.get(
    "/plan-templates/{id}", response={200: PlanTemplateDetail, **READ_ERRORS}, operation_id="plan_templates_get",
    summary="Get a plan template", description="One template with its stages (day windows, gates) and tasks.",
)
def template_get(request: HttpRequest, id: str):
    return template_detail_out(core_access.get_for_user(PlanTemplate, user_of(request), id))


# --- plans -----------------------------------------------------------------------------------


def _detail(plan: Plan) -> dict:
    today = timezone.localdate()
    plan = with_progress(Plan.objects.filter(pk=plan.pk), today).select_related("template", "partner", "opportunity").get()
    tasks = list(plan.tasks.select_related("assignee", "done_by"))
    body = plan_out(plan)
    body["stages"] = [
        stage_out(stage, [t for t in tasks if t.stage_id == stage.pk], today)
        for stage in plan.stages.select_related("gate_passed_by")
    ]
    return body


@router.get(
    "/plans", response={200: PlanPage, **READ_ERRORS}, operation_id="plans_list", summary="List plans",
    description="Plans you can see (a partner user: its own partner's), newest first, with progress.",
)
def plan_list(request: HttpRequest, filters: Query[PlanFilters]):
    user = user_of(request)
    qs = with_progress(Plan.objects.visible_to(user)).select_related("template", "partner", "opportunity")
    qs = search(qs, filters.q, "name", "opportunity__name")
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.opportunity:
        qs = qs.filter(opportunity__public_id=filters.opportunity)
    if filters.overdue:
        qs = qs.filter(tasks_overdue__gt=0)
    return page(qs.order_by("-created_at", "-id"), filters, plan_out)


@router.get(
    "/plans/{id}", response={200: PlanDetail, **READ_ERRORS}, operation_id="plans_get", summary="Get a plan",
    description="One plan with its stages and tasks; 404 if it does not exist or you cannot see it.",
)
def plan_get(request: HttpRequest, id: str):
    return _detail(core_access.get_for_user(Plan, user_of(request), id))


def _person(public_id: str | None, *, field: str) -> User | None:
    if not public_id:
        return None
    person = User.objects.filter(public_id=public_id).first()
    if person is None:
        raise ValidationError({field: f"No user with id {public_id!r}."})
    return person


@router.post(
    "/plans", response={201: PlanDetail, **WRITE_ERRORS}, operation_id="plans_create", summary="Start a plan",
    description="Apply a template: every stage and task is copied with dates from `start` (day 1), partner-side "
    "tasks go to `partner_assignee`, vendor-side and shared ones to `vendor_assignee`. Vendor sellers only. "
    "Send an Idempotency-Key header to make retries safe.",
)
def plan_create(request: HttpRequest, payload: PlanCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    core_access.require(access.can_apply_template(user), NO_APPLY)
    template = lookup(PlanTemplate, user, payload.template, field="template")
    partner = lookup(Partner, user, payload.partner, field="partner")
    opportunity = lookup(Opportunity, user, payload.opportunity, field="opportunity") if payload.opportunity else None
    partner_assignee = _person(payload.partner_assignee, field="partner_assignee")
    vendor_assignee = _person(payload.vendor_assignee, field="vendor_assignee")
    return create_once(
        request, key=idempotency_key,
        make=lambda: services.apply_template(
            template, partner=partner, start=payload.start, actor=user, opportunity=opportunity,
            partner_assignee=partner_assignee, vendor_assignee=vendor_assignee, name=payload.name, source="api",
        ),
        schema=PlanDetail, render=_detail,
    )


@router.patch(
    "/plan-tasks/{id}", response={200: PlanTaskOut, **WRITE_ERRORS}, operation_id="plan_tasks_update",
    summary="Tick or assign a plan task",
    description="`done: true` ticks the task, `false` reopens it (refused once its stage's gate was passed); "
    "`assignee` gives it to someone of the task's side (null: nobody). A partner's admins and reps change "
    "their side's tasks of their own partner's plans.",
)
def task_update(request: HttpRequest, id: str, payload: PlanTaskUpdate):
    user = user_of(request)
    task = core_access.get_for_user(PlanTask, user, id, select=("plan", "plan__partner", "stage"))
    values = payload.model_dump(exclude_unset=True)
    if "done" in values and not access.can_tick(user, task):
        raise PermissionDenied(NO_TICK)
    if "assignee" in values and not access.can_assign(user, task):
        raise PermissionDenied(NO_ASSIGN)
    if values.get("done", False) is None:
        raise ValidationError({"done": "This field cannot be null."})
    with transaction.atomic():
        if "assignee" in values:
            services.assign_task(task, assignee=_person(values["assignee"], field="assignee"), actor=user, source="api")
        if values.get("done") is True:
            services.complete_task(task, actor=user, source="api")
        elif values.get("done") is False:
            services.reopen_task(task, actor=user, source="api")
    task = PlanTask.objects.select_related("assignee", "done_by", "stage").get(pk=task.pk)
    return task_out(task, task.stage.public_id, timezone.localdate())
