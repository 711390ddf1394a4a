"""Exporting accounts and opportunities, and getting the same data back by importing the export."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from covey.core.models import AuditEvent
from covey.crm.exports import write_csv, write_tree
from covey.crm.formats import ACCOUNT_FIELDS, OPPORTUNITY_FIELDS
from covey.crm.imports import import_records
from covey.crm.models import Account, Opportunity, OpportunityType, Stage


@pytest.fixture
def book(world):
    """The world's two deals plus records that stress every column: formulas, scripts, currencies, stages."""
    w = world
    w.formula = Account.objects.create(
        name='=HYPERLINK("http://evil.example","Click")', external_id="SF-001", domain="formula.example",
        website="https://www.formula.example", industry="-Software", region="emea", country="DE", city="Köln",
        phone="+49 221 5550100", segment="enterprise", employees=12, status="customer", owner=w.sales_rep,
        description='Two lines,\nwith "quotes" and an emoji 🦊',
    )
    w.arabic = Account.objects.create(name="شركة الواحة", external_id="حساب-7", status="former", country="AE", city="دبي")
    w.sql = Account.objects.create(name="1;DROP TABLE users", industry="@home", country="XK", employees=0)
    accounts = [w.formula, w.arabic, w.sql, w.account_a]
    currencies = [("USD", 4_800_000), ("EUR", 1), ("JPY", 500_000), ("KWD", 1_234), ("USD", 0)]
    types = list(OpportunityType.values)
    for i, stage in enumerate(Stage):
        currency, minor = currencies[i % len(currencies)]
        Opportunity.objects.create(
            name=f"{stage.label} deal {'🚀' if i % 2 else 'עסקה'}", account=accounts[i % len(accounts)],
            stage=stage, type=types[i % 3], amount_minor=minor, currency=currency,
            close_date=date(2026, 1 + i, 10 + i), external_id=f"OPP-{i}" if i % 3 else None,
            lost_reason="Went with a spreadsheet" if stage == Stage.CLOSED_LOST else "",
            lead_source="Partner" if i % 2 else "", owner=w.sales_rep if i % 2 else None,
            description="=SUM(A1:A9)" if i == 4 else "",
        )
    return w


def db_state():
    return (
        list(Account.objects.order_by("pk").values()),
        list(Opportunity.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


def exported(kind: str, fmt: str = "generic", queryset=None) -> str:
    model = Account if kind == "accounts" else Opportunity
    out = io.StringIO()
    write_csv(kind, queryset if queryset is not None else model.objects.order_by("pk"), out, fmt)
    return out.getvalue()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("fmt", ["generic", "salesforce", "hubspot", "sf-tree"])
def test_an_export_imported_again_changes_nothing(book, tmp_path, fmt):
    suffix = "json" if fmt == "sf-tree" else "csv"
    accounts_file = tmp_path / f"accounts.{suffix}"
    opportunities_file = tmp_path / f"opportunities.{suffix}"
    accounts_file.write_text(exported("accounts", fmt), encoding="utf-8")
    opportunities_file.write_text(exported("opportunities", fmt), encoding="utf-8")
    before = db_state()

    accounts = import_records("accounts", accounts_file, fmt=fmt)
    opportunities = import_records("opportunities", opportunities_file)  # format recognised by itself

    assert accounts.ok and opportunities.ok, [str(e) for e in accounts.errors + opportunities.errors]
    assert opportunities.fmt == fmt
    assert accounts.counts["accounts"].unchanged == Account.objects.count() == 5
    assert opportunities.counts["opportunities"].unchanged == Opportunity.objects.count() == 12
    assert db_state() == before  # no new rows, no changed values, no new audit events


def test_the_generic_export_has_the_documented_columns_and_exact_amounts(book):
    text = exported("opportunities")

    assert text.splitlines()[0] == ",".join(OPPORTUNITY_FIELDS)
    assert exported("accounts").splitlines()[0] == ",".join(ACCOUNT_FIELDS)
    amounts = {(r["currency"], r["amount"]) for r in rows(text)}
    assert {("USD", "48000.00"), ("EUR", "0.01"), ("JPY", "500000"), ("KWD", "1.234"), ("USD", "0.00")} <= amounts


def test_text_cells_are_neutralised_against_formulas_but_numbers_stay_numbers(book):
    formula = next(r for r in rows(exported("accounts")) if r["external_id"] == "SF-001")

    assert formula["name"] == "'=HYPERLINK(\"http://evil.example\",\"Click\")"
    assert formula["phone"] == "'+49 221 5550100"
    assert formula["industry"] == "'-Software"
    assert formula["employees"] == "12"
    assert formula["description"] == 'Two lines,\nwith "quotes" and an emoji 🦊'
    deal = next(r for r in rows(exported("opportunities")) if r["description"])
    assert deal["description"] == "'=SUM(A1:A9)"
    assert all(not r["amount"].startswith("'") for r in rows(exported("opportunities")))


def test_a_record_without_an_external_id_is_exported_under_its_public_id(book):
    exported_ids = {r["external_id"] for r in rows(exported("accounts"))}

    assert book.account_a.public_id in exported_ids and "SF-001" in exported_ids
    deal_a = next(r for r in rows(exported("opportunities")) if r["name"] == "Deal A")
    assert (deal_a["external_id"], deal_a["account_external_id"]) == (book.opportunity_a.public_id, book.account_a.public_id)


def test_the_salesforce_export_uses_api_names_and_salesforce_values(book):
    account = next(r for r in rows(exported("accounts", "salesforce")) if r["Id"] == "SF-001")
    assert (account["Type"], account["BillingCountry"]) == ("Customer - Direct", "Germany")
    former = next(r for r in rows(exported("accounts", "salesforce")) if r["Id"] == "حساب-7")
    assert (former["Type"], former["BillingCountry"]) == ("Former Customer", "United Arab Emirates")
    deals = rows(exported("opportunities", "salesforce"))
    assert {d["Type"] for d in deals} == {"New Customer", "Existing Customer - Upgrade", "Renewal"}
    assert {d["StageName"] for d in deals} == set(Stage.values)


def test_the_hubspot_export_uses_the_default_pipeline_where_it_has_the_stage(book):
    deals = rows(exported("opportunities", "hubspot"))
    stages = {d["Deal Stage"] for d in deals}

    assert {"Appointment Scheduled", "Qualified To Buy", "Contract Sent", "Closed Won"} <= stages
    assert "Needs Analysis" in stages  # no HubSpot default: the Salesforce name, which imports back
    assert {d["Deal Type"] for d in deals} == {"newbusiness", "existingbusiness", "renewal"}
    companies = {c["Record ID"]: c for c in rows(exported("accounts", "hubspot"))}
    assert companies["SF-001"]["Lifecycle Stage"] == "customer"
    assert companies["حساب-7"]["Lifecycle Stage"] == "former customer"


def test_the_data_tree_export_has_the_shape_sf_data_tree_writes(book):
    out = io.StringIO()
    count = write_tree("opportunities", Opportunity.objects.order_by("pk"), out)
    doc = json.loads(out.getvalue(), parse_float=Decimal)

    assert count == len(doc["records"]) == 12
    first = doc["records"][0]
    assert first["attributes"] == {"type": "Opportunity", "referenceId": book.opportunity_a.public_id}
    assert first["AccountId"] == "@" + book.account_a.public_id
    assert first["Amount"] == Decimal("24000.00") and first["CloseDate"] == "2026-12-15"
    assert "Description" not in first  # empty fields are left out, as Salesforce does
    kwd = next(r for r in doc["records"] if r.get("CurrencyIsoCode") == "KWD")
    assert kwd["Amount"] == Decimal("1.234")


def test_a_partner_users_export_holds_only_its_own_deals(book):
    for user, deal in ((book.a_rep, "Deal A"), (book.b_rep, "Deal B")):
        text = exported("opportunities", queryset=Opportunity.objects.visible_to(user))
        assert [r["name"] for r in rows(text)] == [deal]


def run(*args: str):
    from covey.cli import app

    return CliRunner().invoke(app, list(args))


def test_covey_export_writes_to_standard_output(book):
    result = run("export", "opportunities", "--format", "salesforce")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("Id,Name,AccountId,StageName")
    assert len(rows(result.stdout)) == 12


def test_covey_export_writes_a_file_that_covey_import_reads_back_unchanged(book, tmp_path):
    out = tmp_path / "accounts.json"
    result = run("export", "accounts", "--format", "sf-tree", "--out", str(out))
    before = db_state()

    assert result.exit_code == 0 and "Exported 5 accounts" in result.stdout
    again = run("import", "accounts", str(out))
    assert again.exit_code == 0, again.output
    assert db_state() == before


def test_covey_export_refuses_an_unknown_format(book):
    result = run("export", "accounts", "--format", "xlsx")

    assert result.exit_code == 2 and "Unknown format" in result.output
