"""Joint proposals (with lines, submission, pricing decision) and joint account plans (with steps and
linked deals) over the API.

Same four steps as the pages: fetch through ``get_for_user`` (outsiders get 404), check the role
(``covey.joint.access``, 403), validate the schema, call one service with ``source="api"``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from ninja import Query, Router

from covey.core import access as core_access
from covey.core.api import (
    ApiError,
    create_once,
    idempotency_key_header,
    lookup,
    no_content,
    page,
    refuse_nulls,
    staff_user,
    user_of,
)
from covey.core.models import User
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, plain, ref
from covey.crm.models import Account, Opportunity, Product
from covey.joint import access, rules, selectors, services
from covey.joint.models import (
    AccountPlanStep,
    JointAccountPlan,
    JointProposal,
    LineKind,
    ProposalLine,
    Side,
)
from covey.joint.schemas import (
    DecisionIn,
    LinkIn,
    MarkIn,
    PlanCreate,
    PlanDetail,
    PlanFilters,
    PlanPage,
    PlanUpdate,
    ProposalCreate,
    ProposalDetail,
    ProposalFilters,
    ProposalLineCreate,
    ProposalLineOut,
    ProposalLineUpdate,
    ProposalPage,
    ProposalUpdate,
    StepCreate,
    StepOut,
    StepUpdate,
    line_out,
    plan_out,
    step_out,
    totals_out,
)
from covey.partners.models import Partner

router = Router()

NO_PROPOSALS = "Vendor sellers and partner admins/reps write joint proposals; your role can only read them."
NO_PLANS = "Vendor sellers and partner admins/reps write joint account plans; your role can only read them."
PARTNER_REQUIRED = "Name the partner (one of the opportunity's partners)."
DELETED = {204: None}
PROPOSAL_SELECT = ("opportunity__account", "partner__owner", "created_by", "submitted_by", "decided_by")
PLAN_SELECT = ("account", "partner", "vendor_owner", "partner_owner")


def _own_partner(user, given: str | None, *, field: str = "partner") -> Partner:
    """Vendors name the partner; a partner user's is always its own (naming another reads as unknown)."""
    if user.is_vendor:
        if not given:
            raise ValidationError({field: PARTNER_REQUIRED})
        return lookup(Partner, user, given, field=field)
    own = user.membership.partner
    if given and given != own.public_id:
        raise ValidationError({field: f"No partner with id {given!r}."})
    return own


# --- proposals -------------------------------------------------------------------------------


def _proposal(user, public_id: str, *, check=None) -> JointProposal:
    return core_access.get_for_user(JointProposal, user, public_id, write_check=check, select=PROPOSAL_SELECT)


def _proposal_out(proposal: JointProposal, lines: list[ProposalLine] | None = None) -> dict:
    lines = list(proposal.lines.all()) if lines is None else lines
    priced = proposal.priced_lines(lines)
    threshold = services.discount_threshold()
    decided = proposal.decided_by_id is not None or proposal.decided_at is not None
    return {
        "id": proposal.public_id, "title": proposal.title, "status": proposal.status,
        "opportunity": ref(proposal.opportunity), "account": ref(proposal.opportunity.account), "partner": ref(proposal.partner),
        "currency": proposal.currency, "valid_until": proposal.valid_until, "notes": proposal.notes,
        "created_by": ref(proposal.created_by), "submitted_by": ref(proposal.submitted_by), "submitted_at": proposal.submitted_at,
        "decision": {"by": ref(proposal.decided_by), "at": proposal.decided_at, "note": proposal.decision_note} if decided else None,
        "totals": totals_out(rules.totals(priced, proposal.currency), non_standard=rules.is_non_standard(priced, threshold), threshold=threshold),
        "created_at": proposal.created_at, "updated_at": proposal.updated_at,
    }


def _proposal_detail(proposal: JointProposal) -> dict:
    proposal.refresh_from_db()  # services write status, decision and lines; answer with what is stored
    lines = selectors.proposal_lines(proposal)
    return {**_proposal_out(proposal, lines), "lines": [line_out(line, proposal.currency) for line in lines]}


@router.get(
    "/proposals", response={200: ProposalPage, **READ_ERRORS}, tags=["joint proposals"], operation_id="proposals_list",
    summary="List joint proposals",
    description="Proposals you can see (a partner user: its own partner's, on deals it is on), newest first.",
)
def proposal_list(request: HttpRequest, filters: Query[ProposalFilters]):
    qs = selectors.proposal_list(user=user_of(request)).select_related("submitted_by", "decided_by").prefetch_related("lines")
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(opportunity__name__icontains=filters.q)
                       | Q(opportunity__account__name__icontains=filters.q))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.opportunity:
        qs = qs.filter(opportunity__public_id=filters.opportunity)
    return page(qs, filters, _proposal_out)


@router.get(
    "/proposals/{id}", response={200: ProposalDetail, **READ_ERRORS}, tags=["joint proposals"], operation_id="proposals_get",
    summary="Get a joint proposal", description="One proposal with its lines and totals; 404 if it does not exist or you cannot see it.",
)
def proposal_get(request: HttpRequest, id: str):
    return _proposal_detail(_proposal(user_of(request), id))


@router.post(
    "/proposals", response={201: ProposalDetail, **WRITE_ERRORS}, tags=["joint proposals"], operation_id="proposals_create",
    summary="Create a joint proposal",
    description="One proposal per opportunity and partner (a second is a 409 naming the first). The deal's product lines "
    "are copied in as vendor lines at list price. Send an Idempotency-Key header to make retries safe.",
)
def proposal_create(request: HttpRequest, payload: ProposalCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    core_access.require(access.can_create_proposal(user), NO_PROPOSALS)
    opportunity = lookup(Opportunity, user, payload.opportunity, field="opportunity")
    partner = _own_partner(user, payload.partner)

    def make() -> JointProposal:
        try:
            return services.proposal_create(
                opportunity=opportunity, partner=partner, actor=user, title=payload.title,
                valid_until=payload.valid_until, notes=payload.notes, source="api",
            )
        except services.ProposalExists as exc:
            raise ApiError(409, "conflict", f"This deal already has a joint proposal with {partner.name}: {exc.existing.public_id}.") from None

    return create_once(request, key=idempotency_key, make=make, schema=ProposalDetail, render=_proposal_detail)


@router.patch(
    "/proposals/{id}", response={200: ProposalDetail, **WRITE_ERRORS}, tags=["joint proposals"], operation_id="proposals_update",
    summary="Change a joint proposal's terms",
    description="Title, valid_until, notes. Refused while submitted or after sending; a change to an approved proposal voids the approval.",
)
def proposal_update(request: HttpRequest, id: str, payload: ProposalUpdate):
    user = user_of(request)
    proposal = _proposal(user, id, check=access.can_edit_proposal)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values, nullable=("valid_until",))
    services.proposal_update(proposal=proposal, actor=user, source="api", **values)
    return _proposal_detail(proposal)


def _line(proposal: JointProposal, line_id: str) -> ProposalLine:
    line = proposal.lines.select_related("product").filter(public_id=line_id).first()
    if line is None:
        raise Http404("No proposal line with that id")
    line.proposal = proposal
    return line


def _unit_price(payload_price, proposal: JointProposal) -> int | None:
    if payload_price is None:
        return None
    money = payload_price.to_money(default_currency=proposal.currency, field="unit_price")
    if money.currency != proposal.currency:
        raise ValidationError({"unit_price.currency": f"The proposal is in {proposal.currency}."})
    return money.minor


@router.post(
    "/proposals/{id}/lines", response={201: ProposalLineOut, **WRITE_ERRORS}, tags=["joint proposals"],
    operation_id="proposals_lines_add", summary="Add a line",
    description="vendor_product lines (vendor sellers): a product at list price with discount_percent. partner_service lines "
    "(the partner's admins and reps): description, quantity and unit_price. Refused while submitted or after sending.",
)
def proposal_line_add(request: HttpRequest, id: str, payload: ProposalLineCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    proposal = _proposal(user, id, check=access.can_touch_lines)
    product = lookup(Product, user, payload.product, field="product") if payload.product else None
    if payload.kind == LineKind.PARTNER_SERVICE and product is not None:
        raise ValidationError({"product": "A partner service line names no product; use description."})
    values = {
        "kind": payload.kind.value, "quantity": payload.quantity, "product": product, "description": payload.description,
        "unit_price_minor": _unit_price(payload.unit_price, proposal) if payload.kind == LineKind.PARTNER_SERVICE else None,
        "discount_percent": payload.discount_percent or "0",
    }
    if payload.kind == LineKind.VENDOR_PRODUCT and payload.unit_price is not None:
        raise ValidationError({"unit_price": "Vendor lines are priced at list; give a discount_percent instead."})
    return create_once(
        request, key=idempotency_key,
        make=lambda: services.proposal_line_add(proposal=proposal, actor=user, source="api", **values),
        schema=ProposalLineOut, render=lambda line: line_out(line, proposal.currency),
    )


@router.patch(
    "/proposals/{id}/lines/{line_id}", response={200: ProposalLineOut, **WRITE_ERRORS}, tags=["joint proposals"],
    operation_id="proposals_lines_update", summary="Change a line",
    description="Vendor lines: quantity, discount_percent. Partner lines: description, quantity, unit_price.",
)
def proposal_line_update(request: HttpRequest, id: str, line_id: str, payload: ProposalLineUpdate):
    user = user_of(request)
    proposal = _proposal(user, id, check=access.can_touch_lines)
    line = _line(proposal, line_id)
    values = plain(payload.model_dump(exclude_unset=True, exclude={"unit_price"}))
    refuse_nulls(values)
    if payload.unit_price is not None:
        values["unit_price_minor"] = _unit_price(payload.unit_price, proposal)
    services.proposal_line_update(line=line, actor=user, source="api", **values)
    return line_out(line, proposal.currency)


@router.delete(
    "/proposals/{id}/lines/{line_id}", response={**DELETED, **WRITE_ERRORS}, tags=["joint proposals"],
    operation_id="proposals_lines_remove", summary="Remove a line", description="Same rights as adding one of its kind.",
)
def proposal_line_remove(request: HttpRequest, id: str, line_id: str):
    user = user_of(request)
    proposal = _proposal(user, id, check=access.can_touch_lines)
    services.proposal_line_remove(line=_line(proposal, line_id), actor=user, source="api")
    return no_content()


@router.post(
    "/proposals/{id}/submit", response={200: ProposalDetail, **WRITE_ERRORS}, tags=["joint proposals"],
    operation_id="proposals_submit", summary="Submit for pricing approval",
    description="From draft or changes requested. The partner's manager and the vendor admins are notified; a vendor "
    "discount above the threshold raises a deal-desk escalation (non-standard pricing).",
)
def proposal_submit(request: HttpRequest, id: str):
    user = user_of(request)
    proposal = _proposal(user, id, check=access.can_edit_proposal)
    services.proposal_submit(proposal=proposal, actor=user, source="api")
    return _proposal_detail(proposal)


@router.post(
    "/proposals/{id}/decide", response={200: ProposalDetail, **WRITE_ERRORS}, tags=["joint proposals"],
    operation_id="proposals_decide", summary="Approve the pricing or request changes",
    description="Vendor admins and the partner's manager. request_changes needs a note. The submitter is notified.",
)
def proposal_decide(request: HttpRequest, id: str, payload: DecisionIn):
    user = user_of(request)
    proposal = _proposal(user, id, check=access.can_decide_pricing)
    services.proposal_decide(proposal=proposal, actor=user, approve=payload.decision == "approve", note=payload.note, source="api")
    return _proposal_detail(proposal)


@router.post(
    "/proposals/{id}/mark", response={200: ProposalDetail, **WRITE_ERRORS}, tags=["joint proposals"],
    operation_id="proposals_mark", summary="Record the customer step",
    description="sent (once the pricing is approved), then accepted or declined.",
)
def proposal_mark(request: HttpRequest, id: str, payload: MarkIn):
    user = user_of(request)
    proposal = _proposal(user, id, check=access.can_edit_proposal)
    services.proposal_mark(proposal=proposal, actor=user, status=payload.status, source="api")
    return _proposal_detail(proposal)


# --- account plans ---------------------------------------------------------------------------


def _plan(user, public_id: str, *, write: bool = False) -> JointAccountPlan:
    return core_access.get_for_user(
        JointAccountPlan, user, public_id, write_check=access.can_edit_plan if write else None, select=PLAN_SELECT,
    )


def _plan_detail(plan: JointAccountPlan, user) -> dict:
    return {
        **plan_out(plan),
        "steps": [step_out(s) for s in plan.steps.select_related("owner", "done_by")],
        "opportunities": [ref(o) for o in selectors.plan_opportunities(plan=plan, user=user).order_by("name")],
    }


def _partner_user(public_id: str, partner: Partner, *, field: str) -> User:
    user = User.objects.filter(public_id=public_id, is_active=True, staff_role="").first()
    membership = user.membership if user is not None else None
    if membership is None or membership.partner_id != partner.pk:
        raise ValidationError({field: f"No active user of {partner.name} with id {public_id!r}."})
    return user


def _plan_refs(user, values: dict, partner: Partner) -> None:
    if values.get("vendor_owner") is not None:
        values["vendor_owner"] = staff_user(values["vendor_owner"], field="vendor_owner")
    if values.get("partner_owner") is not None:
        values["partner_owner"] = _partner_user(values["partner_owner"], partner, field="partner_owner")
    if values.get("target_products") is not None:
        values["target_products"] = [lookup(Product, user, p, field="target_products") for p in dict.fromkeys(values["target_products"])]


@router.get(
    "/account-plans", response={200: PlanPage, **READ_ERRORS}, tags=["joint account plans"], operation_id="account_plans_list",
    summary="List joint account plans",
    description="Plans you can see (a partner user: its own partner's, on accounts it can see), newest first.",
)
def plan_list(request: HttpRequest, filters: Query[PlanFilters]):
    qs = selectors.plan_list(user=user_of(request)).prefetch_related("target_products")
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(account__name__icontains=filters.q))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    if filters.account:
        qs = qs.filter(account__public_id=filters.account)
    if filters.owner:
        qs = qs.filter(Q(vendor_owner__public_id=filters.owner) | Q(partner_owner__public_id=filters.owner))
    return page(qs, filters, plan_out)


@router.get(
    "/account-plans/{id}", response={200: PlanDetail, **READ_ERRORS}, tags=["joint account plans"], operation_id="account_plans_get",
    summary="Get a joint account plan", description="One plan with its steps and the linked deals you can see.",
)
def plan_get(request: HttpRequest, id: str):
    user = user_of(request)
    return _plan_detail(_plan(user, id), user)


@router.post(
    "/account-plans", response={201: PlanDetail, **WRITE_ERRORS}, tags=["joint account plans"], operation_id="account_plans_create",
    summary="Create a joint account plan",
    description="On an account you can see; partner users plan for their own partner. Send an Idempotency-Key header to make retries safe.",
)
def plan_create(request: HttpRequest, payload: PlanCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    core_access.require(access.can_create_plan(user), NO_PLANS)
    values = plain(payload.model_dump())
    values["account"] = lookup(Account, user, values["account"], field="account")
    values["partner"] = _own_partner(user, values["partner"])
    _plan_refs(user, values, values["partner"])
    return create_once(
        request, key=idempotency_key, make=lambda: services.plan_create(actor=user, source="api", **values),
        schema=PlanDetail, render=lambda plan: _plan_detail(plan, user),
    )


@router.patch(
    "/account-plans/{id}", response={200: PlanDetail, **WRITE_ERRORS}, tags=["joint account plans"],
    operation_id="account_plans_update", summary="Change a joint account plan",
    description="Only the fields sent change; the account and partner stay. target_products replaces the list.",
)
def plan_update(request: HttpRequest, id: str, payload: PlanUpdate):
    user = user_of(request)
    plan = _plan(user, id, write=True)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values, nullable=("vendor_owner", "partner_owner", "period_start", "period_end"))
    _plan_refs(user, values, plan.partner)
    services.plan_update(plan=plan, actor=user, source="api", **values)
    return _plan_detail(plan, user)


def _step(plan: JointAccountPlan, step_id: str) -> AccountPlanStep:
    step = plan.steps.select_related("owner", "done_by").filter(public_id=step_id).first()
    if step is None:
        raise Http404("No account plan step with that id")
    step.plan = plan
    return step


def _step_owner(values: dict, plan: JointAccountPlan, side: str) -> None:
    if values.get("owner") is not None:
        if side == Side.VENDOR:
            values["owner"] = staff_user(values["owner"], field="owner")
        else:
            values["owner"] = _partner_user(values["owner"], plan.partner, field="owner")


@router.post(
    "/account-plans/{id}/steps", response={201: StepOut, **WRITE_ERRORS}, tags=["joint account plans"],
    operation_id="account_plans_steps_add", summary="Add a next step",
    description="A step owned by the vendor or the partner side; the owner (if named) is notified.",
)
def plan_step_add(request: HttpRequest, id: str, payload: StepCreate, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    plan = _plan(user, id, write=True)
    values = plain(payload.model_dump())
    _step_owner(values, plan, values["owner_side"])
    return create_once(
        request, key=idempotency_key, make=lambda: services.plan_step_add(plan=plan, actor=user, source="api", **values),
        schema=StepOut, render=step_out,
    )


@router.patch(
    "/account-plans/{id}/steps/{step_id}", response={200: StepOut, **WRITE_ERRORS}, tags=["joint account plans"],
    operation_id="account_plans_steps_update", summary="Change or tick a step",
    description="done: true ticks the step (who and when are kept); false reopens it. A new owner is notified.",
)
def plan_step_update(request: HttpRequest, id: str, step_id: str, payload: StepUpdate):
    user = user_of(request)
    plan = _plan(user, id, write=True)
    step = _step(plan, step_id)
    values = plain(payload.model_dump(exclude_unset=True))
    refuse_nulls(values, nullable=("owner", "due_date"))
    _step_owner(values, plan, values.get("owner_side", step.owner_side))
    services.plan_step_update(step=step, actor=user, source="api", **values)
    return step_out(step)


@router.delete(
    "/account-plans/{id}/steps/{step_id}", response={**DELETED, **WRITE_ERRORS}, tags=["joint account plans"],
    operation_id="account_plans_steps_remove", summary="Remove a step", description="Same rights as changing the plan.",
)
def plan_step_remove(request: HttpRequest, id: str, step_id: str):
    user = user_of(request)
    plan = _plan(user, id, write=True)
    services.plan_step_remove(step=_step(plan, step_id), actor=user, source="api")
    return no_content()


@router.post(
    "/account-plans/{id}/opportunities", response={200: PlanDetail, **WRITE_ERRORS}, tags=["joint account plans"],
    operation_id="account_plans_opportunities_link", summary="Link an opportunity",
    description="Only opportunities of the plan's account that you can see.",
)
def plan_link(request: HttpRequest, id: str, payload: LinkIn):
    user = user_of(request)
    plan = _plan(user, id, write=True)
    opportunity = lookup(Opportunity, user, payload.opportunity, field="opportunity")
    services.plan_link_opportunity(plan=plan, opportunity=opportunity, actor=user, source="api")
    return _plan_detail(plan, user)


@router.delete(
    "/account-plans/{id}/opportunities/{opportunity_id}", response={**DELETED, **WRITE_ERRORS}, tags=["joint account plans"],
    operation_id="account_plans_opportunities_unlink", summary="Unlink an opportunity", description="Same rights as changing the plan.",
)
def plan_unlink(request: HttpRequest, id: str, opportunity_id: str):
    user = user_of(request)
    plan = _plan(user, id, write=True)
    opportunity = selectors.plan_opportunities(plan=plan, user=user).filter(public_id=opportunity_id).first()
    if opportunity is None:
        raise Http404("No linked opportunity with that id")
    services.plan_unlink_opportunity(plan=plan, opportunity=opportunity, actor=user, source="api")
    return no_content()
