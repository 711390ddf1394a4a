"""Co-selling demo scenario: a few deal registrations in every state, made through the same services a
person uses, so the demo's registrations, conflict queue, deal rooms and plans are not empty.

Runs once, after ``covey demo`` seeds the small set (``seed_co_selling``); it does nothing when
registrations already exist. Everything is relative to ``today`` so the demo never looks stale.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from covey.core.models import User
from covey.core.money import Money
from covey.crm.models import Product
from covey.partners.models import Membership

# (company, domain as typed, value in USD major units, days to close, evidence)
_DEALS = [
    ("Northwind Traders", "https://www.northwind-traders.example/", 180_000, 70,
     "Joint discovery workshop with their operations team; they asked for a pilot plan."),
    ("Contoso Health", "contoso-health.example", 64_000, 45,
     "Two calls with the IT director; our integration covers their patient portal."),
    ("Fabrikam Logistics", "fabrikam-logistics.example", 410_000, 110,
     "Executive briefing held together; procurement has started a vendor review."),
]


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed_co_selling(*, rep_email: str, other_rep_email: str, today: date | None = None) -> int:
    """Create the scenario for the demo's partner rep and the other partner's rep; return how many
    registrations it made (0 when any already exist or the reps are missing)."""
    from covey.cosell.services import add_note, ask_question
    from covey.plans.playbooks import install_current
    from covey.registrations.models import Registration
    from covey.registrations.services import Submission, approve, submit

    if Registration.objects.exists():
        return 0
    today = today or timezone.localdate()
    found = {m.user.email: m for m in Membership.objects.filter(user__email__in=[rep_email, other_rep_email])
             .select_related("user", "partner__owner")}
    if rep_email not in found or other_rep_email not in found:
        return 0
    first, second = found[rep_email], found[other_rep_email]
    reviewer = first.partner.owner or User.objects.filter(staff_role="partner_manager").order_by("email").first()
    products = list(Product.objects.filter(is_active=True).order_by("name")[:2])
    install_current()  # the default playbooks, in case the database was flushed

    made = 0
    with transaction.atomic():
        registrations = []
        for index, (company, domain, value, close_in, evidence) in enumerate(_DEALS):
            submitted = _at(today - timedelta(days=4 - index), 10)
            registration = submit(
                partner=first.partner, actor=first.user, now=submitted, source="seed",
                submission=Submission(
                    company_name=company, domain=domain, value=Money.from_decimal(value, "USD"),
                    expected_close=today + timedelta(days=close_in), contact_name="Jordan Ellis",
                    contact_email=f"jordan.ellis@{domain.split('//')[-1].strip('/').removeprefix('www.')}",
                    products=products, description=f"{company} wants to consolidate their tooling this year.",
                    evidence=evidence,
                ),
            )
            registrations.append(registration)
            made += 1
        # The first is approved (and converted: engagement, deal room and plan); the others wait for review.
        if reviewer is not None:
            approved = approve(registration=registrations[0], actor=reviewer, source="seed")
            engagement = approved.opportunity.engagements.first() if approved.opportunity else None
            if engagement is not None:
                add_note(engagement, actor=first.user, source="seed",
                         body="Their CFO joins the next call; bring the ROI model and two customer references.")
                ask_question(engagement, actor=first.user, source="seed",
                             body="Can we offer a 60-day pilot instead of the standard 30?")
        # Another partner registers the approved company under another spelling: a conflict.
        submit(
            partner=second.partner, actor=second.user, now=_at(today - timedelta(days=1), 15), source="seed",
            submission=Submission(
                company_name="NORTHWIND TRADERS INC.", domain="northwind-traders.example/contact",
                value=Money.from_decimal("150000.00", "USD"), expected_close=today + timedelta(days=80),
                evidence="Met their CIO at a regional event.",
            ),
        )
        # And one below the program minimum, turned down by the rules at once.
        submit(
            partner=second.partner, actor=second.user, now=_at(today - timedelta(days=2), 11), source="seed",
            submission=Submission(
                company_name="Tailspin Toys", domain="tailspin-toys.example", value=Money.from_decimal("4000.00", "USD"),
                expected_close=today + timedelta(days=30),
            ),
        )
        made += 2
    return made
