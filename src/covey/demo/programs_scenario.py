"""Incentive-program demo scenario, made through the builder's services: a reseller program with
Silver, Gold and Platinum tiers, margin bands, a deal-registration bonus, a SPIFF and a quarterly
accelerator. Version 1 is published and governs the current quarter (so it is locked); version 2 is
a draft for the next quarter; version 3 is a pilot of a richer accelerator for three partners.
Partners are enrolled at tiers (the demo partner at Gold, with an earlier Silver enrolment as history).

Runs once after ``covey demo`` seeds the small set (``seed_programs``); it does nothing when the
program exists. ``remove_programs`` takes it away again (``covey seed --reset`` calls it). Names,
amounts and texts are invented for the demo.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from covey.core.models import StaffRole, User
from covey.partners.models import Membership, Partner

PROGRAM_NAME = "Reseller Program"
SUMMARY = ("Resell our platform and keep a margin that grows with your tier and deal size. Register your deals "
           "early for an extra bonus, and beat your quarterly target for an accelerator on everything above it.")
TIERS = [
    dict(code="silver", name="Silver", rank=1, min_certified_people=1, mdf_allowance_minor=0,
         perks=["Partner portal and deal registration", "Quarterly partner newsletter"]),
    dict(code="gold", name="Gold", rank=2, min_annual_sales_minor=25_000_000, min_certified_people=2, min_deals=4,
         mdf_allowance_minor=1_000_000, lead_sharing=True, perks=["Co-branded content", "Joint customer case study"]),
    dict(code="platinum", name="Platinum", rank=3, min_annual_sales_minor=100_000_000, min_certified_people=5,
         min_satisfaction="8.5", min_deals=12, mdf_allowance_minor=3_000_000, dedicated_manager=True, lead_sharing=True,
         perks=["Roadmap previews", "Executive sponsor", "Co-branded content"]),
]
MARGIN = {"currency": "USD", "bands": [
    {"from": "0", "to": "25000", "rates": {"silver": "10", "gold": "15", "platinum": "20"}},
    {"from": "25000", "to": "100000", "rates": {"silver": "15", "gold": "20", "platinum": "25"}},
    {"from": "100000", "rates": {"silver": "18", "gold": "25", "platinum": "30"}},
]}
REGISTRATION = {"currency": "USD", "rate": "5", "min_value": "10000", "close_within_days": "90",
                "requires": ["approved_registration"]}
ACCELERATOR = {"currency": "USD", "rate": "3", "target": "150000", "targets": {"gold": "250000", "platinum": "500000"}}


def _spiff(quarter_start: date, quarter_end: date) -> dict:
    return {"currency": "USD", "amount": "500.00", "starts_on": quarter_start.isoformat(), "ends_on": quarter_end.isoformat(),
            "products": [], "min_value": "20000"}


def seed_programs(*, admin_email: str, manager_email: str, partner_admin_email: str, other_rep_email: str = "",
                  today: date | None = None) -> int:
    """Create the scenario; return how many partners it enrolled (0 when it ran before or users are missing)."""
    from covey.core.models import VendorSettings
    from covey.programs import services
    from covey.programs.models import Program

    if Program.objects.filter(name=PROGRAM_NAME).exists():
        return 0
    admin = User.objects.filter(email=admin_email, staff_role=StaffRole.ADMIN).first()
    manager = User.objects.filter(email=manager_email, staff_role=StaffRole.PARTNER_MANAGER).first()
    own = Membership.objects.filter(user__email=partner_admin_email).select_related("partner").first()
    if admin is None or manager is None or own is None:
        return 0
    today = today or timezone.localdate()
    quarter = VendorSettings.current().calendar.quarter_of(today)
    other = Membership.objects.filter(user__email=other_rep_email).select_related("partner").first() if other_rep_email else None

    with transaction.atomic():
        program = services.program_create(name=PROGRAM_NAME, currency="USD", summary=SUMMARY, actor=admin, source="seed",
                                          today=today)
        v1 = program.versions.get()
        services.version_update(version=v1, actor=admin, source="seed", today=today, influence_share="20",
                                payout_frequency="quarterly", payout_delay_days=30, notes="The first published program.")
        for tier in TIERS:
            services.tier_save(version=v1, actor=admin, source="seed", today=today, **tier)
        services.rule_save(version=v1, actor=admin, source="seed", today=today, kind="resale_margin", name="Reseller margin",
                           params=MARGIN)
        services.rule_save(version=v1, actor=admin, source="seed", today=today, kind="registration_bonus",
                           name="Deal registration bonus", params=REGISTRATION)
        services.rule_save(version=v1, actor=admin, source="seed", today=today, kind="spiff", name="New-logo SPIFF",
                           params=_spiff(quarter.start, quarter.end))
        services.rule_save(version=v1, actor=admin, source="seed", today=today, kind="accelerator",
                           name="Quarterly accelerator", params=ACCELERATOR)
        services.version_publish(version=v1, actor=admin, source="seed", today=today)  # governs this quarter: locked

        # Version 2: next quarter's draft — a higher Platinum top band and a churn clawback.
        v2 = services.version_draft(program=program, actor=admin, based_on=v1, source="seed", today=today)
        margin = v2.rules.get(kind="resale_margin")
        raised = {**MARGIN, "bands": [*MARGIN["bands"][:2], {**MARGIN["bands"][2], "rates": {**MARGIN["bands"][2]["rates"],
                                                                                           "platinum": "32"}}]}
        services.rule_save(version=v2, rule=margin, actor=admin, source="seed", today=today, kind="resale_margin",
                           name="Reseller margin", params=raised)
        services.rule_save(version=v2, actor=admin, source="seed", today=today, kind="clawback", name="Churn clawback",
                           params={"within_days": "90", "events": ["churn", "refund"]})
        services.version_update(version=v2, actor=admin, source="seed", today=today,
                                notes="Platinum top band to 32%; earnings clawed back when a customer leaves within 90 days.")

        # Partners: the demo partner at Gold (Silver before), the other demo partner at Silver, resellers spread over tiers.
        start = quarter.start
        enrolled = [own.partner]
        services.enrol(partner=own.partner, program=program, tier_code="silver", starts_on=start - timedelta(days=200),
                       actor=manager, reason="Joined the program", source="seed")
        services.enrol(partner=own.partner, program=program, tier_code="gold", starts_on=start, actor=manager,
                       reason="Tier review: certified people and sales above the Gold requirements", source="seed")
        if other is not None and other.partner_id != own.partner_id:
            services.enrol(partner=other.partner, program=program, tier_code="silver", starts_on=start, actor=manager,
                           reason="Joined the program", source="seed")
            enrolled.append(other.partner)
        resellers = (Partner.objects.filter(types__code="reseller", lifecycle="active").exclude(pk__in=[p.pk for p in enrolled])
                     .order_by("name")[:12])
        for i, partner in enumerate(resellers):
            services.enrol(partner=partner, program=program, tier_code=("silver", "gold", "platinum")[i % 3], starts_on=start,
                           actor=admin, reason="Annual tier review", source="seed")
            enrolled.append(partner)

        # Version 3: a pilot of a richer accelerator for three resellers, from next quarter.
        pilot = services.version_draft(program=program, actor=admin, based_on=v1, pilot=True, source="seed", today=today)
        accelerator = pilot.rules.get(kind="accelerator")
        services.rule_save(version=pilot, rule=accelerator, actor=admin, source="seed", today=today, kind="accelerator",
                           name="Quarterly accelerator (pilot)", params={**ACCELERATOR, "rate": "5"})
        services.version_update(version=pilot, actor=admin, source="seed", today=today,
                                notes="Pilot: a 5% accelerator for three resellers before deciding for everyone.")
        chosen = list(resellers[:3])
        if chosen:
            services.pilot_partners_set(version=pilot, partners=chosen, actor=admin, source="seed", today=today)
            services.version_publish(version=pilot, actor=admin, source="seed", today=today)
    # Last quarter's tier review, so the review page and each partner's "Our tier" page have evidence to show
    # (the scheduler would take it within a minute of the worker starting; taking it here makes it certain).
    from covey.tierreviews.services import review_run

    review_run(program=program, actor=manager, today=today, source="seed")
    return len(enrolled)


class ProgramsInUse(Exception):
    """Payout records refer to the demo program; they must go first."""


def remove_programs() -> int:
    """Delete the demo program with its versions, tiers, rules and enrolments; return how many programs went."""
    from covey.programs.models import Program

    try:
        deleted, per_model = Program.objects.filter(name=PROGRAM_NAME).delete()
    except ProtectedError:
        raise ProgramsInUse(f"Payout runs or statements refer to the demo program {PROGRAM_NAME!r}; remove them first.") from None
    return per_model.get("programs.Program", 0)
