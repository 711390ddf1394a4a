"""The list-page helper: search, whitelisted filters, sorting, pagination and the links between pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import RequestFactory

from covey.core.listing import Filter, build_listing, render_list, wants_results_only
from covey.core.money import Money
from covey.core.templatetags.covey import money, sort_th
from covey.partners.models import Lifecycle, Partner

rf = RequestFactory()


@pytest.fixture
def partners(db):
    """60 partners: every third one active, names Partner 00 … Partner 59."""
    return Partner.objects.bulk_create(
        Partner(
            name=f"Partner {i:02d}", domain=f"p{i:02d}.example",
            lifecycle=Lifecycle.ACTIVE if i % 3 == 0 else Lifecycle.PROSPECT,
            employees=i,
        )
        for i in range(60)
    )


def listing_for(query: str = "", **kwargs):
    request = rf.get("/partners/" + (f"?{query}" if query else ""))
    options = {
        "search": ("name", "domain"),
        "filters": [
            Filter("lifecycle", "Lifecycle", lookup="lifecycle", choices=Lifecycle.choices),
            Filter("since", "Since", lookup="created_at__date__gte", kind="date"),
        ],
        "sorts": {"name": ["name"], "employees": ["employees"]},
        "default_sort": "name",
    }
    options.update(kwargs)
    return build_listing(request, Partner.objects.all(), **options)


def names(listing) -> list[str]:
    return [p.name for p in listing.objects]


def params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_a_list_shows_25_per_page_and_counts_the_whole_set(partners):
    listing = listing_for()
    assert len(listing.objects) == 25
    assert listing.total == 60
    assert names(listing)[0] == "Partner 00"


def test_search_matches_any_search_field_ignoring_case(partners):
    assert names(listing_for("q=PARTNER 07")) == ["Partner 07"]
    assert names(listing_for("q=p13.exa")) == ["Partner 13"]


def test_a_whitelisted_filter_narrows_the_list(partners):
    listing = listing_for("lifecycle=active")
    assert listing.total == 20
    assert listing.values == {"lifecycle": "active"}
    assert listing.is_filtered


@pytest.mark.parametrize("query", ["lifecycle=hacked", "lifecycle=", "since=2024-13-45", "since=yesterday", "bogus=1"])
def test_unknown_filter_values_are_ignored_not_errors(partners, query):
    listing = listing_for(query)
    assert listing.total == 60
    assert not listing.is_filtered


def test_a_date_filter_accepts_an_iso_date(partners):
    assert listing_for("since=2000-01-01").total == 60
    assert listing_for("since=2999-01-01").total == 0


def test_sorting_by_a_whitelisted_key_both_ways(partners):
    assert names(listing_for("sort=-employees"))[:2] == ["Partner 59", "Partner 58"]
    assert names(listing_for("sort=employees"))[:2] == ["Partner 00", "Partner 01"]


@pytest.mark.parametrize("sort", ["password", "-password", "name;drop", "--name", "owner__password"])
def test_an_unknown_sort_falls_back_to_the_default(partners, sort):
    listing = listing_for(f"sort={sort}")
    assert listing.sort == "name"
    assert names(listing)[0] == "Partner 00"


@pytest.mark.parametrize("page, first", [("2", "Partner 25"), ("abc", "Partner 00"), ("-1", "Partner 50"), ("999", "Partner 50"), ("1e400", "Partner 00")])
def test_bad_page_numbers_show_a_real_page(partners, page, first):
    assert names(listing_for(f"page={page}"))[0] == first


def test_page_links_keep_search_filters_and_sort(partners):
    listing = listing_for("q=partner&lifecycle=prospect&sort=-employees&junk=1")
    assert listing.total == 40
    next_params = params(listing.next_url)
    assert next_params == {"q": ["partner"], "lifecycle": ["prospect"], "sort": ["-employees"], "page": ["2"]}
    assert listing.prev_url is None
    assert [link.number for link in listing.page_links] == [1, 2]
    assert listing.page_links[0].current


def test_sort_links_keep_filters_toggle_direction_and_go_back_to_page_one(partners):
    listing = listing_for("lifecycle=active&sort=employees&page=1")
    assert params(listing.sort_url("employees")) == {"lifecycle": ["active"], "sort": ["-employees"]}
    assert params(listing.sort_url("name")) == {"lifecycle": ["active"]}  # name is the default
    assert listing.sort_state("employees") == "ascending"
    assert listing.sort_state("name") is None


def test_the_export_query_has_filters_and_sort_but_no_page(partners):
    listing = listing_for("lifecycle=active&sort=-employees&page=2")
    assert params(listing.export_query) == {"lifecycle": ["active"], "sort": ["-employees"]}
    assert listing_for().export_query == ""
    assert listing.clear_url == "/partners/"


def test_a_long_search_is_cut_rather_than_refused(partners):
    assert len(listing_for("q=" + "x" * 5000).q) == 200


def test_only_an_htmx_request_aimed_at_the_results_gets_the_partial(db):
    plain = rf.get("/x/")
    plain.htmx = _Htmx(False)
    aimed = rf.get("/x/")
    aimed.htmx = _Htmx(True, target="list-results")
    elsewhere = rf.get("/x/")
    elsewhere.htmx = _Htmx(True, target="sidebar")
    restore = rf.get("/x/")
    restore.htmx = _Htmx(True, target="list-results", history_restore_request=True)
    assert [wants_results_only(r) for r in (plain, aimed, elsewhere, restore)] == [False, True, False, False]


def test_render_list_varies_on_the_htmx_headers(partners, rf_user):
    request = rf.get("/partners/")
    request.user = rf_user
    request.htmx = _Htmx(True, target="list-results")
    listing = listing_for()
    response = render_list(request, "partners/partner_list.html", "partners/_partner_results.html", {"listing": listing})
    assert "HX-Request" in response["Vary"]
    assert b"<html" not in response.content
    assert b"Partner 00" in response.content


def test_the_money_filter_prints_amounts_exactly():
    assert money(Money(4_800_000, "USD")) == "48,000.00 USD"
    assert money(4_800_000, "USD") == "48,000.00 USD"
    assert money(1500, "JPY") == "1,500 JPY"
    assert money(None, "USD") == "—"
    assert money(12.5, "USD") == "—"  # a float is never shown as money


def test_a_sort_header_links_to_the_other_direction_and_says_which_is_on(partners):
    listing = listing_for("sort=employees")
    html = sort_th(listing, "employees", "Employees", "num")
    assert 'aria-sort="ascending"' in html
    assert "sort=-employees" in html
    assert 'class="num"' in html


class _Htmx:
    def __init__(self, on: bool, target: str | None = None, history_restore_request: bool = False):
        self.on, self.target, self.history_restore_request = on, target, history_restore_request

    def __bool__(self) -> bool:
        return self.on


@pytest.fixture
def rf_user(db):
    from covey.core.models import User

    return User.objects.create_user("lister@acmecloud.example", "x" * 12, staff_role="admin")


def test_a_live_update_pushes_the_clean_address_of_the_list(partners, rf_user):
    request = rf.get("/partners/?q=partner&lifecycle=&owner=&sort=-employees&page=2&junk=1")
    request.user = rf_user
    request.htmx = _Htmx(True, target="list-results")
    listing = listing_for("q=partner&lifecycle=&owner=&sort=-employees&page=2&junk=1")
    response = render_list(request, "partners/partner_list.html", "partners/_partner_results.html", {"listing": listing})
    assert response["HX-Push-Url"] == "/partners/?q=partner&sort=-employees&page=2"
