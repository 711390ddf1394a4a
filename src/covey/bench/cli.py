"""``covey bench …`` (registered by ``covey.cli``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)
bench_app = typer.Typer(
    help="Load benchmarks against the production server; each prints one JSON line last.",
    no_args_is_help=True,
)


def _setup_for(url: str, var_dir: Path) -> None:
    """Configure this process's Django exactly like the server it starts: production settings, the
    bench database (before Django is set up)."""
    from covey.bench.server import server_env
    from covey.cli import setup_django

    os.environ.update(server_env(database_url=url, var_dir=var_dir))
    setup_django()
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        err.print("[red]The bench needs PostgreSQL, but Django was already set up for another database.[/red]")
        raise typer.Exit(2)


def _bench_var_dir() -> Path:
    return (Path(os.environ.get("COVEY_VAR_DIR") or Path.cwd() / "var") / "bench").resolve()


def _open_database(database_url: str, *, sqlite_allowed: bool = False) -> tuple[str, Path, bool]:
    """Set this process up for the bench database: (its URL, the bench's var dir, whether it was just
    created). PostgreSQL by default (created when missing, production settings like the server it
    starts); ``sqlite:///path`` where the bench records SQLite figures. Bad input exits with a message."""
    from covey.bench import database

    var_dir = _bench_var_dir()
    if sqlite_allowed and database_url.startswith("sqlite:"):
        os.environ["DATABASE_URL"] = database_url
        from covey.cli import setup_django

        setup_django()
        return database_url, var_dir, False
    try:
        url = database.resolve_url(database_url or None)
        created = database.ensure_database(url)
    except database.BenchError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    _setup_for(url, var_dir)
    return url, var_dir, created


@bench_app.command()
def registrations(
    size: int = typer.Option(3000, min=1, max=1_000_000, help="Registrations to send."),
    clients: int = typer.Option(32, min=1, max=512, help="Concurrent API clients (one partner rep each)."),
    conflict_share: float = typer.Option(0.15, min=0.0, max=1.0, help="Share of registrations on contested companies."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same plan."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
    database_url: str = typer.Option(
        "", help="PostgreSQL database the bench owns and empties (default: DATABASE_URL when it is "
                 "PostgreSQL, else postgresql://postgres@127.0.0.1:5432/covey_bench).",
    ),
    # Two workers, one per core: the request is CPU-bound Python (one GIL per process) and each
    # worker's 4 threads (covey serve's setting) already overlap the database waits, so two is the
    # fewest that can use both cores. One worker caps the server at one core but leaves
    # PostgreSQL and the clients a core; three were slower.
    workers: int = typer.Option(2, min=1, max=16, help="Server worker processes (4 threads each; default: one per core of this 2-core target)."),
    peer: bool = typer.Option(True, "--peer/--no-peer", help="Also measure the psycopg-direct ceiling."),
    rate: float = typer.Option(
        0, min=0, max=100_000, help="Open loop: offer this many registrations/s (spread over the clients, latency "
                                    "counted from when each was due) instead of each client sending as soon as answered. "
                                    "The latency at a given load; the default closed loop finds the most the server sustains.",
    ),
    profile: int = typer.Option(
        0, min=0, help="Instead of serving: send this many requests straight into the app in this process and "
                       "show the SQL per request, CPU per request and a cProfile (where the time goes).",
    ),
) -> None:
    """Concurrent deal registrations through POST /api/registrations, against a psycopg ceiling."""
    from covey.bench import database
    from covey.bench.registrations import Options, run

    url, var_dir, created = _open_database(database_url)
    if created and not as_json:
        err.print(f"Created database {database.database_name(url)!r}.")

    options = Options(
        size=size, clients=clients, conflict_share=conflict_share, seed=seed, database_url=url,
        workers=workers, var_dir=var_dir, peer=peer, profile=profile, rate=rate or None,
    )
    try:
        result = run(options, progress=(lambda _msg: None) if as_json else (lambda msg: err.print(msg)),
                     out=lambda text: console.print(text, soft_wrap=True, highlight=False))
    except database.BenchError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if result is None:  # --profile printed its findings
        return
    if not as_json:
        _print_table(result)
    print(json.dumps(result, separators=(", ", ": ")), flush=True)
    if not result["ok"]:
        problems = []
        if result["unexpected_errors"]:
            problems.append(f"{result['unexpected_errors']} unexpected errors {result['error_mix']}")
        if not result["one_owner_per_account"]:
            problems.append(f"{result['accounts_without_one_owner']} contested accounts without exactly one owner")
        err.print("[red]FAILED: " + "; ".join(problems) + "[/red]")
        raise typer.Exit(1)


def _print_table(r: dict) -> None:
    def mark(name: str) -> str:
        return "[green]✓[/green]" if r["targets_met"].get(name) else "[red]✗[/red]"

    table = Table(title=f"covey bench registrations — {r['size']} registrations, {r['clients']} clients "
                        f"({r['pacing']}), {r['workers']}×{r['threads']} Granian")
    table.add_column("Figure")
    table.add_column("Covey (HTTP)", justify="right")
    table.add_column("psycopg direct", justify="right")
    table.add_column("Target")
    table.add_row("Throughput (registrations/s)", f"{r['throughput_per_s']:.1f}", f"{r['peer_throughput_per_s']:.1f}",
                  f"≥ 300 {mark('throughput_per_s')}")
    table.add_row("Seconds", f"{r['seconds']:.2f}", f"{r['peer_seconds']:.2f}", "")
    table.add_row("p50 latency (ms)", f"{r['p50_ms']:.1f}", f"{r.get('peer_p50_ms', 0):.1f}", "")
    table.add_row("p95 latency (ms)", f"{r['p95_ms']:.1f}", "", "")
    table.add_row("p99 latency (ms)", f"{r['p99_ms']:.1f}", f"{r.get('peer_p99_ms', 0):.1f}", f"≤ 100 {mark('p99_ms')}")
    table.add_row("CPU per registration (ms)", _num(r.get("server_cpu_ms_per_request")),
                  _num(r.get("peer_cpu_ms_per_request")), "")
    table.add_row("Ratio to ceiling", f"{r['ratio']:.3f}", "", f"≥ 0.3 {mark('ratio')}")
    table.add_row("Outcomes", _counts(r["outcomes"]), _counts(r.get("peer_outcomes", {})), "")
    table.add_row("Unexpected errors", f"{r['unexpected_errors']} {_counts(r['error_mix'])}".strip(),
                  str(r.get("peer_errors", "")), f"0 {mark('unexpected_errors')}")
    table.add_row("Contested accounts", str(r["contested_accounts"]), str(r["contested_accounts"]), "")
    table.add_row("Owners per contested account (min–max)",
                  f"{r['min_owners_per_account']}–{r['max_owners_per_account']}",
                  f"{r.get('peer_min_owners_per_account', '')}–{r.get('peer_max_owners_per_account', '')}",
                  f"exactly 1 {mark('one_owner_per_account')}")
    if r["wrong_outcomes"]:
        table.add_row("Answers unlike the rules (kind→status)", _counts(r["wrong_outcomes"]), "", "")
    console.print(table)
    console.print(f"Machine load average during the run: {r['load_average']} on {os.cpu_count()} cores "
                  "(other work on the machine lowers every figure).")
    for sample in r["error_samples"]:
        err.print(f"  error sample: {sample}")


def _num(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


@bench_app.command(name="api")
def api_load(
    rounds: int = typer.Option(25, min=1, max=100_000, help="Rounds per client; a round is four requests."),
    clients: int = typer.Option(16, min=1, max=512, help="Concurrent API clients: three in four partner reps, the rest vendor sellers."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same requests."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
    database_url: str = typer.Option("", help="PostgreSQL database the bench owns and empties (as for bench registrations)."),
    workers: int = typer.Option(2, min=1, max=16, help="Server worker processes (4 threads each)."),
    peer: bool = typer.Option(True, "--peer/--no-peer", help="Also run the same reads and writes through psycopg."),
) -> None:
    """A mixed load of reads and writes through API tokens (lists, details, creates, updates) against a psycopg peer."""
    from covey.bench import database
    from covey.bench.api import Options, run

    url, var_dir, _ = _open_database(database_url)
    options = Options(rounds=rounds, clients=clients, seed=seed, database_url=url, workers=workers, var_dir=var_dir, peer=peer)
    try:
        result = run(options, progress=(lambda _msg: None) if as_json else (lambda msg: err.print(msg)))
    except database.BenchError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if not as_json:
        _print_api_table(result)
    print(json.dumps(result, separators=(", ", ": ")), flush=True)
    if not result["ok"]:
        err.print(f"[red]FAILED: {result['errors']} errors {result['error_mix']}, peer errors {result.get('peer_errors', 0)}[/red]")
        for sample in result["error_samples"] + result.get("peer_error_samples", []):
            err.print(f"  error sample: {sample}")
        raise typer.Exit(1)


def _print_api_table(r: dict) -> None:
    table = Table(title=f"covey bench api — {r['requests']} requests, {r['partner_clients']} partner + "
                        f"{r['vendor_clients']} vendor clients, {r['workers']}×{r['threads']} Granian")
    table.add_column("Figure")
    table.add_column("Covey (HTTP)", justify="right")
    table.add_column("psycopg direct", justify="right")
    table.add_row("Throughput (requests/s)", f"{r['throughput_per_s']:.1f}", f"{r['peer_throughput_per_s']:.1f}")
    for p in ("p50", "p95", "p99"):
        table.add_row(f"{p} latency (ms)", f"{r[p + '_ms']:.1f}", _num(r.get(f"peer_{p}_ms")))
    table.add_row("Ratio to ceiling", f"{r['ratio']:.3f}", "")
    table.add_row("Errors", f"{r['errors']} {_counts(r['error_mix'])}".strip(), str(r.get("peer_errors", "")))
    for kind, k in r["per_kind"].items():
        table.add_row(f"  {kind} (p50 / p99 ms)", f"{k['p50_ms']:.1f} / {k['p99_ms']:.1f}", "")
    console.print(table)
    console.print(f"Machine load average during the run: {r['load_average']} on {os.cpu_count()} cores.")


@bench_app.command()
def mapping(
    size: int = typer.Option(100_000, min=100, max=5_000_000, help="Rows in each of the two lists."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same lists and truth."),
    overlap: float = typer.Option(0.3, min=0.0, max=0.9, help="Share of each list's rows on shared companies."),
    peer: bool = typer.Option(True, "--peer/--no-peer", help="Also map the lists with Splink on DuckDB (up to 100,000 rows)."),
    peer_u_pairs: float = typer.Option(1e7, min=1e4, help="Pairs Splink samples to estimate u (its docs: 1e7 is often adequate; default 1e6)."),
    incremental: bool = typer.Option(False, "--incremental", help="Also time a re-run after 1% of their list changed: full and incremental."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
) -> None:
    """Account mapping: Covey's engine against generated truth and against Splink (no server)."""
    from covey.bench.mapping import Options, run

    result = run(Options(size=size, seed=seed, overlap=overlap, peer=peer, peer_u_pairs=peer_u_pairs,
                         incremental=incremental),
                 progress=(lambda _msg: None) if as_json else (lambda msg: err.print(msg)))
    if result["peer"] == "none":
        err.print(f"Peer skipped: {result['peer_skipped']}.")
    if not as_json:
        _print_mapping_table(result)
    print(json.dumps(result, separators=(", ", ": ")), flush=True)


def _print_mapping_table(r: dict) -> None:
    def mark(name: str) -> str:
        if name not in r["targets_met"]:
            return ""
        return " [green]✓[/green]" if r["targets_met"][name] else " [red]✗[/red]"

    has_peer = r["peer"] == "splink-duckdb"
    table = Table(title=f"covey bench mapping: 2 × {r['size']:,} rows, {r['true_pairs']:,} true pairs, seed {r['seed']}")
    table.add_column("Figure")
    table.add_column("Covey", justify="right")
    table.add_column("Splink" if has_peer else "Peer", justify="right")
    table.add_column("Target")

    def peer(key: str, fmt: str = "{}") -> str:
        return fmt.format(r[key]) if has_peer and r.get(key) is not None else "–"

    table.add_row("Seconds (engine)", f"{r['seconds']:.2f}", peer("peer_seconds", "{:.2f}"), "≤ 30 at 1M" + mark("seconds_at_1m"))
    for stage, secs in r["stages"].items():
        table.add_row(f"  {stage}", f"{secs:.2f}", "", "")
    if has_peer:
        table.add_row("Times faster (ratio)", f"{r['ratio']:.1f}×", "", "≥ 5× at 100k" + mark("ratio_at_100k"))
    table.add_row("Precision", f"{r['precision']:.4f}", peer("peer_precision", "{:.4f}"), "≥ 0.99" + mark("precision"))
    table.add_row("Recall", f"{r['recall']:.4f}", peer("peer_recall", "{:.4f}"), "")
    table.add_row("F1", f"{r['f1']:.4f}", peer("peer_f1", "{:.4f}"),
                  "≥ 0.95" + mark("f1") + (", ≥ peer" + mark("f1_not_below_peer") if has_peer else ""))
    table.add_row("Matches", f"{r['matches']:,}", peer("peer_predicted_pairs", "{:,}"), "")
    for kind, count in r["matches_by_kind"].items():
        table.add_row(f"  {kind}", f"{count:,}", "", "")
    table.add_row("False positives", f"{r['false_positives']:,}", peer("peer_false_positives", "{:,}"), "")
    for role, count in sorted(r["false_positives_by_their_role"].items()):
        table.add_row(f"  their {role}", f"{count:,}", "", "")
    table.add_row("Candidate pairs", f"{r['candidate_pairs']:,}", "", "")
    table.add_row("Peak RSS, engine (MB)", f"{r['peak_rss_mb']:,.0f}", "", "≤ 6,144 at 1M" + mark("peak_rss_mb_at_1m"))
    table.add_row("Peak RSS, process (MB)", f"{r['process_peak_rss_mb']:,.0f}", "", "")
    table.add_row("CSV read (s)", f"{r['csv_read_seconds']:.2f}", "", f"{r['csv_mb']:,.0f} MB")
    if "incremental_seconds" in r:
        c = r["incremental_changes"]
        table.add_row("Re-run after 1% changed", "", "", f"{c['added']:,} added, {c['removed']:,} removed, {c['edited']:,} edited")
        table.add_row("  full run (s)", f"{r['incremental_full_seconds']:.2f}", "", "")
        table.add_row("  incremental run (s)", f"{r['incremental_seconds']:.2f}", "",
                      f"{r['incremental_speedup']}× faster, {r['incremental_normalised_rows']:,} rows normalised")
        table.add_row("  same result", "yes" if r["incremental_identical"] else "NO", "", "must be yes" + mark("incremental_identical"))
    console.print(table)
    console.print("Ratio = Splink seconds ÷ Covey seconds (how many times faster Covey is); Splink's seconds include "
                  f"the same normalisation, and it samples {r.get('peer_u_max_pairs', 0):,.0f} pairs for u.")
    console.print(f"Peak RSS scope: {r['peak_rss_scope']}. Load average after the run: {r['load_average']} on "
                  f"{os.cpu_count()} cores (other work on the machine slows every figure).")


@bench_app.command()
def payouts(
    lines: int = typer.Option(100_000, min=100, max=5_000_000, help="Won deals in the quarter (1–3 partners each)."),
    partners: int = typer.Option(10_000, min=10, max=100_000, help="Partners in the program."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same data."),
    peer: bool = typer.Option(True, "--peer/--no-peer", help="Also time the per-line ORM peer on a sample."),
    peer_sample: int = typer.Option(2_000, min=10, help="Deals the peer computes (its time is scaled to --lines)."),
    check: bool = typer.Option(True, "--check/--no-check", help="Check every amount against the Decimal reference."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
    database_url: str = typer.Option(
        "", help="PostgreSQL database the bench owns and empties (default: DATABASE_URL when it is PostgreSQL, "
                 "else postgresql://postgres@127.0.0.1:5432/covey_bench). Use sqlite:///path for SQLite figures.",
    ),
) -> None:
    """A quarter of N won deals through the payout engine (database in → ledger out), against the per-line ORM style."""
    from covey.bench import database
    from covey.bench.payouts import Options, run

    url, var_dir, _ = _open_database(database_url, sqlite_allowed=True)
    options = Options(lines=lines, partners=partners, seed=seed, database_url=url, peer=peer,
                      peer_sample=peer_sample, check=check)
    try:
        result = run(options, progress=(lambda _msg: None) if as_json else (lambda msg: err.print(msg)))
    except database.BenchError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if not as_json:
        _print_payouts_table(result)
    print(json.dumps(result, separators=(", ", ": "), default=str), flush=True)
    if not result["ok"]:
        err.print("[red]FAILED: the ledger differs from the reference or a rerun posted entries.[/red]")
        raise typer.Exit(1)


@bench_app.command()
def analytics(
    size: str = typer.Option("large", help="The covey seed data set to compute over: large (1,000,000 opportunities) or small."),
    seed: int = typer.Option(42, help="Random seed for the data set when it has to be generated."),
    peer: bool = typer.Option(True, "--peer/--no-peer", help="Also time the per-row ORM loop on a slice and check the figures agree."),
    peer_sample: int = typer.Option(50_000, min=100, help="Opportunity ids in the peer's slice (its time is scaled to all deals in play)."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
    database_url: str = typer.Option(
        "", help="Database the bench seeds when empty and reuses (default: DATABASE_URL when it is PostgreSQL, else "
                 "postgresql://postgres@127.0.0.1:5432/covey_bench). Use sqlite:///path for SQLite figures.",
    ),
) -> None:
    """The program dashboard's metrics over the seeded data set, per metric and in total, against the per-row ORM loop."""
    from covey.bench import database
    from covey.bench.analytics import Options, run

    if size not in ("large", "small"):
        err.print("[red]--size must be large or small.[/red]")
        raise typer.Exit(2)
    _open_database(database_url, sqlite_allowed=True)
    database.migrate()
    try:
        result = run(Options(size=size, seed=seed, peer=peer, peer_sample=peer_sample),
                     progress=(lambda _msg: None) if as_json else (lambda msg: err.print(msg)))
    except database.BenchError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if not as_json:
        table = Table(title=f"covey bench analytics — {result['opportunities']:,} opportunities, {result['period']} "
                            f"on {result['database']}")
        table.add_column("Stage / metric")
        table.add_column("Seconds", justify="right")
        for name, secs in result["stages"].items():
            table.add_row(f"query: {name}", f"{secs:.3f}")
        for name, secs in result["metric_seconds"].items():
            table.add_row(f"metric: {name} = {result['figures'][name]}", f"{secs:.6f}")
        table.add_row("Total (all metrics)", f"{result['seconds']:.3f}")
        if result.get("peer_seconds") is not None:
            table.add_row(f"Peer: {result['peer']}", f"{result['peer_seconds']:.1f}")
            table.add_row("Ratio (peer ÷ Covey)", f"{result['ratio']}×")
            table.add_row("Figures agree on the peer's slice", "yes" if result["figures_agree"] else "NO")
        console.print(table)
    print(json.dumps(result, separators=(", ", ": "), default=str), flush=True)
    if not result["ok"]:
        err.print(f"[red]FAILED: the set-based figures differ from the peer's: {result['mismatches']}[/red]")
        raise typer.Exit(1)


@bench_app.command()
def dashboard(
    size: str = typer.Option("large", help="The covey seed data set: large (1,000,000 opportunities), medium (100,000) or small."),
    seed: int = typer.Option(42, help="Random seed for the data set when it has to be generated."),
    requests: int = typer.Option(20, min=1, max=10_000, help="Timed warm requests per page."),
    peer: bool = typer.Option(True, "--peer/--no-peer", help="Also time the naive per-partner ORM loop and check it agrees."),
    peer_sample: int = typer.Option(300, min=1, help="Partners the naive loop visits (its time is scaled to all partners)."),
    freshness: bool = typer.Option(True, "--freshness/--no-freshness", help="Change a deal and time until both pages show it."),
    port: int = typer.Option(0, min=0, max=65535, help="Loopback port for the server (default: a free one)."),
    workers: int = typer.Option(2, min=1, max=16, help="Server worker processes."),
    as_json: bool = typer.Option(False, "--json", help="Print only the JSON line."),
    database_url: str = typer.Option(
        "", help="Database the bench seeds when empty and reuses (default: DATABASE_URL when it is PostgreSQL, else "
                 "postgresql://postgres@127.0.0.1:5432/covey_bench). Use sqlite:///path for SQLite figures (pages are "
                 "then timed through Django's test client in the bench process).",
    ),
) -> None:
    """The program dashboard and a partner scorecard through the real views, read from the rollups: warm p50/p95,
    freshness after a change, and the naive per-partner ORM loop for the same figures."""
    from covey.bench import database
    from covey.bench.dashboard import TARGETS, Options, run

    if size not in ("large", "medium", "small"):
        err.print("[red]--size must be large, medium or small.[/red]")
        raise typer.Exit(2)
    sqlite = database_url.startswith("sqlite:")
    url, var_dir, _ = _open_database(database_url, sqlite_allowed=True)
    database.migrate()
    if sqlite:
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    options = Options(size=size, seed=seed, requests=requests, peer=peer, peer_sample=peer_sample, freshness=freshness,
                      database_url=url, var_dir=var_dir, workers=workers, port=port, server=not sqlite)
    try:
        result = run(options, progress=(lambda _msg: None) if as_json else (lambda msg: err.print(msg)))
    except database.BenchError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if not as_json:
        def mark(name: str) -> str:
            return "[green]✓[/green]" if result["targets_met"].get(name) else "[red]✗[/red]"

        table = Table(title=f"covey bench dashboard — {result['opportunities']:,} opportunities, {result['partners']:,} "
                            f"partners, {result['period']} on {result['database']}; {result['served_by']}")
        table.add_column("Figure")
        table.add_column("Value", justify="right")
        table.add_column("Target")
        table.add_row("Rollup rebuild (s)", f"{result['rebuild_seconds']:.2f}", "")
        table.add_row("Program dashboard p50 / p95 (ms)", f"{result['dashboard_p50_ms']:.1f} / {result['dashboard_p95_ms']:.1f}",
                      f"p95 ≤ {TARGETS['dashboard_p95_ms']:g} {mark('dashboard_p95_ms')}")
        table.add_row("Partner scorecard p50 / p95 (ms)", f"{result['scorecard_p50_ms']:.1f} / {result['scorecard_p95_ms']:.1f}",
                      f"p95 ≤ {TARGETS['scorecard_p95_ms']:g} {mark('scorecard_p95_ms')}")
        if freshness:
            table.add_row("Freshness lag: dashboard / scorecard (s)",
                          f"{result['freshness_dashboard_seconds']} / {result['freshness_scorecard_seconds']}",
                          f"≤ {TARGETS['freshness_seconds']:g} {mark('freshness_seconds')}")
        table.add_row("Direct computation of the dashboard's cube (s)", f"{result['direct_dashboard_seconds']:.2f}", "")
        if result.get("peer_dashboard_seconds") is not None:
            table.add_row(f"Peer: {result['peer']} (s)", f"{result['peer_dashboard_seconds']:,.1f}", "")
            table.add_row("Ratio (peer ÷ dashboard p50)", f"{result['ratio']}×", f"≥ {TARGETS['ratio']:g}× {mark('ratio')}")
            table.add_row("Peer scorecard measures (ms); ratio to scorecard p50", f"{result['peer_scorecard_ms']} ; "
                          f"{result['scorecard_ratio']}×", "")
        table.add_row("Rollups agree with the direct computation and the peer", "yes" if result["figures_agree"] else "NO", "")
        console.print(table)
    print(json.dumps(result, separators=(", ", ": "), default=str), flush=True)
    if not result["ok"]:
        err.print(f"[red]FAILED: {result['mismatches'] or 'no freshness figure (the change never showed)'}[/red]")
        raise typer.Exit(1)


def _print_payouts_table(r: dict) -> None:
    def mark(name: str) -> str:
        met = r["targets_met"].get(name)
        return "" if met is None else ("[green]✓[/green]" if met else "[red]✗[/red]")

    table = Table(title=f"covey bench payouts — {r['lines']:,} won deals, {r['partners']:,} partners "
                        f"({r['partner_links']:,} partner links) on {r['database']}")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    table.add_column("Target")
    table.add_row("Quarter run, seconds (database in → ledger out)", f"{r['seconds']:.2f}",
                  f"≤ 30 at 1M {mark('seconds_at_1m')}")
    stages = r.get("stages", {})
    table.add_row("  load / compute while posting / of which posting",
                  " / ".join(f"{stages.get(k, 0):.2f}" for k in ("load", "compute_and_post", "post")), "")
    table.add_row("Deals per second", f"{r['lines_per_s']:,.0f}", "")
    table.add_row("Ledger entries posted", f"{r['entries']:,}", "")
    table.add_row("Peak memory (MB)", f"{r['peak_rss_mb']:,.0f}", "")
    table.add_row("Rerun: seconds, entries posted", f"{r['rerun_seconds']:.2f}, {r['rerun_new_entries']}",
                  f"0 entries {mark('rerun_posts_nothing')}")
    if "exact" in r:
        table.add_row("Difference from the Decimal reference", f"{r['mismatched_entries']} entries, {r['cents_difference']} cents",
                      f"0 {mark('exact')}")
    if r.get("peer_seconds"):
        table.add_row(f"Peer: {r['peer']} (scaled)", f"{r['peer_seconds']:,.1f} s", "")
        table.add_row("Ratio (peer ÷ Covey)", f"{r['ratio']:.1f}×", f"≥ 10× {mark('ratio')}")
    console.print(table)
