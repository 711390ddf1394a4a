"""``covey bench mapping``: the generated truth, the precision/recall maths and one tiny run.

No timing is asserted: timings belong to the benchmark's output, not to the test suite.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from covey.bench.cli import bench_app
from covey.bench.mapping import quality
from covey.bench.mapping_data import generate


def test_the_same_seed_gives_the_same_lists_and_truth_and_another_seed_others():
    one, again, other = generate(size=1500, seed=3), generate(size=1500, seed=3), generate(size=1500, seed=4)
    assert one.ours.equals(again.ours) and one.theirs.equals(again.theirs) and one.truth.equals(again.truth)
    assert not one.ours.equals(other.ours)


def test_the_lists_have_the_requested_size_overlap_and_layouts():
    workload = generate(size=2000, seed=1, overlap=0.3)
    assert workload.ours.height == 2000 and workload.theirs.height == 2000
    assert workload.ours.columns[:3] == ["Id", "Name", "Website"]  # Salesforce
    assert "Company Domain Name" in workload.theirs.columns  # HubSpot
    shared = workload.truth["our_id"].n_unique()
    assert shared == 600  # 30 % of the rows are shared companies
    assert workload.truth.height > shared  # …and their CRM has duplicates of some
    assert set(workload.truth["our_id"]) <= set(workload.ours["Id"])
    assert set(workload.truth["their_id"]) <= set(workload.theirs["Record ID"])


def test_the_lists_are_not_trivially_identical():
    workload = generate(size=3000, seed=2)
    ours = workload.ours.rename({"Id": "our_id"})
    theirs = workload.theirs.rename({"Record ID": "their_id"})
    paired = workload.truth.join(ours, on="our_id").join(theirs, on="their_id")
    same_name = (paired["Name"] == paired["Company name"]).mean()
    same_site = (paired["Website"] == paired["Company Domain Name"]).mean()
    assert same_name < 0.5 and same_site < 0.3
    assert workload.ours["Website"].str.contains("@gmail.com|@outlook.com|@yahoo.com|@hotmail.com").any()
    roles = workload.roles["role"].value_counts()
    assert set(roles["role"]) == {"shared", "theirs_only", "trap", "duplicate"}


def test_quality_counts_pairs_once_and_handles_nothing_found():
    truth = pl.DataFrame({"our_id": ["1", "2", "3", "4"], "their_id": ["a", "b", "c", "d"]})
    found = pl.DataFrame({"our_id": ["1", "1", "2", "9"], "their_id": ["a", "a", "b", "z"]})
    figures = quality(found, truth)
    assert figures["true_positives"] == 2 and figures["false_positives"] == 1 and figures["false_negatives"] == 2
    assert figures["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["recall"] == 0.5
    assert figures["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5), abs=1e-4)
    empty = quality(found.head(0), truth)
    assert empty["precision"] == 1.0 and empty["recall"] == 0.0 and empty["f1"] == 0.0


def test_a_tiny_bench_run_prints_its_figures_as_one_json_line_last():
    result = CliRunner().invoke(bench_app, ["mapping", "--size", "2000", "--no-peer", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    for key in ("workload", "size", "seconds", "peer", "peer_seconds", "ratio", "precision", "recall", "f1",
                "peer_f1", "peak_rss_mb", "candidate_pairs", "stages", "csv_read_seconds"):
        assert key in figures
    assert figures["workload"] == "mapping" and figures["size"] == 2000 and figures["peer"] == "none"
    assert figures["precision"] >= 0.95 and figures["recall"] >= 0.8
    assert set(figures["stages"]) == {"normalise", "domain", "name_exact", "name_fuzzy", "select"}


def test_a_tiny_run_with_the_splink_peer_and_an_incremental_rerun():
    result = CliRunner().invoke(bench_app, ["mapping", "--size", "1000", "--incremental", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["peer"] == "splink-duckdb" and figures["peer_seconds"] > 0 and 0 < figures["peer_f1"] <= 1
    assert figures["ratio"] > 0 and figures["incremental_identical"] is True
