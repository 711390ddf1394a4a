"""Partner surveys over the API: campaigns (list, create, send, results) for the vendor's staff — a
partner user's list is empty and any campaign id answers 404 — and answering, for the partner user a
campaign was sent to (anyone else: 404)."""

from __future__ import annotations

from datetime import date, datetime

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router

from covey.core import access
from covey.core.api import create_once, idempotency_key_header, page, search, user_of
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, InputSchema, OutSchema, Paging
from covey.partners.models import Partner
from covey.surveys import selectors, services
from covey.surveys.models import Answer, Campaign, Invitation

router = Router(tags=["surveys"])


class CampaignOut(OutSchema):
    id: str
    name: str
    question: str
    status: str
    audience_all: bool
    audience_partners: list[str]
    audience_types: list[str]
    audience_tiers: list[str]
    opens_on: date
    closes_on: date
    remind_days_before: int
    sent_at: datetime | None
    reminded_at: datetime | None
    closed_at: datetime | None


class CampaignPage(OutSchema):
    items: list[CampaignOut]
    count: int


class CampaignFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the campaign's name or question")


class CampaignIn(InputSchema):
    name: str = Field(..., max_length=120)
    question: str = Field("", max_length=300, description="Empty: the standard NPS question")
    audience_all: bool = True
    partners: list[str] = Field(default_factory=list, max_length=500, description="Partner ids")
    partner_types: list[str] = Field(default_factory=list, max_length=20)
    tiers: list[str] = Field(default_factory=list, max_length=50)
    opens_on: date
    closes_on: date
    remind_days_before: int = Field(3, ge=0, le=60)


class TallyOut(OutSchema):
    nps: str | None = Field(..., description="Points from -100 to 100, one decimal, as a string; null without answers")
    answers: int
    promoters: int
    passives: int
    detractors: int


class GroupOut(TallyOut):
    key: str
    label: str


class CommentOut(OutSchema):
    score: int
    comment: str
    partner: str
    answered_at: datetime


class ResultsOut(OutSchema):
    campaign: CampaignOut
    invited: int
    score: TallyOut
    by_partner: list[GroupOut]
    by_type: list[GroupOut]
    by_tier: list[GroupOut]
    comments: list[CommentOut]


class AnswerIn(InputSchema):
    score: int = Field(..., ge=0, le=10)
    comment: str = Field("", max_length=2000)


class AnswerOut(OutSchema):
    id: str
    campaign: str
    score: int
    comment: str
    answered_at: datetime


def campaign_out(c: Campaign) -> dict:
    return {"id": c.public_id, "name": c.name, "question": c.question, "status": c.status, "audience_all": c.audience_all,
            "audience_partners": list(c.audience_partners.values_list("public_id", flat=True)),
            "audience_types": c.audience_types, "audience_tiers": c.audience_tiers, "opens_on": c.opens_on,
            "closes_on": c.closes_on, "remind_days_before": c.remind_days_before, "sent_at": c.sent_at,
            "reminded_at": c.reminded_at, "closed_at": c.closed_at}


def answer_out(a: Answer) -> dict:
    return {"id": a.public_id, "campaign": a.campaign.public_id, "score": a.score, "comment": a.comment,
            "answered_at": a.answered_at}


def tally_out(t) -> dict:
    return {"nps": None if t.nps is None else str(t.nps), "answers": t.total, "promoters": t.promoters,
            "passives": t.passives, "detractors": t.detractors}


def _campaign(user, public_id: str) -> Campaign:
    return access.get_for_user(Campaign, user, public_id[:40])


def _managing(user) -> None:
    if not user.is_vendor:
        raise Http404("No such operation for partner users")
    access.require(services.can_manage(user), services.NO_MANAGE)


@router.get("/surveys/campaigns", response={200: CampaignPage, **READ_ERRORS}, operation_id="surveys_campaigns_list",
            summary="List survey campaigns", description="Partner NPS campaigns, newest first (vendor staff).")
def campaigns_list(request: HttpRequest, filters: Query[CampaignFilters]):
    qs = Campaign.objects.visible_to(user_of(request)).prefetch_related("audience_partners")
    return page(search(qs, filters.q, "name", "question").order_by("-opens_on", "-id"), filters, campaign_out)


@router.post("/surveys/campaigns", response={201: CampaignOut, **WRITE_ERRORS}, operation_id="surveys_campaigns_create",
             summary="Create a survey campaign", description="A draft; send it with the send operation. Admins and partner managers.")
def campaign_create(request: HttpRequest, payload: CampaignIn, idempotency_key: str | None = idempotency_key_header()):
    from django.core.exceptions import ValidationError

    user = user_of(request)
    _managing(user)
    partners = list(Partner.objects.filter(public_id__in=payload.partners))
    unknown = sorted(set(payload.partners) - {p.public_id for p in partners})
    if unknown:
        raise ValidationError({"partners": f"No partner with id {unknown[0]!r}."})
    return create_once(request, key=idempotency_key, schema=CampaignOut, render=campaign_out, make=lambda: services.campaign_create(
        actor=user, name=payload.name, question=payload.question, audience_all=payload.audience_all, partners=partners,
        partner_types=payload.partner_types, tiers=payload.tiers, opens_on=payload.opens_on, closes_on=payload.closes_on,
        remind_days_before=payload.remind_days_before, source="api"))


@router.post("/surveys/campaigns/{id}/send", response={200: CampaignOut, **WRITE_ERRORS}, operation_id="surveys_campaigns_send",
             summary="Send a survey campaign", description="Queues one e-mail with a personal link per audience member now, "
             "or on the open date when that is later (status scheduled). Admins and partner managers.")
def campaign_send(request: HttpRequest, id: str):
    user = user_of(request)
    campaign = _campaign(user, id)
    _managing(user)
    return campaign_out(services.campaign_send(campaign=campaign, actor=user, source="api"))


@router.get("/surveys/campaigns/{id}/results", response={200: ResultsOut, **READ_ERRORS},
            operation_id="surveys_campaigns_results", summary="A survey campaign's results",
            description="NPS, counts, breakdowns by partner, partner type and tier, and the comments (vendor staff).")
def campaign_results(request: HttpRequest, id: str):
    from covey.partners.models import PartnerType

    campaign = _campaign(user_of(request), id)
    data = selectors.results(campaign)
    labels = dict(PartnerType.choices)
    return {"campaign": campaign_out(campaign), "invited": data["invited"], "score": tally_out(data["tally"]),
            "by_partner": [{"key": pid, "label": name, **tally_out(t)} for name, pid, t in data["by_partner"]],
            "by_type": [{"key": code, "label": labels.get(code, code), **tally_out(t)} for code, t in
                        sorted(data["by_type_codes"].items())],
            "by_tier": [{"key": code, "label": code, **tally_out(t)} for code, t in data["by_tier"]],
            "comments": [{"score": a.score, "comment": a.comment, "partner": a.partner.public_id, "answered_at": a.answered_at}
                         for a in data["comments"]]}


@router.post("/surveys/campaigns/{id}/answer", response={201: AnswerOut, **WRITE_ERRORS}, operation_id="surveys_answer",
             summary="Answer a survey", description="The signed-in partner user's own answer, once, while the campaign is open.")
def answer(request: HttpRequest, id: str, payload: AnswerIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    invitation = (Invitation.objects.visible_to(user).select_related("campaign", "partner")
                  .filter(campaign__public_id=id[:40], user=user).first())
    if invitation is None:
        raise Http404("No survey for you with that id")
    return create_once(request, key=idempotency_key, schema=AnswerOut, render=answer_out,
                       make=lambda: services.answer_submit(invitation=invitation, score=payload.score,
                                                           comment=payload.comment, via="api", now=timezone.now()))
