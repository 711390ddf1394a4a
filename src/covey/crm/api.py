"""Accounts, opportunities (with product lines and partners), activities and products over the API.

Every read goes through ``visible_to`` / ``get_for_user`` and every write through ``crm.services``
with ``source="api"``, so a token sees and changes exactly what its user could in the browser.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router

from covey.core import access
from covey.core.api import (
    create_once,
    idempotency_key_header,
    lookup,
    no_content,
    page,
    refuse_nulls,
    search,
    staff_user,
    user_of,
)
from covey.core.models import VendorSettings
from covey.core.money import Money
from covey.core.schemas import MAX_AMOUNT_MINOR, READ_ERRORS, WRITE_ERRORS, plain
from covey.crm import services
from covey.crm.models import (
    Account,
    Activity,
    Opportunity,
    OpportunityPartner,
    Product,
    Stage,
)
from covey.crm.schemas import (
    AccountCreate,
    AccountFilters,
    AccountOut,
    AccountPage,
    AccountUpdate,
    ActivityCreate,
    ActivityFilters,
    ActivityOut,
    ActivityPage,
    ActivityUpdate,
    LineCreate,
    LineOut,
    LinkCreate,
    LinkOut,
    OpportunityCreate,
    OpportunityDetail,
    OpportunityFilters,
    OpportunityPage,
    OpportunityUpdate,
    ProductFilters,
    ProductOut,
    ProductPage,
    account_out,
    activity_out,
    line_out,
    link_out,
    opportunity_out,
    product_out,
)
from covey.partners.models import Partner

router = Router()

NO_CRM = "Only the vendor's admins, partner managers and sales reps change accounts and opportunities."
NO_ACTIVITY = "Your role does not allow logging activities."
OWN_PARTNER_ONLY = "Your activities always belong to your own partner."
DELETED = {204: None}


def _blank_to_none(values: dict, field: str) -> None:
    """An empty external id means "none"; storing "" would make two such records collide."""
    if values.get(field) == "":
        values[field] = None


def _child(related, public_id: str):
    """A line or partner link of an opportunity the caller already fetched through the access helper."""
    obj = related.filter(public_id=public_id).first()
    if obj is None:
        raise Http404(f"No {related.model._meta.verbose_name} with that id")
    return obj


def _owner(values: dict) -> None:
    if values.get("owner") is not None:
        values["owner"] = staff_user(values["owner"], field="owner")


# --- accounts --------------------------------------------------------------------------------


def _account(user, public_id: str, *, write: bool = False) -> Account:
    return access.get_for_user(
        Account, user, public_id, write_check=(lambda u, _: access.can_edit_crm(u)) if write else None, select=("owner",)
    )


@router.get(
    "/accounts", response={200: AccountPage, **READ_ERRORS}, tags=["accounts"], operation_id="accounts_list",
    summary="List accounts", description="Accounts you can see (a partner user: the accounts of its deals), by name.",
)
def account_list(request: HttpRequest, filters: Query[AccountFilters]):
    qs = Account.objects.visible_to(user_of(request)).select_related("owner")
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(domain__icontains=filters.q))
    for field in ("status", "region", "segment"):
        if value := getattr(filters, field):
            qs = qs.filter(**{field: value})
    return page(qs.order_by("name", "id"), filters, account_out)


@router.get(
    "/accounts/{id}", response={200: AccountOut, **READ_ERRORS}, tags=["accounts"], operation_id="accounts_get",
    summary="Get an account", description="One account by id; 404 if it does not exist or you cannot see it.",
)
def account_get(request: HttpRequest, id: str):
    return account_out(_account(user_of(request), id))


@router.post(
    "/accounts", response={201: AccountOut, **WRITE_ERRORS}, tags=["accounts"], operation_id="accounts_create",
    summary="Create an account", description="Vendor sellers create accounts. Send an Idempotency-Key header to make retries safe.",
)
def account_create(request: HttpRequest, payload: AccountCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(access.can_edit_crm(user), NO_CRM)
    values = plain(payload.model_dump())
    _owner(values)
    _blank_to_none(values, "external_id")
    return create_once(
        request, key=idempotency_key, make=lambda: services.account_create(actor=user, source="api", **values),
        schema=AccountOut, render=account_out,
    )


@router.patch(
    "/accounts/{id}", response={200: AccountOut, **WRITE_ERRORS}, tags=["accounts"], operation_id="accounts_update",
    summary="Change an account", description="Only the fields sent change.",
)
def account_update(request: HttpRequest, id: str, payload: AccountUpdate):
    user = user_of(request)
    account = _account(user, id, write=True)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values, nullable=("owner", "employees", "external_id"))
    _owner(values)
    _blank_to_none(values, "external_id")
    services.account_update(account=account, actor=user, source="api", **values)
    return account_out(account)


@router.delete(
    "/accounts/{id}", response={**DELETED, **WRITE_ERRORS}, tags=["accounts"], operation_id="accounts_delete",
    summary="Delete an account", description="Refused (422) while the account has opportunities.",
)
def account_delete(request: HttpRequest, id: str):
    user = user_of(request)
    services.account_delete(account=_account(user, id, write=True), actor=user, source="api")
    return no_content()


# --- opportunities ---------------------------------------------------------------------------


def _opportunity(user, public_id: str, *, write: bool = False) -> Opportunity:
    return access.get_for_user(
        Opportunity, user, public_id, write_check=(lambda u, _: access.can_edit_crm(u)) if write else None,
        select=("account", "owner"),
    )


def _detail(user, opp: Opportunity) -> dict:
    links = opp.partner_links.select_related("partner")
    if not user.is_vendor:
        # A partner on a multi-partner deal must not learn who else is on it.
        links = links.filter(partner_id=user.membership.partner_id)
    return {
        **opportunity_out(opp),
        "lines": [line_out(line) for line in opp.lines.select_related("product")],
        "partners": [link_out(link) for link in links],
    }


def _money_values(payload_amount, *, default_currency: str) -> dict:
    money = payload_amount.to_money(default_currency=default_currency, field="amount")
    return {"amount_minor": money.minor, "currency": money.currency}


@router.get(
    "/opportunities", response={200: OpportunityPage, **READ_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_list", summary="List opportunities",
    description="Opportunities you can see (a partner user: the deals its partner is on), latest close date first.",
)
def opportunity_list(request: HttpRequest, filters: Query[OpportunityFilters]):
    user = user_of(request)
    qs = Opportunity.objects.visible_to(user).select_related("account", "owner")
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(account__name__icontains=filters.q))
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.status == "open":
        qs = qs.open()
    elif filters.status == "won":
        qs = qs.won()
    elif filters.status == "lost":
        qs = qs.filter(stage=Stage.CLOSED_LOST)
    if filters.partner and user.is_vendor:
        qs = qs.filter(pk__in=OpportunityPartner.objects.filter(partner__public_id=filters.partner).values("opportunity_id"))
    if filters.account:
        qs = qs.filter(account__public_id=filters.account)
    if filters.close_date_from:
        qs = qs.filter(close_date__gte=filters.close_date_from)
    if filters.close_date_to:
        qs = qs.filter(close_date__lte=filters.close_date_to)
    return page(qs, filters, opportunity_out)


@router.get(
    "/opportunities/{id}", response={200: OpportunityDetail, **READ_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_get", summary="Get an opportunity",
    description="One opportunity with its product lines and partners; 404 if it does not exist or you cannot see it.",
)
def opportunity_get(request: HttpRequest, id: str):
    user = user_of(request)
    return _detail(user, _opportunity(user, id))


@router.post(
    "/opportunities", response={201: OpportunityDetail, **WRITE_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_create", summary="Create an opportunity",
    description="Vendor sellers create opportunities; the amount defaults to zero in the company's base currency. "
    "Send an Idempotency-Key header to make retries safe.",
)
def opportunity_create(request: HttpRequest, payload: OpportunityCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(access.can_edit_crm(user), NO_CRM)
    values = plain(payload.model_dump(exclude={"amount"}))
    values["account"] = lookup(Account, user, values["account"], field="account")
    values["owner"] = staff_user(values["owner"], field="owner") if values["owner"] else user
    _blank_to_none(values, "external_id")
    base = VendorSettings.current().base_currency
    if payload.amount is not None:
        values.update(_money_values(payload.amount, default_currency=base))
    else:
        values.update(amount_minor=0, currency=base)
    return create_once(
        request, key=idempotency_key, make=lambda: services.opportunity_create(actor=user, source="api", **values),
        schema=OpportunityDetail, render=lambda opp: _detail(user, opp),
    )


@router.patch(
    "/opportunities/{id}", response={200: OpportunityDetail, **WRITE_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_update", summary="Change an opportunity",
    description="Only the fields sent change. Closed Lost needs a lost_reason; the currency cannot change while the deal has product lines.",
)
def opportunity_update(request: HttpRequest, id: str, payload: OpportunityUpdate):
    user = user_of(request)
    opp = _opportunity(user, id, write=True)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values, nullable=("owner", "external_id"))
    values.pop("amount", None)
    if values.get("account") is not None:
        values["account"] = lookup(Account, user, values["account"], field="account")
    _owner(values)
    _blank_to_none(values, "external_id")
    if payload.amount is not None:
        values.update(_money_values(payload.amount, default_currency=opp.currency))
    services.opportunity_update(opportunity=opp, actor=user, source="api", **values)
    return _detail(user, opp)


@router.delete(
    "/opportunities/{id}", response={**DELETED, **WRITE_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_delete", summary="Delete an opportunity",
    description="Deletes the opportunity with its lines, partner links and activities.",
)
def opportunity_delete(request: HttpRequest, id: str):
    user = user_of(request)
    services.opportunity_delete(opportunity=_opportunity(user, id, write=True), actor=user, source="api")
    return no_content()


@router.post(
    "/opportunities/{id}/lines", response={201: LineOut, **WRITE_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_lines_add", summary="Add a product line",
    description="Adds a product line; the opportunity's amount becomes the total of its lines. "
    "The unit price defaults to the product's list price (which must be in the opportunity's currency).",
)
def opportunity_line_add(request: HttpRequest, id: str, payload: LineCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    opp = _opportunity(user, id, write=True)
    product = lookup(Product, user, payload.product, field="product")
    unit_price = (
        payload.unit_price.to_money(default_currency=opp.currency, field="unit_price")
        if payload.unit_price is not None else None
    )
    discount = (
        payload.discount.to_money(default_currency=opp.currency, field="discount")
        if payload.discount is not None else Money.zero(opp.currency)
    )
    for field, money in (("unit_price", unit_price), ("discount", discount)):
        if money is not None and money.currency != opp.currency:
            raise ValidationError({f"{field}.currency": f"The opportunity is in {opp.currency}."})
    price_minor = unit_price.minor if unit_price is not None else product.unit_price_minor
    if payload.quantity * price_minor > MAX_AMOUNT_MINOR:
        raise ValidationError({"quantity": "The line's value is larger than Covey stores."})
    return create_once(
        request,
        key=idempotency_key,
        make=lambda: services.opportunity_line_add(
            opportunity=opp, product=product, quantity=payload.quantity, actor=user, source="api",
            unit_price_minor=unit_price.minor if unit_price is not None else None, discount_minor=discount.minor,
        ),
        schema=LineOut, render=line_out,
    )


@router.delete(
    "/opportunities/{id}/lines/{line_id}", response={**DELETED, **WRITE_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_lines_remove", summary="Remove a product line",
    description="Removes the line; the opportunity's amount becomes the total of the remaining lines.",
)
def opportunity_line_remove(request: HttpRequest, id: str, line_id: str):
    user = user_of(request)
    opp = _opportunity(user, id, write=True)
    line = _child(opp.lines.select_related("product"), line_id)
    services.opportunity_line_remove(line=line, actor=user, source="api")
    return no_content()


@router.post(
    "/opportunities/{id}/partners", response={201: LinkOut, **WRITE_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_partners_add", summary="Put a partner on an opportunity",
    description="Links a partner with its role. The first partner on a deal is its primary; naming a new primary demotes the old one.",
)
def opportunity_partner_add(request: HttpRequest, id: str, payload: LinkCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    opp = _opportunity(user, id, write=True)
    partner = lookup(Partner, user, payload.partner, field="partner")
    return create_once(
        request,
        key=idempotency_key,
        make=lambda: services.opportunity_partner_add(
            opportunity=opp, partner=partner, role=payload.role.value, is_primary=payload.is_primary,
            actor=user, source="api",
        ),
        schema=LinkOut, render=link_out,
    )


@router.delete(
    "/opportunities/{id}/partners/{link_id}", response={**DELETED, **WRITE_ERRORS}, tags=["opportunities"],
    operation_id="opportunities_partners_remove", summary="Take a partner off an opportunity",
    description="Removes the partner link; if it was the primary, the longest-standing remaining partner becomes primary.",
)
def opportunity_partner_remove(request: HttpRequest, id: str, link_id: str):
    user = user_of(request)
    opp = _opportunity(user, id, write=True)
    link = _child(opp.partner_links.select_related("partner"), link_id)
    services.opportunity_partner_remove(link=link, actor=user, source="api")
    return no_content()


# --- activities ------------------------------------------------------------------------------


def _activity(user, public_id: str, *, write: bool = False) -> Activity:
    return access.get_for_user(
        Activity, user, public_id, write_check=access.can_edit_activity if write else None,
        select=("opportunity", "account", "partner", "created_by"),
    )


def _activity_refs(user, values: dict) -> None:
    """Resolve the ids an activity points at, each through what the caller may see."""
    for field, model in (("opportunity", Opportunity), ("account", Account), ("partner", Partner)):
        if values.get(field) is not None:
            values[field] = lookup(model, user, values[field], field=field)
    if not user.is_vendor and "partner" in values:
        # visible_to already limits a partner user to its own partner; it may not clear it either.
        if values["partner"] is None:
            raise ValidationError({"partner": OWN_PARTNER_ONLY})


def _aware(values: dict) -> None:
    moment = values.get("occurred_at")
    if moment is not None and timezone.is_naive(moment):
        values["occurred_at"] = timezone.make_aware(moment)


@router.get(
    "/activities", response={200: ActivityPage, **READ_ERRORS}, tags=["activities"], operation_id="activities_list",
    summary="List activities", description="Activities you can see (a partner user: those logged for its partner), newest first.",
)
def activity_list(request: HttpRequest, filters: Query[ActivityFilters]):
    qs = Activity.objects.visible_to(user_of(request)).select_related("opportunity", "account", "partner", "created_by")
    qs = search(qs, filters.q, "subject")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.opportunity:
        qs = qs.filter(opportunity__public_id=filters.opportunity)
    if filters.account:
        qs = qs.filter(account__public_id=filters.account)
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.joint is not None:
        qs = qs.filter(is_joint=filters.joint)
    return page(qs, filters, activity_out)


@router.get(
    "/activities/{id}", response={200: ActivityOut, **READ_ERRORS}, tags=["activities"], operation_id="activities_get",
    summary="Get an activity", description="One activity by id; 404 if it does not exist or you cannot see it.",
)
def activity_get(request: HttpRequest, id: str):
    return activity_out(_activity(user_of(request), id))


@router.post(
    "/activities", response={201: ActivityOut, **WRITE_ERRORS}, tags=["activities"], operation_id="activities_create",
    summary="Log an activity",
    description="Vendor sellers and partner admins/reps log activities. A partner user can attach one only to "
    "opportunities it can see, and it always belongs to the user's own partner. "
    "Send an Idempotency-Key header to make retries safe.",
)
def activity_create(request: HttpRequest, payload: ActivityCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(access.can_log_activity(user), NO_ACTIVITY)
    values = plain(payload.model_dump())
    if not user.is_vendor and values["partner"] is None:
        values["partner"] = user.membership.partner.public_id  # a partner user logs for its own partner
    _activity_refs(user, values)
    if values["occurred_at"] is None:
        values["occurred_at"] = timezone.now()
    _aware(values)
    return create_once(
        request, key=idempotency_key, make=lambda: services.activity_create(actor=user, source="api", **values),
        schema=ActivityOut, render=activity_out,
    )


@router.patch(
    "/activities/{id}", response={200: ActivityOut, **WRITE_ERRORS}, tags=["activities"], operation_id="activities_update",
    summary="Change an activity",
    description="Only the fields sent change. Vendor sellers change any activity; a partner admin its partner's; a partner rep its own.",
)
def activity_update(request: HttpRequest, id: str, payload: ActivityUpdate):
    user = user_of(request)
    activity = _activity(user, id, write=True)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values, nullable=("opportunity", "account", "partner"))
    _activity_refs(user, values)
    _aware(values)
    services.activity_update(activity=activity, actor=user, source="api", **values)
    return activity_out(activity)


@router.delete(
    "/activities/{id}", response={**DELETED, **WRITE_ERRORS}, tags=["activities"], operation_id="activities_delete",
    summary="Delete an activity", description="Same rights as changing it.",
)
def activity_delete(request: HttpRequest, id: str):
    user = user_of(request)
    services.activity_delete(activity=_activity(user, id, write=True), actor=user, source="api")
    return no_content()


# --- products --------------------------------------------------------------------------------


@router.get(
    "/products", response={200: ProductPage, **READ_ERRORS}, tags=["products"], operation_id="products_list",
    summary="List products", description="The vendor's catalogue, by name; every signed-in user sees it.",
)
def product_list(request: HttpRequest, filters: Query[ProductFilters]):
    qs = Product.objects.visible_to(user_of(request))
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(code__icontains=filters.q))
    if filters.family:
        qs = qs.filter(family=filters.family)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    return page(qs.order_by("name", "id"), filters, product_out)


@router.get(
    "/products/{id}", response={200: ProductOut, **READ_ERRORS}, tags=["products"], operation_id="products_get",
    summary="Get a product", description="One product by id.",
)
def product_get(request: HttpRequest, id: str):
    return product_out(access.get_for_user(Product, user_of(request), id))
