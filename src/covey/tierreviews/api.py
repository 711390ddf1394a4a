"""Tier reviews over the API: reviews and their proposals (vendor staff; a partner user's list is
empty and any id answers 404), deciding a proposal, a partner's progress to its next tier and its
satisfaction scores (the partner itself may read both)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router

from covey.core import access
from covey.core.api import create_once, idempotency_key_header, lookup, page, search, user_of
from covey.core.models import StaffRole
from covey.core.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    OutSchema,
    Paging,
    id_filter,
    ref,
)
from covey.partners.models import Partner
from covey.programs.models import Program
from covey.tierreviews import services
from covey.tierreviews.models import (
    Change,
    ProposalStatus,
    SatisfactionScore,
    TierProposal,
    TierReview,
)

router = Router(tags=["tier reviews"])

NO_RUN = "Only admins and partner managers take tier reviews."


class ReviewOut(OutSchema):
    id: str
    program: dict
    period_key: str
    as_of: date
    effective_from: date
    version: int
    pending: int


class ReviewPage(OutSchema):
    items: list[ReviewOut]
    count: int


class ProposalOut(OutSchema):
    id: str
    review: str
    partner: dict
    current_tier: str
    proposed_tier: str
    change: str
    status: str
    evidence: dict[str, Any]
    decided_tier: str
    reason: str
    applies_from: date | None


class ProposalPage(OutSchema):
    items: list[ProposalOut]
    count: int


class ReviewFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the program's name or the quarter (2026Q3)")
    program: str | None = id_filter(Program)


class ProposalFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the partner's name")
    status: ProposalStatus | None = None
    change: Change | None = None


class RunIn(InputSchema):
    program: str = Field(..., max_length=40, description="The program's id")


class DecideIn(InputSchema):
    tier_code: str | None = Field(None, max_length=30, description="Leave out to approve the proposed tier")
    reason: str = Field("", max_length=500, description="Required when tier_code differs from the proposal")


class CheckOut(OutSchema):
    measure: str
    required: str
    actual: str | None
    met: bool


class ProgressOut(OutSchema):
    program: dict
    tier: str
    next_tier: str | None
    checks: list[CheckOut]
    scheduled_tier: str | None
    scheduled_from: date | None


class ScoreIn(InputSchema):
    score: str = Field(..., max_length=5, description='0 to 10 with one decimal, e.g. "8.4"')
    measured_on: date
    source: str = Field(..., max_length=120)


class ScoreOut(OutSchema):
    id: str
    score: str
    measured_on: date
    source: str


def review_out(review: TierReview) -> dict:
    return {"id": review.public_id, "program": ref(review.program), "period_key": review.period_key,
            "as_of": review.as_of, "effective_from": review.effective_from, "version": review.version.number,
            "pending": review.n_pending if hasattr(review, "n_pending") else review.proposals.pending().count()}


def proposal_out(p: TierProposal) -> dict:
    return {"id": p.public_id, "review": p.review.public_id, "partner": ref(p.partner), "current_tier": p.current_tier,
            "proposed_tier": p.proposed_tier, "change": p.change, "status": p.status, "evidence": p.evidence,
            "decided_tier": p.decided_tier, "reason": p.reason, "applies_from": p.applies_from}


def _reviews(user):
    return TierReview.objects.all() if user.is_vendor else TierReview.objects.none()


def _review(user, public_id: str) -> TierReview:
    review = _reviews(user).select_related("program", "version").filter(public_id=public_id[:40]).first()
    if review is None:
        raise Http404("No tier review with that id")
    return review


@router.get("/tier-reviews", response={200: ReviewPage, **READ_ERRORS}, operation_id="tier_reviews_list",
            summary="List tier reviews", description="Quarterly tier reviews, newest first (vendor staff).")
def reviews_list(request: HttpRequest, filters: Query[ReviewFilters]):
    qs = _reviews(user_of(request)).select_related("program", "version").annotate(
        n_pending=Count("proposals", filter=Q(proposals__status=ProposalStatus.PENDING)))
    qs = search(qs, filters.q, "program__name", "period_key")
    if filters.program:
        qs = qs.filter(program__public_id=filters.program)
    return page(qs.order_by("-as_of", "program__name"), filters, review_out)


@router.post("/tier-reviews", response={201: ReviewOut, **WRITE_ERRORS}, operation_id="tier_reviews_run",
             summary="Take a tier review", description="The review of the last complete quarter for a program; taking it "
             "again returns the same review. Admins and partner managers.")
def review_run(request: HttpRequest, payload: RunIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    if not user.is_vendor:
        raise Http404("No such operation for partner users")
    access.require(user.staff_role in (StaffRole.ADMIN, StaffRole.PARTNER_MANAGER), NO_RUN)
    program = lookup(Program, user, payload.program, field="program")
    return create_once(request, key=idempotency_key, schema=ReviewOut, render=review_out,
                       make=lambda: services.review_run(program=program, actor=user, source="api"))


@router.get("/tier-reviews/{id}/proposals", response={200: ProposalPage, **READ_ERRORS},
            operation_id="tier_reviews_proposals", summary="List a review's proposals",
            description="One per enrolled partner, with the evidence it was computed from.")
def proposals_list(request: HttpRequest, id: str, filters: Query[ProposalFilters]):
    review = _review(user_of(request), id)
    qs = search(review.proposals.select_related("partner", "review"), filters.q, "partner__name")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.change:
        qs = qs.filter(change=filters.change)
    return page(qs.order_by("partner__name"), filters, proposal_out)


@router.post("/tier-proposals/{id}/decide", response={200: ProposalOut, **WRITE_ERRORS},
             operation_id="tier_proposals_decide", summary="Decide a tier proposal",
             description="Approve the proposed tier, or choose another with a reason. The partner's manager or an admin; "
             "the change applies from the next quarter.")
def proposal_decide(request: HttpRequest, id: str, payload: DecideIn):
    user = user_of(request)
    if not user.is_vendor:
        raise Http404("No tier proposal with that id")
    proposal = TierProposal.objects.select_related("partner", "review").filter(public_id=id[:40]).first()
    if proposal is None:
        raise Http404("No tier proposal with that id")
    decided = services.proposal_decide(proposal=proposal, actor=user, tier_code=payload.tier_code,
                                       reason=payload.reason, source="api")
    return proposal_out(decided)


@router.get("/partners/{id}/tier-progress", response={200: list[ProgressOut], **READ_ERRORS},
            operation_id="partners_tier_progress", summary="A partner's progress to its next tier",
            description="Per program: its tier, the next one and each requirement with the figure now.")
def tier_progress(request: HttpRequest, id: str):
    partner = access.get_for_user(Partner, user_of(request), id)
    rows = []
    for row in services.progress(partner):
        rows.append({
            "program": ref(row["program"]), "tier": row["enrolment"].tier_code,
            "next_tier": row["next"].code if row["next"] else None,
            "checks": [{"measure": c.measure, "required": str(c.required),
                        "actual": None if c.actual is None else str(c.actual), "met": c.met} for c in row["checks"]],
            "scheduled_tier": row["scheduled"].tier_code if row["scheduled"] else None,
            "scheduled_from": row["scheduled"].starts_on if row["scheduled"] else None,
        })
    return rows


def score_out(s: SatisfactionScore) -> dict:
    return {"id": s.public_id, "score": str(s.score), "measured_on": s.measured_on, "source": s.source}


@router.post("/partners/{id}/satisfaction", response={201: ScoreOut, **WRITE_ERRORS},
             operation_id="partners_satisfaction_record", summary="Record a customer-satisfaction score",
             description="A 0–10 average for the partner's customers, used by tier requirements. The partner's manager or an admin.")
def satisfaction_record(request: HttpRequest, id: str, payload: ScoreIn,
                        idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    partner = access.get_for_user(Partner, user, id, write_check=lambda u, p: access.can_manage_lifecycle(u, p))
    return create_once(request, key=idempotency_key, schema=ScoreOut, render=score_out,
                       make=lambda: services.satisfaction_record(partner=partner, score=payload.score,
                                                                 measured_on=payload.measured_on,
                                                                 source_text=payload.source, actor=user, source="api"))
