"""Access rows for joint proposals and joint account plans (the contract is in tests/access_rows/__init__.py).

Partner A's proposal (on opportunity A, with the deal's product line copied in as a vendor line and
one service line of A's) and A's account plan (on account A, with opportunity A linked and one step
for A's rep). Vendor CRM editors price vendor lines, A's admin and rep price A's services; the
pricing decision belongs to the vendor admin and the partner manager who owns A.
"""

from __future__ import annotations

from tests.matrix import CRM_EDITORS, EVERYONE, PARTNER_B, READ_A, Route, expect, rest

A_WRITERS = CRM_EDITORS + ("a_admin", "a_rep")
WRITE_A = expect(ok=A_WRITERS, forbidden=rest(A_WRITERS, PARTNER_B), hidden=PARTNER_B)
CREATORS = CRM_EDITORS + ("a_admin", "a_rep", "b_admin", "b_rep")
CREATE = expect(ok=CREATORS, forbidden=rest(CREATORS))
VENDOR_LINES_A = expect(ok=CRM_EDITORS, forbidden=rest(CRM_EDITORS, PARTNER_B), hidden=PARTNER_B)
PARTNER_LINES_A = expect(ok=("a_admin", "a_rep"), forbidden=rest(("a_admin", "a_rep"), PARTNER_B), hidden=PARTNER_B)
DECIDERS = ("vendor_admin", "partner_manager")
DECIDE_A = expect(ok=DECIDERS, forbidden=rest(DECIDERS, PARTNER_B), hidden=PARTNER_B)

PROPOSAL = {"public_id": "proposal_a.public_id"}
PLAN = {"public_id": "account_plan_a.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "proposal_list": Route(EVERYONE),
    "proposal_create": Route(CREATE),
    "proposal_detail": Route(READ_A, kwargs=PROPOSAL),
    "proposal_print": Route(READ_A, kwargs=PROPOSAL),
    "proposal_edit": Route(WRITE_A, kwargs=PROPOSAL),
    "proposal_line_add": Route(WRITE_A, method="POST", kwargs=PROPOSAL),
    "proposal_line_edit": Route(VENDOR_LINES_A, method="POST", kwargs={**PROPOSAL, "line_id": "proposal_line_a.public_id"}),
    "proposal_line_remove": Route(PARTNER_LINES_A, method="POST", kwargs={**PROPOSAL, "line_id": "proposal_service_a.public_id"}),
    "proposal_submit": Route(WRITE_A, method="POST", kwargs=PROPOSAL),
    "proposal_decide": Route(DECIDE_A, method="POST", kwargs=PROPOSAL),
    "proposal_mark": Route(WRITE_A, method="POST", kwargs=PROPOSAL),
    "joint_plan_list": Route(EVERYONE),
    "joint_plan_create": Route(CREATE),
    "joint_plan_detail": Route(READ_A, kwargs=PLAN),
    "joint_plan_edit": Route(WRITE_A, kwargs=PLAN),
    "joint_plan_step_add": Route(WRITE_A, method="POST", kwargs=PLAN),
    "joint_plan_step_toggle": Route(WRITE_A, method="POST", kwargs={**PLAN, "step_id": "account_plan_step_a.public_id"}),
    "joint_plan_link": Route(WRITE_A, method="POST", kwargs=PLAN),
    "joint_plan_unlink": Route(WRITE_A, method="POST", kwargs={**PLAN, "opportunity_id": "opportunity_a.public_id"}),
}

P = "/api/proposals/{proposal_a}"
PL = "/api/account-plans/{account_plan_a}"
# The proposal is a draft: deciding it or marking it sent passes the role gate and is then refused (422).
#                                                                        admin  pm   pm2  rep  fin  exec  a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("read proposal", "GET", P, None,                                       (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("change proposal", "PATCH", P, {"notes": "Changed"},                   (200, 200, 200, 200, 403, 403, 200, 200, 403, 404, 404)),
    ("add vendor line", "POST", P + "/lines",
     {"kind": "vendor_product", "product": "{product}", "quantity": 1, "discount_percent": "5"},
                                                                            (201, 201, 201, 201, 403, 403, 403, 403, 403, 404, 404)),
    ("add service line", "POST", P + "/lines",
     {"kind": "partner_service", "description": "Training", "quantity": 2, "unit_price": {"amount": "1500.00"}},
                                                                            (403, 403, 403, 403, 403, 403, 201, 201, 403, 404, 404)),
    ("change vendor line", "PATCH", P + "/lines/{proposal_line_a}", {"discount_percent": "10"},
                                                                            (200, 200, 200, 200, 403, 403, 403, 403, 403, 404, 404)),
    ("remove service line", "DELETE", P + "/lines/{proposal_service_a}", None,
                                                                            (403, 403, 403, 403, 403, 403, 204, 204, 403, 404, 404)),
    ("submit proposal", "POST", P + "/submit", None,                        (200, 200, 200, 200, 403, 403, 200, 200, 403, 404, 404)),
    ("decide proposal", "POST", P + "/decide", {"decision": "approve"},      (422, 422, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("mark proposal", "POST", P + "/mark", {"status": "sent"},              (422, 422, 422, 422, 403, 403, 422, 422, 403, 404, 404)),
    # B's own deal: B may propose on it; A cannot even name it.
    ("create proposal", "POST", "/api/proposals", {"opportunity": "{opportunity_b}", "partner": "{partner_b}"},
                                                                            (201, 201, 201, 201, 403, 403, 422, 422, 403, 201, 201)),
    ("read account plan", "GET", PL, None,                                  (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("change account plan", "PATCH", PL, {"vendor_goals": "Changed"},       (200, 200, 200, 200, 403, 403, 200, 200, 403, 404, 404)),
    ("add plan step", "POST", PL + "/steps", {"text": "Book the sponsor call", "owner_side": "vendor"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 404, 404)),
    ("tick plan step", "PATCH", PL + "/steps/{account_plan_step_a}", {"done": True},
                                                                            (200, 200, 200, 200, 403, 403, 200, 200, 403, 404, 404)),
    ("remove plan step", "DELETE", PL + "/steps/{account_plan_step_a}", None,       (204, 204, 204, 204, 403, 403, 204, 204, 403, 404, 404)),
    # Opportunity A is already linked: the gate passes, the service refuses.
    ("link opportunity", "POST", PL + "/opportunities", {"opportunity": "{opportunity_a}"},
                                                                            (422, 422, 422, 422, 403, 403, 422, 422, 403, 404, 404)),
    ("unlink opportunity", "DELETE", PL + "/opportunities/{opportunity_a}", None,
                                                                            (204, 204, 204, 204, 403, 403, 204, 204, 403, 404, 404)),
    ("create account plan", "POST", "/api/account-plans", {"account": "{account_a}", "partner": "{partner_a}", "title": "New plan"},
                                                                            (201, 201, 201, 201, 403, 403, 201, 201, 403, 422, 422)),
]
API_LISTS: list[str] = [
    "/api/proposals", "/api/proposals?partner={partner_a}", "/api/proposals?opportunity={opportunity_a}", "/api/proposals?q=Deal",
    "/api/account-plans", "/api/account-plans?account={account_a}", "/api/account-plans?partner={partner_a}",
    "/api/account-plans?q=Customer",
]


def build(world) -> None:
    from covey.joint import services
    from covey.joint.models import AccountPlanStep, LineKind, ProposalLine

    w = world
    w.proposal_a = services.proposal_create(
        opportunity=w.opportunity_a, partner=w.partner_a, actor=w.a_rep, title="Alpha and Acme proposal for Customer A",
    )
    w.proposal_line_a = w.proposal_a.lines.get(kind=LineKind.VENDOR_PRODUCT)
    w.proposal_service_a = ProposalLine.objects.create(
        proposal=w.proposal_a, kind=LineKind.PARTNER_SERVICE, description="Alpha rollout workshop", quantity=3,
        unit_price_minor=250_000,
    )
    w.account_plan_a = services.plan_create(
        account=w.account_a, partner=w.partner_a, actor=w.partner_manager, title="Customer A expansion plan",
        vendor_owner=w.partner_manager, partner_owner=w.a_admin, target_products=[w.product],
        vendor_goals="Land the platform in two regions", partner_goals="Run the rollout programme",
    )
    w.account_plan_a.opportunities.add(w.opportunity_a)
    w.account_plan_step_a = AccountPlanStep.objects.create(plan=w.account_plan_a, text="Map the buying committee", owner_side="partner", owner=w.a_rep)


def ids(world) -> dict[str, str]:
    return {
        "proposal_a": world.proposal_a.public_id,
        "proposal_line_a": world.proposal_line_a.public_id,
        "proposal_service_a": world.proposal_service_a.public_id,
        "account_plan_a": world.account_plan_a.public_id,
        "account_plan_step_a": world.account_plan_step_a.public_id,
        "opportunity_b": world.opportunity_b.public_id,
    }


def secrets(world) -> list[str]:
    return [
        world.proposal_a.title, world.proposal_a.public_id, world.proposal_line_a.public_id,
        world.proposal_service_a.description, world.proposal_service_a.public_id,
        world.account_plan_a.title, world.account_plan_a.public_id, world.account_plan_step_a.text, world.account_plan_step_a.public_id,
    ]


def state():
    from covey.joint.models import AccountPlanStep, JointAccountPlan, JointProposal, ProposalLine

    return (
        list(JointProposal.objects.values_list("public_id", "status", "title", "notes", "decided_by_id").order_by("id")),
        list(ProposalLine.objects.values_list("public_id", "quantity", "unit_price_minor", "discount_percent").order_by("id")),
        list(JointAccountPlan.objects.values_list("public_id", "title", "vendor_goals", "status").order_by("id")),
        list(JointAccountPlan.opportunities.through.objects.values_list("jointaccountplan_id", "opportunity_id").order_by("id")),
        list(AccountPlanStep.objects.values_list("public_id", "text", "done").order_by("id")),
    )
