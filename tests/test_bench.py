"""``covey bench registrations``: the plan generator, the percentile maths, and one tiny end-to-end run.

The end-to-end run starts the real production server against its own PostgreSQL database, so it
only runs when the suite runs on PostgreSQL; it checks correctness figures, never timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import pytest

from covey.bench import database
from covey.bench.plan import CONTESTED, EXPECTED, UNIQUE, build_plan
from covey.bench.stats import latency_summary, per_second, percentile
from covey.core.normalise import normalise_company, normalise_domain

# --- percentile maths ------------------------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks_like_numpy():
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 0) == 15
    assert percentile(values, 100) == 50
    assert percentile(values, 50) == 35
    assert percentile(values, 40) == pytest.approx(29.0)  # rank 1.6: 20 + 0.6 × 15
    assert percentile(values, 99) == pytest.approx(49.6)


def test_percentile_ignores_input_order_and_handles_one_value():
    assert percentile([3, 1, 2], 50) == 2
    assert percentile([7.5], 99) == 7.5


def test_percentile_refuses_nonsense():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_latency_summary_is_in_milliseconds():
    summary = latency_summary([0.001 * i for i in range(1, 101)])  # 1 ms … 100 ms
    assert summary["p50_ms"] == pytest.approx(50.5)
    assert summary["p99_ms"] == pytest.approx(99.0, abs=0.1)
    assert summary["max_ms"] == 100.0
    assert latency_summary([]) == {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}


def test_per_second():
    assert per_second(600, 2.0) == 300.0
    assert per_second(5, 0) == 0.0


# --- the plan --------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    one = build_plan(size=500, clients=8, seed=3)
    again = build_plan(size=500, clients=8, seed=3)
    other = build_plan(size=500, clients=8, seed=4)
    assert one.submissions == again.submissions
    assert one.accounts == again.accounts
    assert one.submissions != other.submissions


def test_plan_has_the_requested_size_and_contested_share():
    plan = build_plan(size=2000, clients=32, conflict_share=0.15, seed=1)
    kinds = plan.kinds()
    assert len(plan.submissions) == 2000
    assert kinds[CONTESTED] == 300  # 15 % of 2000
    assert sum(plan.contested.values()) == 300
    assert all(2 <= k <= 5 for k in plan.contested.values())
    assert kinds[UNIQUE] > 1000
    assert set(kinds) <= set(EXPECTED)
    assert plan.partners >= plan.clients


def test_contested_companies_are_registered_by_different_partners_at_the_same_moment():
    plan = build_plan(size=1000, clients=16, seed=2)
    by_domain: dict[str, list] = {}
    for sub in plan.submissions:
        if sub.kind == CONTESTED:
            by_domain.setdefault(sub.claim_domain, []).append(sub)
    assert set(by_domain) == set(plan.contested)
    for domain, subs in by_domain.items():
        assert len({s.client for s in subs}) == len(subs), "one partner per registration of a contested company"
        assert len({s.round for s in subs}) == 1, "all in the same round"
        assert len({s.domain for s in subs}) == len(subs), "each spells the address differently"
        assert len({s.company_name for s in subs}) == len(subs), "and the name"
        # … but the shared normaliser sees one company.
        assert {normalise_domain(s.domain) for s in subs} == {domain}
        assert len({normalise_company(s.company_name) for s in subs}) == 1


def test_every_address_in_the_plan_normalises_to_its_claim_domain_and_unique_ones_are_unique():
    plan = build_plan(size=800, clients=8, seed=5)
    assert all(normalise_domain(s.domain) == s.claim_domain for s in plan.submissions)
    unique = [s.claim_domain for s in plan.submissions if s.kind == UNIQUE]
    assert len(unique) == len(set(unique))
    assert not set(unique) & set(plan.contested)


def test_queues_give_each_client_its_requests_in_round_order():
    plan = build_plan(size=103, clients=4, seed=1)
    queues = plan.queues()
    assert sum(len(q) for q in queues) == 103
    assert max(len(q) for q in queues) - min(len(q) for q in queues) <= 1
    for client, queue in enumerate(queues):
        assert all(s.client == client for s in queue)
        assert [s.round for s in queue] == sorted(s.round for s in queue)


def test_rule_cases_point_at_accounts_that_break_the_rule():
    plan = build_plan(size=1000, clients=8, seed=1)
    accounts = {a.domain: a for a in plan.accounts}
    for sub in plan.submissions:
        if sub.kind == "customer":
            assert accounts[sub.claim_domain].status == "customer"
        elif sub.kind == "open_opportunity":
            assert accounts[sub.claim_domain].open_opportunity
        elif sub.kind == "prospect":
            account = accounts[sub.claim_domain]
            assert account.status == "prospect" and not account.open_opportunity
        elif sub.kind == "below_minimum":
            assert float(sub.amount) < 10_000
        else:
            assert sub.claim_domain not in accounts


def test_one_client_plan_has_no_contest():
    plan = build_plan(size=50, clients=1, seed=1)
    assert plan.contested == {}
    assert Counter(s.client for s in plan.submissions) == {0: 50}


def test_request_body_follows_the_api_contract():
    plan = build_plan(size=20, clients=2, seed=1)
    sub = plan.submissions[0]
    body = sub.body(["prd_a", "prd_b", "prd_c", "prd_d"], lambda days: f"2030-01-{days % 28 + 1:02d}")
    assert set(body) == {
        "company_name", "domain", "contact_name", "contact_email", "contact_phone", "value", "products",
        "expected_close", "deal_type", "description", "evidence",
    }
    assert set(body["value"]) == {"amount", "currency"}
    assert body["products"] and all(p.startswith("prd_") for p in body["products"])


# --- database URL handling -------------------------------------------------------------------


def test_database_url_defaults(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.sqlite3")
    assert database.resolve_url(None) == database.DEFAULT_URL
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/mine")
    assert database.resolve_url(None) == "postgresql://u@h:5432/mine"
    assert database.resolve_url("postgres://u@h/other") == "postgres://u@h/other"
    with pytest.raises(database.BenchError):
        database.resolve_url("sqlite:///x")
    assert database.redact("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"


def test_the_bench_refuses_to_empty_a_database_that_is_not_its_own(cast):
    from covey.partners.models import Partner

    with pytest.raises(database.BenchError, match="not the bench's"):
        database.wipe()
    assert Partner.objects.filter(pk=cast.partner_a.pk).exists()


def test_no_server_answering_is_a_clear_error_and_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "covey.cli", "bench", "registrations", "--size", "5", "--json",
         "--database-url", "postgresql://postgres@127.0.0.1:1/covey_nowhere"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "No PostgreSQL server answers" in result.stderr
    assert result.stdout == ""


# --- end to end on PostgreSQL ----------------------------------------------------------------

JSON_KEYS = {
    "workload", "size", "seconds", "peer", "peer_seconds", "ratio", "throughput_per_s", "peer_throughput_per_s",
    "p50_ms", "p95_ms", "p99_ms", "unexpected_errors", "outcomes", "contested_accounts", "max_owners_per_account",
    "min_owners_per_account", "clients",
}


def _bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not database.is_postgres_url(url):
        pytest.skip("the bench drives the production server against PostgreSQL; set DATABASE_URL to a PostgreSQL database")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_bench"))  # its own database, never the suite's


def test_bench_end_to_end_on_postgresql(tmp_path):
    url = _bench_database_url()
    env = {**os.environ, "COVEY_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "covey.cli", "bench", "registrations", "--size", "60", "--clients", "4",
         "--workers", "1", "--json", "--database-url", url],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.stdout.strip(), result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints only the JSON line"
    figures = json.loads(lines[-1])
    assert JSON_KEYS <= set(figures)
    assert figures["workload"] == "registrations" and figures["peer"] == "psycopg-direct"
    assert figures["size"] == 60 and figures["clients"] == 4 and figures["pacing"] == "closed loop"
    assert figures["unexpected_errors"] == 0, figures["error_samples"]
    assert sum(figures["outcomes"].values()) == 60
    assert figures["stored_registrations"] == 60
    assert figures["contested_accounts"] > 0
    assert figures["max_owners_per_account"] == 1 and figures["min_owners_per_account"] == 1
    assert figures["peer_max_owners_per_account"] == 1 and figures["peer_min_owners_per_account"] == 1
    assert figures["outcomes"]["conflict"] == sum(build_plan(size=60, clients=4).contested.values()) - figures["contested_accounts"]
    assert figures["wrong_outcomes"] == {}
    assert figures["ok"] is True
    assert result.returncode == 0, result.stderr


def test_profile_mode_shows_the_sql_and_cpu_of_one_request(tmp_path):
    url = _bench_database_url()
    env = {**os.environ, "COVEY_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "covey.cli", "bench", "registrations", "--size", "120", "--clients", "4",
         "--profile", "20", "--database-url", url],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "201 submitted:" in result.stdout and "SQL statements" in result.stdout
    assert "INSERT INTO \"registrations_registration\"" in result.stdout
    assert "ms CPU" in result.stdout and "cProfile" in result.stdout


# --- payouts ---------------------------------------------------------------------------------------

PAYOUT_KEYS = {"workload", "size", "seconds", "peer", "peer_seconds", "ratio", "lines_per_s", "entries", "peak_rss_mb",
               "exact", "mismatched_entries", "cents_difference", "rerun_new_entries", "stages"}


def _payouts_bench(url: str, tmp_path) -> dict:
    env = {**os.environ, "COVEY_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "covey.cli", "bench", "payouts", "--lines", "400", "--partners", "40",
         "--peer-sample", "20", "--json", "--database-url", url],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints only the JSON line"
    figures = json.loads(lines[0])
    assert PAYOUT_KEYS <= set(figures)
    assert figures["workload"] == "payouts" and figures["size"] == 400
    assert figures["entries"] > 400 and figures["exact"] is True and figures["cents_difference"] == 0
    assert figures["rerun_new_entries"] == 0
    assert figures["peer_seconds"] > 0 and figures["ratio"] > 0
    return figures


def test_payouts_bench_is_exact_and_idempotent_on_postgresql(tmp_path):
    _payouts_bench(_bench_database_url(), tmp_path)


def test_payouts_bench_is_exact_and_idempotent_on_sqlite(tmp_path):
    if database.is_postgres_url(os.environ.get("DATABASE_URL", "")):
        pytest.skip("the SQLite figures are the SQLite pass's to produce")
    _payouts_bench(f"sqlite:///{tmp_path / 'bench.sqlite3'}", tmp_path)


def test_open_loop_schedule_spreads_the_offered_rate_over_the_clients_in_turn():
    from covey.bench.client import schedule

    due = schedule([[{}] * 3, [{}] * 3, [{}] * 2], rate=100.0)
    # request k of the run is due at k / rate: client 0 sends the 1st, 4th and 7th
    assert due == [[0.0, 0.03, 0.06], [0.01, 0.04, 0.07], [0.02, 0.05]]
    assert schedule([[{}], [{}]], rate=None) == [None, None]
