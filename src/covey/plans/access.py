"""Who may change what in a plan (reading follows ``Plan.objects.visible_to``).

- Vendor CRM editors (admin, partner manager, sales rep) apply templates, tick, assign and pass gates
  on any plan.
- A partner's admins and reps tick the tasks their side owns ("partner" or "both") on their own
  partner's plans, and assign those tasks to people of their own partner.
- Read-only partner users, finance and executives see plans but change nothing.
- Templates are edited by vendor admins only.
"""

from __future__ import annotations

from covey.core.access import can_edit_crm, is_admin, writes_for_partner
from covey.plans.models import OwnerSide, Plan, PlanTask

PARTNER_SIDES = frozenset({OwnerSide.PARTNER, OwnerSide.BOTH})


def can_manage_templates(user) -> bool:
    return is_admin(user)


def can_apply_template(user) -> bool:
    return can_edit_crm(user)


def can_tick(user, task: PlanTask) -> bool:
    if can_edit_crm(user):
        return True
    return task.owner_side in PARTNER_SIDES and writes_for_partner(user, task.plan.partner_id)


def can_assign(user, task: PlanTask) -> bool:
    if can_edit_crm(user):
        return True
    return task.owner_side in PARTNER_SIDES and writes_for_partner(user, task.plan.partner_id)


def can_pass_gate(user, plan: Plan) -> bool:
    return can_edit_crm(user)


def can_work_on(user, plan: Plan) -> bool:
    """Whether ``user`` may change anything at all in ``plan`` (shows the controls)."""
    return can_edit_crm(user) or writes_for_partner(user, plan.partner_id)
