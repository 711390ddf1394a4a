"""Market development funds demo scenario, made through the same services a person uses: a program
with Gold and Silver tiers that bring MDF each quarter, the demo partner at Gold and the other one at
Silver, this quarter's budget with allocations generated from the tiers, one approved request waiting
for its claim, and one webinar claimed with an invoice, reimbursed by finance (an MDF ledger entry on
the partner's statement) and with opportunities carrying its campaign code, so ROI has figures.

Runs once after ``covey demo`` seeds the small set (``seed_mdf``); it does nothing when the program
exists. ``delete_mdf_scenario`` removes it again for a reset (ledger rows inside the ledger's
maintenance window: the ledger refuses deletes otherwise). Names and texts are invented for the demo.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from covey.core.models import StaffRole, User, VendorSettings
from covey.partners.models import Membership

PROGRAM = "Partner Growth Program"
INVOICE = b"%PDF-1.4\n% Demo invoice: webinar production and promotion\n%%EOF\n"


def seed_mdf(*, admin_email: str, partner_admin_email: str, other_rep_email: str, today: date | None = None) -> int:
    """Create the scenario; return how many fund requests it made (0 when it ran before or users are missing)."""
    from covey.crm.models import Account, Opportunity
    from covey.mdf import services
    from covey.programs import services as programs
    from covey.programs.models import Program
    from covey.programs.services import quarter_start_of

    if Program.objects.filter(name=PROGRAM).exists():
        return 0
    admin = User.objects.filter(email=admin_email, staff_role=StaffRole.ADMIN).first()
    finance = User.objects.filter(staff_role=StaffRole.FINANCE, is_active=True).order_by("id").first()
    ours = Membership.objects.filter(user__email=partner_admin_email).select_related("partner", "user").first()
    other = Membership.objects.filter(user__email=other_rep_email).select_related("partner", "user").first()
    if admin is None or finance is None or ours is None or other is None:
        return 0
    today = today or timezone.localdate()
    start = quarter_start_of(today - timedelta(days=100))
    before = start - timedelta(days=1)
    with transaction.atomic():
        program = programs.program_create(name=PROGRAM, currency="USD", actor=admin, source="seed", today=before,
                                          summary="Discounts, funds and support that grow with the business you bring.")
        draft = program.versions.get()
        programs.version_update(version=draft, actor=admin, effective_from=start, today=before)
        programs.tier_save(version=draft, actor=admin, code="silver", name="Silver", rank=1, mdf_allowance_minor=500_000,
                           today=before)
        programs.tier_save(version=draft, actor=admin, code="gold", name="Gold", rank=2, mdf_allowance_minor=1_500_000,
                           dedicated_manager=True, today=before)
        programs.version_publish(version=draft, actor=admin, today=before)
        programs.enrol(partner=ours.partner, program=program, tier_code="gold", starts_on=start, actor=admin)
        programs.enrol(partner=other.partner, program=program, tier_code="silver", starts_on=start, actor=admin)
        quarter = VendorSettings.current().calendar.quarter_of(today)
        budget = services.budget_create(program=program, period_key=quarter.key, amount_minor=10_000_000,
                                        second_approval_above_minor=1_000_000, actor=admin, source="seed")
        services.allocations_generate(budget=budget, actor=admin, source="seed")
        allocation = budget.allocations.get(partner=ours.partner)

        # Reimbursed: a webinar that ended ten days ago, claimed with its invoice.
        day = max(today - timedelta(days=10), quarter.start)
        webinar = services.request_create(
            allocation=allocation, actor=ours.user, activity_type="webinar", title="Modernising finance reporting webinar",
            description="A one-hour webinar for finance leads at mid-market firms, with a live demo.",
            starts_on=day, ends_on=day, planned_cost_minor=800_000, co_investment_percent="25", expected_leads=60,
            expected_pipeline_minor=15_000_000, campaign_code="DEMO-WEB-FIN", source="seed")
        services.request_decide(request=webinar, actor=admin, approve=True, approved_minor=500_000,
                                reason="Paid promotion outside the target regions is not covered", source="seed")
        claim = services.claim_create(
            request=webinar, actor=ours.user, actual_cost_minor=720_000, leads_count=48, source="seed", today=today,
            files=[("invoice", SimpleUploadedFile("webinar-invoice.pdf", INVOICE, content_type="application/pdf"))])
        services.claim_decide(claim=claim, actor=finance, approve=True, source="seed", today=today)
        account = Account.objects.order_by("id").first()
        if account is not None:
            for name, stage, amount in (("Finance reporting rollout", "Proposal/Price Quote", 4_800_000),
                                        ("Reporting add-on", "Closed Won", 1_900_000)):
                Opportunity.objects.create(name=name, account=account, stage=stage, amount_minor=amount, currency="USD",
                                           close_date=today + timedelta(days=30), campaign_code="DEMO-WEB-FIN")

        # Approved, waiting for its claim: an event later this quarter.
        event_day = min(today + timedelta(days=14), quarter.end)
        event = services.request_create(
            allocation=allocation, actor=ours.user, activity_type="event", title="Regional customer breakfast",
            starts_on=event_day, ends_on=event_day, planned_cost_minor=400_000, co_investment_percent="50",
            expected_leads=20, expected_pipeline_minor=6_000_000, campaign_code="DEMO-BREAKFAST", source="seed")
        services.request_decide(request=event, actor=admin, approve=True, source="seed")
    return 2


def delete_mdf_scenario() -> None:
    """Remove everything ``seed_mdf`` made (for ``covey seed --reset``)."""
    from covey.crm.models import Opportunity
    from covey.mdf.models import Budget, Claim, ClaimFile, FundRequest
    from covey.payouts.ledger import maintenance
    from covey.payouts.models import LedgerEntry, Statement, StatementLine
    from covey.programs.models import Program

    program = Program.objects.filter(name=PROGRAM).first()
    if program is None:
        return
    with transaction.atomic():
        requests = FundRequest.objects.filter(allocation__budget__program=program)
        Opportunity.objects.filter(campaign_code__in=requests.values("campaign_code")).delete()
        entries = LedgerEntry.objects.filter(program=program)
        StatementLine.objects.filter(entry__in=entries).delete()
        Statement.objects.filter(program=program).delete()
        claims = Claim.objects.filter(request__in=requests)
        for proof in ClaimFile.objects.filter(claim__in=claims):
            proof.file.delete(save=False)
        ClaimFile.objects.filter(claim__in=claims).delete()
        claims.update(ledger_entry=None)
        claims.delete()
        requests.delete()
        Budget.objects.filter(program=program).delete()  # with its allocations
        with maintenance("demo reset: MDF scenario"):
            entries._raw_delete(entries.db)
        program.delete()  # with its versions, tiers and enrolments
