"""Sharing: each side sees the other's populations exactly as far as their owner shares them — the
same in the selector, the pages, the API and the CSV export. Counts only by default; hidden removes
a population; overlapping records show the name and the chosen fields; all records shows every
record. Partner B never sees anything of A's mapping."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.urls import reverse

from covey.accountmaps import selectors, services
from tests.access_rows.mapping import build
from tests.test_api import as_user


@pytest.fixture
def mapped(world):
    build(world)
    return world


def _view(user, w):
    return selectors.mapping_view(user=user, their_list=w.map_list_a)


def _cell(view, our_name: str, their_name: str) -> tuple[str, str]:
    o = next(p for p in view.ours if p.population.name == our_name)
    t = next(p for p in view.theirs if p.population.name == their_name)
    return o.public_id, t.public_id


def test_the_vendor_shares_counts_only_by_default(mapped, login):
    w = mapped
    view = _view(w.a_rep, w)
    prospects = next(p for p in view.ours if p.population.name == "Prospects")
    assert prospects.level == "counts" and prospects.fields == ()
    ours, theirs = _cell(view, "Prospects", "Customers")
    assert selectors.matrix(view)[(ours, theirs)] == 2  # Globex and Customer A (Initech is their prospect)
    with pytest.raises(selectors.NotShared, match="counts only"):
        selectors.overlap_records(view, ours=ours, theirs=theirs)
    api = as_user(w.a_rep).get(f"/api/mapping/lists/{w.map_list_a.public_id}/overlaps?ours={ours}&theirs={theirs}")
    assert api.status_code == 403 and "counts only" in api.json()["detail"]
    export = login(w.a_rep).get(reverse("mapping_overlaps_export", kwargs={"public_id": w.map_list_a.public_id})
                                  + f"?ours={ours}&theirs={theirs}")
    assert export.status_code == 403


def test_overlapping_records_show_exactly_the_chosen_fields_and_only_that_population(mapped, login):
    w = mapped
    services.sharing_set(population=w.map_pop_ours_prospects, partner=w.partner_a, actor=w.partner_manager,
                         level="overlaps", fields=["country"])
    view = _view(w.a_rep, w)
    ours, theirs = _cell(view, "Prospects", "Customers")
    records = selectors.overlap_records(view, ours=ours, theirs=theirs)
    assert {r["ours"]["name"] for r in records} == {"Globex Corporation", "Customer A Ltd"}
    assert all(set(r["ours"]) == {"name", "country"} for r in records)
    assert all(set(r["theirs"]) == {"name", "website", "country", "city", "industry", "region", "employees", "owner",
                                    "status", "open_opportunity"} for r in records)  # A's own records, in full
    ours_customers, _ = _cell(view, "Customers", "Customers")
    with pytest.raises(selectors.NotShared):
        selectors.overlap_records(view, ours=ours_customers, theirs=theirs)

    text = as_user(w.a_rep).get(f"/api/mapping/lists/{w.map_list_a.public_id}/overlaps?ours={ours}&theirs={theirs}").content.decode()
    assert "Globex Corporation" in text and "globex-corp.example" not in text.split('"theirs"')[0]
    csv = login(w.a_rep).get(reverse("mapping_overlaps_export", kwargs={"public_id": w.map_list_a.public_id})
                               + f"?ours={ours}&theirs={theirs}").content.decode()
    header = csv.splitlines()[0]
    assert header.startswith("overlap,kind,score,our name,our country,their name,their website")
    assert "our website" not in header and "Northwind Traders," not in csv


def test_a_hidden_population_disappears_for_that_partner_only(mapped):
    w = mapped
    customers = w.map_our_list.populations.get(name="Customers")
    services.sharing_set(population=customers, partner=w.partner_a, actor=w.vendor_admin, level="hidden")
    assert "Customers" not in [p.population.name for p in _view(w.a_rep, w).ours]
    names = [p["name"] for p in as_user(w.a_rep).get(f"/api/mapping/lists/{w.map_list_a.public_id}/populations").json()
             if p["side"] == "ours"]
    assert names == ["Open opportunities", "Prospects"]
    matrix = as_user(w.a_rep).get(f"/api/mapping/lists/{w.map_list_a.public_id}/matrix").json()
    assert customers.public_id not in {c["ours"] for c in matrix["cells"]}
    b_view = selectors.mapping_view(user=w.b_rep, their_list=w.map_list_b)
    assert "Customers" in [p.population.name for p in b_view.ours]


def test_all_records_shows_every_record_of_the_population_overlapping_or_not(mapped):
    w = mapped
    services.sharing_set(population=w.map_pop_ours_prospects, partner=w.partner_a, actor=w.vendor_admin, level="all")
    view = _view(w.a_admin, w)
    rows = selectors.population_records(view, population=w.map_pop_ours_prospects.public_id, side="ours")
    assert {r["name"] for r in rows} == {"Customer A Ltd", "Customer B Ltd", "Globex Corporation", "Initech"}
    with pytest.raises(selectors.NotShared):
        selectors.population_records(view, population=w.map_our_list.populations.get(name="Customers").public_id, side="ours")


def test_the_vendor_sees_the_partners_populations_as_the_partner_shares_them(mapped):
    w = mapped
    view = _view(w.sales_rep, w)
    customers = view.population(w.map_pop_a_customers.public_id, "theirs")
    assert customers.level == "overlaps" and customers.fields == ("name", "country", "industry")
    ours, theirs = _cell(view, "Open opportunities", "Customers")
    records = selectors.overlap_records(view, ours=ours, theirs=theirs)
    assert [set(r["theirs"]) for r in records] == [{"name", "country", "industry"}] * len(records) and records
    services.sharing_set(population=w.map_pop_a_customers, partner=w.partner_a, actor=w.a_admin, level="counts")
    with pytest.raises(selectors.NotShared):
        selectors.overlap_records(_view(w.sales_rep, w), ours=ours, theirs=theirs)


def test_partner_b_cannot_reach_partner_as_mapping_anywhere(mapped):
    w = mapped
    with pytest.raises(Http404):
        selectors.mapping_view(user=w.b_rep, their_list=w.map_list_a)
    with pytest.raises(Http404):
        selectors.pair_for_user(user=w.b_admin, public_id=w.map_pair_a.public_id)
    lists = as_user(w.b_rep).get("/api/mapping/lists").json()
    assert [item["name"] for item in lists["items"]] == ["Beta book"]
    b_view = selectors.mapping_view(user=w.b_rep, their_list=w.map_list_b)
    assert all(p.population.account_list_id == w.map_list_b.pk for p in b_view.theirs)


def test_a_pair_action_needs_the_other_sides_record_to_be_shared(mapped):
    w = mapped
    pair, _ = selectors.pair_for_user(user=w.a_rep, public_id=w.map_pair_a.public_id)
    assert pair == w.map_pair_a
    services.sharing_set(population=w.map_pop_ours_open, partner=w.partner_a, actor=w.vendor_admin, level="counts")
    with pytest.raises(Http404):
        selectors.pair_for_user(user=w.a_rep, public_id=w.map_pair_a.public_id)
    assert as_user(w.a_rep).post(f"/api/mapping/overlaps/{w.map_pair_a.public_id}/introduction", {}).status_code == 404
