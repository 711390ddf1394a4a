"""``covey ace …`` and ``covey referrals …``: AWS Partner Central and Microsoft Partner Center files.

Thin: set Django up, call ``covey.interchange.services``, print the payload or the import report.
Bad input (unknown opportunity, unreadable file, a payload the AWS model refuses) exits with 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)

ace_app = typer.Typer(no_args_is_help=True, add_completion=False)
referrals_app = typer.Typer(no_args_is_help=True, add_completion=False)


def _setup() -> None:
    from covey.cli import setup_django

    setup_django()


def _fail(message: str) -> None:
    err.print(message, style="red", markup=False)
    raise typer.Exit(2)


def _opportunity(public_id: str):
    from covey.crm.models import Opportunity

    opportunity = Opportunity.objects.select_related("account").filter(public_id=public_id.strip()).first()
    if opportunity is None:
        _fail(f"No opportunity with id {public_id!r}.")
    return opportunity


def _actor(email: str | None):
    if not email:
        return None
    from covey.core.models import User

    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        _fail(f"No user has the e-mail {email}.")
    return user


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(f"Cannot write {out}: {exc.strerror or exc}")
    console.print(f"Written to {out}")


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        _fail(f"Cannot read {file}: {exc.strerror or exc}")
    raise AssertionError  # unreachable: _fail exits


def _print_report(report) -> None:
    data = report.as_dict()
    console.print(f"created {len(data['created'])}, updated {len(data['updated'])}, "
                  f"unchanged {len(data['unchanged'])}, invitations {len(data['invitations'])}")
    for line in data["invitations"]:
        console.print(f"  invitation {line}", markup=False)
    if data["unknown_values"]:
        console.print("Values outside the published enumerations (imported around them):")
        for path, values in sorted(data["unknown_values"].items()):
            console.print(f"  {path}: {', '.join(values)}", markup=False)
    for warning in data["warnings"]:
        console.print(f"  warning: {warning}", markup=False)


@ace_app.command("export")
def ace_export(
    opp_id: str = typer.Argument(..., help="The opportunity's public id (opp_…)."),
    out: Path | None = typer.Option(None, "--out", help="Write the JSON here instead of standard output."),  # noqa: B008
    catalog: str = typer.Option("AWS", help="AWS or Sandbox."),
) -> None:
    """A CreateOpportunity / UpdateOpportunity request body, checked against botocore's model."""
    _setup()
    from covey.interchange import ace, services

    try:
        exported = services.ace_export(opportunity=_opportunity(opp_id), catalog=catalog)
    except ace.AceError as exc:
        _fail(str(exc))
    _write(json.dumps(exported, indent=2, ensure_ascii=False), out)


@ace_app.command("import")
def ace_import(
    file: Path = typer.Argument(..., help="GetOpportunity / GetEngagementInvitation response(s), JSON."),  # noqa: B008
    as_user: str | None = typer.Option(None, "--as", help="Record the changes as this user (e-mail)."),
) -> None:
    """Update or create opportunities from ACE responses; print the report of unknown values."""
    _setup()
    from covey.interchange import services

    raw = _read(file)
    try:
        report = services.ace_import(raw=raw, actor=_actor(as_user))
    except services.ImportRefused as exc:
        _fail(f"Nothing imported: {exc}")
    _print_report(report)


@ace_app.command("decide")
def ace_decide(
    invitation_id: str = typer.Argument(..., help="The engagement invitation's id (engi-…)."),
    decision: str = typer.Argument(..., help="accept or reject."),
    reason: str = typer.Option("", help="Why it is rejected (e.g. 'Unable to support')."),
    as_user: str | None = typer.Option(None, "--as", help="Record the decision as this user (e-mail)."),
) -> None:
    """Accept or reject an imported engagement invitation; print the request body to send AWS."""
    if decision not in ("accept", "reject"):
        err.print("The decision must be 'accept' or 'reject'.", style="red")
        raise typer.Exit(2)
    _setup()
    from covey.interchange import ace, services
    from covey.interchange.models import EngagementInvitation

    invitation = EngagementInvitation.objects.filter(identifier=invitation_id.strip()).first()
    if invitation is None:
        _fail(f"No imported engagement invitation {invitation_id!r}; import it with 'covey ace import' first.")
    try:
        answer = services.invitation_decide(invitation=invitation, accept=decision == "accept",
                                            actor=_actor(as_user), reason=reason)
    except (services.ImportRefused, ace.AceError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps(answer, indent=2))


@referrals_app.command("export")
def referrals_export(
    opp_id: str = typer.Argument(..., help="The opportunity's public id (opp_…)."),
    out: Path | None = typer.Option(None, "--out", help="Write the JSON here instead of standard output."),  # noqa: B008
) -> None:
    """The opportunity as a Microsoft Partner Center referral."""
    _setup()
    from covey.interchange import referrals, services

    try:
        body = services.referral_export(opportunity=_opportunity(opp_id))
    except referrals.ReferralError as exc:
        _fail(str(exc))
    _write(referrals.dumps(body), out)


@referrals_app.command("import")
def referrals_import(
    file: Path = typer.Argument(..., help="Referral object(s), JSON."),  # noqa: B008
    as_user: str | None = typer.Option(None, "--as", help="Record the changes as this user (e-mail)."),
) -> None:
    """Update or create opportunities from referrals; illegal status transitions refuse the file."""
    _setup()
    from covey.interchange import services

    raw = _read(file)
    try:
        report = services.referrals_import(raw=raw, actor=_actor(as_user))
    except services.ImportRefused as exc:
        _fail(f"Nothing imported: {exc}")
    _print_report(report)
