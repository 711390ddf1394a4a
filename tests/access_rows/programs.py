"""Access rows for the incentive-program builder (the contract is in tests/access_rows/__init__.py).

``build`` makes a program partner A is enrolled in (at Gold) and partner B is not: a published
version 1 governing the current quarter (locked), a draft version 2 with its tiers and rules copied,
and a published pilot version with A as its pilot partner. Partner users see only published
versions of programs they are enrolled in, so A gets 404 for the draft's pages and 403 for changes
to what it can see; B gets 404 for everything of the program. Admins and partner managers design
programs; other vendor staff read them.
"""

from __future__ import annotations

from tests.matrix import EVERYONE, PARTNER_A, PARTNER_B, VENDOR, Route, expect, rest

DESIGNERS = ("vendor_admin", "partner_manager", "other_manager")
READ_PROGRAM = expect(ok=VENDOR + PARTNER_A, hidden=PARTNER_B)
# Something partner A can see (the program, a published version): A is refused, B is not told it exists.
DESIGN_SEEN = expect(ok=DESIGNERS, forbidden=rest(DESIGNERS, PARTNER_B), hidden=PARTNER_B)
# A draft: invisible to every partner user.
DESIGN_DRAFT = expect(ok=DESIGNERS, forbidden=rest(DESIGNERS, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B)

PROGRAM = {"public_id": "program_a.public_id"}
DRAFT = {"public_id": "draft_a.public_id"}
TIER = {"public_id": "draft_tier_a.public_id"}
RULE = {"public_id": "draft_rule_a.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "program_list": Route(EVERYONE),
    "program_create": Route(expect(ok=DESIGNERS, forbidden=rest(DESIGNERS))),
    # A partner user is taken to its guide; the builder is the vendor's.
    "program_detail": Route(READ_PROGRAM, kwargs=PROGRAM),
    "program_edit": Route(DESIGN_SEEN, kwargs=PROGRAM),
    "version_create": Route(DESIGN_SEEN, method="POST", kwargs=PROGRAM),
    "version_edit": Route(DESIGN_DRAFT, kwargs=DRAFT),
    "version_publish": Route(DESIGN_DRAFT, kwargs=DRAFT),
    "version_pilot": Route(DESIGN_DRAFT, kwargs=DRAFT),
    "version_roll_out": Route(DESIGN_SEEN, kwargs={"public_id": "pilot_a.public_id"}),
    "tier_create": Route(DESIGN_DRAFT, kwargs=DRAFT),
    "tier_edit": Route(DESIGN_DRAFT, kwargs=TIER),
    "tier_delete": Route(DESIGN_DRAFT, kwargs=TIER),
    "rule_create": Route(DESIGN_DRAFT, kwargs=DRAFT, query="?kind=spiff"),
    "rule_edit": Route(DESIGN_DRAFT, kwargs=RULE),
    "rule_delete": Route(DESIGN_DRAFT, kwargs=RULE),
    # Any partner manager may open the form; saving checks they own the partner chosen.
    "enrolment_create": Route(DESIGN_SEEN, kwargs=PROGRAM),
    "program_guide": Route(READ_PROGRAM, kwargs=PROGRAM),
    "program_guide_pdf": Route(READ_PROGRAM, kwargs=PROGRAM),
}

PRG = "/api/programs/{program_a}"
DRAFT_API = "/api/program-versions/{draft_a}"
TIER_API = "/api/program-tiers/{draft_tier_a}"
RULE_API = "/api/program-rules/{draft_rule_a}"
ENROL = {"partner": "{partner_a}", "tier_code": "silver", "starts_on": "2099-01-15", "reason": "Tier review"}
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("read program", "GET", PRG, None,                                       (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("create program", "POST", "/api/programs", {"name": "Referral program 2027", "currency": "EUR"},
                                                                             (201, 201, 201, 403, 403, 403, 403, 403, 403, 403, 403)),
    ("change program", "PATCH", PRG, {"summary": "Resell Alpha's way."},   (200, 200, 200, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("draft program version", "POST", PRG + "/versions", {},                (201, 201, 201, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("read program version", "GET", "/api/program-versions/{version_a}", None,
                                                                             (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("change program version", "PATCH", DRAFT_API, {"payout_delay_days": 45},
                                                                             (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("publish program version", "POST", DRAFT_API + "/publish", {},          (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("choose pilot partners", "PUT", DRAFT_API + "/pilot-partners", {"partners": ["{partner_a}"]},
                                                                             (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("roll out pilot", "POST", "/api/program-versions/{pilot_a}/roll-out", {},
                                                                             (200, 200, 200, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("add tier", "POST", DRAFT_API + "/tiers", {"code": "platinum", "name": "Platinum", "rank": 3},
                                                                             (201, 201, 201, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("change tier", "PATCH", TIER_API, {"name": "Gold Plus"},               (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("remove tier", "DELETE", TIER_API, None,                                (204, 204, 204, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("add rule", "POST", DRAFT_API + "/rules", {"kind": "clawback", "name": "Churn clawback", "params": {"within_days": "90"}},
                                                                             (201, 201, 201, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("change rule", "PATCH", RULE_API, {"name": "Reseller margin 2"},       (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("remove rule", "DELETE", RULE_API, None,                                (204, 204, 204, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("list enrolments", "GET", PRG + "/enrolments", None,                   (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    # partner_manager owns A; other_manager may enrol only its own partners.
    ("enrol partner", "POST", PRG + "/enrolments", ENROL,                   (201, 201, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("program guide", "GET", PRG + "/guide", None,                          (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
]
API_LISTS: list[str] = ["/api/programs", "/api/programs?q=reseller"]

MARGIN = {"currency": "USD", "bands": [{"from": "0", "to": "50000", "rates": {"silver": "15", "gold": "20"}},
                                       {"from": "50000", "rates": {"silver": "20", "gold": "25"}}]}


def build(world) -> None:
    from django.utils import timezone

    from covey.programs import services

    w = world
    today = timezone.localdate()
    w.program_a = services.program_create(name="Alpha Reseller Program", currency="USD", actor=w.vendor_admin,
                                          summary="Resale margins for integrators.")
    v1 = w.program_a.versions.get()
    services.tier_save(version=v1, actor=w.vendor_admin, code="silver", name="Silver", rank=1)
    services.tier_save(version=v1, actor=w.vendor_admin, code="gold", name="Gold", rank=2, perks=["Roadmap previews"])
    services.rule_save(version=v1, actor=w.vendor_admin, kind="resale_margin", name="Reseller margin", params=MARGIN)
    w.version_a = services.version_publish(version=v1, actor=w.vendor_admin)  # governs this quarter: locked
    w.enrolment_a = services.enrol(partner=w.partner_a, program=w.program_a, tier_code="gold",
                                   starts_on=services.quarter_start_of(today), actor=w.partner_manager)
    w.draft_a = services.version_draft(program=w.program_a, actor=w.vendor_admin, based_on=w.version_a)
    w.draft_tier_a = w.draft_a.tiers.get(code="gold")
    w.draft_rule_a = w.draft_a.rules.get()
    pilot = services.version_draft(program=w.program_a, actor=w.vendor_admin, based_on=w.version_a, pilot=True)
    services.pilot_partners_set(version=pilot, partners=[w.partner_a], actor=w.vendor_admin)
    w.pilot_a = services.version_publish(version=pilot, actor=w.vendor_admin)


def ids(world) -> dict[str, str]:
    w = world
    return {
        "program_a": w.program_a.public_id, "version_a": w.version_a.public_id, "draft_a": w.draft_a.public_id,
        "pilot_a": w.pilot_a.public_id, "draft_tier_a": w.draft_tier_a.public_id, "draft_rule_a": w.draft_rule_a.public_id,
    }


def secrets(world) -> list[str]:
    w = world
    return [w.program_a.name, w.program_a.public_id, w.version_a.public_id, w.draft_a.public_id, w.pilot_a.public_id,
            w.draft_tier_a.public_id, w.draft_rule_a.public_id, w.enrolment_a.public_id]


def state():
    from covey.programs.models import Enrolment, Program, ProgramVersion, Rule, Tier

    return (
        list(Program.objects.values_list("public_id", "name").order_by("id")),
        list(ProgramVersion.objects.values_list("public_id", "status", "payout_delay_days", "pilot", "effective_from")
             .order_by("id")),
        list(ProgramVersion.pilot_partners.through.objects.values_list("programversion_id", "partner_id").order_by("id")),
        list(Tier.objects.values_list("public_id", "name").order_by("id")),
        list(Rule.objects.values_list("public_id", "name", "params").order_by("id")),
        list(Enrolment.objects.values_list("public_id", "tier_code", "ends_on").order_by("id")),
    )
