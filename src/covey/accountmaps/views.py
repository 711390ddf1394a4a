"""Account mapping pages. Every read of mapping results goes through ``covey.accountmaps.selectors``
(lists through ``visible_to``: another partner's list is a 404; the other side's records only as far
as its sharing allows); every write checks ``covey.accountmaps.access`` and calls one service."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from covey.accountmaps import access, selectors, services
from covey.accountmaps.forms import (
    ColumnsForm,
    IntroductionForm,
    PopulationForm,
    SharingForm,
    UploadForm,
)
from covey.accountmaps.importing import ALL_FIELDS
from covey.accountmaps.models import (
    SHAREABLE_FIELDS,
    AccountList,
    ListFile,
    Population,
    SharingLevel,
    SharingRule,
)
from covey.core.access import get_for_user, require
from covey.core.csvsafe import safe_cell
from covey.core.formtools import error_text, show_service_errors
from covey.partners.models import Partner

MAX_SHOWN = 500
NO_UPLOAD = "Your role cannot upload account lists for this partner."
NO_POPULATIONS = "Each side defines the populations of its own list; your role cannot change these."
NO_SHARING = "Each side decides what it shares of its own populations; your role cannot change this."
NO_RUN = "Your role cannot start mapping runs for this list."
NO_TARGET_ACTION = "Your role can view co-sell targets but not act on them."
FIELD_LABELS = dict(SHAREABLE_FIELDS) | {"name": "Name"}
TARGETS = (
    ("prospects", "customers", "Our prospects that are their customers"),
    ("open_opportunities", "customers", "Our open opportunities at their customers"),
    ("customers", "prospects", "Our customers that are their prospects"),
)


def _list(user, public_id: str) -> AccountList:
    return get_for_user(AccountList, user, public_id, select=("partner",))


def _upload_partners(user):
    return [(p.public_id, p.name) for p in Partner.objects.visible_to(user).select_related("owner").order_by("name")
            if access.can_upload_for(user, p)]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    lists = selectors.partner_lists(user=user).order_by("partner__name", "name")
    context = {
        "lists": lists, "our_list": selectors.our_list() if user.is_vendor else None,
        "can_manage_ours": access.can_manage_our_list(user), "can_upload": bool(_upload_partners(user)),
    }
    return render(request, "accountmaps/home.html", context)


def _show_report(request, template: str, context: dict) -> HttpResponse:
    return render(request, template, context, status=422 if context.get("report") and context["report"].fatal else 200)


@login_required
def list_upload(request: HttpRequest) -> HttpResponse:
    user = request.user
    partners = _upload_partners(user)
    require(bool(partners), NO_UPLOAD)
    form = UploadForm(request.POST or None, request.FILES or None, partners=partners if user.is_vendor else None)
    report = None
    if request.method == "POST" and form.is_valid():
        partner = (Partner.objects.get(public_id=form.cleaned_data["partner"]) if user.is_vendor
                   else user.membership.partner)
        upload = form.cleaned_data["file"]
        account_list, result = services.list_import(partner=partner, actor=user, data=upload.read(), filename=upload.name,
                                                    name=form.cleaned_data.get("name", ""))
        if account_list is not None:
            messages.success(request, f"Imported {account_list.row_count:,} rows into “{account_list.name}”; mapping has started.")
            return redirect("mapping_list_detail", public_id=account_list.public_id)
        report = result.report
    return _show_report(request, "accountmaps/upload.html", {"form": form, "report": report, "show_problems": True})


def _list_context(user, account_list: AccountList, **extra) -> dict:
    stored = ListFile.objects.filter(account_list=account_list).exists()
    headers = [h for h in (account_list.report.get("columns", {}) or {}).values()]
    headers += list(account_list.report.get("domain_columns", []) or []) + list(account_list.report.get("ignored_columns", []) or [])
    run_view = selectors.mapping_view(user=user, their_list=account_list) if account_list.partner_id else None
    context = {
        "account_list": account_list, "report": account_list.report, "populations": account_list.populations.all(),
        "can_upload": access.can_upload_list(user, account_list), "can_define": access.can_define_populations(user, account_list),
        "can_run": access.can_run(user, account_list), "stored_file": stored,
        "columns_form": ColumnsForm(headers=headers, current=account_list.columns) if stored and headers else None,
        "field_labels": dict(ALL_FIELDS), "refresh_form": UploadForm(refresh=True), "population_form": PopulationForm(),
        "view": run_view, "show_problems": access.sees_report_rows(user, account_list),
    }
    return {**context, **extra}


@login_required
def list_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    account_list = _list(request.user, public_id)
    return render(request, "accountmaps/list_detail.html", _list_context(request.user, account_list))


@login_required
@require_POST
def list_refresh(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    account_list = _list(user, public_id)
    require(access.can_upload_list(user, account_list), NO_UPLOAD)
    form = UploadForm(request.POST, request.FILES, refresh=True)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            done, result = services.list_import(partner=account_list.partner, actor=user, data=upload.read(),
                                                filename=upload.name, account_list=account_list)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return redirect("mapping_list_detail", public_id=account_list.public_id)
        if done is not None:
            messages.success(request, f"Read {done.row_count:,} rows (version {done.version}); mapping again. "
                                      "The previous results stay until the new run finishes.")
            return redirect("mapping_list_detail", public_id=account_list.public_id)
        context = _list_context(user, account_list, refresh_form=form, failed_report=result.report)
        return render(request, "accountmaps/list_detail.html", context, status=422)
    return render(request, "accountmaps/list_detail.html", _list_context(user, account_list, refresh_form=form))


@login_required
@require_POST
def list_columns(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    account_list = _list(user, public_id)
    require(access.can_upload_list(user, account_list), NO_UPLOAD)
    headers = list(account_list.report.get("columns", {}).values()) + list(account_list.report.get("domain_columns", [])) \
        + list(account_list.report.get("ignored_columns", []))
    form = ColumnsForm(request.POST, headers=headers, current=account_list.columns)
    if not form.is_valid():
        messages.error(request, "Choose columns from the file's headers.")
        return redirect("mapping_list_detail", public_id=account_list.public_id)
    try:
        done, result = services.list_remap_columns(account_list=account_list, actor=user, columns=form.columns())
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("mapping_list_detail", public_id=account_list.public_id)
    if done is None:
        messages.error(request, f"Nothing changed: {result.report.fatal}")
    else:
        messages.success(request, f"Read the file again with your columns (version {done.version}); mapping again.")
    return redirect("mapping_list_detail", public_id=account_list.public_id)


@login_required
@require_POST
def our_list_rebuild(request: HttpRequest) -> HttpResponse:
    require(access.can_manage_our_list(request.user), NO_POPULATIONS)
    account_list = services.our_list_rebuild(actor=request.user)
    messages.success(request, f"Our list now holds the CRM's {account_list.row_count:,} accounts (version {account_list.version}).")
    return redirect("mapping_list_detail", public_id=account_list.public_id)


@login_required
@require_POST
def population_create(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    account_list = _list(user, public_id)
    require(access.can_define_populations(user, account_list), NO_POPULATIONS)
    form = PopulationForm(request.POST)
    if form.is_valid():
        try:
            population = services.population_create(account_list=account_list, actor=user, name=form.cleaned_data["name"],
                                                    filters=form.filters())
        except ValidationError as exc:
            show_service_errors(form, exc)
        else:
            messages.success(request, f"Population “{population.name}” added.")
            return redirect("mapping_list_detail", public_id=account_list.public_id)
    return render(request, "accountmaps/list_detail.html", _list_context(user, account_list, population_form=form))


def _population(user, public_id: str) -> Population:
    return get_for_user(Population, user, public_id, select=("account_list__partner",))


@login_required
@require_POST
def population_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    population = _population(user, public_id)
    require(access.can_define_populations(user, population.account_list), NO_POPULATIONS)
    try:
        services.population_delete(population=population, actor=user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"Population “{population.name}” removed.")
    return redirect("mapping_list_detail", public_id=population.account_list.public_id)


@login_required
@require_POST
def sharing_set(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    population = _population(user, public_id)
    form = SharingForm(request.POST)
    owner_partner = population.account_list.partner
    if owner_partner is not None:
        partner = owner_partner
    else:
        partner = Partner.objects.visible_to(user).filter(public_id=request.POST.get("partner", "")).first()
        if partner is None:
            require(access.can_manage_our_list(user), NO_SHARING)
            raise Http404("No partner with that id")
    require(access.can_set_sharing(user, population, partner), NO_SHARING)
    back = request.POST.get("list") or ""
    target = AccountList.objects.visible_to(user).filter(public_id=back, partner=partner).first()
    if not form.is_valid():
        messages.error(request, "Choose a sharing level.")
    else:
        try:
            services.sharing_set(population=population, partner=partner, actor=user, level=form.cleaned_data["level"],
                                 fields=form.cleaned_data["fields"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"“{population.name}” is shared with {partner.name if owner_partner is None else 'the vendor'} "
                                      f"as {SharingLevel(form.cleaned_data['level']).label.lower()}.")
    if target is not None:
        return redirect("mapping_matrix", public_id=target.public_id)
    return redirect("mapping_home")


@login_required
@require_POST
def run_start(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    account_list = _list(user, public_id)
    require(access.can_run(user, account_list), NO_RUN)
    try:
        services.run_request(account_list=account_list, actor=user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "Mapping started; the current results stay until it finishes.")
    return redirect("mapping_matrix", public_id=account_list.public_id)


@login_required
def run_status(request: HttpRequest, public_id: str) -> HttpResponse:
    view = selectors.mapping_view(user=request.user, their_list=public_id)
    return render(request, "accountmaps/_run_status.html", {"view": view})


def _sharing_rows(user, view) -> list[dict]:
    """The viewer's own populations with what they share with the other side (the forms on the matrix page)."""
    own = view.ours if view.viewer_is_vendor else view.theirs
    rules = {r.population_id: r for r in SharingRule.objects.filter(population__in=[p.population for p in own], partner=view.partner)}
    rows = []
    for p in own:
        rule = rules.get(p.population.pk)
        rows.append({"population": p.population, "level": rule.level if rule else SharingLevel.COUNTS,
                     "fields": rule.fields if rule else [],
                     "can_set": access.can_set_sharing(user, p.population, view.partner)})
    return rows


@login_required
def matrix(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    view = selectors.mapping_view(user=user, their_list=public_id)
    cells = selectors.matrix(view)
    grid = [(o, [(t, cells.get((o.public_id, t.public_id))) for t in view.theirs]) for o in view.ours]
    context = {
        "view": view, "grid": grid, "totals": selectors.totals(view), "sharing_rows": _sharing_rows(user, view),
        "levels": SharingLevel.choices, "shareable": SHAREABLE_FIELDS, "can_run": access.can_run(user, view.their_list),
    }
    return render(request, "accountmaps/matrix.html", context)


def _cell(request: HttpRequest, public_id: str):
    view = selectors.mapping_view(user=request.user, their_list=public_id)
    # Without a cell named, the first one (the matrix's top left).
    o = view.population(request.GET.get("ours") or (view.ours[0].public_id if view.ours else None), "ours")
    t = view.population(request.GET.get("theirs") or (view.theirs[0].public_id if view.theirs else None), "theirs")
    return view, o, t


@login_required
def overlaps(request: HttpRequest, public_id: str) -> HttpResponse:
    view, o, t = _cell(request, public_id)
    try:
        records, refused = selectors.overlap_records(view, ours=o.public_id, theirs=t.public_id, limit=MAX_SHOWN), None
    except selectors.NotShared as exc:
        records, refused = [], exc.message
    context = {"view": view, "o": o, "t": t, "records": records, "refused": refused, "labels": FIELD_LABELS,
               "max_shown": MAX_SHOWN, "count": selectors.matrix(view).get((o.public_id, t.public_id), 0),
               "can_act": access.can_act_on_targets(request.user, view.partner),
               "can_register": access.can_register_from_targets(request.user, view)}
    return render(request, "accountmaps/overlaps.html", context)


@login_required
def overlaps_export(request: HttpRequest, public_id: str) -> HttpResponse:
    view, o, t = _cell(request, public_id)
    try:
        records = selectors.overlap_records(view, ours=o.public_id, theirs=t.public_id)
    except selectors.NotShared as exc:
        return HttpResponse(exc.message, status=403, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="overlaps.csv"'
    writer = csv.writer(response)
    writer.writerow(["overlap", "kind", "score"] + [f"our {f}" for f in o.fields] + [f"their {f}" for f in t.fields])
    for r in records:
        writer.writerow([r["id"], r["kind"], r["score"]] + [safe_cell(r["ours"][f]) for f in o.fields]
                        + [safe_cell(r["theirs"][f]) for f in t.fields])
    return response


@login_required
def population_records(request: HttpRequest, public_id: str, population_id: str) -> HttpResponse:
    view = selectors.mapping_view(user=request.user, their_list=public_id)
    side = "ours" if any(p.public_id == population_id for p in view.ours) else "theirs"
    pop = view.population(population_id, side)
    try:
        records, refused = selectors.population_records(view, population=pop.public_id, side=side, limit=MAX_SHOWN), None
    except selectors.NotShared as exc:
        records, refused = [], exc.message
    return render(request, "accountmaps/population_records.html", {
        "view": view, "pop": pop, "records": records, "refused": refused, "labels": FIELD_LABELS, "max_shown": MAX_SHOWN,
    })


@login_required
def targets(request: HttpRequest, public_id: str) -> HttpResponse:
    view = selectors.mapping_view(user=request.user, their_list=public_id)
    cells = selectors.matrix(view)
    sections = []
    for our_kind, their_kind, label in TARGETS:
        o = next((p for p in view.ours if p.population.kind == our_kind), None)
        t = next((p for p in view.theirs if p.population.kind == their_kind), None)
        if o is None or t is None:
            continue
        try:
            records, refused = selectors.overlap_records(view, ours=o.public_id, theirs=t.public_id, limit=MAX_SHOWN), None
        except selectors.NotShared as exc:
            records, refused = [], exc.message
        sections.append({"label": label, "o": o, "t": t, "count": cells.get((o.public_id, t.public_id), 0),
                         "records": records, "refused": refused})
    return render(request, "accountmaps/targets.html", {
        "view": view, "sections": sections, "labels": FIELD_LABELS,
        "can_act": access.can_act_on_targets(request.user, view.partner), "intro_form": IntroductionForm(),
        "can_register": access.can_register_from_targets(request.user, view),
    })


@login_required
@require_POST
def pair_plan(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    pair, view = selectors.pair_for_user(user=user, public_id=public_id)
    require(access.can_start_plan(user), NO_TARGET_ACTION)
    try:
        plan = services.plan_from_pair(pair=pair, actor=user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("mapping_targets", public_id=view.their_list.public_id)
    messages.success(request, f"Joint account plan “{plan.title}” created.")
    return redirect("joint_plan_detail", public_id=plan.public_id)


@login_required
@require_POST
def pair_introduce(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request.user
    pair, view = selectors.pair_for_user(user=user, public_id=public_id)
    require(access.can_act_on_targets(user, view.partner), NO_TARGET_ACTION)
    form = IntroductionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    services.introduction_request(pair=pair, actor=user, note=note)
    messages.success(request, "Introduction requested; the other side has been notified.")
    return redirect("mapping_targets", public_id=view.their_list.public_id)
