"""The ``mapping`` workload: two generated CRM lists with a known overlap, matched by Covey's engine
and by Splink on DuckDB.

Steps: generate the lists and the truth (``mapping_data``) → write them as CSV in Salesforce and
HubSpot layouts → read them back with the importer (timed: ``csv_read_seconds``) → run the engine on
the two frames in memory (timed end to end: ``seconds``, with its stages) → score against the truth
→ the same frames through Splink (``mapping_peer``; up to ``peer_limit`` rows, beyond which Splink
on one machine takes too long to be a useful comparison) → figures.

With ``--incremental``: their list is refreshed — ``refresh_share`` (1%) of its rows changed, a third
each edited (a letter of the name dropped, the city or the website changed), removed, and added
(another company's row under a new id) — and the refreshed lists are mapped twice, timed: a full run,
and an incremental run built on the normal forms the first run kept (that first run is repeated
untimed with ``keep_forms``, so the main figure is not charged for keeping them). The two results
must be identical (``incremental_identical``); both times are printed.

Memory: ``peak_rss_mb`` is the process's resident-set high-water mark *during the engine run* (the
kernel's counter is reset just before it, so it includes the two input frames already in memory,
and everything Polars, NumPy and RapidFuzz allocate outside Python's allocator);
``process_peak_rss_mb`` is the high-water mark of the whole run up to then (generation and CSV
reading included).
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from covey.bench import stats

TARGETS = {"seconds_at_1m": 30.0, "peak_rss_mb_at_1m": 6144.0, "precision": 0.99, "f1": 0.95, "ratio_at_100k": 5.0}
PEER_LIMIT = 100_000


@dataclass
class Options:
    size: int = 100_000
    seed: int = 1
    overlap: float = 0.3
    peer: bool = True
    peer_limit: int = PEER_LIMIT
    peer_u_pairs: float = 1e7
    incremental: bool = False
    refresh_share: float = 0.01


def refreshed(theirs: pl.DataFrame, share: float, seed: int) -> pl.DataFrame:
    """``theirs`` with ``share`` of its rows changed: a third edited, a third removed, a third added."""
    n = max(3, int(theirs.height * share)) // 3
    picked = theirs.with_row_index("i").sample(3 * n, seed=seed)["i"]
    edit, drop, source = picked[:n], picked[n : 2 * n], picked[2 * n :]
    which = pl.int_range(pl.len()).is_in(edit.implode())
    kind = pl.int_range(pl.len()) % 3
    edited = theirs.with_columns(
        name=pl.when(which & (kind == 0)).then(pl.col("name").str.slice(1)).otherwise(pl.col("name")),
        city=pl.when(which & (kind == 1)).then(pl.lit("Springfield")).otherwise(pl.col("city")),
        website=pl.when(which & (kind == 2)).then(pl.lit(None, dtype=pl.String)).otherwise(pl.col("website")),
    ).filter(~pl.int_range(pl.len()).is_in(drop.implode()))
    added = theirs[source].with_columns(id=pl.lit("refresh-") + pl.int_range(pl.len()).cast(pl.String),
                                        name=pl.col("name") + pl.lit(" Services"))
    return pl.concat([edited, added])


def quality(matches: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Precision, recall and F1 of (our_id, their_id) pairs against the true pairs."""
    found = matches.select("our_id", "their_id").unique()
    true = truth.select("our_id", "their_id").unique()
    tp = found.join(true, on=["our_id", "their_id"], how="semi").height
    fp, fn = found.height - tp, true.height - tp
    precision = tp / found.height if found.height else 1.0
    recall = tp / true.height if true.height else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def run(options: Options, *, progress=print) -> dict:
    from covey.bench.mapping_data import generate
    from covey.mapping import match_accounts
    from covey.mapping.reader import read_accounts

    started = time.perf_counter()
    progress(f"Generating two lists of {options.size:,} accounts (seed {options.seed}, overlap {options.overlap:.0%})…")
    workload = generate(size=options.size, seed=options.seed, overlap=options.overlap)
    generate_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="covey-bench-mapping-") as work:
        ours_csv, theirs_csv = Path(work) / "ours.csv", Path(work) / "theirs.csv"
        workload.ours.write_csv(ours_csv)
        workload.theirs.write_csv(theirs_csv)
        csv_bytes = ours_csv.stat().st_size + theirs_csv.stat().st_size
        roles, truth = workload.roles, workload.truth
        del workload
        progress(f"Reading the CSV files back ({csv_bytes / 1e6:,.0f} MB)…")
        read_started = time.perf_counter()
        ours, our_report = read_accounts(ours_csv)
        theirs, their_report = read_accounts(theirs_csv)
        csv_read_seconds = time.perf_counter() - read_started
    gc.collect()
    process_peak = stats.maxrss_mb()
    resettable = stats.reset_peak_rss()
    progress("Matching with Covey's engine…")
    engine_started = time.perf_counter()
    result = match_accounts(ours, theirs)
    seconds = time.perf_counter() - engine_started
    peak = (stats.status_mb("VmHWM") if resettable else None) or stats.maxrss_mb()
    process_peak = max(process_peak, peak)
    figures = quality(result.matches, truth)
    fp_roles = (
        result.matches.join(truth, on=["our_id", "their_id"], how="anti").join(roles, on="their_id", how="left")
        .group_by("role").len()
    )
    out: dict = {
        "workload": "mapping",
        "size": options.size,
        "seed": options.seed,
        "overlap": options.overlap,
        "true_pairs": truth.height,
        "seconds": round(seconds, 3),
        "stages": result.seconds,
        "csv_read_seconds": round(csv_read_seconds, 3),
        "csv_mb": round(csv_bytes / 1e6, 1),
        "generate_seconds": round(generate_seconds, 3),
        "candidate_pairs": result.candidate_pairs,
        "matches": result.matches.height,
        "matches_by_kind": {k: result.counts[f"matches_{k}"] for k in ("domain", "name_exact", "name_fuzzy")},
        **figures,
        "false_positives_by_their_role": {str(k): v for k, v in fp_roles.iter_rows()},
        "peak_rss_mb": peak,
        "peak_rss_scope": "engine run (high-water mark reset before it)" if resettable else "whole process",
        "process_peak_rss_mb": process_peak,
        "import_problems": {"ours": dict(our_report.counts), "theirs": dict(their_report.counts)},
    }
    if options.incremental:
        progress(f"Refreshing {options.refresh_share:.0%} of their list, then mapping it fully and incrementally…")
        out.update(_incremental(ours, theirs, options))
    if options.peer and options.size <= options.peer_limit:
        from covey.bench.mapping_peer import run_splink

        progress("Matching the same frames with Splink on DuckDB (the peer)…")
        peer = run_splink(ours, theirs, max_pairs=options.peer_u_pairs)
        peer_figures = quality(peer.matches, truth)
        out.update({
            "peer": "splink-duckdb",
            "peer_seconds": peer.seconds,
            "peer_u_max_pairs": options.peer_u_pairs,
            "peer_stages": peer.stages,
            "peer_predicted_pairs": peer.predicted_pairs,
            **{f"peer_{k}": v for k, v in peer_figures.items()},
            "ratio": round(peer.seconds / seconds, 2) if seconds else 0.0,
        })
    else:
        reason = "--no-peer" if not options.peer else f"size above {options.peer_limit:,}: Splink on 2 cores would take too long"
        out.update({"peer": "none", "peer_skipped": reason, "peer_seconds": 0.0, "peer_f1": None, "ratio": None})
    out["load_average"] = round(os.getloadavg()[0], 2)
    out["targets_met"] = _targets(out)
    return out


def _incremental(ours: pl.DataFrame, theirs: pl.DataFrame, options: Options) -> dict:
    from covey.mapping import match_accounts
    from covey.mapping.engine import list_changes

    before = match_accounts(ours, theirs, keep_forms=True)  # untimed: the run whose forms the next builds on
    after = refreshed(theirs, options.refresh_share, options.seed)
    changes = list_changes(before.forms[1], after)
    gc.collect()
    started = time.perf_counter()
    full = match_accounts(ours, after)
    full_seconds = time.perf_counter() - started
    gc.collect()
    started = time.perf_counter()
    incremental = match_accounts(ours, after, previous=before.forms)
    incremental_seconds = time.perf_counter() - started
    return {
        "incremental_changes": changes,
        "incremental_normalised_rows": incremental.counts["normalised_rows"],
        "incremental_full_seconds": round(full_seconds, 3),
        "incremental_seconds": round(incremental_seconds, 3),
        "incremental_stages": incremental.seconds,
        "incremental_speedup": round(full_seconds / incremental_seconds, 2) if incremental_seconds else None,
        "incremental_identical": incremental.matches.equals(full.matches),
    }


def _targets(r: dict) -> dict:
    met = {"precision": r["precision"] >= TARGETS["precision"], "f1": r["f1"] >= TARGETS["f1"]}
    if "incremental_identical" in r:
        met["incremental_identical"] = r["incremental_identical"]
    if r["size"] >= 1_000_000:
        met["seconds_at_1m"] = r["seconds"] <= TARGETS["seconds_at_1m"]
        met["peak_rss_mb_at_1m"] = r["peak_rss_mb"] <= TARGETS["peak_rss_mb_at_1m"]
    if r.get("peer") == "splink-duckdb" and r["size"] >= 100_000:
        met["ratio_at_100k"] = r["ratio"] >= TARGETS["ratio_at_100k"]
        met["f1_not_below_peer"] = r["f1"] >= r["peer_f1"]
    return met
