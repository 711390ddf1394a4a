"""The playbooks Covey ships: the six-stage co-selling plan in three variants, and a light one for small deals.

Each variant says who does what in each stage. Partner-led: the partner owns the customer and runs
the sale while the vendor brings product depth. Vendor-led: the reverse, with the partner adding
implementation know-how. True co-sell: the two share leadership and split discovery by topic
(business process on the partner's side, technical requirements on the vendor's). The small-deal
playbook keeps only what a deal of that size needs.

The data migration ``0002_default_playbooks`` installs these; ``install`` takes the model classes
so the migration can pass its historical models. It is idempotent (keyed by template name), which
also lets tests restore the playbooks after a test that empties the database.
"""

from __future__ import annotations

P, V, B = "partner", "vendor", "both"

# (name, start_day, end_day, gate) in the order every co-sell variant uses.
COSELL_STAGES = [
    ("Opportunity identification", 1, 7, ""),
    ("Discovery", 8, 21, "Joint qualification debrief"),
    ("Solution presentation", 22, 35, ""),
    ("Evaluation", 36, 60, "Technical validation complete"),
    ("Proposal and negotiation", 61, 75, "Pricing approved"),
    ("Close", 76, 90, ""),
]

PARTNER_LED_TASKS = [
    [
        (P, "Register the deal and check the prospect fits the target profile"),
        (P, "Brief the vendor team on the account, the people and the buying situation"),
        (V, "Confirm the vendor can support the deal: capacity, fit and timing"),
        (P, "Book the kickoff call with the prospect"),
    ],
    [
        (P, "Lead the discovery call", "The vendor joins to listen and learn the customer's context."),
        (V, "Ask the product and technical questions during discovery"),
        (P, "Map the stakeholders and how the customer buys"),
        (P, "Write up the requirements and share them with the vendor"),
        (B, "Debrief together and decide whether the deal is qualified"),
    ],
    [
        (P, "Set the meeting agenda and present the business case"),
        (V, "Give a product demo built around the prospect's requirements"),
        (P, "Answer objections about implementation and services"),
        (V, "Answer objections about product capabilities"),
        (P, "Agree next steps and a timeline with the prospect"),
    ],
    [
        (P, "Run the evaluation and keep it on schedule"),
        (V, "Provide trial access and technical validation"),
        (P, "Keep the prospect's stakeholders coordinated"),
        (V, "Share competitive intelligence and battle cards"),
        (B, "Hold a weekly progress sync between the two reps"),
    ],
    [
        (V, "Send product pricing for the proposal"),
        (P, "Build one commercial proposal covering services and product"),
        (P, "Lead the negotiation within the vendor's approved pricing"),
        (V, "Give deal-desk support for any non-standard request"),
    ],
    [
        (P, "Execute the contract with the customer"),
        (V, "Book the order on the vendor side"),
        (P, "Hand the customer over to the implementation team"),
        (V, "Line up onboarding and customer success"),
        (B, "Mark the deal closed in both sides' CRM"),
    ],
]

VENDOR_LED_TASKS = [
    [
        (V, "Record the opportunity and check the prospect fits the target profile"),
        (V, "Brief the partner on the account and where its services help"),
        (P, "Confirm the partner can support the deal: services capacity and experience"),
        (V, "Book the kickoff call with the prospect"),
    ],
    [
        (V, "Lead the discovery call", "The partner joins for implementation and integration topics."),
        (P, "Check the technical and integration requirements during discovery"),
        (V, "Map the stakeholders and how the customer buys"),
        (V, "Write up the requirements and share them with the partner"),
        (B, "Debrief together and decide whether the deal is qualified"),
    ],
    [
        (V, "Set the meeting agenda and lead the presentation and demo"),
        (P, "Present the implementation approach and the services around it"),
        (V, "Answer objections about the product and pricing"),
        (P, "Answer objections about deployment and integration"),
        (V, "Agree next steps and a timeline with the prospect"),
    ],
    [
        (V, "Run the evaluation and keep it on schedule"),
        (P, "Validate integration points and the deployment plan"),
        (V, "Provide trial access and technical validation"),
        (B, "Hold a weekly progress sync between the two reps"),
    ],
    [
        (P, "Send the services scope and price for the proposal"),
        (V, "Build one proposal covering product and partner services"),
        (V, "Lead the negotiation and get pricing approved"),
        (V, "Bring in deal desk and legal for non-standard terms"),
    ],
    [
        (V, "Execute the contract and process the order"),
        (P, "Plan the deployment with the customer"),
        (P, "Support the rollout after signature"),
        (B, "Mark the deal closed in both sides' CRM"),
    ],
]

CO_SELL_TASKS = [
    [
        (B, "Agree the deal is joint and register it on both sides"),
        (B, "Agree one outreach plan: who contacts whom, one shared thread"),
        (P, "Share what the partner knows about the customer's business"),
        (V, "Share what the vendor knows about the customer's technology"),
        (B, "Book the joint kickoff call with the prospect"),
    ],
    [
        (P, "Cover the business process in joint discovery"),
        (V, "Cover the technical requirements in joint discovery"),
        (B, "Map the stakeholders and how the customer buys"),
        (B, "Debrief together and decide whether the deal is qualified"),
    ],
    [
        (B, "Agree who leads each part of the meeting, by topic"),
        (V, "Give a product demo built around the prospect's requirements"),
        (P, "Present the business case and the services around it"),
        (B, "Agree next steps and a timeline with the prospect"),
    ],
    [
        (B, "Run the evaluation together against an agreed timeline"),
        (V, "Provide trial access and technical validation"),
        (P, "Validate integration points and the deployment plan"),
        (B, "Hold a weekly progress sync between the two reps"),
    ],
    [
        (B, "Write one joint proposal with services and product"),
        (V, "Get vendor pricing approved"),
        (B, "Negotiate together with one voice"),
    ],
    [
        (B, "Execute the contract and process the order"),
        (P, "Lead the handover to implementation"),
        (V, "Line up onboarding and customer success"),
        (B, "Mark the deal closed in both sides' CRM"),
    ],
]

SIMPLIFIED_STAGES = [
    ("Qualify", 1, 5, ""),
    ("Propose", 6, 20, "Pricing approved"),
    ("Close", 21, 30, ""),
]
SIMPLIFIED_TASKS = [
    [
        (P, "Register the deal and confirm budget and timing"),
        (V, "Confirm the deal fits the small-deal playbook"),
    ],
    [
        (P, "Send the customer a standard quote"),
        (V, "Approve the price, or flag it for deal desk"),
    ],
    [
        (P, "Get the order signed"),
        (V, "Process the order"),
        (B, "Update the CRM and close the deal"),
    ],
]

PLAYBOOKS = [
    {
        "name": "Co-sell playbook — partner-led",
        "engagement_model": "partner_led",
        "description": "The partner brought the deal and owns the customer; the vendor supports with product "
        "expertise, demos, competitive help and deal-desk pricing. Six stages over 90 days.",
        "stages": COSELL_STAGES, "tasks": PARTNER_LED_TASKS,
    },
    {
        "name": "Co-sell playbook — vendor-led",
        "engagement_model": "vendor_led",
        "description": "The vendor found the deal or already serves the customer and runs the sale; the partner "
        "adds implementation, integration and deployment know-how. Six stages over 90 days.",
        "stages": COSELL_STAGES, "tasks": VENDOR_LED_TASKS,
    },
    {
        "name": "Co-sell playbook — true co-sell",
        "engagement_model": "co_sell",
        "description": "A joint deal with shared leadership: one outreach plan, discovery split by topic, one joint "
        "proposal and a coordinated negotiation. Six stages over 90 days.",
        "stages": COSELL_STAGES, "tasks": CO_SELL_TASKS,
    },
    {
        "name": "Simplified small-deal playbook",
        "engagement_model": "simplified",
        "description": "Small deals do not need the full co-selling motion: qualify, quote, close in about a month.",
        "stages": SIMPLIFIED_STAGES, "tasks": SIMPLIFIED_TASKS,
    },
]


def install(PlanTemplate, StageTemplate, TaskTemplate) -> int:  # noqa: N803 (model classes, possibly historical)
    """Create the shipped playbooks that are missing (by name); each becomes its model's default
    unless another template already is. Returns how many templates were created."""
    created = 0
    for book in PLAYBOOKS:
        if PlanTemplate.objects.filter(name=book["name"]).exists():
            continue
        has_default = PlanTemplate.objects.filter(engagement_model=book["engagement_model"], is_default=True).exists()
        template = PlanTemplate.objects.create(
            name=book["name"], kind="deal", engagement_model=book["engagement_model"],
            description=book["description"], is_active=True, is_default=not has_default,
        )
        for s_order, ((name, start_day, end_day, gate), tasks) in enumerate(zip(book["stages"], book["tasks"], strict=True)):
            stage = StageTemplate.objects.create(
                template=template, order=s_order, name=name, start_day=start_day, end_day=end_day, gate_name=gate,
            )
            for t_order, task in enumerate(tasks):
                side, title, *rest = task
                TaskTemplate.objects.create(
                    stage=stage, order=t_order, title=title, description=rest[0] if rest else "", owner_side=side,
                )
        created += 1
    return created


def install_current() -> int:
    """``install`` with the current models (tests, or an operator restoring the shipped playbooks)."""
    from covey.plans.models import PlanTemplate, StageTemplate, TaskTemplate

    return install(PlanTemplate, StageTemplate, TaskTemplate)
