"""The plan engine: applying templates (dates, assignees, notifications), ticking, assigning and gates,
the overdue job, template editing and defaults, the shipped playbooks, the pages and the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from covey.core.models import AuditEvent, Notification
from covey.plans import services
from covey.plans.models import (
    Plan,
    PlanStage,
    PlanTask,
    PlanTemplate,
    StageTemplate,
    TaskTemplate,
    window_dates,
)
from covey.plans.selectors import plan_context, with_progress
from tests.test_api import as_user, assert_error

START = date(2026, 3, 2)  # a Monday


@pytest.fixture
def template(db):
    t = services.template_create(actor=None, name="Test playbook", kind="deal", engagement_model="", description="")
    first = services.stage_add(t, actor=None, name="Identify", start_day=1, end_day=7, gate_name="")
    services.task_add(first, actor=None, title="Partner registers", owner_side="partner", description="")
    services.task_add(first, actor=None, title="Vendor confirms", owner_side="vendor", description="")
    second = services.stage_add(t, actor=None, name="Discover", start_day=8, end_day=21, gate_name="Joint qualification debrief")
    services.task_add(second, actor=None, title="Partner runs discovery", owner_side="partner", description="")
    services.task_add(second, actor=None, title="Joint debrief", owner_side="both", description="")
    return t


def _apply(world, template, **kwargs):
    values = {
        "partner": world.partner_a, "start": START, "actor": world.partner_manager, "opportunity": world.opportunity_a,
        "partner_assignee": world.a_rep, "vendor_assignee": world.sales_rep,
    }
    values.update(kwargs)
    return services.apply_template(template, **values)


# --- applying a template ---------------------------------------------------------------------


def test_day_windows_count_from_day_one():
    assert window_dates(START, 1, 7) == (START, date(2026, 3, 8))
    assert window_dates(START, 8, 21) == (date(2026, 3, 9), date(2026, 3, 22))
    assert window_dates(START, 76, 90) == (START + timedelta(days=75), START + timedelta(days=89))


def test_applying_a_template_dates_stages_and_tasks(world, template):
    plan = _apply(world, template)
    stages = list(plan.stages.all())
    assert [(s.name, s.start_date, s.due_date, s.gate_name) for s in stages] == [
        ("Identify", START, date(2026, 3, 8), ""),
        ("Discover", date(2026, 3, 9), date(2026, 3, 22), "Joint qualification debrief"),
    ]
    tasks = list(plan.tasks.select_related("stage"))
    assert [t.title for t in tasks] == ["Partner registers", "Vendor confirms", "Partner runs discovery", "Joint debrief"]
    assert all(t.due_date == t.stage.due_date for t in tasks)
    assert plan.partner == world.partner_a and plan.opportunity == world.opportunity_a and plan.template == template
    assert plan.name == f"{world.opportunity_a.name} · {template.name}"
    assert list(world.opportunity_a.plans.all()) == [plan]
    assert AuditEvent.objects.filter(object_id=plan.public_id, action="create").exists()


def test_tasks_go_to_their_side_and_each_assignee_is_notified_once(world, template):
    plan = _apply(world, template)
    owners = {t.title: t.assignee for t in plan.tasks.all()}
    assert owners == {
        "Partner registers": world.a_rep, "Vendor confirms": world.sales_rep,
        "Partner runs discovery": world.a_rep, "Joint debrief": world.sales_rep,  # shared → the vendor's person
    }
    rep_notes = Notification.objects.filter(recipient=world.a_rep, kind="plan.tasks_assigned")
    assert [n.title for n in rep_notes] == [f"2 tasks assigned to you on {plan.name}"]
    assert rep_notes[0].url == reverse("plan_detail", kwargs={"public_id": plan.public_id})
    assert Notification.objects.filter(recipient=world.sales_rep, kind="plan.tasks_assigned").count() == 1


def test_shared_tasks_go_to_the_partner_when_no_vendor_person_is_named(world, template):
    plan = _apply(world, template, vendor_assignee=None)
    assert plan.tasks.get(title="Joint debrief").assignee == world.a_rep
    assert plan.tasks.get(title="Vendor confirms").assignee is None


def test_the_actor_is_not_notified_about_their_own_tasks(world, template):
    _apply(world, template, actor=world.sales_rep)
    assert not Notification.objects.filter(recipient=world.sales_rep).exists()


@pytest.mark.parametrize("change, field", [
    ({"partner": "partner_b"}, "partner"),  # not on A's deal
    ({"partner_assignee": "b_rep"}, "partner_assignee"),  # works for another partner
    ({"partner_assignee": "sales_rep"}, "partner_assignee"),  # vendor staff is not the partner's person
    ({"vendor_assignee": "a_admin"}, "vendor_assignee"),  # a partner user is not vendor staff
])
def test_bad_applications_are_refused_and_create_nothing(world, template, change, field):
    kwargs = {k: getattr(world, v) for k, v in change.items()}
    with pytest.raises(ValidationError) as exc:
        _apply(world, template, **kwargs)
    assert field in exc.value.message_dict
    assert not Plan.objects.exists() and not PlanTask.objects.exists()
    assert not Notification.objects.exists()


def test_an_inactive_or_empty_template_cannot_be_applied(world, template):
    services.template_set_active(template, active=False, actor=world.vendor_admin)
    with pytest.raises(ValidationError, match="switched off"):
        _apply(world, template)
    empty = services.template_create(actor=None, name="Empty", kind="deal", engagement_model="", description="")
    with pytest.raises(ValidationError, match="no stages"):
        _apply(world, empty)


def test_a_plan_without_an_opportunity_belongs_to_its_partner(world, template):
    plan = _apply(world, template, opportunity=None, name="  ")
    assert plan.opportunity is None and plan.name == f"{world.partner_a.name} · {template.name}"


# --- working on a plan -----------------------------------------------------------------------


def test_ticking_reopening_and_gates(world, template):
    plan = _apply(world, template)
    stage = plan.stages.get(name="Discover")
    with pytest.raises(ValidationError, match="Finish the 2 open tasks of “Discover”"):
        services.pass_gate(stage, actor=world.sales_rep)
    for task in stage.tasks.all():
        assert services.complete_task(task, actor=world.a_rep)
        assert not services.complete_task(task, actor=world.a_rep)  # already done: no second event
    assert services.pass_gate(stage, actor=world.sales_rep)
    stage.refresh_from_db()
    assert stage.gate_passed_at and stage.gate_passed_by == world.sales_rep
    assert not services.pass_gate(stage, actor=world.sales_rep)
    with pytest.raises(ValidationError, match="passed"):
        services.reopen_task(stage.tasks.first(), actor=world.sales_rep)
    first = plan.tasks.get(title="Partner registers")
    services.complete_task(first, actor=world.a_rep)
    assert services.reopen_task(first, actor=world.a_rep)
    first.refresh_from_db()
    assert first.done_at is None and first.done_by is None
    with pytest.raises(ValidationError, match="no gate"):
        services.pass_gate(plan.stages.get(name="Identify"), actor=world.sales_rep)
    ticks = AuditEvent.objects.filter(object_type="plans.plantask", action="transition").count()
    assert ticks == 4  # two ticks in Discover, one tick and one reopen in Identify


def test_progress_and_overdue_figures(world, template):
    plan = _apply(world, template)
    services.complete_task(plan.tasks.get(title="Partner registers"), actor=world.a_rep)
    row = with_progress(Plan.objects.all(), today=date(2026, 3, 10)).get()
    assert (row.tasks_total, row.tasks_done, row.tasks_overdue) == (4, 1, 1)  # "Vendor confirms" was due 8 March
    view = plan_context(plan, world.a_rep, today=date(2026, 3, 10))["plan_view"]
    assert (view.total, view.done, view.overdue, view.percent) == (4, 1, 1, 25)
    flags = {t.title: (t.can_tick, t.overdue) for s in view.stages for t in s.task_list}
    assert flags == {
        "Partner registers": (True, False), "Vendor confirms": (False, True),
        "Partner runs discovery": (True, False), "Joint debrief": (True, False),
    }


def test_who_a_task_may_go_to(world, template):
    plan = _apply(world, template)
    partner_task = plan.tasks.get(title="Partner registers")
    vendor_task = plan.tasks.get(title="Vendor confirms")
    shared = plan.tasks.get(title="Joint debrief")
    refusals = [
        (vendor_task, world.a_admin, world.sales_rep, "vendor's"),
        (partner_task, world.partner_manager, world.sales_rep, "partner's"),
        (partner_task, world.b_rep, world.sales_rep, "does not work for"),
        (shared, world.sales_rep, world.a_rep, "own company"),  # a partner user cannot hand work to the vendor
        (partner_task, world.b_rep, world.a_rep, "own company"),
    ]
    for task, assignee, actor, message in refusals:
        with pytest.raises(ValidationError, match=message):
            services.assign_task(task, assignee=assignee, actor=actor)
    Notification.objects.all().delete()
    assert services.assign_task(partner_task, assignee=world.a_admin, actor=world.a_rep)
    assert not services.assign_task(partner_task, assignee=world.a_admin, actor=world.a_rep)
    assert services.assign_task(shared, assignee=world.a_admin, actor=world.partner_manager)
    notes = Notification.objects.filter(recipient=world.a_admin, kind="plan.task_assigned")
    assert sorted(n.title for n in notes) == ["Task assigned to you: Joint debrief", "Task assigned to you: Partner registers"]
    assert services.assign_task(partner_task, assignee=None, actor=world.a_rep)
    partner_task.refresh_from_db()
    assert partner_task.assignee is None


# --- the overdue job -------------------------------------------------------------------------


def test_the_overdue_job_tells_each_assignee_once(world, template):
    from covey.core.schedule import run_jobs

    plan = _apply(world, template)
    services.complete_task(plan.tasks.get(title="Partner registers"), actor=world.a_rep)
    Notification.objects.all().delete()
    on_time = datetime(2026, 3, 8, 12, tzinfo=UTC)
    assert run_jobs(now=on_time, only="plans.overdue_tasks") == {"plans.overdue_tasks": 0}
    late = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert run_jobs(now=late, only="plans.overdue_tasks") == {"plans.overdue_tasks": 1}
    assert run_jobs(now=late + timedelta(hours=1), only="plans.overdue_tasks") == {"plans.overdue_tasks": 0}
    notes = list(Notification.objects.filter(kind="plan.task_overdue"))
    assert [(n.recipient, n.title) for n in notes] == [(world.sales_rep, "Overdue: Vendor confirms")]
    assert plan.tasks.get(title="Vendor confirms").overdue_notified_at == late
    much_later = datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert run_jobs(now=much_later, only="plans.overdue_tasks") == {"plans.overdue_tasks": 2}  # Discover's two


def test_the_overdue_job_leaves_plans_of_closed_deals_alone(world, template):
    from covey.core.schedule import run_jobs

    _apply(world, template)
    world.opportunity_a.stage = "Closed Lost"
    world.opportunity_a.save()
    assert run_jobs(now=datetime(2026, 6, 1, tzinfo=UTC), only="plans.overdue_tasks") == {"plans.overdue_tasks": 0}


def test_a_task_claimed_by_another_sweep_is_not_notified_again(world, template):
    from covey.plans.jobs import notify_overdue_tasks

    plan = _apply(world, template)
    Notification.objects.all().delete()
    # Another worker claimed every task a moment ago (its conditional update won the race).
    claimed_at = datetime(2026, 4, 1, 11, tzinfo=UTC)
    PlanTask.objects.filter(plan=plan).update(overdue_notified_at=claimed_at)
    assert notify_overdue_tasks(datetime(2026, 4, 1, 12, tzinfo=UTC)) == 0
    assert not Notification.objects.exists()


# --- templates and defaults ------------------------------------------------------------------


def _deal_template(name, model, **extra):
    t = services.template_create(actor=None, name=name, kind="deal", engagement_model=model, description="", **extra)
    services.stage_add(t, actor=None, name="Only", start_day=1, end_day=3, gate_name="")
    return t


def test_one_default_per_engagement_model(db, cast):
    PlanTemplate.objects.filter(engagement_model="vendor_led").delete()  # the shipped playbook, if present
    first = _deal_template("First", "vendor_led")
    second = _deal_template("Second", "vendor_led")
    assert PlanTemplate.objects.default_for("vendor_led") is None
    assert services.template_make_default(first, actor=cast.vendor_admin)
    assert PlanTemplate.objects.default_for("vendor_led") == first
    assert services.template_make_default(second, actor=cast.vendor_admin)
    first.refresh_from_db()
    assert not first.is_default and PlanTemplate.objects.default_for("vendor_led") == second
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanTemplate.objects.filter(pk=first.pk).update(is_default=True)  # the database refuses a second default
    services.template_set_active(second, active=False, actor=cast.vendor_admin)
    second.refresh_from_db()
    assert not second.is_default and PlanTemplate.objects.default_for("vendor_led") is None
    with pytest.raises(ValidationError, match="active deal template"):
        services.template_make_default(second, actor=cast.vendor_admin)
    onboarding = services.template_create(actor=None, name="Onboarding", kind="onboarding", engagement_model="co_sell", description="")
    assert onboarding.engagement_model == ""  # only deal templates have a model


def test_template_editing_validates_windows_and_keeps_order(db, cast):
    t = services.template_create(actor=None, name="Editable", kind="launch", engagement_model="", description="")
    with pytest.raises(ValidationError) as exc:
        services.stage_add(t, actor=cast.vendor_admin, name="Bad", start_day=10, end_day=5, gate_name="")
    assert "end_day" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.stage_add(t, actor=cast.vendor_admin, name="Zero", start_day=0, end_day=5, gate_name="")
    a = services.stage_add(t, actor=cast.vendor_admin, name="A", start_day=1, end_day=5, gate_name="")
    b = services.stage_add(t, actor=cast.vendor_admin, name="B", start_day=6, end_day=9, gate_name="")
    c = services.stage_add(t, actor=cast.vendor_admin, name="C", start_day=10, end_day=12, gate_name="Go")
    assert services.stage_move(c, direction="up", actor=cast.vendor_admin)
    assert not services.stage_move(a, direction="up", actor=cast.vendor_admin)  # already first
    assert [s.name for s in t.stages.all()] == ["A", "C", "B"]
    x = services.task_add(a, actor=None, title="X", owner_side="partner", description="")
    y = services.task_add(a, actor=None, title="Y", owner_side="vendor", description="")
    assert services.task_move(y, direction="up", actor=cast.vendor_admin)
    assert [task.title for task in a.tasks.all()] == ["Y", "X"]
    assert services.task_update(x, actor=cast.vendor_admin, stage=b, title="X moved")
    assert [task.title for task in b.tasks.all()] == ["X moved"]
    services.stage_delete(b, actor=cast.vendor_admin)
    assert not TaskTemplate.objects.filter(pk=x.pk).exists()
    events = AuditEvent.objects.filter(object_id=t.public_id)
    assert events.filter(changes__has_key="stage").count() >= 4


def test_duplicating_a_template_copies_everything_switched_off(world, template):
    copy = services.template_duplicate(template, actor=world.vendor_admin)
    assert copy.name == "Test playbook (copy)" and not copy.is_active and not copy.is_default
    assert [(s.name, s.start_day, s.end_day, s.gate_name, [t.title for t in s.tasks.all()]) for s in copy.stages.all()] == [
        (s.name, s.start_day, s.end_day, s.gate_name, [t.title for t in s.tasks.all()]) for s in template.stages.all()
    ]
    assert services.template_duplicate(template, actor=world.vendor_admin).name == "Test playbook (copy) 2"


def test_editing_a_template_does_not_change_running_plans(world, template):
    plan = _apply(world, template)
    stage = template.stages.get(name="Discover")
    services.stage_update(stage, actor=world.vendor_admin, end_day=40)
    services.template_delete(template, actor=world.vendor_admin)
    plan.refresh_from_db()
    assert plan.template is None
    assert plan.stages.get(name="Discover").due_date == date(2026, 3, 22)
    assert plan.tasks.count() == 4


@pytest.mark.django_db
def test_the_shipped_playbooks_are_installed_by_the_data_migration():
    """The playbooks the data migration installs (through ``playbooks.install``). A transactional
    test earlier in the run (the browser tests) may have emptied the tables, so reinstall first."""
    from covey.plans.playbooks import PLAYBOOKS, install_current

    install_current()
    for model in ("partner_led", "vendor_led", "co_sell", "simplified"):
        assert PlanTemplate.objects.default_for(model) is not None, model
    co_sell_variants = PlanTemplate.objects.filter(name__in=[b["name"] for b in PLAYBOOKS[:3]])
    for t in co_sell_variants:
        windows = [(s.start_day, s.end_day) for s in t.stages.all()]
        assert windows == [(1, 7), (8, 21), (22, 35), (36, 60), (61, 75), (76, 90)]
        gates = [s.gate_name for s in t.stages.all() if s.gate_name]
        assert "Joint qualification debrief" in gates and "Pricing approved" in gates
    partner_led = PlanTemplate.objects.default_for("partner_led")
    vendor_led = PlanTemplate.objects.default_for("vendor_led")
    co_sell = PlanTemplate.objects.default_for("co_sell")

    def lead_of_discovery(t):
        return t.stages.get(name="Discovery").tasks.get(title__startswith="Lead the discovery").owner_side

    assert lead_of_discovery(partner_led) == "partner" and lead_of_discovery(vendor_led) == "vendor"
    shared = TaskTemplate.objects.filter(stage__template=co_sell, owner_side="both").count()
    assert shared >= 10  # true co-sell is mostly shared work
    simplified = PlanTemplate.objects.default_for("simplified")
    assert simplified.stages.count() == 3 and max(s.end_day for s in simplified.stages.all()) == 30
    for t in PlanTemplate.objects.all():
        sides = set(TaskTemplate.objects.filter(stage__template=t).values_list("owner_side", flat=True))
        assert {"partner", "vendor"} <= sides | ({"partner", "vendor"} if "both" in sides else set()), t.name


# --- pages -----------------------------------------------------------------------------------


def test_the_plan_page_shows_stages_tasks_and_controls_by_role(world, template, login):
    plan = _apply(world, template)
    url = reverse("plan_detail", kwargs={"public_id": plan.public_id})
    page = login(world.a_rep).get(url).content.decode()
    assert "Joint qualification debrief" in page and "Partner runs discovery" in page
    partner_task = plan.tasks.get(title="Partner registers")
    vendor_task = plan.tasks.get(title="Vendor confirms")
    assert reverse("plan_task_tick", kwargs={"public_id": partner_task.public_id}) in page
    assert reverse("plan_task_tick", kwargs={"public_id": vendor_task.public_id}) not in page
    assert "Pass gate" not in page and world.sales_rep.email not in page
    readonly = login(world.a_readonly).get(url).content.decode()
    assert "plan_task_tick" not in readonly and reverse("plan_task_tick", kwargs={"public_id": partner_task.public_id}) not in readonly
    vendor_page = login(world.sales_rep).get(url).content.decode()
    assert "Pass gate" in vendor_page and reverse("plan_task_tick", kwargs={"public_id": vendor_task.public_id}) in vendor_page


def test_ticking_with_htmx_answers_the_row_and_the_progress(world, template, login):
    plan = _apply(world, template)
    task = plan.tasks.get(title="Partner registers")
    client = login(world.a_rep)
    url = reverse("plan_task_tick", kwargs={"public_id": task.public_id})
    response = client.post(url, {"done": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"task-{task.public_id}")
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith(f'<tr id="task-{task.public_id}" class="done"')
    assert "checked" in body and 'hx-swap-oob="true"' in body and "1 of 4" in body
    task.refresh_from_db()
    assert task.done_by == world.a_rep
    # Without htmx the same form redirects back to the page it came from.
    back = client.post(url, {"next": "/opportunities/"})
    assert back.status_code == 302 and back["Location"] == "/opportunities/"
    task.refresh_from_db()
    assert task.done_at is None
    offsite = client.post(url, {"done": "1", "next": "https://evil.example/"})
    assert offsite["Location"] == reverse("plan_detail", kwargs={"public_id": plan.public_id})
    vendor_task = plan.tasks.get(title="Vendor confirms")
    denied = client.post(reverse("plan_task_tick", kwargs={"public_id": vendor_task.public_id}), {"done": "1"})
    assert denied.status_code == 403
    vendor_task.refresh_from_db()
    assert vendor_task.done_at is None


def test_assigning_from_the_page(world, template, login):
    plan = _apply(world, template)
    task = plan.tasks.get(title="Partner registers")
    client = login(world.a_rep)
    url = reverse("plan_task_assign", kwargs={"public_id": task.public_id})
    response = client.post(url, {"assignee": world.a_admin.public_id}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'value="{world.a_admin.public_id}" selected' in response.content.decode()
    task.refresh_from_db()
    assert task.assignee == world.a_admin
    refused = client.post(url, {"assignee": world.sales_rep.public_id}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "Pick someone from the list." in refused.content.decode()
    task.refresh_from_db()
    assert task.assignee == world.a_admin


def test_the_gate_button_explains_a_refusal(world, template, login):
    plan = _apply(world, template)
    stage = plan.stages.get(name="Discover")
    client = login(world.sales_rep)
    response = client.post(reverse("plan_stage_gate", kwargs={"public_id": stage.public_id}), follow=True)
    assert "Finish the 2 open tasks" in response.content.decode()
    stage.refresh_from_db()
    assert stage.gate_passed_at is None


def test_the_plan_list_filters(world, template, login):
    plan_a = _apply(world, template)
    from django.utils import timezone

    _apply(world, template, partner=world.partner_b, opportunity=world.opportunity_b, partner_assignee=world.b_rep,
           vendor_assignee=world.partner_manager, start=timezone.localdate())  # nothing due yet
    client = login(world.sales_rep)
    everything = client.get(reverse("plan_list")).content.decode()
    assert world.opportunity_a.name in everything and world.opportunity_b.name in everything
    mine = client.get(reverse("plan_list") + "?mine=yes").content.decode()
    assert plan_a.name in mine and world.opportunity_b.name not in mine
    overdue = client.get(reverse("plan_list") + "?overdue=yes").content.decode()
    assert plan_a.name in overdue and world.opportunity_b.name not in overdue
    by_partner = client.get(reverse("plan_list") + f"?partner={world.partner_b.public_id}").content.decode()
    assert plan_a.name not in by_partner
    b_page = login(world.b_rep).get(reverse("plan_list")).content.decode()
    assert plan_a.name not in b_page and world.opportunity_b.name in b_page


def test_starting_a_plan_from_an_opportunity(world, template, login):
    client = login(world.partner_manager)
    url = reverse("plan_create") + f"?opportunity={world.opportunity_a.public_id}"
    page = client.get(url).content.decode()
    assert template.name in page and world.partner_a.name in page and world.partner_b.name not in page
    bad = client.post(url, {"template": template.public_id, "partner": world.partner_a.public_id, "start": "2026-03-02",
                            "partner_assignee": world.b_rep.public_id})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    response = client.post(url, {
        "template": template.public_id, "partner": world.partner_a.public_id, "start": "2026-03-02",
        "partner_assignee": world.a_rep.public_id, "vendor_assignee": world.sales_rep.public_id, "name": "",
    })
    plan = Plan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("plan_detail", kwargs={"public_id": plan.public_id})
    assert plan.tasks.filter(assignee=world.a_rep).count() == 2
    assert client.get(reverse("plan_create") + "?opportunity=opp_000000000000").status_code == 404
    assert "This field is required." in client.get(reverse("plan_create") + "?opportunity=").content.decode()
    assert "This field is required." not in client.get(reverse("plan_create")).content.decode()


def test_the_template_editor(db, cast, login):
    client = login(cast.vendor_admin)
    response = client.post(reverse("plan_template_create"), {"name": "Launch kit", "kind": "launch", "description": "", "is_active": "on"})
    t = PlanTemplate.objects.get(name="Launch kit")
    assert response.status_code == 302
    detail_url = reverse("plan_template_detail", kwargs={"public_id": t.public_id})
    bad = client.post(reverse("plan_stage_template_add", kwargs={"public_id": t.public_id}),
                      {"name": "Prep", "start_day": "9", "end_day": "3"})
    assert "The stage cannot end before it starts." in bad.content.decode()
    assert not t.stages.exists()
    client.post(reverse("plan_stage_template_add", kwargs={"public_id": t.public_id}),
                {"name": "Prep", "start_day": "1", "end_day": "14", "gate_name": "Launch ready"})
    stage = t.stages.get()
    prefix = f"task-{stage.public_id}"
    client.post(reverse("plan_task_template_add", kwargs={"public_id": stage.public_id}),
                {f"{prefix}-title": "Write the launch brief", f"{prefix}-owner_side": "both", f"{prefix}-description": ""})
    page = client.get(detail_url).content.decode()
    assert "Write the launch brief" in page and "Launch ready" in page and "days 1–14" in page
    confirm = client.get(reverse("plan_stage_template_delete", kwargs={"public_id": stage.public_id})).content.decode()
    assert "Its 1 task is deleted with it." in confirm
    assert StageTemplate.objects.filter(pk=stage.pk).exists()
    client.post(reverse("plan_stage_template_delete", kwargs={"public_id": stage.public_id}))
    assert not StageTemplate.objects.filter(pk=stage.pk).exists()
    listing = client.get(reverse("plan_template_list") + "?kind=launch").content.decode()
    assert "Launch kit" in listing
    assert login(cast.partner_manager).get(detail_url).status_code == 403


# --- API -------------------------------------------------------------------------------------


def test_api_reads_plans_with_progress(world, template):
    plan = _apply(world, template)
    services.complete_task(plan.tasks.get(title="Partner registers"), actor=world.a_rep)
    items = as_user(world.a_rep).get("/api/plans").json()["items"]
    assert [(i["id"], i["progress"]["done"], i["progress"]["total"]) for i in items] == [(plan.public_id, 1, 4)]
    detail = as_user(world.a_rep).get(f"/api/plans/{plan.public_id}").json()
    assert [s["name"] for s in detail["stages"]] == ["Identify", "Discover"]
    assert detail["stages"][1]["gate"] == "Joint qualification debrief"
    assert detail["stages"][1]["tasks"][0]["due_date"] == "2026-03-22"
    assert as_user(world.b_rep).get("/api/plans").json()["count"] == 0
    assert as_user(world.sales_rep).get(f"/api/plans?opportunity={world.opportunity_b.public_id}").json()["count"] == 0
    t = as_user(world.sales_rep).get(f"/api/plan-templates/{template.public_id}").json()
    assert [len(s["tasks"]) for s in t["stages"]] == [2, 2]


def test_api_starts_a_plan_once_per_idempotency_key(world, template):
    from django.utils import timezone

    body = {"template": template.public_id, "partner": world.partner_a.public_id, "opportunity": world.opportunity_a.public_id,
            "start": timezone.localdate().isoformat(), "partner_assignee": world.a_rep.public_id, "vendor_assignee": world.sales_rep.public_id}
    api = as_user(world.partner_manager)
    first = api.send("POST", "/api/plans", body, headers={"Idempotency-Key": "plan-1"})
    again = api.send("POST", "/api/plans", body, headers={"Idempotency-Key": "plan-1"})
    assert first.status_code == 201 and again.status_code == 201 and first.json() == again.json()
    assert Plan.objects.count() == 1 and first.json()["progress"] == {"done": 0, "total": 4, "overdue": 0}
    wrong = api.send("POST", "/api/plans", {**body, "partner": world.partner_b.public_id})
    assert_error(wrong, 422, "validation_error", "partner")
    missing = api.send("POST", "/api/plans", {**body, "template": "ptm_000000000000"})
    assert_error(missing, 422, "validation_error", "template")
    assert Plan.objects.count() == 1


def test_api_ticks_and_assigns_tasks(world, template):
    plan = _apply(world, template)
    stage = plan.stages.get(name="Discover")
    task = stage.tasks.get(title="Partner runs discovery")
    api = as_user(world.a_rep)
    done = api.send("PATCH", f"/api/plan-tasks/{task.public_id}", {"done": True})
    assert done.status_code == 200 and done.json()["done"] and done.json()["done_by"]["id"] == world.a_rep.public_id
    assigned = api.send("PATCH", f"/api/plan-tasks/{task.public_id}", {"assignee": world.a_admin.public_id})
    assert assigned.json()["assignee"]["id"] == world.a_admin.public_id
    refused = api.send("PATCH", f"/api/plan-tasks/{task.public_id}", {"assignee": world.b_rep.public_id})
    assert_error(refused, 422, "validation_error", "assignee")
    assert world.b_rep.email not in refused.content.decode() and str(world.b_rep) not in refused.content.decode()
    vendor_task = plan.tasks.get(title="Vendor confirms")
    assert_error(api.send("PATCH", f"/api/plan-tasks/{vendor_task.public_id}", {"done": True}), 403, "forbidden")
    services.complete_task(stage.tasks.get(title="Joint debrief"), actor=world.sales_rep)
    services.pass_gate(stage, actor=world.sales_rep)
    reopen = as_user(world.sales_rep).send("PATCH", f"/api/plan-tasks/{task.public_id}", {"done": False})
    assert_error(reopen, 422, "validation_error")
    assert PlanStage.objects.get(pk=stage.pk).gate_passed_at is not None
    unassign = as_user(world.sales_rep).send("PATCH", f"/api/plan-tasks/{task.public_id}", {"assignee": None})
    assert unassign.status_code == 200 and unassign.json()["assignee"] is None


def test_partner_users_cannot_read_templates_over_the_api(world, template):
    assert_error(as_user(world.a_admin).get("/api/plan-templates"), 403, "forbidden")
    assert_error(as_user(world.a_admin).get(f"/api/plan-templates/{template.public_id}"), 404, "not_found")
