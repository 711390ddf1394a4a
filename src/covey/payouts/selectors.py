"""Scoped reads for the payout pages, the API and the CLI, and who may do what.

Statements, their lines, disputes, dispute files and ledger entries belong to one partner: every
read goes through ``visible_to`` (vendor staff see all, a partner user its own partner's). Running
quarters, the FX table, payout batches and the simulator are the vendor's finance work; a partner
user is not told those pages exist.
"""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from covey.core.models import StaffRole
from covey.payouts.models import (
    Dispute,
    DisputeFile,
    LedgerEntry,
    PayoutBatch,
    PayoutRun,
    RunKind,
    Statement,
)

FINANCE_ROLES = frozenset({StaffRole.ADMIN, StaffRole.FINANCE})
VENDOR_ONLY = "This page is for the vendor's staff."
NO_FINANCE = "Only finance and admins run payouts, change the FX table, decide disputes and pay statements."
NO_PARTNER_ADMIN = "Only your company's partner admins acknowledge and dispute statements."


def is_finance(user) -> bool:
    """Finance and admins: run quarters, set FX rates, decide disputes, approve and pay, simulate."""
    return user.is_authenticated and user.staff_role in FINANCE_ROLES


def is_partner_admin_of(user, partner_id: int) -> bool:
    """The partner's own admins acknowledge and dispute its statements (reps and read-only see them)."""
    if not user.is_authenticated or user.is_vendor:
        return False
    membership = user.membership
    return bool(membership and membership.partner_id == partner_id and membership.role == "admin")


def require_vendor(user) -> None:
    if not user.is_vendor:
        raise Http404(VENDOR_ONLY)  # a partner user is not told the page exists


def statements(*, user) -> QuerySet[Statement]:
    return Statement.objects.visible_to(user).select_related("partner", "program", "batch")


def statement_lines(statement: Statement) -> list[LedgerEntry]:
    """The statement's entries in posting order, each with its open or latest dispute attached."""
    entries = list(LedgerEntry.objects.filter(statement_line__statement=statement)
                   .select_related("opportunity").order_by("posted_at", "id"))
    disputes: dict[int, list[Dispute]] = {}
    for d in statement.disputes.select_related("opened_by", "resolved_by").prefetch_related("files"):
        disputes.setdefault(d.entry_id, []).append(d)
    for entry in entries:
        entry.dispute_list = disputes.get(entry.pk, [])
        entry.open_dispute = next((d for d in entry.dispute_list if d.status == "open"), None)
    return entries


def entry_on_statement(statement: Statement, entry_id: str) -> LedgerEntry:
    entry = (LedgerEntry.objects.by_public_id(entry_id).filter(statement_line__statement=statement)
             .select_related("opportunity").first())
    if entry is None:
        raise Http404("No such line on this statement")
    return entry


def disputes(*, user) -> QuerySet[Dispute]:
    return Dispute.objects.filter(statement__in=Statement.objects.visible_to(user)).select_related(
        "statement__partner", "statement__program", "entry", "opened_by")


def dispute_for(user, public_id: str) -> Dispute:
    dispute = disputes(user=user).filter(public_id=public_id).first()
    if dispute is None:
        raise Http404("No dispute with that id")
    return dispute


def dispute_file_for(user, dispute: Dispute, file_id: str) -> DisputeFile:
    if not file_id.isdigit():
        raise Http404("No such file")
    found = DisputeFile.objects.filter(dispute=dispute, pk=int(file_id)).first()
    if found is None:
        raise Http404("No such file")
    return found


def entries(*, user) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.visible_to(user).select_related("opportunity", "partner", "program")


def entry_totals(queryset: QuerySet[LedgerEntry]) -> list[dict]:
    """Net amount and count per currency of the (filtered) entries."""
    return list(queryset.order_by().values("currency").annotate(total=Sum("amount_minor"), n=Count("id"))
                .order_by("currency"))


def runs() -> QuerySet[PayoutRun]:
    return PayoutRun.objects.filter(kind=RunKind.POST).select_related("program", "actor")


def simulations() -> QuerySet[PayoutRun]:
    return PayoutRun.objects.filter(kind=RunKind.SIMULATE).select_related("program", "version", "actor")


def batches() -> QuerySet[PayoutBatch]:
    return PayoutBatch.objects.select_related("created_by", "paid_by").annotate(statement_count=Count("statements"))


def payable_by_currency() -> list[dict]:
    """Approved statements not yet in a batch, per currency: what a new batch would pay."""
    return list(Statement.objects.filter(status="approved", batch__isnull=True, total_minor__gt=0).order_by()
                .values("currency").annotate(total=Sum("total_minor"), n=Count("id")).order_by("currency"))


def statement_counts(queryset: QuerySet[Statement]) -> dict[str, int]:
    return dict(queryset.order_by().values_list("status").annotate(n=Count("id")))


def open_disputes_of(queryset: QuerySet[Statement]) -> int:
    return Dispute.objects.filter(statement__in=queryset, status="open").count()


def gainers_losers(figures: dict) -> tuple[list[dict], list[dict]]:
    rows = figures.get("rows", [])
    gainers = sorted((r for r in rows if r["difference"] > 0), key=lambda r: (-r["difference"], r["partner"]))
    losers = sorted((r for r in rows if r["difference"] < 0), key=lambda r: (r["difference"], r["partner"]))
    return gainers, losers

