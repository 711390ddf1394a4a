"""Partners over the API: list, read, create, change, and see who acts for a partner.

Vendor staff see every partner; a partner user sees only its own (so any other id answers 404).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router

from covey.core import access
from covey.core.api import (
    create_once,
    idempotency_key_header,
    no_content,
    page,
    refuse_nulls,
    search,
    staff_user,
    user_of,
)
from covey.core.models import StaffRole
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, plain
from covey.partners import services
from covey.partners.models import Partner, PartnerTypeTag
from covey.partners.schemas import (
    MemberFilters,
    MemberIn,
    MemberOut,
    MemberPage,
    MemberRoleIn,
    PartnerCreate,
    PartnerFilters,
    PartnerOut,
    PartnerPage,
    PartnerUpdate,
    member_out,
    partner_out,
)

router = Router(tags=["partners"])

OWNER_ROLES = (StaffRole.ADMIN, StaffRole.PARTNER_MANAGER)
VENDOR_ONLY_FIELDS = ("lifecycle", "owner")
VENDOR_ONLY = "Only the vendor can change a partner's lifecycle or owner."


def _partners(user):
    return Partner.objects.visible_to(user).select_related("owner").prefetch_related("types", "segments")


def _get(user, public_id: str, *, write: bool = False) -> Partner:
    return access.get_for_user(
        Partner, user, public_id, write_check=access.can_edit_partner if write else None, select=("owner",)
    )


@router.get(
    "/partners", response={200: PartnerPage, **READ_ERRORS}, operation_id="partners_list",
    summary="List partners", description="Partners you can see (a partner user sees only its own), by name.",
)
def partner_list(request: HttpRequest, filters: Query[PartnerFilters]):
    qs = _partners(user_of(request))
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(domain__icontains=filters.q))
    if filters.type:
        qs = qs.filter(pk__in=PartnerTypeTag.objects.filter(code=filters.type).values("partner_id"))
    if filters.region:
        qs = qs.filter(region=filters.region)
    if filters.lifecycle:
        qs = qs.filter(lifecycle=filters.lifecycle)
    return page(qs.order_by("name", "id"), filters, partner_out)


@router.get(
    "/partners/{id}", response={200: PartnerOut, **READ_ERRORS}, operation_id="partners_get",
    summary="Get a partner", description="One partner by id; 404 if it does not exist or you cannot see it.",
)
def partner_get(request: HttpRequest, id: str):
    return partner_out(_get(user_of(request), id))


@router.post(
    "/partners", response={201: PartnerOut, **WRITE_ERRORS}, operation_id="partners_create",
    summary="Create a partner",
    description="Admins and partner managers create partners. Send an Idempotency-Key header to make retries safe.",
)
def partner_create(request: HttpRequest, payload: PartnerCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(access.can_create_partner(user), "Only admins and partner managers create partners.")
    values = plain(payload.model_dump())
    types, segments = values.pop("types"), values.pop("segments")
    if values["owner"] is not None:
        values["owner"] = staff_user(values["owner"], field="owner", roles=OWNER_ROLES)
    elif user.staff_role == StaffRole.PARTNER_MANAGER:
        values["owner"] = user  # otherwise the manager could not edit the partner just created

    def make() -> Partner:
        return services.partner_create(actor=user, types=types, segments=segments, source="api", **values)

    return create_once(request, key=idempotency_key, make=make, schema=PartnerOut, render=lambda p: partner_out(_get(user, p.public_id)))


@router.patch(
    "/partners/{id}", response={200: PartnerOut, **WRITE_ERRORS}, operation_id="partners_update",
    summary="Change a partner",
    description="Only the fields sent change. Admins edit any partner, a partner manager the partners "
    "they own, a partner admin its own partner (but not its lifecycle or owner).",
)
def partner_update(request: HttpRequest, id: str, payload: PartnerUpdate):
    user = user_of(request)
    partner = _get(user, id, write=True)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values, nullable=("owner", "employees"))
    if "owner" in values and values["owner"] is not None:
        values["owner"] = staff_user(values["owner"], field="owner", roles=OWNER_ROLES)
    if not user.is_vendor:
        current = {"lifecycle": partner.lifecycle, "owner": partner.owner}
        access.require(all(values[f] == current[f] for f in VENDOR_ONLY_FIELDS if f in values), VENDOR_ONLY)
    types, segments = values.pop("types", None), values.pop("segments", None)
    services.partner_update(partner=partner, actor=user, types=types, segments=segments, source="api", **values)
    return partner_out(_get(user, id))


@router.get(
    "/partners/{id}/members", response={200: MemberPage, **READ_ERRORS}, operation_id="partners_members",
    summary="List a partner's members", description="The people who act for this partner, with their roles.",
)
def partner_members(request: HttpRequest, id: str, filters: Query[MemberFilters]):
    partner = _get(user_of(request), id)
    members = search(partner.memberships.select_related("user"), filters.q, "user__full_name", "user__email")
    return page(members.order_by("user__email", "id"), filters, member_out)



@router.post(
    "/partners/{id}/members", response={201: MemberOut, **WRITE_ERRORS}, operation_id="partners_members_add",
    summary="Add a person to a partner",
    description="A new person gets an e-mail with a link to choose a password; someone already at another partner, "
    "or on the vendor's staff, cannot be added. Who may: as for changing the partner.",
)
def partner_member_add(request: HttpRequest, id: str, payload: MemberIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    partner = _get(user, id, write=True)
    try:
        validate_email(payload.email.strip())
    except ValidationError:
        raise ValidationError({"email": "Enter a valid e-mail address, e.g. name@company.com."}) from None
    # The invitation link is built from SITE_URL, not from the API request's Host header.
    return create_once(request, key=idempotency_key, schema=MemberOut, render=member_out, make=lambda: services.membership_add(
        partner=partner, email=payload.email.strip(), full_name=payload.full_name.strip(), role=payload.role, actor=user))


@router.patch(
    "/partners/{id}/members/{user_id}", response={200: MemberOut, **WRITE_ERRORS}, operation_id="partners_members_role",
    summary="Change a member's role", description="A partner keeps at least one admin.",
)
def partner_member_role(request: HttpRequest, id: str, user_id: str, payload: MemberRoleIn):
    user = user_of(request)
    membership = services.membership_of(_get(user, id, write=True), user_id)
    services.membership_change_role(membership=membership, role=payload.role, actor=user)
    return member_out(membership)


@router.delete(
    "/partners/{id}/members/{user_id}", response={204: None, **WRITE_ERRORS}, operation_id="partners_members_remove",
    summary="Remove a person from a partner",
    description="Their login stops working at once; their past activities stay. A partner keeps at least one admin.",
)
def partner_member_remove(request: HttpRequest, id: str, user_id: str):
    user = user_of(request)
    services.membership_remove(membership=services.membership_of(_get(user, id, write=True), user_id), actor=user)
    return no_content()
