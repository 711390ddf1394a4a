"""Recognition pages: the quarter's awards and leaderboards, the rules (admins) and the button that
gives a quarter's missing awards (admins and partner managers). Vendor staff only."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from covey.analytics import metrics as M
from covey.core.access import is_admin, require, require_vendor
from covey.core.formtools import error_text
from covey.core.periods import Period
from covey.recognition import services
from covey.recognition.models import THRESHOLD_HELP, Award, AwardRule


def _quarter(request: HttpRequest, source) -> Period:
    period = M.parse_period(source.get("period") or services.last_complete_quarter(timezone.localdate()).key)
    if not period.quarter:
        raise M.FilterError("Awards are given per quarter: use a quarter like 2026Q3.")
    return period


@login_required
def awards_page(request: HttpRequest) -> HttpResponse:
    require_vendor(request.user)
    try:
        quarter = _quarter(request, request.GET)
    except M.FilterError as exc:
        return render(request, "error.html", {"status": 400, "title": "Check the filters", "message": str(exc)}, status=400)
    rules = AwardRule.all_rules()
    return render(request, "recognition/awards.html", {
        "quarter": quarter, "awards": Award.objects.filter(period_key=quarter.key).select_related("partner"),
        "boards": services.leaderboards(quarter), "rules": [(r, THRESHOLD_HELP[r.kind]) for r in rules],
        "can_run": services.can_run(request.user), "can_configure": is_admin(request.user),
        "history": Award.objects.select_related("partner").order_by("-period_key", "kind")[:40]})


@login_required
@require_POST
def awards_give(request: HttpRequest) -> HttpResponse:
    require_vendor(request.user)
    require(services.can_run(request.user), services.NO_RUN)
    try:
        quarter = _quarter(request, request.POST)
    except M.FilterError as exc:
        messages.error(request, str(exc))
        return redirect("recognition_awards")
    made = services.awards_run(quarter=quarter, actor=request.user, source="web")
    messages.success(request, f"{len(made)} new award(s) for {quarter.label}." if made else
                     f"No new awards for {quarter.label}: they are given already, or nobody clears the bar.")
    return redirect(f"{reverse('recognition_awards')}?period={quarter.key}")


@login_required
@require_POST
def rule_save(request: HttpRequest, kind: str) -> HttpResponse:
    require_vendor(request.user)
    require(is_admin(request.user), services.NO_RULES)
    rule = next((r for r in AwardRule.all_rules() if r.kind == kind[:20]), None)
    if rule is None:
        from django.http import Http404

        raise Http404("No award rule of that kind")
    try:
        threshold = Decimal((request.POST.get("threshold") or "0").strip()[:20])
        services.rule_update(actor=request.user, rule=rule, enabled=request.POST.get("enabled") == "on", threshold=threshold)
    except (InvalidOperation, ValueError):
        messages.error(request, "The threshold is a number, e.g. 25000 or 7.5.")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"{rule.get_kind_display()} rule saved.")
    return redirect("recognition_awards")
