"""Incremental mapping runs: after a list refresh only changed rows are normalised, and the result is
exactly a full run's — including where a global step (crowded domains, the unique-name rule, fuzzy
block sizes, mutual best) changes a pair of two accounts that did not change themselves."""

from __future__ import annotations

import random

import polars as pl
import pytest

from covey.mapping import MatchOptions, accounts_frame, match_accounts
from covey.mapping.engine import FORMS_SCHEMA, list_changes

pytestmark = pytest.mark.pure


def account(id, name=None, website=None, *, country=None, city=None, phone=None, domains=None) -> dict:
    return {"id": id, "name": name, "website": website, "domains": domains, "country": country, "city": city,
            "phone": phone}


def refresh(ours, theirs_before, theirs_after, options=None):
    """(full result, incremental result) of mapping ``theirs_after`` after a run on ``theirs_before``."""
    first = match_accounts(ours, theirs_before, options=options, keep_forms=True)
    full = match_accounts(ours, theirs_after, options=options)
    incremental = match_accounts(ours, theirs_after, options=options, previous=first.forms, keep_forms=True)
    return first, full, incremental


def found(result) -> set[tuple[str, str, str]]:
    return {(r["our_id"], r["their_id"], r["kind"]) for r in result.matches.iter_rows(named=True)}


def test_adds_removes_and_edits_give_the_full_runs_result_and_only_changed_rows_are_normalised():
    ours = [account("1", "Acme Inc", "acme.com"), account("2", "Globex GmbH", country="DE", city="Berlin"),
            account("3", "Initech", country="US", city="Austin"), account("4", "Umbrella Corp", "umbrella.com")]
    before = [account("a", "ACME", "www.acme.com"), account("b", "Globex", country="Germany", city="Berlin"),
              account("c", "Initech LLC", country="US", city="Dallas"), account("d", "Umbrella", "umbrella.com")]
    after = [before[0],  # unchanged
             account("b", "Globex", country="Germany", city="München"),  # edited: city no longer agrees
             account("c", "Initech LLC", country="US", city="Austin"),  # edited: city now agrees
             account("e", "Hooli", "hooli.com")]  # added; "d" removed
    first, full, incremental = refresh(ours, before, after)
    assert found(first) == {("1", "a", "domain"), ("2", "b", "name_exact"), ("4", "d", "domain")}
    assert incremental.matches.equals(full.matches)
    assert found(incremental) == {("1", "a", "domain"), ("3", "c", "name_exact")}
    # Our four rows and their unchanged "a" were not normalised again: "b", "c" and "e" were.
    assert incremental.counts["normalised_rows"] == 3
    assert incremental.counts["reused_forms"] == 5
    assert list_changes(first.forms[1], after) == {"added": 1, "removed": 1, "edited": 2, "rows_rematched": 3, "rows": 4}


def test_an_edit_that_moves_an_account_to_another_fuzzy_block():
    ours = [account("1", "Brightwater Analytics", country="DE", city="Hamburg"),
            account("2", "Brightwater Analytics", country="FR", city="Lyon")]
    before = [account("a", "Brightwatter Analytics", country="DE", city="Hamburg")]
    after = [account("a", "Brightwatter Analytics", country="FR", city="Lyon")]
    first, full, incremental = refresh(ours, before, after)
    assert found(first) == {("1", "a", "name_fuzzy")}
    assert found(full) == {("2", "a", "name_fuzzy")}
    assert incremental.matches.equals(full.matches)


def test_a_block_that_grows_past_its_limit_drops_a_pair_of_two_unchanged_accounts():
    options = MatchOptions(max_block_pairs=2)
    ours = [account("1", "Quillfeather Systems", country="NL", city="Utrecht")]
    before = [account("a", "Quilfeather Systems", country="NL", city="Utrecht")]
    after = [*before, account("b", "Vantor Systems", country="NL"), account("c", "Ostrel Systems", country="NL")]
    first, full, incremental = refresh(ours, before, after, options)
    assert found(first) == {("1", "a", "name_fuzzy")}
    # The two names share only the word "systems", and in NL that block is now 1 × 3 pairs, over the limit.
    assert found(full) == set()
    assert incremental.matches.equals(full.matches)


def test_a_domain_that_becomes_crowded_and_a_name_that_stops_being_unique():
    options = MatchOptions(max_domain_accounts=2)
    ours = [account("1", "Norrland Timber", "norrland.se"), account("2", "Kestrel Foods", country="IE")]
    before = [account("a", "Norrland Timber AB", "norrland.se"), account("b", "Kestrel Foods Ltd", country="IE")]
    after = [*before, account("c", "Norrland Sawmill", "norrland.se"), account("d", "Norrland Pulp", "norrland.se"),
             account("e", "Kestrel Foods", country="IE")]
    first, full, incremental = refresh(ours, before, after, options)
    assert found(first) == {("1", "a", "domain"), ("2", "b", "name_exact")}
    # The domain is on three of their accounts now (a group domain) and "Kestrel Foods" is on two.
    assert ("1", "a", "domain") not in found(full) and ("2", "b", "name_exact") not in found(full)
    assert incremental.matches.equals(full.matches)


def _mutate(frame: pl.DataFrame, rng: random.Random, share: float, pool: pl.DataFrame) -> pl.DataFrame:
    """Edit, remove and add ``share`` of the rows (a third each): typos, other countries and cities,
    dropped websites, and rows of another list with fresh ids."""
    rows = frame.to_dicts()
    n = max(3, int(len(rows) * share))
    picked = rng.sample(range(len(rows)), n)
    removed = set(picked[: n // 3])
    for i in picked[n // 3 : 2 * n // 3]:
        row = dict(rows[i])
        change = rng.randrange(4)
        if change == 0 and row["name"]:
            j = rng.randrange(len(row["name"]))
            row["name"] = row["name"][:j] + row["name"][j + 1 :]
        elif change == 1:
            row["country"] = rng.choice(["DE", "FR", "US", "GB", None])
        elif change == 2:
            row["website"] = None
            row["domains"] = None
        else:
            row["city"] = rng.choice(["Paris", "Berlin", None])
        rows[i] = row
    kept = [r for i, r in enumerate(rows) if i not in removed]
    added = pool.sample(n - n // 3 - n // 3 + 1, seed=rng.randrange(10**6)).with_columns(
        id=pl.lit("new-") + pl.int_range(pl.len()).cast(pl.String)).to_dicts()
    return accounts_frame(kept + added)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_lists_refreshed_on_either_side_give_the_full_runs_result(seed):
    from covey.bench.mapping_data import generate

    work = generate(size=3000, seed=seed, overlap=0.3)
    other = generate(size=300, seed=seed + 100, overlap=0.3)
    ours, theirs, pool = (_read(frame) for frame in (work.ours, work.theirs, other.theirs))
    rng = random.Random(seed)
    first = match_accounts(ours, theirs, keep_forms=True)
    ours2, theirs2 = _mutate(ours, rng, 0.03, pool), _mutate(theirs, rng, 0.05, pool)
    full = match_accounts(ours2, theirs2)
    incremental = match_accounts(ours2, theirs2, previous=first.forms)
    assert full.matches.height > 500
    assert incremental.matches.equals(full.matches)
    assert 0 < incremental.counts["normalised_rows"] < 0.1 * (ours2.height + theirs2.height)


def _read(frame: pl.DataFrame) -> pl.DataFrame:
    from covey.mapping.reader import read_accounts

    return accounts_frame(read_accounts(frame.write_csv().encode(), filename="list.csv")[0])


def test_forms_of_another_shape_are_not_used_and_the_run_says_it_was_a_full_one():
    ours, theirs = [account("1", "Acme", "acme.com")], [account("a", "Acme", "acme.com")]
    stale = pl.DataFrame({"id": ["a"], "name": ["Acme"]})
    result = match_accounts(ours, theirs, previous=(stale, None))
    assert found(result) == {("1", "a", "domain")}
    assert result.counts["normalised_rows"] == 2
    assert result.counts["full_reason"]
    assert list_changes(stale, theirs) is None
    forms = match_accounts(ours, theirs, keep_forms=True).forms
    assert dict(forms[0].schema) == FORMS_SCHEMA


def test_a_row_with_no_matching_fields_is_normalised_again():
    ours = [account("1", "Acme", "acme.com"), account("2")]  # "2": every matching field empty
    theirs = [account("a", "Acme", "acme.com")]
    first = match_accounts([account("1", "Acme", "acme.com")], theirs, keep_forms=True)
    again = match_accounts(ours, theirs, previous=first.forms)
    assert again.counts["normalised_rows"] == 1 and again.matches.equals(match_accounts(ours, theirs).matches)


def test_rows_whose_fields_hash_alike_never_get_each_others_keys(monkeypatch):
    from covey.mapping import engine

    ours = [account("1", "Acme", "acme.com"), account("2", "Globex", country="US", city="Austin")]
    theirs = [account("a", "Acme", "acme.com"), account("b", "Globex Inc", country="US", city="Austin")]
    first = match_accounts(ours, theirs, keep_forms=True)
    monkeypatch.setattr(engine, "_FIELDS_HASH", pl.lit(0, dtype=pl.UInt64).alias("_h"))  # every row collides
    again = match_accounts(ours, theirs, previous=first.forms)
    assert again.counts["reused_forms"] == 2  # one remembered row per side is kept per hash, and checked
    assert again.matches.equals(first.matches)
