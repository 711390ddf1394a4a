"""The account-mapping engine: which accounts of two lists are the same company.

``match_accounts(ours, theirs)`` takes two account frames (Polars; columns ``id``, ``name``,
``website``, ``domains``, ``country``, ``city``, ``phone``, any of them but ``id`` may be missing)
and returns a frame with one row per matched pair: ``our_id``, ``their_id``, ``kind``, ``score``.
No database, no Django: the CLI, the benchmark and the web app all call it the same way.

**Accounts.** Rows sharing an ``id`` are one account (a CRM export with one row per domain, or an
alias row). An account's domains are every piece of its ``website`` and ``domains`` cells (split at
``;``, ``,``, ``|`` and spaces), each normalised exactly as deal registration normalises a domain.
So a company whose list shows ``acme.com`` and ``acme.de`` matches the other list's account on
either: *alias domains are mapped when one list shows them on one account*.

**Stages** — precision first: a false overlap shown to a partner is worse than a missed one.

1. ``domain``: the accounts share a normalised domain. Free-mail, placeholder and platform domains
   (``covey.mapping.domains``) never match by themselves, nor does a domain that more than
   ``max_domain_accounts`` accounts of either list share (a hosting or group domain).
2. ``name_exact``: equal normalised names (``normalise_company``: case, accents, punctuation,
   ``&``/and, legal suffixes in many languages, a leading "the") and the evidence agrees (below).
3. ``name_fuzzy``: accounts no earlier stage matched, paired within blocks — the same country (or,
   where one side has none, city) and a shared word or pair of adjacent words of the name without
   noise words (``NOISE_WORDS``), or the same phone; blocks of more than ``max_block_pairs`` pairs
   are skipped (a word like "solutions") — and scored in bulk with RapidFuzz (``cpdist``, all cores):
   the better of ``token_sort_ratio`` and ``ratio``. Accepted at ``fuzzy_threshold`` with weak
   support, ``strong_fuzzy_threshold`` with strong support (``short_name_penalty`` more for names
   under ``short_name_length`` characters; with strong support also when one name's words are all in
   the other), and only for the pair's mutual best: the best candidate of both its accounts.

**Evidence** (``_accepted``): never when both countries are known and differ. The same city or
phone number is *strong* support, enough by itself. Otherwise *weak* evidence — the same country;
in stage 2 also a name unique in both lists — counts only when nothing disagrees (the cities are
not both known and different; the accounts do not both have usable domains, which would most likely
have met in stage 1) and it is unambiguous (the name is on one account in each list and neither
account is matched already).

**Many-to-many, deliberately.** An account may match several of the other list: duplicates in a
CRM are common and a partnerships team wants to see each. Domain and strongly supported name matches
keep every pair; weak evidence never adds a second partner, and fuzzy evidence is for unmatched
accounts and mutual bests (ties kept) only.

**Score.** ``score`` is how alike the two names are, 0–100 (``token_sort_ratio`` of the normalised
names; for an account with several rows, the best pair of rows; for ``name_fuzzy`` the score it was
accepted on): 100 for ``name_exact``, anything for ``domain`` (``IBM`` and ``International Business
Machines`` share ``ibm.com``). ``kind`` says why they matched; ``score`` helps a person review.

Every rule is symmetric, so swapping the lists swaps the columns and nothing else.

**Incremental runs** (``previous=``, ``keep_forms=True``). A run can hand back the *normal forms*
of both lists (``MatchResult.forms``: per row its id, the six matching fields and their keys — name,
country, city, phone, domains), and the next run can take them as ``previous``. What an incremental
run reuses and what it recomputes, so that its result is *identical* to a full run's:

- Reused: every key of a row whose six matching fields are unchanged (joined on the fields
  themselves, not the id: a key is a pure function of its row's own fields, so an unchanged row's
  key is the same by construction). Only rows added or edited since then are normalised — the
  normalisation is about two thirds of a full run.
- Recomputed over the whole of both lists, every time, because each is a *global* step whose answer
  for one pair depends on rows far from it: the accounts (rows sharing an id, so an account's
  *alias domains* seen across its rows and on both lists); *crowded domains* (how many accounts of a
  list carry a domain); the *unique-name rule* (``name_accounts``: how many accounts carry a name);
  which accounts the domain and exact-name stages took (``taken``: it decides what weak evidence
  counts and who reaches stage 3); the *fuzzy blocks*, whose sizes are counted over the still
  unmatched rows only, so an edit in one place can open or close a block elsewhere (an edit makes a
  domain crowded → an account loses its domain match → it joins a block → the block grows past
  ``max_block_pairs`` → a pair of two unchanged accounts disappears); the fuzzy scores and the
  mutual-best choice. These are joins, group-bys and one bulk scorer over keys already there; a
  patch of only the changed rows' neighbourhoods would have to follow such chains to an unbounded
  depth and would be approximately right, so it is not done.
- ``previous`` made by another version of the normal forms (``FORMS_VERSION``) is not used: the run
  is then a full one and ``counts["full_reason"]`` says why. No matching rule needs a full run.

``list_changes`` compares a list with the forms of its previous version by id (added, removed,
edited: an id whose set of matching fields changed), which is what a run page reports.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from rapidfuzz import fuzz, process

from covey.mapping.countries import country_keys
from covey.mapping.domains import NEVER_ALONE
from covey.mapping.keys import company_keys, domain_keys, fold_keys

__all__ = [
    "COLUMNS",
    "KINDS",
    "MatchOptions",
    "MatchResult",
    "FORMS_VERSION",
    "accounts_frame",
    "list_changes",
    "match_accounts",
]

COLUMNS = ("id", "name", "website", "domains", "country", "city", "phone")
KINDS = ("domain", "name_exact", "name_fuzzy")  # strongest first
MATCH_SCHEMA = {"our_id": pl.String, "their_id": pl.String, "kind": pl.String, "score": pl.Float64}
ID_REQUIRED = "An account frame needs an 'id' column."
FIELDS = COLUMNS[1:]  # the matching fields: every key is a function of these alone
FORMS_VERSION = 1  # raise when a key's definition changes: older stored forms are then not reused
FORMS_SCHEMA = {
    "id": pl.String, **dict.fromkeys(FIELDS, pl.String), "name_key": pl.String, "country_key": pl.String,
    "city_key": pl.String, "phone_key": pl.String, "domain_keys": pl.List(pl.String),
}
_KEYS = ("name_key", "country_key", "city_key", "phone_key")


# Words that tell companies apart poorly: legal-form remnants normalise_company leaves (the word
# before a stripped suffix: "Pty" Ltd, "Kabushiki Kaisha", "GmbH and" Co KG) and group words.
# Stage 3 compares names without them; stage 2 keeps deal registration's key as it is.
NOISE_WORDS = frozenset({
    "and", "the", "of", "group", "groupe", "gruppe", "holding", "holdings", "international", "intl",
    "global", "worldwide", "company", "co", "corp", "corporation", "inc", "incorporated", "ltd", "limited",
    "llc", "llp", "lp", "plc", "gmbh", "mbh", "ag", "kg", "se", "sa", "sas", "sarl", "spa", "srl", "sl",
    "bv", "nv", "ab", "as", "asa", "oy", "oyj", "aps", "kk", "kabushiki", "kaisha", "pty", "proprietary",
    "pte", "ltda", "bhd", "sdn", "cv", "de", "und", "et", "y",
})


@dataclass(frozen=True)
class MatchOptions:
    fuzzy_threshold: float = 90.0  # with weak support (the country)
    strong_fuzzy_threshold: float = 85.0  # with strong support (the city or the phone)
    short_name_length: int = 8  # shorter names: one letter is a bigger change…
    short_name_penalty: float = 5.0  # …so their thresholds are this much higher
    max_domain_accounts: int = 25  # a domain on more accounts of a list is a group/hosting domain
    max_block_pairs: int = 400  # bigger fuzzy blocks (a common word in a country) are skipped
    min_name_length: int = 2  # shorter normalised names never match by name
    never_alone_domains: frozenset[str] = NEVER_ALONE  # extend for a customer's own list


@dataclass
class MatchResult:
    matches: pl.DataFrame  # our_id, their_id, kind, score
    seconds: dict[str, float] = field(default_factory=dict)  # per stage
    counts: dict[str, Any] = field(default_factory=dict)  # candidate pairs, matches per kind…
    forms: tuple[pl.DataFrame, pl.DataFrame] | None = None  # with keep_forms: (ours, theirs), FORMS_SCHEMA

    @property
    def candidate_pairs(self) -> int:
        return int(self.counts.get("candidate_pairs", 0))


def accounts_frame(data: pl.DataFrame | list[dict] | dict) -> pl.DataFrame:
    """Any of the engine's inputs (a frame, a list of row dicts, a dict of columns) as a frame with
    exactly ``COLUMNS``, all text; missing columns are null. The web app builds frames this way."""
    if isinstance(data, pl.DataFrame):
        frame = data
    elif not data:
        frame = pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.String))
    else:
        frame = pl.DataFrame(data, infer_schema_length=None)
    if "id" not in frame.columns:
        raise ValueError(ID_REQUIRED)
    return frame.select(
        [
            (pl.col(c).cast(pl.String) if c in frame.columns else pl.lit(None, dtype=pl.String)).alias(c)
            for c in COLUMNS
        ]
    )


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + now - self._last, 4)
        self._last = now


def match_accounts(
    ours: Any, theirs: Any, *, options: MatchOptions | None = None,
    previous: tuple[pl.DataFrame | None, pl.DataFrame | None] | None = None, keep_forms: bool = False,
) -> MatchResult:
    """Match two account lists; see the module docstring for the rules. ``previous``: the forms an
    earlier run kept (``keep_forms``), per side or None, to normalise only what changed since."""
    options = options or MatchOptions()
    clock = _Clock()
    ours, theirs = accounts_frame(ours), accounts_frame(theirs)
    rows_o, rows_t, pieces_o, pieces_t, normalised = _prepare(ours, theirs, previous)
    clock.lap("normalise")

    domains_o, domains_t, crowded = _usable_domains(pieces_o, pieces_t, options)
    by_domain = domains_o.join(domains_t, on="domain", suffix="_t").select(
        acct_o="acct", acct_t="acct_t"
    ).unique()
    rows_o = rows_o.with_columns(
        has_domain=pl.col("acct").is_in(domains_o["acct"].implode()),
        taken=pl.col("acct").is_in(by_domain["acct_o"].implode()),
    )
    rows_t = rows_t.with_columns(
        has_domain=pl.col("acct").is_in(domains_t["acct"].implode()),
        taken=pl.col("acct").is_in(by_domain["acct_t"].implode()),
    )
    clock.lap("domain")

    exact_pairs = _exact_name_pairs(rows_o, rows_t, options)
    by_name = exact_pairs.filter(_accepted(options, allow_unique=True)).select(acct_o="acct", acct_t="acct_t").unique()
    by_name = by_name.join(by_domain, on=["acct_o", "acct_t"], how="anti")
    clock.lap("name_exact")

    matched_o = pl.concat([by_domain["acct_o"], by_name["acct_o"]]).implode()
    matched_t = pl.concat([by_domain["acct_t"], by_name["acct_t"]]).implode()
    fuzzy, candidates = _fuzzy(
        rows_o.filter(~pl.col("acct").is_in(matched_o)), rows_t.filter(~pl.col("acct").is_in(matched_t)), options,
    )
    clock.lap("name_fuzzy")

    scored = _score_pairs(
        pl.concat([by_domain.with_columns(kind=pl.lit("domain")), by_name.with_columns(kind=pl.lit("name_exact"))]),
        rows_o, rows_t,
    )
    matches = pl.concat([scored, fuzzy.select("acct_o", "acct_t", "kind", "score")])
    ids_o = rows_o.select("acct", "id").unique("acct")
    ids_t = rows_t.select("acct", "id").unique("acct")
    matches = (
        matches.join(ids_o, left_on="acct_o", right_on="acct")
        .join(ids_t, left_on="acct_t", right_on="acct", suffix="_t")
        .select(our_id="id", their_id="id_t", kind="kind", score=pl.col("score").cast(pl.Float64).round(1))
        .sort(["our_id", "their_id"])
    )
    clock.lap("select")
    kinds = dict(matches.group_by("kind").len().iter_rows())
    counts = {
        "our_rows": ours.height,
        "their_rows": theirs.height,
        "our_accounts": ids_o.height,
        "their_accounts": ids_t.height,
        "candidate_pairs": by_domain.height + exact_pairs.height + candidates,
        "domain_pairs": by_domain.height,
        "exact_name_pairs": exact_pairs.height,
        "fuzzy_candidate_pairs": candidates,
        "crowded_domains_ignored": crowded,
        "matches": matches.height,
        **{f"matches_{k}": int(kinds.get(k, 0)) for k in KINDS},
        **normalised,
    }
    forms = (_forms(rows_o, pieces_o), _forms(rows_t, pieces_t)) if keep_forms else None
    return MatchResult(matches=matches, seconds=clock.seconds, counts=counts, forms=forms)


# --- preparation -----------------------------------------------------------------------------


def _normal_forms(fields: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The keys of rows (``FIELDS`` columns), in their order, and the (i, domain) pieces of their
    website and domains cells (``i``: the row's position).

    Both lists go through in one go, as one column each for names, domains, countries and cities
    (the streaming engine spreads each over the cores).
    """
    text = pl.concat_str(["website", "domains"], separator=" ", ignore_nulls=True)
    pieces = (
        fields.select(i=pl.int_range(pl.len(), dtype=pl.UInt32),
                      piece=text.str.replace_all(r"[;,|\s]+", " ").str.strip_chars().str.split(" "))
        .explode("piece")
        .filter(pl.col("piece").is_not_null() & (pl.col("piece") != ""))
    )
    pieces = pieces.select("i", domain=domain_keys(pieces["piece"]))
    countries = fold_keys(fields["country"])
    cities = fold_keys(fields["city"])
    phone_digits = fields["phone"].str.replace_all(r"\D", "")
    keys = pl.DataFrame({
        "name_key": company_keys(fields["name"]),
        "country_key": pl.select(pl.when(countries != "").then(country_keys(countries))).to_series(),
        "city_key": pl.select(pl.when(cities != "").then(cities)).to_series(),
        # The last nine digits: "+1 (555) 010-2000" and "555 010 2000" agree; shorter is noise.
        "phone_key": pl.select(pl.when(phone_digits.str.len_chars() >= 7).then(phone_digits.str.slice(-9))).to_series(),
    }, schema=dict.fromkeys(_KEYS, pl.String))
    return keys, pieces


def _numbered(frame: pl.DataFrame) -> pl.DataFrame:
    """``row`` (position) and ``acct`` (one number per distinct id: rows sharing an id are one
    account). Most lists have one row per id, where the row number will do."""
    frame = frame.with_row_index("row")
    ids = frame["id"].fill_null("")
    if not ids.is_duplicated().any():
        return frame.with_columns(acct=pl.col("row").cast(pl.UInt32))
    return frame.with_columns(acct=ids.rank("dense").cast(pl.UInt32) - 1)


_FORM_KEYS = [*_KEYS, "domain_keys"]
_FIELDS_HASH = pl.struct(list(FIELDS)).hash(seed=7).alias("_h")


def _known_forms(previous: Any) -> pl.DataFrame | None:
    """A side's previous forms as a look-up table (a hash of the fields → the fields and their
    keys), or None when unusable."""
    if previous is None or dict(previous.schema) != FORMS_SCHEMA:
        return None
    return previous.drop("id").with_columns(_FIELDS_HASH).unique("_h", keep="any")


def _look_up(rows: pl.DataFrame, known: pl.DataFrame | None) -> pl.DataFrame:
    """``rows`` with the keys of ``known`` where its fields are exactly the row's, and ``_known``.

    Joined on a 64-bit hash of the six fields (far cheaper than joining on six text columns), then
    every field is compared: a hash collision only means a row is normalised again, never that it
    gets another row's keys."""
    if known is None:
        return rows.with_columns(*[pl.lit(None, dtype=FORMS_SCHEMA[k]).alias(k) for k in _FORM_KEYS],
                                 _known=pl.lit(False))
    cached = known.rename({f: f"{f}_c" for f in FIELDS}).with_columns(_hit=pl.lit(True))
    rows = rows.with_columns(_FIELDS_HASH).join(cached, on="_h", how="left", maintain_order="left")
    same = pl.col("_hit").fill_null(False) & pl.all_horizontal([pl.col(f).eq_missing(pl.col(f"{f}_c")) for f in FIELDS])
    return rows.with_columns(_known=same).drop("_h", "_hit", *[f"{f}_c" for f in FIELDS])


def _prepare(ours: pl.DataFrame, theirs: pl.DataFrame, previous=None):
    """Row frames with account numbers and every key, the (acct, domain) pieces of each side, and
    how many rows were normalised (all of them, or only those the previous forms do not have)."""
    rows_o, rows_t = _numbered(ours), _numbered(theirs)
    known = [_known_forms(p) for p in (previous or (None, None))]
    if known[0] is None and known[1] is None:
        keys, pieces = _normal_forms(pl.concat([rows_o.select(FIELDS), rows_t.select(FIELDS)]))
        split = rows_o.height
        rows_o = pl.concat([rows_o, keys[:split]], how="horizontal")
        rows_t = pl.concat([rows_t, keys[split:]], how="horizontal")
        acct = pl.concat([rows_o["acct"], rows_t["acct"]])
        pieces = pieces.with_columns(acct=acct.gather(pieces["i"]), side=pl.col("i") >= split)
        pieces_o = pieces.filter(~pl.col("side")).select("acct", row="i", domain="domain")
        pieces_t = pieces.filter(pl.col("side")).select("acct", row=pl.col("i") - split, domain="domain")
        info = {"normalised_rows": rows_o.height + rows_t.height, "reused_forms": 0,
                "full_reason": "no forms of an earlier run" if previous else ""}
        return *_with_name_counts(rows_o, rows_t), pieces_o, pieces_t, info
    # Only rows whose matching fields the previous forms lack are normalised (both sides at once).
    looked = [_look_up(r, k) for r, k in zip((rows_o, rows_t), known, strict=True)]
    fresh = [r.filter(~pl.col("_known")).select(FIELDS).unique() for r in looked]
    both = pl.concat(fresh)
    keys, pieces = _normal_forms(both)
    grouped = pieces.group_by("i").agg(domain_keys=pl.col("domain"))
    new = pl.concat([both, keys], how="horizontal").with_row_index("i").join(grouped, on="i", how="left").drop("i")
    new = new.with_columns(pl.col("domain_keys").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    split = fresh[0].height
    out = []
    for rows, table in ((looked[0], new[:split]), (looked[1], new[split:])):
        done = rows.filter(pl.col("_known")).drop("_known")
        redone = rows.filter(~pl.col("_known")).drop("_known", *_FORM_KEYS).join(
            table, on=list(FIELDS), how="left", nulls_equal=True)
        rows = pl.concat([done, redone.select(done.columns)]).sort("row")
        pieces = rows.select("acct", "row", domain="domain_keys").explode("domain").filter(pl.col("domain").is_not_null())
        out.append((rows.drop("domain_keys"), pieces))
    reused = sum(int(r["_known"].sum()) for r in looked)
    info = {"normalised_rows": both.height, "reused_forms": reused, "full_reason": ""}
    (rows_o, pieces_o), (rows_t, pieces_t) = out
    return *_with_name_counts(rows_o, rows_t), pieces_o, pieces_t, info


def _with_name_counts(*sides: pl.DataFrame) -> list[pl.DataFrame]:
    """How many accounts of its list carry each row's name (ambiguity, for the evidence rules)."""
    out = []
    for rows in sides:
        accounts = pl.len() if rows["acct"].n_unique() == rows.height else pl.col("acct").n_unique()
        out.append(rows.with_columns(name_accounts=accounts.over("name_key").cast(pl.UInt32)))
    return out


def _forms(rows: pl.DataFrame, pieces: pl.DataFrame) -> pl.DataFrame:
    """The forms of one side to keep for the next run (``FORMS_SCHEMA``, one row per distinct
    id and fields)."""
    grouped = pieces.group_by("row").agg(domain_keys=pl.col("domain"))
    return (
        rows.select("row", "id", *FIELDS, *_KEYS).join(grouped, on="row", how="left")
        .with_columns(pl.col("domain_keys").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .drop("row").unique(["id", *FIELDS], maintain_order=True)
        .cast(FORMS_SCHEMA)
    )


def list_changes(previous: pl.DataFrame | None, current: Any) -> dict[str, int] | None:
    """Ids added, removed and edited (matching fields changed) since the forms ``previous`` were
    kept, and the rows of ``current`` with an added or edited id; None without usable forms."""
    if previous is None or dict(previous.schema) != FORMS_SCHEMA:
        return None
    old = previous.select("id", *FIELDS).unique()
    new = accounts_frame(current).select("id", *FIELDS)
    keys = ["id", *FIELDS]
    old_ids, new_ids = old.select("id").unique(), new.select("id").unique()
    added = new_ids.join(old_ids, on="id", how="anti", nulls_equal=True)
    removed = old_ids.join(new_ids, on="id", how="anti", nulls_equal=True)
    differing = pl.concat([
        new.unique().join(old, on=keys, how="anti", nulls_equal=True).select("id"),
        old.join(new.unique(), on=keys, how="anti", nulls_equal=True).select("id"),
    ]).unique()
    edited = differing.join(pl.concat([added, removed]), on="id", how="anti", nulls_equal=True)
    touched = pl.concat([added, edited])
    return {
        "added": added.height, "removed": removed.height, "edited": edited.height,
        "rows_rematched": new.join(touched, on="id", how="semi", nulls_equal=True).height,
        "rows": new.height,
    }


def _usable_domains(pieces_o: pl.DataFrame, pieces_t: pl.DataFrame, options: MatchOptions):
    """(acct, domain) per side, usable domains only, and how many crowded domains were ignored."""
    never = pl.Series(sorted(options.never_alone_domains), dtype=pl.String).implode()

    def usable(p: pl.DataFrame) -> pl.DataFrame:
        return (
            p.filter((pl.col("domain") != "") & ~pl.col("domain").is_in(never)).select("acct", "domain").unique()
        )

    d_o, d_t = usable(pieces_o), usable(pieces_t)
    # A domain on many accounts of either list is a group or hosting domain, not a company's.
    crowded = pl.concat([
        d.group_by("domain").len().filter(pl.col("len") > options.max_domain_accounts).select("domain")
        for d in (d_o, d_t)
    ]).unique()
    d_o = d_o.join(crowded, on="domain", how="anti")
    d_t = d_t.join(crowded, on="domain", how="anti")
    return d_o, d_t, crowded.height


_EVIDENCE = ["acct", "name_key", "country_key", "city_key", "phone_key", "has_domain", "taken", "name_accounts"]


def _exact_name_pairs(rows_o: pl.DataFrame, rows_t: pl.DataFrame, options: MatchOptions) -> pl.DataFrame:
    """Row pairs with equal names, with the columns ``_accepted`` judges."""
    def side(rows: pl.DataFrame) -> pl.DataFrame:
        return rows.filter(pl.col("name_key").str.len_chars() >= options.min_name_length).select(_EVIDENCE)

    return side(rows_o).join(side(rows_t), on="name_key", suffix="_t")


def _accepted(options: MatchOptions, *, allow_unique: bool) -> pl.Expr:
    """The evidence rules of stages 2 and 3 (see the module docstring) over a frame of row pairs
    that carries both rows' keys (``_t`` for theirs) and ``taken``/``taken_t`` (already matched)."""

    def both(column: str) -> pl.Expr:
        return pl.col(column).is_not_null() & pl.col(f"{column}_t").is_not_null()

    def same(column: str) -> pl.Expr:
        return both(column) & (pl.col(column) == pl.col(f"{column}_t"))

    country_differs = both("country_key") & (pl.col("country_key") != pl.col("country_key_t"))
    strong = same("city_key") | same("phone_key")
    quiet = ~(both("city_key") & (pl.col("city_key") != pl.col("city_key_t"))) & ~(
        pl.col("has_domain") & pl.col("has_domain_t")
    )
    # Weak evidence (the name and at most the country) only counts when it is unambiguous: the name
    # is on one account in each list and neither account has a match already.
    alone = (
        (pl.col("name_accounts") == 1) & (pl.col("name_accounts_t") == 1) & ~pl.col("taken") & ~pl.col("taken_t")
    )
    weak = same("country_key") | pl.lit(allow_unique)
    return (~country_differs & (strong | (quiet & weak & alone))).fill_null(False)


def _grams(rows: pl.DataFrame, options: MatchOptions) -> pl.LazyFrame:
    """(row, country_key, city_key, gram): each word of two or more characters of the name's core,
    and each adjacent word pair."""
    fields = ["row", "country_key", "city_key"]
    words = rows.lazy().select(*fields, words=pl.col("core").str.split(" "))
    unigrams = words.select(*fields, gram="words").explode("gram")
    # Word pairs: the words but the last, and the words but the first, exploded side by side (both
    # lists have the same length, so the rows line up; a one-word name gives a null and is dropped).
    firsts = words.select(*fields, a=pl.col("words").list.slice(0, pl.col("words").list.len() - 1)).explode("a")
    seconds = words.select(b=pl.col("words").list.slice(1)).explode("b")
    bigrams = pl.concat([firsts, seconds], how="horizontal").select(
        *fields, gram=pl.concat_str([pl.col("a"), pl.lit(" "), pl.col("b")])
    )
    return pl.concat([unigrams, bigrams]).filter(pl.col("gram").str.len_chars() >= 2)


def _candidates(rows_o: pl.DataFrame, rows_t: pl.DataFrame, options: MatchOptions) -> pl.DataFrame:
    """(row_o, row_t) pairs sharing a small block.

    Blocks are 64-bit hashes of (place, gram): the gram's hash XOR the place's, so no strings are
    built (a collision only adds a candidate, never a match). Same-country blocks are joined for
    every row; same-city blocks only where one side has no country (same country is covered,
    different countries never match), i.e. the rows without a country against every row with the
    city, both ways; the phone number is a block of its own.
    """
    # Collected once: each is the source of several block tables below.
    g_o, g_t = (frame.lazy() for frame in pl.collect_all([_grams(rows_o, options), _grams(rows_t, options)],
                                                          engine=_ENGINE))

    def blocks(g: pl.LazyFrame, place: str, salt: int) -> pl.LazyFrame:
        return g.filter(pl.col(place).is_not_null()).select(
            "row", "country_key", block=pl.col("gram").hash(seed=salt) ^ pl.col(place).hash(seed=salt + 1),
        )

    def phones(rows: pl.DataFrame) -> pl.LazyFrame:
        return rows.lazy().filter(pl.col("phone_key").is_not_null()).select("row", block=pl.col("phone_key").hash(seed=5))

    def small(e_o: pl.LazyFrame, e_t: pl.LazyFrame) -> pl.LazyFrame:
        sizes = e_o.group_by("block").len().join(e_t.group_by("block").len(), on="block", suffix="_t")
        return sizes.filter(pl.col("len") * pl.col("len_t") <= options.max_block_pairs).select("block")

    def pairs(e_o: pl.LazyFrame, e_t: pl.LazyFrame, keep: pl.LazyFrame) -> pl.LazyFrame:
        e_o, e_t = e_o.join(keep, on="block", how="semi"), e_t.join(keep, on="block", how="semi")
        return e_o.select("row", "block").join(e_t.select("row", "block"), on="block", suffix="_t").select(
            row_o="row", row_t="row_t"
        )

    country_o, country_t, city_o, city_t, phone_o, phone_t = (
        frame.lazy() for frame in pl.collect_all(
            [blocks(g_o, "country_key", 1), blocks(g_t, "country_key", 1), blocks(g_o, "city_key", 3),
             blocks(g_t, "city_key", 3), phones(rows_o), phones(rows_t)], engine=_ENGINE,
        )
    )
    # City blocks matter only where a row without a country is in them: size those blocks alone.
    no_country = pl.col("country_key").is_null()
    needed = pl.concat([city_o.filter(no_country).select("block"), city_t.filter(no_country).select("block")]).unique()
    city_o, city_t = city_o.join(needed, on="block", how="semi"), city_t.join(needed, on="block", how="semi")
    city_keep = small(city_o, city_t)
    found = [
        pairs(country_o, country_t, small(country_o, country_t)),
        pairs(city_o.filter(no_country), city_t, city_keep),
        pairs(city_o, city_t.filter(no_country), city_keep),
        pairs(phone_o, phone_t, small(phone_o, phone_t)),
    ]
    return pl.concat(found).unique().collect(engine=_ENGINE)


# Polars' streaming engine runs a chain of string operations on several cores at once (the
# in-memory engine runs one expression on one core); "in-memory" is there for comparison.
_ENGINE = os.environ.get("COVEY_MAP_ENGINE", "streaming")
_NOISE = " (?:" + "|".join(sorted(NOISE_WORDS, key=len, reverse=True)) + ") "


def _core(name_key: pl.Expr) -> pl.Expr:
    """The name without noise words (the name itself when nothing else is left)."""
    # Padded with spaces so a word is matched whole; twice, because a match eats the space a
    # neighbouring noise word needs ("gmbh and co": one pass leaves "and").
    padded = pl.concat_str([pl.lit(" "), name_key, pl.lit(" ")])
    core = padded.str.replace_all(_NOISE, " ").str.replace_all(_NOISE, " ").str.strip_chars()
    return pl.when(core == "").then(name_key).otherwise(core)


def _fuzzy(rows_o: pl.DataFrame, rows_t: pl.DataFrame, options: MatchOptions) -> tuple[pl.DataFrame, int]:
    """Stage 3 over the still-unmatched rows: (acct_o, acct_t, kind, score) and the candidates."""
    min_length = max(options.min_name_length, 3)

    def side(rows: pl.DataFrame) -> pl.DataFrame:
        # "row" becomes the position in this subset, so candidates can fetch their rows by gather
        # (much cheaper than joining millions of pairs back on a key).
        return (
            rows.lazy().filter(pl.col("name_key").str.len_chars() >= min_length)
            .with_columns(core=_core(pl.col("name_key")), row=pl.int_range(pl.len(), dtype=pl.UInt32))
            .collect(engine=_ENGINE)
        )

    rows_o, rows_t = side(rows_o), side(rows_t)
    empty = pl.DataFrame(schema={"acct_o": pl.UInt32, "acct_t": pl.UInt32, "kind": pl.String, "score": pl.Float64})
    if not rows_o.height or not rows_t.height:
        return empty, 0
    pairs = _candidates(rows_o, rows_t, options)
    candidates = pairs.height
    # The evidence rules only compare keys for equality, so they run on 64-bit hashes of them
    # (fetching millions of numbers by position is far cheaper than fetching strings; a collision
    # would take ~2^-64 per pair). The names themselves are fetched for the pairs that pass.
    def numeric(rows: pl.DataFrame) -> pl.DataFrame:
        return rows.select(
            "acct", "has_domain", "taken", "name_accounts",
            *[pl.when(pl.col(c).is_not_null()).then(pl.col(c).hash(seed=11)).alias(c)
              for c in ("name_key", "country_key", "city_key", "phone_key")],
        )

    pairs = pl.concat(
        [pairs, numeric(rows_o).select(pl.all().gather(pairs["row_o"])),
         numeric(rows_t).select(pl.all().gather(pairs["row_t"]).name.suffix("_t"))],
        how="horizontal",
    ).filter((pl.col("name_key") != pl.col("name_key_t")) & _accepted(options, allow_unique=False))
    pairs = pairs.with_columns(core=rows_o["core"].gather(pairs["row_o"]), core_t=rows_t["core"].gather(pairs["row_t"]))
    if not pairs.height:
        return empty, candidates
    left, right = pairs["core"].to_list(), pairs["core_t"].to_list()

    def bulk(scorer) -> pl.Series:
        return pl.Series(process.cpdist(left, right, scorer=scorer, workers=-1), dtype=pl.Float64)

    # token_sort_ratio forgives word order, ratio a lost space ("Acme Foods" / "AcmeFoods");
    # token_set_ratio is 100 when one name's words are all in the other ("Acme" / "Acme Foods").
    pairs = pairs.with_columns(
        score=pl.max_horizontal(bulk(fuzz.token_sort_ratio), bulk(fuzz.ratio)),
        contained=bulk(fuzz.token_set_ratio) == 100,
    )
    def same(column: str) -> pl.Expr:
        return pl.col(column).is_not_null() & (pl.col(column) == pl.col(f"{column}_t"))

    strong = same("city_key") | same("phone_key")
    shorter = pl.min_horizontal(pl.col("core").str.len_chars(), pl.col("core_t").str.len_chars())
    penalty = pl.when(shorter < options.short_name_length).then(options.short_name_penalty).otherwise(0.0)
    accept = (
        pl.when(strong).then(
            (pl.col("score") >= options.strong_fuzzy_threshold + penalty)
            | (pl.col("contained") & (shorter >= options.short_name_length // 2))
        )
        .otherwise(pl.col("score") >= options.fuzzy_threshold + penalty)
    )
    pairs = pairs.filter(accept).group_by("acct", "acct_t").agg(pl.col("score").max())
    # Mutual best: the pair is the best candidate of both its accounts (ties kept).
    pairs = pairs.filter(
        (pl.col("score") == pl.col("score").max().over("acct"))
        & (pl.col("score") == pl.col("score").max().over("acct_t"))
    )
    return pairs.select(acct_o="acct", acct_t="acct_t", kind=pl.lit("name_fuzzy"), score="score"), candidates


def _score_pairs(pairs: pl.DataFrame, rows_o: pl.DataFrame, rows_t: pl.DataFrame) -> pl.DataFrame:
    """Add ``score`` (best name similarity over the accounts' rows) to (acct_o, acct_t, kind)."""
    names_o = rows_o.filter(pl.col("name_key") != "").select("acct", "name_key").unique()
    names_t = rows_t.filter(pl.col("name_key") != "").select("acct", "name_key").unique()
    rows = (
        pairs.join(names_o, left_on="acct_o", right_on="acct", how="left")
        .join(names_t, left_on="acct_t", right_on="acct", how="left", suffix="_t")
    )
    both = rows.filter(pl.col("name_key").is_not_null() & pl.col("name_key_t").is_not_null())
    scores = process.cpdist(
        both["name_key"].to_list(), both["name_key_t"].to_list(), scorer=fuzz.token_sort_ratio, workers=-1,
    ) if both.height else []
    both = both.with_columns(score=pl.Series(scores, dtype=pl.Float64))
    best = both.group_by("acct_o", "acct_t").agg(pl.col("score").max())
    return (
        pairs.join(best, on=["acct_o", "acct_t"], how="left", maintain_order="left")
        .with_columns(pl.col("score").fill_null(0.0))
        .select("acct_o", "acct_t", "kind", "score")
    )
