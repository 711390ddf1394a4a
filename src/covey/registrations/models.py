"""Deal registrations: a partner's claim to a customer account, the program rules that govern it, and
the record of how contested claims were settled.

Design:
- The claim is a row flag, ``holds_claim``, under a partial unique index on ``claim_domain``: at most
  one registration per registrable domain can hold it, and that is enforced by the database (the
  index on PostgreSQL; SQLite serialises writers and checks the same index). Submitting inserts with
  the flag set inside a savepoint; losing the insert race means the account is already registered.
- The claim is released (flag cleared) when its holder is rejected, expires or is lost; the conflict
  queue can then award it to a waiting registration.
- ``RegistrationProgram`` is one row (id 1) of program rules, read on every submission, so it is
  cached per process for a few seconds (see ``current``).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField
from covey.core.money import Money
from covey.core.validators import validate_currency

DEFAULT_MINIMUM_MINOR = 1_000_000  # 10,000.00
DEFAULT_MINIMUM_CURRENCIES = ("USD", "EUR", "GBP")


def default_minimums() -> dict[str, int]:
    return {code: DEFAULT_MINIMUM_MINOR for code in DEFAULT_MINIMUM_CURRENCIES}


class RegistrationProgram(models.Model):
    """The deal registration program's rules. Always row id 1; read with ``current()``."""

    # How long a process trusts its cached copy. Edits in this process clear it at once; other
    # processes (server workers) pick an edit up within this many seconds.
    CACHE_SECONDS = 5.0

    minimums = models.JSONField(
        default=default_minimums, blank=True,
        help_text="Minimum estimated value per currency, in minor units: {\"USD\": 1000000}",
    )
    allow_expansion = models.BooleanField(
        default=False, help_text="Accept expansion deals (and registrations on existing customers)",
    )
    block_open_vendor_opportunity = models.BooleanField(
        default=True, help_text="Refuse accounts on which the vendor's sales team already has an open opportunity",
    )
    review_sla_business_days = models.PositiveSmallIntegerField(default=2)
    protection_days = models.PositiveSmallIntegerField(default=90)
    expiry_warning_days = models.PositiveSmallIntegerField(default=14)
    extension_days = models.PositiveSmallIntegerField(default=30)
    convert_on_approval = models.BooleanField(
        default=True, help_text="Create the opportunity as soon as a registration is approved",
    )
    updated_at = models.DateTimeField(auto_now=True)

    _cache: tuple[float, RegistrationProgram] | None = None
    _cache_lock = threading.Lock()

    class Meta:
        verbose_name = "registration program"

    def __str__(self) -> str:
        return "Deal registration program"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        type(self).forget()
        transaction.on_commit(type(self).forget)  # a read between save and commit may have cached

    @classmethod
    def current(cls) -> RegistrationProgram:
        """The program row, from a per-process cache when it is fresh.

        Only a value read outside a transaction is cached: one read inside a transaction may be the
        transaction's own uncommitted edit, which a rollback would undo.
        """
        cached = cls._cache
        if cached is not None and time.monotonic() - cached[0] < cls.CACHE_SECONDS:
            return cached[1]
        obj = cls.objects.filter(pk=1).first() or cls.objects.get_or_create(pk=1)[0]
        if not connection.in_atomic_block:
            with cls._cache_lock:
                cls._cache = (time.monotonic(), obj)
        return obj

    @classmethod
    def forget(cls) -> None:
        with cls._cache_lock:
            cls._cache = None

    def minimum_for(self, currency: str) -> Money | None:
        minor = (self.minimums or {}).get(currency)
        return None if minor is None else Money(int(minor), currency)


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CONVERTED = "converted", "Converted"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    EXPIRED = "expired", "Expired"
    CONFLICT = "conflict", "Conflict"


class DealType(models.TextChoices):
    NEW = "new", "New business"
    EXPANSION = "expansion", "Expansion"


AWAITING_REVIEW = (Status.SUBMITTED, Status.UNDER_REVIEW)
PROTECTED = (Status.APPROVED, Status.CONVERTED)  # protection window running
LIVE = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.APPROVED, Status.CONVERTED)
FINAL = (Status.REJECTED, Status.WON, Status.LOST, Status.EXPIRED)


class RegistrationQuerySet(models.QuerySet):
    def visible_to(self, user) -> RegistrationQuerySet:
        """Vendor staff see every registration; a partner user only its own partner's."""
        return partner_rows(self, user)

    def overdue(self, now=None) -> RegistrationQuerySet:
        return self.filter(status__in=AWAITING_REVIEW, review_due_at__lt=now or timezone.now())

    def expiring_within(self, days: int, now=None) -> RegistrationQuerySet:
        now = now or timezone.now()
        return self.filter(status__in=PROTECTED, protection_expires_at__gt=now,
                           protection_expires_at__lte=now + timedelta(days=days))


class Registration(models.Model):
    public_id = PublicIdField(prefix="reg")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="registrations")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    company_name = models.CharField(max_length=200)
    domain = models.CharField(max_length=300, help_text="The web domain as it was typed")
    claim_domain = models.CharField(max_length=253, db_index=True, editable=False)
    normalised_name = models.CharField(max_length=200, db_index=True, editable=False)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(max_length=254, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    no_minimum_configured = models.BooleanField(
        default=False, help_text="The program has no minimum for this currency; the reviewer judges the value",
    )
    products = models.ManyToManyField("crm.Product", blank=True, related_name="+")
    expected_close = models.DateField()
    description = models.TextField(blank=True)
    evidence = models.TextField(blank=True, help_text="Joint work with the customer so far")
    deal_type = models.CharField(max_length=10, choices=DealType.choices, default=DealType.NEW)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    reason = models.CharField(max_length=1000, blank=True)
    holds_claim = models.BooleanField(default=False)
    conflict_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="conflicts",
        help_text="The registration that held the claim when this one was submitted",
    )
    resolution = models.ForeignKey(
        "ConflictResolution", null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved",
    )
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    review_due_at = models.DateTimeField(null=True, blank=True)
    review_overdue_notified_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    protection_starts_at = models.DateTimeField(null=True, blank=True)
    protection_expires_at = models.DateTimeField(null=True, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    extension_requested_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.CharField(max_length=1000, blank=True)
    extension_decided_at = models.DateTimeField(null=True, blank=True)
    extension_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    extension_granted = models.BooleanField(null=True, blank=True)
    opportunity = models.ForeignKey(
        "crm.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="registrations",
    )
    account = models.ForeignKey(
        "crm.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="registrations",
    )

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # The heart of "first valid registration wins": one claim per registrable domain.
            models.UniqueConstraint(
                fields=["claim_domain"], condition=Q(holds_claim=True), name="registration_one_claim_per_domain",
            ),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="registration_amount_not_negative"),
            models.CheckConstraint(condition=~Q(claim_domain=""), name="registration_claim_domain_set"),
        ]
        indexes = [
            models.Index(fields=["partner", "-submitted_at"]),
            models.Index(fields=["status", "review_due_at"]),
            models.Index(fields=["status", "protection_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.claim_domain})"

    @property
    def value(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    @property
    def awaiting_review(self) -> bool:
        return self.status in AWAITING_REVIEW

    def is_overdue(self, now=None) -> bool:
        return bool(self.awaiting_review and self.review_due_at and self.review_due_at < (now or timezone.now()))

    def days_left(self, now=None) -> int | None:
        """Whole days of protection left (0 on the last day), or None when no window is running."""
        if self.status not in PROTECTED or self.protection_expires_at is None:
            return None
        left = self.protection_expires_at - (now or timezone.now())
        return max(left.days, 0)

    @property
    def can_request_extension_now(self) -> bool:
        return (
            self.status in PROTECTED and self.extension_requested_at is None
            and self.protection_expires_at is not None and self.protection_expires_at > timezone.now()
        )

    @property
    def extension_pending(self) -> bool:
        return self.extension_requested_at is not None and self.extension_decided_at is None


class ConflictOutcome(models.TextChoices):
    AWARD_FIRST = "award_first", "Award to the first registration"
    REJECT = "reject", "Reject all"
    SPLIT_CREDIT = "split_credit", "Split credit"


class ConflictResolution(models.Model):
    """How a manager settled competing registrations for one account."""

    public_id = PublicIdField(prefix="rcr")
    claim_domain = models.CharField(max_length=253, db_index=True)
    holder = models.ForeignKey(
        Registration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The registration that holds the account after the decision",
    )
    outcome = models.CharField(max_length=14, choices=ConflictOutcome.choices)
    note = models.CharField(max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.claim_domain}"
