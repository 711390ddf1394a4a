"""The batched normal forms equal deal registration's, value for value."""

from __future__ import annotations

import polars as pl
import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from covey.core.normalise import normalise_company, normalise_domain
from covey.mapping.keys import company_keys, domain_keys, fold_keys

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "sv_SE", "da_DK", "pl_PL",
           "pt_BR", "tr_TR", "ja_JP", "ru_RU"]
SUFFIXES = ["", " Inc.", " GmbH & Co. KG", " S.A.", " Ltd)", " Co., Ltd.", " AS", " -", ", LLC", " the",
            " & Co", " S.à r.l.", " A/S", " AG.", " plc!", " (Pty) Ltd", " Oy", " KK", " B.V.", " Sp. z o.o."]


def _corpus(size_per_locale: int = 60) -> tuple[list[str], list[str]]:
    names, domains = [], []
    for index, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(index)
        for i in range(size_per_locale):
            name = fake.company() + SUFFIXES[i % len(SUFFIXES)]
            names.append(name.upper() if i % 7 == 0 else ("The " + name if i % 11 == 0 else name))
            prefix = ["", "http://", "https://www.", "www.", "info@", "HTTPS://", "eu.", "a.b."][i % 8]
            tail = ["", "/about", "?x=1", ":8080", ".", " extra", "/a@b"][i % 7]
            domains.append(prefix + fake.domain_name() + tail)
    return names, domains


EDGE_NAMES = [
    "", " ", "Ltd", "Ltd Co", "the the acme", "Fjord:AS", "Acme, Inc", "Smith & Co, Ltd", "A/S",
    "Foo Ltd Ltd Ltd Ltd Ltd Ltd Ltd", "X (Inc)", "Bar) &", "Müller & Söhne GmbH", "Ørsted A/S",
    "Société Générale S.A.", "Straße GmbH", "Ça Va SARL", "ACME\tINC", "Acme\u00a0Inc", "The",
    "Inc. Inc.", "&", "- Ltd", "co-op", "İstanbul AŞ", "e\u0301cole SA", "zq Ltd", "Zq, Inc.",
]
EDGE_DOMAINS = [
    "foo.ck", "www.ck", "a.b.kobe.jp", "city.kobe.jp", "x.city.kobe.jp", "co.uk", "a..com",
    "x" * 64 + ".com", "1.2.3.4", "localhost", "acme.example", "bücher.de", "xn--bcher-kva.de",
    "a.b.nom.br", "nom.br", "https://", "@", "mail.gmail.com", "a_b.com", "-x.com", "http://a.com/x@y.de",
    "user:pw@shop.acme.co.uk:8443/x", "ACME.COM.", "  www.acme.io  ", "a b.com", "acme.com;acme.de",
    "...", "sales@eu.acme.test", "*.ck", "!www.ck", "mailto:bob@acme.com", "//acme.com",
]


def test_company_keys_equal_normalise_company_on_a_corpus_in_many_languages():
    names, _ = _corpus()
    names += EDGE_NAMES
    assert company_keys(pl.Series(names)).to_list() == [normalise_company(n) for n in names]


def test_domain_keys_equal_normalise_domain_on_a_corpus_and_public_suffix_corner_cases():
    _, domains = _corpus()
    domains += EDGE_DOMAINS
    assert domain_keys(pl.Series(domains)).to_list() == [normalise_domain(d) for d in domains]


_words = st.sampled_from(["acme", "Inc.", "GmbH", "&", "Co", "KG", "the", "S.A.", "Ltd", "co.", "-", "A/S",
                          "müller", "ÉCOLE", "AS", "(Pty)", "and", "Holding", "ß", "!", ",", "oy", "LLC)"])
_punct = st.sampled_from(["", " ", "  ", ",", ".", " - ", "&", ")", ":"])


_names = st.lists(st.tuples(_words, _punct), max_size=7).map(lambda parts: "".join(w + p for w, p in parts))

# Each example checks a whole batch: the batch functions are built for columns, not single values.


@settings(max_examples=60, deadline=None)
@given(st.lists(_names, min_size=1, max_size=40))
def test_company_keys_equal_the_reference_for_names_built_from_legal_terms(names):
    assert company_keys(pl.Series(names, dtype=pl.String)).to_list() == [normalise_company(n) for n in names]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=40))
def test_company_keys_equal_the_reference_for_any_text(texts):
    assert company_keys(pl.Series(texts, dtype=pl.String)).to_list() == [normalise_company(t) for t in texts]


_labels = st.sampled_from(["www", "acme", "co", "uk", "com", "ck", "kobe", "jp", "city", "nom", "br",
                           "example", "test", "de", "xn--bcher-kva", "1", "a-b", "", "s3", "amazonaws"])


_hosts = st.tuples(
    st.sampled_from(["", "https://", "HTTP://www.", "bob@", "//"]),
    st.lists(_labels, min_size=1, max_size=5),
    st.sampled_from(["", "/", ":80", ".", "?q", " x", "@x.com"]),
).map(lambda p: p[0] + ".".join(p[1]) + p[2])


@settings(max_examples=60, deadline=None)
@given(st.lists(_hosts, min_size=1, max_size=40))
def test_domain_keys_equal_the_reference_for_generated_hosts(values):
    assert domain_keys(pl.Series(values, dtype=pl.String)).to_list() == [normalise_domain(v) for v in values]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=40))
def test_domain_keys_equal_the_reference_for_any_text(texts):
    assert domain_keys(pl.Series(texts, dtype=pl.String)).to_list() == [normalise_domain(t) for t in texts]


def test_nulls_become_empty_keys_and_the_order_is_kept():
    values = pl.Series(["b.com", None, "a.com", "b.com"])
    assert domain_keys(values).to_list() == ["b.com", "", "a.com", "b.com"]
    assert company_keys(pl.Series([None, "Acme Inc"])).to_list() == ["", "acme"]


@pytest.mark.parametrize("text, key", [("Zürich ", "zurich"), ("U.S.", "u s"), ("  São Paulo", "sao paulo")])
def test_fold_keys_fold_case_accents_and_punctuation(text, key):
    assert fold_keys(pl.Series([text])).to_list() == [key]
