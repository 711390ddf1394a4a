"""Accounts, products, opportunities with lines and partners, and activities.

Vocabulary follows Salesforce's standard values (stage names, opportunity types, partner roles) so
imports and exports map one to one. Money is integer minor units plus a currency (see core.money).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField
from covey.core.money import Money
from covey.core.validators import validate_currency
from covey.core.vocab import Region, Segment


class AccountStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"
    FORMER = "former", "Former customer"


class Stage(models.TextChoices):
    """Salesforce's standard opportunity stages, in pipeline order."""

    PROSPECTING = "Prospecting"
    QUALIFICATION = "Qualification"
    NEEDS_ANALYSIS = "Needs Analysis"
    VALUE_PROPOSITION = "Value Proposition"
    ID_DECISION_MAKERS = "Id. Decision Makers", "Id. Decision Makers"
    PERCEPTION_ANALYSIS = "Perception Analysis"
    PROPOSAL = "Proposal/Price Quote", "Proposal/Price Quote"
    NEGOTIATION = "Negotiation/Review", "Negotiation/Review"
    CLOSED_WON = "Closed Won"
    CLOSED_LOST = "Closed Lost"


# Default probability per stage, as Salesforce ships them.
STAGE_PROBABILITY = {
    Stage.PROSPECTING: 10, Stage.QUALIFICATION: 10, Stage.NEEDS_ANALYSIS: 20,
    Stage.VALUE_PROPOSITION: 50, Stage.ID_DECISION_MAKERS: 60, Stage.PERCEPTION_ANALYSIS: 70,
    Stage.PROPOSAL: 75, Stage.NEGOTIATION: 90, Stage.CLOSED_WON: 100, Stage.CLOSED_LOST: 0,
}
CLOSED_STAGES = (Stage.CLOSED_WON, Stage.CLOSED_LOST)
OPEN_STAGES = tuple(s for s in Stage if s not in CLOSED_STAGES)


class OpportunityType(models.TextChoices):
    NEW = "new", "New business"
    EXPANSION = "expansion", "Expansion"
    RENEWAL = "renewal", "Renewal"


class PartnerInvolvement(models.TextChoices):
    """How a partner took part in a deal (maps to Salesforce's PartnerRole on import)."""

    SOURCED = "sourced", "Sourced"
    REFERRAL = "referral", "Referral"
    RESELLER = "reseller", "Reseller"
    DISTRIBUTOR = "distributor", "Distributor"
    INTEGRATOR = "integrator", "System integrator"
    TECHNOLOGY = "technology", "Technology"
    INFLUENCER = "influencer", "Influencer"


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    DEMO = "demo", "Demo"
    EMAIL = "email", "E-mail"
    NOTE = "note", "Note"


# --- accounts --------------------------------------------------------------------------------


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user) -> AccountQuerySet:
        """Vendor staff see every account; a partner user sees accounts of deals it is on."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        on_deals = OpportunityPartner.objects.filter(partner_id=membership.partner_id).values(
            "opportunity__account_id"
        )
        return self.filter(pk__in=on_deals)


class Account(models.Model):
    public_id = PublicIdField(prefix="acc")
    name = models.CharField(max_length=255, db_index=True)
    domain = models.CharField(max_length=253, blank=True, db_index=True)
    website = models.CharField(max_length=300, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=10, choices=Region.choices, blank=True)
    country = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.PROSPECT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True,
                                   help_text="The record's id in your CRM (Salesforce, HubSpot…)")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- products --------------------------------------------------------------------------------


class ProductQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProductQuerySet:
        """The catalogue is what partners sell: every active signed-in user sees all of it."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self


class Product(models.Model):
    """The vendor's catalogue; visible to every signed-in user (it is what partners sell)."""

    public_id = PublicIdField(prefix="prd")
    name = models.CharField(max_length=200, unique=True)
    code = models.CharField(max_length=40, unique=True)
    family = models.CharField(max_length=100, blank=True)
    unit_price_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    recurring = models.BooleanField(default=True, help_text="Billed yearly (subscription)")
    is_active = models.BooleanField(default=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_minor, self.currency)


# --- opportunities ---------------------------------------------------------------------------


class OpportunityQuerySet(models.QuerySet):
    def visible_to(self, user) -> OpportunityQuerySet:
        """Vendor staff see every opportunity; a partner user sees those its partner is on."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        return self.filter(
            pk__in=OpportunityPartner.objects.filter(partner_id=membership.partner_id).values("opportunity_id")
        )

    def open(self) -> OpportunityQuerySet:
        return self.exclude(stage__in=CLOSED_STAGES)

    def won(self) -> OpportunityQuerySet:
        return self.filter(stage=Stage.CLOSED_WON)


class Opportunity(models.Model):
    public_id = PublicIdField(prefix="opp")
    name = models.CharField(max_length=255)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="opportunities")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    stage = models.CharField(max_length=30, choices=Stage.choices, default=Stage.PROSPECTING, db_index=True)
    # When the stage last changed (None: not since import/seed; then created_at stands in). Drives the
    # "stalled N days in a stage" escalation trigger.
    stage_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    type = models.CharField(max_length=10, choices=OpportunityType.choices, default=OpportunityType.NEW)
    amount_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD", validators=[validate_currency])
    close_date = models.DateField(db_index=True)
    lost_reason = models.CharField(max_length=200, blank=True)
    lead_source = models.CharField(max_length=100, blank=True)
    # db_default: bulk loaders (seed, bench, imports) that name their columns need not know this one.
    campaign_code = models.CharField(max_length=40, blank=True, default="", db_default="", db_index=True,
                                     help_text="The marketing campaign (e.g. an MDF activity's code) it came from")
    description = models.TextField(blank=True)
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["-close_date", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="opportunity_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["stage", "close_date"])]

    def __str__(self) -> str:
        return self.name

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def probability(self) -> int:
        return STAGE_PROBABILITY.get(Stage(self.stage), 0)

    @property
    def is_closed(self) -> bool:
        return self.stage in CLOSED_STAGES

    @property
    def is_won(self) -> bool:
        return self.stage == Stage.CLOSED_WON


class OpportunityLine(models.Model):
    public_id = PublicIdField(prefix="oli")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    unit_price_minor = models.BigIntegerField()
    discount_minor = models.BigIntegerField(default=0, help_text="Total discount on the line")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price_minor__gte=0), name="line_price_not_negative"),
            models.CheckConstraint(condition=Q(discount_minor__gte=0), name="line_discount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor - self.discount_minor

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.opportunity.currency)

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_minor, self.opportunity.currency)


class OpportunityPartner(models.Model):
    public_id = PublicIdField(prefix="opl")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="partner_links")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="opportunity_links")
    role = models.CharField(max_length=12, choices=PartnerInvolvement.choices)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "partner"], name="opportunity_partner_once"),
            models.UniqueConstraint(
                fields=["opportunity"], condition=Q(is_primary=True), name="opportunity_one_primary_partner",
            ),
        ]
        indexes = [models.Index(fields=["partner", "opportunity"])]

    def __str__(self) -> str:
        return f"{self.partner} ({self.get_role_display()}) on {self.opportunity}"


# --- what happened after the deal closed ---------------------------------------------------


class DealEventKind(models.TextChoices):
    PAID = "paid", "Customer paid"
    CHURNED = "churned", "Customer churned"
    REFUNDED = "refunded", "Refunded"
    ADOPTION = "adoption", "Adoption milestone reached"


class DealEvent(models.Model):
    """A fact about a won deal that comes from billing or customer success, not from the sales
    pipeline: the customer paid, left, was refunded, reached an adoption milestone. Partner payouts
    depend on them (payable after payment, clawed back after early churn or refund, outcome bonuses)."""

    public_id = PublicIdField(prefix="dev")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=DealEventKind.choices)
    occurred_on = models.DateField()
    amount_minor = models.BigIntegerField(null=True, blank=True, help_text="Payments and refunds, in the deal's currency")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__isnull=True) | Q(amount_minor__gte=0),
                                   name="deal_event_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["kind", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_on}"


# --- activities ------------------------------------------------------------------------------


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user) -> ActivityQuerySet:
        """Vendor staff see every activity; a partner user sees the ones logged for its partner."""
        return partner_rows(self, user)


class Activity(models.Model):
    public_id = PublicIdField(prefix="act")
    kind = models.CharField(max_length=10, choices=ActivityKind.choices, default=ActivityKind.NOTE)
    subject = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    is_joint = models.BooleanField(default=False, help_text="Vendor and partner took part together")
    evidence_url = models.URLField(max_length=500, blank=True, help_text="Link to a recording, deck or e-mail thread")
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.CASCADE, related_name="activities",
    )
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="activities")
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.CASCADE, related_name="activities",
        help_text="The partner this activity involves; its users can see it",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.subject
