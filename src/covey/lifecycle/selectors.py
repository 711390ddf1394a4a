"""Reads for the lifecycle pages and the API: the pipeline, candidates and their scores, ranking,
comparison, the ideal profile's shortfalls, and joint business plan goals against real results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from covey.core.access import PARTNER_CREATORS, can_manage_lifecycle
from covey.core.vocab import Region, Segment
from covey.lifecycle import scoring
from covey.lifecycle.chart import grouped_bars
from covey.lifecycle.models import (
    BusinessPlan,
    EvaluationRound,
    GoalMetric,
    IdealProfile,
    PartnerJourney,
    Scorecard,
)
from covey.partners.models import Lifecycle, Partner, PartnerType

CANDIDATE_STATES = (Lifecycle.PROSPECT, Lifecycle.APPLIED, Lifecycle.EVALUATING)
PIPELINE_STATES = (Lifecycle.PROSPECT, Lifecycle.APPLIED, Lifecycle.EVALUATING, Lifecycle.ONBOARDING, Lifecycle.ACTIVE)
COMPARE_MAX = 5


def can_evaluate(user) -> bool:
    """Admins and partner managers score candidates (several of them: each files a scorecard)."""
    return user.is_authenticated and user.staff_role in PARTNER_CREATORS


def can_edit_matrix(user) -> bool:
    return user.is_authenticated and user.staff_role == "admin"


def can_edit_business_plan(user, partner) -> bool:
    """Mutual plans: the partner's manager (or an admin) and the partner's own admins edit them."""
    if can_manage_lifecycle(user, partner):
        return True
    membership = None if user.is_vendor else user.membership
    return bool(membership and membership.partner_id == partner.pk and membership.role == "admin")


def labels() -> dict[str, str]:
    return {**dict(Region.choices), **dict(PartnerType.choices), **dict(Segment.choices)}


# --- the pipeline ----------------------------------------------------------------------------


def with_stage_since(qs: QuerySet) -> QuerySet:
    """Annotate ``stage_since``: when the partner's current lifecycle state began (its creation when
    no change was recorded)."""
    since = PartnerJourney.objects.filter(partner=OuterRef("pk")).values("stage_since")[:1]
    return qs.annotate(stage_since=Coalesce(Subquery(since), F("created_at")))


def days_since(moment, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return max((today - timezone.localtime(moment).date()).days, 0)


# --- evaluation ------------------------------------------------------------------------------


def latest_round(partner: Partner) -> EvaluationRound | None:
    return EvaluationRound.objects.filter(partner=partner).order_by("-opened_at", "-id").first()


def latest_rounds(partner_ids) -> dict[int, EvaluationRound]:
    found: dict[int, EvaluationRound] = {}
    rounds = EvaluationRound.objects.filter(partner_id__in=list(partner_ids)).order_by("partner_id", "-opened_at", "-id")
    for r in rounds.prefetch_related(Prefetch("scorecards", queryset=Scorecard.objects.prefetch_related("scores"))):
        found.setdefault(r.partner_id, r)
    return found


def profile() -> scoring.Profile:
    p = IdealProfile.current()
    return scoring.Profile(
        min_total=p.min_total, criteria_minimums={k: Decimal(v) for k, v in (p.criteria_minimums or {}).items()},
        min_employees=p.min_employees, regions=frozenset(p.regions or ()), types=frozenset(p.types or ()),
        segments=frozenset(p.segments or ()),
    )


def shortfalls(partner: Partner, result: scoring.Result | None, ideal: scoring.Profile | None = None,
               criterion_names: dict[str, str] | None = None) -> list[str]:
    from covey.lifecycle.models import Criterion

    ideal = ideal or profile()
    names = criterion_names if criterion_names is not None else dict(Criterion.objects.values_list("code", "name"))
    candidate = scoring.Candidate(
        employees=partner.employees, region=partner.region, types=frozenset(partner.type_codes),
        segments=frozenset(s.code for s in partner.segments.all()), result=result,
    )
    return scoring.shortfalls(ideal, candidate, names=names, labels=labels())


@dataclass
class RankRow:
    rank: int
    partner: Partner
    total: Decimal
    evaluators: int
    round: EvaluationRound
    shortfalls: list[str] = field(default_factory=list)


def ranking(*, states=CANDIDATE_STATES, q: str = "") -> tuple[list[RankRow], list[Partner]]:
    """Candidates in ``states`` ranked by their latest round's total, and those not scored yet."""
    from covey.lifecycle.models import Criterion
    from covey.lifecycle.services import round_result

    partners = Partner.objects.filter(lifecycle__in=list(states)).select_related("owner").prefetch_related("types", "segments")
    if q:
        partners = partners.filter(name__icontains=q[:200])
    partners = list(partners.order_by("name")[:1000])
    by_id = {p.pk: p for p in partners}
    rounds = latest_rounds(by_id)
    ideal, names = profile(), dict(Criterion.objects.values_list("code", "name"))
    results = {pk: round_result(r, list(r.scorecards.all())) for pk, r in rounds.items()}
    ranked = scoring.rank((str(pk), by_id[pk].name, res.total if res else None) for pk, res in results.items())
    rows = [
        RankRow(rank=r.rank, partner=by_id[int(r.key)], total=r.total, evaluators=results[int(r.key)].evaluators,
                round=rounds[int(r.key)], shortfalls=shortfalls(by_id[int(r.key)], results[int(r.key)], ideal, names))
        for r in ranked
    ]
    scored = {row.partner.pk for row in rows}
    return rows, [p for p in partners if p.pk not in scored]


@dataclass
class Comparison:
    partners: list[Partner]
    criteria: list[dict]  # the latest round's frozen criteria of the first partner that has one
    cells: dict[int, dict[str, Decimal | None]]  # partner id -> criterion code -> mean
    totals: dict[int, Decimal | None]
    shortfalls: dict[int, list[str]]
    chart: object


def compare(partners: list[Partner]) -> Comparison:
    from covey.lifecycle.models import Criterion
    from covey.lifecycle.services import round_result

    rounds = latest_rounds([p.pk for p in partners])
    results = {pk: round_result(r, list(r.scorecards.all())) for pk, r in rounds.items()}
    criteria: list[dict] = []
    seen: set[str] = set()
    for p in partners:
        for spec in rounds[p.pk].criteria if p.pk in rounds else []:
            if spec["code"] not in seen:
                seen.add(spec["code"])
                criteria.append(spec)
    cells = {p.pk: {c["code"]: (results[p.pk].means.get(c["code"]) if results.get(p.pk) else None) for c in criteria} for p in partners}
    totals = {p.pk: results[p.pk].total if results.get(p.pk) else None for p in partners}
    ideal, names = profile(), dict(Criterion.objects.values_list("code", "name"))
    falls = {p.pk: shortfalls(p, results.get(p.pk), ideal, names) for p in partners}
    highs = {c["code"]: Decimal(c["high"]) for c in criteria}
    series = [
        (p.name, [(cells[p.pk][c["code"]] / highs[c["code"]]) if cells[p.pk][c["code"]] is not None else None for c in criteria])
        for p in partners
    ]
    captions = [[f"{cells[p.pk][c['code']]} of {scoring._plain(highs[c['code']])}" if cells[p.pk][c["code"]] is not None else "not scored"
                 for c in criteria] for p in partners]
    chart = grouped_bars([c["name"] for c in criteria], series, captions=captions)
    return Comparison(partners, criteria, cells, totals, falls, chart)


# --- joint business plans --------------------------------------------------------------------


@dataclass
class GoalProgress:
    goal: object
    actual: int

    @property
    def percent(self) -> int:
        return min(round(100 * self.actual / self.goal.target), 100) if self.goal.target else 0

    @property
    def met(self) -> bool:
        return self.actual >= self.goal.target


def goal_actuals(plan: BusinessPlan, *, today: date | None = None) -> list[GoalProgress]:
    """Each goal against what the data shows within the plan's dates: registrations submitted (not
    turned down), won deals with the partner by close date, and people certified on the plan's last
    day (or today, while it runs)."""
    from covey.crm.models import OpportunityPartner, Stage
    from covey.enablement.selectors import certified_people
    from covey.registrations.models import Registration, Status

    today = today or timezone.localdate()
    until = min(plan.ends_on, today)
    goals = list(plan.goals.all())
    metrics = {g.metric for g in goals}
    actual: dict[str, int] = {}
    if GoalMetric.REGISTERED_DEALS in metrics:
        actual[GoalMetric.REGISTERED_DEALS] = (
            Registration.objects.filter(partner=plan.partner, submitted_at__date__gte=plan.starts_on, submitted_at__date__lte=plan.ends_on)
            .exclude(status__in=[Status.REJECTED, Status.CONFLICT]).count()
        )
    if GoalMetric.WON_DEALS in metrics:
        actual[GoalMetric.WON_DEALS] = (
            OpportunityPartner.objects.filter(partner=plan.partner, opportunity__stage=Stage.CLOSED_WON,
                                              opportunity__close_date__gte=plan.starts_on, opportunity__close_date__lte=plan.ends_on)
            .values("opportunity_id").distinct().count()
        )
    if GoalMetric.CERTIFIED_PEOPLE in metrics:
        actual[GoalMetric.CERTIFIED_PEOPLE] = certified_people(plan.partner, on=until)
    return [GoalProgress(goal=g, actual=actual.get(g.metric, 0)) for g in goals]
