"""CRM pages: accounts, opportunities (with lines and partners), activities, products, CSV exports.

Every read goes through ``visible_to`` / ``get_for_user``, so a partner user's pages show only the
deals its partner is on, the accounts of those deals and its own activities; writes check the
rules in ``covey.core.access`` and call one service each.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Prefetch, QuerySet, Sum, Value, When
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import (
    can_edit_activity,
    can_edit_crm,
    can_log_activity,
    get_for_user,
    is_admin,
    require,
)
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, Listing, build_listing, count_per_row, render_list
from covey.core.lookup import lookup_threshold
from covey.core.money import Money
from covey.core.services import create_object, update_object
from covey.core.vocab import Region, Segment
from covey.crm import services
from covey.crm.exports import download
from covey.crm.formats import FORMATS
from covey.crm.forms import (
    AccountForm,
    ActivityForm,
    LineForm,
    OpportunityForm,
    PartnerLinkForm,
    ProductForm,
    staff_users,
)
from covey.crm.models import (
    CLOSED_STAGES,
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    Opportunity,
    OpportunityPartner,
    OpportunityType,
    Product,
    Stage,
)
from covey.partners.models import Partner

CRM_WRITE_DENIED = "Your role can view CRM records but not change them."


# --- shared ----------------------------------------------------------------------------------


def _owner_choices():
    return [(u.public_id, str(u)) for u in staff_users()]


def _partner_filter(user, lookup: str) -> Filter:
    """A select of partners, or a type-to-search box when there are too many to list."""
    partners = Partner.objects.visible_to(user)
    if partners[: lookup_threshold() + 1].count() > lookup_threshold():
        return Filter("partner", "Partner", lookup=lookup, kind="lookup", lookup_kind="partners")

    def choices():
        return [(p.public_id, p.name) for p in partners.order_by("name")]

    return Filter("partner", "Partner", lookup=lookup, choices=choices)


def _yes_no(field: str):
    return lambda qs, value: qs.filter(**{field: value == "yes"})


def _money_totals(queryset: QuerySet, field: str = "amount_minor") -> list[dict]:
    """Sum of ``field`` per currency over the whole filtered set (not just the page)."""
    rows = (
        queryset.prefetch_related(None).order_by().values("currency")
        .annotate(total=Sum(field), n=Count("id")).order_by("currency")
    )
    return [{"money": Money(r["total"] or 0, r["currency"]), "count": r["n"]} for r in rows]


def _download(kind: str, queryset: QuerySet, request: HttpRequest) -> StreamingHttpResponse:
    """The export of the filtered list in the format the menu asked for (an unknown one: generic)."""
    fmt = request.GET.get("fmt", "generic")
    return download(kind, queryset, fmt if fmt in FORMATS else "generic")


def with_visible_opportunities(user, activities) -> list[Activity]:
    """Give each activity ``shown_opportunity``: its opportunity if ``user`` may see it, else None.

    An activity is visible to its partner's users, but it may have been logged (by the vendor, or
    through the API) on a deal that partner is not on; its name must not reach them through it.
    """
    activities = list(activities)
    if user.is_vendor:
        for a in activities:
            a.shown_opportunity = a.opportunity
        return activities
    ids = {a.opportunity_id for a in activities if a.opportunity_id}
    visible = set(Opportunity.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    for a in activities:
        a.shown_opportunity = a.opportunity if a.opportunity_id in visible else None
    return activities


def _confirm(request: HttpRequest, *, title: str, question: str, detail: str, button: str, cancel_url: str, crumbs) -> HttpResponse:
    return render(request, "includes/confirm_delete.html", {
        "title": title, "question": question, "detail": detail, "button": button,
        "cancel_url": cancel_url, "crumbs": crumbs,
    })


# --- accounts --------------------------------------------------------------------------------


def _account_listing(request: HttpRequest, *, export: bool = False) -> Listing:
    """The account list's search/filter/sort; ``export`` leaves out what only the page shows."""
    user = request.user
    accounts = Account.objects.visible_to(user)
    if not export:
        accounts = accounts.select_related("owner")
    if user.is_vendor and not export:
        # Partner users must not learn how many deals an account has beyond their own.
        accounts = accounts.annotate(opportunity_count=count_per_row(Opportunity.objects.all(), "account"))
    filters = [
        Filter("status", "Status", lookup="status", choices=AccountStatus.choices),
        Filter("region", "Region", lookup="region", choices=Region.choices),
        Filter("segment", "Segment", lookup="segment", choices=Segment.choices),
    ]
    if user.is_vendor:
        filters.append(Filter("owner", "Owner", lookup="owner__public_id", choices=_owner_choices))
    return build_listing(
        request, accounts,
        search=("name", "domain"),
        filters=filters,
        sorts={"name": ["name"], "status": ["status", "name"], "region": ["region", "name"], "created": ["created_at"]},
        default_sort="name",
    )


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    context = {"listing": _account_listing(request), "can_edit": can_edit_crm(request.user)}
    return render_list(request, "crm/account_list.html", "crm/_account_results.html", context)


@login_required
def account_export(request: HttpRequest) -> HttpResponse:
    return _download("accounts", _account_listing(request, export=True).queryset, request)


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    require(can_edit_crm(request.user), CRM_WRITE_DENIED)
    form = AccountForm(request.POST or None, initial={"owner": request.user.public_id})
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(actor=request.user, **form.values())
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Account “{account.name}” created.")
            return redirect("account_detail", public_id=account.public_id)
    return render(request, "crm/account_form.html", {"form": form, "account": None})


@login_required
def account_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    account = get_for_user(Account, user, public_id, select=("owner",))
    opportunities = Opportunity.objects.visible_to(user).filter(account=account).select_related("owner")
    context = {
        "account": account,
        "can_edit": can_edit_crm(user),
        "can_log": can_log_activity(user),
        "opportunities": opportunities,
        "totals": _money_totals(opportunities.exclude(stage__in=CLOSED_STAGES)),
        "activities": with_visible_opportunities(
            user, Activity.objects.visible_to(user).filter(account=account).select_related("opportunity", "partner")[:15]
        ),
        # The change log names partners and people on other deals: vendor eyes only.
        "history": audit.history(account)[:30] if user.is_vendor else None,
    }
    return render(request, "crm/account_detail.html", context)


@login_required
def account_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    account = get_for_user(Account, request.user, public_id, write_check=lambda u, _: can_edit_crm(u), select=("owner",))
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.account_update(account=account, actor=request.user, **form.values())
        except ValidationError as exc:
            account.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Account saved." if changes else "Nothing changed.")
            return redirect("account_detail", public_id=account.public_id)
    return render(request, "crm/account_form.html", {"form": form, "account": account})


@login_required
def account_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    account = get_for_user(Account, request.user, public_id, write_check=lambda u, _: can_edit_crm(u))
    if request.method == "POST":
        try:
            services.account_delete(account=account, actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return redirect("account_detail", public_id=account.public_id)
        messages.success(request, f"Account “{account.name}” deleted.")
        return redirect("account_list")
    n = account.opportunities.count()
    return _confirm(
        request, title=f"Delete {account.name}", button="Delete account",
        question=f"Delete the account “{account.name}”?",
        detail=(f"It has {n} opportunit{'y' if n == 1 else 'ies'}; delete or move them first — the account cannot be deleted while it has any."
                if n else "Its activities are deleted with it. This cannot be undone."),
        cancel_url=reverse("account_detail", kwargs={"public_id": account.public_id}),
        crumbs=[("Accounts", reverse("account_list")), (account.name, reverse("account_detail", kwargs={"public_id": account.public_id}))],
    )


# --- opportunities ---------------------------------------------------------------------------

# Stages sort in pipeline order, not alphabetically.
STAGE_ORDER = Case(*[When(stage=s.value, then=Value(i)) for i, s in enumerate(Stage)], default=Value(99), output_field=IntegerField())
STATUS_CHOICES = [("open", "Open"), ("won", "Won"), ("lost", "Lost")]


def _status_filter(qs, value):
    if value == "open":
        return qs.exclude(stage__in=CLOSED_STAGES)
    return qs.filter(stage=Stage.CLOSED_WON if value == "won" else Stage.CLOSED_LOST)


def _opportunity_listing(request: HttpRequest, *, export: bool = False) -> Listing:
    """The opportunity list's search/filter/sort; ``export`` leaves out what only the page shows."""
    user = request.user
    visible = Opportunity.objects.visible_to(user)
    opportunities = visible if export else visible.select_related("account", "owner")
    if user.is_vendor and not export:
        # A partner user must not see which other partners are on a deal, so only vendors get the column.
        opportunities = opportunities.prefetch_related(
            Prefetch("partner_links", queryset=OpportunityPartner.objects.select_related("partner"))
        )
    filters = [
        Filter("stage", "Stage", lookup="stage", choices=Stage.choices),
        Filter("status", "Status", choices=STATUS_CHOICES, apply=_status_filter),
        Filter("type", "Type", lookup="type", choices=OpportunityType.choices),
    ]
    if user.is_vendor:
        filters.append(_partner_filter(user, "partner_links__partner__public_id"))
        filters.append(Filter("owner", "Owner", lookup="owner__public_id", choices=_owner_choices))
    filters += [
        Filter("close_from", "Closes from", lookup="close_date__gte", kind="date"),
        Filter("close_to", "Closes by", lookup="close_date__lte", kind="date"),
        Filter("currency", "Currency", lookup="currency",
               choices=lambda: [(c, c) for c in visible.order_by("currency").values_list("currency", flat=True).distinct()]),
    ]
    return build_listing(
        request, opportunities,
        search=("name", "account__name"),
        filters=filters,
        sorts={
            "name": ["name"], "account": ["account__name", "name"], "amount": ["amount_minor"],
            "close_date": ["close_date"], "stage": [STAGE_ORDER, "close_date"],
        },
        default_sort="-close_date",
    )


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    listing = _opportunity_listing(request)
    context = {"listing": listing, "totals": _money_totals(listing.queryset), "can_edit": can_edit_crm(request.user)}
    return render_list(request, "crm/opportunity_list.html", "crm/_opportunity_results.html", context)


@login_required
def opportunity_export(request: HttpRequest) -> HttpResponse:
    return _download("opportunities", _opportunity_listing(request, export=True).queryset, request)


@login_required
def opportunity_partner_export(request: HttpRequest) -> HttpResponse:
    """The partner links of the filtered opportunities, for vendor staff (a partner user does not
    learn which other partners are on a deal)."""
    if not request.user.is_vendor:
        raise Http404("No such page")
    opportunities = _opportunity_listing(request, export=True).queryset
    links = OpportunityPartner.objects.filter(opportunity__in=opportunities.values("pk"))
    return _download("opportunity-partners", links, request)


def _opportunity_form_context(form: OpportunityForm, opportunity: Opportunity | None) -> dict:
    return {"form": form, "opportunity": opportunity, "closed_lost": Stage.CLOSED_LOST.value}


@login_required
def opportunity_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(can_edit_crm(user), CRM_WRITE_DENIED)
    initial: dict = {"owner": user.public_id, "close_date": None}
    account_id = request.GET.get("account")
    account = None
    if account_id:
        account = get_for_user(Account, user, account_id)
        initial["account"] = account.public_id
    form = OpportunityForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(actor=user, **form.service_values())
        except ValidationError as exc:
            show_service_errors(form, exc, {"amount_minor": "amount"})
        else:
            messages.success(request, f"Opportunity “{opportunity.name}” created.")
            return redirect("opportunity_detail", public_id=opportunity.public_id)
    context = _opportunity_form_context(form, None)
    context["account"] = account
    return render(request, "crm/opportunity_form.html", context)


def _opportunity_detail_context(
    request: HttpRequest, opportunity: Opportunity, *, line_form: LineForm | None = None,
    partner_form: PartnerLinkForm | None = None,
) -> dict:
    user = request.user
    links = opportunity.partner_links.select_related("partner")
    if not user.is_vendor:
        # Partner users see their own partner's part in the deal, never who else is on it.
        links = links.filter(partner_id=user.membership.partner_id)
    can_edit = can_edit_crm(user)
    lines = list(opportunity.lines.select_related("product"))
    for line in lines:
        line.opportunity = opportunity  # totals in the deal's currency without a query per line
    from covey.payouts.forms import DealEventForm
    from covey.payouts.selectors import is_finance

    return {
        "opportunity": opportunity,
        # Billing facts payouts depend on: vendor eyes; finance and admins record them.
        "deal_events": opportunity.events.select_related("created_by") if user.is_vendor else None,
        "event_form": DealEventForm(currency=opportunity.currency, initial={"occurred_on": timezone.localdate()})
        if is_finance(user) and opportunity.stage == Stage.CLOSED_WON else None,
        "can_edit": can_edit,
        "can_log": can_log_activity(user),
        "lines": lines,
        "lines_total": Money(sum(line.total_minor for line in lines), opportunity.currency),
        "links": links,
        "line_form": line_form or (LineForm(currency=opportunity.currency) if can_edit else None),
        "partner_form": partner_form or (PartnerLinkForm(user=user) if can_edit else None),
        "activities": Activity.objects.visible_to(user).filter(opportunity=opportunity).select_related("partner", "created_by")[:20],
        # The change log names every partner on the deal: vendor eyes only.
        "history": audit.history(opportunity)[:40] if user.is_vendor else None,
    }


@login_required
def opportunity_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = get_for_user(Opportunity, request.user, public_id, select=("account", "owner"))
    return render(request, "crm/opportunity_detail.html", _opportunity_detail_context(request, opportunity))


def _crm_write(user, _obj) -> bool:
    return can_edit_crm(user)


@login_required
def opportunity_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    opportunity = get_for_user(Opportunity, user, public_id, write_check=_crm_write, select=("account", "owner"))
    form = OpportunityForm(request.POST or None, user=user, instance=opportunity)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.opportunity_update(opportunity=opportunity, actor=user, **form.service_values())
        except ValidationError as exc:
            opportunity.refresh_from_db()
            show_service_errors(form, exc, {"amount_minor": "amount"})
        else:
            messages.success(request, "Opportunity saved." if changes else "Nothing changed.")
            return redirect("opportunity_detail", public_id=opportunity.public_id)
    return render(request, "crm/opportunity_form.html", _opportunity_form_context(form, opportunity))


@login_required
def opportunity_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = get_for_user(Opportunity, request.user, public_id, write_check=_crm_write, select=("account",))
    if request.method == "POST":
        services.opportunity_delete(opportunity=opportunity, actor=request.user)
        messages.success(request, f"Opportunity “{opportunity.name}” deleted.")
        return redirect("opportunity_list")
    n_lines, n_partners, n_acts = opportunity.lines.count(), opportunity.partner_links.count(), opportunity.activities.count()
    url = reverse("opportunity_detail", kwargs={"public_id": opportunity.public_id})
    return _confirm(
        request, title=f"Delete {opportunity.name}", button="Delete opportunity",
        question=f"Delete the opportunity “{opportunity.name}” ({opportunity.amount}) on {opportunity.account.name}?",
        detail=f"Its {n_lines} product line(s), {n_partners} partner link(s) and {n_acts} activit{'y' if n_acts == 1 else 'ies'} are deleted with it. This cannot be undone.",
        cancel_url=url, crumbs=[("Opportunities", reverse("opportunity_list")), (opportunity.name, url)],
    )


@login_required
@require_POST
def opportunity_line_add(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = get_for_user(Opportunity, request.user, public_id, write_check=_crm_write, select=("account", "owner"))
    form = LineForm(request.POST, currency=opportunity.currency)
    if form.is_valid():
        data = form.cleaned_data
        try:
            line = services.opportunity_line_add(
                opportunity=opportunity, product=data["product"], quantity=data["quantity"], actor=request.user,
                unit_price_minor=data["unit_price"], discount_minor=data["discount"],
            )
        except ValidationError as exc:
            opportunity.refresh_from_db()
            show_service_errors(form, exc, {"discount_minor": "discount", "unit_price_minor": "unit_price"})
        else:
            messages.success(request, f"Added {line.quantity} × {line.product.name}; the amount is now {opportunity.amount}.")
            return redirect(reverse("opportunity_detail", kwargs={"public_id": opportunity.public_id}) + "#lines")
    context = _opportunity_detail_context(request, opportunity, line_form=form)
    return render(request, "crm/opportunity_detail.html", context)


@login_required
@require_POST
def opportunity_line_remove(request: HttpRequest, public_id: str, line_id: str) -> HttpResponse:
    opportunity = get_for_user(Opportunity, request.user, public_id, write_check=_crm_write)
    line = opportunity.lines.select_related("product").filter(public_id=line_id).first()
    if line is None:
        raise Http404("No such line on this opportunity")
    services.opportunity_line_remove(line=line, actor=request.user)
    opportunity.refresh_from_db()
    messages.success(request, f"Removed {line.product.name}; the amount is now {opportunity.amount}.")
    return redirect(reverse("opportunity_detail", kwargs={"public_id": opportunity.public_id}) + "#lines")


@login_required
@require_POST
def opportunity_partner_add(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = get_for_user(Opportunity, request.user, public_id, write_check=_crm_write, select=("account", "owner"))
    form = PartnerLinkForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            link = services.opportunity_partner_add(
                opportunity=opportunity, partner=data["partner"], role=data["role"], is_primary=data["is_primary"],
                actor=request.user,
            )
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"{link.partner.name} added as {link.get_role_display().lower()}{' (primary)' if link.is_primary else ''}.")
            return redirect(reverse("opportunity_detail", kwargs={"public_id": opportunity.public_id}) + "#partners")
    context = _opportunity_detail_context(request, opportunity, partner_form=form)
    return render(request, "crm/opportunity_detail.html", context)


@login_required
@require_POST
def opportunity_partner_remove(request: HttpRequest, public_id: str, link_id: str) -> HttpResponse:
    opportunity = get_for_user(Opportunity, request.user, public_id, write_check=_crm_write)
    link = opportunity.partner_links.select_related("partner").filter(public_id=link_id).first()
    if link is None:
        raise Http404("No such partner on this opportunity")
    services.opportunity_partner_remove(link=link, actor=request.user)
    messages.success(request, f"{link.partner.name} removed from the opportunity.")
    return redirect(reverse("opportunity_detail", kwargs={"public_id": opportunity.public_id}) + "#partners")


# --- activities ------------------------------------------------------------------------------


def _activity_listing(request: HttpRequest) -> Listing:
    user = request.user
    filters = [
        Filter("kind", "Kind", lookup="kind", choices=ActivityKind.choices),
        Filter("joint", "Joint", choices=[("yes", "Joint"), ("no", "Not joint")], apply=_yes_no("is_joint")),
    ]
    if user.is_vendor:
        filters.append(_partner_filter(user, "partner__public_id"))
    filters += [
        Filter("from", "From", lookup="occurred_at__date__gte", kind="date"),
        Filter("to", "To", lookup="occurred_at__date__lte", kind="date"),
    ]
    return build_listing(
        request, Activity.objects.visible_to(user).select_related("opportunity", "partner", "created_by"),
        search=("subject",),
        filters=filters,
        sorts={"occurred_at": ["occurred_at"], "subject": ["subject"], "kind": ["kind", "-occurred_at"]},
        default_sort="-occurred_at",
    )


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    listing = _activity_listing(request)
    with_visible_opportunities(request.user, listing.objects)  # annotates the page's own instances
    context = {"listing": listing, "can_log": can_log_activity(request.user)}
    return render_list(request, "crm/activity_list.html", "crm/_activity_results.html", context)


def _activity_values(form: ActivityForm, user) -> dict:
    values = form.values()
    if not user.is_vendor:
        # A partner user's activity is always its own partner's (the service enforces it on create);
        # the account follows the opportunity they picked.
        if values.get("opportunity") is not None:
            values["account"] = values["opportunity"].account
    return values


@login_required
def activity_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(can_log_activity(user), "Your role can view activities but not log them.")
    opportunity = None
    if request.GET.get("opportunity"):
        opportunity = get_for_user(Opportunity, user, request.GET["opportunity"], select=("account",))
    form = ActivityForm(request.POST or None, user=user, opportunity=opportunity)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(actor=user, **_activity_values(form, user))
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Activity “{activity.subject}” logged.")
            return redirect("activity_detail", public_id=activity.public_id)
    return render(request, "crm/activity_form.html", {"form": form, "activity": None, "opportunity": opportunity})


@login_required
def activity_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    activity = get_for_user(Activity, user, public_id, select=("opportunity", "account", "partner", "created_by"))
    with_visible_opportunities(user, [activity])
    show_account = bool(activity.account_id and Account.objects.visible_to(user).filter(pk=activity.account_id).exists())
    hidden_refs = (activity.opportunity_id and activity.shown_opportunity is None) or (activity.account_id and not show_account)
    context = {
        "activity": activity,
        "can_edit": can_edit_activity(user, activity),
        # Links only to what this user may open (a vendor-logged activity may name an account
        # a partner user cannot see).
        "show_account": show_account,
        # The change log names the opportunity and account; keep it from someone who may not see them.
        "history": audit.history(activity)[:20] if user.is_vendor or not hidden_refs else None,
    }
    return render(request, "crm/activity_detail.html", context)


@login_required
def activity_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    activity = get_for_user(Activity, user, public_id, write_check=can_edit_activity, select=("opportunity", "account", "partner"))
    form = ActivityForm(request.POST or None, user=user, instance=activity)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.activity_update(activity=activity, actor=user, **_activity_values(form, user))
        except ValidationError as exc:
            activity.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Activity saved." if changes else "Nothing changed.")
            return redirect("activity_detail", public_id=activity.public_id)
    return render(request, "crm/activity_form.html", {"form": form, "activity": activity, "opportunity": None})


@login_required
def activity_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    activity = get_for_user(Activity, request.user, public_id, write_check=can_edit_activity)
    if request.method == "POST":
        services.activity_delete(activity=activity, actor=request.user)
        messages.success(request, f"Activity “{activity.subject}” deleted.")
        return redirect("activity_list")
    url = reverse("activity_detail", kwargs={"public_id": activity.public_id})
    return _confirm(
        request, title=f"Delete {activity.subject}", button="Delete activity",
        question=f"Delete the activity “{activity.subject}”?", detail="This cannot be undone.",
        cancel_url=url, crumbs=[("Activities", reverse("activity_list")), (activity.subject, url)],
    )


# --- products --------------------------------------------------------------------------------


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    products = Product.objects.all()
    listing = build_listing(
        request, products,
        search=("name", "code", "family"),
        filters=[
            Filter("family", "Family", lookup="family",
                   choices=lambda: [(f, f) for f in products.exclude(family="").order_by("family").values_list("family", flat=True).distinct()]),
            Filter("active", "Availability", choices=[("yes", "Available"), ("no", "Retired")], apply=_yes_no("is_active")),
        ],
        sorts={"name": ["name"], "code": ["code"], "family": ["family", "name"], "price": ["unit_price_minor"]},
        default_sort="name",
    )
    context = {"listing": listing, "can_edit": is_admin(request.user)}
    return render_list(request, "crm/product_list.html", "crm/_product_results.html", context)


@login_required
def product_create(request: HttpRequest) -> HttpResponse:
    require(is_admin(request.user), "Only an admin changes the product catalogue.")
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = create_object(Product, actor=request.user, **form.service_values())
        except ValidationError as exc:
            show_service_errors(form, exc, {"unit_price_minor": "unit_price"})
        else:
            messages.success(request, f"Product “{product.name}” added at {product.unit_price}.")
            return redirect("product_list")
    return render(request, "crm/product_form.html", {"form": form, "product": None})


@login_required
def product_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    require(is_admin(request.user), "Only an admin changes the product catalogue.")
    product = Product.objects.filter(public_id=public_id).first()
    if product is None:
        raise Http404("No such product")
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            changes = update_object(product, actor=request.user, **form.service_values())
        except ValidationError as exc:
            product.refresh_from_db()
            show_service_errors(form, exc, {"unit_price_minor": "unit_price"})
        else:
            messages.success(request, f"Product “{product.name}” saved." if changes else "Nothing changed.")
            return redirect("product_list")
    return render(request, "crm/product_form.html", {"form": form, "product": product, "history": audit.history(product)[:20]})
