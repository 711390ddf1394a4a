"""A co-sell target becomes a deal registration in one click: a partner's member opens the
registration form prefilled with the account's name and domain — from its own record, and from the
vendor's record only the fields the vendor's sharing shows it. The vendor's side asks for an
introduction instead; a pair the viewer may not see is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from covey.accountmaps import services
from covey.accountmaps.models import MatchedPair
from covey.crm.models import Account
from covey.registrations.models import Registration
from tests.access_rows.mapping import A_LIST_CSV, build

NEW = reverse("registration_create")


@pytest.fixture
def mapped(world):
    build(world)
    return world


def _targets(client, w) -> str:
    return client.get(reverse("mapping_targets", kwargs={"public_id": w.map_list_a.public_id})).content.decode()


def _initial(response) -> dict:
    form = response.context["form"]
    return {"company_name": form.initial.get("company_name"), "domain": form.initial.get("domain")}


def test_a_partner_starts_a_registration_from_a_co_sell_target_prefilled_and_submits_it(mapped, login):
    w = mapped
    client = login(w.a_rep)
    page = _targets(client, w)
    link = f'href="{NEW}?overlap={w.map_pair_a.public_id}"'
    assert link in page and "Register deal" in page
    form = client.get(f"{NEW}?overlap={w.map_pair_a.public_id}")
    assert form.status_code == 200 and 'id="prefill-note"' in form.content.decode()
    # Alpha's own record of the account: its name and website.
    assert _initial(form) == {"company_name": "Customer A", "domain": "customer-a.example"}
    assert 'value="Customer A"' in form.content.decode() and 'value="customer-a.example"' in form.content.decode()
    done = client.post(f"{NEW}?overlap={w.map_pair_a.public_id}", {
        "company_name": "Customer A", "domain": "customer-a.example", "value": "25000", "currency": "USD",
        "expected_close": "2027-03-31", "deal_type": "new"})
    assert done.status_code == 302
    assert Registration.objects.filter(partner=w.partner_a, company_name="Customer A").exists()


def test_the_vendors_website_is_prefilled_only_when_its_sharing_shows_the_website(mapped, login):
    w = mapped
    Account.objects.filter(name="Customer A Ltd").update(website="https://www.customer-a-hidden.example")
    # Alpha's refreshed list has the account without a website: the domain could only come from ours.
    refreshed = A_LIST_CSV.replace("ALPHA-ROW-5,Customer A,customer-a.example", "ALPHA-ROW-5,Customer A Ltd,")
    account_list, _ = services.list_import(partner=w.partner_a, actor=w.a_admin, data=refreshed.encode(),
                                           filename="v2.csv", account_list=w.map_list_a)
    pair = MatchedPair.objects.get(run=account_list.runs.first(), their_row__external_id="ALPHA-ROW-5")
    client = login(w.a_rep)
    url = f"{NEW}?overlap={pair.public_id}"
    # Our open opportunities are shared with Alpha as overlapping records with the country only.
    response = client.get(url)
    assert _initial(response) == {"company_name": "Customer A Ltd", "domain": ""}
    assert "customer-a-hidden" not in response.content.decode()
    services.sharing_set(population=w.map_pop_ours_open, partner=w.partner_a, actor=w.vendor_admin, level="overlaps",
                         fields=["country", "website"])
    assert _initial(client.get(url)) == {"company_name": "Customer A Ltd", "domain": "https://www.customer-a-hidden.example"}


def test_no_prefill_for_a_pair_the_viewer_may_not_see_and_no_button_for_the_vendor(mapped, login):
    w = mapped
    url = f"{NEW}?overlap={w.map_pair_a.public_id}"
    assert login(w.b_rep).get(url).status_code == 404  # another partner's overlap
    assert login(w.a_rep).get(f"{NEW}?overlap=mpr_nonsense").status_code == 404
    # The vendor's page offers the introduction, not a registration.
    vendor_page = _targets(login(w.partner_manager), w)
    assert "Request introduction" in vendor_page and "Register deal" not in vendor_page
    # Shared as counts only, the vendor's record is not Alpha's to see: no button, no prefill.
    services.sharing_set(population=w.map_pop_ours_open, partner=w.partner_a, actor=w.vendor_admin, level="counts")
    client = login(w.a_rep)
    assert "Register deal" not in _targets(client, w)
    assert client.get(url).status_code == 404
    # A read-only member does not register deals: no button.
    services.sharing_set(population=w.map_pop_ours_open, partner=w.partner_a, actor=w.vendor_admin, level="overlaps",
                         fields=["country"])
    assert "Register deal" not in _targets(login(w.a_readonly), w)
