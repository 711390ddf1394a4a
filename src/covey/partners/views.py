"""Partner pages: the vendor's directory, a partner's profile, its people.

Partner users reach only their own partner (``Partner.objects.visible_to``); the directory itself is
a vendor page and sends them to their own profile.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import can_create_partner, can_edit_partner, get_for_user, require
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, count_per_row, render_list
from covey.core.vocab import Region, Segment
from covey.crm.models import CLOSED_STAGES, Activity, Opportunity, OpportunityPartner
from covey.crm.views import with_visible_opportunities
from covey.partners import services
from covey.partners.forms import MemberAddForm, MemberRoleForm, PartnerForm, partner_managers
from covey.partners.models import Lifecycle, Membership, Partner, PartnerRole, PartnerType


def _owner_choices():
    return [("none", "No owner")] + [(u.public_id, str(u)) for u in partner_managers()]


def _owner_filter(qs, value):
    return qs.filter(owner__isnull=True) if value == "none" else qs.filter(owner__public_id=value)


@login_required
def partner_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_vendor:
        # A partner user never browses other partners: its "partners" page is its own profile.
        if user.membership is None:
            raise PermissionDenied("Your account is not linked to a partner.")
        return redirect("partner_detail", public_id=user.membership.partner.public_id)

    partners = (
        Partner.objects.visible_to(user)
        .select_related("owner")
        .prefetch_related("types", "segments")
        .annotate(
            member_count=count_per_row(Membership.objects.all(), "partner"),
            open_deal_count=count_per_row(
                OpportunityPartner.objects.exclude(opportunity__stage__in=CLOSED_STAGES), "partner"
            ),
        )
    )
    listing = build_listing(
        request, partners,
        search=("name", "domain", "legal_name"),
        filters=[
            Filter("type", "Type", lookup="types__code", choices=PartnerType.choices),
            Filter("region", "Region", lookup="region", choices=Region.choices),
            Filter("lifecycle", "Lifecycle", lookup="lifecycle", choices=Lifecycle.choices),
            Filter("owner", "Owner", choices=_owner_choices, apply=_owner_filter),
            Filter("segment", "Segment", lookup="segments__code", choices=Segment.choices),
        ],
        sorts={
            "name": ["name"], "lifecycle": ["lifecycle", "name"], "region": ["region", "name"],
            "created": ["created_at"], "members": ["member_count"], "deals": ["open_deal_count"],
        },
        default_sort="name",
    )
    lifecycle_counts = dict(
        Partner.objects.visible_to(user).order_by().values_list("lifecycle").annotate(n=Count("id"))
    )
    context = {
        "listing": listing,
        "lifecycles": [(value, label, lifecycle_counts.get(value, 0)) for value, label in Lifecycle.choices],
        "can_create": can_create_partner(user),
    }
    return render_list(request, "partners/partner_list.html", "partners/_partner_results.html", context)


@login_required
def partner_create(request: HttpRequest) -> HttpResponse:
    require(can_create_partner(request.user), "Only admins and partner managers add partners.")
    # A partner manager adding a partner usually manages it: preselect them as owner.
    owner = request.user.public_id if request.user.staff_role == "partner_manager" else None
    form = PartnerForm(request.POST or None, initial={"owner": owner})
    if request.method == "POST" and form.is_valid():
        data = form.values()
        try:
            partner = services.partner_create(
                actor=request.user, types=data.pop("types"), segments=data.pop("segments"), **data,
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Partner “{partner.name}” created.")
            return redirect("partner_detail", public_id=partner.public_id)
    return render(request, "partners/partner_form.html", {"form": form, "partner": None})


def _detail_context(request: HttpRequest, partner: Partner, *, member_form: MemberAddForm | None = None) -> dict:
    user = request.user
    can_manage = can_edit_partner(user, partner)
    opportunities = (
        Opportunity.objects.visible_to(user).filter(partner_links__partner=partner)
        .select_related("account").order_by("-close_date", "-id")
    )
    return {
        "partner": partner,
        "can_edit": can_manage,
        "can_manage_members": can_manage,
        "members": partner.memberships.select_related("user").order_by("role", "user__email"),
        "member_form": member_form or MemberAddForm(),
        "roles": PartnerRole.choices,
        "opportunities": opportunities[:10],
        "opportunity_count": opportunities.count(),
        "activities": with_visible_opportunities(
            user, Activity.objects.visible_to(user).filter(partner=partner).select_related("opportunity")[:10]
        ),
        "history": audit.history(partner)[:30],
    }


@login_required
def partner_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = get_for_user(Partner, request.user, public_id, select=("owner",))
    return render(request, "partners/partner_detail.html", _detail_context(request, partner))


@login_required
def partner_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = get_for_user(Partner, request.user, public_id, write_check=can_edit_partner, select=("owner",))
    vendor = request.user.is_vendor
    form = PartnerForm(request.POST or None, instance=partner, vendor_fields=vendor)
    if request.method == "POST" and form.is_valid():
        data = form.values()
        try:
            changes = services.partner_update(
                partner=partner, actor=request.user, types=data.pop("types"), segments=data.pop("segments"), **data,
            )
        except ValidationError as exc:
            partner.refresh_from_db()  # the service may have set values on the object before refusing
            show_service_errors(form, exc)
        else:
            messages.success(request, "Partner saved." if changes else "Nothing changed.")
            return redirect("partner_detail", public_id=partner.public_id)
    return render(request, "partners/partner_form.html", {"form": form, "partner": partner})


@login_required
@require_POST
def partner_member_add(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = get_for_user(Partner, request.user, public_id, write_check=can_edit_partner, select=("owner",))
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership = services.membership_add(partner=partner, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"{membership.user.email} added as {membership.get_role_display()}; an invitation is on its way.")
            return redirect("partner_detail", public_id=partner.public_id)
    messages.error(request, "The person was not added: " + " ".join(e for errs in form.errors.values() for e in errs))
    return render(request, "partners/partner_detail.html", _detail_context(request, partner, member_form=form))


@login_required
@require_POST
def partner_member_role(request: HttpRequest, public_id: str, user_id: str) -> HttpResponse:
    partner = get_for_user(Partner, request.user, public_id, write_check=can_edit_partner)
    membership = services.membership_of(partner, user_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
    else:
        try:
            services.membership_change_role(membership=membership, role=form.cleaned_data["role"], actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"{membership.user.email} is now {membership.get_role_display()}.")
    return redirect("partner_detail", public_id=partner.public_id)


@login_required
def partner_member_remove(request: HttpRequest, public_id: str, user_id: str) -> HttpResponse:
    """GET asks for confirmation; POST removes the person (their login stops working)."""
    partner = get_for_user(Partner, request.user, public_id, write_check=can_edit_partner)
    membership = services.membership_of(partner, user_id)
    if request.method == "POST":
        try:
            services.membership_remove(membership=membership, actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"{membership.user.email} removed from {partner.name}.")
        return redirect("partner_detail", public_id=partner.public_id)
    return render(request, "includes/confirm_delete.html", {
        "title": f"Remove {membership.user}",
        "question": f"Remove {membership.user.email} ({membership.get_role_display()}) from {partner.name}?",
        "detail": "They lose access to the partner portal at once. Their past activities stay.",
        "button": "Remove person",
        "cancel_url": partner_url(partner),
        "crumbs": _crumbs(request, partner),
    })


def partner_url(partner: Partner) -> str:
    return reverse("partner_detail", kwargs={"public_id": partner.public_id})


def _crumbs(request: HttpRequest, partner: Partner) -> list[tuple[str, str]]:
    crumbs = [("Partners", reverse("partner_list"))] if request.user.is_vendor else []
    return crumbs + [(partner.name, partner_url(partner))]
