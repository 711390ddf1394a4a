"""Partner lifecycle demo scenario, made through the same services a person uses: applicants at every
stage (one new, two being evaluated with scorecards, one approved and onboarding with a signed and
countersigned agreement and a plan under way), courses and certifications, a joint business plan, a
library resource and an announcement for the demo partner.

Runs once after ``covey demo`` seeds the small set (``seed_lifecycle``); it does nothing when any
application exists. Dates are relative to ``today`` so the demo never looks stale. The companies,
people and texts are invented for the demo.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from covey.core.models import StaffRole, User
from covey.partners.models import Membership

AGREEMENT_BODY = """# Partner program agreement

## 1. What this agreement covers
The partner may market, resell and implement the vendor's products to customers in its regions, and
uses the partner portal to register deals and track joint work.

## 2. What each side does
- The vendor provides training, a partner manager, demo environments and deal-desk support.
- The partner keeps at least two people certified and registers deals before quoting them.

## 3. Money
Discounts, commissions and funds follow the program guide in force when a deal is registered.

## 4. Term
One year from countersignature, renewed each year unless either side gives 60 days' notice.
"""

# (company, domain, types, regions, segments, employees, capabilities, motivation)
APPLICANTS = [
    ("Bluefin Analytics", "bluefin-analytics.example", ["referral", "technology"], ["na"], ["mid_market"], 18,
     "Data pipeline consulting for retail chains.", "Three of our clients asked about your platform this quarter."),
    ("Harbor & Pine Consulting", "harborpine.example", ["system_integrator", "reseller"], ["emea"], ["enterprise", "mid_market"], 140,
     "Implementation, change management, 24 certified engineers on similar platforms.", "We want a second platform in our practice."),
    ("Mosaic Cloud Services", "mosaic-cloud.example", ["msp"], ["apac"], ["smb"], 35,
     "Managed hosting and first-line support for small businesses.", "Bundling your product with our managed plans."),
    ("Ridgeline IT", "ridgeline-it.example", ["reseller", "system_integrator"], ["na"], ["mid_market"], 60,
     "Reselling and rolling out business software across the Midwest.", "Our customers outgrew their current tools."),
]


def seed_lifecycle(*, admin_email: str, manager_email: str, partner_admin_email: str, today: date | None = None) -> int:
    """Create the scenario; return how many applications it made (0 when it ran before or users are missing)."""
    from covey.agreements import services as agreements
    from covey.enablement import services as enablement
    from covey.lifecycle import criteria, playbooks, services
    from covey.lifecycle.models import Application
    from covey.plans.models import Plan, PlanKind
    from covey.plans.services import complete_task

    if Application.objects.exists():
        return 0
    admin = User.objects.filter(email=admin_email, staff_role=StaffRole.ADMIN).first()
    manager = User.objects.filter(email=manager_email, staff_role=StaffRole.PARTNER_MANAGER).first()
    partner_admin = Membership.objects.filter(user__email=partner_admin_email).select_related("partner", "user").first()
    if admin is None or manager is None or partner_admin is None:
        return 0
    today = today or timezone.localdate()
    playbooks.install_current()
    criteria.install_current()

    with transaction.atomic():
        template = agreements.template_create(actor=admin, name="Partner program agreement", source="seed",
                                              description="The standard agreement for resellers and integrators.",
                                              title="Partner program agreement", body=AGREEMENT_BODY)
        made = []
        for i, (company, domain, types, regions, segments, employees, capabilities, motivation) in enumerate(APPLICANTS):
            made.append(services.application_submit(answers=services.ApplicationInput(
                company_name=company, website=f"https://www.{domain}/", contact_name=f"{company.split()[0]} Contact",
                contact_email=f"partners@{domain}", types=types, regions=regions, segments=segments, employees=employees,
                capabilities=capabilities, motivation=motivation,
            ), now=timezone.now() - timedelta(days=12 - 3 * i)))
        services.ideal_profile_update(actor=admin, source="seed", min_total="6.5", min_employees=20, regions=["na", "emea"],
                                      types=["reseller", "system_integrator", "msp"], criteria_minimums={"customer_fit": "3"})
        # Two candidates under evaluation: Harbor & Pine by two evaluators, Mosaic by one.
        for application, cards in ((made[1], [(manager, "4", "high"), (admin, "5", "medium")]), (made[2], [(manager, "3", "medium")])):
            round_ = services.round_open(partner=application.partner, actor=manager, source="seed")
            for evaluator, number, level in cards:
                services.scorecard_submit(round_=round_, evaluator=evaluator, source="seed", scores={
                    spec["code"]: services.ScoreInput(value=number, level=level, note=f"{evaluator.full_name or evaluator.email}: {spec['name'].lower()} looks solid.")
                    for spec in round_.criteria
                })
        # Ridgeline: scored, approved, agreement signed by its new admin and countersigned, onboarding under way.
        ridgeline = made[3]
        round_ = services.round_open(partner=ridgeline.partner, actor=manager, source="seed")
        services.scorecard_submit(round_=round_, evaluator=manager, source="seed", scores={
            spec["code"]: services.ScoreInput(value="4", level="high") for spec in round_.criteria
        })
        services.round_close(round_=round_, actor=manager, source="seed")
        services.application_approve(application=ridgeline, actor=manager, agreement_template=template, source="seed")
        agreement = ridgeline.partner.agreements.get()
        new_admin = ridgeline.partner.memberships.get(role="admin").user
        agreements.agreement_sign(agreement=agreement, actor=new_admin, name="Ridgeline Contact", consent=True, ip="192.0.2.50",
                                  user_agent="demo", source="seed")
        agreements.agreement_countersign(agreement=agreement, actor=admin, name=admin.full_name or "Vendor admin", consent=True,
                                         ip="192.0.2.10", user_agent="demo", source="seed")
        plan = Plan.objects.filter(partner=ridgeline.partner, kind=PlanKind.ONBOARDING).first()
        if plan is not None:
            for task in plan.tasks.order_by("stage__order", "order")[:3]:
                complete_task(task, actor=manager, source="seed")

        # The demo partner: certifications, a joint business plan, a resource and an announcement.
        partner = partner_admin.partner
        sales = enablement.course_create(actor=admin, source="seed", title="Sales foundations", kind="internal", certifies=True,
                                         certification_name="Certified seller", valid_months=24,
                                         description="Positioning, discovery questions and pricing basics.")
        engineer = enablement.course_create(actor=admin, source="seed", title="Implementation engineer", kind="internal",
                                            certifies=True, certification_name="Certified implementation engineer", valid_months=12)
        for member in partner.memberships.select_related("user")[:3]:
            enablement.completion_record(course=sales, partner=partner, actor=admin, user=member.user, source="seed",
                                         completed_on=today - timedelta(days=200))
        enablement.completion_record(course=engineer, partner=partner, actor=admin, person_name="Jamie Field", source="seed",
                                     person_email=f"jamie.field@{partner.domain or 'partner.example'}", completed_on=today - timedelta(days=340))
        services.business_plan_create(partner=partner, actor=manager, source="seed", title=f"{partner.name} growth plan",
                                      starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=120),
                                      notes="Focus on mid-market accounts in the home region.",
                                      goals=[("registered_deals", 5, "in six months"), ("won_deals", 3, ""), ("certified_people", 2, "")])
        enablement.resource_create(actor=admin, source="seed", title="Competitive battle card", kind="battle_card",
                                   description="How we compare with the two usual alternatives, and what to ask.",
                                   link="https://docs.example/battle-card")
        enablement.announcement_publish(actor=admin, source="seed", title="New partner program agreement",
                                        body="Version 1 of the partner program agreement is live; new partners sign it in the portal.")
    return len(made)
