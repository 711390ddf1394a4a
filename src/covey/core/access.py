"""Who may see and change what: the single place that answers it.

Reading goes through each model's ``visible_to(user)`` queryset; fetching one object for a view or
an endpoint goes through ``get_for_user``, which answers 404 to anyone the object is invisible to
(so outsiders cannot even learn it exists) and 403 to someone who may see it but not change it.
The write rules below are plain functions so a reader can check them against the role table in the
README without following inheritance.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from covey.core.models import StaffRole

M = TypeVar("M", bound=models.Model)

CRM_EDITORS = frozenset({StaffRole.ADMIN, StaffRole.PARTNER_MANAGER, StaffRole.SALES_REP})
PARTNER_CREATORS = frozenset({StaffRole.ADMIN, StaffRole.PARTNER_MANAGER})


def partner_rows(queryset, user, *, field: str = "partner_id"):
    """The common ``visible_to``: vendor staff see every row, a partner user the rows whose ``field``
    is its own partner, anyone else (signed out, deactivated, no membership) none."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_vendor:
        return queryset
    membership = user.membership
    return queryset.filter(**{field: membership.partner_id}) if membership else queryset.none()


def is_admin(user) -> bool:
    return user.is_authenticated and user.staff_role == StaffRole.ADMIN


def can_edit_crm(user) -> bool:
    """Accounts, opportunities, their lines and partner links belong to the vendor's sales team."""
    return user.is_authenticated and user.staff_role in CRM_EDITORS


def can_create_partner(user) -> bool:
    return user.is_authenticated and user.staff_role in PARTNER_CREATORS


def can_edit_partner(user, partner) -> bool:
    """Admins edit any partner, a partner manager the partners they own, a partner admin its own."""
    if not user.is_authenticated:
        return False
    if user.staff_role == StaffRole.ADMIN:
        return True
    if user.staff_role == StaffRole.PARTNER_MANAGER:
        return partner.owner_id == user.id
    membership = user.membership
    return bool(membership and membership.partner_id == partner.id and membership.role == "admin")


def can_manage_lifecycle(user, partner) -> bool:
    """Who moves a partner through its lifecycle (evaluation, approval, agreements, activation): an
    admin, or a partner manager for the partners they own and for applicants nobody owns yet."""
    if not user.is_authenticated:
        return False
    if user.staff_role == StaffRole.ADMIN:
        return True
    return user.staff_role == StaffRole.PARTNER_MANAGER and partner.owner_id in (None, user.id)


def writes_for_partner(user, partner_id) -> bool:
    """An admin or rep (not a read-only member) of the partner with this id."""
    if not user.is_authenticated or user.is_vendor:
        return False
    membership = user.membership
    return bool(membership and membership.can_write and membership.partner_id == partner_id)


def can_log_activity(user) -> bool:
    """Vendor sellers and partner admins/reps log activities; read-only roles do not."""
    if can_edit_crm(user):
        return True
    membership = None if user.is_vendor else getattr(user, "membership", None)
    return bool(membership and membership.can_write)


def can_edit_activity(user, activity) -> bool:
    if can_edit_crm(user):
        return True
    membership = None if user.is_vendor else user.membership
    return bool(
        membership and membership.can_write and activity.partner_id == membership.partner_id
        and (membership.role == "admin" or activity.created_by_id == user.id)
    )


def get_for_user(model: type[M], user, public_id: str, *, write_check=None, select=()) -> M:
    """Fetch one object through ``model.objects.visible_to(user)``.

    Raises Http404 when the user cannot see it, PermissionDenied when ``write_check(user, obj)`` is
    given and says no.
    """
    qs = model.objects.visible_to(user)  # type: ignore[attr-defined]
    if select:
        qs = qs.select_related(*select)
    obj = qs.filter(public_id=public_id).first()
    if obj is None:
        raise Http404(f"No {model._meta.verbose_name} with that id")
    if write_check is not None and not write_check(user, obj):
        raise PermissionDenied(f"You can view this {model._meta.verbose_name} but not change it")
    return obj


def require(allowed: bool, message: str = "Your role does not allow this") -> None:
    if not allowed:
        raise PermissionDenied(message)


VENDOR_ONLY = "This page is for the vendor's staff."


def require_vendor(user, message: str = VENDOR_ONLY) -> None:
    """Pages that are the vendor's own: a partner user gets 404, never told the page exists."""
    if not user.is_vendor:
        raise Http404(message)
