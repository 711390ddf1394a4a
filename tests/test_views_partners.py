"""Partner pages: the vendor's directory, profiles, editing and the people of a partner."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from covey.core.models import AuditEvent
from covey.partners.models import Membership, Partner
from covey.partners.services import LAST_ADMIN, USER_IN_OTHER_PARTNER

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- directory -------------------------------------------------------------------------------


def test_the_directory_lists_every_partner_for_vendor_staff(cast, login):
    response = login(cast.executive).get(url("partner_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha Integrations" in html and "Beta Resellers" in html
    assert "2 partners" in html


def test_the_directory_searches_names_and_domains(cast, login):
    html = login(cast.sales_rep).get(url("partner_list"), {"q": "beta.exa"}).content.decode()
    assert "Beta Resellers" in html and "Alpha Integrations" not in html


@pytest.mark.parametrize("query, shown, hidden", [
    ({"type": "reseller"}, "Beta Resellers", "Alpha Integrations"),
    ({"region": "na", "type": "system_integrator"}, "Alpha Integrations", "Beta Resellers"),
])
def test_the_directory_filters_by_type_and_region(cast, login, query, shown, hidden):
    html = login(cast.vendor_admin).get(url("partner_list"), query).content.decode()
    assert shown in html and hidden not in html


def test_the_directory_filters_by_owner(cast, login):
    client = login(cast.vendor_admin)
    html = client.get(url("partner_list"), {"owner": cast.partner_manager.public_id}).content.decode()
    assert "Alpha Integrations" in html and "Beta Resellers" not in html
    cast.partner_b.owner = None
    cast.partner_b.save()
    html = client.get(url("partner_list"), {"owner": "none"}).content.decode()
    assert "Beta Resellers" in html and "Alpha Integrations" not in html


def test_the_directory_ignores_filter_values_it_does_not_know(cast, login):
    response = login(cast.vendor_admin).get(url("partner_list"), {"owner": "usr_nobody", "lifecycle": "<b>", "sort": "password", "page": "x"})
    assert response.status_code == 200
    assert "Alpha Integrations" in response.content.decode() and "Beta Resellers" in response.content.decode()


def test_the_directory_sorts_and_explains_an_empty_result(cast, login):
    client = login(cast.vendor_admin)
    html = client.get(url("partner_list"), {"sort": "-name"}).content.decode()
    assert html.index("Beta Resellers") < html.index("Alpha Integrations")
    html = client.get(url("partner_list"), {"q": "zzz"}).content.decode()
    assert "No partners match these filters" in html and "clear filters" in html


def test_live_search_answers_with_the_results_only(cast, login):
    response = login(cast.vendor_admin).get(
        url("partner_list"), {"q": "alpha"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results",
    )
    html = response.content.decode()
    assert "<html" not in html and "Alpha Integrations" in html and "Beta Resellers" not in html


def test_a_partner_user_is_sent_to_its_own_profile_instead_of_the_directory(cast, login):
    response = login(cast.b_rep).get(url("partner_list"))
    assert response.status_code == 302
    assert response["Location"] == url("partner_detail", cast.partner_b.public_id)


def test_signed_out_visitors_are_sent_to_log_in(cast, client):
    for target in (url("partner_list"), url("partner_detail", cast.partner_a.public_id), url("partner_create")):
        response = client.get(target)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- create ----------------------------------------------------------------------------------


def test_a_partner_manager_adds_a_partner_with_several_types(cast, login):
    response = login(cast.partner_manager).post(url("partner_create"), {
        "name": "Gamma Cloud", "domain": "https://www.Gamma.example/", "region": "emea", "country": "de",
        "lifecycle": "onboarding", "owner": cast.partner_manager.public_id,
        "types": ["reseller", "msp"], "segments": ["smb"], "employees": "40",
    })
    partner = Partner.objects.get(name="Gamma Cloud")
    assert response.status_code == 302 and response["Location"] == url("partner_detail", partner.public_id)
    assert sorted(partner.type_codes) == ["msp", "reseller"]
    assert partner.domain == "gamma.example" and partner.country == "DE"
    assert partner.owner == cast.partner_manager
    assert AuditEvent.objects.filter(object_id=partner.public_id, action="create").exists()


@pytest.mark.parametrize("who", ["sales_rep", "finance", "executive", "a_admin", "b_rep"])
def test_only_admins_and_partner_managers_add_partners(cast, login, who):
    client = login(getattr(cast, who))
    assert client.get(url("partner_create")).status_code == 403
    assert client.post(url("partner_create"), {"name": "Sneaky", "region": "na", "lifecycle": "active"}).status_code == 403
    assert not Partner.objects.filter(name="Sneaky").exists()


def test_a_partner_without_a_name_is_refused_with_a_message(cast, login):
    response = login(cast.vendor_admin).post(url("partner_create"), {"name": "", "region": "na", "lifecycle": "active", "country": "D1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html and "two-letter ISO code" in html
    assert Partner.objects.count() == 2


# --- detail ----------------------------------------------------------------------------------


def test_a_partner_user_sees_its_profile_people_and_deals(world, login):
    html = login(world.a_readonly).get(url("partner_detail", world.partner_a.public_id)).content.decode()
    assert "Alpha Integrations" in html
    assert "rep@alpha.example" in html and "Partner admin" in html
    assert "Deal A" in html and "Joint demo A" in html
    assert "Deal B" not in html and "Beta Resellers" not in html
    assert "Edit profile" not in html and "Send invitation" not in html


def test_the_outsider_cannot_see_another_partners_profile(world, login):
    client = login(world.b_rep)
    assert client.get(url("partner_detail", world.partner_a.public_id)).status_code == 404
    assert client.get(url("partner_detail", "ptn_doesnotexist")).status_code == 404


def test_the_profile_shows_the_change_history(cast, login):
    client = login(cast.partner_manager)
    client.post(url("partner_edit", cast.partner_a.public_id), {"name": "Alpha Integrations GmbH", "region": "emea", "lifecycle": "active"})
    html = client.get(url("partner_detail", cast.partner_a.public_id)).content.decode()
    assert "History" in html and "Alpha Integrations GmbH" in html and "pm@acmecloud.example" in html


# --- edit ------------------------------------------------------------------------------------


def test_the_owning_partner_manager_edits_profile_and_types(cast, login):
    response = login(cast.partner_manager).post(url("partner_edit", cast.partner_a.public_id), {
        "name": "Alpha Integrations", "region": "emea", "lifecycle": "onboarding",
        "owner": cast.partner_manager.public_id, "types": ["system_integrator", "technology"],
    })
    assert response.status_code == 302
    cast.partner_a.refresh_from_db()
    assert cast.partner_a.region == "emea" and cast.partner_a.lifecycle == "onboarding"
    assert sorted(cast.partner_a.type_codes) == ["system_integrator", "technology"]
    events = AuditEvent.objects.filter(object_id=cast.partner_a.public_id, action="update")
    assert events.get(changes__has_key="region").changes["region"] == ["na", "emea"]
    assert events.get(changes__has_key="types").changes["types"] == [["system_integrator"], ["system_integrator", "technology"]]


def test_the_edit_form_starts_with_the_current_values(cast, login):
    html = login(cast.partner_manager).get(url("partner_edit", cast.partner_a.public_id)).content.decode()
    assert 'value="Alpha Integrations"' in html
    assert f'<option value="{cast.partner_manager.public_id}" selected>' in html
    assert 'value="system_integrator" id="id_types_3" checked' in html
    assert 'value="reseller" id="id_types_1">' in html


def test_a_partner_admin_edits_its_profile_but_not_lifecycle_or_owner(cast, login):
    client = login(cast.a_admin)
    form = client.get(url("partner_edit", cast.partner_a.public_id)).content.decode()
    assert 'name="lifecycle"' not in form and 'name="owner"' not in form
    response = client.post(url("partner_edit", cast.partner_a.public_id), {
        "name": "Alpha Integrations", "region": "na", "description": "We integrate.",
        "lifecycle": "terminated", "owner": cast.other_manager.public_id,
    })
    assert response.status_code == 302
    cast.partner_a.refresh_from_db()
    assert cast.partner_a.description == "We integrate."
    assert cast.partner_a.lifecycle == "active" and cast.partner_a.owner == cast.partner_manager


@pytest.mark.parametrize("who", ["other_manager", "sales_rep", "finance", "executive", "a_rep", "a_readonly"])
def test_people_without_the_right_cannot_edit_a_partner(cast, login, who):
    client = login(getattr(cast, who))
    target = url("partner_edit", cast.partner_a.public_id)
    assert client.get(target).status_code == 403
    assert client.post(target, {"name": "Renamed", "region": "na", "lifecycle": "active"}).status_code == 403
    cast.partner_a.refresh_from_db()
    assert cast.partner_a.name == "Alpha Integrations"


def test_the_outsiders_admin_gets_not_found_on_another_partners_edit_page(cast, login):
    assert login(cast.b_admin).get(url("partner_edit", cast.partner_a.public_id)).status_code == 404


def test_an_invalid_edit_changes_nothing_and_keeps_the_page_title(cast, login):
    response = login(cast.vendor_admin).post(url("partner_edit", cast.partner_a.public_id), {
        "name": "", "region": "mars", "lifecycle": "active",
    })
    assert response.status_code == 200
    assert "Edit Alpha Integrations" in response.content.decode()
    cast.partner_a.refresh_from_db()
    assert cast.partner_a.name == "Alpha Integrations" and cast.partner_a.region == "na"


# --- people ----------------------------------------------------------------------------------


def test_a_partner_admin_invites_a_colleague(cast, login):
    response = login(cast.a_admin).post(url("partner_member_add", cast.partner_a.public_id), {
        "member-email": "New.Person@Alpha.example", "member-full_name": "New Person", "member-role": "rep",
    })
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="new.person@alpha.example")
    assert membership.partner == cast.partner_a and membership.role == "rep"
    assert len(mail.outbox) == 1 and "new.person@alpha.example" in mail.outbox[0].to


def test_inviting_someone_from_another_partner_is_refused_with_a_message(cast, login):
    response = login(cast.partner_manager).post(url("partner_member_add", cast.partner_a.public_id), {
        "member-email": "rep@beta.example", "member-role": "rep",
    })
    assert response.status_code == 200
    assert USER_IN_OTHER_PARTNER in response.content.decode()
    assert Membership.objects.get(user=cast.b_rep).partner == cast.partner_b
    assert not mail.outbox


def test_an_invitation_needs_a_valid_email(cast, login):
    response = login(cast.a_admin).post(url("partner_member_add", cast.partner_a.public_id), {"member-email": "not-an-email", "member-role": "rep"})
    assert "Enter a valid email address." in response.content.decode()
    assert cast.partner_a.memberships.count() == 3


@pytest.mark.parametrize("who, status", [("a_rep", 403), ("a_readonly", 403), ("finance", 403), ("executive", 403), ("b_admin", 404)])
def test_only_admins_and_the_owner_manage_people(cast, login, who, status):
    client = login(getattr(cast, who))
    partner_id = cast.partner_a.public_id
    assert client.post(url("partner_member_add", partner_id), {"member-email": "x@alpha.example", "member-role": "admin"}).status_code == status
    assert client.post(url("partner_member_role", partner_id, cast.a_rep.public_id), {"role": "admin"}).status_code == status
    assert client.post(url("partner_member_remove", partner_id, cast.a_rep.public_id)).status_code == status
    assert client.get(url("partner_member_remove", partner_id, cast.a_rep.public_id)).status_code == status
    assert Membership.objects.get(user=cast.a_rep).role == "rep"
    assert not Membership.objects.filter(user__email="x@alpha.example").exists()


def test_adding_a_member_only_accepts_post(cast, login):
    assert login(cast.a_admin).get(url("partner_member_add", cast.partner_a.public_id)).status_code == 405
    assert login(cast.a_admin).get(url("partner_member_role", cast.partner_a.public_id, cast.a_rep.public_id)).status_code == 405


def test_a_partner_admin_changes_a_colleagues_role(cast, login):
    response = login(cast.a_admin).post(url("partner_member_role", cast.partner_a.public_id, cast.a_rep.public_id), {"role": "read_only"})
    assert response.status_code == 302
    assert Membership.objects.get(user=cast.a_rep).role == "read_only"


def test_the_last_partner_admin_cannot_step_down(cast, login):
    client = login(cast.a_admin)
    response = client.post(url("partner_member_role", cast.partner_a.public_id, cast.a_admin.public_id), {"role": "rep"}, follow=True)
    assert LAST_ADMIN in messages_of(response)
    assert Membership.objects.get(user=cast.a_admin).role == "admin"
    response = client.post(url("partner_member_remove", cast.partner_a.public_id, cast.a_admin.public_id), follow=True)
    assert LAST_ADMIN in messages_of(response)
    assert Membership.objects.filter(user=cast.a_admin).exists()


def test_removing_a_person_asks_first_then_ends_their_access(cast, login):
    client = login(cast.partner_manager)
    target = url("partner_member_remove", cast.partner_a.public_id, cast.a_rep.public_id)
    confirm = client.get(target)
    assert confirm.status_code == 200 and "Remove rep@alpha.example" in confirm.content.decode()
    assert Membership.objects.filter(user=cast.a_rep).exists()
    response = client.post(target)
    assert response.status_code == 302
    assert not Membership.objects.filter(user=cast.a_rep).exists()
    cast.a_rep.refresh_from_db()
    assert not cast.a_rep.is_active


def test_a_member_of_another_partner_is_not_found_on_this_partner(cast, login):
    client = login(cast.vendor_admin)
    response = client.post(url("partner_member_role", cast.partner_a.public_id, cast.b_rep.public_id), {"role": "admin"})
    assert response.status_code == 404
    assert Membership.objects.get(user=cast.b_rep).role == "rep"


