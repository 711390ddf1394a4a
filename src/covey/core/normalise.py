"""One normaliser for company web domains and names, shared by deal registration (duplicate and
conflict detection) and account mapping (matching two account lists).

- ``normalise_domain`` turns whatever people type or CRMs export — ``https://www.Acme.co.uk/about``,
  ``sales@eu.acme.com``, ``acme.com:443`` — into the registrable domain (``acme.co.uk``,
  ``acme.com``), using the public suffix list bundled with tldextract (never fetched: Covey is
  offline). Internationalised names become punycode so both spellings compare equal.
- ``normalise_company`` folds case and accents, turns ``&`` into ``and``, drops punctuation and
  legal suffixes in many languages (cleanco: Inc, LLC, GmbH, Ltd, S.A., KK…) and a leading "the".
- ``name_similarity`` scores two names 0–100 on their normalised forms with RapidFuzz's
  ``token_sort_ratio`` (word order does not matter; it is fast enough for bulk scoring, unlike WRatio).

All three are pure functions: no database, tested exhaustively and cheap to call in bulk.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import tldextract
from cleanco import basename
from rapidfuzz import fuzz

_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # bundled snapshot only
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")
# Top-level names reserved for documentation and testing (RFC 2606/6761). They are not on the public
# suffix list, but demo data, examples and test fixtures use them (``acme.example``), so they count
# as suffixes. ``localhost`` stays out: it names a machine, never a company.
_RESERVED_TLDS = frozenset({"example", "test", "invalid"})


@lru_cache(maxsize=100_000)
def normalise_domain(text: str | None) -> str:
    """The registrable domain of a URL, host or e-mail address; "" when there is none."""
    value = (text or "").strip().lower()
    if not value:
        return ""
    value = _SCHEME.sub("", value)
    value = value.rsplit("@", 1)[-1]  # e-mail address or user:pass@host
    value = re.split(r"[/?#\s]", value, maxsplit=1)[0]
    value = value.split(":", 1)[0].strip(".")  # port, trailing dot
    if not value:
        return ""
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    result = _extract(value)
    if not result.suffix:
        labels = value.split(".")
        if len(labels) >= 2 and labels[-1] in _RESERVED_TLDS and labels[-2]:
            return f"{labels[-2]}.{labels[-1]}"
    if not result.suffix or not result.domain:
        return ""  # localhost, bare IP addresses, unknown suffixes
    return f"{result.domain}.{result.suffix}"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _strip_legal_suffixes(value: str) -> str:
    """Strip stacked suffixes ("Widget Company Ltd" → "Widget"), never down to nothing."""
    while True:
        stripped = basename(value).strip()
        if not stripped or stripped == value:
            return value
        value = stripped


def _normalise_once(value: str) -> str:
    value = _strip_legal_suffixes(value)  # before punctuation goes: cleanco needs "S.A."
    value = _fold(value).replace("&", " and ")
    value = _NOT_WORD.sub(" ", value)
    value = _SPACES.sub(" ", value).strip()
    return value[4:] if value.startswith("the ") else value


@lru_cache(maxsize=100_000)
def normalise_company(name: str | None) -> str:
    """A comparison key for a company name: ``"The Müller & Söhne GmbH"`` → ``"muller and sohne"``.

    Applied until nothing changes, so a key normalises to itself (removing punctuation can expose
    a suffix: ``"Fjord:AS"`` → ``"fjord as"`` → ``"fjord"``).
    """
    value = _SPACES.sub(" ", (name or "").strip())
    for _ in range(5):
        if not value:
            return ""
        next_value = _normalise_once(value)
        if next_value == value:
            break
        value = next_value
    return value


def name_similarity(a: str | None, b: str | None) -> float:
    """0–100: how alike two company names are once normalised (100 = same key)."""
    left, right = normalise_company(a), normalise_company(b)
    if not left or not right:
        return 0.0
    return float(fuzz.token_sort_ratio(left, right))
