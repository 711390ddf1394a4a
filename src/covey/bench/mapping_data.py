"""Two CRM-like account lists with a known overlap, for ``covey bench mapping``.

Deterministic from the seed, vectorised (NumPy draws, Polars string assembly) so a million rows per
list take seconds. What makes it hard, on purpose and independent of how Covey matches:

- **Companies.** Brand names from random syllables ("Velmora", "Quintaro"), Faker surnames of
  seven locales (accents included), with industry words that many companies share ("Analytics",
  "Logistics", "Systems"), a legal form of the company's country, a city of that country, a phone
  number and a domain derived from the name (unique: two companies never own one domain). One in
  ten has a second domain (a country or product domain).
- **The overlap.** ``overlap`` of each list's rows are the same companies, rendered independently
  in each list: legal-form spellings (Inc / Incorporated / dropped), case, accents dropped,
  "&"/"and", a leading "The", "Group"/"Holdings" added, an industry word dropped, one-letter typos;
  websites with schemes, ``www.``, paths, ports, subdomains, upper case, or an e-mail address
  instead; the second domain shown instead of the first, or in a secondary-domains column;
  countries as names, codes or in another language, cities sometimes another office's, phone
  numbers formatted differently or another line; and everything sometimes missing. Their list has
  CRM duplicates (the same company twice, different ids), ours has alias rows (same id, another
  domain).
- **Traps.** Free-mail addresses in the website column; accidental name collisions (the brand
  space is finite); and deliberate ones: companies of their list carrying a name from ours in
  another country, or in the same country in another city with another domain.

The truth is the set of (our_id, their_id) account pairs that are the same company.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

COUNTRIES = [  # code, share, TLD, legal forms (spelling variants of one form share a group)
    ("US", 0.34, "com", [["Inc", "Inc.", "Incorporated", ", Inc."], ["LLC", "L.L.C."], ["Corp", "Corporation", "Corp."]]),
    ("GB", 0.12, "co.uk", [["Ltd", "Limited", "Ltd."], ["PLC", "plc"]]),
    ("DE", 0.12, "de", [["GmbH"], ["AG"], ["GmbH & Co. KG", "GmbH & Co KG"]]),
    ("FR", 0.08, "fr", [["SAS", "S.A.S."], ["SA", "S.A."], ["SARL"]]),
    ("ES", 0.05, "es", [["S.L.", "SL"], ["S.A.", "SA"]]),
    ("IT", 0.05, "it", [["S.p.A.", "SpA"], ["S.r.l.", "Srl"]]),
    ("NL", 0.05, "nl", [["B.V.", "BV"], ["N.V.", "NV"]]),
    ("CA", 0.05, "ca", [["Inc", "Inc."], ["Ltd", "Limited"]]),
    ("AU", 0.04, "com.au", [["Pty Ltd", "Pty. Ltd.", "Proprietary Limited"]]),
    ("SE", 0.03, "se", [["AB"]]),
    ("CH", 0.03, "ch", [["AG"], ["GmbH"], ["SA"]]),
    ("BR", 0.02, "com.br", [["Ltda", "Ltda."], ["S.A."]]),
    ("JP", 0.02, "co.jp", [["K.K.", "KK", "Kabushiki Kaisha"]]),
]
COUNTRY_NAMES = {  # how CRMs write each country besides its code
    "US": ["United States", "USA", "United States of America", "U.S."],
    "GB": ["United Kingdom", "UK", "Great Britain", "England"],
    "DE": ["Germany", "Deutschland", "DEU"], "FR": ["France", "FRA"], "ES": ["Spain", "España"],
    "IT": ["Italy", "Italia"], "NL": ["Netherlands", "The Netherlands", "Holland"],
    "CA": ["Canada"], "AU": ["Australia"], "SE": ["Sweden", "Sverige"],
    "CH": ["Switzerland", "Schweiz", "Suisse"], "BR": ["Brazil", "Brasil"], "JP": ["Japan"],
}
FAKER_LOCALES = {"US": "en_US", "GB": "en_GB", "DE": "de_DE", "FR": "fr_FR", "ES": "es_ES", "IT": "it_IT",
                 "NL": "nl_NL", "CA": "en_CA", "AU": "en_AU", "SE": "sv_SE", "CH": "de_CH", "BR": "pt_BR",
                 "JP": "en_US"}
INDUSTRY = [
    "Analytics", "Logistics", "Systems", "Solutions", "Software", "Consulting", "Partners", "Labs",
    "Technologies", "Networks", "Foods", "Energy", "Capital", "Health", "Media", "Robotics", "Security",
    "Cloud", "Data", "Digital", "Engineering", "Industries", "Manufacturing", "Pharma", "Retail",
    "Telecom", "Ventures", "Design", "Marketing", "Studios", "Motors", "Textiles", "Chemicals",
    "Biotech", "Finance", "Insurance", "Realty", "Construction", "Transport", "Aviation", "Marine",
    "Electric", "Instruments", "Devices", "Materials", "Packaging", "Printing", "Furniture", "Apparel",
    "Brewing", "Farms", "Outdoor", "Sports", "Travel", "Hotels", "Clinics", "Dental", "Optics",
    "Audio", "Games", "Learning", "Academy", "Research", "Advisors", "Accounting", "Legal", "Staffing",
    "Recruiting", "Events", "Catering", "Bakery", "Coffee", "Wines", "Water", "Solar", "Wind",
    "Mining", "Metals", "Steel", "Plastics", "Paper", "Glass", "Tools", "Machines", "Automation",
]
SYLLABLES = [
    "ka", "lo", "mi", "ra", "ve", "no", "ta", "zi", "qua", "bel", "dor", "fen", "gal", "hex", "jun",
    "kor", "lum", "mar", "nex", "ori", "pax", "quin", "ros", "sol", "tor", "ul", "vex", "wen", "xa",
    "yor", "zen", "ar", "bri", "cor", "del", "el", "fio", "gra", "hal", "iv", "jor", "kel", "lin",
    "mor", "nal", "ost", "pri", "ril", "sev", "tri", "umb", "val", "wyn", "ix", "ys", "zor", "an",
    "ber", "cal", "dra",
]
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "gmx.de", "icloud.com", "web.de"]


@dataclass(frozen=True)
class Workload:
    ours: pl.DataFrame  # Salesforce-style columns
    theirs: pl.DataFrame  # HubSpot-style columns
    truth: pl.DataFrame  # our_id, their_id
    seed: int
    overlap: float
    roles: pl.DataFrame  # their_id → shared / theirs_only / trap / duplicate (for the diagnosis)


@lru_cache(maxsize=4)
def _vocabulary(seed: int) -> tuple[list[str], dict[str, list[str]]]:
    """(surnames of several locales, cities per country), from Faker with the seed."""
    from faker import Faker

    surnames: set[str] = set()
    cities: dict[str, list[str]] = {}
    for index, (code, locale) in enumerate(FAKER_LOCALES.items()):
        fake = Faker(locale)
        fake.seed_instance(seed * 100 + index)
        surnames.update(fake.last_name() for _ in range(600))
        cities[code] = sorted({fake.city() for _ in range(400)})
    return sorted(s for s in surnames if " " not in s and len(s) > 2), cities


def _pick(rng: np.random.Generator, options: list[str], size: int) -> pl.Series:
    return pl.Series(np.asarray(options, dtype=object)[rng.integers(0, len(options), size)], dtype=pl.String)


def _chance(rng: np.random.Generator, share: float, size: int) -> pl.Series:
    return pl.Series(rng.random(size) < share)


def _companies(rng: np.random.Generator, count: int, seed: int) -> pl.DataFrame:
    """The universe: one row per company with its true attributes."""
    surnames, cities = _vocabulary(seed)
    codes = [c[0] for c in COUNTRIES]
    shares = np.array([c[1] for c in COUNTRIES])
    country_index = rng.choice(len(codes), size=count, p=shares / shares.sum())
    syl = np.asarray(SYLLABLES, dtype=object)
    parts = [syl[rng.integers(0, len(syl), count)] for _ in range(4)]
    syllables = rng.choice([2, 3, 4], size=count, p=[0.1, 0.45, 0.45])
    brand = [
        (a + b + (c if k > 2 else "") + (d if k > 3 else "")).capitalize()
        for a, b, c, d, k in zip(*parts, syllables, strict=True)
    ]
    surname = np.asarray(surnames, dtype=object)[rng.integers(0, len(surnames), count)]
    surname2 = np.asarray(surnames, dtype=object)[rng.integers(0, len(surnames), count)]
    industry = np.asarray(INDUSTRY, dtype=object)[rng.integers(0, len(INDUSTRY), count)]
    industry2 = np.asarray(INDUSTRY, dtype=object)[rng.integers(0, len(INDUSTRY), count)]
    pattern = rng.choice(5, size=count, p=[0.42, 0.18, 0.15, 0.15, 0.10])
    first = np.where(pattern == 1, surname, brand)
    core = np.select(
        [pattern == 0, pattern == 1, pattern == 2, pattern == 3, pattern == 4],
        [first, surname + " & " + surname2, brand, surname, brand],
        default=brand,
    )
    word = np.select(
        [pattern == 0, pattern == 1, pattern == 2, pattern == 3, pattern == 4],
        [industry, "", "", industry, industry + " " + industry2],
        default="",
    )
    form_group = rng.integers(0, 3, count)
    frame = pl.DataFrame({
        "company": np.arange(count),
        "country": pl.Series(np.asarray(codes, dtype=object)[country_index], dtype=pl.String),
        "core": pl.Series(core, dtype=pl.String),
        "word": pl.Series(word, dtype=pl.String),
        "form_group": form_group,
    })
    city_parts = []
    for code in codes:
        mask = frame["country"] == code
        city_parts.append(pl.DataFrame({"company": frame.filter(mask)["company"],
                                        "city": _pick(rng, cities[code], int(mask.sum())),
                                        "city2": _pick(rng, cities[code], int(mask.sum()))}))
    frame = frame.join(pl.concat(city_parts), on="company").sort("company")
    tld = {c[0]: c[2] for c in COUNTRIES}
    frame = frame.with_columns(
        tld=pl.when(pl.Series(rng.random(count) < 0.5)).then(pl.lit("com"))
        .otherwise(pl.col("country").replace_strict(tld)),
        phone=pl.Series(rng.integers(200_000_000, 999_999_999, count)).cast(pl.String),
        phone2=pl.Series(rng.integers(200_000_000, 999_999_999, count)).cast(pl.String),
        slug=(pl.col("core") + pl.when(pl.col("word") != "").then(pl.lit(" ") + pl.col("word")).otherwise(pl.lit("")))
        .str.to_lowercase().str.normalize("NFKD").str.replace_all(r"[^a-z0-9 ]", "").str.replace_all(" +", " ")
        .str.strip_chars(),
    )
    use_word = pl.Series(rng.random(count) < 0.4)
    frame = frame.with_columns(
        label=pl.when(use_word).then(pl.col("slug").str.replace_all(" ", "-"))
        .otherwise(pl.col("slug").str.split(" ").list.first()),
    )
    # Domains are unique: a later owner of a taken label gets a number.
    frame = frame.with_columns(
        domain=pl.col("label") + pl.lit(".") + pl.col("tld"),
    ).with_columns(
        n=pl.int_range(pl.len()).over("domain"),
    ).with_columns(
        domain=pl.when(pl.col("n") == 0).then(pl.col("domain"))
        .otherwise(pl.col("label") + pl.col("n").cast(pl.String) + pl.lit(".") + pl.col("tld")),
    )
    second = pl.Series(rng.random(count) < 0.10)
    frame = frame.with_columns(
        domain2=pl.when(second).then(
            pl.col("label") + pl.lit("-") + pl.col("country").str.to_lowercase() + pl.lit(".")
            + pl.when(pl.col("tld") == "com").then(pl.lit("net")).otherwise(pl.lit("com"))
        ),
    ).with_columns(
        n2=pl.int_range(pl.len()).over("domain2"),
    ).with_columns(
        domain2=pl.when(pl.col("n2") == 0).then(pl.col("domain2")),
    )
    taken = frame["domain"].implode()
    return frame.with_columns(
        domain2=pl.when(pl.col("domain2").is_in(taken)).then(None).otherwise(pl.col("domain2"))
    ).drop("slug", "label", "n", "n2")


def _render(rng: np.random.Generator, frame: pl.DataFrame, *, noise: float) -> pl.DataFrame:
    """One list's rendering of companies: name, website, domains, country, city, phone."""
    n = frame.height
    forms = {c[0]: c[3] for c in COUNTRIES}
    form_rows = []
    for code, groups in forms.items():
        mask = (frame["country"] == code).to_numpy()
        idx = np.nonzero(mask)[0]
        group = frame["form_group"].to_numpy()[idx] % len(groups)
        spelled = [groups[g][int(k)] for g, k in zip(group, rng.integers(0, 10, len(idx)) % np.array([len(groups[g]) for g in group]), strict=True)] if len(idx) else []
        form_rows.append(pl.DataFrame({"i": idx, "form": pl.Series(spelled, dtype=pl.String)}))
    forms_frame = pl.concat(form_rows).sort("i")
    name = pl.col("core")
    drop_word = _chance(rng, 0.04 * noise, n)
    name = pl.when((pl.col("word") != "") & ~drop_word).then(name + pl.lit(" ") + pl.col("word")).otherwise(name)
    out = frame.with_columns(form=forms_frame["form"]).with_columns(name=name)
    out = out.with_columns(
        name=pl.when(_chance(rng, 0.03 * noise, n)).then(pl.col("name") + pl.lit(" Group")).otherwise(pl.col("name"))
    )
    keep_form = pl.Series(rng.random(n) < 0.7)
    out = out.with_columns(
        name=pl.when(keep_form).then(
            pl.col("name") + pl.when(pl.col("form").str.starts_with(",")).then(pl.lit("")).otherwise(pl.lit(" "))
            + pl.col("form")
        ).otherwise(pl.col("name"))
    )
    out = out.with_columns(
        name=pl.when(_chance(rng, 0.05 * noise, n)).then(pl.lit("The ") + pl.col("name")).otherwise(pl.col("name"))
    )
    out = out.with_columns(
        name=pl.when(_chance(rng, 0.3, n)).then(pl.col("name").str.replace(" & ", " and ", literal=True))
        .otherwise(pl.col("name"))
    )
    out = _typos(rng, out, share=0.07 * noise)
    case = rng.random(n)
    out = out.with_columns(
        name=pl.when(pl.Series(case < 0.06)).then(pl.col("name").str.to_uppercase())
        .when(pl.Series(case > 0.97)).then(pl.col("name").str.to_lowercase())
        .otherwise(pl.col("name")),
    )
    out = out.with_columns(
        name=pl.when(_chance(rng, 0.25 * noise, n)).then(
            pl.col("name").str.normalize("NFKD").str.replace_all(r"\p{Mn}", "")
        ).otherwise(pl.col("name"))
    )
    # Websites
    shown = pl.when(pl.col("domain2").is_not_null() & _chance(rng, 0.35, n)).then(pl.col("domain2")).otherwise(pl.col("domain"))
    other = pl.when(shown == pl.col("domain")).then(pl.col("domain2")).otherwise(pl.col("domain"))
    out = out.with_columns(shown=shown, other=other)
    prefix = _pick(rng, ["", "", "www.", "http://", "https://", "https://www.", "http://www.", "HTTPS://WWW."], n)
    suffix = _pick(rng, ["", "", "", "/", "/about", "/en/contact-us", ":443", "/index.html?ref=crm"], n)
    sub = _pick(rng, ["", "", "", "", "", "", "shop.", "eu.", "info.", "go."], n)
    style = rng.random(n)
    mailbox = _pick(rng, ["sales", "info", "contact", "j.smith", "office"], n)
    free = _pick(rng, FREE_MAIL, n)
    out = out.with_columns(
        website=pl.when(pl.Series(style < 0.12 * noise + 0.05)).then(None)
        .when(pl.Series(style < 0.12 * noise + 0.07)).then(pl.lit("") + mailbox + pl.lit("@") + free)
        .when(pl.Series(style < 0.12 * noise + 0.12)).then(mailbox + pl.lit("@") + pl.col("shown"))
        .otherwise(prefix + sub + pl.col("shown") + suffix),
        domains=pl.when(pl.col("other").is_not_null() & _chance(rng, 0.4, n)).then(pl.col("other")),
    )
    out = out.with_columns(
        website=pl.when(_chance(rng, 0.04, n)).then(pl.col("website").str.to_uppercase()).otherwise(pl.col("website"))
    )
    # Country, city, phone
    names = []
    for code, spellings in COUNTRY_NAMES.items():
        mask = (out["country"] == code).to_numpy()
        idx = np.nonzero(mask)[0]
        names.append(pl.DataFrame({"i": idx, "cname": _pick(rng, [code, *spellings, spellings[0]], len(idx))}))
    out = out.with_columns(cname=pl.concat(names).sort("i")["cname"])
    out = out.with_columns(
        country_text=pl.when(_chance(rng, 0.10 * noise, n)).then(None).otherwise(pl.col("cname")),
        city_text=pl.when(_chance(rng, 0.20 * noise, n)).then(None)
        .when(_chance(rng, 0.08 * noise, n)).then(pl.col("city2"))
        .otherwise(pl.col("city")),
    )
    fmt = rng.integers(0, 4, n)
    digits = pl.when(_chance(rng, 0.08 * noise, n)).then(pl.col("phone2")).otherwise(pl.col("phone"))
    out = out.with_columns(digits=digits).with_columns(
        phone_text=pl.when(_chance(rng, 0.45, n)).then(None)
        .when(pl.Series(fmt == 0)).then(pl.lit("+1 ") + pl.col("digits"))
        .when(pl.Series(fmt == 1)).then(
            pl.lit("(") + pl.col("digits").str.slice(0, 3) + pl.lit(") ") + pl.col("digits").str.slice(3, 3)
            + pl.lit("-") + pl.col("digits").str.slice(6))
        .when(pl.Series(fmt == 2)).then(pl.lit("0") + pl.col("digits"))
        .otherwise(pl.col("digits").str.slice(0, 3) + pl.lit(" ") + pl.col("digits").str.slice(3)),
    )
    return out.select("company", "name", "website", "domains", country="country_text", city="city_text",
                      phone="phone_text")


def _typos(rng: np.random.Generator, frame: pl.DataFrame, *, share: float) -> pl.DataFrame:
    """One-letter edits (delete, double, swap, replace) inside the name, never the first letter."""
    n = frame.height
    hit = rng.random(n) < share
    position = rng.random(n)
    op = rng.integers(0, 4, n)
    letter = _pick(rng, list("abcdefghijklmnopqrstuvwxyz"), n)
    length = pl.col("name").str.len_chars()
    at = (pl.lit(pl.Series(position)) * (length - 2)).cast(pl.Int64) + 1
    head, here = pl.col("name").str.slice(0, at), pl.col("name").str.slice(at, 1)
    after, rest = pl.col("name").str.slice(at + 1, 1), pl.col("name").str.slice(at + 2)
    tail = pl.col("name").str.slice(at + 1)
    edited = (
        pl.when(pl.Series(op == 0)).then(head + tail)
        .when(pl.Series(op == 1)).then(head + here + here + tail)
        .when(pl.Series(op == 2)).then(head + after + here + rest)
        .otherwise(head + pl.lit(letter) + tail)
    )
    return frame.with_columns(
        name=pl.when(pl.Series(hit) & (length > 4)).then(edited).otherwise(pl.col("name"))
    )


def generate(*, size: int, seed: int = 1, overlap: float = 0.3) -> Workload:
    """Two lists of ``size`` rows each with ``overlap`` of their rows on shared companies."""
    rng = np.random.default_rng(seed)
    shared = round(size * overlap)
    alias_rows = round(size * 0.02)  # ours: a second row (same id) with the other domain
    dupes = round(size * 0.02)  # theirs: the same company twice, different ids
    traps = round(size * 0.03)  # theirs: a name from ours on another company
    dupes = min(dupes, shared)
    our_only = max(size - shared - alias_rows, 0)
    their_only = max(size - shared - dupes - traps, 0)
    total = shared + our_only + their_only + traps
    companies = _companies(rng, total, seed)
    shared_ids = np.arange(shared)
    our_only_ids = np.arange(shared, shared + our_only)
    their_only_ids = np.arange(shared + our_only, shared + our_only + their_only)
    trap_ids = np.arange(shared + our_only + their_only, total)

    # Traps copy the name of a company in our list; two in three live in another country, the
    # rest in the same country but another city, with their own domain either way.
    if traps:
        source = rng.choice(np.concatenate([shared_ids, our_only_ids]), size=traps, replace=False)
        src = companies.filter(pl.col("company").is_in(pl.Series(source).implode()))
        src = pl.DataFrame({"company": source}).join(src, on="company", how="left", maintain_order="left")
        other_country = rng.random(traps) < 0.67
        codes = [c[0] for c in COUNTRIES]
        shifted = pl.Series(np.asarray(codes, dtype=object)[rng.integers(0, len(codes), traps)], dtype=pl.String)
        trap_rows = companies.filter(pl.col("company").is_in(pl.Series(trap_ids).implode())).sort("company")
        trap_rows = trap_rows.with_columns(
            core=src["core"], word=src["word"], form_group=src["form_group"],
            country=pl.when(pl.Series(other_country) & (shifted != src["country"])).then(shifted)
            .otherwise(src["country"]),
        )
        # Their own city (a fresh draw in their country), and a domain of their own that looks like
        # the name they share, as a namesake's would.
        _, cities = _vocabulary(seed)
        city = np.empty(traps, dtype=object)
        countries = trap_rows["country"].to_numpy()
        for code in codes:
            idx = np.nonzero(countries == code)[0]
            city[idx] = np.asarray(cities[code], dtype=object)[rng.integers(0, len(cities[code]), len(idx))]
        label = (src["core"].str.to_lowercase().str.normalize("NFKD").str.replace_all(r"[^a-z0-9]+", "-")
                 .str.strip_chars("-"))
        trap_rows = trap_rows.with_columns(
            city=pl.Series(city, dtype=pl.String),
            city2=pl.Series(city, dtype=pl.String),
            domain=label + pl.lit("-") + _pick(rng, ["group", "co", "hq", "global", "online", "inc"], traps)
            + pl.Series(rng.integers(10, 99, traps)).cast(pl.String) + pl.lit(".") + pl.col("tld"),
            domain2=pl.lit(None, dtype=pl.String),
        )
        companies = pl.concat([companies.filter(~pl.col("company").is_in(pl.Series(trap_ids).implode())), trap_rows])
        companies = companies.sort("company")

    by_id = companies
    ours_companies = by_id.filter(pl.col("company").is_in(pl.Series(np.concatenate([shared_ids, our_only_ids])).implode()))
    their_companies = by_id.filter(
        pl.col("company").is_in(pl.Series(np.concatenate([shared_ids, their_only_ids, trap_ids])).implode())
    )
    dupe_source = rng.choice(shared_ids, size=dupes, replace=False) if dupes else np.array([], dtype=np.int64)
    their_companies = pl.concat([their_companies, by_id.filter(pl.col("company").is_in(pl.Series(dupe_source).implode()))])

    ours = _render(rng, ours_companies, noise=0.7)
    theirs = _render(rng, their_companies, noise=1.0)
    role = (
        pl.when(pl.int_range(pl.len()) >= their_companies.height - len(dupe_source)).then(pl.lit("duplicate"))
        .when(pl.col("company") < shared).then(pl.lit("shared"))
        .when(pl.col("company").is_in(pl.Series(trap_ids).implode())).then(pl.lit("trap"))
        .otherwise(pl.lit("theirs_only"))
    )
    theirs = theirs.with_columns(role=role)
    # Alias rows: a second row of an account of ours showing the other domain.
    with_two = ours_companies.filter(pl.col("domain2").is_not_null())
    alias_source = with_two.sample(n=min(alias_rows, with_two.height), seed=seed)
    alias = _render(rng, alias_source.with_columns(domain=pl.col("domain2"), domain2=pl.col("domain")), noise=0.3)

    our_perm = rng.permutation(ours.height)
    ours = ours.with_columns(id=pl.lit("001") + pl.Series(our_perm).cast(pl.String).str.zfill(9))
    ids = ours.select("company", "id")
    alias = alias.join(ids, on="company", how="left")
    ours = pl.concat([ours, alias.select(ours.columns)])
    their_perm = rng.permutation(theirs.height)
    theirs = theirs.with_columns(id=(pl.lit("9") + pl.Series(their_perm).cast(pl.String).str.zfill(10)))

    truth = (
        ours.select("company", our_id="id").unique()
        .join(theirs.select("company", their_id="id"), on="company")
        .select("our_id", "their_id").unique().sort(["our_id", "their_id"])
    )
    ours = ours.sample(fraction=1.0, shuffle=True, seed=seed)
    theirs = theirs.sample(fraction=1.0, shuffle=True, seed=seed + 1)
    return Workload(
        ours=ours.select(Id="id", Name="name", Website="website", BillingCountry="country", BillingCity="city",
                         Phone="phone"),
        theirs=theirs.select(**{"Record ID": "id", "Company name": "name", "Company Domain Name": "website",
                                "Additional Domains": "domains", "Country/Region": "country", "City": "city",
                                "Phone Number": "phone"}),
        truth=truth,
        seed=seed,
        overlap=overlap,
        roles=theirs.select(their_id="id", role="role"),
    )
