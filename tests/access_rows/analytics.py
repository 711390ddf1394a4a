"""Access rows for analytics (the contract is in tests/access_rows/__init__.py).

``build`` adds a target for A and one for a tier, and a scorecard note on A (no deals of its own: the
core world's deals are the figures, and other tests count each partner's deals). The program dashboard, targets and settings are the
vendor's; each partner has its own dashboard and scorecard; B never sees A's figures, names or ids.
"""

from __future__ import annotations

from tests.matrix import EVERYONE, PARTNER_A, PARTNER_B, READ_A, VENDOR, Route, expect, rest

QUARTER = "2026Q2"
MANAGERS_A = ("vendor_admin", "partner_manager")
SETTERS = ("vendor_admin", "partner_manager", "other_manager")
PARTNERS = PARTNER_A + PARTNER_B
CARD_A = {"public_id": "partner_a.public_id", "quarter": f"={QUARTER}"}

WEB_ROUTES: dict[str, Route] = {
    "analytics_dashboard": Route(expect(ok=VENDOR, hidden=PARTNERS)),
    "analytics_partner_dashboard": Route(expect(ok=PARTNERS, hidden=VENDOR)),
    "analytics_definitions": Route(EVERYONE),
    "analytics_records": Route(EVERYONE, kwargs={"key": "=sourced_revenue"}),
    "analytics_my_scorecard": Route(expect(ok=PARTNERS, hidden=VENDOR)),
    "analytics_scorecard": Route(READ_A, kwargs=CARD_A),
    "analytics_qbr_pdf": Route(READ_A, kwargs=CARD_A),
    "analytics_scorecard_note": Route(expect(ok=MANAGERS_A, forbidden=rest(MANAGERS_A, PARTNER_B), hidden=PARTNER_B),
                                      method="POST", kwargs=CARD_A),
    "analytics_targets": Route(expect(ok=VENDOR, hidden=PARTNERS)),
    "analytics_target_edit": Route(expect(ok=SETTERS, forbidden=rest(SETTERS, PARTNERS), hidden=PARTNERS),
                                   kwargs={"public_id": "analytics_target_a.public_id"}),
    "analytics_target_delete": Route(expect(ok=SETTERS, forbidden=rest(SETTERS, PARTNERS), hidden=PARTNERS),
                                     method="POST", kwargs={"public_id": "analytics_target_a.public_id"}),
    "analytics_settings": Route(expect(ok=("vendor_admin",), forbidden=rest(("vendor_admin",), PARTNERS), hidden=PARTNERS)),
}

TARGET = {"period": QUARTER, "measure": "deals_sourced", "partner": "{partner_a}", "value": "7"}
#                                                                            admin  pm   pm2  rep  fin  exec a_adm a_rep a_ro b_adm b_rep
API_TABLE: list[tuple] = [
    ("analytics metrics", "GET", f"/api/analytics/metrics?period={QUARTER}", None,
                                                                             (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("analytics metrics of partner A", "GET", f"/api/analytics/metrics?period={QUARTER}&partner={{partner_a}}", None,
                                                                             (200, 200, 200, 200, 200, 200, 200, 200, 200, 422, 422)),
    ("analytics scorecard of A", "GET", "/api/analytics/scorecards/{partner_a}/{analytics_quarter}", None,
                                                                             (200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 404)),
    ("analytics targets", "GET", "/api/analytics/targets", None,
                                                                             (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("set analytics target", "POST", "/api/analytics/targets", TARGET,
                                                                             (201, 201, 201, 403, 403, 403, 404, 404, 404, 404, 404)),
    ("change analytics target", "PATCH", "/api/analytics/targets/{analytics_target_a}", {"value": "50000.00"},
                                                                             (200, 200, 200, 403, 403, 403, 404, 404, 404, 404, 404)),
]
API_LISTS: list[str] = ["/api/analytics/targets", f"/api/analytics/metrics?period={QUARTER}"]


def build(world) -> None:
    from covey.analytics.models import ScorecardNote, Target

    w = world
    w.analytics_target_a = Target.objects.create(period_key=QUARTER, partner=w.partner_a, measure="revenue_closed",
                                                 amount_minor=4_000_000, created_by=w.partner_manager)
    w.analytics_tier_target = Target.objects.create(period_key=QUARTER, tier_code="silver", measure="deals_sourced",
                                                    value=2, created_by=w.partner_manager)
    w.analytics_note_a = ScorecardNote.objects.create(partner=w.partner_a, period_key=QUARTER,
                                                      text="Alpha plans a joint webinar series", updated_by=w.partner_manager)


def ids(world) -> dict[str, str]:
    return {"analytics_target_a": world.analytics_target_a.public_id, "analytics_quarter": QUARTER}


def secrets(world) -> list[str]:
    return [world.analytics_target_a.public_id, world.analytics_note_a.text]


def state():
    from covey.analytics.models import AnalyticsSettings, ScorecardNote, Target

    return (
        list(Target.objects.values_list("public_id", "measure", "amount_minor", "value").order_by("id")),
        list(ScorecardNote.objects.values_list("partner_id", "period_key", "text").order_by("id")),
        list(AnalyticsSettings.objects.values_list("active_rule", "overhead_per_quarter_minor", "green_at", "amber_at")),
    )
