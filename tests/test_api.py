"""The REST API: authentication, error envelope, validation, money, idempotency, paging, docs.

Who may reach which object is in ``test_api_access.py``; this file is about how the API behaves
for a client that is allowed in.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

SECRET_CSRF = "a" * 32  # an unmasked CSRF secret; Django accepts it in cookie and header alike


class Api:
    """A JSON client that authenticates with a personal token, as an integration would."""

    def __init__(self, user=None, *, key: str | None = None):
        from covey.core.models import ApiToken

        self.client = Client()
        self.key = key if key is not None else (ApiToken.issue(user=user, name="test")[1] if user else None)

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"authorization": f"Bearer {self.key}"} if self.key else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {}, headers=self._headers())

    def send(self, method: str, path: str, body=None, *, headers: dict | None = None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method.lower())(path, data, content_type="application/json", headers=self._headers(headers))

    def post(self, path, body=None, **kw):
        return self.send("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.send("PATCH", path, body, **kw)

    def delete(self, path):
        return self.send("DELETE", path)


def as_user(user) -> Api:
    return Api(user)


def assert_error(response, status: int, code: str, field: str | None = "-") -> dict:
    """The one error shape: JSON with a code and a sentence; on 422 the field errors too."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["detail"]
    if field != "-":
        assert field in [e["field"] for e in body["errors"]], body
    return body


# --- authentication --------------------------------------------------------------------------


def test_a_token_acts_as_its_user(cast):
    me = as_user(cast.a_rep).get("/api/me").json()
    assert me["email"] == "rep@alpha.example"
    assert me["role"] == "rep" and not me["is_vendor"]
    assert me["partner"] == {"id": cast.partner_a.public_id, "name": "Alpha Integrations"}
    assert me["permissions"] == {"edit_crm": False, "create_partner": False, "log_activity": True}

    admin = as_user(cast.vendor_admin).get("/api/me").json()
    assert admin["role"] == "admin" and admin["is_vendor"] and admin["partner"] is None


def test_token_use_is_noted_at_most_once_a_minute(cast):
    from covey.core.models import ApiToken

    api = as_user(cast.sales_rep)
    token = ApiToken.objects.get(user=cast.sales_rep)
    assert token.last_used_at is None

    api.get("/api/me")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    api.get("/api/me")
    token.refresh_from_db()
    assert token.last_used_at == first  # no write on every request

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/api/me")
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=2)


@pytest.mark.parametrize("how", ["revoked", "unknown", "malformed", "empty", "user deactivated"])
def test_a_bad_token_is_refused_with_401_and_never_falls_back_to_the_session(cast, how):
    from covey.core.models import ApiToken

    token, key = ApiToken.issue(user=cast.sales_rep, name="sync")
    if how == "revoked":
        token.revoke()
    elif how == "unknown":
        key = "cvy_" + "x" * 43
    elif how == "malformed":
        key = "not-a-covey-token"
    elif how == "empty":
        key = ""
    else:
        cast.sales_rep.is_active = False
        cast.sales_rep.save(update_fields=["is_active"])
    api = Api(key=key)
    api.client.force_login(cast.vendor_admin)  # a session must not rescue a bad token
    response = api.client.get("/api/me", headers={"authorization": f"Bearer {key}"})
    body = assert_error(response, 401, "not_authenticated")
    assert "token" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method,path", [("GET", "/api/me"), ("GET", "/api/opportunities"), ("POST", "/api/accounts"), ("DELETE", "/api/accounts/acc_x")])
def test_no_credentials_is_401_json(db, method, path):
    response = Api().send(method, path, {"name": "X"}) if method != "GET" else Api().get(path)
    assert_error(response, 401, "not_authenticated")


def test_the_signed_in_browser_reads_and_writes_with_its_session_and_csrf_token(cast):
    from covey.crm.models import Account

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.sales_rep)
    assert browser.get("/api/me").json()["email"] == "rep@acmecloud.example"

    body = json.dumps({"name": "Session Co"})
    refused = browser.post("/api/accounts", body, content_type="application/json")
    assert_error(refused, 403, "csrf_failed")
    assert not Account.objects.filter(name="Session Co").exists()

    browser.cookies["csrftoken"] = SECRET_CSRF
    created = browser.post("/api/accounts", body, content_type="application/json", headers={"X-CSRFToken": SECRET_CSRF})
    assert created.status_code == 201
    assert Account.objects.filter(name="Session Co").exists()


def test_a_token_needs_no_csrf_token(cast):
    api = as_user(cast.sales_rep)
    api.client = Client(enforce_csrf_checks=True)
    assert api.post("/api/accounts", {"name": "Token Co"}).status_code == 201


# --- money and shapes ------------------------------------------------------------------------


def test_money_is_minor_units_currency_and_an_exact_decimal_string(world):
    opp = as_user(world.sales_rep).get(f"/api/opportunities/{world.opportunity_a.public_id}").json()
    assert opp["amount"] == {"amount_minor": 2_400_000, "currency": "USD", "amount": "24000.00"}
    assert opp["account"] == {"id": world.account_a.public_id, "name": "Customer A Ltd"}
    assert [line["total"]["amount"] for line in opp["lines"]] == ["24000.00"]
    assert [p["partner"]["name"] for p in opp["partners"]] == ["Alpha Integrations"]
    assert opp["id"].startswith("opp_") and "pk" not in opp


@pytest.mark.parametrize("amount,expected_minor,currency", [
    ({"amount": "48000.00"}, 4_800_000, "USD"),
    ({"amount_minor": 4_800_000}, 4_800_000, "USD"),
    ({"amount": "1,250.5", "currency": "eur"}, 125_050, "EUR"),
    ({"amount": "5000", "currency": "JPY"}, 5000, "JPY"),
    ({"amount": "1.234", "currency": "KWD"}, 1234, "KWD"),
    ({"amount_minor": 100, "amount": "1.00", "currency": "USD"}, 100, "USD"),  # a round-tripped output
])
def test_amounts_are_accepted_as_integer_minor_units_or_decimal_strings(world, amount, expected_minor, currency):
    api = as_user(world.sales_rep)
    response = api.post("/api/opportunities", {
        "name": "Expansion", "account": world.account_a.public_id, "close_date": "2026-11-30", "amount": amount,
    })
    assert response.status_code == 201, response.content
    assert response.json()["amount"]["amount_minor"] == expected_minor
    assert response.json()["amount"]["currency"] == currency


# --- validation: each bad input gets the envelope and changes nothing -------------------------

OPP = "/api/opportunities/{opp}"
BAD_INPUTS = [
    # (what, method, path, body, field named in the errors)
    ("float amount", "PATCH", OPP, {"amount": {"amount": 480.5}}, "amount.amount"),
    ("float minor units", "PATCH", OPP, {"amount": {"amount_minor": 4800000.0}}, "amount.amount_minor"),
    ("three decimals in USD", "PATCH", OPP, {"amount": {"amount": "10.005"}}, "amount.amount"),
    ("unknown currency", "PATCH", OPP, {"amount": {"amount": "10", "currency": "XYZ"}}, "amount.currency"),
    ("negative amount", "PATCH", OPP, {"amount": {"amount": "-5"}}, "amount.amount"),
    ("astronomical amount", "PATCH", OPP, {"amount": {"amount_minor": 10**30}}, "amount.amount_minor"),
    ("amount and minor units disagree", "PATCH", OPP, {"amount": {"amount": "1.00", "amount_minor": 5}}, "amount"),
    ("no amount at all", "PATCH", OPP, {"amount": {"currency": "USD"}}, "amount"),
    ("exponent notation", "PATCH", OPP, {"amount": {"amount": "1e6"}}, "amount.amount"),
    ("unknown stage", "PATCH", OPP, {"stage": "Won-ish"}, "stage"),
    ("Closed Lost without a reason", "PATCH", OPP, {"stage": "Closed Lost"}, "lost_reason"),
    ("a number where text belongs", "PATCH", OPP, {"name": 12}, "name"),
    ("an impossible date", "PATCH", OPP, {"close_date": "2026-02-30"}, "close_date"),
    ("a null name", "PATCH", OPP, {"name": None}, "name"),
    ("a name too long", "PATCH", OPP, {"name": "x" * 300}, "name"),
    ("an unknown field", "PATCH", OPP, {"stagee": "Qualification"}, "stagee"),
    ("a body that is a list", "PATCH", OPP, ["stage"], None),
    ("an invisible account", "PATCH", OPP, {"account": "acc_doesnotexist"}, "account"),
    ("unknown type on create", "POST", "/api/opportunities", {"name": "X", "account": "{acc}", "close_date": "2026-01-01", "type": "upsell"}, "type"),
    ("missing close date", "POST", "/api/opportunities", {"name": "X", "account": "{acc}"}, "close_date"),
    ("Closed Lost create without reason", "POST", "/api/opportunities", {"name": "X", "account": "{acc}", "close_date": "2026-01-01", "stage": "Closed Lost"}, "lost_reason"),
    ("employees beyond any integer column", "POST", "/api/accounts", {"name": "Big", "employees": 10**20}, "employees"),
    ("unknown region", "POST", "/api/accounts", {"name": "R", "region": "mars"}, "region"),
    ("quantity zero", "POST", OPP + "/lines", {"product": "{prd}", "quantity": 0}, "quantity"),
    ("line worth more than Covey stores", "POST", OPP + "/lines", {"product": "{prd}", "quantity": 100, "unit_price": {"amount_minor": 10**14}}, "quantity"),
    ("line price in another currency", "POST", OPP + "/lines", {"product": "{prd}", "unit_price": {"amount": "5", "currency": "EUR"}}, "unit_price.currency"),
    ("discount above the line's value", "POST", OPP + "/lines", {"product": "{prd}", "discount": {"amount": "99999"}}, "discount"),
    ("same partner twice", "POST", OPP + "/partners", {"partner": "{ptn}", "role": "reseller"}, None),
    ("unknown partner role", "POST", OPP + "/partners", {"partner": "{ptn}", "role": "kingmaker"}, "role"),
    ("a bad page size", "GET", "/api/opportunities?limit=501", None, "limit"),
    ("a huge offset", "GET", "/api/opportunities?offset=99999999999999999999999", None, "offset"),
    ("an unknown status filter", "GET", "/api/opportunities?status=maybe", None, "status"),
    ("a bad date filter", "GET", "/api/opportunities?close_date_from=yesterday", None, "close_date_from"),
]


def _fill(world, text: str) -> str:
    return (text.replace("{opp}", world.opportunity_a.public_id).replace("{acc}", world.account_a.public_id)
            .replace("{prd}", world.product.public_id).replace("{ptn}", world.partner_a.public_id))


@pytest.mark.parametrize("what,method,path,body,field", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_422_with_field_errors_and_changes_nothing(world, what, method, path, body, field):
    from covey.core.models import AuditEvent
    from covey.crm.models import Account, Opportunity

    api = as_user(world.vendor_admin)
    before = (Opportunity.objects.count(), Account.objects.count(), AuditEvent.objects.count(),
              list(Opportunity.objects.values_list("name", "stage", "amount_minor", "currency").order_by("id")))
    path = _fill(world, path)
    body = json.loads(_fill(world, json.dumps(body))) if body is not None else None
    response = api.get(path) if method == "GET" else api.send(method, path, body)
    assert_error(response, 422, "validation_error", field)
    after = (Opportunity.objects.count(), Account.objects.count(), AuditEvent.objects.count(),
             list(Opportunity.objects.values_list("name", "stage", "amount_minor", "currency").order_by("id")))
    assert after == before


@pytest.mark.parametrize("raw,status,code", [
    (b'{"name": "Nul\\u0000Co"}', 400, "bad_input"),
    (b'{"name": "Nul\x00Co"}', 400, "bad_input"),
    (b'{"name": ', 400, "bad_input"),
    (b'{"name": "' + b"x" * (6 * 1024 * 1024) + b'"}', 413, "too_large"),
    (b'{"employees": ' + b"9" * 5000 + b', "name": "Digits"}', 400, "bad_input"),
])
def test_unreadable_bodies_get_a_json_400_or_413_and_change_nothing(cast, raw, status, code):
    from covey.crm.models import Account

    response = as_user(cast.sales_rep).post("/api/accounts", raw=raw)
    assert_error(response, status, code)
    assert Account.objects.count() == 0


def test_unknown_addresses_and_methods_answer_in_json(cast):
    api = as_user(cast.sales_rep)
    assert_error(api.get("/api/nothing-here"), 404, "not_found")
    assert_error(api.get("/api/opportunities/opp_x/extra"), 404, "not_found")
    response = api.send("PUT", "/api/accounts")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_deleting_an_account_with_opportunities_is_refused_with_a_reason(world):
    response = as_user(world.vendor_admin).delete(f"/api/accounts/{world.account_a.public_id}")
    body = assert_error(response, 422, "validation_error")
    assert "opportunities" in body["detail"]


# --- writes go through the services ------------------------------------------------------------


def test_writes_leave_audit_records_that_say_api(world):
    from covey.core.models import AuditEvent

    api = as_user(world.sales_rep)
    opp_id = world.opportunity_a.public_id
    assert api.patch(f"/api/opportunities/{opp_id}", {"stage": "Closed Lost", "lost_reason": "Budget cut"}).status_code == 200
    event = AuditEvent.objects.filter(object_id=opp_id).first()
    assert event.source == "api" and event.actor == world.sales_rep
    assert event.changes["stage"] == ["Qualification", "Closed Lost"]


def test_lines_set_the_amount_and_partners_can_be_added_and_removed(world):
    api = as_user(world.sales_rep)
    opp_id = world.opportunity_b.public_id
    line = api.post(f"/api/opportunities/{opp_id}/lines", {"product": world.product.public_id, "quantity": 3,
                                                            "discount": {"amount": "1000.00"}})
    assert line.status_code == 201, line.content
    assert line.json()["total"] == {"amount_minor": 3_500_000, "currency": "USD", "amount": "35000.00"}
    opp = api.get(f"/api/opportunities/{opp_id}").json()
    assert opp["amount"]["amount"] == "59000.00"  # the fixture's 2 × 12,000 plus 3 × 12,000 − 1,000

    assert api.delete(f"/api/opportunities/{opp_id}/lines/{world.line_b.public_id}").status_code == 204
    assert api.get(f"/api/opportunities/{opp_id}").json()["amount"]["amount"] == "35000.00"

    link = api.post(f"/api/opportunities/{opp_id}/partners", {"partner": world.partner_a.public_id, "role": "integrator", "is_primary": True})
    assert link.status_code == 201 and link.json()["is_primary"]
    partners = api.get(f"/api/opportunities/{opp_id}").json()["partners"]
    assert [(p["partner"]["name"], p["is_primary"]) for p in partners] == [("Alpha Integrations", True), ("Beta Resellers", False)]
    assert api.delete(f"/api/opportunities/{opp_id}/partners/{link.json()['id']}").status_code == 204
    assert [p["is_primary"] for p in api.get(f"/api/opportunities/{opp_id}").json()["partners"]] == [True]


def test_a_partner_on_a_shared_deal_does_not_learn_who_else_is_on_it(world):
    from covey.crm.models import OpportunityPartner

    OpportunityPartner.objects.create(opportunity=world.opportunity_a, partner=world.partner_b, role="influencer")
    seen_by_a = as_user(world.a_rep).get(f"/api/opportunities/{world.opportunity_a.public_id}").json()
    assert [p["partner"]["name"] for p in seen_by_a["partners"]] == ["Alpha Integrations"]
    seen_by_vendor = as_user(world.sales_rep).get(f"/api/opportunities/{world.opportunity_a.public_id}").json()
    assert len(seen_by_vendor["partners"]) == 2


def test_a_partner_rep_logs_activities_for_its_own_partner_on_deals_it_can_see(world):
    from covey.crm.models import Activity

    api = as_user(world.a_rep)
    created = api.post("/api/activities", {"kind": "call", "subject": "Discovery call", "opportunity": world.opportunity_a.public_id,
                                           "occurred_at": "2026-03-01T10:00:00"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["partner"]["id"] == world.partner_a.public_id
    assert body["account"]["id"] == world.account_a.public_id
    assert body["created_by"]["name"] == str(world.a_rep)
    assert body["occurred_at"].startswith("2026-03-01T10:00:00")

    other_deal = api.post("/api/activities", {"subject": "Sneaky", "opportunity": world.opportunity_b.public_id})
    assert_error(other_deal, 422, "validation_error", "opportunity")
    other_partner = api.post("/api/activities", {"subject": "Sneaky", "partner": world.partner_b.public_id})
    assert_error(other_partner, 422, "validation_error", "partner")
    unpartnered = api.patch(f"/api/activities/{body['id']}", {"partner": None})
    assert_error(unpartnered, 422, "validation_error", "partner")
    assert not Activity.objects.filter(subject="Sneaky").exists()


def test_a_partner_admin_edits_its_partner_but_not_its_lifecycle_or_owner(world):
    api = as_user(world.a_admin)
    path = f"/api/partners/{world.partner_a.public_id}"
    changed = api.patch(path, {"description": "We integrate things.", "types": ["system_integrator", "msp"]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["types"] == ["msp", "system_integrator"]

    for body in ({"lifecycle": "terminated"}, {"owner": world.other_manager.public_id}, {"description": "x", "lifecycle": "inactive"}):
        assert_error(api.patch(path, body), 403, "forbidden")
    world.partner_a.refresh_from_db()
    assert (world.partner_a.lifecycle, world.partner_a.owner, world.partner_a.description) == ("active", world.partner_manager, "We integrate things.")
    assert api.patch(path, {"lifecycle": "active"}).status_code == 200  # unchanged values are fine


def test_a_partner_manager_owns_the_partners_it_creates(cast):
    api = as_user(cast.partner_manager)
    created = api.post("/api/partners", {"name": "Gamma Cloud", "types": ["msp"], "segments": ["smb"], "region": "emea"})
    assert created.status_code == 201, created.content
    assert created.json()["owner"]["id"] == cast.partner_manager.public_id
    assert api.patch(f"/api/partners/{created.json()['id']}", {"lifecycle": "onboarding"}).status_code == 200


# --- idempotency ---------------------------------------------------------------------------------


def test_repeating_a_create_with_the_same_idempotency_key_returns_the_first_answer(world):
    from covey.core.models import IdempotencyKey
    from covey.crm.models import Opportunity

    api = as_user(world.sales_rep)
    body = {"name": "Retry Deal", "account": world.account_a.public_id, "close_date": "2026-09-30", "amount": {"amount": "100.00"}}
    first = api.post("/api/opportunities", body, headers={"Idempotency-Key": "retry-1"})
    again = api.post("/api/opportunities", dict(reversed(body.items())), headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Opportunity.objects.filter(name="Retry Deal").count() == 1

    changed = api.post("/api/opportunities", {**body, "name": "Other Deal"}, headers={"Idempotency-Key": "retry-1"})
    assert_error(changed, 422, "validation_error", "Idempotency-Key")
    assert not Opportunity.objects.filter(name="Other Deal").exists()

    # Keys are per user, and a create without a key is never deduplicated.
    assert as_user(world.vendor_admin).post("/api/opportunities", body, headers={"Idempotency-Key": "retry-1"}).status_code == 201
    assert api.post("/api/opportunities", body).status_code == 201
    assert Opportunity.objects.filter(name="Retry Deal").count() == 3
    assert IdempotencyKey.objects.count() == 2


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_unusable_idempotency_key_is_refused(cast, key):
    from covey.crm.models import Account

    response = as_user(cast.sales_rep).post("/api/accounts", {"name": "Keyed Co"}, headers={"Idempotency-Key": key})
    assert_error(response, 422, "validation_error", "Idempotency-Key")
    assert not Account.objects.exists()


def test_a_failed_create_does_not_use_up_its_idempotency_key(world):
    api = as_user(world.sales_rep)
    bad = api.post("/api/accounts", {"name": "x" * 300}, headers={"Idempotency-Key": "k"})
    assert bad.status_code == 422
    good = api.post("/api/accounts", {"name": "Fixed Co"}, headers={"Idempotency-Key": "k"})
    assert good.status_code == 201


def test_an_expired_idempotency_key_can_be_used_again(world):
    from covey.core.models import IdempotencyKey

    api = as_user(world.sales_rep)
    api.post("/api/accounts", {"name": "Old Co"}, headers={"Idempotency-Key": "k"})
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=2))
    again = api.post("/api/accounts", {"name": "New Co"}, headers={"Idempotency-Key": "k"})
    assert again.status_code == 201 and again.json()["name"] == "New Co"


# --- lists ---------------------------------------------------------------------------------------


def test_lists_page_with_limit_and_offset_and_count_everything(cast):
    from covey.crm.models import Account

    Account.objects.bulk_create([Account(name=f"Account {i:02}") for i in range(7)])
    api = as_user(cast.sales_rep)
    first = api.get("/api/accounts", {"limit": 3}).json()
    second = api.get("/api/accounts", {"limit": 3, "offset": 3}).json()
    last = api.get("/api/accounts", {"limit": 3, "offset": 6}).json()
    assert first["count"] == second["count"] == last["count"] == 7
    names = [a["name"] for page in (first, second, last) for a in page["items"]]
    assert names == [f"Account {i:02}" for i in range(7)]
    assert len(api.get("/api/accounts").json()["items"]) == 7  # default page of 50
    assert api.get("/api/accounts", {"offset": 100}).json() == {"items": [], "count": 7}


def test_opportunity_filters(world):
    from covey.crm.models import Opportunity

    Opportunity.objects.filter(pk=world.opportunity_b.pk).update(stage="Closed Won", close_date=date(2026, 3, 31))
    vendor = as_user(world.sales_rep)

    def ids(api, **params):
        return {o["id"] for o in api.get("/api/opportunities", params).json()["items"]}

    a, b = world.opportunity_a.public_id, world.opportunity_b.public_id
    assert ids(vendor) == {a, b}
    assert ids(vendor, status="open") == {a}
    assert ids(vendor, status="won") == {b}
    assert ids(vendor, status="lost") == set()
    assert ids(vendor, stage="Qualification") == {a}
    assert ids(vendor, partner=world.partner_b.public_id) == {b}
    assert ids(vendor, account=world.account_a.public_id) == {a}
    assert ids(vendor, close_date_from="2026-06-01") == {a}
    assert ids(vendor, close_date_to="2026-06-01") == {b}
    assert ids(vendor, q="customer b") == {b}
    # A partner user's partner filter is ignored: it sees its own deals either way.
    assert ids(as_user(world.a_rep), partner=world.partner_b.public_id) == {a}


def test_other_list_filters(world):
    api = as_user(world.vendor_admin)

    def names(path, **params):
        return sorted(o.get("name") or o.get("subject") for o in api.get(path, params).json()["items"])

    assert names("/api/partners", type="reseller") == ["Beta Resellers"]
    assert names("/api/partners", q="alpha", lifecycle="active", region="na") == ["Alpha Integrations"]
    assert names("/api/accounts", q="customer-a.example") == ["Customer A Ltd"]
    assert names("/api/accounts", status="customer") == []
    assert names("/api/activities", kind="demo", joint="true", partner=world.partner_b.public_id) == ["Joint demo B"]
    assert names("/api/activities", opportunity=world.opportunity_a.public_id) == ["Joint demo A"]
    assert names("/api/products", q="ccp", active="true") == ["Covey Cloud Platform"]
    members = api.get(f"/api/partners/{world.partner_a.public_id}/members").json()
    assert members["count"] == 3
    assert {m["role"] for m in members["items"]} == {"admin", "rep", "read_only"}


# --- documentation -------------------------------------------------------------------------------

ENDPOINTS = {
    ("get", "/api/me"),
    ("get", "/api/tokens"), ("post", "/api/tokens"), ("delete", "/api/tokens/{id}"),
    ("get", "/api/partners"), ("post", "/api/partners"), ("get", "/api/partners/{id}"),
    ("patch", "/api/partners/{id}"), ("get", "/api/partners/{id}/members"),
    ("get", "/api/accounts"), ("post", "/api/accounts"), ("get", "/api/accounts/{id}"),
    ("patch", "/api/accounts/{id}"), ("delete", "/api/accounts/{id}"),
    ("get", "/api/opportunities"), ("post", "/api/opportunities"), ("get", "/api/opportunities/{id}"),
    ("patch", "/api/opportunities/{id}"), ("delete", "/api/opportunities/{id}"),
    ("post", "/api/opportunities/{id}/lines"), ("delete", "/api/opportunities/{id}/lines/{line_id}"),
    ("post", "/api/opportunities/{id}/partners"), ("delete", "/api/opportunities/{id}/partners/{link_id}"),
    ("get", "/api/activities"), ("post", "/api/activities"), ("get", "/api/activities/{id}"),
    ("patch", "/api/activities/{id}"), ("delete", "/api/activities/{id}"),
    ("get", "/api/products"), ("get", "/api/products/{id}"),
}


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_openapi_schema_lists_every_endpoint_with_a_summary_and_description(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    listed = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert ENDPOINTS <= listed  # features' operations are held to account by tests/access_rows
    operation_ids = []
    for path, ops in schema["paths"].items():
        for op in ops.values():
            assert op["summary"] and op["description"] and op["tags"], path
            operation_ids.append(op["operationId"])
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path))
    assert len(set(operation_ids)) == len(operation_ids)
    creates = [op for ops in schema["paths"].values() for method, op in ops.items()
               if method == "post" and "201" in op["responses"]]
    assert all("Idempotency-Key" in [p["name"] for p in op["parameters"] if p["in"] == "header"] for op in creates)
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    # Every reference resolves inside the document.
    for ref in set(_refs(schema)):
        node = schema
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]


def test_the_docs_page_works_offline(db):
    from django.contrib.staticfiles import finders

    html = Client().get("/api/docs").content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"(https?:)?//[\w.-]+\.\w+", html), "the docs page must not load anything from another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/static/") for a in assets)
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_creates_with_one_idempotency_key_create_once(cast):
    """Both requests pass the "seen this key?" check before either writes; the database decides."""
    import threading

    from django.db import connection

    import covey.core.api as core_api
    from covey.crm.models import Account

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers, so the race cannot happen there")
    barrier = threading.Barrier(2, timeout=10)
    waited = threading.local()
    original = core_api._stored

    def stored_after_both_looked(user, key):
        found = original(user, key)
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait()
        return found

    core_api._stored = stored_after_both_looked
    answers = []
    try:
        def create():
            try:
                api = as_user(cast.sales_rep)
                answers.append(api.post("/api/accounts", {"name": "Race Co"}, headers={"Idempotency-Key": "race"}))
            finally:
                connection.close()

        threads = [threading.Thread(target=create) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        core_api._stored = original
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Account.objects.filter(name="Race Co").count() == 1


@pytest.mark.parametrize("path", ["/api/partners", "/api/accounts", "/api/opportunities", "/api/activities", "/api/products", "/api/opportunities/{opp}"])
def test_a_longer_list_costs_no_more_queries(world, path):
    """No query per row: ten times the rows, the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from covey.crm.models import (
        Account,
        Activity,
        Opportunity,
        OpportunityLine,
        OpportunityPartner,
        Product,
    )
    from covey.partners.models import Partner, PartnerTypeTag

    api = as_user(world.vendor_admin)
    path = path.replace("{opp}", world.opportunity_a.public_id)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(path).status_code == 200
        return len(ctx.captured_queries)

    queries()  # the first request also notes the token's use
    few = queries()
    for i in range(10):
        partner = Partner.objects.create(name=f"P{i}", owner=world.partner_manager)
        PartnerTypeTag.objects.create(partner=partner, code="msp")
        account = Account.objects.create(name=f"Acc {i}", owner=world.sales_rep)
        opp = Opportunity.objects.create(name=f"O{i}", account=account, owner=world.sales_rep, close_date=date(2026, 1, 1))
        Activity.objects.create(subject=f"S{i}", opportunity=opp, account=account, partner=partner, created_by=world.a_rep)
        product = Product.objects.create(name=f"Prod {i}", code=f"P{i}")
        OpportunityLine.objects.create(opportunity=world.opportunity_a, product=product, unit_price_minor=100)
        OpportunityPartner.objects.create(opportunity=world.opportunity_a, partner=partner, role="influencer")
    assert queries() == few


def test_a_token_brings_its_user_with_membership_and_partner_in_one_query(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from covey.api import user_for_token
    from covey.core.models import ApiToken

    token, key = ApiToken.issue(user=cast.a_rep, name="bench")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())  # no touch-update this time
    with CaptureQueriesContext(connection) as queries:
        user = user_for_token(key)
        membership = user.membership
        partner_name = membership.partner.name
    assert len(queries) == 1
    assert user == cast.a_rep and membership.role == "rep" and partner_name == cast.partner_a.name
    assert user.last_login is None or timezone.is_aware(user.last_login)

    vendor_token, vendor_key = ApiToken.issue(user=cast.partner_manager, name="pm")
    vendor = user_for_token(vendor_key)
    assert vendor == cast.partner_manager and vendor.membership is None
    vendor_token.revoke()
    assert user_for_token(vendor_key) is None
    cast.a_rep.is_active = False
    cast.a_rep.save()
    assert user_for_token(key) is None


def test_each_partner_sees_its_own_side_in_lists(world):
    for role, own in (("a_rep", "a"), ("b_rep", "b")):
        api = as_user(getattr(world, role))
        opps = {o["id"] for o in api.get("/api/opportunities").json()["items"]}
        accounts = {a["id"] for a in api.get("/api/accounts").json()["items"]}
        activities = {a["id"] for a in api.get("/api/activities").json()["items"]}
        partners = {p["id"] for p in api.get("/api/partners").json()["items"]}
        assert opps == {getattr(world, f"opportunity_{own}").public_id}
        assert accounts == {getattr(world, f"account_{own}").public_id}
        assert activities == {getattr(world, f"activity_{own}").public_id}
        assert partners == {getattr(world, f"partner_{own}").public_id}
    vendor = as_user(world.executive)
    assert vendor.get("/api/opportunities").json()["count"] == 2


def test_the_vendor_admin_deletes_an_empty_account(world):
    from covey.crm.models import Account

    empty = Account.objects.create(name="Empty Co")
    assert as_user(world.vendor_admin).delete(f"/api/accounts/{empty.public_id}").status_code == 204
    assert not Account.objects.filter(pk=empty.pk).exists()
