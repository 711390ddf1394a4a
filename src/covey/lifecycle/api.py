"""The partner lifecycle over the API: applications, lifecycle changes, journeys, evaluation, and joint
business plans. Applications and evaluation are the vendor's (a partner user's list is empty and any
id answers 404); journeys and business plans follow the partner's visibility.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from covey.core import access
from covey.core.api import create_once, idempotency_key_header, lookup, page, search, user_of
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, ref
from covey.lifecycle import selectors, services
from covey.lifecycle.models import Application, BusinessPlan, Criterion, EvaluationRound
from covey.lifecycle.schemas import (
    ApplicationFilters,
    ApplicationOut,
    ApplicationPage,
    ApproveIn,
    BusinessPlanFilters,
    BusinessPlanIn,
    BusinessPlanOut,
    BusinessPlanPage,
    CriterionFilters,
    CriterionPage,
    DeclineIn,
    GoalIn,
    JourneyOut,
    LifecycleIn,
    RankingOut,
    RoundIn,
    RoundOut,
    ScorecardIn,
    application_out,
    business_plan_out,
    journey_out,
    round_out,
)
from covey.partners.models import Partner

router = Router(tags=["lifecycle"])

NO_LIFECYCLE = "Only an admin or the partner's own manager moves it through its lifecycle."
NO_EVALUATE = "Only admins and partner managers evaluate candidates."
NO_PLAN_EDIT = "Only the partner's manager and its admins change its joint business plans."
PARTNER_REQUIRED = "Vendor staff name the partner of the plan in partner."


def _manage(user, partner) -> bool:
    return access.can_manage_lifecycle(user, partner)


# --- applications ----------------------------------------------------------------------------


@router.get("/applications", response={200: ApplicationPage, **READ_ERRORS}, operation_id="applications_list",
            summary="List partner applications", description="Applications from the public page (vendor staff), newest first.")
def application_list(request: HttpRequest, filters: Query[ApplicationFilters]):
    qs = Application.objects.visible_to(user_of(request)).select_related("partner")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.q:
        qs = qs.filter(Q(company_name__icontains=filters.q) | Q(domain__icontains=filters.q.lower()))
    return page(qs.order_by("-submitted_at", "-id"), filters, application_out)


def _application(user, public_id: str, *, manage: bool = False) -> Application:
    return access.get_for_user(Application, user, public_id, select=("partner", "partner__owner"),
                               write_check=(lambda u, a: _manage(u, a.partner)) if manage else None)


@router.get("/applications/{id}", response={200: ApplicationOut, **READ_ERRORS}, operation_id="applications_get",
            summary="Get an application", description="One application with its answers; 404 for anyone but vendor staff.")
def application_get(request: HttpRequest, id: str):
    return application_out(_application(user_of(request), id))


@router.post("/applications/{id}/approve", response={200: ApplicationOut, **WRITE_ERRORS}, operation_id="applications_approve",
             summary="Approve an application", description="Invites the contact as partner admin, issues the agreement "
             "template given (if any) and moves the partner to onboarding, which starts its onboarding plan.")
def application_approve(request: HttpRequest, id: str, payload: ApproveIn):
    from covey.agreements.models import AgreementTemplate

    user = user_of(request)
    application = _application(user, id, manage=True)
    template = lookup(AgreementTemplate, user, payload.agreement_template, field="agreement_template") if payload.agreement_template else None
    services.application_approve(application=application, actor=user, agreement_template=template, source="api")
    return application_out(_application(user, id))


@router.post("/applications/{id}/decline", response={200: ApplicationOut, **WRITE_ERRORS}, operation_id="applications_decline",
             summary="Decline an application", description="With a reason, which is e-mailed to the applicant.")
def application_decline(request: HttpRequest, id: str, payload: DeclineIn):
    user = user_of(request)
    services.application_decline(application=_application(user, id, manage=True), actor=user, reason=payload.reason, source="api")
    return application_out(_application(user, id))


# --- lifecycle and journey -------------------------------------------------------------------


def _journey(user, partner: Partner) -> dict:
    from covey.enablement.selectors import certified_people

    journey = services.journey_of(partner)
    journey.partner = partner
    return journey_out(journey, certified=certified_people(partner, on=timezone.localdate()))


@router.post("/partners/{id}/lifecycle", response={200: JourneyOut, **WRITE_ERRORS}, operation_id="partners_lifecycle",
             summary="Change a partner's lifecycle", description="Admins and the partner's manager. \"active\" needs a "
             "countersigned agreement; \"onboarding\" starts the onboarding plan.")
def partner_lifecycle(request: HttpRequest, id: str, payload: LifecycleIn):
    user = user_of(request)
    partner = access.get_for_user(Partner, user, id, write_check=_manage, select=("owner",))
    services.partner_change_lifecycle(partner=partner, to=payload.lifecycle.value, actor=user, note=payload.note, source="api")
    partner.refresh_from_db()
    return _journey(user, partner)


@router.get("/partners/{id}/journey", response={200: JourneyOut, **READ_ERRORS}, operation_id="partners_journey",
            summary="A partner's journey", description="Lifecycle dates, days to the first registered and first won "
            "deal, and the number of certified people today.")
def partner_journey(request: HttpRequest, id: str):
    user = user_of(request)
    return _journey(user, access.get_for_user(Partner, user, id))


# --- evaluation ------------------------------------------------------------------------------


@router.get("/evaluation/criteria", response={200: CriterionPage, **READ_ERRORS}, operation_id="evaluation_criteria_list",
            summary="Evaluation criteria", description="Weights and scales (vendor staff).")
def criteria_list(request: HttpRequest, filters: Query[CriterionFilters]):
    def out(c: Criterion) -> dict:
        frozen = c.frozen()
        return {"id": c.public_id, "code": c.code, "name": c.name, "description": c.description, "weight": str(c.weight),
                "scale": c.scale, "levels": frozen["levels"], "is_active": c.is_active}

    criteria = search(Criterion.objects.visible_to(user_of(request)), filters.q, "name", "code", "description")
    return page(criteria.order_by("order", "id"), filters, out)


@router.get("/evaluation/ranking", response={200: RankingOut, **READ_ERRORS}, operation_id="evaluation_ranking",
            summary="Ranked candidates", description="Candidates (prospect, applied, evaluating) by their latest round's "
            "total out of 10, with their shortfalls against the ideal partner profile (vendor staff).")
def ranking(request: HttpRequest):
    user = user_of(request)
    if not user.is_vendor:
        return {"items": [], "unscored": []}
    rows, unscored = selectors.ranking()
    return {
        "items": [{"rank": r.rank, "partner": ref(r.partner), "lifecycle": r.partner.lifecycle, "total": str(r.total),
                   "evaluators": r.evaluators, "round": r.round.public_id, "shortfalls": r.shortfalls} for r in rows],
        "unscored": [ref(p) for p in unscored],
    }


def _round_answer(round_: EvaluationRound) -> dict:
    round_ = EvaluationRound.objects.select_related("partner").prefetch_related("scorecards__scores", "scorecards__evaluator").get(pk=round_.pk)
    return round_out(round_, services.round_result(round_, list(round_.scorecards.all())))


@router.post("/partners/{id}/evaluation-rounds", response={201: RoundOut, **WRITE_ERRORS}, operation_id="evaluation_rounds_open",
             summary="Open an evaluation round", description="Freezes today's criteria into the round; an applicant moves to evaluating.")
def round_open(request: HttpRequest, id: str, payload: RoundIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    partner = access.get_for_user(Partner, user, id)  # another partner's id answers 404 like a missing one
    access.require(selectors.can_evaluate(user), NO_EVALUATE)
    return create_once(request, key=idempotency_key, schema=RoundOut, render=_round_answer,
                       make=lambda: services.round_open(partner=partner, actor=user, name=payload.name, source="api"))


@router.get("/evaluation-rounds/{id}", response={200: RoundOut, **READ_ERRORS}, operation_id="evaluation_rounds_get",
            summary="Get an evaluation round", description="Criteria, every evaluator's scores and notes, the averages and the total.")
def round_get(request: HttpRequest, id: str):
    return _round_answer(access.get_for_user(EvaluationRound, user_of(request), id))


@router.put("/evaluation-rounds/{id}/scorecard", response={200: RoundOut, **WRITE_ERRORS}, operation_id="evaluation_scorecard_put",
            summary="File your scorecard", description="One score (inside the criterion's scale) and an optional note per "
            "criterion; replaces your earlier scorecard in this round.")
def scorecard_put(request: HttpRequest, id: str, payload: ScorecardIn):
    user = user_of(request)
    round_ = access.get_for_user(EvaluationRound, user, id, write_check=lambda u, r: selectors.can_evaluate(u))
    scores = {code: services.ScoreInput(value=s.value, level=s.level, note=s.note) for code, s in payload.scores.items()}
    unknown = set(scores) - {c["code"] for c in round_.criteria}
    if unknown:
        raise ValidationError({"scores": f"This round has no criterion {sorted(unknown)[0]!r}."})
    services.scorecard_submit(round_=round_, evaluator=user, scores=scores, source="api")
    return _round_answer(round_)


# --- joint business plans --------------------------------------------------------------------


def _plan_answer(plan: BusinessPlan) -> dict:
    return business_plan_out(plan, selectors.goal_actuals(plan))


@router.get("/business-plans", response={200: BusinessPlanPage, **READ_ERRORS}, operation_id="business_plans_list",
            summary="List joint business plans", description="Plans you can see (a partner user: its partner's), with goals and actuals.")
def business_plan_list(request: HttpRequest, filters: Query[BusinessPlanFilters]):
    qs = BusinessPlan.objects.visible_to(user_of(request)).select_related("partner").prefetch_related("goals")
    qs = search(qs, filters.q, "title", "partner__name")
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    return page(qs.order_by("-starts_on", "-id"), filters, _plan_answer)


@router.get("/business-plans/{id}", response={200: BusinessPlanOut, **READ_ERRORS}, operation_id="business_plans_get",
            summary="Get a joint business plan", description="The plan with each goal's target and the actual figure from the data.")
def business_plan_get(request: HttpRequest, id: str):
    return _plan_answer(access.get_for_user(BusinessPlan, user_of(request), id, select=("partner",)))


@router.post("/business-plans", response={201: BusinessPlanOut, **WRITE_ERRORS}, operation_id="business_plans_create",
             summary="Create a joint business plan", description="With its mutual goals. The partner's manager, an admin, "
             "or the partner's own admin. Send an Idempotency-Key header to make retries safe.")
def business_plan_create(request: HttpRequest, payload: BusinessPlanIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    if user.is_vendor:
        if not payload.partner:
            raise ValidationError({"partner": PARTNER_REQUIRED})
        partner = lookup(Partner, user, payload.partner, field="partner")
    else:
        membership = user.membership
        if payload.partner and payload.partner != membership.partner.public_id:
            raise ValidationError({"partner": "Partner users make plans for their own partner; leave partner out."})
        partner = membership.partner
    access.require(selectors.can_edit_business_plan(user, partner), NO_PLAN_EDIT)
    goals = [(g.metric.value, g.target, g.note) for g in payload.goals]
    return create_once(
        request, key=idempotency_key, schema=BusinessPlanOut, render=_plan_answer,
        make=lambda: services.business_plan_create(partner=partner, actor=user, title=payload.title, starts_on=payload.starts_on,
                                                   ends_on=payload.ends_on, notes=payload.notes, goals=goals, source="api"),
    )


@router.post("/business-plans/{id}/goals", response={201: BusinessPlanOut, **WRITE_ERRORS}, operation_id="business_plans_goal_add",
             summary="Add a mutual goal", description="Registered deals, won deals or certified people, with a target.")
def business_goal_add(request: HttpRequest, id: str, payload: GoalIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    plan = access.get_for_user(BusinessPlan, user, id, select=("partner", "partner__owner"),
                               write_check=lambda u, p: selectors.can_edit_business_plan(u, p.partner))
    return create_once(
        request, key=idempotency_key, schema=BusinessPlanOut, render=lambda goal: _plan_answer(goal.plan),
        make=lambda: services.goal_add(plan=plan, actor=user, metric=payload.metric.value, target=payload.target,
                                       note=payload.note, source="api"),
    )
