"""Registration pages: the partner portal and the vendor console."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from covey.core.money import Money
from covey.registrations import services
from covey.registrations.models import Registration, RegistrationProgram, Status

pytestmark = pytest.mark.django_db

FUTURE = (date.today() + timedelta(days=60)).isoformat()


def form(**over):
    data = {
        "company_name": "Globex GmbH", "domain": "https://www.globex.de/", "contact_name": "Hank",
        "contact_email": "hank@globex.de", "contact_phone": "+49 30 1234", "value": "25,000.00", "currency": "EUR",
        "expected_close": FUTURE, "deal_type": "new", "description": "Rollout", "evidence": "Joint workshop",
    }
    data.update(over)
    return data


def registered(world, user=None, partner=None, name="Globex GmbH", domain="globex.de"):
    return services.submit(
        partner=partner or world.partner_a, actor=user or world.a_rep,
        submission=services.Submission(company_name=name, domain=domain, value=Money(2_500_000, "EUR"),
                                       expected_close=date.today() + timedelta(days=60)),
    )


def test_partner_rep_registers_and_the_second_partner_sees_only_already_registered(world, client):
    client.force_login(world.a_rep)
    response = client.post("/registrations/new/", form(products=[world.product.public_id]))
    assert response.status_code == 302
    reg = Registration.objects.get()
    assert reg.partner == world.partner_a and reg.amount_minor == 2_500_000 and list(reg.products.all()) == [world.product]
    page = client.get(response["Location"]).content.decode()
    assert "Registration submitted" in page and "globex.de" in page

    client.force_login(world.b_rep)
    response = client.post("/registrations/new/", form(company_name="GLOBEX", domain="globex.de/kontakt"), follow=True)
    page = response.content.decode()
    assert "This account is already registered." in page
    for secret in ("Alpha", reg.public_id, world.a_rep.email):
        assert secret not in page
    loser = Registration.objects.get(partner=world.partner_b)
    detail = client.get(f"/registrations/{loser.public_id}/").content.decode()
    assert "already registered" in detail and "Alpha" not in detail and reg.public_id not in detail
    assert client.get(f"/registrations/{reg.public_id}/").status_code == 404
    listing = client.get("/registrations/").content.decode()
    assert loser.public_id in listing and reg.public_id not in listing


def test_a_rule_rejection_is_stated_on_the_outcome_page(world, client):
    client.force_login(world.a_admin)
    response = client.post("/registrations/new/", form(value="500"), follow=True)
    assert "below the program minimum of 10,000.00 EUR" in response.content.decode()
    assert Registration.objects.get().status == Status.REJECTED


@pytest.mark.parametrize("over, field_text", [
    ({"domain": "localhost"}, "Enter the company&#x27;s web domain"),
    ({"domain": ""}, "This field is required"),
    ({"value": "-5"}, "more than zero"),
    ({"value": "1e50"}, ""),
    ({"value": "99999999999999999"}, "larger than any deal"),
    ({"currency": "XXX"}, "Select a valid choice"),
    ({"expected_close": "2020-01-01"}, "cannot be in the past"),
    ({"company_name": "x" * 201}, "at most 200 characters"),
    ({"contact_email": "nope"}, "valid email"),
])
def test_bad_input_is_shown_on_the_form_and_nothing_is_stored(world, client, over, field_text):
    client.force_login(world.a_rep)
    response = client.post("/registrations/new/", form(**over))
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert field_text in response.content.decode()
    assert not Registration.objects.exists()


def test_vendor_staff_register_on_behalf_of_a_chosen_partner(world, client):
    client.force_login(world.partner_manager)
    response = client.post("/registrations/new/", form())
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post("/registrations/new/", form(partner=world.partner_b.public_id))
    assert response.status_code == 302
    reg = Registration.objects.get()
    assert reg.partner == world.partner_b and reg.submitted_by == world.partner_manager


def test_read_only_and_non_managers_cannot_register(world, client):
    for user in (world.a_readonly, world.finance, world.sales_rep):
        client.force_login(user)
        assert client.post("/registrations/new/", form()).status_code == 403
    assert not Registration.objects.exists()


def test_list_shows_overdue_and_expiry_badges_and_filters(world, client):
    overdue = registered(world)
    Registration.objects.filter(pk=overdue.pk).update(review_due_at=timezone.now() - timedelta(hours=1))
    expiring = registered(world, name="Initech", domain="initech.com")
    Registration.objects.filter(pk=expiring.pk).update(
        status="approved", protection_starts_at=timezone.now(), protection_expires_at=timezone.now() + timedelta(days=5, hours=1),
    )
    client.force_login(world.partner_manager)
    page = client.get("/registrations/").content.decode()
    assert "Review overdue" in page and "Expires in 5 days" in page
    only_overdue = client.get("/registrations/?overdue=yes").content.decode()
    assert "Globex" in only_overdue and "Initech" not in only_overdue
    soon = client.get("/registrations/?expiring=yes").content.decode()
    assert "Initech" in soon and "Globex GmbH" not in soon
    assert "Initech" not in client.get("/registrations/?q=globex").content.decode()
    client.force_login(world.b_admin)
    empty = client.get("/registrations/").content.decode()
    assert "No registrations yet" in empty and "Globex" not in empty


def test_manager_reviews_and_approves_from_the_detail_page(world, client):
    reg = registered(world)
    client.force_login(world.other_manager)  # sees it, may not decide
    page = client.get(f"/registrations/{reg.public_id}/").content.decode()
    assert "Approve" not in page
    assert client.post(f"/registrations/{reg.public_id}/approve/").status_code == 403
    client.force_login(world.partner_manager)
    page = client.get(f"/registrations/{reg.public_id}/").content.decode()
    assert "Start review" in page and "Approve" in page and "Possible duplicates" in page
    client.post(f"/registrations/{reg.public_id}/review/")
    response = client.post(f"/registrations/{reg.public_id}/approve/", follow=True)
    reg.refresh_from_db()
    assert reg.status == Status.CONVERTED
    page = response.content.decode()
    assert reg.opportunity.public_id in page and "changed state" in page
    client.force_login(world.a_rep)
    page = client.get(f"/registrations/{reg.public_id}/").content.decode()
    assert "Possible duplicates" not in page and "Request extension" in page


def test_reject_needs_a_reason_on_the_page(world, client):
    reg = registered(world)
    client.force_login(world.vendor_admin)
    response = client.post(f"/registrations/{reg.public_id}/reject/", {"reason": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    client.post(f"/registrations/{reg.public_id}/reject/", {"reason": "Vendor-led account"})
    reg.refresh_from_db()
    assert reg.status == Status.REJECTED and reg.reason == "Vendor-led account"


def test_extension_request_and_decision_through_the_pages(world, client):
    reg = registered(world)
    services.approve(registration=reg, actor=world.partner_manager)
    reg.refresh_from_db()
    ends = reg.protection_expires_at
    client.force_login(world.a_rep)
    client.post(f"/registrations/{reg.public_id}/extension/", {"reason": "Procurement slipped"})
    client.force_login(world.partner_manager)
    page = client.get(f"/registrations/{reg.public_id}/").content.decode()
    assert "Procurement slipped" in page and "Grant extension" in page
    client.post(f"/registrations/{reg.public_id}/extension/decide/", {"decision": "grant"})
    reg.refresh_from_db()
    assert reg.extension_granted and reg.protection_expires_at == ends + timedelta(days=30)


def test_conflict_queue_shows_contests_side_by_side_and_resolves(world, client):
    holder = registered(world)
    loser = registered(world, user=world.b_rep, partner=world.partner_b, name="Globex AG", domain="www.globex.de")
    client.force_login(world.other_manager)
    page = client.get("/registrations/conflicts/").content.decode()
    assert "globex.de" in page and holder.partner.name in page and loser.partner.name in page
    response = client.post("/registrations/conflicts/resolve/", {"domain": "globex.de", "outcome": "award_first", "note": "First in"})
    assert response.status_code == 302
    loser.refresh_from_db()
    assert loser.status == Status.REJECTED
    assert "No conflicts to resolve" in client.get("/registrations/conflicts/").content.decode()


def test_admin_edits_the_program_rules(world, client):
    client.force_login(world.vendor_admin)
    page = client.get("/registrations/settings/").content.decode()
    assert "EUR 10000.00" in page
    data = {
        "minimums": "USD 5000\nchf 2,500.50", "allow_expansion": "on", "review_sla_business_days": 3,
        "protection_days": 60, "expiry_warning_days": 7, "extension_days": 15,
    }
    assert client.post("/registrations/settings/", data).status_code == 302
    program = RegistrationProgram.objects.get(pk=1)
    assert program.minimums == {"CHF": 250_050, "USD": 500_000}
    assert program.allow_expansion and not program.convert_on_approval and program.protection_days == 60
    bad = client.post("/registrations/settings/", {**data, "minimums": "DEM 100"})
    assert bad.status_code == 200 and "Line 1" in bad.content.decode()
