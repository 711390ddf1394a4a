"""Access rows for the plans feature (the contract is in tests/access_rows/__init__.py).

``build`` gives partner A a plan on its deal (tasks on the partner's side, the vendor's and both)
and partner B one on its own deal, made from a small template of the test's own (the shipped
playbooks are not relied on: a transactional test elsewhere may have emptied the tables).
"""

from __future__ import annotations

from tests.matrix import (
    ADMIN_ONLY,
    CRM_CREATE,
    CRM_EDITORS,
    EVERYONE,
    PARTNER_B,
    READ_A,
    Route,
    expect,
    rest,
)

PLAN_TICKERS = CRM_EDITORS + ("a_admin", "a_rep")
PLAN_TASK_WRITE_A = expect(ok=PLAN_TICKERS, forbidden=rest(PLAN_TICKERS, PARTNER_B), hidden=PARTNER_B)
PLAN_GATE_A = expect(ok=CRM_EDITORS, forbidden=rest(CRM_EDITORS, PARTNER_B), hidden=PARTNER_B)
TEMPLATE = {"public_id": "plan_template.public_id"}
STAGE_TEMPLATE = {"public_id": "plan_stage_template.public_id"}
TASK_TEMPLATE = {"public_id": "plan_task_template.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "plan_list": Route(EVERYONE),
    "plan_create": Route(CRM_CREATE),
    "plan_detail": Route(READ_A, kwargs={"public_id": "plan_a.public_id"}),
    # A partner-side task: A's admin and rep tick and assign it; read-only, finance and executives see it.
    "plan_task_tick": Route(PLAN_TASK_WRITE_A, method="POST", kwargs={"public_id": "plan_task_a.public_id"}),
    "plan_task_assign": Route(PLAN_TASK_WRITE_A, method="POST", kwargs={"public_id": "plan_task_a.public_id"}),
    # Passing a gate is the vendor's sellers' call (refused with a message while tasks are open).
    "plan_stage_gate": Route(PLAN_GATE_A, method="POST", kwargs={"public_id": "plan_stage_a.public_id"}),
    # Templates: vendor admins only.
    "plan_template_list": Route(ADMIN_ONLY),
    "plan_template_create": Route(ADMIN_ONLY),
    "plan_template_detail": Route(ADMIN_ONLY, kwargs=TEMPLATE),
    "plan_template_edit": Route(ADMIN_ONLY, kwargs=TEMPLATE),
    "plan_template_delete": Route(ADMIN_ONLY, kwargs=TEMPLATE),
    "plan_template_duplicate": Route(ADMIN_ONLY, method="POST", kwargs=TEMPLATE),
    "plan_template_activate": Route(ADMIN_ONLY, method="POST", kwargs=TEMPLATE),
    "plan_template_default": Route(ADMIN_ONLY, method="POST", kwargs=TEMPLATE),
    "plan_stage_template_add": Route(ADMIN_ONLY, method="POST", kwargs=TEMPLATE),
    "plan_stage_template_edit": Route(ADMIN_ONLY, kwargs=STAGE_TEMPLATE),
    "plan_stage_template_delete": Route(ADMIN_ONLY, kwargs=STAGE_TEMPLATE),
    "plan_stage_template_move": Route(ADMIN_ONLY, method="POST", kwargs=STAGE_TEMPLATE),
    "plan_task_template_add": Route(ADMIN_ONLY, method="POST", kwargs=STAGE_TEMPLATE),
    "plan_task_template_edit": Route(ADMIN_ONLY, kwargs=TASK_TEMPLATE),
    "plan_task_template_delete": Route(ADMIN_ONLY, kwargs=TASK_TEMPLATE),
    "plan_task_template_move": Route(ADMIN_ONLY, method="POST", kwargs=TASK_TEMPLATE),
}

PLAN_A = "/api/plans/{plan_a}"
TASK_A = "/api/plan-tasks/{plan_task_a}"
#                                                                        admin  pm   pm2  rep  fin  exec  a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("list plan templates", "GET", "/api/plan-templates", None,        (200, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403)),
    ("read plan template", "GET", "/api/plan-templates/{plan_template}", None,
                                                                        (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
    ("read plan", "GET", PLAN_A, None,                                  (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("tick plan task", "PATCH", TASK_A, {"done": True},                 (200, 200, 200, 200, 403, 403, 200, 200, 403, 404, 404)),
    ("assign plan task", "PATCH", TASK_A, {"assignee": "{a_admin_user}"},
                                                                        (200, 200, 200, 200, 403, 403, 200, 200, 403, 404, 404)),
    # Partner B cannot start a plan on A's deal it cannot see; its people are not CRM editors anyway.
    ("start plan", "POST", "/api/plans",
     {"template": "{plan_template}", "opportunity": "{opportunity_a}", "partner": "{partner_a}", "start": "2026-03-02"},
                                                                        (201, 201, 201, 201, 403, 403, 403, 403, 403, 403, 403)),
]
API_LISTS: list[str] = ["/api/plans", "/api/plans?partner={partner_a}", "/api/plans?opportunity={opportunity_a}"]


def _template():
    from covey.plans import services

    template = services.template_create(
        actor=None, name="Access-table playbook", kind="deal", engagement_model="", description="For the access tables.",
    )
    first = services.stage_add(template, actor=None, name="Kick off", start_day=1, end_day=7, gate_name="Ready to go")
    services.task_add(first, actor=None, title="Partner briefs the team", owner_side="partner", description="")
    services.task_add(first, actor=None, title="Vendor confirms capacity", owner_side="vendor", description="")
    services.task_add(first, actor=None, title="Both agree the outreach plan", owner_side="both", description="")
    second = services.stage_add(template, actor=None, name="Discovery", start_day=8, end_day=21, gate_name="")
    services.task_add(second, actor=None, title="Run discovery", owner_side="partner", description="")
    return template, first


def build(world) -> None:
    from datetime import date

    from covey.plans import services

    world.plan_template, world.plan_stage_template = _template()
    world.plan_task_template = world.plan_stage_template.tasks.first()
    world.plan_a = services.apply_template(
        world.plan_template, partner=world.partner_a, start=date(2026, 3, 2), actor=world.sales_rep,
        opportunity=world.opportunity_a, partner_assignee=world.a_rep, vendor_assignee=world.sales_rep,
    )
    world.plan_b = services.apply_template(
        world.plan_template, partner=world.partner_b, start=date(2026, 3, 2), actor=world.sales_rep,
        opportunity=world.opportunity_b, partner_assignee=world.b_rep, vendor_assignee=world.sales_rep,
    )
    world.plan_stage_a = world.plan_a.stages.get(order=0)
    world.plan_task_a = world.plan_a.tasks.get(stage=world.plan_stage_a, owner_side="partner")


def ids(world) -> dict[str, str]:
    return {
        "plan_a": world.plan_a.public_id,
        "plan_task_a": world.plan_task_a.public_id,
        "plan_template": world.plan_template.public_id,
        "a_admin_user": world.a_admin.public_id,
    }


def secrets(world) -> list[str]:
    return [world.plan_a.public_id, world.plan_a.name, world.plan_task_a.public_id, world.plan_stage_a.public_id]


def state():
    from covey.plans.models import (
        Plan,
        PlanStage,
        PlanTask,
        PlanTemplate,
        StageTemplate,
        TaskTemplate,
    )

    return (
        list(Plan.objects.values_list("public_id", "name").order_by("id")),
        list(PlanStage.objects.values_list("public_id", "gate_passed_at").order_by("id")),
        list(PlanTask.objects.values_list("public_id", "done_at", "assignee_id").order_by("id")),
        list(PlanTemplate.objects.values_list("public_id", "name", "is_active", "is_default").order_by("id")),
        list(StageTemplate.objects.values_list("public_id", "order", "name", "start_day", "end_day").order_by("id")),
        list(TaskTemplate.objects.values_list("public_id", "order", "title", "owner_side").order_by("id")),
    )
