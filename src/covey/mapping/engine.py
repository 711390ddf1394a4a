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
   ``&``/and, legal suffixes in many languages, a leading "the") and the evidence agrees:

   - never when both countries are known and differ (same name, different country: different
     companies as far as a partner can tell);
   - yes when the city or the phone number agrees ("strong" support);
   - yes when the country agrees, or when the name is unique in both lists, and nothing else
     disagrees: the cities are not both known and different, the accounts do not both have
     usable domains (had they been the same company, the domains would likely have met in stage
     1), and the name is not on more than ``max_name_accounts`` accounts of a list.
3. ``name_fuzzy``: accounts still unmatched, paired within blocks — the same country, city or
   phone, plus a shared name word or pair of adjacent words; blocks of more than
   ``max_block_pairs`` pairs are skipped (a word like "solutions") — and scored with RapidFuzz's
   ``token_sort_ratio`` on the normalised names in bulk (``cpdist``, all cores). Accepted at or
   above ``fuzzy_threshold`` (``short_name_threshold`` for names under ``short_name_length``
   characters, where one letter is a bigger change), with the same evidence rules as stage 2
   (uniqueness does not count), and only for the pair's mutual best: the best-scoring candidate of
   both of its accounts.

**Many-to-many, deliberately.** An account may match several of the other list: duplicates in a
CRM are common and a partnerships team wants to see each. Stages 1 and 2 keep every pair that
passes; stage 3 keeps only mutual bests (ties kept) of accounts no earlier stage matched, so fuzzy
evidence never adds a second partner to an account.

**Score.** ``score`` is how alike the two names are, 0–100 (``token_sort_ratio`` of the normalised
names; for an account with several rows, the best pair of rows): 100 for ``name_exact``, at least
the threshold for ``name_fuzzy``, anything for ``domain`` (``IBM`` and ``International Business
Machines`` share ``ibm.com``). ``kind`` says why they matched; ``score`` helps a person review.

Every rule is symmetric, so swapping the lists swaps the columns and nothing else.
"""

from __future__ import annotations

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
    "accounts_frame",
    "match_accounts",
]

COLUMNS = ("id", "name", "website", "domains", "country", "city", "phone")
KINDS = ("domain", "name_exact", "name_fuzzy")  # strongest first
MATCH_SCHEMA = {"our_id": pl.String, "their_id": pl.String, "kind": pl.String, "score": pl.Float64}
ID_REQUIRED = "An account frame needs an 'id' column."


@dataclass(frozen=True)
class MatchOptions:
    fuzzy_threshold: float = 90.0
    short_name_length: int = 8
    short_name_threshold: float = 95.0
    max_domain_accounts: int = 25
    max_name_accounts: int = 3
    max_block_pairs: int = 400
    min_name_length: int = 2
    never_alone_domains: frozenset[str] = NEVER_ALONE


@dataclass
class MatchResult:
    matches: pl.DataFrame  # our_id, their_id, kind, score
    seconds: dict[str, float] = field(default_factory=dict)  # per stage
    counts: dict[str, Any] = field(default_factory=dict)  # candidate pairs, matches per kind…

    @property
    def candidate_pairs(self) -> int:
        return int(self.counts.get("candidate_pairs", 0))


def accounts_frame(data: pl.DataFrame | list[dict] | dict) -> pl.DataFrame:
    """Any of the engine's inputs (a frame, a list of row dicts, a dict of columns) as a frame with
    exactly ``COLUMNS``, all text; missing columns are null. The web app builds frames this way."""
    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data, infer_schema_length=None)
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


def match_accounts(ours: Any, theirs: Any, *, options: MatchOptions | None = None) -> MatchResult:
    """Match two account lists; see the module docstring for the rules."""
    options = options or MatchOptions()
    clock = _Clock()
    ours, theirs = accounts_frame(ours), accounts_frame(theirs)
    rows_o, rows_t = _prepare(ours, theirs)
    clock.lap("normalise")

    domains_o, domains_t, shared = _domains(rows_o, rows_t, options)
    has_domain_o = domains_o["acct"].unique()
    has_domain_t = domains_t["acct"].unique()
    by_domain = domains_o.join(domains_t, on="domain", suffix="_t").select(
        acct_o="acct", acct_t="acct_t"
    ).unique()
    clock.lap("domain")

    rows_o = rows_o.with_columns(has_domain=pl.col("acct").is_in(has_domain_o.implode()))
    rows_t = rows_t.with_columns(has_domain=pl.col("acct").is_in(has_domain_t.implode()))
    exact_pairs = _exact_name_pairs(rows_o, rows_t, options)
    by_name = exact_pairs.filter(_accepted(options, allow_unique=True)).select(acct_o="acct", acct_t="acct_t").unique()
    by_name = by_name.join(by_domain, on=["acct_o", "acct_t"], how="anti")
    clock.lap("name_exact")

    matched_o = pl.concat([by_domain["acct_o"], by_name["acct_o"]]).unique()
    matched_t = pl.concat([by_domain["acct_t"], by_name["acct_t"]]).unique()
    fuzzy, candidates = _fuzzy(
        rows_o.filter(~pl.col("acct").is_in(matched_o.implode())),
        rows_t.filter(~pl.col("acct").is_in(matched_t.implode())),
        options,
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
        "shared_domains_ignored": shared,
        "matches": matches.height,
        **{f"matches_{k}": int(kinds.get(k, 0)) for k in KINDS},
    }
    return MatchResult(matches=matches, seconds=clock.seconds, counts=counts)


# --- preparation -----------------------------------------------------------------------------


def _prepare(ours: pl.DataFrame, theirs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Row frames with account numbers and every key; both lists normalised in one go (a value
    that occurs in both is normalised once)."""
    both = pl.concat([ours.with_columns(side=pl.lit(0, pl.Int8)), theirs.with_columns(side=pl.lit(1, pl.Int8))])
    country = fold_keys(both["country"])
    phone_digits = both["phone"].str.replace_all(r"\D", "")
    both = both.with_columns(
        name_key=company_keys(both["name"]),
        country_key=pl.when(country != "").then(country_keys(country)),
        city_key=pl.when(fold_keys(both["city"]) != "").then(fold_keys(both["city"])),
        # The last nine digits: "+1 (555) 010-2000" and "555 010 2000" agree; too short is noise.
        phone_key=pl.when(phone_digits.str.len_chars() >= 7).then(phone_digits.str.slice(-9)),
    )
    sides = []
    for side in (0, 1):
        rows = both.filter(pl.col("side") == side).drop("side").with_row_index("row")
        rows = rows.with_columns(acct=pl.col("id").fill_null("").rank("dense").cast(pl.UInt32) - 1)
        sides.append(rows)
    return sides[0], sides[1]


def _domains(rows_o: pl.DataFrame, rows_t: pl.DataFrame, options: MatchOptions):
    """(acct, domain) per side, usable domains only, and how many crowded domains were ignored."""

    def pieces(rows: pl.DataFrame) -> pl.DataFrame:
        text = pl.concat_str(["website", "domains"], separator=" ", ignore_nulls=True)
        return (
            rows.select("acct", piece=text.str.replace_all(r"[;,|\s]+", " ").str.strip_chars().str.split(" "))
            .explode("piece")
            .filter(pl.col("piece").is_not_null() & (pl.col("piece") != ""))
        )

    p_o, p_t = pieces(rows_o), pieces(rows_t)
    keys = domain_keys(pl.concat([p_o["piece"], p_t["piece"]]))
    never = pl.Series(sorted(options.never_alone_domains), dtype=pl.String).implode()

    def usable(p: pl.DataFrame, k: pl.Series) -> pl.DataFrame:
        return (
            p.with_columns(domain=k).select("acct", "domain").unique()
            .filter((pl.col("domain") != "") & ~pl.col("domain").is_in(never))
        )

    d_o, d_t = usable(p_o, keys[: p_o.height]), usable(p_t, keys[p_o.height :])
    # A domain on many accounts of either list is a group or hosting domain, not a company's.
    crowded = pl.concat([
        d.group_by("domain").len().filter(pl.col("len") > options.max_domain_accounts).select("domain")
        for d in (d_o, d_t)
    ]).unique()
    d_o = d_o.join(crowded, on="domain", how="anti")
    d_t = d_t.join(crowded, on="domain", how="anti")
    return d_o, d_t, crowded.height


_EVIDENCE = ["acct", "name_key", "country_key", "city_key", "phone_key", "has_domain", "name_accounts"]


def _with_name_counts(rows: pl.DataFrame) -> pl.DataFrame:
    counts = rows.filter(pl.col("name_key") != "").group_by("name_key").agg(name_accounts=pl.col("acct").n_unique())
    return rows.join(counts, on="name_key", how="left", maintain_order="left")


def _exact_name_pairs(rows_o: pl.DataFrame, rows_t: pl.DataFrame, options: MatchOptions) -> pl.DataFrame:
    """Row pairs with equal names, with the columns ``_accepted`` judges."""
    def side(rows: pl.DataFrame) -> pl.DataFrame:
        return _with_name_counts(rows).filter(pl.col("name_key").str.len_chars() >= options.min_name_length).select(_EVIDENCE)

    return side(rows_o).join(side(rows_t), on="name_key", suffix="_t")


def _accepted(options: MatchOptions, *, allow_unique: bool) -> pl.Expr:
    """The evidence rules of stages 2 and 3 (see the module docstring) over a frame of row pairs."""

    def both(column: str) -> pl.Expr:
        return pl.col(column).is_not_null() & pl.col(f"{column}_t").is_not_null()

    def same(column: str) -> pl.Expr:
        return both(column) & (pl.col(column) == pl.col(f"{column}_t"))

    country_differs = both("country_key") & (pl.col("country_key") != pl.col("country_key_t"))
    strong = same("city_key") | same("phone_key")
    quiet = ~(both("city_key") & (pl.col("city_key") != pl.col("city_key_t"))) & ~(
        pl.col("has_domain") & pl.col("has_domain_t")
    )
    few = (pl.col("name_accounts") <= options.max_name_accounts) & (pl.col("name_accounts_t") <= options.max_name_accounts)
    weak = same("country_key") & few
    if allow_unique:
        weak = weak | ((pl.col("name_accounts") == 1) & (pl.col("name_accounts_t") == 1))
    return (~country_differs & (strong | (quiet & weak))).fill_null(False)


def _grams(rows: pl.DataFrame, options: MatchOptions) -> pl.DataFrame:
    """(row, gram): each name word of two or more characters, and each adjacent word pair."""
    key = pl.col("name_key")
    grams = rows.select(
        "row",
        gram=pl.concat_list(
            key.str.split(" "),
            key.str.extract_all(r"\S+ \S+"),  # (w1 w2) (w3 w4)…
            key.str.replace(r"^\S+ ", "").str.extract_all(r"\S+ \S+"),  # (w2 w3) (w4 w5)…
        ),
    )
    return grams.explode("gram").filter(pl.col("gram").str.len_chars() >= 2).unique()


def _hashed(*parts: pl.Expr) -> pl.Expr:
    return pl.concat_str(list(parts), separator="\x1f").hash(seed=7)


def _candidates(rows_o: pl.DataFrame, rows_t: pl.DataFrame, options: MatchOptions) -> pl.DataFrame:
    """(row_o, row_t) pairs sharing a small block."""
    g_o, g_t = _grams(rows_o, options), _grams(rows_t, options)
    fields = ["row", "country_key", "city_key", "phone_key"]
    g_o = g_o.join(rows_o.select(fields), on="row")
    g_t = g_t.join(rows_t.select(fields), on="row")

    def entries(g: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
        by_country = g.filter(pl.col("country_key").is_not_null()).select(
            "row", block=_hashed(pl.lit("c"), pl.col("country_key"), pl.col("gram")), keep=pl.lit(True)
        )
        # Same city: only needed when a country is missing (same country is covered above,
        # different countries never match), marked so the join below can skip the rest.
        by_city = g.filter(pl.col("city_key").is_not_null()).select(
            "row", block=_hashed(pl.lit("t"), pl.col("city_key"), pl.col("gram")),
            keep=pl.col("country_key").is_null(),
        )
        by_phone = rows.filter(pl.col("phone_key").is_not_null()).select(
            "row", block=_hashed(pl.lit("p"), pl.col("phone_key")), keep=pl.lit(True)
        )
        return pl.concat([by_country, by_city, by_phone]).unique(["row", "block"])

    e_o, e_t = entries(g_o, rows_o), entries(g_t, rows_t)
    sizes = (
        e_o.group_by("block").len()
        .join(e_t.group_by("block").len(), on="block", suffix="_t")
        .filter(pl.col("len") * pl.col("len_t") <= options.max_block_pairs)
        .select("block")
    )
    e_o = e_o.join(sizes, on="block", how="semi")
    e_t = e_t.join(sizes, on="block", how="semi")
    # A city block pair counts only when one side lacks a country (keep is False on both sides
    # exactly for city entries of rows that have one).
    pairs = e_o.join(e_t, on="block", suffix="_t").filter(pl.col("keep") | pl.col("keep_t"))
    return pairs.select(row_o="row", row_t="row_t").unique()


def _fuzzy(rows_o: pl.DataFrame, rows_t: pl.DataFrame, options: MatchOptions) -> tuple[pl.DataFrame, int]:
    """Stage 3 over the still-unmatched rows: (acct_o, acct_t, kind, score) and the candidates."""
    min_length = max(options.min_name_length, 3)
    rows_o = _with_name_counts(rows_o).filter(pl.col("name_key").str.len_chars() >= min_length)
    rows_t = _with_name_counts(rows_t).filter(pl.col("name_key").str.len_chars() >= min_length)
    empty = pl.DataFrame(schema={"acct_o": pl.UInt32, "acct_t": pl.UInt32, "kind": pl.String, "score": pl.Float64})
    if not rows_o.height or not rows_t.height:
        return empty, 0
    pairs = _candidates(rows_o, rows_t, options)
    candidates = pairs.height
    evidence = ["row", *_EVIDENCE]
    pairs = (
        pairs.join(rows_o.select(evidence), left_on="row_o", right_on="row")
        .join(rows_t.select(evidence), left_on="row_t", right_on="row", suffix="_t")
        .filter((pl.col("name_key") != pl.col("name_key_t")) & _accepted(options, allow_unique=False))
    )
    if not pairs.height:
        return empty, candidates
    scores = process.cpdist(
        pairs["name_key"].to_list(), pairs["name_key_t"].to_list(),
        scorer=fuzz.token_sort_ratio, workers=-1,
    )
    shorter = pl.min_horizontal(pl.col("name_key").str.len_chars(), pl.col("name_key_t").str.len_chars())
    threshold = pl.when(shorter < options.short_name_length).then(options.short_name_threshold).otherwise(options.fuzzy_threshold)
    pairs = (
        pairs.with_columns(score=pl.Series(scores, dtype=pl.Float64))
        .filter(pl.col("score") >= threshold)
        .group_by("acct", "acct_t").agg(pl.col("score").max())
    )
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
