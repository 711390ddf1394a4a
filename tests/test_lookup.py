"""Type-to-search fields: suggestions follow visibility, large choice sets are not shipped whole."""

from __future__ import annotations

from django.urls import reverse

from covey.core import lookup


def test_suggestions_offer_only_what_the_user_may_see(login, world):
    url = reverse("lookup", kwargs={"kind": "opportunities"})
    text = login(world.b_rep).get(url, {"q": "Deal"}).content.decode()
    assert world.opportunity_b.public_id in text
    assert world.opportunity_a.public_id not in text
    text = login(world.vendor_admin).get(url, {"q": "deal"}).content.decode()
    assert world.opportunity_a.public_id in text and world.opportunity_b.public_id in text


def test_one_letter_suggests_nothing_and_unknown_kinds_are_404(login, world):
    client = login(world.vendor_admin)
    assert client.get(reverse("lookup", kwargs={"kind": "accounts"}), {"q": "C"}).content.strip() == b""
    assert client.get(reverse("lookup", kwargs={"kind": "users"}), {"q": "ad"}).status_code == 404


def test_a_large_choice_set_becomes_a_search_box_that_still_validates(login, world, monkeypatch):
    monkeypatch.setattr(lookup, "THRESHOLD", 1)
    client = login(world.vendor_admin)
    page = client.get(reverse("activity_create")).content.decode()
    assert 'list="id_opportunity-suggestions"' in page
    assert world.opportunity_b.name not in page  # the options are not rendered into the page
    response = client.post(reverse("activity_create"), {
        "kind": "call", "subject": "Kick-off call", "occurred_at": "2026-11-20 10:00",
        "opportunity": world.opportunity_a.public_id,
    })
    assert response.status_code == 302
    from covey.crm.models import Activity

    assert Activity.objects.get(subject="Kick-off call").opportunity == world.opportunity_a


def test_with_many_partners_the_list_filter_becomes_a_search_box_and_still_filters(login, world, monkeypatch):
    monkeypatch.setattr(lookup, "THRESHOLD", 1)
    client = login(world.vendor_admin)
    page = client.get(reverse("opportunity_list")).content.decode()
    assert 'list="filter-partner-suggestions"' in page
    filtered = client.get(reverse("opportunity_list"), {"partner": world.partner_b.public_id}).content.decode()
    assert world.opportunity_b.name in filtered and world.opportunity_a.name not in filtered
