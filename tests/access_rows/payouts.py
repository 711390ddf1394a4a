"""Access rows for payouts: runs, the FX table, statements, lines, disputes and their files, batches,
the ledger, deal events and the simulator (the contract is in tests/access_rows/__init__.py).

``build`` writes a small ledger by hand (the engine is not run: the access tables build this world
hundreds of times): two entries and a dispute with a file for partner A, one entry for B, with a
draft statement per partner, a disputed statement of A's, an approved one waiting for a batch and one
in an exported batch. A published program with nobody enrolled (so a run posts nothing but is
recorded) and a draft of its next version serve the run and simulator rows; a won deal of A's takes
deal events. Partner B must never see A's statements, lines, disputes, files or entries; runs,
batches, the FX table and the simulator are the vendor's (partner users get 404), acted on by
finance and admins only.
"""

from __future__ import annotations

from datetime import date

from tests.matrix import EVERYONE, PARTNER_A, PARTNER_B, READ_A, VENDOR, Route, expect, rest

FINANCE = ("vendor_admin", "finance")
OTHER_STAFF = tuple(w for w in VENDOR if w not in FINANCE)
VENDOR_PAGE = expect(ok=VENDOR, hidden=PARTNER_A + PARTNER_B)
FINANCE_PAGE = expect(ok=FINANCE, forbidden=OTHER_STAFF, hidden=PARTNER_A + PARTNER_B)
FINANCE_A = expect(ok=FINANCE, forbidden=rest(FINANCE, PARTNER_B), hidden=PARTNER_B)
PARTNER_ADMIN_A = expect(ok=("a_admin",), forbidden=rest(("a_admin",), PARTNER_B), hidden=PARTNER_B)

ST = {"public_id": "statement_a.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "payout_run_list": Route(VENDOR_PAGE),
    "payout_run_start": Route(FINANCE_PAGE),
    "payout_run_detail": Route(VENDOR_PAGE, kwargs={"public_id": "run_a.public_id"}),
    "fx_rate_list": Route(VENDOR_PAGE),
    "statement_list": Route(EVERYONE),
    "statements_refresh": Route(FINANCE_PAGE, method="POST"),
    "statement_detail": Route(READ_A, kwargs=ST),
    "statement_acknowledge": Route(PARTNER_ADMIN_A, method="POST", kwargs=ST),
    "statement_approve": Route(FINANCE_A, method="POST", kwargs=ST),
    "statement_csv": Route(READ_A, kwargs=ST),
    "statement_pdf": Route(READ_A, kwargs=ST),
    "line_dispute": Route(PARTNER_ADMIN_A, kwargs={**ST, "entry_id": "entry_a.public_id"}),
    "dispute_resolve": Route(FINANCE_A, kwargs={"public_id": "dispute_a.public_id"}),
    "dispute_file": Route(READ_A, kwargs={"public_id": "dispute_a.public_id", "file_id": "dispute_file_a.pk"}),
    "earnings": Route(EVERYONE),
    "batch_list": Route(VENDOR_PAGE),
    "batch_create": Route(FINANCE_PAGE, method="POST"),
    "batch_detail": Route(VENDOR_PAGE, kwargs={"public_id": "batch_a.public_id"}),
    "batch_csv": Route(FINANCE_PAGE, kwargs={"public_id": "batch_a.public_id"}),
    "batch_mark_paid": Route(FINANCE_PAGE, kwargs={"public_id": "batch_a.public_id"}),
    "simulator": Route(FINANCE_PAGE),
    "simulation_detail": Route(FINANCE_PAGE, kwargs={"public_id": "simulation_a.public_id"}),
    # Billing facts about a deal: finance records them; whoever sees the deal but may not is refused.
    "deal_event_add": Route(FINANCE_A, method="POST", kwargs={"public_id": "won_opportunity_a.public_id"}),
}

STA = "/api/payouts/statements/{statement_a}"
BAT = "/api/payouts/batches/{batch_a}"
F = (200, 403, 403, 403, 200, 403)  # finance and admins act; other staff are refused
F201 = (201, 403, 403, 403, 201, 403)
VENDOR_ONLY = (404, 404, 404, 404, 404)
#                                                                         admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("read statement", "GET", STA, None,                                  (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("statement lines", "GET", STA + "/lines", None,                      (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("acknowledge statement", "POST", STA + "/acknowledge", None,         (403, 403, 403, 403, 403, 403, 200, 403, 403, 404, 404)),
    ("approve statement", "POST", STA + "/approve", None,                 F + (403, 403, 403, 404, 404)),
    ("dispute a line", "POST", STA + "/disputes", {"line": "{entry_a}", "comment": "The rate should be 30%."},
                                                                          (403, 403, 403, 403, 403, 403, 201, 403, 403, 404, 404)),
    ("read dispute", "GET", "/api/payouts/disputes/{dispute_a}", None,    (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("decide dispute", "POST", "/api/payouts/disputes/{dispute_a}/resolve", {"decision": "reject", "note": "The Gold rate applies."},
                                                                          F + (403, 403, 403, 404, 404)),
    ("list batches", "GET", "/api/payouts/batches", None,                 (200,) * 6 + VENDOR_ONLY),
    ("create batch", "POST", "/api/payouts/batches", {"currency": "USD"}, F201 + VENDOR_ONLY),
    ("read batch", "GET", BAT, None,                                      (200,) * 6 + VENDOR_ONLY),
    ("batch payment file", "GET", BAT + "/csv", None,                     F + VENDOR_ONLY),
    ("mark batch paid", "POST", BAT + "/mark-paid", {"reference": "BANK-1"}, F + VENDOR_ONLY),
    ("list runs", "GET", "/api/payouts/runs", None,                       (200,) * 6 + VENDOR_ONLY),
    ("run a quarter", "POST", "/api/payouts/runs", {"program": "{run_program}", "period": "2026Q3"}, F201 + VENDOR_ONLY),
    ("list fx rates", "GET", "/api/payouts/fx-rates", None,               (200,) * 6 + VENDOR_ONLY),
    ("set fx rate", "POST", "/api/payouts/fx-rates", {"period": "2026Q3", "currency": "EUR", "per_base": "1.08"},
                                                                          F201 + VENDOR_ONLY),
    ("deal events", "GET", "/api/opportunities/{won_opportunity_a}/events", None, (200,) * 6 + (404, 404, 404, 404, 404)),
    ("record deal event", "POST", "/api/opportunities/{won_opportunity_a}/events", {"kind": "adoption", "occurred_on": "2026-09-01"},
                                                                          F201 + (403, 403, 403, 404, 404)),
    ("simulate", "POST", "/api/payouts/simulations", {"version": "{draft_version}", "periods": ["2026Q3"]}, F201 + VENDOR_ONLY),
]
API_LISTS: list[str] = [
    "/api/payouts/statements", "/api/payouts/statements?partner={partner_a}", "/api/payouts/statements?period=2026Q3",
    "/api/payouts/ledger", "/api/payouts/ledger?partner={partner_a}", "/api/payouts/ledger?period=2026Q3",
]

Q3_END = date(2026, 9, 30)


def _entry(world, partner, key: str, amount: int, explanation: str, program, period="2026Q3"):
    from covey.payouts.models import LedgerEntry

    entry = LedgerEntry(program=program, partner=partner, period_key=period, source="deal", key=key, amount_minor=amount,
                        currency="USD", explanation=explanation, payable_on=date(2026, 7, 1))
    entry.save()
    return entry


def _statement(program, partner, period: str, end: date, entries, status="draft"):
    from covey.payouts.models import Statement, StatementLine

    statement = Statement.objects.create(program=program, partner=partner, period_key=period, period_end=end,
                                         currency="USD", status=status, total_minor=sum(e.amount_minor for e in entries))
    for e in entries:
        StatementLine.objects.create(statement=statement, entry=e)
    return statement


def build(world) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from covey.crm.models import Opportunity, OpportunityPartner, Stage
    from covey.payouts import statements as S
    from covey.payouts.models import PayoutBatch, PayoutRun, RunKind, RunStatus
    from covey.programs import services as programs
    from covey.programs.models import Program

    w = world
    ledger_program = Program.objects.create(name="Access Ledger Program", currency="USD")
    w.entry_a = _entry(w, w.partner_a, "acc:a:1", 120_000, "Alpha secret margin on Customer A ledger line", ledger_program)
    w.entry_disputed_a = _entry(w, w.partner_a, "acc:a:2", 45_000, "Alpha secret registration bonus line", ledger_program)
    w.entry_b = _entry(w, w.partner_b, "acc:b:1", 70_000, "Beta margin on Customer B", ledger_program)
    w.statement_a = _statement(ledger_program, w.partner_a, "2026Q3", Q3_END, [w.entry_a])
    w.statement_b = _statement(ledger_program, w.partner_b, "2026Q3", Q3_END, [w.entry_b])
    w.statement_disputed_a = _statement(ledger_program, w.partner_a, "2026Q2", date(2026, 6, 30), [w.entry_disputed_a])
    proof = SimpleUploadedFile("alpha-proof-of-upsell.pdf", b"%PDF-1.4 proof", content_type="application/pdf")
    w.dispute_a = S.line_dispute(statement=w.statement_disputed_a, entry=w.entry_disputed_a, actor=w.a_admin,
                                 comment="Alpha says the upsell is missing", files=[proof])
    w.dispute_file_a = w.dispute_a.files.get()
    approved = _entry(w, w.partner_a, "acc:a:3", 30_000, "Alpha approved line", ledger_program, period="2026Q1")
    _statement(ledger_program, w.partner_a, "2026Q1", date(2026, 3, 31), [approved], status="approved")
    batched = _entry(w, w.partner_a, "acc:a:4", 20_000, "Alpha batched line", ledger_program, period="2025Q4")
    in_batch = _statement(ledger_program, w.partner_a, "2025Q4", date(2025, 12, 31), [batched], status="approved")
    w.batch_a = PayoutBatch.objects.create(currency="USD", created_by=w.finance, total_minor=in_batch.total_minor)
    in_batch.batch = w.batch_a
    in_batch.save(update_fields=["batch"])
    w.run_a = PayoutRun.objects.create(program=ledger_program, period_key="2026Q3", status=RunStatus.DONE,
                                       figures={"new_entries": 3, "reversals": 0})

    before = date(2026, 6, 1)
    w.run_program = programs.program_create(name="Access Run Program", currency="USD", actor=w.vendor_admin, today=before)
    first = w.run_program.versions.get()
    programs.version_update(version=first, actor=w.vendor_admin, effective_from=date(2026, 7, 1), today=before)
    programs.tier_save(version=first, actor=w.vendor_admin, code="gold", name="Gold", rank=1, today=before)
    programs.version_publish(version=first, actor=w.vendor_admin, today=before)
    w.draft_version = programs.version_draft(program=w.run_program, actor=w.vendor_admin)
    w.simulation_a = PayoutRun.objects.create(
        program=w.run_program, version=w.draft_version, period_key="2026Q3", kind=RunKind.SIMULATE, status=RunStatus.DONE,
        figures={"quarters": ["2026Q3"], "totals": {"USD": {"posted": 120_000, "simulated": 130_000, "difference": 10_000}},
                 "rows": [{"partner_id": w.partner_a.id, "partner": w.partner_a.name, "currency": "USD", "posted": 120_000,
                           "simulated": 130_000, "difference": 10_000}], "gainers": 1, "losers": 0},
    )
    w.won_opportunity_a = Opportunity.objects.create(
        name="Alpha won renewal for payouts", account=w.account_a, owner=w.sales_rep, stage=Stage.CLOSED_WON,
        amount_minor=1_000_000, currency="USD", close_date=date(2026, 8, 14),
    )
    OpportunityPartner.objects.create(opportunity=w.won_opportunity_a, partner=w.partner_a, role="reseller", is_primary=True)


def ids(world) -> dict[str, str]:
    w = world
    return {
        "statement_a": w.statement_a.public_id, "entry_a": w.entry_a.public_id, "dispute_a": w.dispute_a.public_id,
        "batch_a": w.batch_a.public_id, "run_program": w.run_program.public_id, "draft_version": w.draft_version.public_id,
        "won_opportunity_a": w.won_opportunity_a.public_id,
    }


def secrets(world) -> list[str]:
    w = world
    return [
        w.statement_a.public_id, w.statement_disputed_a.public_id, w.entry_a.public_id, w.entry_disputed_a.public_id,
        w.entry_a.explanation, w.entry_disputed_a.explanation, w.dispute_a.public_id, w.dispute_a.comment,
        w.dispute_file_a.name, w.won_opportunity_a.name, w.won_opportunity_a.public_id,
    ]


def state():
    from covey.crm.models import DealEvent
    from covey.payouts.models import (
        Dispute,
        DisputeFile,
        FxRate,
        LedgerEntry,
        PayoutBatch,
        PayoutRun,
        Statement,
    )

    return (
        list(Statement.objects.values_list("public_id", "status", "total_minor", "batch_id").order_by("id")),
        list(Dispute.objects.values_list("public_id", "status").order_by("id")),
        DisputeFile.objects.count(),
        LedgerEntry.objects.count(),
        list(PayoutBatch.objects.values_list("public_id", "status", "reference").order_by("id")),
        PayoutRun.objects.count(),
        list(FxRate.objects.values_list("period_key", "currency", "per_base").order_by("id")),
        DealEvent.objects.count(),
    )
