"""The shared company/domain normaliser (deal registration and account mapping both rely on it)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from covey.core.normalise import name_similarity, normalise_company, normalise_domain


@pytest.mark.parametrize(
    "typed, domain",
    [
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("http://eu.sales.acme.co.uk/", "acme.co.uk"),
        ("sales@emea.acme.com", "acme.com"),
        ("acme.com:8443", "acme.com"),
        ("ACME.COM.", "acme.com"),
        ("  www.acme.io  ", "acme.io"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("shop.example.com.au", "example.com.au"),
    ],
)
def test_domains_reduce_to_the_registrable_domain(typed, domain):
    assert normalise_domain(typed) == domain


@pytest.mark.parametrize("typed", ["", None, "localhost", "192.168.0.1", "not a domain", "http://", "@"])
def test_things_that_are_not_domains_normalise_to_nothing(typed):
    assert normalise_domain(typed) == ""


@pytest.mark.parametrize(
    "a, b",
    [
        ("Acme, Inc.", "ACME INC"),
        ("Acme LLC", "acme"),
        ("Müller & Söhne GmbH", "Muller and Sohne"),
        ("Société Générale S.A.", "societe generale"),
        ("The Widget Company Ltd", "Widget Company"),
        ("Northwind  Traders", "northwind traders"),
    ],
)
def test_spellings_of_the_same_company_share_one_key(a, b):
    assert normalise_company(a) == normalise_company(b)
    assert name_similarity(a, b) == 100.0


def test_different_companies_keep_different_keys_and_score_lower():
    assert normalise_company("Acme Analytics") != normalise_company("Acme Logistics")
    assert name_similarity("Acme Analytics", "Acme Logistics") < 90
    assert name_similarity("Acme", "") == 0.0


def test_word_order_does_not_matter_for_similarity():
    assert name_similarity("Traders Northwind", "Northwind Traders Ltd") == 100.0


@given(st.text(max_size=60))
def test_normalising_never_fails_and_is_idempotent(text):
    key = normalise_company(text)
    assert normalise_company(key) == key
    domain = normalise_domain(text)
    assert domain == "" or normalise_domain(domain) == domain


def test_reserved_documentation_domains_count_as_registrable():
    from covey.core.normalise import normalise_domain

    assert normalise_domain("https://www.Northwind-Traders.example/about") == "northwind-traders.example"
    assert normalise_domain("sales@eu.acme.test") == "acme.test"
    assert normalise_domain("example") == "" and normalise_domain("localhost") == ""
