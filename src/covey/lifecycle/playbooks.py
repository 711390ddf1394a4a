"""The partner plans Covey ships: a 30/60/90-day onboarding plan and two go-to-market launch plans.

They are plan-engine templates (``covey.plans``) of kind ``onboarding`` and ``launch``. The data
migration ``0002_shipped_plans`` installs them; ``install`` takes the model classes so the migration
can pass its historical models, and is idempotent (keyed by name), so tests and operators can put
back a template someone deleted. Admins edit them like any playbook; moving a partner to onboarding
applies ``ONBOARDING_NAME`` (or, if it was renamed, the first active onboarding template).
"""

from __future__ import annotations

P, V, B = "partner", "vendor", "both"

ONBOARDING_NAME = "Partner onboarding — 30/60/90 days"
PROGRAM_LAUNCH_NAME = "Launch — new partner program"
INTEGRATION_LAUNCH_NAME = "Launch — new integration or co-selling partnership"

SHIPPED = [
    {
        "name": ONBOARDING_NAME,
        "kind": "onboarding",
        "description": "From signature to a productive partner in three months: people trained in the first "
        "30 days, a first co-branded campaign by day 60, a first registered deal and an agreed joint "
        "business plan by day 90.",
        "stages": [
            ("First 30 days: set up and trained", 1, 30, "Team trained", [
                (V, "Send the welcome kit and introduce the partner manager"),
                (P, "Invite the partner's sellers and engineers to the portal"),
                (P, "Complete the sales foundations course (at least two people)"),
                (P, "Complete the technical certification (at least one engineer)"),
                (B, "Walk through deal registration and the co-selling playbooks together"),
            ]),
            ("Days 31–60: first campaign", 31, 60, "Campaign live", [
                (B, "Agree the first co-branded campaign: audience, offer and dates"),
                (V, "Provide the co-branded templates and campaign assets"),
                (P, "Launch the campaign to the partner's customers"),
                (V, "Route campaign leads and follow up with the partner"),
            ]),
            ("Days 61–90: first deal and joint plan", 61, 90, "Ready for business", [
                (P, "Register the first deal"),
                (B, "Hold the first joint pipeline review"),
                (B, "Agree the joint business plan with mutual goals for the next two quarters"),
                (V, "Review onboarding with the partner and note what to improve"),
            ]),
        ],
    },
    {
        "name": PROGRAM_LAUNCH_NAME,
        "kind": "launch",
        "description": "Opening a partner program to the market: what partners get, where they apply, how "
        "they learn, and how the first partners are welcomed and reviewed.",
        "stages": [
            ("Get ready", 1, 21, "Program approved", [
                (V, "Write the partner value proposition and program guide"),
                (V, "Set up the application page, evaluation criteria and agreement"),
                (V, "Prepare onboarding content and the enablement library"),
            ]),
            ("Announce", 22, 35, "", [
                (V, "Publish the partner program page and announcement"),
                (V, "Hold the kickoff webinar for interested companies"),
                (V, "Invite hand-picked candidates personally"),
            ]),
            ("Welcome the first partners", 36, 75, "", [
                (B, "Onboard the first partners with their 30/60/90-day plans"),
                (B, "Set mutual goals with each strategic partner"),
                (V, "Share the first partner wins with everyone"),
            ]),
            ("Review after launch", 76, 90, "Launch reviewed", [
                (V, "Survey partners about the program"),
                (V, "Review sign-ups, activation and first deals; adjust the program"),
            ]),
        ],
    },
    {
        "name": INTEGRATION_LAUNCH_NAME,
        "kind": "launch",
        "description": "Taking a new integration or co-selling partnership to market together: one value "
        "proposition, both teams enabled, a shared launch calendar, and reviews once it is live.",
        "stages": [
            ("Joint value proposition", 1, 14, "Messaging agreed", [
                (B, "Agree the joint value proposition and the customer problem it solves"),
                (B, "Write the shared messaging and FAQ"),
                (V, "Update the demo environment to show the integration"),
            ]),
            ("Enable both sides", 15, 35, "Both teams enabled", [
                (V, "Train our sales, success and support teams on the partner's product"),
                (P, "Train the partner's teams on our product"),
                (B, "Publish the joint playbook in both libraries"),
            ]),
            ("Launch", 36, 60, "", [
                (B, "Agree the launch calendar: announcement, posts and joint e-mail"),
                (B, "Run the joint webinar"),
                (B, "Pick the target overlap accounts and assign owners"),
            ]),
            ("First customers", 61, 90, "", [
                (B, "Win the first joint customer and ask them to be a reference"),
                (B, "Hold the 30-day post-launch review"),
                (B, "Hold the 60-day post-launch review and plan the next quarter"),
            ]),
        ],
    },
]


def install(PlanTemplate, StageTemplate, TaskTemplate) -> int:  # noqa: N803 (model classes, possibly historical)
    """Create the shipped templates that are missing (by name); returns how many were created."""
    created = 0
    for book in SHIPPED:
        if PlanTemplate.objects.filter(name=book["name"]).exists():
            continue
        template = PlanTemplate.objects.create(
            name=book["name"], kind=book["kind"], engagement_model="", description=book["description"], is_active=True,
        )
        for s_order, (name, start_day, end_day, gate, tasks) in enumerate(book["stages"]):
            stage = StageTemplate.objects.create(
                template=template, order=s_order, name=name, start_day=start_day, end_day=end_day, gate_name=gate,
            )
            for t_order, (side, title) in enumerate(tasks):
                TaskTemplate.objects.create(stage=stage, order=t_order, title=title, owner_side=side)
        created += 1
    return created


def install_current() -> int:
    from covey.plans.models import PlanTemplate, StageTemplate, TaskTemplate

    return install(PlanTemplate, StageTemplate, TaskTemplate)
