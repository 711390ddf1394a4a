"""Who may do what with agreements (reading follows ``Agreement.objects.visible_to``).

- Admins edit templates and publish versions.
- Admins and the partner's own manager (or any manager, for an unowned applicant) issue and withdraw.
- The partner's admins sign; only a vendor admin countersigns.
"""

from __future__ import annotations

from covey.core.access import can_manage_lifecycle, is_admin


def can_manage_templates(user) -> bool:
    return is_admin(user)


def can_issue(user, partner) -> bool:
    return can_manage_lifecycle(user, partner)


def can_sign(user, agreement) -> bool:
    if not user.is_authenticated or user.is_vendor:
        return False
    membership = user.membership
    return bool(membership and membership.partner_id == agreement.partner_id and membership.role == "admin")


def can_countersign(user, agreement=None) -> bool:
    return is_admin(user)


def can_withdraw(user, agreement) -> bool:
    return can_manage_lifecycle(user, agreement.partner)
