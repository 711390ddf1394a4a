"""Normal forms for whole columns at once, identical to ``covey.core.normalise``'s.

Deal registration normalises one company at a time with ``normalise_domain`` and
``normalise_company``; account mapping normalises a million rows per list. Called per row, those two
functions cost ~7 µs and ~110 µs (cleanco compares every name with 321 legal terms in Python,
several times over), which is minutes for two big lists. These functions give the *same answer*
for a whole Polars column in a few vectorised passes, so a domain or name that registration
considers equal, mapping does too:

- **Domains.** The string surgery (scheme, e-mail local part, path, port, dots) is a handful of
  regular expressions. The public-suffix step replays tldextract's trie walk with set look-ups of
  the host's last 1–4 labels (rules, wildcard ``*.ck`` and exception ``!www.ck`` rules included).
- **Names.** Case/accent folding is a per-character table built from the Python functions for the
  characters that actually occur. cleanco's suffix loop is order-dependent and subtle, so it is not
  re-implemented: only a name's *tail* can change (the run of tokens that could be part of a legal
  term), and that tail comes from a tiny vocabulary ("gmbh & co kg", "inc.", "ltd)"). Each distinct
  tail is evaluated once by the real Python code, behind a stand-in for the word before it, and the
  answer is spliced back onto every name with that tail.

Anything the fast path cannot vouch for — characters outside printable ASCII and the letters whose
folding both libraries agree on, hosts with odd characters or punycode labels, absurdly long tails —
goes through the reference function itself (on unique values). ``tests/test_mapping_keys.py``
checks, with Hypothesis and corpora in many languages, that batch == reference.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache

import polars as pl
from cleanco.clean import prepare_default_terms, remove_accents

from covey.core.normalise import (
    _RESERVED_TLDS,
    _extract,
    _fold,
    _strip_legal_suffixes,
    normalise_company,
    normalise_domain,
)

__all__ = ["company_keys", "domain_keys", "fold_keys"]

# --- domains ----------------------------------------------------------------------------------

_PRINTABLE_ASCII = r"^[\x20-\x7e]*$"
_SAFE_HOST = r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$"
_MAX_RULE_LABELS = 4
_ENGINE = os.environ.get("COVEY_MAP_ENGINE", "streaming")  # see engine.py  # the deepest public-suffix rule (checked when the tables are built)


@lru_cache(maxsize=1)
def _suffix_tables() -> tuple[pl.Series, pl.Series, pl.Series, pl.Series]:
    """tldextract's suffix trie as sets of dotted right-parts: (every node, the rules that end
    there, the nodes with a wildcard child, the names that an exception rule takes back)."""
    rules = _extract._get_tld_extractor().tlds_excl_private
    nodes: set[str] = set()
    for rule in rules:
        labels = rule.split(".")
        if len(labels) > _MAX_RULE_LABELS:  # pragma: no cover - a new snapshot with deeper rules
            raise RuntimeError(f"public suffix rule {rule!r} is deeper than {_MAX_RULE_LABELS} labels")
        for i in range(len(labels)):
            nodes.add(".".join(labels[i:]))
    wild = {rule[2:] for rule in rules if rule.startswith("*.")}
    exceptions = {rule[1:] for rule in rules if rule.startswith("!")}
    # Imploded: one list value, the form Polars' is_in takes a set in.
    return tuple(pl.Series(sorted(x), dtype=pl.String).implode() for x in (nodes, set(rules), wild, exceptions))


def _hosts(raw: pl.Series) -> pl.Series:
    """The host part, exactly as ``normalise_domain`` cuts it (before IDNA and the suffix list)."""
    v = pl.col("v")
    # An @ is rare in a website column: those rows take the plain regular expressions; the rest
    # use find() (the fast, capture-free engine) and slicing.
    cut_at = v.str.replace(r"^[a-z][a-z0-9+.-]*://", "").str.replace(r"^.*@", "")
    cut_scheme = pl.when(v.str.contains(r"^[a-z][a-z0-9+.-]*://")).then(
        v.str.slice(v.str.find("://", literal=True) + 3)
    ).otherwise(v)
    cut = pl.col("h").str.find(r"[/?#\s:]")
    return (
        pl.DataFrame({"v": raw}).lazy()
        .with_columns(v=v.str.strip_chars().str.to_lowercase())
        .with_columns(h=pl.when(v.str.contains("@", literal=True)).then(cut_at).otherwise(cut_scheme))
        .select(pl.when(cut.is_null()).then(pl.col("h")).otherwise(pl.col("h").str.slice(0, cut)).str.strip_chars("."))
        .collect(engine=_ENGINE)
        .to_series()
    )


def _fast_domains(raw: pl.Series) -> pl.DataFrame:
    """raw → (key, ok): ok is False where only the reference function may answer."""
    nodes, ends, wild_parents, exceptions = _suffix_tables()
    frame = pl.DataFrame({"raw": raw, "host": _hosts(raw)}).lazy()
    frame = frame.with_columns(
        printable=pl.col("raw").str.contains(_PRINTABLE_ASCII),
        # Python's IDNA codec refuses empty inner labels and labels of 64+ characters.
        idna_error=pl.col("host").str.contains(r"\.\.|[^.]{64,}"),
        safe_host=pl.col("host").str.contains(_SAFE_HOST) & ~pl.col("host").str.contains(r"(^|\.)xn--"),
        labels=pl.col("host").str.split("."),
        size=pl.col("host").str.len_bytes(),
    )
    depth = _MAX_RULE_LABELS + 1
    # right{j}: how many characters the last j labels take (null when there are fewer labels).
    frame = frame.with_columns(
        [pl.col("labels").list.get(-j, null_on_oob=True).str.len_bytes().alias(f"len{j}") for j in range(1, depth + 1)]
    ).with_columns(n=pl.col("labels").list.len()).drop("labels")
    right = pl.col("len1")
    rights = [right.alias("right1")]
    for j in range(2, depth + 1):
        right = right + 1 + pl.col(f"len{j}")
        rights.append(right.alias(f"right{j}"))
    frame = frame.with_columns(rights).drop([f"len{j}" for j in range(1, depth + 1)])

    def last(j: int) -> pl.Expr:  # the last j labels, dotted (null when there are fewer)
        return pl.col("host").str.slice(pl.col("size") - pl.col(f"right{j}"))

    frame = frame.with_columns([last(j).alias(f"k{j}") for j in range(1, depth + 1)])
    frame = frame.with_columns(
        [pl.col(f"k{j}").is_in(nodes).fill_null(False).alias(f"node{j}") for j in range(1, _MAX_RULE_LABELS + 1)]
    )
    # How far tldextract's walk from the right gets (a right-part of a node is a node, so the
    # nodes reached are exactly the leading run), and the deepest rule on the way. At the deepest
    # node, a label that is not a child falls under a wildcard rule (*.ck: one more label belongs
    # to the suffix) unless an exception (!www.ck) names it.
    walk = sum((pl.col(f"node{j}").cast(pl.Int32) for j in range(1, _MAX_RULE_LABELS + 1)), pl.lit(0))
    frame = frame.with_columns(w=walk)
    deepest = pl.lit(0)
    wild = pl.lit(False)
    exception = pl.lit(False)
    for j in range(1, _MAX_RULE_LABELS + 1):
        at_j = pl.col("w") == j
        deepest = pl.when(pl.col(f"node{j}") & pl.col(f"k{j}").is_in(ends)).then(j).otherwise(deepest)
        wild = wild | (at_j & (pl.col("n") > j) & pl.col(f"k{j}").is_in(wild_parents))
        exception = exception | (at_j & pl.col(f"k{j + 1}").is_in(exceptions))
    frame = frame.with_columns(
        s=pl.when(wild.fill_null(False))
        .then(pl.when(exception.fill_null(False)).then(pl.col("w")).otherwise(pl.col("w") + 1))
        .otherwise(deepest)
    )
    registrable_size = pl.lit(None, dtype=pl.Int64)
    for j in range(depth, 1, -1):
        registrable_size = pl.when(pl.col("s") + 1 == j).then(pl.col(f"right{j}")).otherwise(registrable_size)
    reserved = (pl.col("n") >= 2) & pl.col("k1").is_in(pl.Series(sorted(_RESERVED_TLDS)).implode())
    key = (
        pl.when(pl.col("host") == "").then(pl.lit(""))
        .when(pl.col("idna_error")).then(pl.lit(""))
        .when(pl.col("s") == 0).then(pl.when(reserved).then(pl.col("k2")).otherwise(pl.lit("")))
        .when(pl.col("s") >= pl.col("n")).then(pl.lit(""))
        .otherwise(pl.col("host").str.slice(pl.col("size") - registrable_size))
    )
    ok = pl.col("printable") & (pl.col("safe_host") | (pl.col("host") == "") | pl.col("idna_error"))
    return frame.select(pl.col("raw"), key.alias("key"), ok.fill_null(False).alias("ok")).collect(engine=_ENGINE)


def domain_keys(values: pl.Series) -> pl.Series:
    """``normalise_domain`` of every value ("" for null)."""
    return _mapped(values, _domain_table)


def _domain_table(frame: pl.DataFrame) -> pl.DataFrame:
    """(i, raw) → (i, key)."""
    fast = _fast_domains(frame["raw"]).with_columns(i=frame["i"])
    slow = fast.filter(~pl.col("ok"))
    if slow.height:
        slow = slow.with_columns(
            key=pl.Series([normalise_domain(v) for v in slow["raw"].to_list()], dtype=pl.String)
        )
        fast = pl.concat([fast.filter(pl.col("ok")), slow])
    return fast.select("i", "key")


# --- company names ----------------------------------------------------------------------------

_STAND_IN = "zq"  # stands for the word before a name's tail: \w, and not part of any legal term
_TERM_WORDS = sorted({part for _, parts in prepare_default_terms() for part in parts})
if _STAND_IN in _TERM_WORDS:  # pragma: no cover - a cleanco release that knows "zq"
    raise RuntimeError(f"pick another stand-in: cleanco lists {_STAND_IN!r} as a legal term")


def _tail_pattern() -> str:
    """A regular expression for the run of trailing tokens that cleanco might delete.

    A token is in the run when, less ``.,-`` (cleanco's strip_punct), it is a word of some legal
    term — possibly followed by punctuation that strip_tail would eat — or when it is nothing but
    such punctuation. This over-approximates (harmless: the run is evaluated exactly); it must
    never miss a deletable token, or the splice would be wrong.
    """
    words = sorted((w for w in _TERM_WORDS if w.isascii()), key=len, reverse=True)
    spelled = "|".join("[.,-]*".join(re.escape(c) for c in word) for word in words)
    token = rf"(?:[.,-]*(?:{spelled})[.,-]*[^.\w\s]*|[^.\w\s]+)"
    return rf"(?:^| ){token}(?: {token})*$"


_TAIL = _tail_pattern()


@lru_cache(maxsize=50_000)
def _char_fold(char: str) -> str | None:
    """The ASCII that both ``_fold`` and cleanco make of one letter, or None if they disagree."""
    if not unicodedata.category(char).startswith("L"):
        return None
    folded = _fold(char)
    if folded != remove_accents(char) or not folded.isascii() or not folded.isalnum():
        return None
    return folded


def _char_table(values: pl.Series) -> tuple[list[str], list[str]]:
    """(non-ASCII letters the fast path folds, their ASCII); other characters send a name to the
    reference function."""
    chars = values.str.extract_all(r"[^\x00-\x7f]").explode().drop_nulls().unique().to_list()
    pairs = [(c, f) for c in chars if (f := _char_fold(c)) is not None]
    return [c for c, _ in pairs], [f for _, f in pairs]


def _strip_tail(expr: pl.Expr) -> pl.Expr:
    """cleanco's strip_tail: drop trailing characters that are neither word characters nor dots."""
    cut = expr.str.find(r"[^.\w]+$")
    return pl.when(cut.is_null()).then(expr).otherwise(expr.str.slice(0, cut))


def _strip_legal(frame: pl.DataFrame) -> pl.LazyFrame:
    """Column ``v`` (folded ASCII) → ``stripped``, as ``_strip_legal_suffixes`` would.

    Why folding first is allowed: cleanco decides on folded tokens anyway, the table only maps
    letters to letters (so strip_tail and token boundaries are unchanged), and everything is folded
    right after.
    """
    found = pl.col("v").str.find(_TAIL)
    before = pl.col("v").str.slice(0, pl.col("start") - 1)
    frame = (
        frame.lazy()
        .with_columns(start=pl.when(found == 0).then(0).otherwise(found + 1))
        .with_columns(tail=pl.col("v").str.slice(pl.col("start")), before=pl.when(pl.col("start") > 0).then(before))
        .with_columns(punct_at=pl.col("before").str.find(r"[^.\w]*$"))
        .with_columns(
            # The tail behind a stand-in for the word before it (keeping that word's trailing
            # punctuation, which strip_tail may eat), or the whole value when it is all tail.
            probe=pl.when(pl.col("start") == 0).then(pl.col("v")).otherwise(
                pl.concat_str([pl.lit(_STAND_IN), pl.col("before").str.slice(pl.col("punct_at")), pl.lit(" "),
                               pl.col("tail")])
            ),
        )
        .collect(engine=_ENGINE)
    )
    probes = frame["probe"].drop_nulls().unique().to_list()
    answers = pl.DataFrame(
        {"probe": probes, "answer": [_strip_legal_suffixes(p) for p in probes]},
        schema={"probe": pl.String, "answer": pl.String},
    )
    if not all(a.startswith(_STAND_IN) for p, a in zip(probes, answers["answer"], strict=True) if p.startswith(_STAND_IN)):
        raise AssertionError("cleanco removed the stand-in word")  # pragma: no cover - see the docstring
    untouched = _strip_tail(pl.col("v"))
    stripped = (
        pl.when(pl.col("v") == "").then(pl.lit(""))
        .when(pl.col("start").is_null()).then(pl.when(untouched == "").then(pl.col("v")).otherwise(untouched))
        .when(pl.col("start") == 0).then(pl.col("answer"))
        .otherwise(pl.concat_str([pl.col("before").str.slice(0, pl.col("punct_at")),
                                  pl.col("answer").str.slice(len(_STAND_IN))]))
    )
    return (
        frame.lazy().join(answers.lazy(), on="probe", how="left", maintain_order="left")
        .with_columns(stripped=stripped)
        .drop(["start", "tail", "before", "punct_at", "probe", "answer"])
    )


def _normalise_pass(frame: pl.DataFrame) -> pl.DataFrame:
    """One ``_normalise_once`` over column ``v`` (folded ASCII) → ``next``."""
    value = (
        # The text is lower-case ASCII with spaces as its only white space here, so these classes
        # are exactly Python's [^\w\s] and \s+ (and "two or more" spares rewriting every space).
        pl.col("stripped").str.replace_all("&", " and ", literal=True).str.replace_all(r"[^a-z0-9_ ]", " ")
        .str.replace_all(r" {2,}", " ").str.strip_chars()
    )
    return (
        _strip_legal(frame)
        .with_columns(next=value)
        .with_columns(next=pl.when(pl.col("next").str.starts_with("the ")).then(pl.col("next").str.slice(4))
                      .otherwise(pl.col("next")))
        .drop("stripped")
        .collect(engine=_ENGINE)
    )


def _could_change(frame: pl.DataFrame) -> pl.Series:
    """After a pass a value is lowercase ASCII words; another pass changes it only if it has a tail
    cleanco might delete, or starts with "the " (anything else is a fixed point of the pass)."""
    return frame.lazy().select(
        pl.col("v").str.contains(_TAIL)
        | pl.col("v").str.starts_with("the ")
        | ~pl.col("v").str.contains(r"^[a-z0-9_]+( [a-z0-9_]+)*$")
    ).collect(engine=_ENGINE).to_series()


def _company_table(frame: pl.DataFrame) -> pl.DataFrame:
    """(i, raw) → (i, key)."""
    keys, folded = _char_table(frame["raw"])
    # Printable ASCII and the table's letters only: cleanco and Python's str.split know characters
    # (control characters, other Unicode spaces, combining marks) these expressions treat otherwise.
    safe = r"^[\x20-\x7e" + "".join(keys) + r"]*$"
    value = pl.col("raw").str.strip_chars().str.replace_all(" {2,}", " ")
    if keys:
        value = value.str.replace_many(keys, folded)
    frame = frame.lazy().with_columns(ok=pl.col("raw").str.contains(safe), v=value.str.to_lowercase()).collect(
        engine=_ENGINE
    )
    slow = frame.filter(~pl.col("ok"))
    work = frame.filter(pl.col("ok")).select("i", "v")
    done: list[pl.DataFrame] = []
    for index in range(5):  # normalise_company applies the pass at most five times
        if index:
            changing = _could_change(work)
            done.append(work.filter(~changing).select("i", key="v"))
            work = work.filter(changing)
        if not work.height:
            break
        work = _normalise_pass(work)
        settled = pl.col("next") == pl.col("v")
        done.append(work.filter(settled).select("i", key="v"))
        work = work.filter(~settled).select("i", v="next")
    done.append(work.select("i", key="v"))
    if slow.height:
        done.append(slow.select(
            "i", key=pl.Series([normalise_company(v) for v in slow["raw"].to_list()], dtype=pl.String)
        ))
    return pl.concat(done)


def company_keys(values: pl.Series) -> pl.Series:
    """``normalise_company`` of every value ("" for null)."""
    return _mapped(values, _company_table)


# --- plain folding (country, city) -----------------------------------------------------------


def _fold_table(frame: pl.DataFrame) -> pl.DataFrame:
    """(i, raw) → (i, key), once per distinct value: places repeat a lot."""
    unique = frame["raw"].unique()
    chars = unique.str.extract_all(r"[^\x00-\x7f]").explode().drop_nulls().unique().to_list()
    value = pl.col("raw")
    if chars:
        value = value.str.replace_many(chars, [_fold(c) for c in chars])
    value = value.str.to_lowercase().str.replace_all(r"[^\w]+", " ").str.strip_chars()
    table = pl.DataFrame({"raw": unique}).with_columns(key=value)
    return frame.join(table, on="raw", how="left").select("i", "key")


def fold_keys(values: pl.Series) -> pl.Series:
    """Case, accents and punctuation folded away ("Zürich " → "zurich", "U.S." → "u s")."""
    return _mapped(values, _fold_table)


# --- shared ----------------------------------------------------------------------------------


def _mapped(values: pl.Series, table) -> pl.Series:
    """Apply a table function to the non-null values and put the keys back in place ("" for null).

    Names and domains are nearly all distinct, so they are not deduplicated first (that costs a
    hash of every value and a join back, for little); the slow paths inside are cached.
    """
    values = values.cast(pl.String)
    out = pl.Series(values.name, [""], dtype=pl.String).extend_constant("", values.len() - 1) if values.len() else (
        pl.Series(values.name, [], dtype=pl.String)
    )
    frame = pl.DataFrame({"raw": values}).with_row_index("i").filter(pl.col("raw").is_not_null())
    if not frame.height:
        return out
    keys = table(frame)
    return out.scatter(keys["i"], keys["key"])
