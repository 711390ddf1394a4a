"""Survey pages: campaigns and their results (vendor staff), a partner user's open surveys, and the
answer page, reached signed in or through the e-mailed link (no login: the link is signed)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.analytics import metrics as M
from covey.analytics.views import csv_response
from covey.core.access import get_for_user, require, require_vendor
from covey.core.formtools import error_text, show_service_errors
from covey.core.models import VendorSettings
from covey.partners.models import Partner
from covey.surveys import charts, nps, selectors, services
from covey.surveys.forms import AnswerForm, CampaignForm
from covey.surveys.models import Answer, Campaign, CampaignStatus, Invitation

VENDOR_ONLY = "Partner surveys are run by the vendor's partner team."
NOT_YOURS = "This survey link was sent to someone else."
NO_LINK = "This survey link is not valid: check that it was copied whole."


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    require_vendor(request.user, VENDOR_ONLY)
    can_manage = services.can_manage(request.user)
    today = timezone.localdate()
    form = CampaignForm(initial={"opens_on": today, "closes_on": today + timedelta(days=14), "audience_all": True,
                                 "remind_days_before": 3})
    if request.method == "POST":
        require(can_manage, services.NO_MANAGE)
        form = CampaignForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            ids = _split(d["partners"])
            partners = list(Partner.objects.filter(public_id__in=ids))
            unknown = sorted(set(ids) - {p.public_id for p in partners})
            if unknown:
                form.add_error("partners", f"No partner with id {unknown[0]!r}.")
            else:
                try:
                    campaign = services.campaign_create(
                        actor=request.user, name=d["name"], question=d["question"], audience_all=d["audience_all"],
                        partners=partners, partner_types=d["partner_types"], tiers=_split(d["tiers"]),
                        opens_on=d["opens_on"], closes_on=d["closes_on"], remind_days_before=d["remind_days_before"])
                except ValidationError as exc:
                    show_service_errors(form, exc, {"audience_all": "audience_all"})
                else:
                    messages.success(request, "Campaign saved as a draft. Check it, then send it.")
                    return redirect("survey_campaign", public_id=campaign.public_id)
    campaigns = Campaign.objects.visible_to(request.user)
    points = [(c.name, t) for c, t in nps.trend(campaigns)]
    return render(request, "surveys/campaign_list.html", {
        "campaigns": campaigns.order_by("-opens_on", "-id")[:200], "form": form, "can_manage": can_manage,
        "default_question": services.default_question(), "trend": points,
        "trend_config": json.dumps(charts.trend_config(points)), "trend_svg": charts.trend_svg(points)})


@login_required
def campaign_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    require_vendor(request.user, VENDOR_ONLY)
    campaign = get_for_user(Campaign, request.user, public_id[:40])
    data = selectors.results(campaign)
    if request.GET.get("format") == "csv":
        answers = Answer.objects.filter(campaign=campaign).select_related("partner").order_by("answered_at", "id")
        return csv_response(f"nps-{campaign.public_id}.csv",
                            ["answer", "partner", "partner_id", "partner_types", "tiers", "score", "comment", "answered_at"],
                            ((a.public_id, a.partner.name, a.partner.public_id, " ".join(a.partner_types),
                              " ".join(a.tier_codes), a.score, a.comment, a.answered_at.isoformat()) for a in answers))
    return render(request, "surveys/campaign_detail.html", {
        "campaign": campaign, "can_manage": services.can_manage(request.user), **data,
        "partners": ", ".join(campaign.audience_partners.values_list("name", flat=True))})


@login_required
@require_POST
def campaign_send(request: HttpRequest, public_id: str) -> HttpResponse:
    require_vendor(request.user, VENDOR_ONLY)
    campaign = get_for_user(Campaign, request.user, public_id[:40])
    require(services.can_manage(request.user), services.NO_MANAGE)
    try:
        campaign = services.campaign_send(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if campaign.status == CampaignStatus.SCHEDULED:
            messages.success(request, f"Scheduled: the invitations go out on {campaign.opens_on:%-d %B %Y}.")
        else:
            messages.success(request, f"Sent to {campaign.invitations.count()} partner users.")
    return redirect("survey_campaign", public_id=campaign.public_id)


@login_required
@require_POST
def campaign_close(request: HttpRequest, public_id: str) -> HttpResponse:
    require_vendor(request.user, VENDOR_ONLY)
    campaign = get_for_user(Campaign, request.user, public_id[:40])
    require(services.can_manage(request.user), services.NO_MANAGE)
    try:
        services.campaign_close(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "Campaign closed: no more answers are taken.")
    return redirect("survey_campaign", public_id=campaign.public_id)


@login_required
def answer_list(request: HttpRequest) -> HttpResponse:
    """The answers behind the ``partner_nps`` metric: given in the period, for the partners the filters keep."""
    require_vendor(request.user, VENDOR_ONLY)
    try:
        filters, partner = M.parse_filters(request.GET, user=request.user)
    except M.FilterError as exc:
        return render(request, "error.html", {"status": 400, "title": "Check the filters", "message": str(exc)}, status=400)
    answers = nps.period_answers(filters).select_related("partner", "campaign").order_by("-answered_at", "-id")
    return render(request, "surveys/answer_list.html", {
        "filters": filters, "partner": partner, "answers": answers[:500], "tally": nps.tally(answers)})


@login_required
def my_surveys(request: HttpRequest) -> HttpResponse:
    if request.user.is_vendor:
        raise Http404("Surveys are answered by partner users.")
    invitations = (Invitation.objects.visible_to(request.user).select_related("campaign")
                   .filter(campaign__status__in=(CampaignStatus.OPEN, CampaignStatus.CLOSED)).order_by("-sent_at"))
    answered = set(Answer.objects.filter(invitation__in=invitations).values_list("invitation_id", flat=True))
    return render(request, "surveys/mine.html", {"rows": [(i, i.pk in answered) for i in invitations[:100]]})


def _page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    """The answer page; signed out it stands alone, so it names the company itself."""
    return render(request, "surveys/answer.html", {"vendor": VendorSettings.current(), **context}, status=status)


def _answer(request: HttpRequest, invitation: Invitation, *, via: str) -> HttpResponse:
    """GET shows the question (link scanners must not answer for anyone); POST answers once."""
    campaign = invitation.campaign
    problem = services.answer_problem(invitation, timezone.localdate())
    form = AnswerForm(request.POST or None)
    status = 200
    if request.method == "POST" and problem is None:
        if form.is_valid():
            try:
                services.answer_submit(invitation=invitation, score=form.cleaned_data["score"],
                                       comment=form.cleaned_data["comment"], via=via)
            except ValidationError as exc:
                show_service_errors(form, exc)
            else:
                return _page(request, {"campaign": campaign, "thanks": True})
        status = 422
    if problem is not None and request.method == "POST":
        status = 409
    return _page(request, {"campaign": campaign, "form": form, "problem": problem}, status)


@login_required
def answer_signed_in(request: HttpRequest, public_id: str) -> HttpResponse:
    invitation = (Invitation.objects.visible_to(request.user).select_related("campaign", "partner")
                  .filter(campaign__public_id=public_id[:40], user=request.user).first())
    if invitation is None:
        raise Http404("No survey for you with that id")
    return _answer(request, invitation, via="web")


def answer_link(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return _page(request, {"invalid": NO_LINK}, 404)
    if request.user.is_authenticated and request.user.pk != invitation.user_id:
        return _page(request, {"invalid": NOT_YOURS}, 404)
    if not invitation.user.is_active:
        return _page(request, {"invalid": NO_LINK}, 404)
    return _answer(request, invitation, via="link")
