"""Partner agreements: templates with numbered versions, and the agreements issued from them.

Design:
- A template's versions are append-only: changing the text publishes version n+1, so what someone
  signed can always be shown again exactly.
- Issuing an agreement to a partner freezes the version: the agreement keeps its version *and* a
  copy of the title and body, so not even a database edit of the version changes a signed text.
- Signing and countersigning each record who (the user and the typed name), when, which version,
  and from where (IP address and user agent). Countersigning renders the signed document to PDF
  (WeasyPrint, offline) and stores it with its SHA-256, so a copy can be checked against it.
- A partner becomes active only with a countersigned agreement (``countersigned_for``), enforced by
  ``covey.lifecycle.services.partner_change_lifecycle``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.ids import PublicIdField


class AgreementTemplateQuerySet(models.QuerySet):
    def visible_to(self, user) -> AgreementTemplateQuerySet:
        if not user.is_authenticated or not user.is_active or not user.is_vendor:
            return self.none()
        return self


class AgreementTemplate(models.Model):
    public_id = PublicIdField(prefix="agt")
    name = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AgreementTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> AgreementVersion | None:
        return self.versions.order_by("-number").first()


class AgreementVersion(models.Model):
    public_id = PublicIdField(prefix="agv")
    template = models.ForeignKey(AgreementTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown")
    change_note = models.CharField(max_length=300, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="agreement_version_number_once")]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


class AgreementStatus(models.TextChoices):
    ISSUED = "issued", "Waiting for the partner's signature"
    SIGNED = "signed", "Signed by the partner"
    COUNTERSIGNED = "countersigned", "Countersigned"
    VOID = "void", "Withdrawn"


class AgreementQuerySet(models.QuerySet):
    def visible_to(self, user) -> AgreementQuerySet:
        """Vendor staff see every agreement; a partner user only its own partner's."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        return self.filter(partner_id=membership.partner_id) if membership else self.none()

    def countersigned_for(self, partner) -> AgreementQuerySet:
        return self.filter(partner=partner, status=AgreementStatus.COUNTERSIGNED)


def agreement_pdf_path(agreement: Agreement, filename: str) -> str:
    # The public id in the path, not the partner's name: file names on disk reveal nothing.
    return f"agreements/{agreement.public_id}.pdf"


class Agreement(models.Model):
    public_id = PublicIdField(prefix="agr")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="agreements")
    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="agreements")
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="The version's text as issued (frozen)")
    status = models.CharField(max_length=14, choices=AgreementStatus.choices, default=AgreementStatus.ISSUED, db_index=True)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    signed_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    signed_user_agent = models.CharField(max_length=400, blank=True)

    countersigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    countersigned_name = models.CharField(max_length=200, blank=True)
    countersigned_at = models.DateTimeField(null=True, blank=True)
    countersigned_ip = models.GenericIPAddressField(null=True, blank=True)
    countersigned_user_agent = models.CharField(max_length=400, blank=True)

    pdf = models.FileField(upload_to=agreement_pdf_path, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            # A countersignature needs a signature before it, and a PDF with its checksum after it.
            models.CheckConstraint(
                condition=~Q(status="countersigned") | (Q(signed_at__isnull=False) & Q(countersigned_at__isnull=False) & ~Q(pdf_sha256="")),
                name="agreement_countersigned_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} · {self.partner}"

    @property
    def version_label(self) -> str:
        return f"version {self.version.number}"
