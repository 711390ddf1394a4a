"""JSON shapes of applications, journeys, evaluation and joint business plans.

Scores and weights travel as decimal strings (``"4.5"``), like money amounts: a float has already
lost the exact value, so one is refused with a message that says why.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field
from pydantic import field_validator

from covey.core.schemas import InputSchema, OutSchema, Paging, Ref, id_filter, ref
from covey.lifecycle.models import (
    Application,
    ApplicationStatus,
    BusinessPlan,
    EvaluationRound,
    GoalMetric,
    PartnerJourney,
)
from covey.partners.models import Lifecycle, Partner

NUMBER_AS_TEXT = 'Send the score as a decimal string such as "4" or "4.5" (a float cannot hold it exactly).'


class ApplicationOut(OutSchema):
    id: str
    partner: Ref
    company_name: str
    website: str
    domain: str
    types: list[str]
    regions: list[str]
    segments: list[str]
    employees: int | None
    capabilities: str
    motivation: str
    contact_name: str
    contact_email: str
    status: ApplicationStatus
    submitted_at: datetime
    decided_at: datetime | None
    decision_note: str


def application_out(a: Application) -> dict:
    return {
        "id": a.public_id, "partner": ref(a.partner), "company_name": a.company_name, "website": a.website, "domain": a.domain,
        "types": a.types, "regions": a.regions, "segments": a.segments, "employees": a.employees,
        "capabilities": a.capabilities, "motivation": a.motivation, "contact_name": a.contact_name,
        "contact_email": a.contact_email, "status": a.status, "submitted_at": a.submitted_at, "decided_at": a.decided_at,
        "decision_note": a.decision_note,
    }


class ApplicationPage(OutSchema):
    items: list[ApplicationOut]
    count: int


class ApplicationFilters(Paging):
    status: ApplicationStatus | None = None
    q: str | None = Field(None, max_length=200)


class ApproveIn(InputSchema):
    agreement_template: str | None = Field(None, description="Id of the agreement template to issue")


class DeclineIn(InputSchema):
    reason: str = Field(..., max_length=1000)


class LifecycleIn(InputSchema):
    lifecycle: Lifecycle
    note: str = Field("", max_length=500)


class JourneyOut(OutSchema):
    partner: Ref
    lifecycle: Lifecycle
    stage_since: datetime
    applied_on: date | None
    onboarding_started_on: date | None
    activated_on: date | None
    first_registration_on: date | None
    first_won_on: date | None
    days_to_first_registration: int | None
    days_to_first_win: int | None
    certified_people: int


def journey_out(j: PartnerJourney, *, certified: int) -> dict:
    return {
        "partner": ref(j.partner), "lifecycle": j.partner.lifecycle, "stage_since": j.stage_since, "applied_on": j.applied_on,
        "onboarding_started_on": j.onboarding_started_on, "activated_on": j.activated_on,
        "first_registration_on": j.first_registration_on, "first_won_on": j.first_won_on,
        "days_to_first_registration": j.days_to_first_registration, "days_to_first_win": j.days_to_first_win,
        "certified_people": certified,
    }


# --- evaluation ------------------------------------------------------------------------------


class CriterionOut(OutSchema):
    id: str
    code: str
    name: str
    description: str
    weight: str
    scale: str
    levels: dict[str, str]
    is_active: bool


class CriterionPage(OutSchema):
    items: list[CriterionOut]
    count: int


class CriterionFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the criterion's name, code or description")


class RoundIn(InputSchema):
    name: str = Field("", max_length=120)


class ScoreOut(OutSchema):
    criterion: str
    value: str
    level: str
    note: str


class ScorecardOut(OutSchema):
    evaluator: Ref
    submitted_at: datetime
    scores: list[ScoreOut]


class RoundOut(OutSchema):
    id: str
    partner: Ref
    name: str
    criteria: list[dict]
    opened_at: datetime
    closed_at: datetime | None
    total: str | None = Field(..., description="0–10 with two decimals; null before anyone scored")
    means: dict[str, str]
    scorecards: list[ScorecardOut]


def round_out(r: EvaluationRound, result) -> dict:
    return {
        "id": r.public_id, "partner": ref(r.partner), "name": r.name, "criteria": r.criteria, "opened_at": r.opened_at,
        "closed_at": r.closed_at, "total": str(result.total) if result else None,
        "means": {k: str(v) for k, v in (result.means if result else {}).items()},
        "scorecards": [
            {"evaluator": ref(card.evaluator), "submitted_at": card.submitted_at,
             "scores": [{"criterion": s.criterion_code, "value": str(s.value), "level": s.level, "note": s.note} for s in card.scores.all()]}
            for card in r.scorecards.all()
        ],
    }


class ScoreIn(InputSchema):
    value: str | None = Field(None, description='A number on a 1–5 scale, as a string ("4")')
    level: str | None = Field(None, description="high, medium or low on a High/Medium/Low scale")
    note: str = Field("", max_length=2000)

    @field_validator("value", mode="before")
    @classmethod
    def _value_text(cls, value: Any) -> Any:
        if isinstance(value, float) or isinstance(value, bool):
            raise ValueError(NUMBER_AS_TEXT)
        return str(value) if isinstance(value, int) else value


class ScorecardIn(InputSchema):
    scores: dict[str, ScoreIn] = Field(..., description="One entry per criterion code of the round")


class RankOut(OutSchema):
    rank: int
    partner: Ref
    lifecycle: Lifecycle
    total: str
    evaluators: int
    round: str
    shortfalls: list[str]


class RankingOut(OutSchema):
    items: list[RankOut]
    unscored: list[Ref]


# --- joint business plans --------------------------------------------------------------------


class GoalOut(OutSchema):
    id: str
    metric: GoalMetric
    target: int
    actual: int
    met: bool
    note: str


class BusinessPlanOut(OutSchema):
    id: str
    partner: Ref
    title: str
    starts_on: date
    ends_on: date
    notes: str
    goals: list[GoalOut]


def business_plan_out(plan: BusinessPlan, progress) -> dict:
    return {
        "id": plan.public_id, "partner": ref(plan.partner), "title": plan.title, "starts_on": plan.starts_on,
        "ends_on": plan.ends_on, "notes": plan.notes,
        "goals": [{"id": g.goal.public_id, "metric": g.goal.metric, "target": g.goal.target, "actual": g.actual,
                   "met": g.met, "note": g.goal.note} for g in progress],
    }


class BusinessPlanPage(OutSchema):
    items: list[BusinessPlanOut]
    count: int


class GoalIn(InputSchema):
    metric: GoalMetric
    target: int = Field(..., ge=1, le=100_000)
    note: str = Field("", max_length=300)


class BusinessPlanIn(InputSchema):
    partner: str | None = Field(None, description="The partner's id (vendor staff); partner users leave it out")
    title: str = Field(..., max_length=200)
    starts_on: date
    ends_on: date
    notes: str = Field("", max_length=5000)
    goals: list[GoalIn] = Field(default_factory=list, max_length=20)


class BusinessPlanFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the plan's title or the partner's name")
    partner: str | None = id_filter(Partner)
