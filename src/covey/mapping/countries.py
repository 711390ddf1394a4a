"""One key per country, however a CRM writes it: "Germany", "Deutschland", "DE", "DEU" → ``de``.

Country names come from the CLDR data bundled with Babel (already a Covey dependency, offline) in
the languages CRMs are most often kept in, generated once into ``country_names.py`` (loading
Babel's locale data costs more than matching a small list); the ISO 3166 alpha-2 codes are CLDR's
own keys, and the common alpha-3 codes and colloquial names are listed here. Text that is none of these keeps its
folded form as its key, so two lists that both write "Atlantis" still agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from covey.core.normalise import _fold

_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "fi", "pl")
_ALPHA3 = {
    "usa": "us", "gbr": "gb", "deu": "de", "fra": "fr", "esp": "es", "ita": "it", "nld": "nl",
    "bel": "be", "lux": "lu", "che": "ch", "aut": "at", "prt": "pt", "irl": "ie", "swe": "se",
    "nor": "no", "dnk": "dk", "fin": "fi", "isl": "is", "pol": "pl", "cze": "cz", "svk": "sk",
    "hun": "hu", "rou": "ro", "bgr": "bg", "grc": "gr", "hrv": "hr", "svn": "si", "est": "ee",
    "lva": "lv", "ltu": "lt", "tur": "tr", "isr": "il", "are": "ae", "sau": "sa", "zaf": "za",
    "egy": "eg", "nga": "ng", "ken": "ke", "ind": "in", "chn": "cn", "jpn": "jp", "kor": "kr",
    "twn": "tw", "hkg": "hk", "sgp": "sg", "mys": "my", "idn": "id", "tha": "th", "vnm": "vn",
    "phl": "ph", "aus": "au", "nzl": "nz", "can": "ca", "mex": "mx", "bra": "br", "arg": "ar",
    "chl": "cl", "col": "co", "per": "pe", "ukr": "ua", "rus": "ru",
}
_COLLOQUIAL = {
    "united states of america": "us", "u s a": "us", "u s": "us", "america": "us", "states": "us",
    "uk": "gb", "u k": "gb", "great britain": "gb", "britain": "gb", "england": "gb",
    "scotland": "gb", "wales": "gb", "northern ireland": "gb", "holland": "nl",
    "the netherlands": "nl", "republic of ireland": "ie", "czech republic": "cz",
    "south korea": "kr", "korea": "kr", "uae": "ae", "russian federation": "ru",
}


def _key(text: str) -> str:
    return re.sub(r"[^\w]+", " ", _fold(text)).strip()


def generate_names() -> dict[str, str]:
    """Folded country name → code from Babel's CLDR data (how ``country_names.py`` was made)."""
    from babel import Locale

    spellings: dict[str, str] = {}
    for language in _LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if code.isalpha() and len(code) == 2:
                spellings.setdefault(_key(name), code.lower())
    return spellings


@lru_cache(maxsize=1)
def country_table() -> pl.DataFrame:
    """(folded text, ISO alpha-2 code in lower case) for every known spelling."""
    from covey.mapping.country_names import NAMES

    spellings = dict(NAMES)
    for code in set(NAMES.values()):
        spellings[code] = code
    spellings.update(_ALPHA3)
    spellings.update(_COLLOQUIAL)
    return pl.DataFrame(
        {"folded": list(spellings), "code": list(spellings.values())},
        schema={"folded": pl.String, "code": pl.String},
    )


def country_keys(folded: pl.Series) -> pl.Series:
    """ISO code for each folded country text (see ``keys.fold_keys``); unknown text as it is."""
    table = country_table()
    out = (
        folded.to_frame("folded")
        .join(table, on="folded", how="left", maintain_order="left")
        .select(pl.coalesce("code", "folded"))
        .to_series()
    )
    return out.rename(folded.name)
