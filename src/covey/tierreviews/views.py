"""Tier review pages: the reviews (vendor staff), one review's proposals with their evidence and the
decisions, and each partner's progress to its next tier (the partner's own portal page too)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.core.access import can_manage_lifecycle, get_for_user, require, require_vendor
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.core.models import StaffRole
from covey.partners.models import Partner
from covey.programs.models import Program
from covey.tierreviews import services
from covey.tierreviews.forms import DecideForm, RunForm, SatisfactionForm
from covey.tierreviews.models import (
    Change,
    ProposalStatus,
    SatisfactionScore,
    TierProposal,
    TierReview,
)

NO_RUN = "Only admins and partner managers take tier reviews."
RUNNERS = (StaffRole.ADMIN, StaffRole.PARTNER_MANAGER)


def _vendor(request: HttpRequest) -> None:
    require_vendor(request.user)


def _review(request: HttpRequest, public_id: str) -> TierReview:
    _vendor(request)
    review = TierReview.objects.select_related("program", "version").filter(public_id=public_id[:40]).first()
    if review is None:
        raise Http404("No tier review with that id")
    return review


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    qs = TierReview.objects.select_related("program").annotate(
        n_pending=Count("proposals", filter=Q(proposals__status=ProposalStatus.PENDING)),
        n_promote=Count("proposals", filter=Q(proposals__change=Change.PROMOTE)),
        n_demote=Count("proposals", filter=Q(proposals__change=Change.DEMOTE)),
        n_partners=Count("proposals"))
    filters = [Filter("program", "Program", lookup="program__public_id",
                      choices=lambda: [(p.public_id, p.name) for p in Program.objects.order_by("name")])]
    listing = build_listing(request, qs, search=("program__name", "period_key"), filters=filters,
                            sorts={"period": ["as_of"], "program": ["program__name"]}, default_sort="-period")
    can_run = request.user.staff_role in RUNNERS
    form = RunForm(programs=Program.objects.filter(enrolments__isnull=False).distinct().order_by("name")) if can_run else None
    return render_list(request, "tierreviews/review_list.html", "tierreviews/_review_results.html",
                       {"listing": listing, "form": form, "can_run": can_run,
                        "quarter": services.reviewed_quarter(timezone.localdate())})


@login_required
@require_POST
def review_run(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    require(request.user.staff_role in RUNNERS, NO_RUN)
    programs = Program.objects.filter(enrolments__isnull=False).distinct().order_by("name")
    form = RunForm(request.POST, programs=programs)
    if form.is_valid():
        program = Program.objects.get(public_id=form.cleaned_data["program"])
        try:
            review = services.review_run(program=program, actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            pending = review.proposals.filter(status=ProposalStatus.PENDING).count()
            messages.success(request, f"{review} is ready: {pending} change{'s' if pending != 1 else ''} to decide.")
            return redirect("tier_review_detail", public_id=review.public_id)
    else:
        messages.error(request, "Choose a program with enrolled partners.")
    return redirect("tier_review_list")


def _decorate(proposal: TierProposal, names: dict[str, str]) -> TierProposal:
    """Evidence rows for the template: the facts, and the checks of the current and proposed tiers."""
    evidence = proposal.evidence or {}
    tiers = {t["code"]: t for t in evidence.get("tiers", [])}
    proposal.facts = evidence.get("facts", {})
    proposal.currency = evidence.get("currency", "")
    proposal.unconverted = evidence.get("unconverted", [])
    wanted = [proposal.proposed_tier] if proposal.change != Change.DEMOTE else [proposal.current_tier]
    proposal.shown_checks = [(names.get(code, code), tiers[code]) for code in wanted if code in tiers]
    proposal.current_name = names.get(proposal.current_tier, proposal.current_tier)
    proposal.proposed_name = names.get(proposal.proposed_tier, proposal.proposed_tier)
    proposal.decided_name = names.get(proposal.decided_tier, proposal.decided_tier)
    return proposal


@login_required
def review_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    review = _review(request, public_id)
    qs = review.proposals.select_related("partner", "decided_by")
    filters = [
        Filter("change", "Change", lookup="change", choices=Change.choices),
        Filter("status", "Status", lookup="status", choices=ProposalStatus.choices),
    ]
    listing = build_listing(request, qs, search=("partner__name",), filters=filters,
                            sorts={"partner": ["partner__name"], "change": ["change", "partner__name"]},
                            default_sort="change")
    tiers = list(review.version.tiers.order_by("rank"))
    names = {t.code: t.name for t in tiers}
    listing.page.object_list = [_decorate(p, names) for p in listing.objects]
    for p in listing.objects:
        p.can_decide = p.status == ProposalStatus.PENDING and can_manage_lifecycle(request.user, p.partner)
    return render_list(request, "tierreviews/review_detail.html", "tierreviews/_proposal_results.html",
                       {"review": review, "listing": listing, "tiers": tiers, "form": DecideForm(tiers=tiers)})


@login_required
@require_POST
def proposal_decide(request: HttpRequest, public_id: str) -> HttpResponse:
    _vendor(request)
    proposal = TierProposal.objects.select_related("review", "partner").filter(public_id=public_id[:40]).first()
    if proposal is None:
        raise Http404("No tier proposal with that id")
    require(can_manage_lifecycle(request.user, proposal.partner), services.NO_DECIDE)
    tiers = list(proposal.review.version.tiers.order_by("rank"))
    form = DecideForm(request.POST, tiers=tiers)
    if form.is_valid():
        try:
            decided = services.proposal_decide(proposal=proposal, actor=request.user,
                                               tier_code=form.cleaned_data["tier_code"] or None,
                                               reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, f"{proposal.partner.name}: {error_text(exc)}")
        else:
            name = dict((t.code, t.name) for t in tiers).get(decided.decided_tier, decided.decided_tier)
            messages.success(request, f"{proposal.partner.name} will be {name} from {decided.applies_from:%d %b %Y}."
                             if decided.decided_tier != decided.current_tier else f"{proposal.partner.name} stays {name}.")
    else:
        messages.error(request, f"{proposal.partner.name}: " + " ".join(m for errs in form.errors.values() for m in errs))
    return redirect("tier_review_detail", public_id=proposal.review.public_id)


def _progress_context(request: HttpRequest, partner: Partner, form: SatisfactionForm | None = None) -> dict:
    can_record = can_manage_lifecycle(request.user, partner)
    return {
        "partner": partner, "programs": services.progress(partner),
        "scores": SatisfactionScore.objects.filter(partner=partner)[:8],
        "can_record": can_record, "form": form or (SatisfactionForm() if can_record else None),
        "decisions": TierProposal.objects.filter(partner=partner).exclude(status=ProposalStatus.NONE_NEEDED)
                     .select_related("review__program").order_by("-review__as_of")[:8],
    }


@login_required
def tier_progress(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = get_for_user(Partner, request.user, public_id, select=("owner",))
    return render(request, "tierreviews/progress.html", _progress_context(request, partner))


@login_required
def my_tier(request: HttpRequest) -> HttpResponse:
    """The partner portal's "My tier" link: the signed-in partner user's own progress page."""
    membership = request.user.membership
    if request.user.is_vendor or membership is None:
        raise Http404("This page is for partner users; vendor staff open a partner's tier page.")
    return redirect("tier_progress", public_id=membership.partner.public_id)


@login_required
@require_POST
def satisfaction_record(request: HttpRequest, public_id: str) -> HttpResponse:
    partner = get_for_user(Partner, request.user, public_id, select=("owner",),
                           write_check=lambda u, p: can_manage_lifecycle(u, p))
    form = SatisfactionForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.satisfaction_record(partner=partner, score=d["score"], measured_on=d["measured_on"],
                                         source_text=d["source"], actor=request.user)
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Satisfaction score recorded for {partner.name}.")
            return redirect("tier_progress", public_id=partner.public_id)
    return render(request, "tierreviews/progress.html", _progress_context(request, partner, form), status=200)
