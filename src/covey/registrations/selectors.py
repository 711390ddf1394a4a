"""Who may do what with registrations, and the reads the pages and the API share."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from covey.core.access import writes_for_partner
from covey.core.models import StaffRole
from covey.crm.models import CLOSED_STAGES, Opportunity
from covey.registrations.models import Registration, Status

REGISTER_ON_BEHALF = frozenset({StaffRole.ADMIN, StaffRole.PARTNER_MANAGER})
CONFLICT_MANAGERS = frozenset({StaffRole.ADMIN, StaffRole.PARTNER_MANAGER})


def can_register(user) -> bool:
    """Partner admins and reps register for their partner; admins and partner managers on behalf of one."""
    if not user.is_authenticated:
        return False
    if user.is_vendor:
        return user.staff_role in REGISTER_ON_BEHALF
    membership = user.membership
    return bool(membership and membership.can_write)


def can_review(user, registration: Registration) -> bool:
    """Admins review any registration; a partner manager those of the partners they own."""
    if not user.is_authenticated:
        return False
    if user.staff_role == StaffRole.ADMIN:
        return True
    return user.staff_role == StaffRole.PARTNER_MANAGER and registration.partner.owner_id == user.id


def can_request_extension(user, registration: Registration) -> bool:
    return writes_for_partner(user, registration.partner_id)


def can_manage_conflicts(user) -> bool:
    return user.is_authenticated and user.staff_role in CONFLICT_MANAGERS


def can_edit_program(user) -> bool:
    return user.is_authenticated and user.staff_role == StaffRole.ADMIN


# --- the conflict queue ----------------------------------------------------------------------


@dataclass
class Contest:
    domain: str
    holder: Registration | None
    contenders: list[Registration]
    vendor_opportunities: list[Opportunity]


def contested_domains(q: str = ""):
    """Domains with unresolved conflicting registrations, oldest first."""
    qs = Registration.objects.filter(status=Status.CONFLICT, resolution__isnull=True)
    if q:
        qs = qs.filter(Q(claim_domain__icontains=q) | Q(company_name__icontains=q))
    return qs.order_by("claim_domain").values_list("claim_domain", flat=True).distinct()


def contests(domains: list[str]) -> list[Contest]:
    """The side-by-side view of each domain: holder, waiting registrations, open CRM opportunities."""
    if not domains:
        return []
    regs = (
        Registration.objects.filter(claim_domain__in=domains)
        .filter(Q(holds_claim=True) | Q(status=Status.CONFLICT, resolution__isnull=True))
        .select_related("partner", "submitted_by").prefetch_related("products").order_by("submitted_at", "id")
    )
    by_domain: dict[str, Contest] = {d: Contest(d, None, [], []) for d in domains}
    for reg in regs:
        contest = by_domain[reg.claim_domain]
        if reg.holds_claim:
            contest.holder = reg
        else:
            contest.contenders.append(reg)
    hosts = [h for d in domains for h in (d, f"www.{d}")]
    opportunities = (
        Opportunity.objects.filter(account__domain__in=hosts).exclude(stage__in=CLOSED_STAGES)
        .select_related("account", "owner").order_by("close_date")
    )
    for opp in opportunities:
        domain = opp.account.domain.removeprefix("www.")
        if domain in by_domain:
            by_domain[domain].vendor_opportunities.append(opp)
    return [by_domain[d] for d in domains]
