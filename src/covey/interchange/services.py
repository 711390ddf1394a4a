"""Glue between the pure ACE / referral mappings and the CRM: exports read the ORM, imports write
through the CRM services (so audit records and webhooks follow), each import in one transaction —
a document that fails anywhere writes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from covey.crm import services as crm
from covey.crm.models import Account, Opportunity
from covey.interchange import ace, referrals
from covey.interchange.models import AceLink, EngagementInvitation, InvitationStatus, ReferralLink

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_ITEMS = 1000
NOT_JSON = "The file is not JSON: {error}"
EMPTY = "The file holds no opportunities."
TOO_MANY = f"At most {MAX_ITEMS} records per import."
NOT_PENDING = "This invitation was already {status}; only a pending invitation can be accepted or rejected."


class ImportRefused(ValueError):
    """The whole document was refused; nothing was written."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    invitations: list[str] = field(default_factory=list)
    unknown: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def note_unknown(self, found: dict[str, list], *, record: str) -> None:
        for path, values in found.items():
            bucket = self.unknown.setdefault(path, [])
            for value in values:
                text = value if isinstance(value, str) else json.dumps(value, default=str)
                if text not in bucket:
                    bucket.append(text)
            if path.endswith("Stage"):
                self.warnings.append(f"{record}: {path} {values[0]!r} is outside the AWS model; stage kept as it was.")

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "invitations": self.invitations, "unknown_values": self.unknown, "warnings": self.warnings}


def parse_document(raw: bytes | str | Any) -> list[dict]:
    """One JSON object, a list of them, or ``{"Items": [...]}``; amounts read as ``Decimal``."""
    if isinstance(raw, bytes | str):
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise ImportRefused(f"The file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.")
        try:
            raw = json.loads(raw, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ImportRefused(NOT_JSON.format(error=exc)) from None
    if isinstance(raw, dict) and isinstance(raw.get("Items"), list):
        raw = raw["Items"]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ImportRefused(EMPTY)
    if len(items) > MAX_ITEMS:
        raise ImportRefused(TOO_MANY)
    if not all(isinstance(item, dict) for item in items):
        raise ImportRefused("Every record must be a JSON object.")
    return items


def _plain(value: Any) -> Any:
    """Decimals read from a document back to their exact text, for JSON fields and comparisons."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- AWS ACE: export -------------------------------------------------------------------------


def deal_of(opportunity: Opportunity) -> ace.Deal:
    account = opportunity.account
    link = AceLink.objects.filter(opportunity=opportunity).first()
    return ace.Deal(
        public_id=opportunity.public_id, name=opportunity.name, stage=opportunity.stage, type=opportunity.type,
        amount_minor=opportunity.amount_minor, currency=opportunity.currency, close_date=opportunity.close_date,
        account_name=account.name, description=opportunity.description, lost_reason=opportunity.lost_reason,
        website=account.website or account.domain, industry=account.industry, country=account.country,
        city=account.city, partner_roles=list(opportunity.partner_links.values_list("role", flat=True)),
        recurring_lines=not opportunity.lines.filter(product__recurring=False).exists(),
        ace_identifier=link.identifier if link else "", ace_last_modified=link.last_modified if link else "",
        contacts=_customer_contacts(opportunity), team=_deal_team(opportunity), campaign_code=opportunity.campaign_code,
    )


def _customer_contacts(opportunity: Opportunity) -> list[ace.Person]:
    """The customer's people Covey knows on the deal: the contacts of the registrations behind it."""
    from covey.registrations.models import Registration

    rows = (Registration.objects.filter(opportunity=opportunity).order_by("submitted_at", "id")
            .values_list("contact_name", "contact_email", "contact_phone"))
    return [ace.Person(name=n, email=e, phone=p) for n, e, p in rows if n or e]


def _deal_team(opportunity: Opportunity) -> list[ace.Person]:
    """The vendor's side of the deal team (the AWS partner is the vendor): the owner first, then
    the vendor members of every engagement on it, each with their role."""
    from covey.cosell.models import DealTeamMember, Side

    people = [ace.Person(name=opportunity.owner.full_name, email=opportunity.owner.email, title="Opportunity owner")
              ] if opportunity.owner_id else []
    members = (DealTeamMember.objects.filter(engagement__opportunity=opportunity, side=Side.VENDOR)
               .select_related("user").order_by("added_at", "id"))
    seen = {p.email for p in people}
    for m in members:
        if m.user.email not in seen:
            seen.add(m.user.email)
            people.append(ace.Person(name=m.user.full_name, email=m.user.email, title=m.get_role_display()))
    return people


def ace_export(*, opportunity: Opportunity, catalog: str = "AWS") -> dict:
    """``{"operation": …, "request": …}``, validated against botocore's model (``ace.AceError`` if not)."""
    operation, body = ace.export_request(deal_of(opportunity), catalog=catalog)
    return {"operation": operation, "request": body}


# --- AWS ACE: import -------------------------------------------------------------------------


def _account_for(incoming: ace.AceOpportunity | None, *, name: str, actor, website="", industry="", country="", city=""):
    account = Account.objects.filter(name=name).order_by("id").first()
    if account is not None:
        return account
    values = {"name": name[:255], "website": website[:300], "industry": industry[:100], "city": city[:100]}
    if len(country) == 2:
        values["country"] = country
    return crm.account_create(actor=actor, source="import", **values)


def _find_opportunity(incoming: ace.AceOpportunity) -> Opportunity | None:
    link = AceLink.objects.filter(identifier=incoming.identifier).select_related("opportunity").first()
    if link is not None:
        return link.opportunity
    if incoming.partner_identifier:
        opportunity = Opportunity.objects.filter(public_id=incoming.partner_identifier).first()
        if opportunity is not None:
            other = AceLink.objects.filter(opportunity=opportunity).first()
            if other is not None and other.identifier != incoming.identifier:
                raise ImportRefused(f"{opportunity.public_id} is already shared with AWS as {other.identifier}, "
                                    f"not {incoming.identifier}.")
            return opportunity
    return None


def _ace_changes(opportunity: Opportunity, incoming: ace.AceOpportunity, report: ImportReport) -> dict:
    changes: dict[str, Any] = {}
    stage = ace.keep_if_same(opportunity.stage, incoming.stage, ace.STAGE_TO_ACE)
    if stage != opportunity.stage:
        changes["stage"] = stage
    if stage == "Closed Lost":
        mine = opportunity.lost_reason
        if not mine or ace.lost_reason_to_ace(mine) != (incoming.lost_reason or ace.LOST_REASON_DEFAULT):
            changes["lost_reason"] = incoming.lost_reason or "Closed lost in AWS Partner Central"
    if incoming.close_date and incoming.close_date != opportunity.close_date:
        changes["close_date"] = incoming.close_date
    if incoming.type and incoming.type != opportunity.type:
        changes["type"] = incoming.type
    if incoming.amount_minor is not None and incoming.currency:
        if incoming.currency != opportunity.currency:
            if opportunity.lines.exists():
                report.warnings.append(f"{opportunity.public_id}: AWS reports the spend in {incoming.currency}, the deal "
                                       f"is in {opportunity.currency} with product lines; amount left as it was.")
            else:
                changes.update(amount_minor=incoming.amount_minor, currency=incoming.currency)
        elif ace.monthly_spend(opportunity.amount_minor, opportunity.currency) != ace.monthly_spend(
                incoming.amount_minor, incoming.currency):
            changes["amount_minor"] = incoming.amount_minor
    return changes


def _import_ace_opportunity(document: dict, *, actor, report: ImportReport) -> None:
    incoming = ace.read_opportunity(document)
    record = incoming.identifier
    report.note_unknown(incoming.unknown, record=record)
    opportunity = _find_opportunity(incoming)
    if opportunity is None:
        if incoming.close_date is None:
            raise ImportRefused(f"{record}: a new opportunity needs LifeCycle.TargetCloseDate.")
        if not incoming.company_name:
            raise ImportRefused(f"{record}: a new opportunity needs Customer.Account.CompanyName.")
        account = _account_for(incoming, name=incoming.company_name, actor=actor, website=incoming.website,
                               industry=incoming.industry, country=incoming.country, city=incoming.city)
        stage = incoming.stage or "Prospecting"
        opportunity = crm.opportunity_create(
            actor=actor, source="import", name=(incoming.title or incoming.company_name)[:255], account=account,
            stage=stage, type=incoming.type or "new", amount_minor=incoming.amount_minor or 0,
            currency=incoming.currency or "USD", close_date=incoming.close_date, description=incoming.description,
            lost_reason=(incoming.lost_reason or "Closed lost in AWS Partner Central") if stage == "Closed Lost" else "",
            lead_source="AWS Partner Central",
        )
        report.created.append(opportunity.public_id)
    else:
        changes = _ace_changes(opportunity, incoming, report)
        if changes:
            crm.opportunity_update(opportunity=opportunity, actor=actor, source="import", **changes)
            report.updated.append(opportunity.public_id)
        else:
            report.unchanged.append(opportunity.public_id)
    AceLink.objects.update_or_create(opportunity=opportunity, defaults={
        "identifier": incoming.identifier, "catalog": incoming.catalog[:20], "last_modified": incoming.last_modified[:40],
        "review_status": incoming.review_status[:40], "review_comments": incoming.review_comments,
        "aws_stage": incoming.aws_stage[:40],
    })


def _owner(actor):
    """Who owns an opportunity an accepted invitation became: the vendor's person who accepted it."""
    return actor if actor is not None and getattr(actor, "is_vendor", False) else None


def _opportunity_from_lead(invitation: EngagementInvitation, *, actor) -> Opportunity:
    """An accepted lead invitation as a new opportunity at the first stage: the customer as ACE
    describes it, no amount yet (a lead has none), a close date 90 days out, and how the lead came
    about (AWS's source, use case and the contact's title) in the description."""
    payload = invitation.payload or {}
    customer = payload.get("Customer") if isinstance(payload.get("Customer"), dict) else {}
    interaction = payload.get("Interaction") if isinstance(payload.get("Interaction"), dict) else {}
    name = invitation.company_name or "AWS lead"
    account = _account_for(None, name=name, actor=actor, website=str(customer.get("WebsiteUrl") or ""),
                           industry=str(customer.get("Industry") or ""), country=str(customer.get("CountryCode") or ""))
    labels = (("SourceType", "Source"), ("SourceName", "Campaign"), ("SourceId", "Source id"), ("Usecase", "Use case"),
              ("ContactBusinessTitle", "Contact's title"))
    facts = [f"{label}: {interaction[key]}" for key, label in labels if isinstance(interaction.get(key), str) and interaction[key]]
    source = str(interaction.get("SourceId") or "") if interaction.get("SourceType") == "Campaign" else ""
    return crm.opportunity_create(
        actor=actor, source="import", name=(invitation.title or f"{name} (AWS lead)")[:255], account=account,
        stage="Prospecting", amount_minor=0, currency="USD", close_date=timezone.localdate() + timedelta(days=90),
        lead_source="AWS Partner Central lead", campaign_code=source[:40], owner=_owner(actor),
        description=f"Lead shared by AWS Partner Central ({invitation.identifier}). " + "; ".join(facts),
    )


def _opportunity_from_invitation(invitation: EngagementInvitation, *, actor) -> Opportunity:
    if invitation.is_lead:
        return _opportunity_from_lead(invitation, actor=actor)
    payload = invitation.payload or {}
    customer = payload.get("Customer") if isinstance(payload.get("Customer"), dict) else {}
    project = payload.get("Project") if isinstance(payload.get("Project"), dict) else {}
    name = invitation.company_name or "AWS referral"
    account = _account_for(None, name=name, actor=actor, website=str(customer.get("WebsiteUrl") or ""),
                           industry=str(customer.get("Industry") or ""), country=str(customer.get("CountryCode") or ""))
    amount, currency = 0, "USD"
    for spend in project.get("ExpectedCustomerSpend") or []:
        if isinstance(spend, dict) and spend.get("Frequency") == ace.FREQUENCY and spend.get("Amount"):
            currency = str(spend.get("CurrencyCode") or "USD")
            amount = ace.yearly_from_monthly(str(spend["Amount"]), currency)
            break
    try:
        close = date.fromisoformat(str(project.get("TargetCompletionDate"))[:10])
    except ValueError:
        close = timezone.localdate() + timedelta(days=90)
    return crm.opportunity_create(
        actor=actor, source="import", name=(invitation.title or name)[:255], account=account, stage="Prospecting",
        amount_minor=amount, currency=currency, close_date=close, lead_source="AWS Partner Central",
        description=str(project.get("BusinessProblem") or ""), owner=_owner(actor),
    )


def _import_invitation(document: dict, *, actor, report: ImportReport) -> None:
    incoming = ace.read_invitation(document)
    report.note_unknown(incoming.unknown, record=incoming.identifier)
    invitation, _ = EngagementInvitation.objects.update_or_create(identifier=incoming.identifier[:200], defaults={
        "payload_type": incoming.payload_type, "catalog": incoming.catalog[:20], "title": incoming.title[:255], "company_name": incoming.company_name[:255],
        "expires_at": incoming.expires_at[:40], "payload": _plain(incoming.payload),
    })
    if invitation.status == InvitationStatus.PENDING and incoming.status != InvitationStatus.PENDING:
        invitation.status, invitation.rejection_reason = incoming.status, incoming.rejection_reason[:200]
        invitation.save(update_fields=["status", "rejection_reason"])
    if invitation.status == InvitationStatus.ACCEPTED and invitation.opportunity_id is None:
        invitation.opportunity = _opportunity_from_invitation(invitation, actor=actor)
        invitation.save(update_fields=["opportunity"])
        report.created.append(invitation.opportunity.public_id)
    report.invitations.append(f"{invitation.identifier}: {invitation.get_status_display()}")


@transaction.atomic
def ace_import(*, raw: bytes | str | Any, actor) -> ImportReport:
    """GetOpportunity and GetEngagementInvitation responses into Covey; all or nothing."""
    report = ImportReport()
    for document in parse_document(raw):
        try:
            if ace.is_invitation(document):
                _import_invitation(document, actor=actor, report=report)
            else:
                _import_ace_opportunity(document, actor=actor, report=report)
        except ace.AceError as exc:
            raise ImportRefused(str(exc)) from None
        except ValidationError as exc:
            raise ImportRefused(f"{document.get('Id', 'record')}: " + "; ".join(exc.messages)) from None
    return report


@transaction.atomic
def invitation_decide(*, invitation: EngagementInvitation, accept: bool, actor, reason: str = "") -> dict:
    """Record Covey's decision on a pending invitation; answer the Accept/Reject request body to send."""
    invitation = EngagementInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != InvitationStatus.PENDING:
        raise ImportRefused(NOT_PENDING.format(status=invitation.get_status_display().lower()))
    operation, body = ace.decision_request(invitation, accept=accept, reason=reason)
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.REJECTED
    invitation.rejection_reason = "" if accept else reason[:200]
    invitation.decided_by, invitation.decided_at = actor, timezone.now()
    if accept and invitation.opportunity_id is None:
        invitation.opportunity = _opportunity_from_invitation(invitation, actor=actor)
    invitation.save()
    return {"operation": operation, "request": body}


# --- Microsoft referrals ---------------------------------------------------------------------


def referral_deal_of(opportunity: Opportunity) -> referrals.ReferralDeal:
    account = opportunity.account
    link = ReferralLink.objects.filter(opportunity=opportunity).first()
    return referrals.ReferralDeal(
        public_id=opportunity.public_id, name=opportunity.name, stage=opportunity.stage,
        amount_minor=opportunity.amount_minor, currency=opportunity.currency, close_date=opportunity.close_date,
        account_name=account.name, description=opportunity.description, lost_reason=opportunity.lost_reason,
        country=account.country, city=account.city, employees=account.employees, industry=account.industry,
        referral_id=(link.referral_id or "") if link else "", status=link.status if link else "",
        substatus=link.substatus if link else "", consent_to_share=bool(link and link.consent_to_share),
        consent_to_contact=bool(link and link.consent_to_contact),
    )


def referral_export(*, opportunity: Opportunity) -> dict:
    return referrals.export_referral(referral_deal_of(opportunity))


def _current_status(opportunity: Opportunity) -> tuple[str, str]:
    link = ReferralLink.objects.filter(opportunity=opportunity).first()
    if link is not None:
        return link.status, link.substatus
    return referrals.status_for_stage(opportunity.stage)


def _import_referral(document: dict, *, actor, report: ImportReport) -> None:
    incoming = referrals.read_referral(document)
    link = ReferralLink.objects.filter(referral_id=incoming.referral_id).select_related("opportunity").first() \
        if incoming.referral_id else None
    opportunity = link.opportunity if link else (
        Opportunity.objects.filter(public_id=incoming.external_id).first() if incoming.external_id else None)
    label = incoming.referral_id or incoming.external_id or incoming.name or "referral"
    if opportunity is None:
        close = incoming.close_date or incoming.expires_on
        if not incoming.company_name or close is None:
            raise ImportRefused(f"{label}: a new referral needs customerProfile.name and details.closingDateTime "
                                f"(or expirationDateTime).")
        if incoming.close_date is None:
            report.warnings.append(f"{label}: no details.closingDateTime; the close date is the referral's expiry, {close}.")
        account = _account_for(None, name=incoming.company_name, actor=actor, country=incoming.country, city=incoming.city)
        stage = referrals.stage_for(incoming, "Prospecting")
        opportunity = crm.opportunity_create(
            actor=actor, source="import", name=(incoming.name or incoming.company_name)[:255], account=account,
            stage=stage, amount_minor=incoming.amount_minor or 0, currency=incoming.currency or "USD",
            close_date=close, description=incoming.notes, lead_source="Microsoft Partner Center",
            lost_reason=(incoming.status_reason or incoming.substatus) if stage == "Closed Lost" else "",
        )
        report.created.append(opportunity.public_id)
    else:
        try:
            referrals.check_transition(_current_status(opportunity), (incoming.status, incoming.substatus))
        except referrals.ReferralError as exc:
            raise ImportRefused(f"{label} ({opportunity.public_id}): {exc}") from None
        changes: dict[str, Any] = {}
        stage = referrals.stage_for(incoming, opportunity.stage)
        if stage != opportunity.stage:
            changes["stage"] = stage
        if stage == "Closed Lost" and not opportunity.lost_reason:
            changes["lost_reason"] = incoming.status_reason or incoming.substatus
        if incoming.close_date and incoming.close_date != opportunity.close_date:
            changes["close_date"] = incoming.close_date
        if incoming.amount_minor is not None and (incoming.amount_minor, incoming.currency) != (
                opportunity.amount_minor, opportunity.currency):
            if incoming.currency != opportunity.currency and opportunity.lines.exists():
                raise ImportRefused(f"{label}: the deal value is in {incoming.currency}, the opportunity in "
                                    f"{opportunity.currency} with product lines.")
            changes.update(amount_minor=incoming.amount_minor, currency=incoming.currency)
        if changes:
            crm.opportunity_update(opportunity=opportunity, actor=actor, source="import", **changes)
            report.updated.append(opportunity.public_id)
        else:
            report.unchanged.append(opportunity.public_id)
    ReferralLink.objects.update_or_create(opportunity=opportunity, defaults={
        "referral_id": incoming.referral_id or None, "status": incoming.status, "substatus": incoming.substatus,
        "consent_to_share": incoming.consent_to_share, "consent_to_contact": incoming.consent_to_contact,
    })


@transaction.atomic
def referrals_import(*, raw: bytes | str | Any, actor) -> ImportReport:
    """Microsoft referrals into Covey; an illegal status transition refuses the whole file."""
    report = ImportReport()
    for document in parse_document(raw):
        try:
            _import_referral(document, actor=actor, report=report)
        except referrals.ReferralError as exc:
            raise ImportRefused(f"{document.get('id') or document.get('externalReferenceId') or 'referral'}: {exc}") from None
        except ValidationError as exc:
            raise ImportRefused("; ".join(exc.messages)) from None
    return report
