import typer

import_app = typer.Typer(no_args_is_help=True)
export_app = typer.Typer(no_args_is_help=True)
