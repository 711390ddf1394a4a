"""The payout ledger, statements, disputes and payout batches.

Design overview (the ledger):
- ``LedgerEntry`` rows are what partners are owed: one row per (rule, partner, deal or period,
  component), in integer minor units of one currency, with the base, the rate, the rule and program
  version that produced it, and one line of plain-language explanation. Amounts are rounded once, half
  away from zero, when the entry is made.
- The ledger is append-only. Posted rows are never updated or deleted; the database refuses both
  (triggers installed by this app's migration). A correction is a *reversing* entry (the negative of
  the one it reverses, pointing at it with ``reverses``, same source and rule) plus, when something
  is still owed, a new entry.
- Every entry has a ``key`` naming what it pays for. Re-running a quarter computes the entries again
  and compares them by key with what is posted: equal amounts post nothing; a changed amount posts a
  reversal of what was there and the new entry; a key that no longer earns anything is reversed. So
  running a quarter twice changes nothing, and the net of a key is always what the rules say now.
- An entry is *payable* from ``payable_on``; an entry earned on a deal also ``awaits_payment``: it
  becomes payable ``payout_delay_days`` after the customer pays (a ``crm.DealEvent`` of kind paid).
  Payment is a fact about the deal, not about the entry, so it never rewrites the ledger; statements
  collect the entries payable by their period's end that are on no statement yet.

Statements move draft → acknowledged or disputed → approved (by finance) → paid. A statement is per
partner, program, statement period and currency, so every total is exact in one currency and a
payout batch pays one currency. Disputes attach to one line; finance resolves them into adjustment
entries (posted like any other entry, so the ledger explains them too).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from covey.core.access import partner_rows
from covey.core.ids import PublicIdField, decode_id, encode_id
from covey.core.validators import validate_currency


class Source(models.TextChoices):
    DEAL = "deal", "Deal"
    RECURRING = "recurring", "Recurring commission"
    REGISTRATION = "registration", "Registration bonus"
    ACCELERATOR = "accelerator", "Accelerator"
    REBATE = "rebate", "Rebate"
    SPIFF = "spiff", "SPIFF"
    OUTCOME = "outcome", "Outcome bonus"
    CLAWBACK = "clawback", "Clawback"
    CAP = "cap", "Cap"
    ADJUSTMENT = "adjustment", "Adjustment"
    MDF = "mdf", "Market development funds"


class FxRate(models.Model):
    """How many units of the base currency one unit of ``currency`` was worth in a fiscal quarter."""

    period_key = models.CharField(max_length=8, help_text="Fiscal quarter, e.g. 2026Q3")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    base_currency = models.CharField(max_length=3, validators=[validate_currency])
    per_base = models.DecimalField(max_digits=20, decimal_places=10)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["period_key", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["period_key", "currency"], name="one_fx_rate_per_period_and_currency"),
            models.CheckConstraint(condition=Q(per_base__gt=0), name="fx_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.period_key}: 1 {self.currency} = {self.per_base} {self.base_currency}"


class RunKind(models.TextChoices):
    POST = "post", "Posted"
    SIMULATE = "simulate", "Simulated"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PayoutRun(models.Model):
    """One calculation of a program's quarter (posted to the ledger, or simulated under a draft)."""

    public_id = PublicIdField(prefix="run")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="runs")
    version = models.ForeignKey("programs.ProgramVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="Simulations: the draft replayed")
    period_key = models.CharField(max_length=80, help_text="The quarter run; simulations: the quarters replayed, comma-separated")
    kind = models.CharField(max_length=10, choices=RunKind.choices, default=RunKind.POST)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    figures = models.JSONField(default=dict, blank=True)  # counts, totals, timings, simulated differences
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.program} {self.period_key} ({self.get_kind_display()})"


class EntryQuerySet(models.QuerySet):
    def visible_to(self, user) -> EntryQuerySet:
        """Vendor staff see every entry; a partner user only its own partner's."""
        return partner_rows(self, user)

    def by_public_id(self, public_id: str) -> EntryQuerySet:
        """The entry a public id names (none for an id that is not one), for chaining after visible_to."""
        pk = decode_id(LedgerEntry.PUBLIC_PREFIX, public_id)
        return self.filter(pk=pk) if pk is not None else self.none()


class LedgerEntry(models.Model):
    """One amount owed (or taken back), explained. See the module docstring.

    The references (program, version, run, partner, rep, rule, deal, reversed entry) carry no
    database foreign-key constraints and only the indexes the ledger's reads use: a quarter posts a
    million rows in one COPY, and a constraint check plus an index update per reference and row
    cost more than the rest of the run together. Integrity holds by construction instead: posting
    writes only ids it read in the same transaction, partners and deals cannot be deleted while
    entries refer to them (``on_delete=PROTECT``, checked by the application), and rules and versions
    in the ledger belong to published versions, which are never deleted.

    For the same reason there is no stored public id: ``public_id`` is computed from the key
    (``covey.core.ids.encode_id``) and ``LedgerEntry.objects.by_public_id`` finds the row again.
    """

    PUBLIC_PREFIX = "led"
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+", db_constraint=False,
                                db_index=False)
    version = models.ForeignKey("programs.ProgramVersion", null=True, blank=True, on_delete=models.DO_NOTHING,
                                related_name="+", db_constraint=False, db_index=False)
    run = models.ForeignKey(PayoutRun, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="entries",
                            db_constraint=False, db_index=False)
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="ledger_entries",
                                db_constraint=False, db_index=False)
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                            related_name="+", db_constraint=False, db_index=False, help_text="SPIFFs: the partner rep paid")
    period_key = models.CharField(max_length=8, help_text="The fiscal quarter that earned it")
    source = models.CharField(max_length=12, choices=Source.choices)
    rule = models.ForeignKey("programs.Rule", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
                             db_constraint=False, db_index=False)
    rule_kind = models.CharField(max_length=24, blank=True)
    opportunity = models.ForeignKey("crm.Opportunity", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", db_constraint=False)
    key = models.CharField(max_length=160, help_text="What it pays for; reruns compare by it")
    base_minor = models.BigIntegerField(null=True, blank=True)
    rate = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True, help_text="A fraction: 0.1 = 10 %")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    explanation = models.CharField(max_length=500)
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="reversals",
                                 db_constraint=False, db_index=False)
    payable_on = models.DateField(null=True, blank=True, help_text="Not payable before this day")
    awaits_payment = models.BooleanField(
        default=False, help_text="Payable only once the customer has paid for the deal, plus the delay",
    )
    payout_delay_days = models.PositiveSmallIntegerField(default=0)
    posted_at = models.DateTimeField(default=timezone.now)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["posted_at", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            # A run appends a quarter's rows under one (program, quarter): cheap to maintain, and
            # what reruns and simulations read.
            models.Index(fields=["program", "period_key"], name="ledger_program_quarter"),
            # One partner's entries: its statements, its earnings, a rerun for one partner.
            models.Index(fields=["partner", "program", "period_key"], name="ledger_partner_quarter"),
        ]

    def __str__(self) -> str:
        return self.explanation

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("ledger entries are append-only: post a reversing entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("ledger entries are append-only: post a reversing entry instead")

    @property
    def public_id(self) -> str:
        return encode_id(self.PUBLIC_PREFIX, self.pk)


class StatementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACKNOWLEDGED = "acknowledged", "Acknowledged by the partner"
    DISPUTED = "disputed", "Disputed"
    APPROVED = "approved", "Approved by finance"
    PAID = "paid", "Paid"


class StatementQuerySet(models.QuerySet):
    def visible_to(self, user) -> StatementQuerySet:
        """Vendor staff see every statement; a partner user only its own partner's."""
        return partner_rows(self, user)


class Statement(models.Model):
    public_id = PublicIdField(prefix="stm")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="statements")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="statements")
    period_key = models.CharField(max_length=8, help_text="Statement period: 2026Q3, or 2026-08 when monthly")
    period_end = models.DateField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    status = models.CharField(max_length=12, choices=StatementStatus.choices, default=StatementStatus.DRAFT)
    total_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    batch = models.ForeignKey("PayoutBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="statements")

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "partner", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["program", "partner", "period_key", "currency"],
                                    name="one_statement_per_partner_period_currency"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.program} · {self.period_key} · {self.currency}"


class StatementLine(models.Model):
    """An entry on a statement. An entry is on one statement at most (the unique key enforces it)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="statement_line")

    class Meta:
        ordering = ["statement", "entry"]

    def __str__(self) -> str:
        return f"{self.statement}: {self.entry}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved with an adjustment"
    REJECTED = "rejected", "Rejected"


class Dispute(models.Model):
    public_id = PublicIdField(prefix="dsp")
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="disputes")
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="disputes")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField()
    status = models.CharField(max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    adjustment = models.ForeignKey(LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["entry"], condition=Q(status="open"), name="one_open_dispute_per_line"),
        ]

    def __str__(self) -> str:
        return f"Dispute on {self.entry}"


class DisputeFile(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to="disputes/%Y/%m/")
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class BatchStatus(models.TextChoices):
    EXPORTED = "exported", "Exported"
    PAID = "paid", "Paid"


class PayoutBatch(models.Model):
    public_id = PublicIdField(prefix="bat")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.EXPORTED)
    total_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    reference = models.CharField(max_length=100, blank=True, help_text="The bank's or payment run's reference")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Payout batch {self.public_id} ({self.currency})"
