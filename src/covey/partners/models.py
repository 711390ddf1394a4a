"""Partner organisations and the people who act for them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from covey.core.ids import PublicIdField
from covey.core.vocab import Region, Segment


class PartnerType(models.TextChoices):
    REFERRAL = "referral", "Referral"
    RESELLER = "reseller", "Reseller / VAR"
    DISTRIBUTOR = "distributor", "Distributor"
    SYSTEM_INTEGRATOR = "system_integrator", "System integrator"
    MSP = "msp", "Managed service provider"
    TECHNOLOGY = "technology", "Technology / ISV"
    CO_MARKETING = "co_marketing", "Co-marketing"
    AFFILIATE = "affiliate", "Affiliate"
    STRATEGIC_ALLIANCE = "strategic_alliance", "Strategic alliance"


class Lifecycle(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    APPLIED = "applied", "Applied"
    EVALUATING = "evaluating", "Evaluating"
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    TERMINATED = "terminated", "Terminated"


class PartnerQuerySet(models.QuerySet):
    def visible_to(self, user) -> PartnerQuerySet:
        """The choke point: vendor staff see every partner; a partner user only its own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        return self.filter(pk=membership.partner_id) if membership else self.none()


class Partner(models.Model):
    public_id = PublicIdField(prefix="ptn")
    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    website = models.URLField(max_length=300, blank=True)
    domain = models.CharField(max_length=253, blank=True, db_index=True)
    region = models.CharField(max_length=10, choices=Region.choices, default=Region.NORTH_AMERICA)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 two-letter code")
    lifecycle = models.CharField(
        max_length=12, choices=Lifecycle.choices, default=Lifecycle.PROSPECT, db_index=True,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="owned_partners", limit_choices_to={"staff_role__in": ["partner_manager", "admin"]},
        help_text="The partner manager responsible for this partner",
    )
    description = models.TextField(blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def type_codes(self) -> list[str]:
        return [t.code for t in self.types.all()]

    @property
    def type_labels(self) -> list[str]:
        return [PartnerType(t.code).label for t in self.types.all()]

    @property
    def segment_labels(self) -> list[str]:
        return [Segment(s.code).label for s in self.segments.all()]


class PartnerTypeTag(models.Model):
    """One of a partner's types; a partner may have several (reseller and integrator, say)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="types")
    code = models.CharField(max_length=20, choices=PartnerType.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "code"], name="partner_type_once")]
        indexes = [models.Index(fields=["code", "partner"])]

    def __str__(self) -> str:
        return PartnerType(self.code).label


class PartnerSegmentTag(models.Model):
    """A customer segment the partner serves."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="segments")
    code = models.CharField(max_length=20, choices=Segment.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "code"], name="partner_segment_once")]

    def __str__(self) -> str:
        return Segment(self.code).label


class PartnerRole(models.TextChoices):
    ADMIN = "admin", "Partner admin"
    REP = "rep", "Partner rep"
    READ_ONLY = "read_only", "Read-only"


class Membership(models.Model):
    """Links a partner user to the one partner it acts for."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=PartnerRole.choices, default=PartnerRole.REP)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["partner", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} at {self.partner}"

    @property
    def can_write(self) -> bool:
        return self.role != PartnerRole.READ_ONLY
