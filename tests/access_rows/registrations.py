"""Access rows for the registrations feature (the contract is in tests/access_rows/__init__.py).

Partner A has a submitted registration (holding the account), an approved one and one whose
extension request waits for a decision; partner B registered A's account too (so it sits in the
conflict queue, and B must learn nothing but "already registered") and has one of its own.
partner_manager owns partner A, so with the admin they review A's registrations; other_manager
sees them but may not decide.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.matrix import ADMIN_ONLY, EVERYONE, PARTNER_B, READ_A, Route, expect, rest

REVIEWERS_A = ("vendor_admin", "partner_manager")
REVIEW_A = expect(ok=REVIEWERS_A, forbidden=rest(REVIEWERS_A, PARTNER_B), hidden=PARTNER_B)
EXTENDERS_A = ("a_admin", "a_rep")
EXTEND_A = expect(ok=EXTENDERS_A, forbidden=rest(EXTENDERS_A, PARTNER_B), hidden=PARTNER_B)
REGISTRANTS = ("vendor_admin", "partner_manager", "other_manager", "a_admin", "a_rep", "b_admin", "b_rep")
CONFLICT_MANAGERS = ("vendor_admin", "partner_manager", "other_manager")
REG_A = {"public_id": "registration_a.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "registration_list": Route(EVERYONE),
    "registration_create": Route(expect(ok=REGISTRANTS, forbidden=rest(REGISTRANTS))),
    "registration_detail": Route(READ_A, kwargs=REG_A),
    "registration_submitted": Route(READ_A, kwargs=REG_A),
    "registration_start_review": Route(REVIEW_A, method="POST", kwargs=REG_A),
    "registration_approve": Route(REVIEW_A, method="POST", kwargs=REG_A),
    "registration_reject": Route(REVIEW_A, method="POST", kwargs=REG_A),
    "registration_convert": Route(REVIEW_A, method="POST", kwargs={"public_id": "registration_approved_a.public_id"}),
    "registration_extension_request": Route(
        EXTEND_A, method="POST", kwargs={"public_id": "registration_approved_a.public_id"},
    ),
    "registration_extension_decide": Route(
        REVIEW_A, method="POST", kwargs={"public_id": "registration_extending_a.public_id"},
    ),
    "registration_conflicts": Route(expect(ok=CONFLICT_MANAGERS, forbidden=rest(CONFLICT_MANAGERS))),
    "registration_conflict_resolve": Route(
        expect(ok=CONFLICT_MANAGERS, forbidden=rest(CONFLICT_MANAGERS)), method="POST",
    ),
    "registration_settings": Route(ADMIN_ONLY),
}

FUTURE = (date.today() + timedelta(days=90)).isoformat()
NEW_REGISTRATION = {
    "company_name": "Hooli XYZ", "domain": "https://www.hooli-xyz.com/", "value": {"amount": "50000.00", "currency": "USD"},
    "expected_close": FUTURE, "partner": "{partner_a}",
}
REG = "/api/registrations/{registration_a}"
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("read registration", "GET", REG, None,                                  (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    # Partner B naming A as the partner is refused like any other partner's id (422, nothing stored).
    ("register deal", "POST", "/api/registrations", NEW_REGISTRATION,      (201, 201, 201, 403, 403, 403, 201, 201, 403, 422, 422)),
    ("start review", "POST", REG + "/review", None,                          (200, 200, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("approve registration", "POST", REG + "/approve", None,                 (200, 200, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("reject registration", "POST", REG + "/reject", {"reason": "Not a fit for the program"},
                                                                            (200, 200, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("convert registration", "POST", "/api/registrations/{registration_approved_a}/convert", None,
                                                                            (200, 200, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("request extension", "POST", "/api/registrations/{registration_approved_a}/extension", {"reason": "Budget moved to Q3"},
                                                                            (403, 403, 403, 403, 403, 403, 200, 200, 403, 404, 404)),
    ("decide extension", "POST", "/api/registrations/{registration_extending_a}/extension-decision", {"grant": True},
                                                                            (200, 200, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
    ("conflict queue", "GET", "/api/registration-conflicts", None,           (200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403)),
    ("resolve conflict", "POST", "/api/registration-conflicts/resolve", {"domain": "umbrella-analytics.com", "outcome": "award_first"},
                                                                            (200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403)),
    ("read program", "GET", "/api/registration-program", None,              (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("change program", "PATCH", "/api/registration-program", {"protection_days": 120},
                                                                            (200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403)),
]
API_LISTS: list[str] = [
    "/api/registrations", "/api/registrations?partner={partner_a}", "/api/registrations?q=umbrella",
    "/api/registrations?status=submitted",
]

A_COMPANY = "Umbrella Analytics GmbH"


def build(world) -> None:
    from django.utils import timezone

    from covey.core.money import Money
    from covey.registrations import services
    from covey.registrations.models import Registration

    def submit(user, partner, name, domain):
        return services.submit(
            partner=partner, actor=user, submission=services.Submission(
                company_name=name, domain=domain, value=Money(3_000_000, "USD"),
                expected_close=date.today() + timedelta(days=90), evidence="Joint workshop",
            ),
        )

    world.registration_a = submit(world.a_rep, world.partner_a, A_COMPANY, "https://www.umbrella-analytics.com/de")
    world.registration_approved_a = submit(world.a_rep, world.partner_a, "Approved Prospect A", "approved-a.com")
    world.registration_extending_a = submit(world.a_admin, world.partner_a, "Extending Prospect A", "extending-a.com")
    now = timezone.now()
    for reg, extension in ((world.registration_approved_a, None), (world.registration_extending_a, now)):
        Registration.objects.filter(pk=reg.pk).update(
            status="approved", decided_at=now, decided_by=world.partner_manager, protection_starts_at=now,
            protection_expires_at=now + timedelta(days=90), extension_requested_at=extension,
            extension_reason="Customer budget moved" if extension else "",
        )
    # Partner B registers A's account with another spelling: a conflict B may know only as "already registered".
    world.registration_conflict_b = submit(world.b_rep, world.partner_b, "UMBRELLA analytics", "umbrella-analytics.com")
    world.registration_b = submit(world.b_rep, world.partner_b, "Beta's Own Prospect", "beta-prospect.com")


def ids(world) -> dict[str, str]:
    return {
        "registration_a": world.registration_a.public_id,
        "registration_approved_a": world.registration_approved_a.public_id,
        "registration_extending_a": world.registration_extending_a.public_id,
        "registration_b": world.registration_b.public_id,
    }


def secrets(world) -> list[str]:
    return [
        A_COMPANY, world.registration_a.public_id, world.registration_approved_a.public_id,
        world.registration_extending_a.public_id, "Approved Prospect A", "Extending Prospect A",
    ]


def state():
    from covey.registrations.models import ConflictResolution, Registration, RegistrationProgram

    return (
        list(Registration.objects.values_list(
            "public_id", "status", "holds_claim", "extension_requested_at", "extension_granted", "opportunity_id",
        ).order_by("id")),
        ConflictResolution.objects.count(),
        list(RegistrationProgram.objects.values_list("protection_days", "minimums")),
    )
