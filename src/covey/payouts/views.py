"""Payout pages: quarter runs, the FX table, statements (lines, disputes, approval, CSV and PDF),
payout batches, a partner's earnings, and the simulator.

Statements and earnings are shared with the partner itself through ``visible_to``; runs, FX rates,
batches and the simulator are finance's own pages (a partner user gets 404, other staff read them
and finance and admins act).
"""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from covey.core import audit
from covey.core.access import get_for_user, require
from covey.core.csvsafe import safe_cell
from covey.core.formtools import error_text, show_service_errors
from covey.core.listing import Filter, build_listing, render_list
from covey.core.models import VendorSettings
from covey.core.money import Money
from covey.crm.models import Opportunity
from covey.partners.models import Partner
from covey.payouts import selectors, services
from covey.payouts import statements as S
from covey.payouts.forms import (
    BatchForm,
    DealEventForm,
    DisputeForm,
    FxRateForm,
    MarkPaidForm,
    RefreshForm,
    ResolveForm,
    RunForm,
    SimulateForm,
    program_choices,
)
from covey.payouts.models import (
    BatchStatus,
    DisputeStatus,
    FxRate,
    PayoutBatch,
    PayoutRun,
    RunKind,
    Source,
    Statement,
    StatementStatus,
)
from covey.programs.models import Program

CHART_BARS = 40


def _finance(request: HttpRequest) -> None:
    selectors.require_vendor(request.user)
    require(selectors.is_finance(request.user), selectors.NO_FINANCE)


def _partner_choices(user):
    return [(p.public_id, p.name) for p in Partner.objects.visible_to(user).filter(statements__isnull=False)
            .distinct().order_by("name")]


def _period_choices(queryset):
    keys = queryset.order_by().values_list("period_key", flat=True).distinct()
    return [(k, k) for k in sorted(set(keys), reverse=True)]


# --- runs ----------------------------------------------------------------------------------------


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    selectors.require_vendor(request.user)
    listing = build_listing(
        request, selectors.runs(),
        filters=[Filter("program", "Program", lookup="program__public_id", choices=program_choices),
                 Filter("period", "Quarter", lookup="period_key", choices=lambda: _period_choices(selectors.runs()))],
        sorts={"started": ["started_at"]}, default_sort="-started",
    )
    form = RunForm(initial={"period": (services.closed_quarters(count=1) or [""])[0]}) if selectors.is_finance(request.user) else None
    return render_list(request, "payouts/run_list.html", "payouts/_run_results.html",
                       {"listing": listing, "form": form})


@login_required
def run_start(request: HttpRequest) -> HttpResponse:
    """GET with program and quarter: the confirmation; POST: run it."""
    _finance(request)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = RunForm(data, initial={"period": (services.closed_quarters(count=1) or [""])[0]})
    if not form.is_valid():
        return render(request, "payouts/run_confirm.html", {"form": form}, status=200)
    program = form.chosen_program()
    period = form.cleaned_data["period"]
    if request.method != "POST":
        posted_before = selectors.runs().filter(program=program, period_key=period).count()
        return render(request, "payouts/run_confirm.html", {"form": form, "program": program, "period": period,
                                                            "posted_before": posted_before})
    try:
        run = services.quarter_run(program=program, period_key=period, actor=request.user)
    except ValidationError as exc:
        fx = exc.error_dict.get("fx") if hasattr(exc, "error_dict") else None
        missing = (fx[0].params or {}).get("currencies") if fx else None
        if not missing:
            show_service_errors(form, exc)
        return render(request, "payouts/run_confirm.html", {
            "form": form, "program": program, "period": period, "missing_fx": missing,
            "fx_message": " ".join(fx[0].messages) if fx else "",
        })
    figures = run.figures
    messages.success(request, f"{program.name} {run.period_key} is posted: {figures.get('new_entries', 0)} new entries, "
                              f"{figures.get('reversals', 0)} reversals.")
    return redirect("payout_run_detail", public_id=run.public_id)


@login_required
def run_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    selectors.require_vendor(request.user)
    run = selectors.runs().filter(public_id=public_id).first()
    if run is None:
        raise Http404("No payout run with that id")
    entries = run.entries.all()
    return render(request, "payouts/run_detail.html", {
        "run": run, "totals": selectors.entry_totals(entries),
        "statements": Statement.objects.filter(program=run.program, period_key=run.period_key).count(),
        "refresh_form": RefreshForm(initial={"program": run.program.public_id, "period": run.period_key})
        if selectors.is_finance(request.user) else None,
    })


# --- FX rates ------------------------------------------------------------------------------------


@login_required
def fx_list(request: HttpRequest) -> HttpResponse:
    selectors.require_vendor(request.user)
    form = FxRateForm(request.POST or None) if selectors.is_finance(request.user) else None
    if request.method == "POST":
        require(form is not None, selectors.NO_FINANCE)
        if form.is_valid():
            d = form.cleaned_data
            try:
                fx = services.fx_rate_set(period_key=d["period"], currency=d["currency"], per_base=d["per_base"],
                                          actor=request.user)
            except ValidationError as exc:
                show_service_errors(form, exc, {"period": "period", "per_base": "per_base"})
            else:
                messages.success(request, f"Saved: {fx}.")
                return redirect("fx_rate_list")
    listing = build_listing(
        request, FxRate.objects.all(),
        filters=[Filter("period", "Quarter", lookup="period_key", choices=lambda: _period_choices(FxRate.objects.all())),
                 Filter("currency", "Currency", lookup="currency",
                        choices=lambda: [(c, c) for c in FxRate.objects.order_by("currency").values_list("currency", flat=True).distinct()])],
        sorts={"period": ["period_key", "currency"]}, default_sort="-period",
    )
    return render_list(request, "payouts/fx_list.html", "payouts/_fx_results.html",
                       {"listing": listing, "form": form, "base": VendorSettings.current().base_currency})


# --- statements ----------------------------------------------------------------------------------


@login_required
def statement_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs = selectors.statements(user=user)
    filters = [
        Filter("status", "Status", lookup="status", choices=StatementStatus.choices),
        Filter("program", "Program", lookup="program__public_id",
               choices=lambda: [(p.public_id, p.name) for p in Program.objects.visible_to(user).order_by("name")]),
        Filter("period", "Period", lookup="period_key", choices=lambda: _period_choices(qs)),
    ]
    if user.is_vendor:
        filters.append(Filter("partner", "Partner", lookup="partner__public_id", choices=lambda: _partner_choices(user)))
    listing = build_listing(request, qs, search=("partner__name",) if user.is_vendor else (), filters=filters,
                            sorts={"period": ["period_end", "partner__name"], "partner": ["partner__name", "period_end"],
                                   "total": ["total_minor"], "status": ["status", "period_end"]},
                            default_sort="-period")
    refresh_form = RefreshForm(initial={"period": (services.closed_quarters(count=1) or [""])[0]}) \
        if selectors.is_finance(user) else None
    return render_list(request, "payouts/statement_list.html", "payouts/_statement_results.html", {
        "listing": listing, "refresh_form": refresh_form,
        "open_disputes": selectors.open_disputes_of(listing.queryset),
    })


@login_required
@require_POST
def statements_refresh(request: HttpRequest) -> HttpResponse:
    _finance(request)
    form = RefreshForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a program and a statement period such as 2026Q3.")
        return redirect("statement_list")
    program = form.chosen_program()
    try:
        period = S.parse_statement_period(program, form.cleaned_data["period"])
        figures = S.statements_refresh(program=program, period=period, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"{program.name} {period.key}: {figures['statements_created']} new statements, "
                                  f"{figures['lines_added']} lines added.")
    return redirect(f"{reverse('statement_list')}?program={program.public_id}&period={form.cleaned_data['period']}")


def _statement(request: HttpRequest, public_id: str) -> Statement:
    return get_for_user(Statement, request.user, public_id, select=("partner", "program", "batch"))


def _statement_context(request: HttpRequest, statement: Statement) -> dict:
    user = request.user
    lines = selectors.statement_lines(statement)
    open_disputes = [d for e in lines for d in e.dispute_list if d.status == DisputeStatus.OPEN]
    partner_admin = selectors.is_partner_admin_of(user, statement.partner_id)
    finance = selectors.is_finance(user)
    editable = statement.status in (StatementStatus.DRAFT, StatementStatus.ACKNOWLEDGED, StatementStatus.DISPUTED)
    return {
        "statement": statement,
        "lines": lines,
        "total": Money(statement.total_minor, statement.currency),
        "held": list(S.held_entries(statement).order_by("posted_at", "id")[:200]),
        "open_disputes": open_disputes,
        "can_acknowledge": partner_admin and statement.status == StatementStatus.DRAFT and not open_disputes,
        "can_dispute": partner_admin and editable,
        "can_decide": finance,
        "can_approve": finance and statement.status in (StatementStatus.DRAFT, StatementStatus.ACKNOWLEDGED)
        and not open_disputes,
        "history": audit.history(statement)[:30] if user.is_vendor else None,
    }


@login_required
def statement_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    statement = _statement(request, public_id)
    return render(request, "payouts/statement_detail.html", _statement_context(request, statement))


@login_required
@require_POST
def statement_acknowledge(request: HttpRequest, public_id: str) -> HttpResponse:
    statement = _statement(request, public_id)
    require(selectors.is_partner_admin_of(request.user, statement.partner_id), selectors.NO_PARTNER_ADMIN)
    try:
        S.statement_acknowledge(statement=statement, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "Statement acknowledged; finance is told it is ready for approval.")
    return redirect("statement_detail", public_id=statement.public_id)


@login_required
@require_POST
def statement_approve(request: HttpRequest, public_id: str) -> HttpResponse:
    statement = _statement(request, public_id)
    require(selectors.is_finance(request.user), selectors.NO_FINANCE)
    try:
        S.statement_approve(statement=statement, actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "Statement approved; it goes into the next payout batch in its currency.")
    return redirect("statement_detail", public_id=statement.public_id)


@login_required
def line_dispute(request: HttpRequest, public_id: str, entry_id: str) -> HttpResponse:
    statement = _statement(request, public_id)
    require(selectors.is_partner_admin_of(request.user, statement.partner_id), selectors.NO_PARTNER_ADMIN)
    entry = selectors.entry_on_statement(statement, entry_id)
    form = DisputeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            S.line_dispute(statement=statement, entry=entry, actor=request.user, comment=form.cleaned_data["comment"],
                           files=form.cleaned_data["files"])
        except ValidationError as exc:
            show_service_errors(form, exc, {"entry": "__all__"})
        else:
            messages.success(request, "Your dispute is sent; finance decides it and you are told the outcome.")
            return redirect("statement_detail", public_id=statement.public_id)
    return render(request, "payouts/dispute_form.html", {"statement": statement, "entry": entry, "form": form})


def _dispute(request: HttpRequest, public_id: str):
    return selectors.dispute_for(request.user, public_id)


@login_required
def dispute_resolve(request: HttpRequest, public_id: str) -> HttpResponse:
    dispute = _dispute(request, public_id)
    require(selectors.is_finance(request.user), selectors.NO_FINANCE)
    statement = dispute.statement
    form = ResolveForm(request.POST or None, currency=statement.currency)
    if request.method == "POST" and form.is_valid():
        try:
            S.dispute_resolve(dispute=dispute, actor=request.user, amount_minor=form.cleaned_data["amount_minor"],
                              note=form.cleaned_data["note"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            amount = form.cleaned_data["amount_minor"]
            messages.success(request, f"Dispute decided: adjustment of {Money(amount, statement.currency)} added."
                             if amount else "Dispute rejected; the partner is told why.")
            return redirect("statement_detail", public_id=statement.public_id)
    return render(request, "payouts/dispute_resolve.html", {"dispute": dispute, "statement": statement, "form": form})


@login_required
def dispute_file(request: HttpRequest, public_id: str, file_id: str) -> HttpResponse:
    dispute = _dispute(request, public_id)
    stored = selectors.dispute_file_for(request.user, dispute, file_id)
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is no longer stored") from None
    return FileResponse(handle, as_attachment=True, filename=stored.name,
                        content_type=stored.content_type or "application/octet-stream")


STATEMENT_COLUMNS = ["line", "period", "source", "explanation", "deal", "base", "rate", "amount", "currency", "posted_at"]


def _statement_rows(statement: Statement, lines) -> list[list]:
    rows = []
    for e in lines:
        base = Money(e.base_minor, e.currency).amount if e.base_minor is not None else ""
        rows.append([e.public_id, e.period_key, e.get_source_display(), safe_cell(e.explanation),
                     e.opportunity.public_id if e.opportunity_id and e.opportunity else "", base,
                     e.rate.normalize() if e.rate is not None else "", Money(e.amount_minor, e.currency).amount,
                     e.currency, e.posted_at.isoformat()])
    return rows


@login_required
def statement_csv(request: HttpRequest, public_id: str) -> HttpResponse:
    statement = _statement(request, public_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STATEMENT_COLUMNS)
    writer.writerows(_statement_rows(statement, selectors.statement_lines(statement)))
    writer.writerow(["total", statement.period_key, "", "", "", "", "", Money(statement.total_minor, statement.currency).amount,
                     statement.currency, ""])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.public_id}.csv"'
    return response


@login_required
def statement_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    from covey.agreements.render import html_to_pdf

    statement = _statement(request, public_id)
    html = render_to_string("payouts/statement_pdf.html", {
        "statement": statement, "lines": selectors.statement_lines(statement),
        "total": Money(statement.total_minor, statement.currency), "vendor": VendorSettings.current(),
    })
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.public_id}.pdf"'
    return response


# --- earnings (the ledger, one partner's view) -----------------------------------------------------


@login_required
def earnings(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs = selectors.entries(user=user)
    filters = [
        Filter("period", "Quarter", lookup="period_key", choices=lambda: _period_choices(selectors.entries(user=user))),
        Filter("source", "Source", lookup="source", choices=Source.choices),
        Filter("program", "Program", lookup="program__public_id",
               choices=lambda: [(p.public_id, p.name) for p in Program.objects.visible_to(user).order_by("name")]),
    ]
    if user.is_vendor:
        filters.append(Filter("partner", "Partner", kind="lookup", lookup_kind="partners", lookup="partner__public_id"))
    listing = build_listing(request, qs, search=("explanation",), filters=filters,
                            sorts={"posted": ["posted_at"], "amount": ["amount_minor"]}, default_sort="-posted")
    return render_list(request, "payouts/earnings.html", "payouts/_earnings_results.html", {
        "listing": listing, "totals": selectors.entry_totals(listing.queryset),
    })


# --- payout batches --------------------------------------------------------------------------------


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    selectors.require_vendor(request.user)
    payable = selectors.payable_by_currency()
    form = BatchForm(currencies=[p["currency"] for p in payable]) if selectors.is_finance(request.user) and payable else None
    listing = build_listing(request, selectors.batches(),
                            filters=[Filter("status", "Status", lookup="status", choices=BatchStatus.choices)],
                            sorts={"created": ["created_at"]}, default_sort="-created")
    return render_list(request, "payouts/batch_list.html", "payouts/_batch_results.html",
                       {"listing": listing, "payable": payable, "form": form})


@login_required
@require_POST
def batch_create(request: HttpRequest) -> HttpResponse:
    _finance(request)
    payable = selectors.payable_by_currency()
    form = BatchForm(request.POST, currencies=[p["currency"] for p in payable])
    if not form.is_valid():
        messages.error(request, "There are no approved statements waiting in that currency.")
        return redirect("batch_list")
    try:
        batch = S.batch_create(currency=form.cleaned_data["currency"], actor=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("batch_list")
    messages.success(request, f"Batch {batch.public_id} made: {Money(batch.total_minor, batch.currency)}. "
                              "Download the payment file, pay it, then mark it paid.")
    return redirect("batch_detail", public_id=batch.public_id)


def _batch(request: HttpRequest, public_id: str) -> PayoutBatch:
    selectors.require_vendor(request.user)
    batch = selectors.batches().filter(public_id=public_id).first()
    if batch is None:
        raise Http404("No payout batch with that id")
    return batch


@login_required
def batch_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    batch = _batch(request, public_id)
    return render(request, "payouts/batch_detail.html", {
        "batch": batch, "statements": batch.statements.select_related("partner", "program").order_by("partner__name"),
        "can_pay": selectors.is_finance(request.user) and batch.status != BatchStatus.PAID,
        "is_finance": selectors.is_finance(request.user), "history": audit.history(batch)[:20],
    })


@login_required
def batch_csv(request: HttpRequest, public_id: str) -> HttpResponse:
    batch = _batch(request, public_id)
    require(selectors.is_finance(request.user), selectors.NO_FINANCE)
    response = HttpResponse(S.batch_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payout-batch-{batch.public_id}.csv"'
    return response


@login_required
def batch_mark_paid(request: HttpRequest, public_id: str) -> HttpResponse:
    batch = _batch(request, public_id)
    require(selectors.is_finance(request.user), selectors.NO_FINANCE)
    form = MarkPaidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            S.batch_mark_paid(batch=batch, actor=request.user, reference=form.cleaned_data["reference"])
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Batch {batch.public_id} is marked paid; the partners are told.")
            return redirect("batch_detail", public_id=batch.public_id)
    return render(request, "payouts/batch_mark_paid.html", {"batch": batch, "form": form})


# --- the simulator -----------------------------------------------------------------------------------


@login_required
def simulator(request: HttpRequest) -> HttpResponse:
    _finance(request)
    form = SimulateForm(request.POST or None, quarters=services.closed_quarters())
    if request.method == "POST" and form.is_valid():
        try:
            run = services.simulate(draft=form.chosen_version(), period_keys=form.cleaned_data["periods"],
                                    actor=request.user)
        except ValidationError as exc:
            show_service_errors(form, exc, {"fx": "__all__"})
        else:
            return redirect("simulation_detail", public_id=run.public_id)
    return render(request, "payouts/simulator.html", {"form": form, "recent": selectors.simulations()[:10]})


@login_required
def simulation_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    _finance(request)
    run: PayoutRun | None = selectors.simulations().filter(public_id=public_id, kind=RunKind.SIMULATE).first()
    if run is None:
        raise Http404("No simulation with that id")
    gainers, losers = selectors.gainers_losers(run.figures)
    rows = run.figures.get("rows", [])
    # The chart shows the largest differences (a bar per partner stops being readable past a few dozen).
    charted = sorted(rows, key=lambda r: (-abs(r["difference"]), r["partner"]))[:CHART_BARS]
    chart = {"labels": [r["partner"] for r in charted], "currency": [r["currency"] for r in charted],
             # Chart.js draws numbers: major units as decimal strings, parsed by the script for display only.
             "posted": [str(Money(r["posted"], r["currency"]).amount) for r in charted],
             "simulated": [str(Money(r["simulated"], r["currency"]).amount) for r in charted]}
    return render(request, "payouts/simulation_detail.html", {
        "run": run, "totals": run.figures.get("totals", {}), "rows": rows, "gainers": gainers, "losers": losers,
        "chart": chart, "charted": len(charted),
    })


# --- deal events (on the opportunity page) -----------------------------------------------------------


@login_required
@require_POST
def deal_event_add(request: HttpRequest, public_id: str) -> HttpResponse:
    from covey.crm import services as crm

    opportunity = get_for_user(Opportunity, request.user, public_id,
                               write_check=lambda u, _o: selectors.is_finance(u))
    form = DealEventForm(request.POST, currency=opportunity.currency)
    if form.is_valid():
        d = form.cleaned_data
        try:
            event = crm.deal_event_record(opportunity=opportunity, kind=d["kind"], occurred_on=d["occurred_on"],
                                          amount_minor=d["amount"], note=d["note"], actor=request.user)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Recorded: {event}. The next run of its quarter takes it into account.")
    else:
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()
                                         if f in form.fields) or "Check the event and try again.")
    return redirect(f"{reverse('opportunity_detail', kwargs={'public_id': opportunity.public_id})}#events")
