"""Co-sell interchange over the API: an opportunity as an ACE request or a Microsoft referral, and
imports of ACE responses and referrals. Vendor CRM editors only; other vendor staff get 403 and
partner users 404 (they are not told these exist)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router

from covey.core.access import can_edit_crm, get_for_user, require
from covey.core.api import ApiError, user_of
from covey.core.schemas import READ_ERRORS, WRITE_ERRORS, Error, OutSchema
from covey.crm.models import Opportunity
from covey.interchange import ace, referrals, services
from covey.interchange.views import EDITORS_ONLY

router = Router(tags=["interchange"])
GET_ERRORS = {**READ_ERRORS, 403: Error}
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}}}}}


class AceExportOut(OutSchema):
    operation: str
    request: dict[str, Any]


class ImportReportOut(OutSchema):
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    invitations: list[str]
    unknown_values: dict[str, list[str]]
    warnings: list[str]


def _editor(request: HttpRequest):
    user = user_of(request)
    if not user.is_vendor:
        raise Http404("No such operation for partner users")
    require(can_edit_crm(user), EDITORS_ONLY)
    return user


def _opportunity(request: HttpRequest, public_id: str) -> Opportunity:
    user = _editor(request)
    return get_for_user(Opportunity, user, public_id[:40], select=("account",))


@router.get("/opportunities/{id}/ace", response={200: AceExportOut, **GET_ERRORS}, operation_id="opportunity_ace_export",
            summary="An opportunity as an AWS ACE request",
            description="The CreateOpportunity body (or UpdateOpportunity, once the opportunity has an ACE id) of the "
                        "Partner Central Selling API, checked against botocore's partnercentral-selling model. A deal "
                        "the model refuses answers 422 listing the fields. CRM editors only.")
def opportunity_ace(request: HttpRequest, id: str):
    opportunity = _opportunity(request, id)
    try:
        return services.ace_export(opportunity=opportunity)
    except ace.AceError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None


@router.get("/opportunities/{id}/referral", response={200: dict[str, Any], **GET_ERRORS},
            operation_id="opportunity_referral_export", summary="An opportunity as a Microsoft referral",
            description="A Partner Center referral (status and substatus from the stage, deal value as an exact "
                        "number, customer profile, consent flags). CRM editors only.")
def opportunity_referral(request: HttpRequest, id: str):
    opportunity = _opportunity(request, id)
    try:
        body = services.referral_export(opportunity=opportunity)
    except referrals.ReferralError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None
    return HttpResponse(referrals.dumps(body, indent=None), content_type="application/json")


def _run(request: HttpRequest, run) -> dict:
    user = _editor(request)
    try:
        return run(raw=request.body, actor=user).as_dict()
    except services.ImportRefused as exc:
        if str(exc).startswith("The file is not JSON"):
            raise ApiError(400, "bad_input", str(exc)) from None
        raise ApiError(422, "validation_error", str(exc)) from None


@router.post("/interchange/ace/import", response={200: ImportReportOut, **WRITE_ERRORS},
             operation_id="interchange_ace_import", summary="Import AWS ACE responses", openapi_extra=JSON_BODY,
             description="The body is a GetOpportunity or GetEngagementInvitation response, a list of them, or "
                         "{\"Items\": [...]}. Opportunities are matched by ACE id, then by PartnerOpportunityIdentifier, "
                         "else created. Values outside the model's enums are reported, not refused. All or nothing: "
                         "a refused record (422) writes nothing. Repeating an import changes nothing, so it answers 200.")
def ace_import(request: HttpRequest):
    return _run(request, services.ace_import)


@router.post("/interchange/referrals/import", response={200: ImportReportOut, **WRITE_ERRORS},
             operation_id="interchange_referrals_import", summary="Import Microsoft referrals",
             openapi_extra=JSON_BODY,
             description="The body is a referral, a list of them, or {\"Items\": [...]}. Matched by referral id, then "
                         "externalReferenceId, else created. A status change the published table does not allow (e.g. "
                         "Closed → Active) is a 422 and nothing is written. Idempotent, so it answers 200.")
def referrals_import(request: HttpRequest):
    return _run(request, services.referrals_import)
