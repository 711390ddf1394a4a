"""JSON shapes of plan templates and plans (with stages and tasks)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field

from covey.core.schemas import InputSchema, OutSchema, Paging, Ref, id_filter, ref
from covey.core.vocab import EngagementModel
from covey.crm.models import Opportunity
from covey.partners.models import Partner
from covey.plans.models import (
    OwnerSide,
    Plan,
    PlanKind,
    PlanStage,
    PlanTask,
    PlanTemplate,
    StageTemplate,
    TaskTemplate,
)

# --- templates -------------------------------------------------------------------------------


class TaskTemplateOut(OutSchema):
    id: str
    title: str
    description: str
    owner_side: OwnerSide


class StageTemplateOut(OutSchema):
    id: str
    name: str
    start_day: int = Field(..., description="Day 1 is the plan's start date")
    end_day: int = Field(..., description="Tasks of the stage are due on this day")
    gate: str = Field(..., description="Name of the gate at the end of the stage; empty when none")


class StageTemplateDetail(StageTemplateOut):
    tasks: list[TaskTemplateOut]


class PlanTemplateOut(OutSchema):
    id: str
    name: str
    kind: PlanKind
    engagement_model: str = Field(..., description="One of " + ", ".join(EngagementModel.values) + "; empty for non-deal templates")
    description: str
    is_active: bool
    is_default: bool = Field(..., description="Applied by default to new deals of its engagement model")
    created_at: datetime
    updated_at: datetime


class PlanTemplateDetail(PlanTemplateOut):
    stages: list[StageTemplateDetail]


class PlanTemplatePage(OutSchema):
    items: list[PlanTemplateOut]
    count: int


class PlanTemplateFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the name or description")
    kind: PlanKind | None = None
    engagement_model: EngagementModel | None = None
    active: bool | None = Field(None, description="true: only active templates; false: only switched-off ones")


def template_out(template: PlanTemplate) -> dict:
    return {
        "id": template.public_id,
        **{f: getattr(template, f) for f in (
            "name", "kind", "engagement_model", "description", "is_active", "is_default", "created_at", "updated_at",
        )},
    }


def _task_template_out(task: TaskTemplate) -> dict:
    return {"id": task.public_id, "title": task.title, "description": task.description, "owner_side": task.owner_side}


def _stage_template_out(stage: StageTemplate) -> dict:
    return {
        "id": stage.public_id, "name": stage.name, "start_day": stage.start_day, "end_day": stage.end_day,
        "gate": stage.gate_name, "tasks": [_task_template_out(t) for t in stage.tasks.all()],
    }


def template_detail_out(template: PlanTemplate) -> dict:
    return {**template_out(template), "stages": [_stage_template_out(s) for s in template.stages.prefetch_related("tasks")]}


# --- plans -----------------------------------------------------------------------------------


class Progress(OutSchema):
    done: int
    total: int
    overdue: int = Field(..., description="Open tasks past their due date")


class PlanOut(OutSchema):
    id: str
    name: str
    kind: PlanKind
    template: Ref | None
    partner: Ref
    opportunity: Ref | None
    start_date: date
    created_at: datetime
    progress: Progress


class PlanTaskOut(OutSchema):
    id: str
    title: str
    description: str
    owner_side: OwnerSide
    stage: str = Field(..., description="Id of the plan stage")
    assignee: Ref | None
    due_date: date
    done: bool
    done_at: datetime | None
    done_by: Ref | None
    overdue: bool


class PlanStageOut(OutSchema):
    id: str
    name: str
    start_date: date
    due_date: date
    gate: str
    gate_passed_at: datetime | None
    gate_passed_by: Ref | None
    tasks: list[PlanTaskOut]


class PlanDetail(PlanOut):
    stages: list[PlanStageOut]


class PlanPage(OutSchema):
    items: list[PlanOut]
    count: int


class PlanFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the plan's or its opportunity's name")
    partner: str | None = id_filter(Partner)
    opportunity: str | None = id_filter(Opportunity)
    overdue: bool | None = Field(None, description="true: only plans with overdue tasks")


class PlanCreate(InputSchema):
    template: str = Field(..., max_length=40, description="Plan template id (an active template)")
    partner: str = Field(..., max_length=40, description="Partner id; on the opportunity when one is given")
    opportunity: str | None = Field(None, max_length=40, description="Opportunity id")
    start: date = Field(..., description="Day 1 of the plan")
    partner_assignee: str | None = Field(None, max_length=40, description="User id of someone at the partner")
    vendor_assignee: str | None = Field(None, max_length=40, description="User id of a vendor staff member")
    name: str = Field("", max_length=255, description="Defaults to “<deal or partner> · <template>”")


class PlanTaskUpdate(InputSchema):
    """Only the fields sent change; ``assignee: null`` unassigns."""

    done: bool | None = None
    assignee: str | None = Field(None, max_length=40, description="User id, or null to unassign")


def plan_out(plan: Plan) -> dict:
    return {
        "id": plan.public_id, "name": plan.name, "kind": plan.kind, "template": ref(plan.template),
        "partner": ref(plan.partner), "opportunity": ref(plan.opportunity), "start_date": plan.start_date,
        "created_at": plan.created_at,
        "progress": {"done": plan.tasks_done, "total": plan.tasks_total, "overdue": plan.tasks_overdue},
    }


def task_out(task: PlanTask, stage_id: str, today: date) -> dict:
    return {
        "id": task.public_id, "title": task.title, "description": task.description, "owner_side": task.owner_side,
        "stage": stage_id, "assignee": ref(task.assignee), "due_date": task.due_date, "done": task.done_at is not None,
        "done_at": task.done_at, "done_by": ref(task.done_by), "overdue": task.is_overdue(today),
    }


def stage_out(stage: PlanStage, tasks: list[PlanTask], today: date) -> dict:
    return {
        "id": stage.public_id, "name": stage.name, "start_date": stage.start_date, "due_date": stage.due_date,
        "gate": stage.gate_name, "gate_passed_at": stage.gate_passed_at, "gate_passed_by": ref(stage.gate_passed_by),
        "tasks": [task_out(t, stage.public_id, today) for t in tasks],
    }
