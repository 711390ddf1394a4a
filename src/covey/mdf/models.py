"""Market development funds: budgets, allocations, fund requests, claims with proof files.

Design overview (the money):
- A ``Budget`` is what a program may spend on partners' marketing in one fiscal quarter, in the
  program's currency. An ``Allocation`` is one partner's share of it (from its tier's
  ``mdf_allowance_minor``, or set by a manager with a reason).
- Both carry two running figures next to their amount: ``reserved_minor`` (approved requests not yet
  reimbursed) and ``spent_minor`` (reimbursed). The balance is ``amount − reserved − spent`` and a
  CHECK constraint on each row keeps it from going below zero, whatever the application does.
- Every change of those figures happens in a service that first locks the budget row, then the
  allocation row (``SELECT … FOR UPDATE``, always in that order, so two approvals cannot deadlock),
  re-reads the balances and writes with ``F()`` expressions. Two approvals racing for the last
  money: the second waits for the first's commit, then sees the smaller balance and is refused.
- Approving a request reserves the approved amount. Finance approving the claim turns the reservation
  into spending of the reimbursement — min(approved, vendor share of the actual cost, the amount
  claimed), rounded half-up to the minor unit once — posts it to the payouts ledger as an MDF entry,
  and returns the rest of the reservation to the balance. An approval nobody claims by its deadline
  lapses and returns all of it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField
from covey.core.validators import validate_currency

DEFAULT_CLAIM_DAYS = 60


class BudgetQuerySet(models.QuerySet):
    def visible_to(self, user) -> BudgetQuerySet:
        """Budgets are the vendor's planning: vendor staff see them, partner users see none (they see
        their own allocations)."""
        if not user.is_authenticated or not user.is_active or not user.is_vendor:
            return self.none()
        return self


class Budget(models.Model):
    public_id = PublicIdField(prefix="mdb")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="mdf_budgets")
    period_key = models.CharField(max_length=8, help_text="Fiscal quarter, e.g. 2026Q3")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    reserved_minor = models.BigIntegerField(default=0)
    spent_minor = models.BigIntegerField(default=0)
    second_approval_above_minor = models.BigIntegerField(
        null=True, blank=True, help_text="Requests approved for more than this need an admin's second approval",
    )
    claim_days = models.PositiveSmallIntegerField(default=DEFAULT_CLAIM_DAYS,
                                                  help_text="Claims are due this many days after the activity ends")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = BudgetQuerySet.as_manager()

    class Meta:
        ordering = ["-period_key", "program__name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "period_key"], name="mdf_one_budget_per_program_quarter"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0, reserved_minor__gte=0, spent_minor__gte=0),
                                   name="mdf_budget_figures_not_negative"),
            models.CheckConstraint(condition=Q(amount_minor__gte=F("reserved_minor") + F("spent_minor")),
                                   name="mdf_budget_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.period_key}"

    @property
    def available_minor(self) -> int:
        return self.amount_minor - self.reserved_minor - self.spent_minor


class AllocationQuerySet(models.QuerySet):
    def visible_to(self, user) -> AllocationQuerySet:
        return partner_rows(self, user)


class Allocation(models.Model):
    public_id = PublicIdField(prefix="mda")
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="allocations")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="mdf_allocations")
    tier_code = models.SlugField(max_length=30, blank=True, help_text="The tier it was generated from")
    amount_minor = models.BigIntegerField()
    reserved_minor = models.BigIntegerField(default=0)
    spent_minor = models.BigIntegerField(default=0)
    adjusted = models.BooleanField(default=False, help_text="Set by hand: generating again leaves it alone")
    created_at = models.DateTimeField(default=timezone.now)

    objects = AllocationQuerySet.as_manager()

    class Meta:
        ordering = ["budget", "partner__name"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "partner"], name="mdf_one_allocation_per_partner"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0, reserved_minor__gte=0, spent_minor__gte=0),
                                   name="mdf_allocation_figures_not_negative"),
            models.CheckConstraint(condition=Q(amount_minor__gte=F("reserved_minor") + F("spent_minor")),
                                   name="mdf_allocation_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.budget}"

    @property
    def available_minor(self) -> int:
        return self.amount_minor - self.reserved_minor - self.spent_minor

    @property
    def currency(self) -> str:
        return self.budget.currency


class ActivityType(models.TextChoices):
    EVENT = "event", "Event"
    WEBINAR = "webinar", "Webinar"
    DIGITAL = "digital", "Digital advertising"
    CONTENT = "content", "Content"
    TRAINING = "training", "Training"
    OTHER = "other", "Other"


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting decision"
    SECOND_APPROVAL = "second_approval", "Awaiting second approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CLAIMED = "claimed", "Claim submitted"
    REIMBURSED = "reimbursed", "Reimbursed"
    LAPSED = "lapsed", "Lapsed (not claimed in time)"


RESERVING = (RequestStatus.SECOND_APPROVAL, RequestStatus.APPROVED, RequestStatus.CLAIMED)


class RequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> RequestQuerySet:
        return partner_rows(self, user)


class FundRequest(models.Model):
    public_id = PublicIdField(prefix="mdr")
    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="requests")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="mdf_requests")
    activity_type = models.CharField(max_length=12, choices=ActivityType.choices)
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    planned_cost_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    co_investment_percent = models.DecimalField(max_digits=5, decimal_places=2,
                                                help_text="The partner's own share of the cost, in percent")
    requested_minor = models.BigIntegerField(help_text="The vendor's share of the planned cost")
    expected_leads = models.PositiveIntegerField(default=0)
    expected_pipeline_minor = models.BigIntegerField(default=0)
    campaign_code = models.CharField(max_length=40, db_index=True)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED)
    approved_minor = models.BigIntegerField(null=True, blank=True)
    decision_reason = models.CharField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    second_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
    second_approved_at = models.DateTimeField(null=True, blank=True)
    claim_due_on = models.DateField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="mdf_request_ends_after_start"),
            models.CheckConstraint(condition=Q(planned_cost_minor__gt=0, requested_minor__gte=0,
                                               expected_pipeline_minor__gte=0), name="mdf_request_amounts_valid"),
            models.CheckConstraint(condition=Q(co_investment_percent__gte=0, co_investment_percent__lt=100),
                                   name="mdf_request_share_valid"),
            models.CheckConstraint(condition=Q(approved_minor__isnull=True) | Q(approved_minor__gte=0),
                                   name="mdf_request_approved_not_negative"),
        ]
        indexes = [models.Index(fields=["status", "claim_due_on"])]

    def __str__(self) -> str:
        return self.title

    @property
    def reserves(self) -> bool:
        return self.status in RESERVING


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting finance"
    APPROVED = "approved", "Approved and reimbursed"
    REJECTED = "rejected", "Rejected"


class ClaimQuerySet(models.QuerySet):
    def visible_to(self, user) -> ClaimQuerySet:
        return partner_rows(self, user, field="request__partner_id")


class Claim(models.Model):
    public_id = PublicIdField(prefix="mdc")
    request = models.ForeignKey(FundRequest, on_delete=models.PROTECT, related_name="claims")
    actual_cost_minor = models.BigIntegerField()
    claimed_minor = models.BigIntegerField(help_text="What the partner asks to be reimbursed")
    reimbursable_minor = models.BigIntegerField(help_text="min(approved, vendor share of actual cost, claimed)")
    leads_count = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED)
    decision_note = models.CharField(max_length=1000, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    ledger_entry = models.ForeignKey("payouts.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["request"], condition=Q(status="submitted"),
                                    name="mdf_one_open_claim_per_request"),
            models.CheckConstraint(condition=Q(actual_cost_minor__gte=0, claimed_minor__gte=0,
                                               reimbursable_minor__gte=0), name="mdf_claim_amounts_valid"),
        ]

    def __str__(self) -> str:
        return f"Claim on {self.request}"


class FileKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    SCREENSHOT = "screenshot", "Screenshot"
    ATTENDEES = "attendees", "Attendee list"
    LEADS = "leads", "Lead list"
    OTHER = "other", "Other proof"


class ClaimFileQuerySet(models.QuerySet):
    def visible_to(self, user) -> ClaimFileQuerySet:
        return partner_rows(self, user, field="claim__request__partner_id")


class ClaimFile(models.Model):
    public_id = PublicIdField(prefix="mdp")
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=12, choices=FileKind.choices, default=FileKind.INVOICE)
    file = models.FileField(upload_to="mdf/%Y/%m/")
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = ClaimFileQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
