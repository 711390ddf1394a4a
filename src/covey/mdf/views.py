"""MDF pages: budgets and allocations (vendor staff), fund requests with their decisions and claims
(both sides, each partner its own), proof files behind the access check, and ROI with a chart."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from covey.core.access import get_for_user, require, require_vendor
from covey.core.audit import history
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.mdf import selectors, services
from covey.mdf.forms import (
    AdjustForm,
    BudgetForm,
    ClaimDecideForm,
    ClaimForm,
    DecideForm,
    RequestForm,
    SecondApprovalForm,
)
from covey.mdf.models import (
    ActivityType,
    Allocation,
    Budget,
    Claim,
    ClaimFile,
    ClaimStatus,
    FundRequest,
    RequestStatus,
)
from covey.mdf.roi_chart import roi_chart
from covey.programs.models import Program

VENDOR_ONLY = "MDF budgets are the vendor's planning."


def _vendor(request: HttpRequest) -> None:
    require_vendor(request.user, VENDOR_ONLY)


# --- budgets and allocations ------------------------------------------------------------------


@login_required
def budget_list(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    qs = Budget.objects.visible_to(request.user).select_related("program").annotate(n_allocations=Count("allocations"))
    filters = [Filter("program", "Program", lookup="program__public_id",
                      choices=lambda: [(p.public_id, p.name) for p in Program.objects.order_by("name")])]
    listing = build_listing(request, qs, search=("program__name", "period_key"), filters=filters,
                            sorts={"period": ["period_key"], "program": ["program__name"]}, default_sort="-period")
    can_create = services.can_manage_budgets(request.user)
    form = BudgetForm(programs=Program.objects.order_by("name")) if can_create else None
    return render_list(request, "mdf/budget_list.html", "mdf/_budget_results.html",
                       {"listing": listing, "form": form, "can_create": can_create})


@login_required
@require_POST
def budget_create(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    require(services.can_manage_budgets(request.user), services.NO_ROLE_BUDGET)
    form = BudgetForm(request.POST, programs=Program.objects.order_by("name"))
    if form.is_valid():
        d = form.cleaned_data
        try:
            budget = services.budget_create(program=d["program_obj"], period_key=d["period_key"],
                                            amount_minor=d["amount_minor"], second_approval_above_minor=d["second_minor"],
                                            claim_days=d["claim_days"], actor=request.user)
        except ValidationError as exc:
            show_service_errors(form, exc, {"amount": "amount", "second_approval_above": "second_approval_above"})
        else:
            messages.success(request, f"Budget {budget} created. Generate the allocations from the partners' tiers next.")
            return redirect("mdf_budget_detail", public_id=budget.public_id)
    listing = build_listing(request, Budget.objects.select_related("program").annotate(n_allocations=Count("allocations")),
                            search=("program__name",), filters=[], sorts={"period": ["period_key"]}, default_sort="-period")
    return render(request, "mdf/budget_list.html", {"listing": listing, "form": form, "can_create": True})


def _budget(request: HttpRequest, public_id: str) -> Budget:
    _vendor(request)
    return get_for_user(Budget, request.user, public_id[:40], select=("program",))


@login_required
def budget_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    budget = _budget(request, public_id)
    allocations = list(budget.allocations.select_related("partner").order_by("partner__name"))
    for a in allocations:
        a.can_adjust = services.can_manage_partner_mdf(request.user, a.partner)
    totals = budget.allocations.aggregate(amount=Sum("amount_minor"))
    requests = (FundRequest.objects.filter(allocation__budget=budget).select_related("partner")
                .order_by("-created_at")[:20])
    return render(request, "mdf/budget_detail.html", {
        "budget": budget, "allocations": allocations, "allocated_minor": totals["amount"] or 0,
        "requests": requests, "can_allocate": services.can_allocate(request.user), "history": history(budget)[:20],
    })


@login_required
@require_POST
def allocations_generate(request: HttpRequest, public_id: str) -> HttpResponse:
    budget = _budget(request, public_id)
    require(services.can_allocate(request.user), services.NO_ROLE_ALLOCATE)
    made = services.allocations_generate(budget=budget, actor=request.user)
    messages.success(request, f"{made} allocation{'s' if made != 1 else ''} made from the partners' tiers."
                     if made else "Every enrolled partner already has an allocation.")
    return redirect("mdf_budget_detail", public_id=budget.public_id)


@login_required
@require_POST
def allocation_adjust(request: HttpRequest, public_id: str) -> HttpResponse:
    _vendor(request)
    allocation = get_for_user(Allocation, request.user, public_id[:40], select=("budget", "partner"),
                              write_check=lambda u, a: services.can_manage_partner_mdf(u, a.partner))
    form = AdjustForm(request.POST, currency=allocation.budget.currency)
    if form.is_valid() and form.cleaned_data.get("amount_minor") is not None:
        try:
            services.allocation_adjust(allocation=allocation, amount_minor=form.cleaned_data["amount_minor"],
                                       reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            messages.error(request, f"{allocation.partner.name}: {error_text(exc)}")
        else:
            messages.success(request, f"{allocation.partner.name}'s allocation is now "
                             f"{services._money(allocation.amount_minor, allocation.budget.currency)}.")
    else:
        problems = " ".join(m for errors in form.errors.values() for m in errors) or "Give an amount and a reason."
        messages.error(request, f"{allocation.partner.name}: {problems}")
    return redirect("mdf_budget_detail", public_id=allocation.budget.public_id)


# --- requests ----------------------------------------------------------------------------------


def _own_allocations(user):
    return (Allocation.objects.visible_to(user).select_related("budget__program")
            .order_by("-budget__period_key", "budget__program__name"))


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    qs = FundRequest.objects.visible_to(request.user).select_related("partner", "allocation__budget__program")
    filters = [
        Filter("status", "Status", lookup="status", choices=RequestStatus.choices),
        Filter("activity", "Activity", lookup="activity_type", choices=ActivityType.choices),
    ]
    if request.user.is_vendor:
        filters.append(Filter("program", "Program", lookup="allocation__budget__program__public_id",
                              choices=lambda: [(p.public_id, p.name) for p in Program.objects.order_by("name")]))
    listing = build_listing(request, qs, search=("title", "campaign_code", "partner__name"), filters=filters,
                            sorts={"created": ["created_at"], "starts": ["starts_on"], "partner": ["partner__name"]},
                            default_sort="-created")
    return render_list(request, "mdf/request_list.html", "mdf/_request_results.html", {
        "listing": listing, "can_request": services.can_request(request.user),
        "allocations": [] if request.user.is_vendor else list(_own_allocations(request.user)[:8]),
    })


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    require(services.can_request(request.user), services.NOT_PARTNER_WRITER)
    allocations = list(_own_allocations(request.user))
    form = RequestForm(request.POST or None, allocations=allocations)
    if request.method == "POST" and form.is_valid() and "allocation_obj" in form.cleaned_data \
            and form.cleaned_data.get("planned_cost_minor") is not None:
        d = form.cleaned_data
        try:
            fund_request = services.request_create(
                allocation=d["allocation_obj"], actor=request.user, activity_type=d["activity_type"], title=d["title"],
                description=d["description"], starts_on=d["starts_on"], ends_on=d["ends_on"],
                planned_cost_minor=d["planned_cost_minor"], co_investment_percent=d["co_investment_percent"],
                expected_leads=d["expected_leads"], expected_pipeline_minor=d["expected_pipeline_minor"],
                campaign_code=d["campaign_code"])
        except ValidationError as exc:
            show_service_errors(form, exc, {"expected_pipeline": "expected_pipeline"})
        else:
            messages.success(request, f"Request sent: {services._money(fund_request.requested_minor, fund_request.currency)} "
                             "towards it. Your partner manager decides.")
            return redirect("mdf_request_detail", public_id=fund_request.public_id)
    return render(request, "mdf/request_form.html", {"form": form, "allocations": allocations})


def _detail(request: HttpRequest, fund_request: FundRequest, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    currency = fund_request.currency
    claims = list(fund_request.claims.prefetch_related("files").select_related("ledger_entry", "decided_by"))
    open_claim = next((c for c in claims if c.status == ClaimStatus.SUBMITTED), None)
    can_decide = fund_request.status == RequestStatus.SUBMITTED and services.can_manage_partner_mdf(user, fund_request.partner)
    can_second = (fund_request.status == RequestStatus.SECOND_APPROVAL and services.can_second_approve(user)
                  and fund_request.decided_by_id != user.id)
    can_claim = fund_request.status == RequestStatus.APPROVED and services.can_request(user, fund_request.partner_id)
    can_decide_claim = open_claim is not None and services.can_decide_claims(user)
    roi = next((r for r in selectors.activity_rois(user=user) if r.request.pk == fund_request.pk), None)
    vendor_percent = 100 - fund_request.co_investment_percent
    return render(request, "mdf/request_detail.html", {
        "r": fund_request, "claims": claims, "open_claim": open_claim, "roi": roi, "vendor_percent": vendor_percent,
        "decide_form": forms.get("decide_form") or (DecideForm(currency=currency) if can_decide else None),
        "second_form": forms.get("second_form") or (SecondApprovalForm() if can_second else None),
        "claim_form": forms.get("claim_form") or (ClaimForm(currency=currency) if can_claim else None),
        "claim_decide_form": forms.get("claim_decide_form") or (ClaimDecideForm() if can_decide_claim else None),
        "history": history(fund_request)[:30],
    }, status=status)


def _request(request: HttpRequest, public_id: str, *, write_check=None) -> FundRequest:
    return get_for_user(FundRequest, request.user, public_id[:40],
                        select=("partner", "allocation__budget__program", "decided_by", "second_approved_by", "created_by"),
                        write_check=write_check)


@login_required
def request_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _detail(request, _request(request, public_id))


@login_required
@require_POST
def request_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    fund_request = _request(request, public_id, write_check=lambda u, r: services.can_manage_partner_mdf(u, r.partner))
    form = DecideForm(request.POST, currency=fund_request.currency)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.request_decide(request=fund_request, actor=request.user, approve=d["decision"] == "approve",
                                    approved_minor=d["approved_minor"], reason=d["reason"])
        except ValidationError as exc:
            show_service_errors(form, exc, {"approved_amount": "approved_amount"})
        else:
            messages.success(request, f"“{fund_request.title}”: {fund_request.get_status_display().lower()}.")
            return redirect("mdf_request_detail", public_id=fund_request.public_id)
    return _detail(request, fund_request, decide_form=form)


@login_required
@require_POST
def request_second_approve(request: HttpRequest, public_id: str) -> HttpResponse:
    fund_request = _request(request, public_id, write_check=lambda u, r: services.can_second_approve(u))
    form = SecondApprovalForm(request.POST)
    if form.is_valid():
        try:
            services.request_second_approve(request=fund_request, actor=request.user,
                                            approve=form.cleaned_data["decision"] == "approve",
                                            reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"“{fund_request.title}”: {fund_request.get_status_display().lower()}.")
            return redirect("mdf_request_detail", public_id=fund_request.public_id)
    return _detail(request, fund_request, second_form=form)


@login_required
@require_POST
def claim_create(request: HttpRequest, public_id: str) -> HttpResponse:
    fund_request = _request(request, public_id, write_check=lambda u, r: services.can_request(u, r.partner_id))
    form = ClaimForm(request.POST, request.FILES, currency=fund_request.currency)
    if form.is_valid() and form.cleaned_data.get("actual_cost_minor") is not None:
        d = form.cleaned_data
        try:
            claim = services.claim_create(request=fund_request, actor=request.user,
                                          actual_cost_minor=d["actual_cost_minor"], claimed_minor=d["claimed_minor"],
                                          files=form.proof(request.FILES), leads_file=d["leads_file"],
                                          leads_count=d["leads_count"], note=d["note"])
        except ValidationError as exc:
            show_service_errors(form, exc, {"files": "invoices", "claimed_amount": "claimed_amount"})
        else:
            messages.success(request, f"Claim sent: {services._money(claim.reimbursable_minor, fund_request.currency)} "
                             "to be reimbursed once finance approves.")
            return redirect("mdf_request_detail", public_id=fund_request.public_id)
    return _detail(request, fund_request, claim_form=form)


@login_required
@require_POST
def claim_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    claim = get_for_user(Claim, request.user, public_id[:40], select=("request",),
                         write_check=lambda u, c: services.can_decide_claims(u))
    fund_request = _request(request, claim.request.public_id)
    form = ClaimDecideForm(request.POST)
    if form.is_valid():
        try:
            services.claim_decide(claim=claim, actor=request.user, approve=form.cleaned_data["decision"] == "approve",
                                  note=form.cleaned_data["note"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Claim {claim.get_status_display().lower()}"
                             + (f": {services._money(claim.reimbursable_minor, fund_request.currency)} is on "
                                f"{fund_request.partner.name}'s statement." if claim.status == ClaimStatus.APPROVED else "."))
            return redirect("mdf_request_detail", public_id=fund_request.public_id)
    return _detail(request, fund_request, claim_decide_form=form)


@login_required
def claim_file(request: HttpRequest, public_id: str) -> HttpResponse:
    proof = get_for_user(ClaimFile, request.user, public_id[:40])
    return FileResponse(proof.file.open("rb"), as_attachment=True, filename=proof.name,
                        content_type=proof.content_type or "application/octet-stream")


# --- ROI ---------------------------------------------------------------------------------------


@login_required
def roi(request: HttpRequest) -> HttpResponse:
    programs = list(Program.objects.visible_to(request.user).order_by("name"))
    chosen = next((p for p in programs if p.public_id == request.GET.get("program", "")[:40]), None)
    rows = selectors.activity_rois(user=request.user, program=chosen)
    by_partner = selectors.summarise(rows, by="partner")
    by_program = selectors.summarise(rows, by="program")
    return render(request, "mdf/roi.html", {
        "rows": rows, "by_partner": by_partner, "by_program": by_program, "programs": programs, "chosen": chosen,
        "partner_chart": roi_chart(by_partner), "program_chart": roi_chart(by_program),
        "pending": FundRequest.objects.visible_to(request.user).filter(Q(status=RequestStatus.SUBMITTED)).count(),
    })
