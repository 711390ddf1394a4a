"""Posting a quarter's computed entries to the append-only ledger: only the difference.

The engine gives every entry the rules say a quarter earns, each with a ``key`` naming what it pays
for. Posting compares them with the ledger's net amount per key (and currency) for the quarter:
- same amount: nothing is written (so running a quarter twice posts nothing the second time);
- another amount: a reversal of what is there (pointing at the entry it reverses) and the new entry;
- a key that no longer earns: a reversal alone;
- a new key: the new entry.
Everything is decided in Polars and written with one COPY (``core.bulk.insert_frame``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
from django.db import connection
from django.utils import timezone

from covey.core.bulk import insert_frame, read_frame
from covey.payouts.models import LedgerEntry

NET_SCHEMA = {"key": pl.Utf8, "currency": pl.Utf8, "partner_id": pl.Int64, "net": pl.Int64}
LAST_SCHEMA = {
    "reverses_id": pl.Int64, "key": pl.Utf8, "partner_id": pl.Int64, "rep_id": pl.Int64, "opp_id": pl.Int64,
    "rule_id": pl.Int64, "rule_kind": pl.Utf8, "source": pl.Utf8, "version_id": pl.Int64, "payable_on": pl.Date,
    "awaits_payment": pl.Boolean, "payout_delay_days": pl.Int64, "old_explanation": pl.Utf8, "currency": pl.Utf8,
}
REVERSAL_PREFIX = "Reversal (recalculated {day}): "
MAX_EXPLANATION = 500


@dataclass
class Posted:
    new_entries: int = 0
    reversals: int = 0
    unchanged: int = 0
    totals: dict[str, int] = field(default_factory=dict)  # currency → net amount written

    def add(self, other: Posted) -> None:
        self.new_entries += other.new_entries
        self.reversals += other.reversals
        self.unchanged += other.unchanged
        for currency, total in other.totals.items():
            self.totals[currency] = self.totals.get(currency, 0) + total

    def as_dict(self) -> dict:
        return {"new_entries": self.new_entries, "reversals": self.reversals, "unchanged": self.unchanged,
                "totals": self.totals}


def _scope(partner_ids: list[int] | None) -> str:
    return "" if partner_ids is None else f" AND partner_id IN ({','.join(str(int(p)) for p in partner_ids) or 'NULL'})"


def posted_net(*, program_id: int, period_key: str, partner_ids: list[int] | None) -> pl.DataFrame:
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    return read_frame(
        f"SELECT key, currency, partner_id, SUM(amount_minor) FROM {table} WHERE program_id = %s AND period_key = %s"
        f"{_scope(partner_ids)} GROUP BY key, currency, partner_id HAVING SUM(amount_minor) <> 0",
        [program_id, period_key], NET_SCHEMA,
    )


def _last_originals(program_id: int, period_key: str, keys: list[str]) -> pl.DataFrame:
    """The latest entry that is not itself a reversal, per key: what a reversal points at and repeats."""
    if not keys:
        return pl.DataFrame(schema=LAST_SCHEMA)
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    wanted = pl.DataFrame({"key": keys})
    latest = read_frame(
        f"SELECT id, key, partner_id, rep_id, opportunity_id, rule_id, rule_kind, source, version_id, payable_on, "
        f"CASE WHEN awaits_payment THEN 1 ELSE 0 END, payout_delay_days, explanation, currency FROM {table} WHERE id IN (SELECT MAX(id) FROM {table} WHERE program_id = %s AND "
        f"period_key = %s AND reverses_id IS NULL GROUP BY key, currency)",
        [program_id, period_key], LAST_SCHEMA,
    )
    return latest.join(wanted, on="key", how="semi")


def post(*, drafts: pl.DataFrame, program_id: int, period_key: str, run_id: int | None,
         partner_ids: list[int] | None = None, net: pl.DataFrame | None = None,
         now: datetime | None = None) -> Posted:
    """Write the difference between ``drafts`` (engine entries with a ``version_id`` column) and the
    ledger for the quarter. The comparison is with ``net`` (from ``posted_net``) when given, else with
    what is posted for ``partner_ids`` (None: every partner). Call inside the run's transaction."""
    now = now or timezone.now()
    if net is None:
        net = posted_net(program_id=program_id, period_key=period_key, partner_ids=partner_ids)
    net = net.select("key", "currency", "net")
    compared = drafts.select("key", "currency", "amount_minor").join(net, on=["key", "currency"], how="full",
                                                                     coalesce=True)
    new_keys = compared.filter(pl.col("amount_minor").is_not_null()
                               & (pl.col("net").is_null() | (pl.col("net") != pl.col("amount_minor"))))
    reverse_keys = compared.filter(pl.col("net").is_not_null()
                                   & (pl.col("amount_minor").is_null() | (pl.col("net") != pl.col("amount_minor"))))
    result = Posted(unchanged=compared.filter(pl.col("net") == pl.col("amount_minor")).height)
    fresh = drafts.join(new_keys.select("key", "currency"), on=["key", "currency"], how="semi")
    base = {"program_id": pl.lit(program_id, pl.Int64), "run_id": pl.lit(run_id, pl.Int64),
            "period_key": pl.lit(period_key), "posted_at": pl.lit(now)}
    rows = []  # reversals first, then what is owed now: the ledger reads in that order
    if reverse_keys.height:
        last = _last_originals(program_id, period_key, reverse_keys["key"].unique().to_list())
        reversed_ = reverse_keys.select("key", "currency", "net").join(last, on=["key", "currency"], how="inner")
        prefix = REVERSAL_PREFIX.format(day=now.date().isoformat())
        rows.append(reversed_.select(
            "partner_id", "rep_id", pl.col("opp_id").alias("opportunity_id"), "rule_id", "rule_kind", "source", "key",
            pl.lit(None, pl.Int64).alias("base_minor"), pl.lit(None, pl.Utf8).alias("rate"),
            (-pl.col("net")).alias("amount_minor"), "currency",
            (pl.lit(prefix) + pl.col("old_explanation")).str.slice(0, MAX_EXPLANATION).alias("explanation"),
            "payable_on", "awaits_payment", "payout_delay_days", "version_id", "reverses_id", **base,
        ))
        result.reversals = reversed_.height
    if fresh.height:
        rows.append(fresh.select(
            "partner_id", "rep_id", pl.col("opp_id").alias("opportunity_id"), "rule_id", "rule_kind", "source", "key",
            "base_minor", _rate_text(pl.col("rate_ppm")).alias("rate"), "amount_minor", "currency",
            pl.col("explanation").str.slice(0, MAX_EXPLANATION), "payable_on", "awaits_payment", "payout_delay_days",
            "version_id",
            pl.lit(None, pl.Int64).alias("reverses_id"), **base,
        ))
    result.new_entries = fresh.height
    if rows:
        # In partner order: the partner index then grows at its end instead of at random places.
        frame = pl.concat(rows, how="vertical_relaxed").sort(["partner_id", "opportunity_id"], nulls_last=True, maintain_order=True)
        insert_frame(LedgerEntry, frame)
        result.totals = {c: int(t) for c, t in frame.group_by("currency").agg(pl.col("amount_minor").sum()).iter_rows()}
    return result


def _rate_text(ppm: pl.Expr) -> pl.Expr:
    """Integer millionths as the decimal fraction the ``rate`` column stores: 125000 → "0.125000"."""
    return pl.when(ppm.is_null()).then(pl.lit(None, pl.Utf8)).otherwise(
        pl.concat_str([(ppm // 1_000_000).cast(pl.Utf8), pl.lit("."), (ppm % 1_000_000).cast(pl.Utf8).str.zfill(6)]))
