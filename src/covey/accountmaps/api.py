"""Account mapping over the API: lists (upload, refresh, import report), populations, sharing,
runs, the overlap matrix and overlap records, and the co-sell actions.

Scoped exactly as the pages: lists through ``visible_to`` (another partner's list is a 404), every
result through ``covey.accountmaps.selectors`` (the other side's populations and records only as
far as its sharing allows), every write checked by ``covey.accountmaps.access`` and done by one
service. Uploads are JSON (``content`` as text, or ``content_base64``) so the same client code
sends CSV and XLSX.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from ninja import Query, Router

from covey.accountmaps import access, selectors, services
from covey.accountmaps.models import AccountList, MappingRun, Population, SharingLevel
from covey.accountmaps.schemas import (
    IntroductionIn,
    IntroductionOut,
    ListFilters,
    ListOut,
    ListPage,
    MatrixOut,
    OverlapFilters,
    OverlapPage,
    PopulationIn,
    PopulationOut,
    RunOut,
    SharingIn,
    SharingOut,
    UploadIn,
)
from covey.core.access import get_for_user, require
from covey.core.api import (
    ApiError,
    create_once,
    idempotency_key_header,
    lookup,
    no_content,
    page,
    uploaded_bytes,
    user_of,
)
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, OutSchema, ref
from covey.crm.import_views import max_upload_bytes
from covey.partners.models import Partner

router = Router(tags=["account mapping"])

NO_UPLOAD = "Your role cannot upload account lists for this partner."
NO_POPULATIONS = "Each side defines the populations of its own list; your role cannot change these."
NO_SHARING = "Each side decides what it shares of its own populations; your role cannot change this."
NO_RUN = "Your role cannot start mapping runs for this list."
NO_ACTION = "Your role can view co-sell targets but not act on them."
PARTNER_REQUIRED = "Name the partner whose list this is."


def run_out(run: MappingRun | None) -> dict | None:
    if run is None:
        return None
    return {"id": run.public_id, "status": run.status, "progress": run.progress, "stage": run.stage, "error": run.error,
            "counts": run.counts, "incremental": run.incremental, "rematched_rows": run.rematched_rows,
            "full_reason": run.full_reason, "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at}


def list_out(account_list: AccountList, user=None) -> dict:
    report = dict(account_list.report or {})
    if user is not None and not access.sees_report_rows(user, account_list):
        report.pop("problems", None)
    return {
        "id": account_list.public_id, "name": account_list.name, "partner": ref(account_list.partner),
        "version": account_list.version, "rows": account_list.row_count, "filename": account_list.filename,
        "columns": account_list.columns, "imported_at": account_list.imported_at,
        "report": {k: report.get(k) for k in ("source", "encoding", "rows", "accounts", "rows_that_can_match", "columns",
                                                "counts", "problems", "fatal") if report.get(k) is not None},
        "latest_run": run_out(account_list.runs.first()),
    }


def population_out(view: selectors.PopulationView) -> dict:
    p = view.population
    return {"id": p.public_id, "name": p.name, "side": view.side, "kind": p.kind, "filters": p.filters, "level": view.level,
            "fields": list(view.fields), "yours": view.own}


def _list(user, public_id: str) -> AccountList:
    account_list = get_for_user(AccountList, user, public_id, select=("partner",))
    if account_list.partner_id is None:  # the vendor's list is read through its partners' mappings
        raise ApiError(404, "not_found", "No account list with that id")
    return account_list


def _file(payload: UploadIn) -> bytes:
    return uploaded_bytes(payload.content, payload.content_base64, limit=max_upload_bytes())


def _answer(status: int, schema, data: dict) -> JsonResponse:
    return JsonResponse(schema.model_validate(data).model_dump(mode="json") if schema else data, status=status)


class _ImportRefused(Exception):
    """A file that could not be read: the 422 answer with its import report (nothing was written)."""

    def __init__(self, response: JsonResponse):
        self.response = response


def _import_once(request, key, user, run) -> JsonResponse:
    """``run()`` → (list or None, upload), at most once per Idempotency-Key; a refused file answers 422."""
    def make():
        account_list, upload = run()
        if account_list is None:
            raise _ImportRefused(_imported(None, upload, user))
        account_list.refresh_from_db()
        return account_list

    try:
        return create_once(request, key=key, schema=ListOut, render=lambda account_list: list_out(account_list, user),
                           make=make)
    except _ImportRefused as refused:
        return refused.response


def _imported(account_list, upload, user) -> JsonResponse:
    if account_list is None:
        report = upload.report.as_dict()
        return JsonResponse({"code": "validation_error", "detail": upload.report.fatal,
                             "errors": [{"field": "content", "message": upload.report.fatal}],
                             "report": {k: report[k] for k in ("source", "encoding", "rows", "counts", "problems", "fatal")}},
                            status=422)
    account_list.refresh_from_db()
    return JsonResponse(ListOut.model_validate(list_out(account_list, user)).model_dump(mode="json"), status=201)


@router.get("/mapping/lists", response={200: ListPage, **READ_ERRORS}, operation_id="mapping_lists_list",
            summary="List partner account lists", description="Lists you can see: vendor staff every partner's, a partner user its own.")
def lists_list(request: HttpRequest, filters: Query[ListFilters]):
    qs = selectors.partner_lists(user=user_of(request)).order_by("partner__name", "name", "id")
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(partner__name__icontains=filters.q))
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    user = user_of(request)
    return page(qs, filters, lambda account_list: list_out(account_list, user))


@router.post("/mapping/lists", response={201: ListOut, **WRITE_ERRORS}, operation_id="mapping_lists_create",
             summary="Upload a new account list",
             description="CSV or XLSX; columns are detected by header (Salesforce and HubSpot names too). A file that cannot "
             "be read is a 422 with the import report, and nothing is written. A mapping run starts.")
def list_create(request: HttpRequest, payload: UploadIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    membership = None if user.is_vendor else user.membership
    require(access.can_manage_our_list(user) if user.is_vendor else bool(membership and membership.can_write), NO_UPLOAD)
    if user.is_vendor:
        if not payload.partner:
            raise ValidationError({"partner": PARTNER_REQUIRED})
        partner = lookup(Partner, user, payload.partner, field="partner")
        require(access.can_upload_for(user, partner), NO_UPLOAD)
    else:
        partner = membership.partner
        if payload.partner and payload.partner != partner.public_id:
            raise ValidationError({"partner": f"No partner with id {payload.partner!r}."})
    data = _file(payload)
    return _import_once(request, idempotency_key, user, lambda: services.list_import(
        partner=partner, actor=user, data=data, filename=payload.filename, name=payload.name or "",
        columns=payload.columns, source="api"))


@router.get("/mapping/lists/{id}", response={200: ListOut, **READ_ERRORS}, operation_id="mapping_lists_get",
            summary="Get an account list", description="With its last import report and latest run.")
def list_get(request: HttpRequest, id: str):
    user = user_of(request)
    return list_out(_list(user, id), user)


@router.post("/mapping/lists/{id}/upload", response={201: ListOut, **WRITE_ERRORS}, operation_id="mapping_lists_upload",
             summary="Refresh a list with a new file",
             description="A new version of the list's rows; a mapping run starts and the previous results stay until it finishes.")
def list_upload(request: HttpRequest, id: str, payload: UploadIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    account_list = _list(user, id)
    require(access.can_upload_list(user, account_list), NO_UPLOAD)
    data = _file(payload)
    return _import_once(request, idempotency_key, user, lambda: services.list_import(
        partner=account_list.partner, actor=user, data=data, filename=payload.filename, account_list=account_list,
        columns=payload.columns, source="api"))


@router.get("/mapping/lists/{id}/populations", response={200: list[PopulationOut], **READ_ERRORS},
            operation_id="mapping_populations_list", summary="Populations of a mapping",
            description="The vendor's and the partner's populations you see, with the level you see each at.")
def populations_list(request: HttpRequest, id: str):
    view = selectors.mapping_view(user=user_of(request), their_list=_list(user_of(request), id))
    return [population_out(p) for p in view.ours + view.theirs]


@router.post("/mapping/lists/{id}/populations", response={201: PopulationOut, **WRITE_ERRORS},
             operation_id="mapping_populations_create", summary="Add a custom population to a partner's list",
             description="The partner's admins define its list's populations.")
def population_create(request: HttpRequest, id: str, payload: PopulationIn,
                      idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    account_list = _list(user, id)
    require(access.can_define_populations(user, account_list), NO_POPULATIONS)

    def render(population):
        view = selectors.mapping_view(user=user, their_list=account_list)
        return population_out(view.population(population.public_id, "theirs"))

    return create_once(request, key=idempotency_key, schema=PopulationOut, render=render,
                       make=lambda: services.population_create(account_list=account_list, actor=user, name=payload.name,
                                                               filters=dict(payload.filters), source="api"))


@router.delete("/mapping/populations/{id}", response={204: None, **WRITE_ERRORS}, operation_id="mapping_populations_delete",
               summary="Remove a custom population", description="The standard ones stay.")
def population_delete(request: HttpRequest, id: str):
    user = user_of(request)
    population = get_for_user(Population, user, id, select=("account_list__partner",))
    require(access.can_define_populations(user, population.account_list), NO_POPULATIONS)
    services.population_delete(population=population, actor=user, source="api")
    return no_content()


@router.put("/mapping/populations/{id}/sharing", response={200: SharingOut, **WRITE_ERRORS},
            operation_id="mapping_sharing_set", summary="Set what the other side sees of a population",
            description="hidden, counts (the default), overlaps (with fields) or all. Vendor populations: per partner (name it).")
def sharing_set(request: HttpRequest, id: str, payload: SharingIn):
    user = user_of(request)
    population = get_for_user(Population, user, id, select=("account_list__partner",))
    if population.account_list.partner_id is not None:
        partner = population.account_list.partner
    else:
        require(access.can_manage_our_list(user), NO_SHARING)
        if not payload.partner:
            raise ValidationError({"partner": "Name the partner you share this population with."})
        partner = lookup(Partner, user, payload.partner, field="partner")
    require(access.can_set_sharing(user, population, partner), NO_SHARING)
    rule = services.sharing_set(population=population, partner=partner, actor=user, level=payload.level.value,
                                fields=payload.fields, source="api")
    return {"population": population.public_id, "partner": ref(partner), "level": rule.level, "fields": rule.fields}


@router.get("/mapping/lists/{id}/runs", response={200: list[RunOut], **READ_ERRORS}, operation_id="mapping_runs_list",
            summary="Mapping runs of a list", description="Newest first.")
def runs_list(request: HttpRequest, id: str):
    account_list = _list(user_of(request), id)
    return [run_out(r) for r in account_list.runs.all()[:50]]


@router.post("/mapping/lists/{id}/runs", response={202: RunOut, **WRITE_ERRORS}, operation_id="mapping_runs_create",
             summary="Start a mapping run", description="Queued in the background; 422 while one is queued or running.")
def run_create(request: HttpRequest, id: str):
    user = user_of(request)
    account_list = _list(user, id)
    require(access.can_run(user, account_list), NO_RUN)
    run = services.run_request(account_list=account_list, actor=user)
    run.refresh_from_db()
    return _answer(202, RunOut, run_out(run))


@router.get("/mapping/runs/{id}", response={200: RunOut, **READ_ERRORS}, operation_id="mapping_runs_get",
            summary="Get a mapping run", description="Status and progress (percent).")
def run_get(request: HttpRequest, id: str):
    return run_out(get_for_user(MappingRun, user_of(request), id))


@router.get("/mapping/lists/{id}/matrix", response={200: MatrixOut, **READ_ERRORS}, operation_id="mapping_matrix",
            summary="The overlap matrix", description="Counts per (vendor population, partner population) of the latest finished run.")
def matrix(request: HttpRequest, id: str):
    user = user_of(request)
    view = selectors.mapping_view(user=user, their_list=_list(user, id))
    cells = selectors.matrix(view)
    return {"run": run_out(view.run), "ours": [population_out(p) for p in view.ours],
            "theirs": [population_out(p) for p in view.theirs],
            "cells": [{"ours": o, "theirs": t, "count": n} for (o, t), n in cells.items()]}


@router.get("/mapping/lists/{id}/overlaps", response={200: OverlapPage, **READ_ERRORS}, operation_id="mapping_overlaps",
            summary="Overlapping records of one matrix cell",
            description="Only when the other side shares the population as overlapping records (its chosen fields) or all "
            "records; otherwise 403 with the reason.")
def overlaps(request: HttpRequest, id: str, filters: Query[OverlapFilters]):
    user = user_of(request)
    view = selectors.mapping_view(user=user, their_list=_list(user, id))
    try:
        records = selectors.overlap_records(view, ours=filters.ours, theirs=filters.theirs, limit=filters.limit,
                                             offset=filters.offset)
    except selectors.NotShared as exc:
        raise ApiError(403, "forbidden", exc.message) from None
    return {"items": records, "count": selectors.matrix(view).get((filters.ours, filters.theirs), 0)}


class PlanOut(OutSchema):
    id: str
    title: str
    account: dict | None
    partner: dict | None


@router.post("/mapping/overlaps/{id}/account-plan", response={201: PlanOut, **WRITE_ERRORS}, operation_id="mapping_overlap_plan",
             summary="Start a joint account plan from an overlap",
             description="On the CRM account of the vendor's side, with the list's partner (the joint plans service).")
def overlap_plan(request: HttpRequest, id: str, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    pair, view = selectors.pair_for_user(user=user, public_id=id)
    require(access.can_start_plan(user), NO_ACTION)
    return create_once(request, key=idempotency_key, schema=PlanOut,
                       render=lambda plan: {"id": plan.public_id, "title": plan.title, "account": ref(plan.account),
                                            "partner": ref(plan.partner)},
                       make=lambda: services.plan_from_pair(pair=pair, actor=user, source="api"))


@router.post("/mapping/overlaps/{id}/introduction", response={201: IntroductionOut, **WRITE_ERRORS},
             operation_id="mapping_overlap_introduction", summary="Ask the other side for an introduction",
             description="Notifies the partner's admins (asked by the vendor) or the partner manager (asked by the partner).")
def overlap_introduction(request: HttpRequest, id: str, payload: IntroductionIn,
                         idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    pair, view = selectors.pair_for_user(user=user, public_id=id)
    require(access.can_act_on_targets(user, view.partner), NO_ACTION)

    def render(intro):
        account = intro.their_name if intro.from_vendor else intro.our_name
        return {"id": intro.public_id, "partner": ref(intro.partner), "account": account, "note": intro.note,
                "requested_at": intro.requested_at}

    return create_once(request, key=idempotency_key, schema=IntroductionOut, render=render,
                       make=lambda: services.introduction_request(pair=pair, actor=user, note=payload.note, source="api"))


__all__ = ["router", "SharingLevel"]
