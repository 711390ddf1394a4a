"""Who may do what in account mapping (plain functions, like ``covey.core.access``).

Each side manages its own data. The vendor's list, its populations and what it shares belong to
vendor admins and partner managers (sharing with one partner: an admin or that partner's manager).
A partner's lists are uploaded by its admins and reps or by its partner manager (and admins); its
populations and what it shares with the vendor are its admins' to decide. Reading the mapping of a
partner is for vendor staff and that partner's members; what each sees of the other side's records
is ``covey.accountmaps.selectors``' business, nobody else's.
"""

from __future__ import annotations

from covey.core.access import writes_for_partner
from covey.core.models import StaffRole

VENDOR_MAPPERS = frozenset({StaffRole.ADMIN, StaffRole.PARTNER_MANAGER})


def _manages(user, partner) -> bool:
    if not user.is_authenticated:
        return False
    if user.staff_role == StaffRole.ADMIN:
        return True
    return user.staff_role == StaffRole.PARTNER_MANAGER and partner.owner_id == user.pk


def _partner_admin(user, partner_id) -> bool:
    if not user.is_authenticated or user.is_vendor:
        return False
    membership = user.membership
    return bool(membership and membership.partner_id == partner_id and membership.role == "admin")


def can_manage_our_list(user) -> bool:
    """Rebuild the vendor's list from the CRM and define its populations."""
    return user.is_authenticated and user.staff_role in VENDOR_MAPPERS


def can_upload_for(user, partner) -> bool:
    return _manages(user, partner) or writes_for_partner(user, partner.pk)


def can_upload_list(user, account_list) -> bool:
    return account_list.partner is not None and can_upload_for(user, account_list.partner)


def can_define_populations(user, account_list) -> bool:
    if account_list.partner_id is None:
        return can_manage_our_list(user)
    return _partner_admin(user, account_list.partner_id)


def can_set_sharing(user, population, partner) -> bool:
    """The owner side of the population decides what the other side sees of it."""
    if population.account_list.partner_id is None:
        return _manages(user, partner)
    return population.account_list.partner_id == partner.pk and _partner_admin(user, partner.pk)


def can_run(user, account_list) -> bool:
    return can_upload_list(user, account_list)


def can_act_on_targets(user, partner) -> bool:
    """Start a joint account plan or ask for an introduction from a co-sell target."""
    from covey.core.access import can_edit_crm

    return can_edit_crm(user) or writes_for_partner(user, partner.pk)


def can_register_from_targets(user, view) -> bool:
    """A partner's members who register deals start one from a co-sell target (the vendor's side
    asks for an introduction instead); the records listed are already only those shared with them."""
    from covey.registrations.selectors import can_register

    return not view.viewer_is_vendor and can_register(user)


def can_start_plan(user) -> bool:
    """Joint account plans from an overlap are started by the vendor's sellers (they own the CRM account)."""
    from covey.core.access import can_edit_crm

    return can_edit_crm(user)


def sees_report_rows(user, account_list) -> bool:
    """The per-row problems of an import report quote the partner's cells (ids, domains): they are for
    the partner's own members and whoever uploads for it, not for every vendor user."""
    return not user.is_vendor or can_upload_list(user, account_list)
