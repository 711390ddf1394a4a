"""Account mapping: find the accounts two companies have in common (issue 7's engine).

The library needs no server and no Django settings::

    from covey.mapping import read_accounts, match_accounts

    ours, our_report = read_accounts("ours.csv")
    theirs, their_report = read_accounts("theirs.xlsx")
    result = match_accounts(ours, theirs)
    result.matches  # Polars frame: our_id, their_id, kind, score

See ``engine`` for the matching rules, ``reader`` for input files and the import report, ``keys``
for the batched normal forms (identical to deal registration's) and ``domains`` for the domains
that never match by themselves.
"""

from __future__ import annotations

from covey.mapping.engine import (
    COLUMNS,
    KINDS,
    MatchOptions,
    MatchResult,
    accounts_frame,
    match_accounts,
)

__all__ = ["COLUMNS", "KINDS", "MatchOptions", "MatchResult", "accounts_frame", "match_accounts"]
