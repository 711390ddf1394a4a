"""``covey bench analytics`` on a tiny seeded set: it seeds when the database is empty, reuses the set
after, reports seconds per stage and metric, and its figures agree with the per-row peer's."""

from __future__ import annotations

import pytest

from covey.bench.analytics import CHECKED, Options, run
from covey.bench.database import BenchError
from covey.demo.generator import SeedSpec

pytestmark = pytest.mark.django_db

TINY = SeedSpec("tiny", partners=12, accounts=40, opportunities=300, activities=40, product_lines=False, audit_events=False)


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_bench_seeds_computes_every_metric_and_agrees_with_the_peer(fast_passwords):
    result = run(Options(size=TINY, peer_sample=10_000), progress=lambda _m: None)
    assert result["workload"] == "analytics" and result["size"] == "tiny" and result["opportunities"] == 300
    assert {"seconds", "peer", "peer_seconds", "ratio"} <= set(result)
    assert result["figures_agree"], result["mismatches"]
    assert result["peer_sample_deals"] == result["deals_in_play"]  # the slice covers every deal here
    assert set(CHECKED) <= set(result["metric_seconds"]) and set(result["stages"]) >= {"pipeline", "closed"}
    assert result["ok"]

    again = run(Options(size=TINY, peer=False), progress=lambda _m: None)  # reuses the set
    assert again["opportunities"] == 300 and again["figures"] == result["figures"]


def test_the_bench_refuses_a_database_holding_another_set(fast_passwords):
    run(Options(size=TINY, peer=False), progress=lambda _m: None)
    with pytest.raises(BenchError, match="not the large set"):
        run(Options(size="large", peer=False), progress=lambda _m: None)
