"""Plan workflows: applying a template, ticking and assigning tasks, passing gates, editing templates.

Views, the API and other features (co-selling starts a plan when a deal is engaged) call these. Each
validates, writes inside a transaction and leaves an audit record; errors are ``ValidationError``
with a sentence for the person who caused them. Permission checks (who may tick what) are the
caller's, through ``covey.plans.access``; the rules about *whom* a task may be given to live here
because they hold whoever asks.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from covey.core import audit
from covey.core.models import User
from covey.core.notify import notify
from covey.core.services import create_object, delete_object, update_object
from covey.plans.models import (
    OwnerSide,
    Plan,
    PlanKind,
    PlanStage,
    PlanTask,
    PlanTemplate,
    StageTemplate,
    TaskTemplate,
    window_dates,
)

TEMPLATE_INACTIVE = "This template is switched off; activate it before applying it."
TEMPLATE_EMPTY = "This template has no stages yet; add at least one before applying it."
PARTNER_NOT_ON_DEAL = "That partner is not on this opportunity."
NOT_A_MEMBER = "{user} does not work for {partner}."
NOT_VENDOR_STAFF = "{user} is not on the vendor's staff."
VENDOR_TASK = "This task is the vendor's: give it to someone on the vendor's staff."
PARTNER_TASK = "This task is the partner's: give it to someone at {partner}."
OWN_PEOPLE_ONLY = "You can give tasks only to people of your own company."
INACTIVE_USER = "{user} is deactivated."
GATE_MISSING = "This stage has no gate to pass."
GATE_OPEN_TASKS = "Finish the {n} open task{s} of “{stage}” before passing “{gate}”."
GATE_ALREADY_PASSED = "The gate “{gate}” was passed; tasks of a passed stage stay done."
DEFAULT_NEEDS_DEAL = "Only an active deal template with an engagement model can be a default."
DEFAULT_RACE = "Another template became the default at the same moment; reload and try again."


def day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def plan_url(plan: Plan) -> str:
    return reverse("plan_detail", kwargs={"public_id": plan.public_id})


# --- applying a template ---------------------------------------------------------------------


def _check_member(user: User | None, partner, *, field: str) -> None:
    if user is None:
        return
    if not user.is_active:
        raise ValidationError({field: INACTIVE_USER.format(user=user)})
    membership = None if user.is_vendor else user.membership
    if membership is None or membership.partner_id != partner.pk:
        raise ValidationError({field: NOT_A_MEMBER.format(user=user, partner=partner)})


def _check_staff(user: User | None, *, field: str) -> None:
    if user is None:
        return
    if not user.is_active:
        raise ValidationError({field: INACTIVE_USER.format(user=user)})
    if not user.is_vendor:
        raise ValidationError({field: NOT_VENDOR_STAFF.format(user=user)})


def _assignee_for(side: str, *, partner_assignee: User | None, vendor_assignee: User | None) -> User | None:
    if side == OwnerSide.PARTNER:
        return partner_assignee
    if side == OwnerSide.VENDOR:
        return vendor_assignee
    return vendor_assignee or partner_assignee


def _default_name(template: PlanTemplate, partner, opportunity) -> str:
    subject = opportunity.name if opportunity is not None else partner.name
    return f"{subject} · {template.name}"[:255]


@transaction.atomic
def apply_template(
    template: PlanTemplate, *, partner, start: date, actor, opportunity=None,
    partner_assignee: User | None = None, vendor_assignee: User | None = None, name: str = "", source: str = "web",
) -> Plan:
    """Make a dated plan from ``template`` for ``partner`` (and ``opportunity``), starting on ``start``.

    Each stage runs over its day window counted from ``start`` (day 1 is ``start``); its tasks are
    due on the stage's last day. Partner-side tasks go to ``partner_assignee``, vendor-side ones to
    ``vendor_assignee``, shared ones to the vendor's person when there is one (else the partner's).
    Each assignee gets one notification for all their tasks.
    """
    if not template.is_active:
        raise ValidationError({"template": TEMPLATE_INACTIVE})
    stage_templates = list(template.stages.prefetch_related("tasks"))
    if not stage_templates:
        raise ValidationError({"template": TEMPLATE_EMPTY})
    if opportunity is not None and not opportunity.partner_links.filter(partner=partner).exists():
        raise ValidationError({"partner": PARTNER_NOT_ON_DEAL})
    _check_member(partner_assignee, partner, field="partner_assignee")
    _check_staff(vendor_assignee, field="vendor_assignee")
    name = (name or "").strip() or _default_name(template, partner, opportunity)

    plan = Plan(
        template=template, kind=template.kind, name=name, partner=partner, opportunity=opportunity,
        start_date=start, created_by=actor if actor is not None and actor.pk else None,
    )
    plan.full_clean()
    plan.save()

    stages = []
    for order, st in enumerate(stage_templates):
        starts, due = window_dates(start, st.start_day, st.end_day)
        stages.append(PlanStage(plan=plan, order=order, name=st.name, start_date=starts, due_date=due, gate_name=st.gate_name))
    PlanStage.objects.bulk_create(stages)

    tasks = []
    for stage, st in zip(stages, stage_templates, strict=True):
        for order, tt in enumerate(st.tasks.all()):
            tasks.append(PlanTask(
                plan=plan, stage=stage, order=order, title=tt.title, description=tt.description,
                owner_side=tt.owner_side, due_date=stage.due_date,
                assignee=_assignee_for(tt.owner_side, partner_assignee=partner_assignee, vendor_assignee=vendor_assignee),
            ))
    PlanTask.objects.bulk_create(tasks)

    audit.record(actor=actor, action="create", obj=plan, source=source, changes={
        "template": [None, template.name], "partner": [None, str(partner)],
        "opportunity": [None, str(opportunity) if opportunity is not None else None],
        "start_date": [None, start.isoformat()], "tasks": [None, len(tasks)],
    })
    per_person = Counter(t.assignee for t in tasks if t.assignee is not None)
    url = plan_url(plan)
    for person, n in per_person.items():
        notify(
            [person], kind="plan.tasks_assigned", title=f"{n} task{'s' if n != 1 else ''} assigned to you on {plan.name}",
            body=f"{actor or 'Covey'} started the plan “{plan.name}”. Your first task is due {_first_due(tasks, person)}.",
            url=url, exclude=actor,
        )
    return plan


def _first_due(tasks: list[PlanTask], person: User) -> str:
    return day_text(min(t.due_date for t in tasks if t.assignee == person))


# --- working on a plan -----------------------------------------------------------------------


def _locked_stage(task: PlanTask) -> PlanStage:
    """The task's stage, locked, so a gate cannot be passed while a task of it is being reopened."""
    return PlanStage.objects.select_for_update().get(pk=task.stage_id)


@transaction.atomic
def complete_task(task: PlanTask, *, actor, source: str = "web") -> bool:
    """Tick ``task`` done. Returns False when it already was (two people ticking at once)."""
    now = timezone.now()
    changed = PlanTask.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=now, done_by=actor)
    if changed:
        task.done_at, task.done_by = now, actor
        audit.record(actor=actor, action="transition", obj=task, source=source,
                     changes={"done": [False, True], "plan": [None, str(task.plan)]})
    else:
        task.refresh_from_db(fields=["done_at", "done_by"])
    return bool(changed)


@transaction.atomic
def reopen_task(task: PlanTask, *, actor, source: str = "web") -> bool:
    """Untick ``task``. Refused once its stage's gate was passed. Returns False when it was open."""
    stage = _locked_stage(task)
    if stage.gate_passed_at is not None:
        raise ValidationError(GATE_ALREADY_PASSED.format(gate=stage.gate_name))
    changed = PlanTask.objects.filter(pk=task.pk, done_at__isnull=False).update(done_at=None, done_by=None)
    if changed:
        task.done_at = task.done_by = None
        audit.record(actor=actor, action="transition", obj=task, source=source,
                     changes={"done": [True, False], "plan": [None, str(task.plan)]})
    else:
        task.refresh_from_db(fields=["done_at", "done_by"])
    return bool(changed)


def check_assignee(task: PlanTask, assignee: User | None, *, actor) -> None:
    """Who a task may go to: vendor staff for vendor tasks, the plan's partner's people for partner
    tasks, either for shared ones; a partner user only ever picks people of its own partner."""
    if assignee is None:
        return
    partner = task.plan.partner
    if not assignee.is_active:
        raise ValidationError({"assignee": INACTIVE_USER.format(user=assignee)})
    if actor is not None and not actor.is_vendor:
        # A partner user picks among its own people; anyone else reads the same, without a name.
        own = actor.membership
        theirs = None if assignee.is_vendor else assignee.membership
        if own is None or theirs is None or theirs.partner_id != own.partner_id:
            raise ValidationError({"assignee": OWN_PEOPLE_ONLY})
    if assignee.is_vendor:
        if task.owner_side == OwnerSide.PARTNER:
            raise ValidationError({"assignee": PARTNER_TASK.format(partner=partner)})
        return
    membership = assignee.membership
    if task.owner_side == OwnerSide.VENDOR:
        raise ValidationError({"assignee": VENDOR_TASK})
    if membership is None or membership.partner_id != partner.pk:
        raise ValidationError({"assignee": NOT_A_MEMBER.format(user=assignee, partner=partner)})


@transaction.atomic
def assign_task(task: PlanTask, *, assignee: User | None, actor, source: str = "web") -> bool:
    """Give ``task`` to ``assignee`` (None: to nobody) and tell them. Returns whether it changed."""
    check_assignee(task, assignee, actor=actor)
    before = task.assignee
    if (before.pk if before else None) == (assignee.pk if assignee else None):
        return False
    task.assignee = assignee
    task.save(update_fields=["assignee"])
    audit.record(actor=actor, action="update", obj=task, source=source, changes={
        "assignee": [str(before) if before else None, str(assignee) if assignee else None],
        "plan": [None, str(task.plan)],
    })
    if assignee is not None:
        notify(
            [assignee], kind="plan.task_assigned", title=f"Task assigned to you: {task.title}",
            body=f"{actor or 'Covey'} gave you “{task.title}” on {task.plan.name}, due {day_text(task.due_date)}.",
            url=plan_url(task.plan), exclude=actor,
        )
    return True


@transaction.atomic
def pass_gate(stage: PlanStage, *, actor, source: str = "web") -> bool:
    """Record that the stage's gate was passed; refused while any task of the stage is open."""
    stage = PlanStage.objects.select_for_update().select_related("plan").get(pk=stage.pk)
    if not stage.gate_name:
        raise ValidationError(GATE_MISSING)
    if stage.gate_passed_at is not None:
        return False
    open_count = stage.tasks.filter(done_at__isnull=True).count()
    if open_count:
        raise ValidationError(GATE_OPEN_TASKS.format(
            n=open_count, s="" if open_count == 1 else "s", stage=stage.name, gate=stage.gate_name,
        ))
    stage.gate_passed_at, stage.gate_passed_by = timezone.now(), actor
    stage.save(update_fields=["gate_passed_at", "gate_passed_by"])
    audit.record(actor=actor, action="transition", obj=stage.plan, source=source,
                 changes={"gate": [None, f"{stage.gate_name} passed"], "stage": [None, stage.name]})
    return True


# --- editing templates -----------------------------------------------------------------------


TEMPLATE_FIELDS = ("name", "kind", "engagement_model", "description", "is_active")


def _normalise_template_values(values: dict) -> dict:
    if values.get("kind", PlanKind.DEAL) != PlanKind.DEAL:
        values["engagement_model"] = ""
    return values


def template_create(*, actor, source: str = "web", **values) -> PlanTemplate:
    return create_object(PlanTemplate, actor=actor, source=source, **_normalise_template_values(values))


@transaction.atomic
def template_update(template: PlanTemplate, *, actor, source: str = "web", **values) -> dict:
    values = _normalise_template_values({"kind": values.get("kind", template.kind), **values})
    if template.is_default and (
        values.get("kind", template.kind) != PlanKind.DEAL
        or values.get("engagement_model", template.engagement_model) != template.engagement_model
        or values.get("is_active", True) is False
    ):
        values["is_default"] = False  # no longer a fit to be the default for its model
    return update_object(template, actor=actor, source=source, **values)


def template_delete(template: PlanTemplate, *, actor, source: str = "web") -> None:
    """Delete a template; plans made from it keep their stages and tasks."""
    delete_object(template, actor=actor, source=source)


def template_set_active(template: PlanTemplate, *, active: bool, actor, source: str = "web") -> dict:
    return template_update(template, actor=actor, source=source, is_active=active)


def template_make_default(template: PlanTemplate, *, actor, source: str = "web") -> bool:
    """Make ``template`` the default for its engagement model, replacing the previous default."""
    if template.kind != PlanKind.DEAL or not template.engagement_model or not template.is_active:
        raise ValidationError(DEFAULT_NEEDS_DEAL)
    if template.is_default:
        return False
    try:
        with transaction.atomic():
            previous = list(
                PlanTemplate.objects.select_for_update()
                .filter(engagement_model=template.engagement_model, is_default=True).exclude(pk=template.pk)
            )
            for old in previous:
                update_object(old, actor=actor, source=source, is_default=False)
            update_object(template, actor=actor, source=source, is_default=True)
    except IntegrityError:
        template.is_default = False
        raise ValidationError(DEFAULT_RACE) from None
    return True


def _unique_copy_name(name: str) -> str:
    base = f"{name} (copy)"[:190]
    candidate, n = base, 2
    while PlanTemplate.objects.filter(name=candidate).exists():
        candidate, n = f"{base} {n}", n + 1
    return candidate


@transaction.atomic
def template_duplicate(template: PlanTemplate, *, actor, name: str = "", source: str = "web") -> PlanTemplate:
    """A copy with every stage and task, switched off so a half-edited playbook is never applied."""
    copy = create_object(
        PlanTemplate, actor=actor, source=source, name=(name or "").strip() or _unique_copy_name(template.name),
        kind=template.kind, engagement_model=template.engagement_model, description=template.description, is_active=False,
    )
    for stage in template.stages.prefetch_related("tasks"):
        new_stage = StageTemplate.objects.create(
            template=copy, order=stage.order, name=stage.name, start_day=stage.start_day, end_day=stage.end_day,
            gate_name=stage.gate_name,
        )
        TaskTemplate.objects.bulk_create([
            TaskTemplate(stage=new_stage, order=t.order, title=t.title, description=t.description, owner_side=t.owner_side)
            for t in stage.tasks.all()
        ])
    return copy


def _touch(template: PlanTemplate) -> None:
    PlanTemplate.objects.filter(pk=template.pk).update(updated_at=timezone.now())


def _stage_label(stage: StageTemplate) -> str:
    gate = f", gate “{stage.gate_name}”" if stage.gate_name else ""
    return f"{stage.name} (days {stage.start_day}–{stage.end_day}{gate})"


def _task_label(task: TaskTemplate) -> str:
    return f"{task.title} [{task.get_owner_side_display()}] in {task.stage.name}"


def _record_on_template(template: PlanTemplate, *, actor, source: str, what: str, before, after) -> None:
    _touch(template)
    audit.record(actor=actor, action="update", obj=template, source=source, changes={what: [before, after]})


@transaction.atomic
def stage_add(template: PlanTemplate, *, actor, source: str = "web", **values) -> StageTemplate:
    order = (template.stages.aggregate(m=Max("order"))["m"] or 0) + 1 if template.stages.exists() else 0
    stage = StageTemplate(template=template, order=order, **values)
    stage.full_clean()
    stage.save()
    _record_on_template(template, actor=actor, source=source, what="stage", before=None, after=_stage_label(stage))
    return stage


@transaction.atomic
def stage_update(stage: StageTemplate, *, actor, source: str = "web", **values) -> bool:
    before = _stage_label(stage)
    for key, value in values.items():
        setattr(stage, key, value)
    stage.full_clean()
    after = _stage_label(stage)
    if after == before:
        return False
    stage.save()
    _record_on_template(stage.template, actor=actor, source=source, what="stage", before=before, after=after)
    return True


@transaction.atomic
def stage_delete(stage: StageTemplate, *, actor, source: str = "web") -> None:
    n = stage.tasks.count()
    label = _stage_label(stage) + (f" with {n} task{'s' if n != 1 else ''}" if n else "")
    template = stage.template
    stage.delete()
    _record_on_template(template, actor=actor, source=source, what="stage", before=label, after=None)


def _move(siblings: list, item, direction: str) -> bool:
    """Swap ``item`` with its neighbour and renumber all siblings 0..n (keeps orders unique and dense)."""
    index = next(i for i, s in enumerate(siblings) if s.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(siblings):
        return False
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for order, sibling in enumerate(siblings):
        if sibling.order != order:
            sibling.order = order
            type(sibling).objects.filter(pk=sibling.pk).update(order=order)
    return True


@transaction.atomic
def stage_move(stage: StageTemplate, *, direction: str, actor, source: str = "web") -> bool:
    siblings = list(StageTemplate.objects.select_for_update().filter(template_id=stage.template_id).order_by("order", "id"))
    moved = _move(siblings, stage, direction)
    if moved:
        _record_on_template(stage.template, actor=actor, source=source, what="stage order",
                            before=None, after=f"{stage.name} moved {direction}")
    return moved


@transaction.atomic
def task_add(stage: StageTemplate, *, actor, source: str = "web", **values) -> TaskTemplate:
    order = (stage.tasks.aggregate(m=Max("order"))["m"] or 0) + 1 if stage.tasks.exists() else 0
    task = TaskTemplate(stage=stage, order=order, **values)
    task.full_clean()
    task.save()
    _record_on_template(stage.template, actor=actor, source=source, what="task", before=None, after=_task_label(task))
    return task


@transaction.atomic
def task_update(task: TaskTemplate, *, actor, source: str = "web", **values) -> bool:
    new_stage = values.get("stage")
    if new_stage is not None and new_stage.template_id != task.stage.template_id:
        raise ValidationError({"stage": "Pick a stage of the same template."})
    before = _task_label(task)
    before_description = task.description
    moved_stage = new_stage is not None and new_stage.pk != task.stage_id
    for key, value in values.items():
        setattr(task, key, value)
    if moved_stage:
        task.order = (new_stage.tasks.aggregate(m=Max("order"))["m"] or 0) + 1 if new_stage.tasks.exists() else 0
    task.full_clean()
    after = _task_label(task)
    if after == before and task.description == before_description:
        return False
    task.save()
    _record_on_template(task.stage.template, actor=actor, source=source, what="task", before=before, after=after)
    return True


@transaction.atomic
def task_delete(task: TaskTemplate, *, actor, source: str = "web") -> None:
    template, label = task.stage.template, _task_label(task)
    task.delete()
    _record_on_template(template, actor=actor, source=source, what="task", before=label, after=None)


@transaction.atomic
def task_move(task: TaskTemplate, *, direction: str, actor, source: str = "web") -> bool:
    siblings = list(TaskTemplate.objects.select_for_update().filter(stage_id=task.stage_id).order_by("order", "id"))
    moved = _move(siblings, task, direction)
    if moved:
        _record_on_template(task.stage.template, actor=actor, source=source, what="task order",
                            before=None, after=f"{task.title} moved {direction}")
    return moved
