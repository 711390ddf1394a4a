"""``covey bench api``: one tiny end-to-end run (correctness figures, never timings) on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from covey.bench import database
from covey.bench.api import PARTNER_ROUND, VENDOR_ROUND, _vendor_clients


@pytest.mark.pure
def test_a_quarter_of_the_clients_act_for_the_vendor():
    assert [_vendor_clients(n) for n in (1, 2, 4, 16, 17)] == [0, 1, 1, 4, 4]
    assert len(set(PARTNER_ROUND) | set(VENDOR_ROUND)) == 8


def test_bench_api_end_to_end_on_postgresql(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not database.is_postgres_url(url):
        pytest.skip("the bench drives the production server against PostgreSQL; set DATABASE_URL to a PostgreSQL database")
    parts = urlsplit(url)
    url = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_bench_api"))  # its own database, never the suite's
    env = {**os.environ, "COVEY_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "covey.cli", "bench", "api", "--rounds", "3", "--clients", "4", "--workers", "1",
         "--json", "--database-url", url],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.stdout.strip(), result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints only the JSON line"
    figures = json.loads(lines[0])
    assert figures["workload"] == "api" and figures["peer"] == "psycopg-direct"
    assert figures["requests"] == 4 * 3 * 4 and (figures["partner_clients"], figures["vendor_clients"]) == (3, 1)
    assert figures["errors"] == 0 and figures["error_mix"] == {}, figures["error_samples"]
    assert figures["peer_errors"] == 0, figures["peer_error_samples"]
    assert set(figures["per_kind"]) == set(PARTNER_ROUND) | set(VENDOR_ROUND)
    assert figures["per_kind"]["create registration"]["requests"] == 9
    assert figures["throughput_per_s"] > 0 and figures["peer_throughput_per_s"] > 0 and figures["ratio"] > 0
    assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert figures["ok"] is True and result.returncode == 0, result.stderr
