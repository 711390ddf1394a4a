"""``covey analytics …`` (registered by ``covey.cli``): build or bring up to date the dashboards' rollups."""

from __future__ import annotations

import json

import typer
from rich.console import Console

console = Console()
analytics_app = typer.Typer(help="The analytics rollups the dashboards and scorecards read.", no_args_is_help=True)


@analytics_app.command()
def rebuild() -> None:
    """Recompute every rollup from the deals (the periodic job then keeps them up to date)."""
    from covey.cli import setup_django

    setup_django()
    from covey.analytics import rollups

    result = rollups.rebuild()
    console.print(f"Rebuilt the analytics rollups in {result['seconds']:.2f} s ({result['changes']} logged changes absorbed).")
    typer.echo(json.dumps(result))


@analytics_app.command()
def refresh() -> None:
    """Apply the changes logged since the last refresh now (what the every-minute job does)."""
    from covey.cli import setup_django

    setup_django()
    from covey.analytics import rollups

    result = rollups.refresh()
    console.print(f"Applied {result.get('changes', 0)} logged changes in {result.get('seconds', 0):.2f} s.")
    typer.echo(json.dumps(result))
