"""Payouts demo scenario, made through the same services finance and partners use: an incentive
program in force since the last closed quarter, won and paid deals of the demo partner and two
others in that quarter (one in euros, with its FX rate), the quarter run and its statements; the demo
partner's statement is a draft with one disputed line, another partner's is approved and in a payout
batch, and a draft of the program's next version waits in the simulator.

Runs once after ``covey demo`` seeds the small set (``seed_payouts``); it does nothing when its
program exists. Dates are relative to ``today`` so the demo never looks stale. ``remove_payouts``
undoes it for ``covey seed --reset`` (the ledger is append-only, so it opens the ledger's
maintenance window for that). The deals and texts are invented for the demo.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from covey.core.models import StaffRole, User
from covey.partners.models import Membership, Partner

PROGRAM = "Partner Rewards (demo)"
DEAL_PREFIX = "PAYOUTS-DEMO-"

# (partner slot, deal name, amount in major units, currency, days after quarter start it closed, days to payment or None)
DEALS = [
    ("a", "Cloud platform, first year", 48_000, "USD", 12, 10),
    ("a", "Analytics add-on", 22_500, "USD", 30, 14),
    ("a", "Second region rollout", 15_000, "USD", 82, None),  # not paid yet: earned, held
    ("b", "Platform for the finance team", 30_000, "USD", 20, 7),
    ("c", "Warehouse integration", 40_000, "EUR", 15, 12),
]


def seed_payouts(*, partner_admin_email: str, other_rep_email: str, today: date | None = None) -> int:
    """Create the scenario; return how many ledger entries the quarter run posted (0 when it ran before
    or the demo people are missing)."""
    from covey.crm.models import Account, DealEvent, Opportunity, OpportunityPartner, Stage
    from covey.payouts import services as payouts
    from covey.payouts import statements as S
    from covey.programs import services as programs
    from covey.programs.models import Program

    if Program.objects.filter(name=PROGRAM).exists():
        return 0
    finance = User.objects.filter(staff_role=StaffRole.FINANCE, is_active=True).order_by("email").first()
    admin = User.objects.filter(staff_role=StaffRole.ADMIN, is_active=True).order_by("email").first()
    own = Membership.objects.filter(user__email=partner_admin_email).select_related("partner", "user").first()
    other = Membership.objects.filter(user__email=other_rep_email).select_related("partner", "user").first()
    if finance is None or admin is None or own is None or other is None:
        return 0
    third = (Partner.objects.filter(lifecycle="active").exclude(pk__in=[own.partner_id, other.partner_id])
             .order_by("name").first())
    accounts = list(Account.objects.order_by("id")[:len(DEALS)])
    if third is None or len(accounts) < len(DEALS):
        return 0
    partners = {"a": own.partner, "b": other.partner, "c": third}
    today = today or timezone.localdate()
    from covey.core.models import VendorSettings

    calendar = VendorSettings.current().calendar
    quarter = calendar.previous(calendar.quarter_of(today))
    before = quarter.start - timedelta(days=1)

    with transaction.atomic():
        program = programs.program_create(name=PROGRAM, currency="USD", actor=admin, source="seed", today=before,
                                          summary="Resellers earn a margin on every deal they close, by tier.")
        version = program.versions.get()
        programs.version_update(version=version, actor=admin, effective_from=quarter.start, payout_delay_days=30,
                                today=before, source="seed")
        programs.tier_save(version=version, actor=admin, code="silver", name="Silver", rank=1, today=before, source="seed")
        programs.tier_save(version=version, actor=admin, code="gold", name="Gold", rank=2, today=before, source="seed")
        programs.rule_save(version=version, actor=admin, kind="resale_margin", name="Reseller margin", today=before,
                           source="seed", params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "25", "silver": "15"}}]})
        programs.version_publish(version=version, actor=admin, today=before, source="seed")
        for slot, tier in (("a", "gold"), ("b", "silver"), ("c", "gold")):
            programs.enrol(partner=partners[slot], program=program, tier_code=tier, starts_on=quarter.start, actor=admin,
                           source="seed")
        payouts.fx_rate_set(period_key=quarter.key, currency="EUR", per_base="1.0850", actor=finance, source="seed")

        for n, ((slot, name, amount, currency, closed_after, paid_after), account) in enumerate(zip(DEALS, accounts, strict=True)):
            closed = quarter.start + timedelta(days=closed_after)
            opp = Opportunity.objects.create(
                name=name, account=account, owner=admin, stage=Stage.CLOSED_WON, amount_minor=amount * 100,
                currency=currency, close_date=closed, external_id=f"{DEAL_PREFIX}{n + 1}",
            )
            OpportunityPartner.objects.create(opportunity=opp, partner=partners[slot], role="reseller", is_primary=True)
            if paid_after is not None:
                DealEvent.objects.create(opportunity=opp, kind="paid", occurred_on=closed + timedelta(days=paid_after),
                                         amount_minor=amount * 100, note="Invoice paid in full", created_by=finance)

        run = payouts.quarter_run(program=program, period_key=quarter.key, actor=finance, source="seed")
        period = S.parse_statement_period(program, quarter.key)
        S.statements_refresh(program=program, period=period, actor=finance, source="seed")

        mine = program.statements.get(partner=own.partner)
        disputed = mine.lines.select_related("entry").order_by("entry__amount_minor").first()
        if disputed is not None:
            S.line_dispute(statement=mine, entry=disputed.entry, actor=own.user, source="seed",
                           comment="The customer added 40 more seats in the same quarter; the margin should cover them too.")
        theirs = program.statements.filter(partner=other.partner).first()
        if theirs is not None:
            S.statement_acknowledge(statement=theirs, actor=other.user, source="seed")
            S.statement_approve(statement=theirs, actor=finance, source="seed")
            S.batch_create(currency=theirs.currency, actor=finance, statements=[theirs], source="seed")

        draft = programs.version_draft(program=program, actor=admin, source="seed", today=today)
        rule = draft.rules.get()
        programs.rule_save(version=draft, rule=rule, actor=admin, kind=rule.kind, name=rule.name, source="seed", today=today,
                           params={"currency": "USD", "bands": [{"from": "0", "rates": {"gold": "28", "silver": "18"}}]})
    return run.figures.get("new_entries", 0)


def remove_payouts() -> None:
    """Delete what ``seed_payouts`` made: its program and everything paid under it, its deals, and its FX rate."""
    from covey.core.models import AuditEvent
    from covey.crm.models import Opportunity
    from covey.payouts.ledger import maintenance
    from covey.payouts.models import (
        Dispute,
        DisputeFile,
        FxRate,
        LedgerEntry,
        PayoutBatch,
        PayoutRun,
        Statement,
    )
    from covey.programs.models import Enrolment, Program

    program = Program.objects.filter(name=PROGRAM).first()
    if program is None:
        return
    with transaction.atomic():
        statements = Statement.objects.filter(program=program)
        for stored in DisputeFile.objects.filter(dispute__statement__in=statements):
            stored.file.delete(save=False)
        Dispute.objects.filter(statement__in=statements).delete()
        batches = list(statements.exclude(batch__isnull=True).values_list("batch_id", flat=True))
        statements.delete()  # and their lines
        PayoutBatch.objects.filter(pk__in=batches, statements__isnull=True).delete()
        with maintenance("demo reset: payouts scenario"):
            LedgerEntry.objects.filter(program=program).delete()
        PayoutRun.objects.filter(program=program).delete()
        Enrolment.objects.filter(program=program).delete()
        seeded_fx = AuditEvent.objects.filter(object_type="payouts.fxrate", source="seed").values_list("object_id", flat=True)
        FxRate.objects.filter(pk__in=[int(i) for i in seeded_fx if i.isdigit()]).delete()
        Opportunity.objects.filter(external_id__startswith=DEAL_PREFIX).delete()
        program.delete()
