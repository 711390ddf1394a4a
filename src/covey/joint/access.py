"""Who may do what with joint proposals and account plans (plain functions, like covey.core.access).

- Vendor CRM editors (admin, partner manager, sales rep) price vendor product lines; a partner's
  admins and reps write its service lines. Either side edits a proposal's terms, submits it and
  records what the customer did with it.
- Pricing is approved (or sent back) by a vendor admin or the partner manager who owns the partner:
  the people a discount answers to.
- Account plans are edited by vendor CRM editors and by the partner's admins and reps.
- Read-only roles (finance, executive, partner read-only) see everything their scope shows and
  change nothing.
"""

from __future__ import annotations

from covey.core.access import can_edit_crm, is_admin, writes_for_partner
from covey.core.models import StaffRole


def can_create_proposal(user) -> bool:
    if can_edit_crm(user):
        return True
    membership = None if user.is_vendor else user.membership
    return bool(membership and membership.can_write)


def can_edit_proposal(user, proposal) -> bool:
    """Terms (title, validity, notes), submitting and marking sent/accepted/declined."""
    return can_edit_crm(user) or writes_for_partner(user, proposal.partner_id)


def can_edit_vendor_lines(user, proposal) -> bool:
    return can_edit_crm(user)


def can_edit_partner_lines(user, proposal) -> bool:
    return writes_for_partner(user, proposal.partner_id)


def can_edit_line_kind(user, proposal, kind: str) -> bool:
    from covey.joint.rules import VENDOR_PRODUCT

    return can_edit_vendor_lines(user, proposal) if kind == VENDOR_PRODUCT else can_edit_partner_lines(user, proposal)


def can_touch_lines(user, proposal) -> bool:
    """May change at least one kind of line (the gate of the line endpoints)."""
    return can_edit_vendor_lines(user, proposal) or can_edit_partner_lines(user, proposal)


def can_decide_pricing(user, proposal) -> bool:
    if is_admin(user):
        return True
    return bool(
        user.is_authenticated and user.staff_role == StaffRole.PARTNER_MANAGER
        and proposal.partner.owner_id == user.pk
    )


def can_create_plan(user) -> bool:
    return can_create_proposal(user)


def can_edit_plan(user, plan) -> bool:
    return can_edit_crm(user) or writes_for_partner(user, plan.partner_id)
