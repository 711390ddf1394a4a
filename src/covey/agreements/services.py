"""Agreement workflows: templates and versions, issuing, the partner's signature, the vendor's
countersignature and the signed PDF.

Who may do each step is checked by the caller through ``covey.agreements.access``; the rules that
hold whoever asks (order of steps, what a signature needs) live here.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from covey.agreements.models import Agreement, AgreementStatus, AgreementTemplate, AgreementVersion
from covey.agreements.render import render_pdf
from covey.core import audit
from covey.core.models import StaffRole, User
from covey.core.notify import notify
from covey.core.validators import clean_text

TEMPLATE_INACTIVE = "This agreement template is switched off."
NO_VERSION = "This template has no published version yet."
NOT_WAITING_FOR_SIGNATURE = "Only an agreement waiting for the partner's signature can be signed."
NOT_WAITING_FOR_COUNTERSIGNATURE = "Only an agreement the partner has signed can be countersigned."
CONSENT_REQUIRED = "Tick the box to confirm you accept the agreement."
NAME_REQUIRED = "Type your full name as your signature."
ALREADY_OPEN = "{partner} already has this agreement waiting for a signature."
CANNOT_VOID = "A countersigned agreement stays on record; issue a new one instead."
NAME_MAX, BODY_MAX, NOTE_MAX, UA_MAX = 200, 100_000, 300, 400


def agreement_url(agreement: Agreement) -> str:
    return reverse("agreement_detail", kwargs={"public_id": agreement.public_id})


# --- templates and versions ------------------------------------------------------------------


@transaction.atomic
def template_create(*, actor, name: str, description: str = "", title: str, body: str, source: str = "web") -> AgreementTemplate:
    name = clean_text(name, field="name", limit=NAME_MAX, required="Name the template.")
    description = clean_text(description, field="description", limit=500)
    if AgreementTemplate.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": "A template with this name exists already."})
    template = AgreementTemplate.objects.create(name=name, description=description)
    audit.record(actor=actor, action="create", obj=template, source=source, changes={"name": [None, name]})
    version_publish(template=template, actor=actor, title=title, body=body, change_note="First version", source=source)
    return template


@transaction.atomic
def version_publish(*, template: AgreementTemplate, actor, title: str, body: str, change_note: str = "",
                    source: str = "web") -> AgreementVersion:
    """Publish the next version of ``template``; earlier versions and agreements issued from them stay as they are."""
    title = clean_text(title, field="title", limit=NAME_MAX, required="Give the agreement a title.")
    body = clean_text(body, field="body", limit=BODY_MAX, required="Write the agreement's text.")
    change_note = clean_text(change_note, field="change_note", limit=NOTE_MAX)
    AgreementTemplate.objects.select_for_update().filter(pk=template.pk).first()  # numbers in order
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = AgreementVersion.objects.create(
        template=template, number=number, title=title, body=body, change_note=change_note,
        published_by=actor if actor is not None and actor.pk else None,
    )
    audit.record(actor=actor, action="update", obj=template, source=source,
                 changes={"version": [number - 1 or None, number], "change_note": [None, change_note]})
    return version


def template_set_active(*, template: AgreementTemplate, active: bool, actor, source: str = "web") -> None:
    if template.is_active != active:
        template.is_active = active
        template.save(update_fields=["is_active"])
        audit.record(actor=actor, action="update", obj=template, source=source, changes={"is_active": [not active, active]})


# --- issuing ---------------------------------------------------------------------------------


def _partner_admins(partner) -> list[User]:
    return [m.user for m in partner.memberships.filter(role="admin", user__is_active=True).select_related("user")]


@transaction.atomic
def agreement_issue(*, partner, template: AgreementTemplate, actor, source: str = "web") -> Agreement:
    """Issue the template's latest version to ``partner``, frozen (version and text), and ask its admins to sign."""
    if not template.is_active:
        raise ValidationError({"template": TEMPLATE_INACTIVE})
    version = template.latest
    if version is None:
        raise ValidationError({"template": NO_VERSION})
    if Agreement.objects.filter(partner=partner, version__template=template, status=AgreementStatus.ISSUED).exists():
        raise ValidationError({"template": ALREADY_OPEN.format(partner=partner)})
    agreement = Agreement.objects.create(
        partner=partner, version=version, title=version.title, body=version.body,
        issued_by=actor if actor is not None and actor.pk else None,
    )
    audit.record(actor=actor, action="create", obj=agreement, source=source, changes={
        "partner": [None, str(partner)], "version": [None, f"{template.name} v{version.number}"],
    })
    notify(
        _partner_admins(partner), kind="agreement.issued", exclude=actor,
        title=f"Please sign: {agreement.title}",
        body=f"{agreement.title} ({template.name}, version {version.number}) is ready for {partner}'s signature.",
        url=agreement_url(agreement),
    )
    return agreement


def _locked(agreement: Agreement) -> Agreement:
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    agreement.status = locked.status
    return locked


def _signature(name: str, consent: bool, user_agent: str) -> tuple[str, str]:
    if not consent:
        raise ValidationError({"consent": CONSENT_REQUIRED})
    name = clean_text(name, field="name", limit=NAME_MAX, required=NAME_REQUIRED)
    return name, (user_agent or "").replace("\x00", "")[:UA_MAX]


@transaction.atomic
def agreement_sign(*, agreement: Agreement, actor, name: str, consent: bool, ip: str | None, user_agent: str,
                   source: str = "web", now=None) -> Agreement:
    """The partner admin's signature: typed name and consent, with who, when, version and from where."""
    name, user_agent = _signature(name, consent, user_agent)
    locked = _locked(agreement)
    if locked.status != AgreementStatus.ISSUED:
        raise ValidationError(NOT_WAITING_FOR_SIGNATURE)
    now = now or timezone.now()
    fields = {"status": AgreementStatus.SIGNED, "signed_by": actor, "signed_name": name, "signed_at": now,
              "signed_ip": ip, "signed_user_agent": user_agent}
    for key, value in fields.items():
        setattr(agreement, key, value)
    agreement.save(update_fields=list(fields))
    audit.record(actor=actor, action="transition", obj=agreement, source=source, changes={
        "status": [AgreementStatus.ISSUED, AgreementStatus.SIGNED], "signed_name": [None, name],
        "version": [None, agreement.version.number], "ip": [None, ip],
    })
    countersigners = list(User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True))
    notify(
        countersigners, kind="agreement.signed", exclude=actor,
        title=f"To countersign: {agreement.title} ({agreement.partner})",
        body=f"{name} signed {agreement.title} for {agreement.partner}. It needs a vendor admin's countersignature.",
        url=agreement_url(agreement),
    )
    return agreement


@transaction.atomic
def agreement_countersign(*, agreement: Agreement, actor, name: str, consent: bool, ip: str | None, user_agent: str,
                          source: str = "web", now=None) -> Agreement:
    """The vendor admin's countersignature; renders and stores the signed PDF with its SHA-256."""
    name, user_agent = _signature(name, consent, user_agent)
    locked = _locked(agreement)
    if locked.status != AgreementStatus.SIGNED:
        raise ValidationError(NOT_WAITING_FOR_COUNTERSIGNATURE)
    now = now or timezone.now()
    fields = {"countersigned_by": actor, "countersigned_name": name, "countersigned_at": now,
              "countersigned_ip": ip, "countersigned_user_agent": user_agent}
    for key, value in fields.items():
        setattr(agreement, key, value)
    pdf = render_pdf(agreement)
    digest = hashlib.sha256(pdf).hexdigest()
    agreement.pdf.save(f"{agreement.public_id}.pdf", ContentFile(pdf), save=False)
    agreement.pdf_sha256 = digest
    agreement.status = AgreementStatus.COUNTERSIGNED
    try:
        agreement.save(update_fields=[*fields, "pdf", "pdf_sha256", "status"])
    except Exception:
        agreement.pdf.delete(save=False)  # no row refers to it: leave no stray file behind
        raise
    audit.record(actor=actor, action="transition", obj=agreement, source=source, changes={
        "status": [AgreementStatus.SIGNED, AgreementStatus.COUNTERSIGNED], "countersigned_name": [None, name],
        "pdf_sha256": [None, digest], "ip": [None, ip],
    })
    notify(
        _partner_admins(agreement.partner) + ([agreement.partner.owner] if agreement.partner.owner else []),
        kind="agreement.countersigned", exclude=actor,
        title=f"Countersigned: {agreement.title}",
        body=f"{agreement.title} is signed by both sides. The signed PDF is attached to the agreement.",
        url=agreement_url(agreement),
    )
    return agreement


@transaction.atomic
def agreement_void(*, agreement: Agreement, actor, source: str = "web") -> Agreement:
    locked = _locked(agreement)
    if locked.status == AgreementStatus.COUNTERSIGNED:
        raise ValidationError(CANNOT_VOID)
    if locked.status == AgreementStatus.VOID:
        return agreement
    before = locked.status
    agreement.status = AgreementStatus.VOID
    agreement.save(update_fields=["status"])
    audit.record(actor=actor, action="transition", obj=agreement, source=source, changes={"status": [before, AgreementStatus.VOID]})
    return agreement
