"""``covey bench dashboard`` on a tiny seeded set (Django's test client, the refresh run between
polls): it rebuilds the rollups, times both pages, sees a change through the refresh, and its figures
agree with the direct computation and the naive per-partner loop."""

from __future__ import annotations

import pytest

from covey.bench.dashboard import Options, run
from covey.demo.generator import SeedSpec

pytestmark = pytest.mark.django_db

TINY = SeedSpec("tiny", partners=12, accounts=40, opportunities=300, activities=40, product_lines=False, audit_events=False)


def test_the_bench_times_both_pages_freshness_and_the_naive_loop(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    result = run(Options(size=TINY, requests=3, peer_sample=12, server=False), progress=lambda _m: None)
    assert result["workload"] == "dashboard" and result["opportunities"] == 300 and result["partners"] == 12
    assert result["figures_agree"], result["mismatches"]
    for key in ("dashboard_p50_ms", "dashboard_p95_ms", "scorecard_p50_ms", "scorecard_p95_ms", "rebuild_seconds",
                "peer_dashboard_seconds", "peer_scorecard_ms", "ratio", "direct_dashboard_seconds"):
        assert result[key] is not None and result[key] >= 0, key
    assert result["shows_as_of"]
    assert result["freshness_dashboard_seconds"] is not None and result["freshness_scorecard_seconds"] is not None
    assert set(result["targets_met"]) == {"dashboard_p95_ms", "scorecard_p95_ms", "freshness_seconds", "ratio"}
    assert result["ok"]
