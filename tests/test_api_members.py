"""A partner's people over the API: add (with the invitation e-mail), change a role, remove; the
same rules as the partner page (one partner per person, never vendor staff, at least one admin)."""

from __future__ import annotations

import pytest
from django.core import mail

from covey.core.models import User
from covey.partners.models import Membership
from tests.test_api import as_user, assert_error

pytestmark = pytest.mark.django_db


def _members(api, partner) -> dict[str, str]:
    return {m["email"]: m["role"] for m in api.get(f"/api/partners/{partner.public_id}/members").json()["items"]}


def test_a_partner_admin_adds_changes_and_removes_its_people(cast, settings):
    settings.SITE_URL = "https://partners.acme.example"
    api = as_user(cast.a_admin)
    base = f"/api/partners/{cast.partner_a.public_id}/members"

    added = api.post(base, {"email": " New.Person@Alpha.example ", "full_name": "Nia New", "role": "rep"}, headers={"Idempotency-Key": "k1"})
    assert added.status_code == 201 and added.json()["email"] == "new.person@alpha.example" and added.json()["role"] == "rep"
    assert api.post(base, {"email": " New.Person@Alpha.example ", "full_name": "Nia New", "role": "rep"},
                    headers={"Idempotency-Key": "k1"})["Idempotent-Replayed"] == "true"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@alpha.example"]
    assert "https://partners.acme.example/" in mail.outbox[0].body  # the link is the site's, not the request's host

    new_id = added.json()["id"]
    assert api.patch(f"{base}/{new_id}", {"role": "admin"}).json()["role"] == "admin"
    assert api.delete(f"{base}/{new_id}").status_code == 204
    assert not User.objects.get(public_id=new_id).is_active and "new.person@alpha.example" not in _members(api, cast.partner_a)


def test_the_rules_of_the_page_hold_and_a_refusal_changes_nothing(cast):
    api = as_user(cast.a_admin)
    base = f"/api/partners/{cast.partner_a.public_id}/members"
    before = list(Membership.objects.order_by("pk").values_list("user_id", "partner_id", "role"))

    assert_error(api.post(base, {"email": "rep@beta.example"}), 422, "validation_error", "email")  # at another partner
    assert_error(api.post(base, {"email": "pm@acmecloud.example"}), 422, "validation_error", "email")  # vendor staff
    assert_error(api.post(base, {"email": "not an address"}), 422, "validation_error", "email")
    assert_error(api.post(base, {"email": "x@alpha.example", "role": "owner"}), 422, "validation_error")
    assert_error(api.patch(f"{base}/{cast.a_admin.public_id}", {"role": "rep"}), 422, "validation_error")  # the last admin
    assert_error(api.delete(f"{base}/{cast.a_admin.public_id}"), 422, "validation_error")
    assert_error(api.patch(f"{base}/{cast.b_rep.public_id}", {"role": "rep"}), 404, "not_found")  # B's person, via A
    assert_error(api.delete(f"{base}/usr_nobody"), 404, "not_found")
    assert_error(as_user(cast.a_rep).post(base, {"email": "y@alpha.example"}), 403, "forbidden")
    assert_error(as_user(cast.b_admin).post(base, {"email": "y@alpha.example"}), 404, "not_found")
    assert list(Membership.objects.order_by("pk").values_list("user_id", "partner_id", "role")) == before
    assert not User.objects.filter(email__in=["x@alpha.example", "y@alpha.example"]).exists() and mail.outbox == []


def test_the_company_settings_are_read_by_staff_and_changed_by_admins(cast):
    from covey.core.models import AuditEvent, VendorSettings

    admin = as_user(cast.vendor_admin)
    assert as_user(cast.finance).get("/api/settings").json()["company_name"] == "Acme Cloud"
    changed = admin.patch("/api/settings", {"base_currency": " eur ", "fiscal_year_start_month": 4})
    assert changed.status_code == 200 and changed.json()["base_currency"] == "EUR"
    vendor = VendorSettings.current()
    assert (vendor.base_currency, vendor.fiscal_year_start_month, vendor.company_name) == ("EUR", 4, "Acme Cloud")
    events = AuditEvent.objects.count()
    for bad in ({"base_currency": "XYZ"}, {"fiscal_year_start_month": 13}, {"company_name": None}, {"colour": "red"}):
        assert_error(admin.patch("/api/settings", bad), 422, "validation_error")
    assert VendorSettings.current().base_currency == "EUR" and AuditEvent.objects.count() == events
    assert_error(as_user(cast.partner_manager).patch("/api/settings", {"company_name": "Mine"}), 403, "forbidden")
    assert_error(as_user(cast.a_admin).get("/api/settings"), 404, "not_found")
