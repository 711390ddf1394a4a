"""Access rows for tier reviews (the contract is in tests/access_rows/__init__.py).

``build`` makes two programs of its own (Silver, and Gold that asks only for zero won deals, so both
partners are proposed for promotion), enrols A and B at Silver in both, records a satisfaction score
for A and takes the first program's review (the second is left for the "take a review" row). Reviews and proposals are the vendor's: a partner user is not told
they exist. A's progress page is A's and the vendor's; partner_manager owns A, so with the admin it
decides A's proposal and records A's scores; other_manager sees them but may not.
"""

from __future__ import annotations

from datetime import timedelta

from tests.matrix import PARTNER_A, PARTNER_B, READ_A, VENDOR, Route, expect, rest

MANAGERS_A = ("vendor_admin", "partner_manager")
RUNNERS = ("vendor_admin", "partner_manager", "other_manager")
VENDOR_PAGE = expect(ok=VENDOR, hidden=PARTNER_A + PARTNER_B)
DECIDE_A = expect(ok=MANAGERS_A, forbidden=rest(MANAGERS_A, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B)
MANAGE_A = expect(ok=MANAGERS_A, forbidden=rest(MANAGERS_A, PARTNER_B), hidden=PARTNER_B)
REVIEW = {"public_id": "tier_review.public_id"}

WEB_ROUTES: dict[str, Route] = {
    "tier_review_list": Route(VENDOR_PAGE),
    "tier_review_run": Route(expect(ok=RUNNERS, forbidden=rest(RUNNERS, PARTNER_A, PARTNER_B), hidden=PARTNER_A + PARTNER_B),
                             method="POST"),
    "tier_review_detail": Route(VENDOR_PAGE, kwargs=REVIEW),
    "tier_proposal_decide": Route(DECIDE_A, method="POST", kwargs={"public_id": "tier_proposal_a.public_id"}),
    "my_tier": Route(expect(ok=PARTNER_A + PARTNER_B, hidden=VENDOR)),
    "tier_progress": Route(READ_A, kwargs={"public_id": "partner_a.public_id"}),
    "satisfaction_record": Route(MANAGE_A, method="POST", kwargs={"public_id": "partner_a.public_id"}),
}

SCORE = {"score": "8.5", "measured_on": "2026-01-15", "source": "Survey"}
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("take tier review", "POST", "/api/tier-reviews", {"program": "{tier_program_unreviewed}"},
                                                                             (201, 201, 201, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("list tier proposals", "GET", "/api/tier-reviews/{tier_review}/proposals", None,
                                                                             (200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404)),
    ("decide tier proposal", "POST", "/api/tier-proposals/{tier_proposal_a}/decide", {},
                                                                             (200, 200, 403, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("tier progress", "GET", "/api/partners/{partner_a}/tier-progress", None,
                                                                             (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("record satisfaction", "POST", "/api/partners/{partner_a}/satisfaction", SCORE,
                                                                             (201, 201, 403, 403, 403, 403, 403, 403, 403, 404, 404)),
]
API_LISTS: list[str] = ["/api/tier-reviews", "/api/tier-reviews?program={tier_program}"]


def _program(w, name: str, start, before):
    from covey.programs import services as programs

    program = programs.program_create(name=name, currency="USD", actor=w.vendor_admin, today=before)
    draft = program.versions.get()
    programs.version_update(version=draft, actor=w.vendor_admin, effective_from=start, today=before)
    programs.tier_save(version=draft, actor=w.vendor_admin, code="silver", name="Silver", rank=1, today=before)
    programs.tier_save(version=draft, actor=w.vendor_admin, code="gold", name="Gold", rank=2, min_deals=0, today=before)
    programs.version_publish(version=draft, actor=w.vendor_admin, today=before)
    for partner in (w.partner_a, w.partner_b):
        programs.enrol(partner=partner, program=program, tier_code="silver", starts_on=start, actor=w.vendor_admin)
    return program


def build(world) -> None:
    from django.utils import timezone

    from covey.programs.services import quarter_start_of
    from covey.tierreviews import services

    w = world
    today = timezone.localdate()
    start = quarter_start_of(today - timedelta(days=200))
    before = start - timedelta(days=1)
    w.tier_program = _program(w, "Tier review access program", start, before)
    w.tier_program_unreviewed = _program(w, "Tier review access program, not yet reviewed", start, before)
    w.satisfaction_a = services.satisfaction_record(partner=w.partner_a, score="7.5", measured_on=today,
                                                    source_text="Alpha customer pulse survey", actor=w.partner_manager)
    w.tier_review = services.review_run(program=w.tier_program, actor=w.vendor_admin)
    w.tier_proposal_a = w.tier_review.proposals.get(partner=w.partner_a)


def ids(world) -> dict[str, str]:
    w = world
    return {"tier_program": w.tier_program.public_id, "tier_program_unreviewed": w.tier_program_unreviewed.public_id,
            "tier_review": w.tier_review.public_id,
            "tier_proposal_a": w.tier_proposal_a.public_id}


def secrets(world) -> list[str]:
    return [world.tier_proposal_a.public_id, world.satisfaction_a.source]


def state():
    from covey.programs.models import Enrolment
    from covey.tierreviews.models import SatisfactionScore, TierProposal, TierReview

    return (
        TierReview.objects.count(),
        list(TierProposal.objects.values_list("public_id", "status", "decided_tier").order_by("id")),
        SatisfactionScore.objects.count(),
        list(Enrolment.objects.values_list("partner_id", "tier_code", "starts_on", "ends_on").order_by("id")),
    )
