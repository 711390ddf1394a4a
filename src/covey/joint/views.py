"""Joint proposal and account plan pages.

Every read goes through ``visible_to`` / ``get_for_user`` (a partner user reaches only its own
partner's proposals and plans; anything else is a 404), every write checks ``covey.joint.access``
and calls one service. Line editing works as plain forms and, with htmx, swaps only the proposal's
workspace (lines, totals, status and actions) so totals update in place.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import get_for_user, require
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.crm.models import Account, Opportunity
from covey.joint import access, rules, selectors, services
from covey.joint.forms import (
    DecisionForm,
    LinkOpportunityForm,
    MarkForm,
    PartnerLineEditForm,
    PartnerLineForm,
    PlanForm,
    ProposalCreateForm,
    ProposalForm,
    StepForm,
    VendorLineEditForm,
    VendorLineForm,
)
from covey.joint.models import (
    MARK_FROM,
    JointAccountPlan,
    JointProposal,
    LineKind,
    PlanStatus,
    ProposalStatus,
)
from covey.partners.models import Partner

NO_PROPOSALS = "Your role can view joint proposals but not write them."
NO_PLANS = "Your role can view joint account plans but not write them."
LINE_FIELDS = {"discount_percent": "discount_percent", "unit_price_minor": "unit_price"}


def _partner_choices(user):
    return lambda: [(p.public_id, p.name) for p in Partner.objects.visible_to(user).order_by("name")]


def _detail_url(name: str, obj, anchor: str = "") -> str:
    return reverse(name, kwargs={"public_id": obj.public_id}) + anchor


# --- proposals -------------------------------------------------------------------------------


@login_required
def proposal_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    filters = [Filter("status", "Status", lookup="status", choices=ProposalStatus.choices)]
    if user.is_vendor:
        filters.append(Filter("partner", "Partner", lookup="partner__public_id", choices=_partner_choices(user)))
    listing = build_listing(
        request, selectors.proposal_list(user=user).prefetch_related("lines"),
        search=("title", "opportunity__name", "opportunity__account__name"),
        filters=filters,
        sorts={"created": ["created_at"], "title": ["title"], "status": ["status", "-created_at"], "valid_until": ["valid_until"]},
        default_sort="-created",
    )
    context = {"listing": listing, "can_create": access.can_create_proposal(user)}
    return render_list(request, "joint/proposal_list.html", "joint/_proposal_results.html", context)


@login_required
def proposal_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(access.can_create_proposal(user), NO_PROPOSALS)
    opportunity = None
    if request.GET.get("opportunity"):
        opportunity = get_for_user(Opportunity, user, request.GET["opportunity"], select=("account",))
    form = ProposalCreateForm(request.POST or None, user=user, opportunity=opportunity)
    existing = None
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_create(actor=user, **form.service_values())
        except services.ProposalExists as exc:
            existing = exc.existing
            form.add_error(None, format_html(
                'This deal already has a joint proposal with {}: <a href="{}">{}</a>. There is one proposal per deal; open it instead.',
                existing.partner.name, _detail_url("proposal_detail", existing), existing.title,
            ))
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Joint proposal “{proposal.title}” created with {proposal.lines.count()} product line(s) from the deal.")
            return redirect("proposal_detail", public_id=proposal.public_id)
    elif opportunity is not None and request.method == "GET":
        existing = selectors.proposals_of_opportunity(opportunity=opportunity, user=user).first()
    return render(request, "joint/proposal_form.html", {"form": form, "proposal": None, "opportunity": opportunity, "existing": existing})


def _proposal_context(request: HttpRequest, proposal: JointProposal, **forms) -> dict:
    user = request.user
    lines = selectors.proposal_lines(proposal)
    totals = proposal.totals(lines)
    threshold = services.discount_threshold()
    editable = proposal.is_editable
    vendor_ok = editable and access.can_edit_vendor_lines(user, proposal)
    partner_ok = editable and access.can_edit_partner_lines(user, proposal)
    for line in lines:
        line.editable = vendor_ok if line.kind == LineKind.VENDOR_PRODUCT else partner_ok
        line.priced_line = line.priced(proposal.currency)
        line.non_standard = line.kind == LineKind.VENDOR_PRODUCT and line.discount_percent > threshold
    can_edit = access.can_edit_proposal(user, proposal)
    return {
        "proposal": proposal,
        "opportunity": proposal.opportunity,
        "vendor_lines": [ln for ln in lines if ln.kind == LineKind.VENDOR_PRODUCT],
        "partner_lines": [ln for ln in lines if ln.kind == LineKind.PARTNER_SERVICE],
        "totals": totals,
        "threshold": threshold,
        "non_standard": rules.is_non_standard([ln.priced_line for ln in lines], threshold),
        "can_edit": can_edit and editable,
        "can_submit": can_edit and proposal.status in (ProposalStatus.DRAFT, ProposalStatus.CHANGES_REQUESTED),
        "can_decide": proposal.status == ProposalStatus.SUBMITTED and access.can_decide_pricing(user, proposal),
        "mark_options": [s for s, sources in MARK_FROM.items() if proposal.status in sources] if can_edit else [],
        "vendor_form": forms.get("vendor_form") or (VendorLineForm(currency=proposal.currency) if vendor_ok else None),
        "partner_form": forms.get("partner_form") or (PartnerLineForm(currency=proposal.currency) if partner_ok else None),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "history": audit.history(proposal)[:40],
    }


@login_required
def proposal_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    proposal = get_for_user(JointProposal, request.user, public_id, select=("opportunity__account", "partner__owner", "decided_by", "submitted_by"))
    return render(request, "joint/proposal_detail.html", _proposal_context(request, proposal))


@login_required
def proposal_print(request: HttpRequest, public_id: str) -> HttpResponse:
    proposal = get_for_user(JointProposal, request.user, public_id, select=("opportunity__account", "partner", "decided_by"))
    lines = selectors.proposal_lines(proposal)
    context = {
        "proposal": proposal,
        "vendor_lines": [ln for ln in lines if ln.kind == LineKind.VENDOR_PRODUCT],
        "partner_lines": [ln for ln in lines if ln.kind == LineKind.PARTNER_SERVICE],
        "totals": proposal.totals(lines),
    }
    for line in lines:
        line.priced_line = line.priced(proposal.currency)
    return render(request, "joint/proposal_print.html", context)


def _writable_proposal(request: HttpRequest, public_id: str, check=access.can_edit_proposal) -> JointProposal:
    return get_for_user(
        JointProposal, request.user, public_id, write_check=check,
        select=("opportunity__account", "partner__owner", "decided_by", "submitted_by"),
    )


@login_required
def proposal_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    proposal = _writable_proposal(request, public_id)
    form = ProposalForm(request.POST or None, instance=proposal)
    if request.method == "POST" and form.is_valid():
        was_approved = proposal.status == ProposalStatus.APPROVED
        try:
            changes = services.proposal_update(proposal=proposal, actor=request.user, **form.values())
        except ValidationError as exc:
            proposal.refresh_from_db()
            show_service_errors(form, exc)
        else:
            if changes and was_approved:
                messages.warning(request, "Saved. The pricing approval no longer applies: submit the proposal again.")
            else:
                messages.success(request, "Proposal saved." if changes else "Nothing changed.")
            return redirect("proposal_detail", public_id=proposal.public_id)
    return render(request, "joint/proposal_form.html", {"form": form, "proposal": proposal, "opportunity": proposal.opportunity})


def _after_line_change(request: HttpRequest, proposal: JointProposal, was_approved: bool, text: str) -> HttpResponse:
    proposal.refresh_from_db()
    if was_approved and proposal.status == ProposalStatus.DRAFT:
        messages.warning(request, f"{text} The pricing approval no longer applies: submit the proposal again.")
    else:
        messages.success(request, text)
    return redirect(_detail_url("proposal_detail", proposal, "#lines"))


@login_required
@require_POST
def proposal_line_add(request: HttpRequest, public_id: str) -> HttpResponse:
    proposal = _writable_proposal(request, public_id, check=access.can_touch_lines)
    user = request.user
    kind = request.POST.get("kind")
    if kind == LineKind.VENDOR_PRODUCT:
        form = VendorLineForm(request.POST, currency=proposal.currency)
        slot = "vendor_form"
    elif kind == LineKind.PARTNER_SERVICE:
        form = PartnerLineForm(request.POST, currency=proposal.currency)
        slot = "partner_form"
    else:
        messages.error(request, "Choose whether the line is a vendor product or a partner service.")
        return redirect(_detail_url("proposal_detail", proposal, "#lines"))
    require(access.can_edit_line_kind(user, proposal, kind),
            services.VENDOR_LINES_ONLY if kind == LineKind.VENDOR_PRODUCT else services.PARTNER_LINES_ONLY)
    if form.is_valid():
        data = form.cleaned_data
        was_approved = proposal.status == ProposalStatus.APPROVED
        try:
            if kind == LineKind.VENDOR_PRODUCT:
                line = services.proposal_line_add(
                    proposal=proposal, actor=user, kind=kind, product=data["product"], quantity=data["quantity"],
                    discount_percent=data["discount_percent"],
                )
            else:
                line = services.proposal_line_add(
                    proposal=proposal, actor=user, kind=kind, description=data["description"], quantity=data["quantity"],
                    unit_price_minor=data["unit_price"],
                )
        except ValidationError as exc:
            show_service_errors(form, exc, LINE_FIELDS)
        else:
            return _after_line_change(request, proposal, was_approved, f"Added {line}.")
    return render(request, "joint/proposal_detail.html", _proposal_context(request, proposal, **{slot: form}))


def _line_of(proposal: JointProposal, line_id: str):
    line = proposal.lines.select_related("product").filter(public_id=line_id).first()
    if line is None:
        raise Http404("No such line on this proposal")
    line.proposal = proposal
    return line


@login_required
@require_POST
def proposal_line_edit(request: HttpRequest, public_id: str, line_id: str) -> HttpResponse:
    proposal = _writable_proposal(request, public_id, check=access.can_touch_lines)
    line = _line_of(proposal, line_id)
    user = request.user
    require(access.can_edit_line_kind(user, proposal, line.kind),
            services.VENDOR_LINES_ONLY if line.kind == LineKind.VENDOR_PRODUCT else services.PARTNER_LINES_ONLY)
    if line.kind == LineKind.VENDOR_PRODUCT:
        form = VendorLineEditForm(request.POST, prefix=f"edit-{line.public_id}")
        values = lambda d: {"quantity": d["quantity"], "discount_percent": d["discount_percent"]}  # noqa: E731
    else:
        form = PartnerLineEditForm(request.POST, currency=proposal.currency, prefix=f"edit-{line.public_id}")
        values = lambda d: form.service_values()  # noqa: E731
    if not form.is_valid():
        problems = "; ".join(f"{form.fields[f].label or f}: {' '.join(e)}" if f != "__all__" else " ".join(e) for f, e in form.errors.items())
        messages.error(request, f"The line was not changed. {problems}")
        return redirect(_detail_url("proposal_detail", proposal, "#lines"))
    was_approved = proposal.status == ProposalStatus.APPROVED
    try:
        changed = services.proposal_line_update(line=line, actor=user, **values(form.cleaned_data))
    except ValidationError as exc:
        messages.error(request, f"The line was not changed. {error_text(exc)}")
        return redirect(_detail_url("proposal_detail", proposal, "#lines"))
    if not changed:
        messages.success(request, "Nothing changed.")
        return redirect(_detail_url("proposal_detail", proposal, "#lines"))
    return _after_line_change(request, proposal, was_approved, f"Changed the line to {line}.")


@login_required
@require_POST
def proposal_line_remove(request: HttpRequest, public_id: str, line_id: str) -> HttpResponse:
    proposal = _writable_proposal(request, public_id, check=access.can_touch_lines)
    line = _line_of(proposal, line_id)
    was_approved = proposal.status == ProposalStatus.APPROVED
    try:
        services.proposal_line_remove(line=line, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(_detail_url("proposal_detail", proposal, "#lines"))
    return _after_line_change(request, proposal, was_approved, f"Removed {line.label}.")


@login_required
@require_POST
def proposal_submit(request: HttpRequest, public_id: str) -> HttpResponse:
    proposal = _writable_proposal(request, public_id)
    try:
        services.proposal_submit(proposal=proposal, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        text = "Submitted for pricing approval."
        if rules.is_non_standard(proposal.priced_lines(), services.discount_threshold()):
            text += " The discount is non-standard, so the deal desk was asked to review it."
        messages.success(request, text)
    return redirect("proposal_detail", public_id=proposal.public_id)


@login_required
@require_POST
def proposal_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    proposal = _writable_proposal(request, public_id, check=access.can_decide_pricing)
    form = DecisionForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.proposal_decide(proposal=proposal, actor=request.user, approve=approve, note=form.cleaned_data["note"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, "Pricing approved." if approve else "Changes requested; the submitter has been told.")
            return redirect("proposal_detail", public_id=proposal.public_id)
    if form.errors and not form.non_field_errors() and "decision" in form.errors:
        messages.error(request, "Choose to approve the pricing or to request changes.")
        return redirect("proposal_detail", public_id=proposal.public_id)
    return render(request, "joint/proposal_detail.html", _proposal_context(request, proposal, decision_form=form))


@login_required
@require_POST
def proposal_mark(request: HttpRequest, public_id: str) -> HttpResponse:
    proposal = _writable_proposal(request, public_id)
    form = MarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Mark the proposal sent, accepted or declined.")
        return redirect("proposal_detail", public_id=proposal.public_id)
    try:
        services.proposal_mark(proposal=proposal, actor=request.user, status=form.cleaned_data["status"])
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"Marked {proposal.get_status_display().lower()}.")
    return redirect("proposal_detail", public_id=proposal.public_id)


# --- account plans ---------------------------------------------------------------------------


def _owner_choices(user):
    def choices():
        plans = selectors.plan_list(user=user)
        people = {}
        for plan in plans.exclude(vendor_owner=None).values("vendor_owner__public_id", "vendor_owner__full_name", "vendor_owner__email").distinct():
            people[plan["vendor_owner__public_id"]] = plan["vendor_owner__full_name"] or plan["vendor_owner__email"]
        for plan in plans.exclude(partner_owner=None).values("partner_owner__public_id", "partner_owner__full_name", "partner_owner__email").distinct():
            people[plan["partner_owner__public_id"]] = plan["partner_owner__full_name"] or plan["partner_owner__email"]
        return sorted(people.items(), key=lambda kv: kv[1].lower())

    return choices


def _owned_by(qs, value):
    from django.db.models import Q

    return qs.filter(Q(vendor_owner__public_id=value) | Q(partner_owner__public_id=value))


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    filters = [Filter("status", "Status", lookup="status", choices=PlanStatus.choices)]
    if user.is_vendor:
        filters.append(Filter("partner", "Partner", lookup="partner__public_id", choices=_partner_choices(user)))
    filters.append(Filter("owner", "Owner", choices=_owner_choices(user), apply=_owned_by))
    listing = build_listing(
        request, selectors.plan_list(user=user),
        search=("title", "account__name"),
        filters=filters,
        sorts={"created": ["created_at"], "title": ["title"], "account": ["account__name", "title"], "period_end": ["period_end"]},
        default_sort="-created",
    )
    context = {"listing": listing, "can_create": access.can_create_plan(user)}
    return render_list(request, "joint/plan_list.html", "joint/_plan_results.html", context)


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(access.can_create_plan(user), NO_PLANS)
    account = None
    if request.GET.get("account"):
        account = get_for_user(Account, user, request.GET["account"])
    form = PlanForm(request.POST or None, user=user, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(actor=user, **form.service_values())
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Joint account plan “{plan.title}” created.")
            return redirect("joint_plan_detail", public_id=plan.public_id)
    return render(request, "joint/plan_form.html", {"form": form, "plan": None, "account": account})


def _plan_context(request: HttpRequest, plan: JointAccountPlan, **forms) -> dict:
    user = request.user
    can_edit = access.can_edit_plan(user, plan)
    steps = list(plan.steps.select_related("owner", "done_by"))
    return {
        "plan": plan,
        "can_edit": can_edit,
        "steps": steps,
        "open_steps": sum(1 for s in steps if not s.done),
        "opportunities": selectors.plan_opportunities(plan=plan, user=user),
        "products": plan.target_products.order_by("name"),
        "partner_sees_it": selectors.partner_sees_account(plan) if user.is_vendor else True,
        "step_form": forms.get("step_form") or (StepForm(plan=plan) if can_edit else None),
        "link_form": forms.get("link_form") or (LinkOpportunityForm(plan=plan, user=user) if can_edit else None),
        # The log names every linked deal, including direct ones the partner is not on: vendor eyes only.
        "history": audit.history(plan)[:40] if user.is_vendor else None,
    }


_PLAN_SELECT = ("account", "partner", "vendor_owner", "partner_owner")


@login_required
def plan_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    plan = get_for_user(JointAccountPlan, request.user, public_id, select=_PLAN_SELECT)
    return render(request, "joint/plan_detail.html", _plan_context(request, plan))


def _writable_plan(request: HttpRequest, public_id: str) -> JointAccountPlan:
    return get_for_user(JointAccountPlan, request.user, public_id, write_check=access.can_edit_plan, select=_PLAN_SELECT)


@login_required
def plan_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    plan = _writable_plan(request, public_id)
    form = PlanForm(request.POST or None, user=request.user, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.plan_update(plan=plan, actor=request.user, **form.service_values())
        except ValidationError as exc:
            plan.refresh_from_db()
            show_service_errors(form, exc)
        else:
            messages.success(request, "Plan saved." if changes else "Nothing changed.")
            return redirect("joint_plan_detail", public_id=plan.public_id)
    return render(request, "joint/plan_form.html", {"form": form, "plan": plan, "account": plan.account})


@login_required
@require_POST
def plan_step_add(request: HttpRequest, public_id: str) -> HttpResponse:
    plan = _writable_plan(request, public_id)
    form = StepForm(request.POST, plan=plan)
    if form.is_valid():
        try:
            step = services.plan_step_add(plan=plan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Next step added{f' for {step.owner}' if step.owner else ''}.")
            return redirect(_detail_url("joint_plan_detail", plan, "#steps"))
    return render(request, "joint/plan_detail.html", _plan_context(request, plan, step_form=form))


@login_required
@require_POST
def plan_step_toggle(request: HttpRequest, public_id: str, step_id: str) -> HttpResponse:
    plan = _writable_plan(request, public_id)
    step = plan.steps.filter(public_id=step_id).first()
    if step is None:
        raise Http404("No such step on this plan")
    step.plan = plan
    services.plan_step_update(step=step, actor=request.user, done=not step.done)
    messages.success(request, f"“{step.text}” {'done' if step.done else 'reopened'}.")
    return redirect(_detail_url("joint_plan_detail", plan, "#steps"))


@login_required
@require_POST
def plan_link(request: HttpRequest, public_id: str) -> HttpResponse:
    plan = _writable_plan(request, public_id)
    form = LinkOpportunityForm(request.POST, plan=plan, user=request.user)
    if form.is_valid():
        try:
            services.plan_link_opportunity(plan=plan, opportunity=form.cleaned_data["opportunity"], actor=request.user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Linked {form.cleaned_data['opportunity'].name}.")
            return redirect(_detail_url("joint_plan_detail", plan, "#opportunities"))
    return render(request, "joint/plan_detail.html", _plan_context(request, plan, link_form=form))


@login_required
@require_POST
def plan_unlink(request: HttpRequest, public_id: str, opportunity_id: str) -> HttpResponse:
    plan = _writable_plan(request, public_id)
    opportunity = selectors.plan_opportunities(plan=plan, user=request.user).filter(public_id=opportunity_id).first()
    if opportunity is None:
        raise Http404("No such opportunity on this plan")
    services.plan_unlink_opportunity(plan=plan, opportunity=opportunity, actor=request.user)
    messages.success(request, f"Unlinked {opportunity.name}.")
    return redirect(_detail_url("joint_plan_detail", plan, "#opportunities"))

