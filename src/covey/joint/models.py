"""Joint proposals (one per co-sell deal and partner) and joint account plans.

A proposal puts the partner's services and the vendor's product lines into one document for the
customer. Its pricing is approved by the vendor before it goes out; the decision (who, when, note)
stays on the proposal until a later change voids it. An account plan records what both sides want
from a strategic account: goals, target products, owners, next steps and the deals it covers.

Visibility follows the deal: vendor staff see everything; a partner user sees its own partner's
proposals on deals it is still on, and its own plans on accounts it can see.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.ids import PublicIdField
from covey.core.money import Money
from covey.core.validators import validate_currency
from covey.joint import rules


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Awaiting pricing approval"
    APPROVED = "approved", "Pricing approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    SENT = "sent", "Sent to customer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


# Lines and terms change only in these states; a change while approved voids the approval.
EDITABLE_STATUSES = (ProposalStatus.DRAFT, ProposalStatus.CHANGES_REQUESTED, ProposalStatus.APPROVED)
# The steps after approval, and the state each one may start from.
MARK_FROM = {
    ProposalStatus.SENT: (ProposalStatus.APPROVED,),
    ProposalStatus.ACCEPTED: (ProposalStatus.SENT,),
    ProposalStatus.DECLINED: (ProposalStatus.SENT,),
}


class LineKind(models.TextChoices):
    VENDOR_PRODUCT = rules.VENDOR_PRODUCT, "Vendor product"
    PARTNER_SERVICE = rules.PARTNER_SERVICE, "Partner service"


def _partner_deals(partner_id: int):
    from covey.crm.models import OpportunityPartner

    return OpportunityPartner.objects.filter(partner_id=partner_id).values("opportunity_id")


class JointProposalQuerySet(models.QuerySet):
    def visible_to(self, user) -> JointProposalQuerySet:
        """Vendor staff see all; a partner user its own partner's, on deals its partner is still on."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        return self.filter(partner_id=membership.partner_id, opportunity_id__in=_partner_deals(membership.partner_id))


class JointProposal(models.Model):
    public_id = PublicIdField(prefix="jpr")
    opportunity = models.ForeignKey("crm.Opportunity", on_delete=models.CASCADE, related_name="joint_proposals")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="joint_proposals")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT, db_index=True)
    currency = models.CharField(max_length=3, validators=[validate_currency], help_text="The opportunity's currency")
    valid_until = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=10_000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The pricing decision: approved, or changes requested; cleared when a change voids it.
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=2_000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JointProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One joint proposal per deal and partner: the point is that the customer gets one document.
            models.UniqueConstraint(fields=["opportunity", "partner"], name="joint_proposal_once_per_deal"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def approved_by(self):
        return self.decided_by if self.status in (ProposalStatus.APPROVED, ProposalStatus.SENT,
                                                  ProposalStatus.ACCEPTED, ProposalStatus.DECLINED) else None

    def priced_lines(self, lines=None) -> list[rules.PricedLine]:
        lines = self.lines.all() if lines is None else lines
        return [line.priced(self.currency) for line in lines]

    def totals(self, lines=None) -> rules.Totals:
        return rules.totals(self.priced_lines(lines), self.currency)


class ProposalLine(models.Model):
    public_id = PublicIdField(prefix="jpl")
    proposal = models.ForeignKey(JointProposal, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=LineKind.choices)
    product = models.ForeignKey("crm.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price_minor = models.BigIntegerField(help_text="Vendor lines: the catalogue's list price; partner lines: the partner's price")
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-kind", "id"]  # vendor products first, then partner services
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="proposal_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price_minor__gte=0), name="proposal_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="proposal_line_discount_percent",
            ),
            # A vendor line prices a catalogue product; a partner line is a described service, never discounted.
            models.CheckConstraint(
                condition=(Q(kind=rules.VENDOR_PRODUCT, product__isnull=False)
                           | Q(kind=rules.PARTNER_SERVICE, product__isnull=True, discount_percent=0)),
                name="proposal_line_kind_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.label}"

    @property
    def label(self) -> str:
        if self.kind == rules.VENDOR_PRODUCT and self.product_id:
            return self.product.name
        return self.description

    def priced(self, currency: str) -> rules.PricedLine:
        return rules.PricedLine(
            kind=self.kind, quantity=self.quantity, unit_price=Money(self.unit_price_minor, currency),
            discount_percent=Decimal(self.discount_percent),
        )


# --- account plans ---------------------------------------------------------------------------


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class Side(models.TextChoices):
    VENDOR = "vendor", "Vendor"
    PARTNER = "partner", "Partner"


class JointAccountPlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> JointAccountPlanQuerySet:
        """Vendor staff see all; a partner user its own partner's plans on accounts it can see."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_vendor:
            return self
        membership = user.membership
        if membership is None:
            return self.none()
        from covey.crm.models import Opportunity

        accounts = Opportunity.objects.filter(pk__in=_partner_deals(membership.partner_id)).values("account_id")
        return self.filter(partner_id=membership.partner_id, account_id__in=accounts)


class JointAccountPlan(models.Model):
    public_id = PublicIdField(prefix="jap")
    account = models.ForeignKey("crm.Account", on_delete=models.CASCADE, related_name="joint_plans")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="joint_plans")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT, db_index=True)
    vendor_goals = models.TextField(blank=True, max_length=10_000)
    partner_goals = models.TextField(blank=True, max_length=10_000)
    target_products = models.ManyToManyField("crm.Product", blank=True, related_name="+")
    vendor_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Vendor staff member who owns the plan",
    )
    partner_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="A user of the partner who owns the plan on its side",
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    opportunities = models.ManyToManyField("crm.Opportunity", blank=True, related_name="joint_plans")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JointAccountPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "joint account plan"
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__isnull=True) | Q(period_end__isnull=True) | Q(period_end__gte=models.F("period_start")),
                name="account_plan_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AccountPlanStep(models.Model):
    public_id = PublicIdField(prefix="aps")
    plan = models.ForeignKey(JointAccountPlan, on_delete=models.CASCADE, related_name="steps")
    text = models.CharField(max_length=500)
    owner_side = models.CharField(max_length=10, choices=Side.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done", "due_date", "id"]
        verbose_name = "account plan step"

    def __str__(self) -> str:
        return self.text

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return not self.done and self.due_date is not None and self.due_date < today
