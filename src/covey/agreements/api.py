"""Agreements over the API: list, read, issue, sign (partner admin) and countersign (vendor admin).

The signature records the caller's IP address and user agent exactly as the web page does.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router

from covey.agreements import access as rules
from covey.agreements import services
from covey.agreements.models import Agreement, AgreementStatus, AgreementTemplate
from covey.core import access
from covey.core.api import create_once, idempotency_key_header, lookup, page, search, user_of
from covey.core.clients import client_ip, user_agent
from covey.core.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    OutSchema,
    Paging,
    Ref,
    id_filter,
    ref,
)
from covey.partners.models import Partner

router = Router(tags=["agreements"])

NO_ISSUE = "Only an admin or the partner's own manager issues agreements."


class SignatureOut(OutSchema):
    name: str
    by: Ref | None
    at: datetime | None
    ip: str | None = Field(None, description="Shown to vendor staff")


class AgreementOut(OutSchema):
    id: str
    partner: Ref
    title: str
    template: Ref
    version: int
    body: str = Field(..., description="The frozen text (Markdown)")
    status: AgreementStatus
    issued_at: datetime
    signature: SignatureOut | None
    countersignature: SignatureOut | None
    pdf_sha256: str = Field(..., description="SHA-256 of the stored signed PDF; empty until countersigned")


def agreement_out(a: Agreement, *, user) -> dict:
    def sig(name, by, at, ip):
        return None if at is None else {"name": name, "by": ref(by), "at": at, "ip": ip if user.is_vendor else None}

    return {
        "id": a.public_id, "partner": ref(a.partner), "title": a.title, "template": ref(a.version.template),
        "version": a.version.number, "body": a.body, "status": a.status, "issued_at": a.issued_at,
        "signature": sig(a.signed_name, a.signed_by, a.signed_at, a.signed_ip),
        "countersignature": sig(a.countersigned_name, a.countersigned_by, a.countersigned_at, a.countersigned_ip),
        "pdf_sha256": a.pdf_sha256,
    }


class AgreementPage(OutSchema):
    items: list[AgreementOut]
    count: int


class AgreementFilters(Paging):
    q: str | None = Field(None, max_length=100, description="Part of the agreement's title or the partner's name")
    status: AgreementStatus | None = None
    partner: str | None = id_filter(Partner)


class IssueIn(InputSchema):
    partner: str
    template: str


class SignIn(InputSchema):
    name: str = Field(..., max_length=200, description="Your full name, typed as the signature")
    consent: bool = Field(..., description="true: you accept the agreement on behalf of your company")


SELECT = ("partner", "version__template", "signed_by", "countersigned_by")


def _get(user, public_id: str, *, check=None) -> Agreement:
    return access.get_for_user(Agreement, user, public_id, write_check=check, select=SELECT)


@router.get("/agreements", response={200: AgreementPage, **READ_ERRORS}, operation_id="agreements_list",
            summary="List agreements", description="Agreements you can see (a partner user: its partner's), newest first.")
def agreement_list(request: HttpRequest, filters: Query[AgreementFilters]):
    user = user_of(request)
    qs = search(Agreement.objects.visible_to(user).select_related(*SELECT), filters.q, "title", "partner__name")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.partner:
        qs = qs.filter(partner__public_id=filters.partner)
    return page(qs.order_by("-issued_at", "-id"), filters, lambda a: agreement_out(a, user=user))


@router.get("/agreements/{id}", response={200: AgreementOut, **READ_ERRORS}, operation_id="agreements_get", summary="Get an agreement", description="The frozen text, version and both signatures; 404 if you cannot see it.")
def agreement_get(request: HttpRequest, id: str):
    user = user_of(request)
    return agreement_out(_get(user, id), user=user)


@router.post("/agreements", response={201: AgreementOut, **WRITE_ERRORS}, operation_id="agreements_issue",
             summary="Issue an agreement", description="Freezes the template's latest version and asks the partner's admins to sign.")
def agreement_issue(request: HttpRequest, payload: IssueIn, idempotency_key: str | None = idempotency_key_header()):
    user = user_of(request)
    access.require(user.staff_role in ("admin", "partner_manager"), NO_ISSUE)
    partner = lookup(Partner, user, payload.partner, field="partner")
    access.require(rules.can_issue(user, partner), NO_ISSUE)
    template = lookup(AgreementTemplate, user, payload.template, field="template")
    return create_once(request, key=idempotency_key, schema=AgreementOut,
                       make=lambda: services.agreement_issue(partner=partner, template=template, actor=user, source="api"),
                       render=lambda a: agreement_out(_get(user, a.public_id), user=user))


@router.post("/agreements/{id}/sign", response={200: AgreementOut, **WRITE_ERRORS}, operation_id="agreements_sign",
             summary="Sign (partner admin)", description="Typed name and consent; records who, when, the version and the caller's address.")
def agreement_sign(request: HttpRequest, id: str, payload: SignIn):
    user = user_of(request)
    agreement = _get(user, id, check=rules.can_sign)
    services.agreement_sign(agreement=agreement, actor=user, name=payload.name, consent=payload.consent,
                            ip=client_ip(request), user_agent=user_agent(request), source="api")
    return agreement_out(_get(user, id), user=user)


@router.post("/agreements/{id}/countersign", response={200: AgreementOut, **WRITE_ERRORS}, operation_id="agreements_countersign",
             summary="Countersign (vendor admin)", description="Renders and stores the signed PDF with its SHA-256.")
def agreement_countersign(request: HttpRequest, id: str, payload: SignIn):
    user = user_of(request)
    agreement = _get(user, id, check=rules.can_countersign)
    services.agreement_countersign(agreement=agreement, actor=user, name=payload.name, consent=payload.consent,
                                   ip=client_ip(request), user_agent=user_agent(request), source="api")
    return agreement_out(_get(user, id), user=user)
