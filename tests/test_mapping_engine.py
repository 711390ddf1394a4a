"""The account-mapping engine, in worked examples and properties."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covey.mapping import KINDS, MatchOptions, accounts_frame, match_accounts
from covey.mapping.countries import country_keys, country_table, generate_names
from covey.mapping.country_names import NAMES
from covey.mapping.engine import ID_REQUIRED


def account(id: str, name: str | None = None, website: str | None = None, *, country: str | None = None,
            city: str | None = None, phone: str | None = None, domains: str | None = None) -> dict:
    return {"id": id, "name": name, "website": website, "domains": domains, "country": country, "city": city,
            "phone": phone}


def pairs(ours: list[dict], theirs: list[dict], **options) -> set[tuple[str, str, str]]:
    result = match_accounts(ours, theirs, options=MatchOptions(**options) if options else None)
    return {(r["our_id"], r["their_id"], r["kind"]) for r in result.matches.iter_rows(named=True)}


# --- domains -------------------------------------------------------------------------------


def test_same_company_on_www_and_bare_domain_matches_by_domain():
    found = pairs([account("1", "Acme Inc", "https://www.acme.com/about")], [account("a", "ACME Corporation", "acme.com")])
    assert found == {("1", "a", "domain")}


def test_an_email_address_in_the_website_column_counts_as_its_domain():
    found = pairs([account("1", "Northwind", "sales@eu.northwind.co.uk")], [account("a", "Other name", "northwind.co.uk")])
    assert found == {("1", "a", "domain")}


def test_a_domain_match_does_not_need_the_names_to_agree():
    result = match_accounts([account("1", "IBM", "ibm.com")], [account("a", "International Business Machines", "www.ibm.com")])
    [row] = result.matches.iter_rows(named=True)
    assert row["kind"] == "domain" and row["score"] < 50  # the score says how alike the names are


def test_gmail_domain_never_matches_alone():
    ours = [account("1", "Jane's Bakery", "jane@gmail.com", country="US")]
    theirs = [account("a", "Totally Different Ltd", "https://gmail.com", country="GB")]
    assert pairs(ours, theirs) == set()


@pytest.mark.parametrize("domain", ["example.com", "outlook.com", "yahoo.co.uk", "acme.myshopify.com", "linkedin.com/company/x"])
def test_free_mail_placeholder_and_platform_domains_never_match_alone(domain):
    assert pairs([account("1", "Alpha", domain)], [account("a", "Omega", domain)]) == set()


def test_a_free_mail_domain_does_not_stop_a_name_match():
    ours = [account("1", "Jane's Bakery", "jane@gmail.com", country="US", city="Austin")]
    theirs = [account("a", "JANE'S BAKERY LLC", "bakery@gmail.com", country="USA", city="Austin")]
    assert pairs(ours, theirs) == {("1", "a", "name_exact")}


def test_localhost_and_ip_addresses_are_not_domains():
    ours = [account("1", "Alpha", "http://localhost:8000"), account("2", "Beta", "10.0.0.1")]
    theirs = [account("a", "Omega", "localhost"), account("b", "Gamma", "http://10.0.0.1/")]
    assert pairs(ours, theirs) == set()


def test_a_company_listed_with_several_domains_matches_on_any_of_them():
    ours = [account("1", "Acme", "acme.com", domains="acme.de; acme-group.com")]
    theirs = [account("a", "Acme GmbH", "www.acme.de"), account("b", "Acme Group", "acme-group.com")]
    assert pairs(ours, theirs) == {("1", "a", "domain"), ("1", "b", "domain")}


def test_rows_sharing_an_id_are_one_account_with_all_their_domains():
    ours = [account("1", "Acme", "acme.com"), account("1", "Acme", "acme.fr")]
    theirs = [account("a", "Acme SAS", "acme.fr")]
    result = match_accounts(ours, theirs)
    assert result.matches.rows() == [("1", "a", "domain", 100.0)]
    assert result.counts["our_accounts"] == 1


def test_duplicates_in_their_crm_all_match():
    ours = [account("1", "Acme", "acme.com")]
    theirs = [account("a", "Acme Inc", "acme.com"), account("b", "ACME", "http://www.acme.com")]
    assert pairs(ours, theirs) == {("1", "a", "domain"), ("1", "b", "domain")}


def test_a_domain_shared_by_many_accounts_is_not_evidence():
    theirs = [account(str(i), f"Shop {i}", "bigcloudhost.com") for i in range(30)]
    result = match_accounts([account("1", "My Shop", "bigcloudhost.com")], theirs)
    assert result.matches.height == 0 and result.counts["crowded_domains_ignored"] == 1


# --- exact names -------------------------------------------------------------------------


def test_legal_suffix_case_and_accent_variants_match_by_exact_name_in_the_same_city():
    ours = [account("1", "Müller & Söhne GmbH", country="DE", city="München")]
    theirs = [account("a", "MULLER AND SOHNE", country="Germany", city="Munchen")]
    assert pairs(ours, theirs) == {("1", "a", "name_exact")}


def test_two_companies_sharing_a_name_in_different_countries_do_not_match():
    ours = [account("1", "Summit Consulting", "summit.com", country="US")]
    theirs = [account("a", "Summit Consulting Ltd", "summit.co.uk", country="United Kingdom")]
    assert pairs(ours, theirs) == set()


def test_same_name_in_the_same_country_but_another_city_and_domain_is_a_different_company():
    ours = [account("1", "Apex Solutions", "apexsolutions.com", country="US", city="Denver")]
    theirs = [account("a", "Apex Solutions Inc", "apex-solutions.net", country="US", city="Boston")]
    assert pairs(ours, theirs) == set()


def test_a_unique_name_matches_when_nothing_disagrees():
    assert pairs([account("1", "Quintarro Labs")], [account("a", "Quintarro Labs LLC", country="US")]) == {("1", "a", "name_exact")}


def test_an_ambiguous_name_needs_a_city_or_phone():
    ours = [account("1", "Northwind", country="US"), account("2", "Northwind", country="US")]
    theirs = [account("a", "Northwind Inc", country="US")]
    assert pairs(ours, theirs) == set()
    ours[1]["city"], theirs[0]["city"] = "Seattle", "Seattle"
    assert pairs(ours, theirs) == {("2", "a", "name_exact")}


def test_the_same_phone_number_in_another_format_supports_a_name():
    ours = [account("1", "Globex", "globex.com", country="US", phone="+1 (555) 010-2000")]
    theirs = [account("a", "Globex Corp", "globex-corp.com", country="US", phone="555 010 2000")]
    assert pairs(ours, theirs) == {("1", "a", "name_exact")}


def test_blank_names_never_match_each_other():
    assert pairs([account("1", "", country="US"), account("2", None)], [account("a", " ", country="US"), account("b")]) == set()


# --- fuzzy names --------------------------------------------------------------------------


def test_a_typo_matches_by_fuzzy_name_with_the_same_city():
    ours = [account("1", "Jonhson Controls", country="US", city="Milwaukee")]
    theirs = [account("a", "Johnson Controls Inc", country="US", city="Milwaukee")]
    assert pairs(ours, theirs) == {("1", "a", "name_fuzzy")}


def test_different_companies_with_similar_names_do_not_match():
    ours = [account("1", "Acme Analytics", country="US", city="Austin")]
    theirs = [account("a", "Acme Logistics", country="US", city="Austin")]
    assert pairs(ours, theirs) == set()


def test_fuzzy_matching_needs_a_supporting_field():
    ours = [account("1", "Jonhson Controls")]
    theirs = [account("a", "Johnson Controls Inc")]
    assert pairs(ours, theirs) == set()


def test_a_fuzzy_match_is_the_best_candidate_of_both_accounts():
    ours = [account("1", "Velmora Analytics", country="US", city="Austin")]
    theirs = [account("a", "Velmora Analytic", country="US", city="Austin"),
              account("b", "Velmore Analytix", country="US", city="Austin")]
    result = match_accounts(ours, theirs)
    assert result.matches.select("their_id", "kind").rows() == [("a", "name_fuzzy")]


def test_a_group_word_or_a_missing_word_is_forgiven_only_with_strong_support():
    ours = [account("1", "Kaufman Electric", country="US", city="Dayton")]
    theirs = [account("a", "Kaufman", country="US", city="Dayton")]
    assert pairs(ours, theirs) == {("1", "a", "name_fuzzy")}
    theirs[0]["city"] = None
    assert pairs(ours, theirs) == set()


def test_an_account_matched_by_domain_gets_no_fuzzy_partner():
    ours = [account("1", "Velmora Analytics", "velmora.com", country="US", city="Austin")]
    theirs = [account("a", "Velmora", "velmora.com"), account("b", "Velmora Analytic", country="US", city="Austin")]
    assert pairs(ours, theirs) == {("1", "a", "domain")}


# --- the frame in, the frame out ----------------------------------------------------------


def test_matches_frame_has_the_documented_columns_and_kinds():
    result = match_accounts([account("1", "Acme", "acme.com")], [account("a", "Acme", "acme.com")])
    assert result.matches.columns == ["our_id", "their_id", "kind", "score"]
    assert set(result.matches["kind"]) <= set(KINDS)
    assert set(result.seconds) == {"normalise", "domain", "name_exact", "name_fuzzy", "select"}


def test_accounts_frame_fills_missing_columns_and_needs_an_id():
    frame = accounts_frame([{"id": 1, "name": "Acme"}])
    assert frame.columns == ["id", "name", "website", "domains", "country", "city", "phone"]
    assert frame["id"].to_list() == ["1"]
    with pytest.raises(ValueError, match=ID_REQUIRED):
        accounts_frame([{"name": "Acme"}])


def test_empty_lists_match_nothing():
    empty = pl.DataFrame(schema={"id": pl.String, "name": pl.String})
    assert match_accounts(empty, [account("a", "Acme", "acme.com")]).matches.height == 0
    assert match_accounts(empty, empty).matches.height == 0


def test_country_keys_understand_names_codes_and_languages():
    keys = country_keys(pl.Series(["germany", "deutschland", "de", "deu", "usa", "etats unis", "atlantis"]))
    assert keys.to_list() == ["de", "de", "de", "de", "us", "us", "atlantis"]
    assert country_table().height > 1000


def test_the_shipped_country_names_are_babels():
    assert NAMES == generate_names()


# --- properties ---------------------------------------------------------------------------

_names = st.sampled_from(["Acme", "Acme Inc", "ACME Corp", "Globex", "Globex GmbH", "Initech", "Initech LLC",
                          "Umbrella", "Umbrela", "Hooli", "Hooli Group", "Vandelay", "", None])
_sites = st.sampled_from(["acme.com", "www.acme.com", "globex.de", "gmail.com", "hooli.io", "sales@hooli.io", "", None])
_countries = st.sampled_from(["US", "USA", "Germany", "DE", "GB", None])
_cities = st.sampled_from(["Austin", "Berlin", "London", None])
_accounts = st.lists(
    st.tuples(st.integers(0, 6), _names, _sites, _countries, _cities),
    min_size=0, max_size=12,
)


def _frame(rows, prefix: str) -> list[dict]:
    return [account(f"{prefix}{i}", name, site, country=country, city=city) for i, name, site, country, city in rows]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_accounts, _accounts)
def test_matching_is_symmetric_references_real_ids_and_scores_within_0_and_100(ours_rows, their_rows):
    ours, theirs = _frame(ours_rows, "o"), _frame(their_rows, "t")
    forward = match_accounts(ours, theirs).matches
    backward = match_accounts(theirs, ours).matches
    assert set(forward.iter_rows()) == {(b, a, kind, score) for a, b, kind, score in backward.iter_rows()}
    assert set(forward["our_id"]) <= {a["id"] for a in ours}
    assert set(forward["their_id"]) <= {a["id"] for a in theirs}
    assert forward["score"].is_between(0, 100).all()
    assert forward.select("our_id", "their_id").is_unique().all()  # one row per pair


def test_the_engine_imports_and_runs_without_django():
    import os
    import subprocess
    import sys

    code = (
        "import sys; from covey.mapping import match_accounts; from covey.mapping.reader import read_accounts; "
        "r = match_accounts([{'id': '1', 'name': 'Acme', 'website': 'acme.com'}], "
        "[{'id': 'a', 'name': 'Acme Inc', 'website': 'www.acme.com'}]); "
        "assert r.matches.height == 1; assert not any(m.startswith('django') for m in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
