"""The ``covey`` command: everything an operator does from a shell.

Each subcommand sets up Django itself, so ``covey`` works from any directory with the same
environment variables as the web server (see README "Configuration").
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)
app = typer.Typer(
    help="Covey: the open partner ecosystem platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "covey.settings")
    import django

    from covey.env import ImproperlyConfiguredEnv

    try:
        django.setup()
    except ImproperlyConfiguredEnv as exc:
        err.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(0, help="Worker processes (default: WEB_CONCURRENCY or one per core, at most 4)."),
    migrate_first: bool = typer.Option(True, "--migrate/--no-migrate", help="Apply migrations before serving."),
    background_worker: bool = typer.Option(
        True, "--worker/--no-worker", help="Also run the background worker (task queue and periodic jobs).",
    ),
    access_log: bool = typer.Option(
        False, "--access-log/--no-access-log", envvar="ACCESS_LOG",
        help="Log every request (off by default: the reverse proxy in front usually logs them, and a "
             "log line costs about as much CPU as a light request).",
    ),
) -> None:
    """Serve the web app and API with Granian (a production server)."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    if migrate_first:
        call_command("migrate", interactive=False, verbosity=0)
    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    from covey.server import serve as run

    console.print(f"Covey is serving on [bold]http://{host}:{port}[/bold]  (Ctrl+C stops it)")
    run(host=host, port=port, workers=workers or None, background_worker=background_worker, access_log=access_log)


@app.command()
def worker(
    interval: float = typer.Option(60.0, min=1.0, help="Seconds between periodic job sweeps."),
    jobs: bool = typer.Option(True, "--jobs/--no-jobs", help="Also run the periodic jobs (expiry, SLA flags…)."),
) -> None:
    """Run the background worker: queued tasks (e-mails, long jobs) and the periodic jobs sweep."""
    setup_django()
    from covey.worker import run

    console.print("Covey worker running (Ctrl+C stops it)")
    run(interval=interval, jobs=jobs)


@app.command()
def tick(
    now: str = typer.Option("", help="Pretend it is this moment (ISO 8601, e.g. 2026-12-01T09:00); default: now."),
    only: str = typer.Option("", help="Run only the job with this name."),
) -> None:
    """Run the periodic jobs once, in the foreground (for cron, or to catch up after downtime)."""
    setup_django()
    from datetime import datetime

    from django.utils import timezone

    from covey.core.schedule import jobs as registered
    from covey.core.schedule import run_jobs

    moment = None
    if now:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            err.print(f"[red]--now {now!r} is not an ISO 8601 date-time such as 2026-12-01T09:00.[/red]")
            raise typer.Exit(2) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
    if only and only not in registered():
        err.print(f"[red]No periodic job is named {only!r}. Jobs: {', '.join(registered()) or 'none'}.[/red]")
        raise typer.Exit(2)
    for name, changed in run_jobs(moment, only=only or None).items():
        console.print(f"{name}: {'[red]failed (see the log)[/red]' if changed < 0 else f'{changed} changed'}")


@app.command()
def createuser(
    email: str = typer.Argument(..., help="Log-in e-mail."),
    role: str = typer.Option("admin", help="Vendor role: admin, partner_manager, sales_rep, finance, executive."),
    name: str = typer.Option("", help="Full name."),
    password: str = typer.Option(
        None, help="Password (prompted when omitted).", prompt=True, hide_input=True, confirmation_prompt=True,
    ),
) -> None:
    """Create a vendor staff user."""
    setup_django()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from covey.core.models import StaffRole, User

    if role not in StaffRole.values:
        err.print(f"[red]Unknown role {role!r}[/red]; use one of: {', '.join(StaffRole.values)}")
        raise typer.Exit(2)
    if User.objects.filter(email__iexact=email).exists():
        err.print(f"[red]A user with e-mail {email} already exists.[/red]")
        raise typer.Exit(2)
    try:
        validate_password(password)
    except ValidationError as exc:
        err.print("[red]" + " ".join(exc.messages) + "[/red]")
        raise typer.Exit(2) from None
    User.objects.create_user(email, password, staff_role=role, full_name=name)
    console.print(f"Created {role} [bold]{email}[/bold].")


@app.command(name="backup")
def backup_command(
    out: str = typer.Option("", "--out", help="Archive to write (default: var/backups/covey-<UTC time>.tar.gz)."),
) -> None:
    """Write the whole database and every uploaded file to one checked archive (safe while serving)."""
    setup_django()
    from datetime import UTC, datetime
    from pathlib import Path

    from django.conf import settings

    from covey.core.backup import BackupError, backup

    target = Path(out) if out else Path(settings.VAR_DIR) / "backups" / f"covey-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    try:
        summary = backup(target)
    except BackupError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Backed up {summary.vendor}: {summary.tables} tables, {summary.rows:,} rows, "
                  f"{summary.files} uploaded files → [bold]{summary.path}[/bold]")


@app.command(name="restore")
def restore_command(
    archive: str = typer.Argument(..., help="A file written by covey backup."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Replace the database and the uploaded files with a backup's (the archive is checked first)."""
    setup_django()
    from pathlib import Path

    from django.conf import settings

    from covey.core.backup import BackupError, restore

    if not yes and not typer.confirm(f"Replace ALL data in the configured database and {settings.MEDIA_ROOT} "
                                     f"with the backup {archive}?"):
        raise typer.Exit(1)
    try:
        summary = restore(Path(archive))
    except BackupError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Restored {summary.tables} tables ({summary.rows:,} rows, every count checked) and "
                  f"{summary.files} uploaded files from {summary.path}. Run covey migrate if this backup is older than the code.")


@app.command(name="map")
def map_accounts(
    ours: str = typer.Option(..., "--ours", help="Our account list (CSV or XLSX)."),
    theirs: str = typer.Option(..., "--theirs", help="The partner's account list (CSV or XLSX)."),
    out: str = typer.Option(..., "--out", help="Where to write the matches (CSV: our_id, their_id, kind, score)."),
    problems: int = typer.Option(10, min=0, help="How many import problems to list per file."),
) -> None:
    """Account mapping without a server: which accounts two lists have in common."""
    from covey.mapping import match_accounts
    from covey.mapping.reader import read_accounts, write_matches

    frames = []
    for label, path in (("ours", ours), ("theirs", theirs)):
        frame, report = read_accounts(path)
        if not report.ok:
            err.print(f"[red]{report.fatal}[/red]")
            raise typer.Exit(2)
        console.print(f"{label}: {report.rows:,} rows, {report.accounts:,} accounts from {report.source} "
                      f"({report.encoding}; columns {', '.join(f'{k}={v!r}' for k, v in report.columns.items())}"
                      + (f"; more domains from {', '.join(map(repr, report.domain_columns))}" if report.domain_columns else "")
                      + ")")
        if report.counts:
            console.print("  problems: " + ", ".join(f"{code} {n:,}" for code, n in sorted(report.counts.items())))
            for problem in report.problems[:problems]:
                where = f"row {problem.row}" if problem.row else "file"
                console.print(f"  {where}{f' ({problem.column})' if problem.column else ''}: {problem.message}",
                              highlight=False, markup=False)
        frames.append(frame)
    result = match_accounts(*frames)
    try:
        write_matches(result.matches, out)
    except OSError as exc:
        err.print(f"[red]Cannot write {out}: {exc.strerror or exc}[/red]")
        raise typer.Exit(2) from None
    kinds = ", ".join(f"{k} {result.counts[f'matches_{k}']:,}" for k in ("domain", "name_exact", "name_fuzzy"))
    console.print(f"{result.matches.height:,} matched pairs ({kinds}) in {sum(result.seconds.values()):.2f} s "
                  f"→ {out}")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Run a Django management command (e.g. covey manage check --deploy).",
)
def manage(ctx: typer.Context) -> None:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["covey manage", *ctx.args])


def _register_feature_commands() -> None:
    from covey.analytics.cli import analytics_app
    from covey.bench.cli import bench_app
    from covey.crm.cli import export_app, import_app
    from covey.demo.cli import demo, seed
    from covey.interchange.cli import ace_app, referrals_app
    from covey.payouts.cli import payouts_app

    app.add_typer(analytics_app, name="analytics", help="Rebuild or refresh the analytics rollups the dashboards read.")
    app.add_typer(bench_app, name="bench", help="Load benchmarks against the production server (JSON line last).")
    app.add_typer(import_app, name="import", help="Import accounts or opportunities from CSV or JSON.")
    app.add_typer(export_app, name="export", help="Export accounts or opportunities to CSV or JSON.")
    app.add_typer(payouts_app, name="payouts", help="Run payout quarters, refresh statements, make payout batches, simulate.")
    app.add_typer(ace_app, name="ace", help="AWS Partner Central (ACE) opportunities: export, import, invitations.")
    app.add_typer(referrals_app, name="referrals", help="Microsoft Partner Center referrals: export, import.")
    app.command(help="Start the demo: migrate, seed demo data, print log-ins, serve on :8000.")(demo)
    app.command(help="Generate deterministic data (small for demos, large for benchmarks).")(seed)


_register_feature_commands()


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
