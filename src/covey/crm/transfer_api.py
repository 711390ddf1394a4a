"""CRM files over the API: the same exports and imports as the pages and ``covey export|import``.

- ``GET /api/exports/{kind}`` answers the file itself (CSV, or JSON for a Salesforce data tree) of
  everything the caller can see; the deals' partner links are for vendor staff only (a partner
  user does not learn which other partners are on a deal), so for partner users that kind does not
  exist (404).
- ``POST /api/imports/{kind}`` takes the file inside a JSON body (``content`` as text, or
  ``content_base64``), as account-list uploads do, and answers the import report. A file that
  imports nothing is a 422 with the same report; nothing is written then. Importing the same file
  twice changes nothing the second time, so a retry is safe without an Idempotency-Key.
"""

from __future__ import annotations

import io
from typing import Literal

from django.http import Http404, HttpRequest, JsonResponse
from ninja import Field, Query, Router, Schema

from covey.core import access
from covey.core.api import uploaded_bytes, user_of
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, Error, InputSchema, OutSchema
from covey.crm.api import NO_CRM
from covey.crm.exports import download
from covey.crm.import_views import ENCODINGS, max_upload_bytes
from covey.crm.imports import ImportReport, import_records
from covey.crm.models import Account, Opportunity, OpportunityPartner
from covey.crm.partner_links import import_partner_links

router = Router(tags=["crm files"])

Kind = Literal["accounts", "opportunities", "opportunity-partners"]
ExportFormat = Literal["generic", "salesforce", "hubspot", "sf-tree"]
ImportFormat = Literal["auto", "generic", "salesforce", "hubspot", "sf-tree"]
Encoding = Literal[tuple(code for code, _label in ENCODINGS if code)]  # type: ignore[valid-type]
NO_PARTIAL = "Opportunity partners are imported all or nothing; skip_invalid does not apply to them."


class ExportFilters(Schema):
    fmt: ExportFormat = Field("generic", description="generic (Covey columns), salesforce (Data Loader CSV), "
                                                     "hubspot (CSV export) or sf-tree (Salesforce data tree JSON)")


class ImportIn(InputSchema):
    filename: str = Field("upload", min_length=1, max_length=255, description="The file's name, for the report")
    content: str | None = Field(None, description="The file as text (CSV, or data tree JSON)")
    content_base64: str | None = Field(None, description="The file as base64 (for a file not in UTF-8)")
    format: ImportFormat = Field("auto", description="auto: from the file's headers or JSON shape")
    encoding: Encoding | None = Field(None, description="The file's encoding when it is not UTF-8")
    skip_invalid: bool = Field(False, description="Import the valid rows and report the others; without it, "
                                                  "any bad row means nothing is imported")


class CountsOut(OutSchema):
    created: int
    updated: int
    unchanged: int
    rejected: int


class ProblemOut(OutSchema):
    where: str = Field(description='"row 7" (the header is row 1), "record 3", or "file"')
    column: str
    message: str


class ImportReportOut(OutSchema):
    kind: str
    format: str = Field(description="The format the file was read as")
    applied: bool = Field(description="The writes were committed (possibly none, when every row was unchanged)")
    rows: int = Field(description="Rows or records read")
    counts: dict[str, CountsOut] = Field(description="Per record type: accounts, opportunities, opportunity_partners")
    errors: list[ProblemOut]
    warnings: list[str]


class ImportRefusedOut(Error):
    report: ImportReportOut | None = Field(None, description="When the file was read: what it held and why nothing was imported")


def report_out(report: ImportReport) -> dict:
    return {
        "kind": report.kind, "format": report.fmt, "applied": report.applied, "rows": report.rows,
        "counts": {name: vars(c) for name, c in report.counts.items()},
        "errors": [{"where": e.where, "column": e.column, "message": e.message} for e in report.errors],
        "warnings": list(report.warnings),
    }


EXPORT_ANSWER = {"responses": {"200": {"description": "The file", "content": {
    "text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}}}}}


@router.get("/exports/{kind}", response=READ_ERRORS, operation_id="crm_export", openapi_extra=EXPORT_ANSWER,
            summary="Export CRM records as a file",
            description="Accounts, opportunities or the deals' partner links (vendor staff), in Covey's columns, Salesforce "
            "or HubSpot conventions, or a Salesforce data tree. Re-importing the file changes nothing.")
def export(request: HttpRequest, kind: Kind, filters: Query[ExportFilters]):
    user = user_of(request)
    if kind == "opportunity-partners":
        if not user.is_vendor:
            raise Http404("No such export")
        records = OpportunityPartner.objects.filter(opportunity__in=Opportunity.objects.visible_to(user).values("pk"))
    else:
        records = (Account if kind == "accounts" else Opportunity).objects.visible_to(user).order_by("pk")
    return download(kind, records, filters.fmt)


@router.post("/imports/{kind}", response={200: ImportReportOut, **WRITE_ERRORS, 422: ImportRefusedOut},
             operation_id="crm_import", summary="Import a CRM file",
             description="Rows whose id is in Covey update that record; the others are created (opportunity partners: "
             "added or updated, never removed). A file that imports nothing answers 422 with the report and writes "
             "nothing. Admins, partner managers and sales reps.")
def import_file(request: HttpRequest, kind: Kind, payload: ImportIn):
    user = user_of(request)
    access.require(access.can_edit_crm(user), NO_CRM)
    if kind == "opportunity-partners" and payload.skip_invalid:
        return _refused(NO_PARTIAL, "skip_invalid")
    source = io.BytesIO(uploaded_bytes(payload.content, payload.content_base64, limit=max_upload_bytes()))
    source.name = payload.filename
    if kind == "opportunity-partners":
        report = import_partner_links(source, fmt=payload.format, actor=user, encoding=payload.encoding)
    else:
        report = import_records(kind, source, fmt=payload.format, actor=user, partial=payload.skip_invalid,
                                encoding=payload.encoding)
    if report.failed:
        first = report.errors[0]
        return _refused(f"Nothing was imported: {first}" + (f" (and {len(report.errors) - 1} more problems)"
                                                            if len(report.errors) > 1 else ""), "content", report)
    return report_out(report)


def _refused(detail: str, field: str, report: ImportReport | None = None) -> JsonResponse:
    body = {"code": "validation_error", "detail": detail, "errors": [{"field": field, "message": detail}]}
    if report is not None:
        body["report"] = report_out(report)
    return JsonResponse(body, status=422)
