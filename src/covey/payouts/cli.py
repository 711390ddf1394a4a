"""``covey payouts …``: run a quarter, refresh and list statements, make and pay batches, simulate.

The commands are thin: they set Django up, call the same services as the pages (``covey.payouts.
services`` and ``statements``) and print rich tables. Errors print the service's message and exit 1
with nothing changed; wrong arguments exit 2.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)

payouts_app = typer.Typer(no_args_is_help=True, add_completion=False)


def _setup() -> None:
    from covey.cli import setup_django

    setup_django()


def _actor(email: str):
    if not email:
        return None
    from covey.core.models import User

    user = User.objects.filter(email__iexact=email.strip(), is_active=True).exclude(staff_role="").first()
    if user is None:
        err.print(f"[red]No active vendor user has the e-mail {email}.[/red]")
        raise typer.Exit(2)
    return user


def _program(name: str):
    from covey.programs.models import Program

    program = Program.objects.filter(name__iexact=name.strip()).first() or Program.objects.filter(public_id=name.strip()).first()
    if program is None:
        names = ", ".join(Program.objects.order_by("name").values_list("name", flat=True)) or "none yet"
        err.print(f"[red]No program is named {name!r}.[/red] Programs: {names}.")
        raise typer.Exit(2)
    return program


def _fail(exc) -> None:
    for message in getattr(exc, "messages", [str(exc)]):
        err.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


def _money(minor: int, currency: str) -> str:
    from covey.core.money import Money

    return str(Money(minor, currency))


AS_USER = typer.Option("", "--as", help="E-mail of the vendor user the change is recorded for (audit log).")


@payouts_app.command("run")
def run(
    program: str = typer.Option(..., "--program", help="The program's name (or id)."),
    period: str = typer.Option(..., "--period", help="A closed fiscal quarter, e.g. 2026Q3."),
    as_user: str = AS_USER,
) -> None:
    """Compute a program's closed quarter and post the difference to the ledger."""
    _setup()
    from django.core.exceptions import ValidationError

    from covey.payouts.selectors import entry_totals
    from covey.payouts.services import quarter_run

    actor, chosen = _actor(as_user), _program(program)
    try:
        made = quarter_run(program=chosen, period_key=period, actor=actor, source="cli")
    except ValidationError as exc:
        _fail(exc)
    f = made.figures
    table = Table(title=f"{chosen.name} {made.period_key}: run {made.public_id}")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    for label, key in (("New entries", "new_entries"), ("Reversals", "reversals"), ("Entries computed", "entries_computed")):
        table.add_row(label, f"{f.get(key, 0):,}")
    for t in entry_totals(made.entries.all()):
        table.add_row(f"Posted in {t['currency']}", _money(t["total"], t["currency"]))
    table.add_row("Seconds", f"{f.get('seconds', {}).get('total', 0):.2f}")
    console.print(table)


@payouts_app.command("statements")
def statements(
    period: str = typer.Option(..., "--period", help="Statement period: 2026Q3, or 2026-08 for monthly programs."),
    program: str = typer.Option("", "--program", help="Only this program (default: all)."),
    refresh: bool = typer.Option(False, "--refresh", help="First put every payable entry onto the period's draft statements."),
    as_user: str = AS_USER,
) -> None:
    """List a period's statements (after refreshing them with --refresh)."""
    _setup()
    from django.core.exceptions import ValidationError

    from covey.payouts import statements as S
    from covey.payouts.models import Statement
    from covey.programs.models import Program

    actor = _actor(as_user)
    chosen = [_program(program)] if program else list(Program.objects.order_by("name"))
    if refresh:
        for p in chosen:
            try:
                figures = S.statements_refresh(program=p, period=S.parse_statement_period(p, period), actor=actor, source="cli")
            except ValidationError as exc:
                _fail(exc)
            console.print(f"{p.name} {figures['period']}: {figures['statements_created']} new statements, "
                          f"{figures['lines_added']} lines added")
    key = period.strip().upper()
    rows = (Statement.objects.filter(period_key=key, program__in=chosen).select_related("partner", "program")
            .order_by("program__name", "partner__name", "currency"))
    table = Table(title=f"Statements for {key}")
    for column in ("Statement", "Partner", "Program", "Status"):
        table.add_column(column)
    table.add_column("Lines", justify="right")
    table.add_column("Total", justify="right")
    count = 0
    for s in rows.iterator():
        count += 1
        table.add_row(s.public_id, s.partner.name, s.program.name, s.get_status_display(), f"{s.lines.count():,}",
                      _money(s.total_minor, s.currency))
    if count:
        console.print(table)
    else:
        console.print(f"No statements for {key}." + ("" if refresh else " Add --refresh to make them from the ledger."))


@payouts_app.command("batch")
def batch(
    currency: str = typer.Option("", "--currency", help="Make a batch of the approved statements in this currency."),
    mark_paid: str = typer.Option("", "--mark-paid", help="Mark the batch with this id paid instead."),
    reference: str = typer.Option("", "--reference", help="With --mark-paid: the bank's payment reference."),
    out: str = typer.Option("", "--out", help="Write the batch's payment file (CSV) to this path."),
    as_user: str = AS_USER,
) -> None:
    """Make a payout batch per currency (and its CSV payment file), or mark one paid."""
    if bool(currency) == bool(mark_paid):
        err.print("[red]Give --currency to make a batch, or --mark-paid ID to mark one paid.[/red]")
        raise typer.Exit(2)
    _setup()
    from pathlib import Path

    from django.core.exceptions import ValidationError

    from covey.payouts import statements as S
    from covey.payouts.models import PayoutBatch

    actor = _actor(as_user)
    try:
        if mark_paid:
            made = PayoutBatch.objects.filter(public_id=mark_paid.strip()).first()
            if made is None:
                err.print(f"[red]No payout batch has the id {mark_paid}.[/red]")
                raise typer.Exit(2)
            made = S.batch_mark_paid(batch=made, actor=actor, reference=reference, source="cli")
        else:
            made = S.batch_create(currency=currency.strip().upper(), actor=actor, source="cli")
    except ValidationError as exc:
        _fail(exc)
    table = Table(title=f"Payout batch {made.public_id} ({made.get_status_display().lower()})")
    for column in ("Statement", "Partner", "Period"):
        table.add_column(column)
    table.add_column("Amount", justify="right")
    for s in made.statements.select_related("partner").order_by("partner__name"):
        table.add_row(s.public_id, s.partner.name, s.period_key, _money(s.total_minor, s.currency))
    table.add_row("[bold]total[/bold]", "", "", _money(made.total_minor, made.currency))
    console.print(table)
    if out:
        Path(out).write_text(S.batch_csv(made), encoding="utf-8")
        console.print(f"Payment file written to {out}")


@payouts_app.command("simulate")
def simulate(
    version: str = typer.Option(..., "--version", help="The draft program version's id (prv_…)."),
    periods: str = typer.Option(..., "--periods", help="Closed quarters, comma-separated: 2026Q2,2026Q3."),
    as_user: str = AS_USER,
) -> None:
    """Replay closed quarters under a draft version: cost difference, gainers and losers. Posts nothing."""
    _setup()
    from django.core.exceptions import ValidationError

    from covey.payouts.services import simulate as run_simulation
    from covey.programs.models import ProgramVersion, VersionStatus

    actor = _actor(as_user)
    draft = ProgramVersion.objects.filter(public_id=version.strip(), status=VersionStatus.DRAFT).select_related("program").first()
    if draft is None:
        err.print(f"[red]No draft program version has the id {version}.[/red]")
        raise typer.Exit(2)
    keys = [p.strip().upper() for p in periods.split(",") if p.strip()]
    try:
        made = run_simulation(draft=draft, period_keys=keys, actor=actor, source="cli")
    except ValidationError as exc:
        _fail(exc)
    f = made.figures
    totals = Table(title=f"{draft} replayed over {', '.join(f['quarters'])}")
    for column in ("Currency", "Paid", "Under the draft", "Difference"):
        totals.add_column(column, justify="right" if column != "Currency" else "left")
    for currency, t in f["totals"].items():
        totals.add_row(currency, _money(t["posted"], currency), _money(t["simulated"], currency), _money(t["difference"], currency))
    console.print(totals)
    rows = Table(title=f"Per partner: {f['gainers']} gain, {f['losers']} lose")
    for column in ("Partner", "Paid", "Under the draft", "Difference"):
        rows.add_column(column, justify="right" if column != "Partner" else "left")
    for r in sorted(f["rows"], key=lambda r: (-abs(r["difference"]), r["partner"])):
        rows.add_row(r["partner"], _money(r["posted"], r["currency"]), _money(r["simulated"], r["currency"]),
                     _money(r["difference"], r["currency"]))
    console.print(rows)
