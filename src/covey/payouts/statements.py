"""Statements, disputes and payout batches.

A statement is one partner's payable entries of one program and currency for a statement period (a
fiscal quarter such as ``2026Q3``, or a month such as ``2026-08`` for monthly programs). Refreshing a
period puts every payable entry that is on no statement yet onto its partner's *draft* statement for
that period; an entry that becomes payable later, or whose statement is no longer a draft, waits for
the next period. A statement's total is always the sum of its lines.

Life of a statement: draft → acknowledged by the partner (or disputed, line by line, with a comment
and files) → approved by finance → paid in a payout batch. Finance resolves a dispute with an
adjustment entry (posted to the ledger like any other, explained, and put on the same statement) or
rejects it; once no dispute is open the statement goes back to draft for the partner to acknowledge.
A statement approved with a negative total (clawbacks larger than earnings) carries the balance
forward: an adjustment brings it to zero and its opposite is payable from the next day.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from covey.core import audit
from covey.core.ids import new_public_ids
from covey.core.models import StaffRole, User, VendorSettings
from covey.core.money import Money
from covey.core.notify import notify
from covey.core.schemas import money_out

# Proof-file limits are shared with MDF claims; the names stay importable from here.
from covey.core.uploads import (  # noqa: F401
    FILE_TOO_LARGE,
    FILE_TYPE,
    MAX_FILE_MB,
    MAX_FILES,
    TOO_MANY_FILES,
    check_files,
)
from covey.core.validators import clean_text
from covey.payouts.models import (
    BatchStatus,
    Dispute,
    DisputeFile,
    DisputeStatus,
    LedgerEntry,
    PayoutBatch,
    Source,
    Statement,
    StatementLine,
    StatementStatus,
)
from covey.programs.models import Program

COMMENT_REQUIRED = "Say what is wrong with this line; finance reads it."
NOT_ON_STATEMENT = "That line is not on this statement."
ALREADY_DISPUTED = "This line already has an open dispute."
CANNOT_DISPUTE = "Only a draft or acknowledged statement can be disputed."
CANNOT_ACKNOWLEDGE = "Only a draft statement without open disputes can be acknowledged."
CANNOT_APPROVE = "Only a draft or acknowledged statement without open disputes can be approved."
NOT_OPEN = "This dispute has already been decided."
NOTHING_TO_PAY = "There are no approved statements in {currency} waiting for payment."
BATCH_PAID = "This batch is already marked paid."


# --- statement periods ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementPeriod:
    key: str
    start: date
    end: date


def statement_period(program: Program, day: date, *, monthly: bool) -> StatementPeriod:
    """The statement period containing ``day``: its calendar month, or its fiscal quarter."""
    if monthly:
        start = day.replace(day=1)
        end = (start.replace(year=start.year + 1, month=1) if start.month == 12
               else start.replace(month=start.month + 1)) - timedelta(days=1)
        return StatementPeriod(f"{start:%Y-%m}", start, end)
    quarter = VendorSettings.current().calendar.quarter_of(day)
    return StatementPeriod(quarter.key, quarter.start, quarter.end)


def parse_statement_period(program: Program, key: str) -> StatementPeriod:
    key = (key or "").strip().upper()
    try:
        if len(key) == 7 and key[4] == "-":
            return statement_period(program, date(int(key[:4]), int(key[5:]), 1), monthly=True)
        if len(key) == 6 and key[4] == "Q":
            quarter = VendorSettings.current().calendar.quarter(int(key[:4]), int(key[5]))
            return StatementPeriod(quarter.key, quarter.start, quarter.end)
    except ValueError:
        pass
    raise ValidationError({"period": "Name a statement period such as 2026Q3 or 2026-08."})


# --- refreshing -----------------------------------------------------------------------------------


def _payable(alias: str = "e") -> str:
    """SQL: the entry is payable by the day given as the one parameter (twice): its own date has come
    and, for an entry earned on a deal, the customer paid at least its delay in days before."""
    from covey.crm.models import DealEvent

    event = connection.ops.quote_name(DealEvent._meta.db_table)
    if connection.vendor == "postgresql":
        due = f"d.occurred_on + {alias}.payout_delay_days"
    else:
        due = f"date(d.occurred_on, '+' || {alias}.payout_delay_days || ' days')"
    return (f"{alias}.payable_on <= %s AND (NOT {alias}.awaits_payment OR EXISTS (SELECT 1 FROM {event} d "
            f"WHERE d.opportunity_id = {alias}.opportunity_id AND d.kind = 'paid' AND {due} <= %s))")


def payable_on(entry: LedgerEntry) -> date | None:
    """The first day ``entry`` can be paid, as far as is known today (None: the customer has not paid)."""
    if not entry.awaits_payment:
        return entry.payable_on
    from covey.crm.models import DealEvent

    paid = (DealEvent.objects.filter(opportunity_id=entry.opportunity_id, kind="paid").order_by("occurred_on")
            .values_list("occurred_on", flat=True).first())
    if paid is None:
        return None
    due = paid + timedelta(days=entry.payout_delay_days)
    return max(due, entry.payable_on) if entry.payable_on else due


def _tables():
    q = connection.ops.quote_name
    return (q(LedgerEntry._meta.db_table), q(Statement._meta.db_table), q(StatementLine._meta.db_table))


@transaction.atomic
def statements_refresh(*, program: Program, period: StatementPeriod, actor=None, source: str = "web") -> dict:
    """Put every payable entry of ``program`` not yet on a statement onto its partner's draft statement
    for ``period`` (made when missing); set-based, so a million entries take one INSERT … SELECT.
    Each draft that got lines is announced as ``statement.ready``."""
    ledger, statement, line = _tables()
    first_new_line = (StatementLine.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT e.partner_id, e.currency FROM {ledger} e WHERE e.program_id = %s AND {_payable()} "
            f"AND NOT EXISTS (SELECT 1 FROM {line} l WHERE l.entry_id = e.id) AND NOT EXISTS (SELECT 1 FROM {statement} s "
            f"WHERE s.program_id = e.program_id AND s.partner_id = e.partner_id AND s.currency = e.currency "
            f"AND s.period_key = %s)",
            [program.id, period.end, period.end, period.key],
        )
        missing = cursor.fetchall()
    ids = new_public_ids("stm", len(missing))
    Statement.objects.bulk_create([
        Statement(public_id=pid, program=program, partner_id=partner_id, currency=currency, period_key=period.key,
                  period_end=period.end)
        for pid, (partner_id, currency) in zip(ids, missing, strict=True)
    ])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {line} (statement_id, entry_id) SELECT s.id, e.id FROM {ledger} e JOIN {statement} s "
            f"ON s.program_id = e.program_id AND s.partner_id = e.partner_id AND s.currency = e.currency "
            f"AND s.period_key = %s AND s.status = %s WHERE e.program_id = %s AND {_payable()} "
            f"AND NOT EXISTS (SELECT 1 FROM {line} l WHERE l.entry_id = e.id)",
            [period.key, StatementStatus.DRAFT, program.id, period.end, period.end],
        )
        added = cursor.rowcount
    _retotal(Statement.objects.filter(program=program, period_key=period.key, status=StatementStatus.DRAFT))
    if added:
        _emit_statements("statement.ready", Statement.objects.filter(
            program=program, period_key=period.key, status=StatementStatus.DRAFT,
            pk__in=StatementLine.objects.filter(pk__gte=first_new_line).values("statement_id")))
    figures = {"statements_created": len(missing), "lines_added": added, "period": period.key}
    audit.record(actor=actor, action="update", obj=program, source=source,
                 changes={"statements": [None, figures]})
    return figures


def statement_webhook_data(statement: Statement) -> dict:
    """The payload of the statement.* webhook events."""
    return {
        "id": statement.public_id, "status": statement.status, "period": statement.period_key,
        "period_end": statement.period_end,
        "partner": {"id": statement.partner.public_id, "name": statement.partner.name},
        "program": {"id": statement.program.public_id, "name": statement.program.name},
        "total": money_out(Money(statement.total_minor, statement.currency)),
        "lines": statement.lines.count(),
        "approved_at": statement.approved_at, "paid_at": statement.paid_at,
        "batch": statement.batch.public_id if statement.batch_id else None,
    }


def _emit_statements(event: str, statements) -> None:
    from covey.webhooks.services import emit, listening

    if not listening(event):
        return
    for statement in statements.select_related("partner", "program", "batch").order_by("pk"):
        emit(event, statement_webhook_data(statement))


def _retotal(statements) -> None:
    ledger, statement, line = _tables()
    ids = list(statements.values_list("id", flat=True))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {statement} SET total_minor = (SELECT COALESCE(SUM(e.amount_minor), 0) FROM {line} l "
            f"JOIN {ledger} e ON e.id = l.entry_id WHERE l.statement_id = {statement}.id) "
            f"WHERE id IN ({','.join(str(int(i)) for i in ids)})"
        )


def held_entries(statement: Statement):
    """The partner's entries of this program and currency on no statement yet (waiting for the
    customer's payment, or payable later), shown under the statement so nothing earned is invisible."""
    return (LedgerEntry.objects.filter(program_id=statement.program_id, partner_id=statement.partner_id,
                                       currency=statement.currency, statement_line__isnull=True)
            .select_related("opportunity"))


# --- the partner's side ---------------------------------------------------------------------------


def _finance_and_owner(statement: Statement) -> list[User]:
    people = list(User.objects.filter(staff_role=StaffRole.FINANCE, is_active=True))
    if statement.partner.owner_id:
        people.append(statement.partner.owner)
    return people


def _partner_admins(statement: Statement) -> list[User]:
    return list(User.objects.filter(is_active=True, pk__in=statement.partner.memberships.filter(role="admin")
                                    .values("user_id")))


def _locked_statement(statement: Statement) -> Statement:
    fresh = Statement.objects.select_for_update().select_related("partner", "program").get(pk=statement.pk)
    statement.__dict__.update({k: v for k, v in fresh.__dict__.items() if not k.startswith("_")})
    return statement


def _open_disputes(statement: Statement) -> bool:
    return statement.disputes.filter(status=DisputeStatus.OPEN).exists()


def statement_url(statement: Statement) -> str:
    return f"/payouts/statements/{statement.public_id}/"


@transaction.atomic
def statement_acknowledge(*, statement: Statement, actor, source: str = "web") -> Statement:
    _locked_statement(statement)
    if statement.status != StatementStatus.DRAFT or _open_disputes(statement):
        raise ValidationError(CANNOT_ACKNOWLEDGE)
    statement.status, statement.acknowledged_at, statement.acknowledged_by = (
        StatementStatus.ACKNOWLEDGED, timezone.now(), actor)
    statement.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    audit.record(actor=actor, action="transition", obj=statement, source=source,
                 changes={"status": [StatementStatus.DRAFT, StatementStatus.ACKNOWLEDGED]})
    notify(_finance_and_owner(statement), kind="statement.acknowledged", exclude=actor,
           title=f"Statement acknowledged: {statement.partner.name} {statement.period_key}",
           body=f"{statement.partner.name} acknowledged its {statement.period_key} statement of "
                f"{Money(statement.total_minor, statement.currency).plain()}; it is ready for approval.",
           url=statement_url(statement))
    return statement


@transaction.atomic
def line_dispute(*, statement: Statement, entry: LedgerEntry, actor, comment: str, files=(),
                 source: str = "web") -> Dispute:
    """The partner questions one line, with a comment and optional files (invoices, screenshots)."""
    comment = clean_text(comment, field="comment", limit=5000, required=COMMENT_REQUIRED)
    check_files(files)
    _locked_statement(statement)
    if statement.status not in (StatementStatus.DRAFT, StatementStatus.ACKNOWLEDGED, StatementStatus.DISPUTED):
        raise ValidationError(CANNOT_DISPUTE)
    if not StatementLine.objects.filter(statement=statement, entry=entry).exists():
        raise ValidationError({"entry": NOT_ON_STATEMENT})
    if Dispute.objects.filter(entry=entry, status=DisputeStatus.OPEN).exists():
        raise ValidationError({"entry": ALREADY_DISPUTED})
    dispute = Dispute.objects.create(statement=statement, entry=entry, opened_by=actor, comment=comment)
    for upload in files:
        DisputeFile.objects.create(dispute=dispute, file=upload, name=upload.name[:200], size=upload.size,
                                   content_type=(getattr(upload, "content_type", "") or "")[:100], uploaded_by=actor)
    before = statement.status
    statement.status = StatementStatus.DISPUTED
    statement.save(update_fields=["status"])
    audit.record(actor=actor, action="create", obj=dispute, source=source,
                 changes={"line": [None, entry.explanation[:200]], "comment": [None, comment[:300]]})
    audit.record(actor=actor, action="transition", obj=statement, source=source, changes={"status": [before, statement.status]})
    notify(_finance_and_owner(statement), kind="statement.disputed", exclude=actor,
           title=f"Statement line disputed: {statement.partner.name} {statement.period_key}",
           body=f"{statement.partner.name} disputes “{entry.explanation[:160]}”: {comment[:300]}",
           url=statement_url(statement))
    return dispute


# --- finance's side -------------------------------------------------------------------------------


def _adjustment(*, statement: Statement, amount_minor: int, explanation: str, actor, key: str,
                payable_on: date, period_key: str, opportunity_id=None) -> LedgerEntry:
    entry = LedgerEntry(program=statement.program, partner=statement.partner, period_key=period_key,
                        source=Source.ADJUSTMENT, rule_kind="", opportunity_id=opportunity_id, key=key,
                        amount_minor=amount_minor, currency=statement.currency, explanation=explanation[:500],
                        payable_on=payable_on)
    entry.save()
    return entry


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, actor, amount_minor: int, note: str, source: str = "web") -> Dispute:
    """Settle a dispute with an adjustment of ``amount_minor`` (positive: more to the partner), posted to
    the ledger and put on the disputed statement; 0 rejects it with the note as the reason."""
    note = clean_text(note, field="note", limit=2000, required="Explain the decision; the partner reads it.")
    dispute = Dispute.objects.select_for_update().select_related("statement", "entry").get(pk=dispute.pk)
    if dispute.status != DisputeStatus.OPEN:
        raise ValidationError(NOT_OPEN)
    statement = _locked_statement(dispute.statement)
    if amount_minor:
        money = Money(amount_minor, statement.currency)
        dispute.adjustment = _adjustment(
            statement=statement, amount_minor=amount_minor, actor=actor, key=f"adj:{dispute.public_id}",
            explanation=f"Adjustment after dispute {dispute.public_id} on “{dispute.entry.explanation[:200]}”: "
                        f"{note[:200]} = {money.plain()}",
            payable_on=timezone.localdate(), period_key=dispute.entry.period_key,
            opportunity_id=dispute.entry.opportunity_id,
        )
        StatementLine.objects.create(statement=statement, entry=dispute.adjustment)
        dispute.status = DisputeStatus.RESOLVED
    else:
        dispute.status = DisputeStatus.REJECTED
    dispute.resolution, dispute.resolved_by, dispute.resolved_at = note, actor, timezone.now()
    dispute.save(update_fields=["status", "resolution", "resolved_by", "resolved_at", "adjustment"])
    _retotal(Statement.objects.filter(pk=statement.pk))
    statement.refresh_from_db(fields=["total_minor"])
    if not _open_disputes(statement):
        statement.status = StatementStatus.DRAFT
        statement.save(update_fields=["status"])
    audit.record(actor=actor, action="transition", obj=dispute, source=source,
                 changes={"status": [DisputeStatus.OPEN, dispute.status], "adjustment": [None, amount_minor],
                          "note": [None, note[:300]]})
    what = (f"an adjustment of {Money(amount_minor, statement.currency).plain()} was added" if amount_minor
            else "it was rejected")
    notify([dispute.opened_by, *_partner_admins(statement)], kind="statement.dispute_decided", exclude=actor,
           title=f"Your dispute on the {statement.period_key} statement was decided",
           body=f"Finance looked at “{dispute.entry.explanation[:160]}”: {what}. {note[:300]}",
           url=statement_url(statement))
    return dispute


@transaction.atomic
def statement_approve(*, statement: Statement, actor, source: str = "web") -> Statement:
    _locked_statement(statement)
    if statement.status not in (StatementStatus.DRAFT, StatementStatus.ACKNOWLEDGED) or _open_disputes(statement):
        raise ValidationError(CANNOT_APPROVE)
    before = statement.status
    if statement.total_minor < 0:
        _carry_forward(statement, actor=actor)
    statement.status, statement.approved_at, statement.approved_by = StatementStatus.APPROVED, timezone.now(), actor
    statement.save(update_fields=["status", "approved_at", "approved_by"])
    audit.record(actor=actor, action="transition", obj=statement, source=source,
                 changes={"status": [before, StatementStatus.APPROVED],
                          "acknowledged_by_partner": [None, before == StatementStatus.ACKNOWLEDGED]})
    _emit_statements("statement.approved", Statement.objects.filter(pk=statement.pk))
    return statement


def _carry_forward(statement: Statement, *, actor) -> None:
    balance = Money(-statement.total_minor, statement.currency)
    today = timezone.localdate()
    brought = _adjustment(statement=statement, amount_minor=-statement.total_minor, actor=actor,
                          key=f"carry:{statement.public_id}:out", payable_on=today, period_key=statement.period_key,
                          explanation=f"Balance of {balance.plain()} owed back carried forward to the next statement")
    StatementLine.objects.create(statement=statement, entry=brought)
    _adjustment(statement=statement, amount_minor=statement.total_minor, actor=actor,
                key=f"carry:{statement.public_id}:in", payable_on=today + timedelta(days=1),
                period_key=statement.period_key,
                explanation=f"Balance carried forward from the {statement.period_key} statement: -{balance.plain()}")
    _retotal(Statement.objects.filter(pk=statement.pk))
    statement.refresh_from_db(fields=["total_minor"])


# --- payout batches ------------------------------------------------------------------------------

BATCH_COLUMNS = ["payee", "payee_id", "statement", "program", "period", "currency", "amount", "reference"]


@transaction.atomic
def batch_create(*, currency: str, actor, statements=None, source: str = "web") -> PayoutBatch:
    """A payout batch of approved, unpaid statements in ``currency`` with something to pay."""
    qs = (Statement.objects.select_for_update().filter(status=StatementStatus.APPROVED, batch__isnull=True,
                                                       currency=currency, total_minor__gt=0))
    if statements is not None:
        qs = qs.filter(pk__in=[s.pk for s in statements])
    chosen = list(qs)
    if not chosen:
        raise ValidationError(NOTHING_TO_PAY.format(currency=currency))
    batch = PayoutBatch.objects.create(currency=currency, created_by=actor,
                                       total_minor=sum(s.total_minor for s in chosen))
    Statement.objects.filter(pk__in=[s.pk for s in chosen]).update(batch=batch)
    audit.record(actor=actor, action="create", obj=batch, source=source,
                 changes={"statements": [None, len(chosen)], "total": [None, Money(batch.total_minor, currency).plain()]})
    return batch


def batch_csv(batch: PayoutBatch) -> str:
    """The payment file: one row per statement, amounts in major units with the currency's decimals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BATCH_COLUMNS)
    for s in batch.statements.select_related("partner", "program").order_by("partner__name", "period_key"):
        amount = Money(s.total_minor, s.currency)
        writer.writerow([s.partner.legal_name or s.partner.name, s.partner.public_id, s.public_id, s.program.name,
                         s.period_key, s.currency, f"{amount.amount}", f"Covey {s.public_id}"])
    return out.getvalue()


@transaction.atomic
def batch_mark_paid(*, batch: PayoutBatch, actor, reference: str = "", source: str = "web") -> PayoutBatch:
    batch = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == BatchStatus.PAID:
        raise ValidationError(BATCH_PAID)
    now = timezone.now()
    batch.status, batch.paid_at, batch.paid_by = BatchStatus.PAID, now, actor
    batch.reference = clean_text(reference, field="reference", limit=100)
    batch.save(update_fields=["status", "paid_at", "paid_by", "reference"])
    statements = list(batch.statements.select_related("partner"))
    Statement.objects.filter(batch=batch).update(status=StatementStatus.PAID, paid_at=now)
    audit.record(actor=actor, action="transition", obj=batch, source=source,
                 changes={"status": [BatchStatus.EXPORTED, BatchStatus.PAID], "reference": [None, batch.reference]})
    for statement in statements:
        audit.record(actor=actor, action="transition", obj=statement, source=source,
                     changes={"status": [StatementStatus.APPROVED, StatementStatus.PAID], "batch": [None, batch.public_id]})
        notify(_partner_admins(statement), kind="statement.paid",
               title=f"Paid: your {statement.period_key} statement",
               body=f"{Money(statement.total_minor, statement.currency).plain()} was paid "
                    f"(reference {batch.reference or batch.public_id}).",
               url=statement_url(statement))
    _emit_statements("statement.paid", Statement.objects.filter(batch=batch))
    return batch
