"""Programs over the API: an integration builds a version (tiers, rules validated field by field),
publishes it, is refused (409, and the attempt recorded) when it changes the locked version, drafts
the next one, enrols a partner and reads the guide; a partner's token sees only its own side."""

from __future__ import annotations

import pytest
from django.utils import timezone

from covey.core.models import AuditEvent
from covey.programs import services
from covey.programs.models import Program, ProgramVersion, Rule, VersionStatus
from tests.test_api import as_user, assert_error

pytestmark = pytest.mark.django_db

SPIFF = {"currency": "USD", "amount": "250.00", "starts_on": "2026-01-05", "ends_on": "2026-03-31"}


def _built(cast):
    """A program with Silver and Gold tiers and a SPIFF, made through the API; answers (api, program id, version id)."""
    api = as_user(cast.vendor_admin)
    program = api.post("/api/programs", {"name": "Resale Program", "currency": "USD", "summary": "Resell and earn."}).json()
    version_id = program["versions"][0]["id"]
    for code, rank in (("silver", 1), ("gold", 2)):
        assert api.post(f"/api/program-versions/{version_id}/tiers", {"code": code, "name": code.title(), "rank": rank,
                                                                      "perks": ["Roadmap previews"]}).status_code == 201
    assert api.post(f"/api/program-versions/{version_id}/rules",
                    {"kind": "spiff", "name": "Winter SPIFF", "params": SPIFF}).status_code == 201
    return api, program["id"], version_id


def test_a_program_is_built_published_and_read_back(cast):
    api, program_id, version_id = _built(cast)
    version = api.get(f"/api/program-versions/{version_id}").json()
    assert [t["code"] for t in version["tiers"]] == ["silver", "gold"] and version["rules"][0]["kind"] == "spiff"
    published = api.post(f"/api/program-versions/{version_id}/publish", {}).json()
    assert published["status"] == "published" and published["locked"] is True
    listed = api.get("/api/programs").json()
    assert listed["count"] == 1 and listed["items"][0]["versions"][0]["locked"] is True


def test_a_rule_with_bad_parameters_is_a_422_naming_each_field(cast):
    api, _, version_id = _built(cast)
    response = api.post(f"/api/program-versions/{version_id}/rules", {"kind": "resale_margin", "name": "Margin", "params": {
        "currency": "USD", "bands": [{"from": "0", "to": "50000", "rates": {"gold": "20"}},
                                     {"from": "40000", "rates": {"gold": "120", "diamond": "5"}}]}})
    body = assert_error(response, 422, "validation_error")
    fields = {e["field"] for e in body["errors"]}
    assert {"params.bands.1.from", "params.bands.1.rates.gold", "params.bands.1.rates.diamond"} <= fields
    assert Rule.objects.count() == 1


def test_a_float_in_rule_parameters_is_refused(cast):
    api, _, version_id = _built(cast)
    response = api.post(f"/api/program-versions/{version_id}/rules",
                        {"kind": "spiff", "name": "Float SPIFF", "params": SPIFF | {"amount": 250.5}})
    assert_error(response, 422, "validation_error", field="params.amount")


def test_an_unknown_kind_is_a_422(cast):
    api, _, version_id = _built(cast)
    assert_error(api.post(f"/api/program-versions/{version_id}/rules", {"kind": "lottery", "name": "X", "params": {}}),
                 422, "validation_error", field="kind")


def test_changing_a_locked_version_is_a_409_and_the_attempt_is_recorded(cast):
    api, _, version_id = _built(cast)
    api.post(f"/api/program-versions/{version_id}/publish", {})
    version = ProgramVersion.objects.get(public_id=version_id)
    rule, tier = version.rules.get(), version.tiers.get(code="gold")
    attempts = [
        api.patch(f"/api/program-versions/{version_id}", {"payout_delay_days": 10}),
        api.post(f"/api/program-versions/{version_id}/tiers", {"code": "platinum", "name": "Platinum", "rank": 3},
                 headers={"Idempotency-Key": "locked-tier"}),
        api.patch(f"/api/program-rules/{rule.public_id}", {"params": SPIFF | {"amount": "999.00"}}),
        api.delete(f"/api/program-tiers/{tier.public_id}"),
    ]
    for response in attempts:
        body = assert_error(response, 409, "version_locked")
        assert body["detail"].startswith("This version is locked")
    version.refresh_from_db()
    rule.refresh_from_db()
    assert version.payout_delay_days == 30 and version.tiers.count() == 2 and rule.params["amount"] == "250.00"
    assert AuditEvent.objects.filter(action="refused", object_id=version_id, source="api").count() == 4


def test_the_next_version_is_drafted_edited_and_needs_a_quarter_start(cast):
    api, program_id, version_id = _built(cast)
    api.post(f"/api/program-versions/{version_id}/publish", {})
    assert_error(api.post(f"/api/programs/{program_id}/versions", {"effective_from": "2027-02-14"}), 422, "validation_error",
                 field="effective_from")
    draft = api.post(f"/api/programs/{program_id}/versions", {}).json()
    assert draft["number"] == 2 and draft["status"] == "draft" and len(draft["rules"]) == 1
    changed = api.patch(f"/api/program-versions/{draft['id']}", {"credit_model": "role_based",
                                                                 "role_shares": {"sourced": "70", "reseller": "30"}}).json()
    assert changed["credit_model"] == "role_based" and changed["role_shares"] == {"sourced": "70", "reseller": "30"}
    assert_error(api.patch(f"/api/program-versions/{draft['id']}", {"influence_share": "-5"}), 422, "validation_error",
                 field="influence_share")
    assert_error(api.post(f"/api/program-versions/{version_id}/publish", {}), 409, "conflict")


def test_creates_are_idempotent(cast):
    api = as_user(cast.vendor_admin)
    first = api.post("/api/programs", {"name": "Referral Program", "currency": "EUR"}, headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/programs", {"name": "Referral Program", "currency": "EUR"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true" and Program.objects.count() == 1


def test_a_pilot_gets_its_partners_and_is_rolled_out(cast):
    api, program_id, version_id = _built(cast)
    api.post(f"/api/program-versions/{version_id}/publish", {})
    draft = api.post(f"/api/programs/{program_id}/versions", {}).json()
    unknown = api.send("PUT", f"/api/program-versions/{draft['id']}/pilot-partners", {"partners": ["ptn_000000000000"]})
    assert_error(unknown, 422, "validation_error", field="partners.0")
    pilot = api.send("PUT", f"/api/program-versions/{draft['id']}/pilot-partners", {"partners": [cast.partner_a.public_id]}).json()
    assert pilot["pilot"] is True and [p["id"] for p in pilot["pilot_partners"]] == [cast.partner_a.public_id]
    api.post(f"/api/program-versions/{draft['id']}/publish", {})
    general = api.post(f"/api/program-versions/{draft['id']}/roll-out", {}).json()
    assert general["number"] == 3 and general["pilot"] is False and general["status"] == VersionStatus.PUBLISHED


def test_enrolments_have_history_and_a_partner_sees_only_its_own(cast):
    api, program_id, version_id = _built(cast)
    api.post(f"/api/program-versions/{version_id}/publish", {})
    start = services.quarter_start_of(timezone.localdate())
    manager = as_user(cast.partner_manager)
    for partner, tier, day in ((cast.partner_a, "silver", start), (cast.partner_a, "gold", start.replace(day=15))):
        assert manager.post(f"/api/programs/{program_id}/enrolments",
                            {"partner": partner.public_id, "tier_code": tier, "starts_on": day.isoformat()}).status_code == 201
    api.post(f"/api/programs/{program_id}/enrolments", {"partner": cast.partner_b.public_id, "tier_code": "silver",
                                                        "starts_on": start.isoformat()})
    assert_error(manager.post(f"/api/programs/{program_id}/enrolments", {"partner": cast.partner_b.public_id, "tier_code": "gold",
                                                                        "starts_on": start.isoformat()}), 403, "forbidden")
    everyone = api.get(f"/api/programs/{program_id}/enrolments").json()
    assert everyone["count"] == 3
    own = as_user(cast.a_rep).get(f"/api/programs/{program_id}/enrolments").json()
    assert [(e["tier_code"], e["ends_on"] is None) for e in own["items"]] == [("gold", True), ("silver", False)]
    current = api.get(f"/api/programs/{program_id}/enrolments", {"current": "true"}).json()
    assert current["count"] == 2


def test_the_guide_reads_in_plain_language_for_the_partners_own_tier(cast):
    api, program_id, version_id = _built(cast)
    api.post(f"/api/program-versions/{version_id}/rules", {"kind": "registration_bonus", "name": "Registration bonus", "params": {
        "currency": "USD", "rate": "5", "min_value": "10000", "close_within_days": "90"}})
    api.post(f"/api/program-versions/{version_id}/publish", {})
    services.enrol(partner=cast.partner_a, program=Program.objects.get(public_id=program_id), tier_code="gold",
                   starts_on=services.quarter_start_of(timezone.localdate()), actor=cast.vendor_admin)
    guide = as_user(cast.a_rep).get(f"/api/programs/{program_id}/guide").json()
    assert guide["tier"] == "gold" and [t["code"] for t in guide["tiers"]] == ["gold"]
    texts = [line["text"] for line in guide["tiers"][0]["lines"]]
    assert "Register a deal over 10,000.00 USD and close it within 90 days of approval: 5% on top of your margin." in texts
    assert any(t.startswith("Between 5 January 2026 and 31 March 2026, close a deal: 250.00 USD") for t in texts)
    assert "Roadmap previews" in guide["tiers"][0]["benefits"]
    vendor = api.get(f"/api/programs/{program_id}/guide", {"tier": "silver"}).json()
    assert [t["code"] for t in vendor["tiers"]] == ["silver"]


def test_the_other_partner_and_unenrolled_partners_see_nothing(cast):
    api, program_id, version_id = _built(cast)
    b = as_user(cast.b_rep)
    assert b.get("/api/programs").json()["count"] == 0
    for path in (f"/api/programs/{program_id}", f"/api/program-versions/{version_id}", f"/api/programs/{program_id}/guide"):
        assert_error(b.get(path), 404, "not_found")


@pytest.mark.parametrize("value", ["11", "abc", "NaN", "8.55"])
def test_a_tier_satisfaction_outside_zero_to_ten_is_named(cast, value):
    api, _, version_id = _built(cast)
    response = api.post(f"/api/program-versions/{version_id}/tiers", {"code": "platinum", "name": "Platinum", "rank": 3,
                                                                      "min_satisfaction": value})
    assert_error(response, 422, "validation_error", field="min_satisfaction")
