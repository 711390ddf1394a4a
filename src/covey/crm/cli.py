"""``covey import …`` and ``covey export …``: CRM files from and to Salesforce, HubSpot and CSV.

The commands are thin: they set Django up, call ``covey.crm.imports.import_records`` or the
writers in ``covey.crm.exports``, and print what happened.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

console = Console()
err = Console(stderr=True)

import_app = typer.Typer(no_args_is_help=True, add_completion=False)
export_app = typer.Typer(no_args_is_help=True, add_completion=False)

IMPORT_FORMATS = ("auto", "generic", "salesforce", "salesforce-csv", "hubspot", "sf-tree", "salesforce-tree")
EXPORT_FORMATS = ("generic", "salesforce", "salesforce-csv", "hubspot", "sf-tree", "salesforce-tree")
PROGRESS_FROM_BYTES = 1_000_000  # below this an import is over before a bar would be useful
MAX_ERRORS_SHOWN = 50
PHASES = {"read": "Reading", "check": "Checking", "match": "Matching ids", "write": "Writing"}


def _setup() -> None:
    from covey.cli import setup_django

    setup_django()


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        err.print(f"[red]Unknown format {fmt!r}[/red]; use one of: {', '.join(allowed)}.")
        raise typer.Exit(2)


def _actor(email: str | None):
    if not email:
        return None
    from covey.core.models import User

    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        err.print(f"[red]No user has the e-mail {email}.[/red]")
        raise typer.Exit(2)
    return user


def _run_import(kind: str, file: Path, fmt: str, skip_invalid: bool, rejects: Path | None, encoding: str | None, as_user: str | None) -> None:
    _check_format(fmt, IMPORT_FORMATS)
    _setup()
    from covey.crm.imports import import_records

    actor = _actor(as_user)
    big = file.stat().st_size >= PROGRESS_FROM_BYTES
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=not big,
    ) as bar:
        task = bar.add_task("Reading", total=None)

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(task, description=PHASES.get(phase, phase), completed=done, total=total)

        report = import_records(
            kind, file, fmt=fmt, actor=actor, partial=skip_invalid, rejects_path=rejects, encoding=encoding,
            progress=progress,
        )

    _print_report(report, file)


def _print_report(report, file: Path) -> None:
    from covey.crm.imports import NOTHING_IMPORTED

    for warning in report.warnings:
        err.print(f"[yellow]{warning}[/yellow]")
    if report.errors:
        _print_errors(report)
    if report.counts:
        table = Table(title=f"Import of {file.name} ({report.fmt})")
        table.add_column("")
        for heading in ("created", "updated", "unchanged", "rejected"):
            table.add_column(heading, justify="right")
        for name, c in report.counts.items():
            table.add_row(name, str(c.created), str(c.updated), str(c.unchanged), str(c.rejected))
        console.print(table)
    if report.failed and not report.applied and report.counts:
        err.print(f"[red]{NOTHING_IMPORTED}[/red] Fix them, or add --skip-invalid to import the valid rows.")
    if report.rejects_path:
        console.print(f"Rejected rows, with an “error” column, are in [bold]{report.rejects_path}[/bold].")
    if report.failed:
        raise typer.Exit(1)


def _print_errors(report) -> None:
    table = Table(title="Problems", title_style="bold red", show_lines=False)
    table.add_column("where")
    table.add_column("column")
    table.add_column("problem", overflow="fold")
    for e in report.errors[:MAX_ERRORS_SHOWN]:
        table.add_row(e.where, e.column, e.message)
    err.print(table)
    if len(report.errors) > MAX_ERRORS_SHOWN:
        err.print(f"… and {len(report.errors) - MAX_ERRORS_SHOWN} more. Use --skip-invalid to get them all in a rejects file.")


_FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV or data-tree JSON (or plan) file.")
_FORMAT = typer.Option("auto", "--format", "-f", help="auto, generic, salesforce (salesforce-csv), hubspot or sf-tree (salesforce-tree).")
_SKIP = typer.Option(False, "--skip-invalid", help="Import the valid rows and write the others to a rejects file.")
_REJECTS = typer.Option(None, "--rejects", help="Where rejected rows go (default: deals.csv → deals.rejects.csv).")
_ENCODING = typer.Option(None, "--encoding", help="The file's encoding when it is not UTF-8, e.g. cp1252.")
_AS = typer.Option(None, "--as", help="E-mail of the user the audit trail names (default: system).")


@import_app.command("accounts")
def import_accounts(
    file: Path = _FILE, fmt: str = _FORMAT, skip_invalid: bool = _SKIP, rejects: Path | None = _REJECTS,
    encoding: str | None = _ENCODING, as_user: str | None = _AS,
) -> None:
    """Import accounts (companies); rows whose id exists are updated, others created."""
    _run_import("accounts", file, fmt, skip_invalid, rejects, encoding, as_user)


@import_app.command("opportunities")
def import_opportunities(
    file: Path = _FILE, fmt: str = _FORMAT, skip_invalid: bool = _SKIP, rejects: Path | None = _REJECTS,
    encoding: str | None = _ENCODING, as_user: str | None = _AS,
) -> None:
    """Import opportunities (deals); their accounts must exist or come in the same data-tree plan."""
    _run_import("opportunities", file, fmt, skip_invalid, rejects, encoding, as_user)


@import_app.command("opportunity-partners")
def import_opportunity_partners(
    file: Path = _FILE, fmt: str = _FORMAT, encoding: str | None = _ENCODING, as_user: str | None = _AS,
) -> None:
    """Import opportunity partners (Salesforce Partner records, HubSpot deal-company associations); all or nothing."""
    _check_format(fmt, IMPORT_FORMATS)
    _setup()
    from covey.crm.partner_links import import_partner_links

    _print_report(import_partner_links(file, fmt=fmt, actor=_actor(as_user), encoding=encoding), file)


def _run_export(kind: str, fmt: str, out: Path | None) -> None:
    _check_format(fmt, EXPORT_FORMATS)
    _setup()
    from covey.crm.exports import write_csv
    from covey.crm.models import Account, Opportunity, OpportunityPartner
    from covey.crm.partner_links import write_partner_links

    def write(fh) -> int:
        if kind == "opportunity-partners":
            return write_partner_links(OpportunityPartner.objects.all(), fh, fmt)
        return write_csv(kind, (Account if kind == "accounts" else Opportunity).objects.order_by("pk"), fh, fmt)

    if out is None:
        # UTF-8 whatever the terminal's locale, and the CSV's own line endings untranslated.
        buffer = getattr(sys.stdout, "buffer", None)
        stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="") if buffer is not None else sys.stdout
        count = write(stream)
        stream.flush()
        if stream is not sys.stdout:
            stream.detach()  # leave sys.stdout open
        err.print(f"Exported {count} {kind}.")
        return
    with open(out, "w", encoding="utf-8", newline="") as fh:
        count = write(fh)
    console.print(f"Exported {count} {kind} to [bold]{out}[/bold].")


_OUT = typer.Option(None, "--out", "-o", help="File to write (default: standard output).")
_EXPORT_FORMAT = typer.Option("generic", "--format", "-f", help="generic, salesforce (salesforce-csv), hubspot or sf-tree (salesforce-tree).")


@export_app.command("accounts")
def export_accounts(fmt: str = _EXPORT_FORMAT, out: Path | None = _OUT) -> None:
    """Export every account."""
    _run_export("accounts", fmt, out)


@export_app.command("opportunities")
def export_opportunities(fmt: str = _EXPORT_FORMAT, out: Path | None = _OUT) -> None:
    """Export every opportunity."""
    _run_export("opportunities", fmt, out)


@export_app.command("opportunity-partners")
def export_opportunity_partners(fmt: str = _EXPORT_FORMAT, out: Path | None = _OUT) -> None:
    """Export every opportunity partner (role and primary flag)."""
    _run_export("opportunity-partners", fmt, out)
