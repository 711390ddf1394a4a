"""Access rows for market development funds (the contract is in tests/access_rows/__init__.py).

``build`` makes its own program ("MDF access program", Gold 10,000.00 a quarter), enrols A and B,
takes this quarter's budget (second approval above 8,000.00), generates both allocations and raises
A's to 50,000.00. A then has four requests: one awaiting its manager, one awaiting the second
approval (approved by partner_manager), one approved and ended (claimable), one claimed with an
invoice (for finance). B has one request awaiting its manager.

Budgets are the vendor's: a partner user gets 404. Requests and claims are the partner's and the
vendor's; partner_manager owns A, so with the admin it adjusts A's allocation and decides A's requests;
other_manager sees but may not. Only partner admins and reps request and claim; only an admin gives
the second approval; finance and admins decide claims.
"""

from __future__ import annotations

import base64
from datetime import timedelta

from tests.matrix import PARTNER_A, PARTNER_B, READ_A, SIGNED_IN, VENDOR, Route, expect, rest

EVERYONE = expect(ok=SIGNED_IN)
VENDOR_PAGE = expect(ok=VENDOR, hidden=PARTNER_A + PARTNER_B)
ADMIN = ("vendor_admin",)
MANAGERS_A = ("vendor_admin", "partner_manager")
ALLOCATORS = ("vendor_admin", "partner_manager", "other_manager")
WRITERS_A = ("a_admin", "a_rep")
FINANCE = ("vendor_admin", "finance")


def _a_only(ok):
    """``ok`` may; everyone else who sees A's object is refused (403); partner B is not told it exists."""
    return expect(ok=ok, forbidden=rest(ok, PARTNER_B), hidden=PARTNER_B)


WEB_ROUTES: dict[str, Route] = {
    "mdf_budget_list": Route(VENDOR_PAGE),
    "mdf_budget_create": Route(expect(ok=ADMIN, forbidden=rest(ADMIN, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B),
                               method="POST"),
    "mdf_budget_detail": Route(VENDOR_PAGE, kwargs={"public_id": "mdf_budget.public_id"}),
    "mdf_allocations_generate": Route(expect(ok=ALLOCATORS, forbidden=rest(ALLOCATORS, PARTNER_A, PARTNER_B),
                                             hidden=PARTNER_A + PARTNER_B),
                                      method="POST", kwargs={"public_id": "mdf_budget.public_id"}),
    "mdf_allocation_adjust": Route(expect(ok=MANAGERS_A, forbidden=rest(MANAGERS_A, PARTNER_A, PARTNER_B),
                                          hidden=PARTNER_A + PARTNER_B),
                                   method="POST", kwargs={"public_id": "mdf_alloc_a.public_id"}),
    "mdf_request_list": Route(EVERYONE),
    "mdf_request_create": Route(expect(ok=WRITERS_A + PARTNER_B, forbidden=rest(WRITERS_A, PARTNER_B))),
    "mdf_request_detail": Route(READ_A, kwargs={"public_id": "mdf_request_a.public_id"}),
    "mdf_request_decide": Route(_a_only(MANAGERS_A), method="POST", kwargs={"public_id": "mdf_request_a.public_id"}),
    "mdf_request_second_approve": Route(_a_only(ADMIN), method="POST", kwargs={"public_id": "mdf_request_a_big.public_id"}),
    "mdf_claim_create": Route(_a_only(WRITERS_A), method="POST", kwargs={"public_id": "mdf_request_a_approved.public_id"}),
    "mdf_claim_decide": Route(_a_only(FINANCE), method="POST", kwargs={"public_id": "mdf_claim_a.public_id"}),
    "mdf_claim_file": Route(READ_A, kwargs={"public_id": "mdf_file_a.public_id"}),
    "mdf_roi": Route(EVERYONE),
}

PDF64 = base64.b64encode(b"%PDF-1.4\n% access invoice\n%%EOF\n").decode()
REQUEST = {"allocation": "{mdf_alloc_a}", "activity_type": "event", "title": "Regional roadshow", "starts_on": "2026-01-10",
           "ends_on": "2026-01-11", "planned_cost": {"amount": "1000.00"}, "co_investment_percent": "25",
           "campaign_code": "ROAD-1"}
CLAIM = {"actual_cost": {"amount": "900.00"}, "leads_count": 12,
         "files": [{"kind": "invoice", "name": "invoice.pdf", "content_base64": PDF64}]}
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("create mdf budget", "POST", "/api/mdf/budgets", {"program": "{mdf_program}", "period_key": "2030Q1", "amount": {"amount": "1000.00"}},
                                                                             (201, 403, 403, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("generate mdf allocations", "POST", "/api/mdf/budgets/{mdf_budget}/allocations/generate", None,
                                                                             (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("adjust mdf allocation", "POST", "/api/mdf/allocations/{mdf_alloc_a}/adjust", {"amount": {"amount": "60000.00"}, "reason": "Launch"},
                                                                             (200, 200, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("request mdf", "POST", "/api/mdf/requests", REQUEST,                    (403, 403, 403, 403, 403, 403, 201, 201, 403, 422, 422)),
    ("mdf request", "GET", "/api/mdf/requests/{mdf_request_a}", None,        (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("decide mdf request", "POST", "/api/mdf/requests/{mdf_request_a}/decide", {"approve": True},
                                                                             (200, 200, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("second-approve mdf request", "POST", "/api/mdf/requests/{mdf_request_a_big}/second-approval", {"approve": True},
                                                                             (200, 403, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("claim mdf", "POST", "/api/mdf/requests/{mdf_request_a_approved}/claims", CLAIM,
                                                                             (403, 403, 403, 403, 403, 403, 201, 201, 403, 404, 404)),
    ("decide mdf claim", "POST", "/api/mdf/claims/{mdf_claim_a}/decide", {"approve": True},
                                                                             (200, 403, 403, 403, 200, 403, 403, 403, 403, 404, 404)),
]
API_LISTS: list[str] = ["/api/mdf/budgets", "/api/mdf/allocations", "/api/mdf/requests", "/api/mdf/requests?status=submitted",
                        "/api/mdf/claims", "/api/mdf/roi", "/api/mdf/roi?program={mdf_program}"]


def build(world) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from covey.core.models import VendorSettings
    from covey.mdf import services
    from covey.programs import services as programs
    from covey.programs.services import quarter_start_of

    w = world
    today = timezone.localdate()
    start = quarter_start_of(today - timedelta(days=200))
    before = start - timedelta(days=1)
    program = programs.program_create(name="MDF access program", currency="USD", actor=w.vendor_admin, today=before)
    draft = program.versions.get()
    programs.version_update(version=draft, actor=w.vendor_admin, effective_from=start, today=before)
    programs.tier_save(version=draft, actor=w.vendor_admin, code="gold", name="Gold", rank=1,
                       mdf_allowance_minor=1_000_000, today=before)
    programs.version_publish(version=draft, actor=w.vendor_admin, today=before)
    for partner in (w.partner_a, w.partner_b):
        programs.enrol(partner=partner, program=program, tier_code="gold", starts_on=start, actor=w.vendor_admin)
    quarter = VendorSettings.current().calendar.quarter_of(today)
    budget = services.budget_create(program=program, period_key=quarter.key, amount_minor=20_000_000,
                                    second_approval_above_minor=800_000, actor=w.vendor_admin)
    services.allocations_generate(budget=budget, actor=w.vendor_admin)
    w.mdf_program, w.mdf_budget = program, budget
    w.mdf_alloc_a = budget.allocations.get(partner=w.partner_a)
    w.mdf_alloc_b = budget.allocations.get(partner=w.partner_b)
    services.allocation_adjust(allocation=w.mdf_alloc_a, amount_minor=5_000_000, reason="Launch quarter",
                               actor=w.partner_manager)

    def ask(title, cost, code, *, allocation=None, actor=None):
        return services.request_create(
            allocation=allocation or w.mdf_alloc_a, actor=actor or w.a_rep, activity_type="webinar", title=title,
            starts_on=today - timedelta(days=3), ends_on=today - timedelta(days=2), planned_cost_minor=cost,
            co_investment_percent="30", campaign_code=code, expected_leads=10)

    w.mdf_request_a = ask("Alpha confidential launch webinar", 1_000_000, "ALPHA-SECRET-1")
    w.mdf_request_a_big = ask("Alpha flagship summit", 1_200_000, "ALPHA-SUMMIT")
    services.request_decide(request=w.mdf_request_a_big, actor=w.partner_manager, approve=True)
    w.mdf_request_a_approved = ask("Alpha partner day", 100_000, "ALPHA-DAY")
    services.request_decide(request=w.mdf_request_a_approved, actor=w.partner_manager, approve=True)
    w.mdf_request_a_claimed = ask("Alpha ads sprint", 100_000, "ALPHA-ADS")
    services.request_decide(request=w.mdf_request_a_claimed, actor=w.partner_manager, approve=True)
    w.mdf_claim_a = services.claim_create(
        request=w.mdf_request_a_claimed, actor=w.a_rep, actual_cost_minor=90_000, leads_count=5,
        files=[("invoice", SimpleUploadedFile("alpha-ads-invoice.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"))])
    w.mdf_file_a = w.mdf_claim_a.files.get()
    w.mdf_request_b = ask("Beta booth", 100_000, "BETA-BOOTH", allocation=w.mdf_alloc_b, actor=w.b_rep)


def ids(world) -> dict[str, str]:
    w = world
    return {"mdf_program": w.mdf_program.public_id, "mdf_budget": w.mdf_budget.public_id,
            "mdf_alloc_a": w.mdf_alloc_a.public_id, "mdf_request_a": w.mdf_request_a.public_id,
            "mdf_request_a_big": w.mdf_request_a_big.public_id,
            "mdf_request_a_approved": w.mdf_request_a_approved.public_id, "mdf_claim_a": w.mdf_claim_a.public_id}


def secrets(world) -> list[str]:
    w = world
    return [w.mdf_request_a.title, w.mdf_request_a.public_id, w.mdf_request_a.campaign_code, w.mdf_claim_a.public_id,
            w.mdf_file_a.name, w.mdf_alloc_a.public_id]


def state():
    from covey.mdf.models import Allocation, Budget, Claim, ClaimFile, FundRequest
    from covey.payouts.models import LedgerEntry

    return (
        list(Budget.objects.values_list("public_id", "amount_minor", "reserved_minor", "spent_minor").order_by("id")),
        list(Allocation.objects.values_list("public_id", "amount_minor", "reserved_minor", "spent_minor").order_by("id")),
        list(FundRequest.objects.values_list("public_id", "status", "approved_minor").order_by("id")),
        list(Claim.objects.values_list("public_id", "status").order_by("id")),
        ClaimFile.objects.count(),
        LedgerEntry.objects.count(),
    )
