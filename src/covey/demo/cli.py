"""``covey seed`` and ``covey demo`` (registered by ``covey.cli``)."""

from __future__ import annotations

import json
from datetime import date

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
err = Console(stderr=True)
SIZE_NAMES = ("small", "medium", "large")  # generator.SIZES; named here so --help works before Django is set up


def _setup() -> None:
    from django.core.management import call_command

    from covey.cli import setup_django

    setup_django()
    call_command("migrate", interactive=False, verbosity=0)


class _RichReporter:
    """Shows one progress bar per table while the generator streams rows into it."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def start(self, table: str, total: int | None) -> None:
        self.tasks[table] = self.progress.add_task(table, total=total)

    def advance(self, table: str, rows: int) -> None:
        self.progress.advance(self.tasks[table], rows)

    def finish(self, table: str, rows: int, seconds: float) -> None:
        self.progress.update(self.tasks[table], total=rows or 1, completed=rows or 1)


def _run_seed(*, size: str, seed: int, today: date | None, reset: bool):
    from django.db import IntegrityError

    from covey.demo.generator import SeedRefused, seed_database

    progress = Progress(
        TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    )
    try:
        with progress:
            return seed_database(size=size, seed=seed, today=today, reset=reset, reporter=_RichReporter(progress))
    except SeedRefused as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    except IntegrityError as exc:
        err.print(f"[red]The generated data clashes with rows already in the database ({exc}). "
                  "Nothing was written; seed a fresh database or use --reset.[/red]")
        raise typer.Exit(1) from None


def seed(
    size: str = typer.Option("small", "--size", help="small (demo), medium (100,000 opportunities) or large (10,000 "
                                                     "partners, 100,000 accounts, 1,000,000 opportunities, for benchmarks)."),
    seed_value: int = typer.Option(42, "--seed", help="Random seed: the same seed gives the same data."),
    today: str = typer.Option("", "--today", help="Date the data is generated around, YYYY-MM-DD (default: today)."),
    reset: bool = typer.Option(False, "--reset", help="Delete previously generated data first, then generate again."),
) -> None:
    """Generate deterministic data (small for demos, large for benchmarks)."""
    if size not in SIZE_NAMES:
        err.print(f"[red]Unknown size {size!r}[/red]; use one of: {', '.join(SIZE_NAMES)}")
        raise typer.Exit(2)
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        err.print(f"[red]--today {today!r} is not a date[/red]; use YYYY-MM-DD, e.g. 2026-11-22")
        raise typer.Exit(2) from None
    _setup()
    result = _run_seed(size=size, seed=seed_value, today=day, reset=reset)
    if result.status == "skipped":
        console.print(
            f"This database already holds the {result.size} data set with seed {result.seed} "
            f"(generated around {result.today}); nothing to do. Add --reset to generate it again."
        )
    else:
        table = Table(title=f"Generated the {result.size} data set (seed {result.seed}, today {result.today})")
        table.add_column("Table")
        table.add_column("Rows", justify="right")
        table.add_column("Seconds", justify="right")
        table.add_column("Rows/s", justify="right")
        for name, seconds in result.seconds.items():
            rows = result.rows.get(name)
            rate = f"{rows / seconds:,.0f}" if seconds > 0 and rows else "–"
            table.add_row(name, f"{rows:,}" if rows is not None else "–", f"{seconds:.2f}", rate)
        table.add_row("[bold]total[/bold]", f"{sum(result.rows.values()):,}", f"{result.total_seconds:.2f}", "")
        console.print(table)
    typer.echo(json.dumps(result.summary()))


def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the database and print log-ins; don't serve."),
) -> None:
    """Start the demo: migrate, seed demo data (once), print log-ins, serve on http://127.0.0.1:8000."""
    _setup()
    from django.conf import settings
    from django.db import connection

    from covey.demo.generator import DEMO_PASSWORD, describe, existing_seed, marker_logins

    marker = existing_seed()
    if marker is None:
        console.print("Generating the demo data set (takes a few seconds, once)…")
        result = _run_seed(size="small", seed=42, today=None, reset=False)
        logins = result.logins
    else:
        console.print(f"Demo data already present ({describe(marker)}).")
        logins = marker_logins(marker)
    from covey.demo.scenario import seed_co_selling

    by_role = {login.role: login.email for login in logins}
    if seed_co_selling(rep_email=by_role.get("Partner rep", ""),
                       other_rep_email=by_role.get("Partner rep (another partner)", "")):
        console.print("Added the co-selling scenario: deal registrations, a conflict and a deal room with its plan.")
    from covey.demo.lifecycle_scenario import seed_lifecycle

    if seed_lifecycle(admin_email=by_role.get("Vendor admin", ""), manager_email=by_role.get("Partner manager", ""),
                      partner_admin_email=by_role.get("Partner admin", "")):
        console.print("Added the lifecycle scenario: applicants being evaluated, an onboarding partner with a countersigned "
                      "agreement, certifications and a joint business plan.")
    from covey.demo.programs_scenario import seed_programs

    if seed_programs(admin_email=by_role.get("Vendor admin", ""), manager_email=by_role.get("Partner manager", ""),
                     partner_admin_email=by_role.get("Partner admin", ""),
                     other_rep_email=by_role.get("Partner rep (another partner)", "")):
        console.print("Added the programs scenario: a reseller program with Silver, Gold and Platinum, a locked version "
                      "governing this quarter, a draft for the next one, a pilot, and partners enrolled at tiers.")
    from covey.demo.payouts_scenario import seed_payouts

    if seed_payouts(partner_admin_email=by_role.get("Partner admin", ""),
                    other_rep_email=by_role.get("Partner rep (another partner)", "")):
        console.print("Added the payouts scenario: last quarter's run, the partner's draft statement with a disputed line, "
                      "an approved statement in a payout batch, and a draft program version for the simulator.")
    from covey.demo.mapping_scenario import seed_mapping

    pairs = seed_mapping(manager_email=by_role.get("Partner manager", ""), partner_admin_email=by_role.get("Partner admin", ""))
    if pairs:
        console.print(f"Added the account mapping scenario: the demo partner's uploaded list, a finished run with {pairs} "
                      "overlapping accounts, and our prospects shared with it as overlapping records.")
    from covey.demo.mdf_scenario import seed_mdf

    if seed_mdf(admin_email=by_role.get("Vendor admin", ""), partner_admin_email=by_role.get("Partner admin", ""),
                other_rep_email=by_role.get("Partner rep (another partner)", "")):
        console.print("Added the MDF scenario: a program with MDF per tier, this quarter's budget and allocations, an "
                      "approved request and a webinar claimed and reimbursed on the partner's statement.")
    from covey.demo.surveys_scenario import seed_surveys

    answers = seed_surveys(admin_email=by_role.get("Vendor admin", ""))
    if answers:
        console.print(f"Added the partner NPS scenario: last quarter's closed pulse survey with {answers} answers, "
                      "and last quarter's partner awards.")
    where = settings.DATABASES["default"]["NAME"] if connection.vendor == "sqlite" else f"{connection.vendor} database"
    console.print(f"Database: {where}")

    table = Table(title="Log in as any of these (one per role)")
    table.add_column("Role")
    # Never cut an address short on a narrow terminal; the other columns wrap instead.
    table.add_column("E-mail", no_wrap=True, min_width=max(len(x.email) for x in logins))
    table.add_column("Partner")
    for login in logins:
        table.add_row(login.role, login.email, login.partner)
    console.print(table)
    console.print(f"Password for every demo user: [bold]{DEMO_PASSWORD}[/bold]")
    if no_serve:
        return
    from covey.server import serve

    console.print(f"Covey is serving on [bold]http://{host}:{port}[/bold]  (Ctrl+C stops it)")
    serve(host=host, port=port)
