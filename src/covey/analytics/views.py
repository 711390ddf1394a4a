"""Analytics pages: the program dashboard (vendor staff), a partner's own dashboard (partner users),
the metric definitions, each metric's records, the quarterly scorecard with its QBR pack, targets
and settings. Every table has a CSV twin (``?format=csv``)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from covey.analytics import dashboard as D
from covey.analytics import metrics as M
from covey.analytics import outcomes as O
from covey.analytics import records as R
from covey.analytics import scorecard as S
from covey.analytics import services
from covey.analytics.forms import NoteForm, SettingsForm, TargetForm, TargetValueForm
from covey.analytics.models import AnalyticsSettings, Target
from covey.core.access import get_for_user, require, require_vendor
from covey.core.csvsafe import safe_cell
from covey.core.formtools import error_text, show_service_errors
from covey.core.models import StaffRole, VendorSettings
from covey.core.money import Money, currency_exponent
from covey.core.vocab import Region, Segment
from covey.partners.models import Partner, PartnerType

PARTNERS_ONLY = "This page is a partner's own dashboard; vendor staff use the program dashboard's partner filter."
RECORDS_LIMIT = 200


def _vendor(request: HttpRequest) -> None:
    require_vendor(request.user)


def _bad_filter(request: HttpRequest, exc: Exception) -> HttpResponse:
    return render(request, "error.html", {"status": 400, "title": "Check the filters", "message": str(exc)}, status=400)


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return response


def major(minor: int, currency: str) -> str:
    """``8000000, "USD"`` → ``80000.00``: a number a spreadsheet reads, exact, no separators."""
    return f"{Money(int(minor), currency).amount:.{currency_exponent(currency)}f}"


def plain(value, unit: str, currency: str) -> str:
    """A figure as text for CSV: money in major units, ratios as decimals, days as they are."""
    if value is None:
        return ""
    if unit == "money":
        return major(value, currency)
    return str(value)


def show(value, unit: str, currency: str) -> str:
    if value is None:
        return "—"
    if unit == "money":
        return str(Money(int(value), currency))
    if unit == "ratio":
        return f"{(Decimal(value) * 100).quantize(Decimal('0.1'))}%"
    if unit == "days":
        return f"{value} days"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _filter_choices() -> dict:
    return {"types": PartnerType.choices, "regions": Region.choices, "segments": Segment.choices,
            "tiers": M.tier_codes()}


def change_text(delta, unit: str, currency: str) -> str:
    """A change from the previous period with its sign: +1,200.00 USD, −3.5 pts (ratios), +2 days."""
    if delta is None:
        return "—"
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    if unit == "ratio":
        return f"{sign}{(abs(Decimal(delta)) * 100).quantize(Decimal('0.1'))} pts"
    return sign + show(abs(delta), unit, currency)


def _figure_rows(dash: D.Dashboard, changes: dict):
    return [(f.metric, f.value, show(f.value, f.metric.unit, dash.cube.base),
             change_text(changes.get(f.metric.key), f.metric.unit, dash.cube.base)) for f in dash.figures]


def _chart_context(dash: D.Dashboard) -> list[dict]:
    return [{"key": c.key, "title": c.title, "config": json.dumps(c.config()), "svg": c.svg()} for c in dash.charts]


def _dashboard(request: HttpRequest, *, for_vendor: bool, template: str) -> HttpResponse:
    try:
        filters, partner = M.parse_filters(request.GET, user=request.user)
    except M.FilterError as exc:
        return _bad_filter(request, exc)
    dash = D.build(filters, for_vendor=for_vendor)
    base = dash.cube.base
    previous, changes = O.previous_values(filters, dash.figures)
    export = request.GET.get("export", "")
    if export == "figures":
        return csv_response(f"metrics-{filters.period.key}.csv",
                            ["metric", "key", "value", "currency", "definition", "previous_period", "change"],
                            [(f.metric.name, f.metric.key, plain(f.value, f.metric.unit, base),
                              base if f.metric.unit == "money" else "", f.metric.definition,
                              plain(previous.get(f.metric.key), f.metric.unit, base),
                              plain(changes.get(f.metric.key), f.metric.unit, base)) for f in dash.figures])
    if export == "trend":
        motions = M.MOTIONS if for_vendor else M.PARTNER_MOTIONS
        header = ["quarter"] + [f"{m}_revenue" for m in motions] + [f"{m}_pipeline" for m in motions] + ["currency"]
        rows = [[q.key] + [plain(dash.cube.total("won", (m,), [q.key]).amount, "money", base) for m in motions]
                + [plain(dash.cube.total("pipeline", (m,), [q.key]).amount, "money", base) for m in motions] + [base]
                for q in dash.cube.quarters]
        return csv_response(f"trend-{filters.period.key}.csv", header, rows)
    if export == "leaderboard" and for_vendor:
        return csv_response(f"leaderboard-{filters.period.key}.csv", ["rank", "partner", "partner_id", "sourced_revenue",
                                                                        "revenue_on", "currency"],
                            [(i, p.name, p.public_id, plain(s, "money", base), plain(r, "money", base), base)
                             for i, (p, s, r) in enumerate(dash.leaderboard, start=1)])
    return render(request, template, {
        "filters": filters, "partner": partner, "figures": _figure_rows(dash, changes), "previous_period": M.previous_filters(filters).period, "charts": _chart_context(dash),
        "leaderboard": [(p, show(s, "money", base), show(r, "money", base)) for p, s, r in dash.leaderboard],
        "missing_rates": dash.cube.missing_rates, "choices": _filter_choices(), "query": request.GET.urlencode(),
        "base": base, "as_of": dash.cube.as_of,
    })


@login_required
def program_dashboard(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    return _dashboard(request, for_vendor=True, template="analytics/dashboard.html")


@login_required
def partner_dashboard(request: HttpRequest) -> HttpResponse:
    if request.user.is_vendor:
        raise Http404(PARTNERS_ONLY)
    return _dashboard(request, for_vendor=False, template="analytics/partner_dashboard.html")


@login_required
def definitions(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/definitions.html", {"metrics": M.metrics_for(request.user)})


@login_required
def metric_records(request: HttpRequest, key: str) -> HttpResponse:
    metric = M.METRICS.get(key[:60])
    if metric is None or metric not in M.metrics_for(request.user):
        raise Http404("No metric with that key")
    if metric.records.startswith("link:"):  # a metric whose records live in another app's page
        return redirect(reverse(metric.records[5:]) + (f"?{request.GET.urlencode()}" if request.GET else ""))
    try:
        filters, partner = M.parse_filters(request.GET, user=request.user)
    except M.FilterError as exc:
        return _bad_filter(request, exc)
    wants_csv = request.GET.get("format") == "csv"
    context = {"metric": metric, "filters": filters, "partner": partner, "query": request.GET.urlencode()}
    if metric.records.startswith("outcome:"):
        header, rows = O.records(M.build_cube(filters), metric.records.removeprefix("outcome:"))
        if wants_csv:
            return csv_response(f"{key}-{filters.period.key}.csv", header, rows)
        context.update(kind="table", header=header, rows=rows[:RECORDS_LIMIT], total=len(rows))
    elif metric.records == "ledger":
        qs = R.ledger(filters)
        if wants_csv:
            return csv_response(f"{key}-{filters.period.key}.csv",
                                ["entry", "partner", "period", "source", "amount", "currency", "explanation"],
                                ((e.public_id, e.partner.name, e.period_key, e.source, major(e.amount_minor, e.currency),
                                  e.currency, e.explanation) for e in qs.iterator()))
        context.update(kind="ledger", rows=qs[:RECORDS_LIMIT], total=qs.count())
    elif metric.records == "partners":
        cube = M.build_cube(filters)
        rows = R.partner_rows(cube)
        if wants_csv:
            return csv_response(f"{key}-{filters.period.key}.csv",
                                ["partner", "partner_id", "active", "revenue_on", "sourced_revenue", "currency"],
                                ((p.name, p.public_id, "yes" if a else "no", plain(r, "money", cube.base),
                                  plain(s, "money", cube.base), cube.base) for p, a, r, s in rows))
        context.update(kind="partners", total=len(rows),
                       rows=[(p, a, show(r, "money", cube.base), show(s, "money", cube.base)) for p, a, r, s in rows[:RECORDS_LIMIT]])
    else:
        qs = R.opportunities(filters, metric.records)
        if wants_csv:
            return csv_response(f"{key}-{filters.period.key}.csv",
                                ["opportunity", "name", "account", "stage", "type", "amount", "currency", "created", "close_date"],
                                ((o.public_id, o.name, o.account.name, o.stage, o.type, major(o.amount_minor, o.currency),
                                  o.currency, o.created_at.date().isoformat(), o.close_date.isoformat()) for o in qs.iterator()))
        context.update(kind="opportunities", rows=qs[:RECORDS_LIMIT], total=qs.count())
    context["limit"] = RECORDS_LIMIT
    return render(request, "analytics/records.html", context)


# --- scorecards -------------------------------------------------------------------------------


def _scorecard_args(request: HttpRequest, public_id: str, quarter: str):
    partner = get_for_user(Partner, request.user, public_id[:40])
    period = M.parse_period(quarter)
    if not period.quarter:
        raise M.FilterError(S.NOT_A_QUARTER)
    return partner, period


def _line_rows(card: S.Scorecard):
    return [{"line": line, "actual": show(line.actual, line.unit, card.base), "previous": show(line.previous, line.unit, card.base),
             "target": show(line.target, line.unit, card.base) if line.target is not None else "—",
             "change": show(line.change, line.unit, card.base) if line.change is not None else "—",
             "attainment": show(line.attainment, "ratio", card.base) if line.attainment is not None else "—"}
            for line in card.lines]


def _scorecard_context(request, partner, period) -> dict:
    card = S.build_scorecard(partner, period)
    calendar = VendorSettings.current().calendar
    revenue = S.trend(partner, period)
    from covey.analytics.charts import Chart, Series

    chart = Chart("scorecard_trend", "Revenue closed by quarter", "bar", [label for label, _ in revenue],
                  [Series("Revenue closed", [v for _, v in revenue])], currency=card.base)
    return {"card": card, "partner": partner, "period": period, "rows": _line_rows(card),
            "previous_key": calendar.previous(period).key, "next_key": calendar.next(period).key,
            "chart": {"key": chart.key, "title": chart.title, "config": json.dumps(chart.config()), "svg": chart.svg()},
            "deals": S.top_deals(partner, period), "settings": AnalyticsSettings.current()}


@login_required
def scorecard_page(request: HttpRequest, public_id: str, quarter: str) -> HttpResponse:
    try:
        partner, period = _scorecard_args(request, public_id, quarter)
    except M.FilterError as exc:
        return _bad_filter(request, exc)
    context = _scorecard_context(request, partner, period)
    card = context["card"]
    if request.GET.get("format") == "csv":
        return csv_response(f"scorecard-{partner.public_id}-{period.key}.csv",
                            ["measure", "actual", "previous_quarter", "change", "target", "status", "currency"],
                            [(line.label, plain(line.actual, line.unit, card.base), plain(line.previous, line.unit, card.base),
                              plain(line.change, line.unit, card.base), plain(line.target, line.unit, card.base),
                              line.status or "", card.base if line.unit == "money" else "") for line in card.lines])
    context["can_note"] = services.can_keep_notes(request.user, partner)
    context["note_form"] = NoteForm(initial={"text": card.note}) if context["can_note"] else None
    return render(request, "analytics/scorecard.html", context)


@login_required
def scorecard_pdf(request: HttpRequest, public_id: str, quarter: str) -> HttpResponse:
    from covey.analytics.render import render_pdf

    try:
        partner, period = _scorecard_args(request, public_id, quarter)
    except M.FilterError as exc:
        return _bad_filter(request, exc)
    pdf = render_pdf("analytics/qbr_pdf.html", _scorecard_context(request, partner, period))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="qbr-{partner.public_id}-{period.key}.pdf"'
    return response


@login_required
@require_POST
def scorecard_note(request: HttpRequest, public_id: str, quarter: str) -> HttpResponse:
    try:
        partner, period = _scorecard_args(request, public_id, quarter)
    except M.FilterError as exc:
        return _bad_filter(request, exc)
    require(services.can_keep_notes(request.user, partner), services.NO_NOTES)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_save(actor=request.user, partner=partner, period_key=period.key, text=form.cleaned_data["text"])
        messages.success(request, "Notes saved.")
    else:
        messages.error(request, "Notes are at most 5,000 characters.")
    return redirect("analytics_scorecard", public_id=partner.public_id, quarter=period.key)


@login_required
def my_scorecard(request: HttpRequest) -> HttpResponse:
    """A partner user's scorecard for the current quarter; vendor staff pick a partner on its page."""
    if request.user.is_vendor or request.user.membership is None:
        raise Http404(PARTNERS_ONLY)
    return redirect("analytics_scorecard", public_id=request.user.membership.partner.public_id,
                    quarter=M.default_period().key)


# --- targets and settings ---------------------------------------------------------------------


@login_required
def target_list(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    base = VendorSettings.current().base_currency
    form = TargetForm(base_currency=base, initial={"period": M.default_period().key})
    if request.method == "POST":
        require(services.can_set_targets(request.user), services.NO_TARGETS)
        form = TargetForm(request.POST, base_currency=base)
        if form.is_valid():
            data = form.cleaned_data
            partner = None
            if data["partner"]:
                partner = Partner.objects.filter(public_id=data["partner"]).first()
                if partner is None:
                    form.add_error("partner", services.UNKNOWN_PARTNER)
            if not form.errors:
                try:
                    services.target_set(actor=request.user, period=data["period"], measure=data["measure"], partner=partner,
                                        tier_code=data["tier_code"], amount_minor=data["amount_minor"], value=data["number"])
                except ValidationError as exc:
                    show_service_errors(form, exc, {"period": "period", "value": "value"})
                else:
                    messages.success(request, "Target saved.")
                    return redirect("analytics_targets")
    targets = Target.objects.visible_to(request.user).select_related("partner").order_by("-period_key", "measure", "id")
    rows = []
    for t in targets[:500]:
        unit = S.UNITS.get(t.measure, "count")
        value = t.amount_minor if t.amount_minor is not None else t.value
        rows.append((t, show(value, unit, base)))
    if request.GET.get("format") == "csv":
        return csv_response("targets.csv", ["target", "period", "partner", "tier", "measure", "value", "currency"],
                            [(t.public_id, t.period_key, t.partner.name if t.partner else "", t.tier_code, t.measure,
                              plain(t.amount_minor if t.amount_minor is not None else t.value, S.UNITS.get(t.measure, "count"), base),
                              base if t.amount_minor is not None else "") for t in targets])
    return render(request, "analytics/targets.html", {"form": form, "rows": rows,
                                                      "can_set": services.can_set_targets(request.user)})


def _target_text(t: Target, base: str) -> str:
    """The target's value as typed in the forms: money in major units, win rates as a percentage."""
    if t.amount_minor is not None:
        return major(t.amount_minor, base)
    return format((t.value * 100 if t.measure == "win_rate" else t.value).normalize(), "f")


@login_required
def target_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    _vendor(request)
    target = get_for_user(Target, request.user, public_id[:40])
    require(services.can_set_targets(request.user), services.NO_TARGETS)
    base = VendorSettings.current().base_currency
    form = TargetValueForm(request.POST or None, measure=target.measure, base_currency=base,
                           initial={"value": _target_text(target, base)})
    if request.method == "POST" and form.is_valid():
        try:
            services.target_update(actor=request.user, target=target, amount_minor=form.cleaned_data["amount_minor"],
                                   value=form.cleaned_data["number"])
        except ValidationError as exc:
            show_service_errors(form, exc, {"value": "value"})
        else:
            messages.success(request, "Target updated.")
            return redirect("analytics_targets")
    return render(request, "analytics/target_edit.html", {"form": form, "target": target})


@login_required
@require_POST
def target_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    _vendor(request)
    target = get_for_user(Target, request.user, public_id[:40])
    require(services.can_set_targets(request.user), services.NO_TARGETS)
    services.target_delete(actor=request.user, target=target)
    messages.success(request, "Target deleted.")
    return redirect("analytics_targets")


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    _vendor(request)
    require(request.user.staff_role == StaffRole.ADMIN, services.NO_SETTINGS)
    s = AnalyticsSettings.current()
    base = VendorSettings.current().base_currency
    initial = {"active_rule": s.active_rule, "overhead": major(s.overhead_per_quarter_minor, base),
               "green_percent": (s.green_at * 100).quantize(Decimal(1)), "amber_percent": (s.amber_at * 100).quantize(Decimal(1))}
    form = SettingsForm(request.POST or None, base_currency=base, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.settings_update(actor=request.user, active_rule=d["active_rule"], overhead_minor=d["overhead_minor"],
                                     green_at=d["green_percent"] / 100, amber_at=d["amber_percent"] / 100)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, "Analytics settings saved.")
            return redirect(reverse("analytics_settings"))
    return render(request, "analytics/settings.html", {"form": form, "exponent": currency_exponent(base)})
