"""Recognition, the ecosystem map and the notification inbox over the API: the same figures as the
pages, the rules' validation, and everyone's inbox being their own. (Who may call what is in the
access tables; this file checks what the answers say.)"""

from __future__ import annotations

from decimal import Decimal

import pytest

from covey.core.models import Notification
from covey.recognition.models import Award, AwardKind, AwardRule
from tests.test_api import as_user, assert_error
from tests.test_ecosystem import eco  # noqa: F401 (fixture)
from tests.test_recognition import q1_world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


# --- recognition ----------------------------------------------------------------------------------


def test_leaderboards_then_awards_then_the_partner_sees_only_its_own(q1_world):  # noqa: F811 (the fixture)
    w = q1_world
    pm = as_user(w.partner_manager)
    boards = pm.get("/api/recognition/leaderboards", {"period": "2026Q1"}).json()
    assert boards["period"] == "2026Q1"
    top = next(b for b in boards["boards"] if b["rule"]["kind"] == AwardKind.TOP_COSELLER)
    assert [leader["partner"]["name"] for leader in top["leaders"]] == ["Alpha Integrations", "Beta Resellers"]

    given = pm.post("/api/recognition/awards/run", {"period": "2026Q1"}).json()
    assert given["period"] == "2026Q1"
    assert sorted((a["kind"], a["partner"]["name"]) for a in given["given"]) == sorted([
        (AwardKind.TOP_COSELLER, "Alpha Integrations"), (AwardKind.FASTEST_RAMP, "Alpha Integrations"),
        (AwardKind.BEST_OUTCOMES, "Beta Resellers")])
    assert pm.post("/api/recognition/awards/run", {"period": "2026Q1"}).json()["given"] == []  # once only
    assert Award.objects.count() == 3

    everything = pm.get("/api/recognition/awards").json()
    assert everything["count"] == 3
    assert pm.get("/api/recognition/awards", {"partner": w.partner_b.public_id}).json()["count"] == 1
    assert pm.get("/api/recognition/awards", {"q": "alpha"}).json()["count"] == 2
    assert pm.get("/api/recognition/awards", {"kind": AwardKind.FASTEST_RAMP}).json()["items"][0]["value"] == "45 days"

    alpha = as_user(w.a_rep).get("/api/recognition/awards").json()
    assert alpha["count"] == 2 and {a["partner"]["name"] for a in alpha["items"]} == {"Alpha Integrations"}
    # A partner filtering by the other partner's id learns nothing: the filter is vendor-only.
    assert as_user(w.a_rep).get("/api/recognition/awards", {"partner": w.partner_b.public_id}).json()["count"] == 2


def test_bad_periods_are_field_errors(q1_world):  # noqa: F811 (the fixture)
    pm = as_user(q1_world.partner_manager)
    assert_error(pm.get("/api/recognition/leaderboards", {"period": "2026"}), 422, "validation_error", "period")  # a year
    assert_error(pm.get("/api/recognition/awards", {"period": "nonsense"}), 422, "validation_error", "period")
    assert_error(pm.post("/api/recognition/awards/run", {"period": "2026Q9"}), 422, "validation_error", "period")
    assert Award.objects.count() == 0


def test_rules_change_and_bad_thresholds_change_nothing(q1_world):  # noqa: F811 (the fixture)
    admin = as_user(q1_world.vendor_admin)
    rules = {r["kind"]: r for r in admin.get("/api/recognition/rules").json()}
    assert set(rules) == set(AwardKind.values) and all(r["threshold_help"] for r in rules.values())

    changed = admin.patch(f"/api/recognition/rules/{AwardKind.TOP_COSELLER}", {"threshold": "25000", "enabled": False})
    assert changed.status_code == 200 and changed.json()["threshold"] == "25000.00" and changed.json()["enabled"] is False
    assert admin.patch(f"/api/recognition/rules/{AwardKind.TOP_COSELLER}", {"enabled": True}).json()["threshold"] == "25000.00"
    for bad in ({"threshold": "-1"}, {"threshold": "1e40"}, {"threshold": "0.001"}, {"threshold": "lots"},
                {"enabled": "maybe"}):
        assert_error(admin.patch(f"/api/recognition/rules/{AwardKind.TOP_COSELLER}", bad), 422, "validation_error")
    rule = AwardRule.objects.get(kind=AwardKind.TOP_COSELLER)
    assert (rule.threshold, rule.enabled) == (Decimal("25000"), True)
    assert_error(admin.patch("/api/recognition/rules/best_dancer", {"enabled": False}), 404, "not_found")

    board = as_user(q1_world.partner_manager).get("/api/recognition/leaderboards", {"period": "2026Q1"}).json()
    top = next(b for b in board["boards"] if b["rule"]["kind"] == AwardKind.TOP_COSELLER)
    assert [leader["partner"]["name"] for leader in top["leaders"]] == []  # 10,000.00 and 3,000.00 are under the new bar


# --- the ecosystem map ----------------------------------------------------------------------------


def test_ecosystem_numbers_match_the_map(eco):  # noqa: F811 (the fixture)
    body = as_user(eco.executive).get("/api/analytics/ecosystem", {"period": "2026Q1"}).json()
    assert body["period"] == "2026Q1" and body["base_currency"] == "USD" and body["missing_fx_rates"] == []
    assert {f["flow"]: (f["pipeline_minor"], f["revenue_minor"]) for f in body["flows"]} == {
        "referrals": (1_000_000, 1_000_000), "resale": (500_000, 0), "integrations": (0, 200_000),
        "services": (1_000_000, 1_000_000)}
    assert {(r["partner_type"], r["flow"]): r["revenue_minor"] for r in body["by_partner_type"]} == {
        ("system_integrator", "services"): 1_000_000, ("system_integrator", "integrations"): 200_000,
        ("reseller", "referrals"): 1_000_000, ("reseller", "resale"): 0}
    assert {(r["flow"], r["segment"]) for r in body["by_segment"]} == {
        ("services", "enterprise"), ("referrals", "enterprise"), ("resale", "smb"), ("integrations", "")}
    assert {"partner_type": "reseller", "region": "emea", "active": 0, "partners": 1} in body["coverage"]
    assert {"partner_type": "reseller", "region": "apac", "segment": None} in body["region_gaps"]
    assert {"partner_type": "reseller", "segment": "mid_market", "region": None} in body["segment_gaps"]
    assert [p["name"] for p in body["idle_partners"]] == ["Gamma Resale EMEA"]
    assert [p["name"] for p in body["partners_without_overlap"]] == ["Gamma Resale EMEA"]
    assert_error(as_user(eco.executive).get("/api/analytics/ecosystem", {"period": "soon"}), 422, "validation_error", "period")


# --- the notification inbox -----------------------------------------------------------------------


def test_my_inbox_filters_reads_and_is_only_mine(cast):
    for title in ("Registration approved", "Statement ready", "Award won"):
        Notification.objects.create(recipient=cast.a_rep, kind="registration.approved" if "Reg" in title else "other",
                                    title=title, body=f"{title} for Alpha", url="/")
    theirs = Notification.objects.create(recipient=cast.b_rep, kind="other", title="Beta only", body="", url="/")
    me = as_user(cast.a_rep)

    inbox = me.get("/api/notifications").json()
    assert inbox["count"] == 3 and inbox["unread"] == 3
    assert [n["title"] for n in inbox["items"]] == ["Award won", "Statement ready", "Registration approved"]
    assert me.get("/api/notifications", {"kind": "registration.approved"}).json()["count"] == 1
    assert me.get("/api/notifications", {"q": "statement"}).json()["items"][0]["title"] == "Statement ready"

    first = inbox["items"][0]["id"]
    read = me.post(f"/api/notifications/{first}/read").json()
    assert read["read_at"] is not None
    assert me.post(f"/api/notifications/{first}/read").json()["read_at"] == read["read_at"]  # the first read time stays
    assert me.get("/api/notifications", {"unread": True}).json()["count"] == 2
    assert me.get("/api/notifications", {"unread": False}).json()["items"][0]["id"] == first

    assert_error(me.post(f"/api/notifications/{theirs.public_id}/read"), 404, "not_found")
    assert me.post("/api/notifications/read-all").json() == {"marked": 2}
    assert me.post("/api/notifications/read-all").json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert as_user(cast.b_rep).get("/api/notifications").json()["unread"] == 1
