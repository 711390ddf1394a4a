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
    profile: int = typer.Option(
        0, min=0, help="Instead of serving: send this many requests straight into the app in this process and "
                       "show the SQL per request, CPU per request and a cProfile (where the time goes).",
    ),
) -> None:
    """Concurrent deal registrations through POST /api/registrations, against a psycopg ceiling."""
    from covey.bench import database
    from covey.bench.registrations import Options, run

    try:
        url = database.resolve_url(database_url or None)
        created = database.ensure_database(url)
    except database.BenchError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    var_dir = (Path(os.environ.get("COVEY_VAR_DIR") or Path.cwd() / "var") / "bench").resolve()
    _setup_for(url, var_dir)
    if created and not as_json:
        err.print(f"Created database {database.database_name(url)!r}.")

    options = Options(
        size=size, clients=clients, conflict_share=conflict_share, seed=seed, database_url=url,
        workers=workers, var_dir=var_dir, peer=peer, profile=profile,
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

    table = Table(title=f"covey bench registrations — {r['size']} registrations, {r['clients']} clients, "
                        f"{r['workers']}×{r['threads']} Granian")
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
