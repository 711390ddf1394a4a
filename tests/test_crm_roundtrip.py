"""CRM round trips: export → wipe → import → export gives the same files and the same records.

Accounts, opportunities and opportunity partners, in Salesforce (CSV and data tree), HubSpot and
the generic format.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from typer.testing import CliRunner

from covey.crm.models import (
    Account,
    Activity,
    DealEvent,
    Opportunity,
    OpportunityLine,
    OpportunityPartner,
    OpportunityType,
    PartnerInvolvement,
    Stage,
)
from covey.crm.partner_links import import_partner_links, write_partner_links

FORMATS = ["salesforce-csv", "salesforce-tree", "hubspot", "generic"]
KINDS = ["accounts", "opportunities", "opportunity-partners"]


@pytest.fixture
def book(world):
    """Every field filled somewhere (and left empty elsewhere), every stage, type and partner role."""
    w = world
    accounts = [
        Account.objects.create(
            name='=HYPERLINK("http://x.example")', external_id="001A", domain="alpha.example",
            website="https://www.alpha.example", industry="Software", region="emea", country="DE", city="Köln",
            phone="+49 221 5550100", segment="enterprise", employees=1200, status="customer", owner=w.sales_rep,
            description='Two lines,\nwith "quotes" 🦊',
        ),
        Account.objects.create(name="شركة الواحة", status="former", country="AE", website="https://oasis.example"),
        Account.objects.create(name="Gamma KK", external_id="0015", region="apac", segment="smb", employees=0),
        w.account_a,
    ]
    roles = list(PartnerInvolvement.values)
    for i, stage in enumerate(Stage):
        currency, minor = [("USD", 4_800_001), ("EUR", 1), ("JPY", 500_000), ("KWD", 1_234), ("USD", 0)][i % 5]
        opp = Opportunity.objects.create(
            name=f"{stage.label} deal {i}", account=accounts[i % 4], stage=stage,
            type=list(OpportunityType.values)[i % 3], amount_minor=minor, currency=currency,
            close_date=date(2026, 1 + i, 3 + i), external_id=f"006-{i}" if i % 3 else None,
            lost_reason="Went with a spreadsheet" if stage == Stage.CLOSED_LOST else "",
            lead_source="Partner" if i % 2 else "", owner=w.sales_rep if i % 2 else None,
            description="=SUM(A1:A9)" if i == 4 else "", campaign_code="MDF-26-Q1" if i % 4 == 1 else "",
        )
        OpportunityPartner.objects.create(opportunity=opp, partner=w.partner_a, role=roles[i % 7], is_primary=i % 2 == 0)
        if i % 3 == 0:
            OpportunityPartner.objects.create(opportunity=opp, partner=w.partner_b, role=roles[(i + 3) % 7])
    return w


def export(kind: str, fmt: str) -> str:
    from covey.crm.exports import write_csv

    out = io.StringIO()
    if kind == "opportunity-partners":
        write_partner_links(OpportunityPartner.objects.all(), out, fmt)
    else:
        write_csv(kind, (Account if kind == "accounts" else Opportunity).objects.order_by("pk"), out, fmt)
    return out.getvalue()


def key(external_id, public_id) -> str:
    return external_id or public_id


def snapshot() -> dict:
    """Every field Covey holds, keyed by the ids the files carry (pks and public ids are new after a wipe)."""
    skip = {"id", "public_id", "external_id", "created_at", "updated_at", "stage_changed_at"}
    accounts = {key(a["external_id"], a["public_id"]): {k: v for k, v in a.items() if k not in skip}
                for a in Account.objects.values()}
    opportunities = {}
    for o in Opportunity.objects.values(*[f.attname for f in Opportunity._meta.concrete_fields],
                                        "account__external_id", "account__public_id"):
        fields = {k: v for k, v in o.items() if k not in skip | {"account_id", "account__external_id", "account__public_id"}}
        fields["account"] = key(o["account__external_id"], o["account__public_id"])
        opportunities[key(o["external_id"], o["public_id"])] = fields
    links = sorted(
        (key(e, p), partner, role, primary)
        for e, p, partner, role, primary in OpportunityPartner.objects.values_list(
            "opportunity__external_id", "opportunity__public_id", "partner__public_id", "role", "is_primary")
    )
    return {"accounts": accounts, "opportunities": opportunities, "links": links}


def wipe() -> None:
    for model in (OpportunityPartner, OpportunityLine, Activity, DealEvent, Opportunity, Account):
        model.objects.all().delete()


def run(*args: str):
    from covey.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_wipe_import_export_gives_identical_files_and_records(book, tmp_path, fmt):
    suffix = "json" if fmt == "salesforce-tree" else "csv"
    files = {kind: tmp_path / f"{kind}.{suffix}" for kind in KINDS}
    for kind, path in files.items():
        result = run("export", kind, "--format", fmt, "--out", str(path))
        assert result.exit_code == 0, result.output
    first = {kind: path.read_bytes().decode("utf-8") for kind, path in files.items()}
    before = snapshot()
    assert len(before["links"]) == 16 and len(before["opportunities"]) == 12

    wipe()
    assert not Account.objects.exists()
    for kind, path in files.items():
        result = run("import", kind, str(path), "--format", fmt)
        assert result.exit_code == 0, result.output

    assert {kind: export(kind, fmt) for kind in KINDS} == first
    assert snapshot() == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_importing_an_export_again_changes_nothing(book, tmp_path, fmt):
    path = tmp_path / "partners.txt"
    path.write_text(export("opportunity-partners", fmt), encoding="utf-8")
    before = snapshot()

    report = import_partner_links(path)  # the format is recognised by itself

    assert report.ok and report.applied, [str(e) for e in report.errors]
    assert (report.counts["opportunity_partners"].unchanged, report.counts["opportunity_partners"].created) == (16, 0)
    assert snapshot() == before


def test_the_salesforce_files_use_api_names_custom_fields_and_partner_roles(book):
    accounts = {a["Id"]: a for a in csv.DictReader(io.StringIO(export("accounts", "salesforce-csv")))}
    assert accounts["001A"]["Domain__c"] == "alpha.example" and accounts["001A"]["Region__c"] == "emea"
    assert accounts["001A"]["Owner.Email"] == book.sales_rep.email and accounts["001A"]["BillingCountry"] == "Germany"
    partners = list(csv.DictReader(io.StringIO(export("opportunity-partners", "salesforce-csv"))))
    assert list(partners[0]) == ["OpportunityId", "AccountToId", "Role", "IsPrimary"]
    assert {p["Role"] for p in partners} == {
        "Sourced", "Referral", "VAR/Reseller", "Distributor", "System Integrator", "Developer", "Consultant",
    }
    tree = json.loads(export("opportunity-partners", "salesforce-tree"))
    first = tree["records"][0]
    assert first["attributes"] == {"type": "Partner", "referenceId": "PartnerRef1"}
    assert first["OpportunityId"].startswith("@") and first["IsPrimary"] is True


def test_the_hubspot_partner_file_marks_the_primary_with_hubspots_label(book):
    rows = list(csv.DictReader(io.StringIO(export("opportunity-partners", "hubspot"))))
    assert list(rows[0]) == ["Deal Record ID", "Company Record ID", "Association labels"]
    labels = {r["Association labels"] for r in rows}
    assert {"Reseller;Primary", "Sourced;Primary", "Distributor", "Technology"} <= labels


def test_hubspot_internal_property_names_are_read(cast, tmp_path):
    companies = tmp_path / "companies.csv"
    companies.write_text("hs_object_id,name,domain,lifecyclestage\n9001,Initech,initech.example,customer\n", encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "hs_object_id,dealname,dealstage,amount,deal_currency_code,closedate,Associated Company IDs\n"
        "77,Initech renewal,contractsent,1200.50,EUR,2026-05-01,9001\n", encoding="utf-8",
    )
    assert run("import", "accounts", str(companies), "--format", "hubspot").exit_code == 0
    result = run("import", "opportunities", str(deals), "--format", "hubspot")

    assert result.exit_code == 0, result.output
    deal = Opportunity.objects.get(external_id="77")
    assert (deal.stage, deal.amount_minor, deal.currency, deal.account.domain) == ("Negotiation/Review", 120_050, "EUR", "initech.example")


def test_a_bad_partner_file_is_reported_row_by_row_and_nothing_is_written(book, tmp_path):
    opp = Opportunity.objects.filter(external_id__isnull=False).first()
    path = tmp_path / "partners.csv"
    path.write_text(
        "OpportunityId,AccountToId,Role,IsPrimary\n"
        f"{opp.external_id},{book.partner_b.public_id},System Integrator,1\n"  # good on its own
        f"006-missing,{book.partner_a.public_id},VAR/Reseller,0\n"
        f"{opp.external_id},ptn_nobody,VAR/Reseller,0\n"
        f"{opp.external_id},{book.partner_a.public_id},Lender,maybe\n",
        encoding="utf-8",
    )
    before = snapshot()

    result = run("import", "opportunity-partners", str(path))

    assert result.exit_code == 1
    report = import_partner_links(path)
    problems = [(e.row, e.column) for e in report.errors]
    assert problems == [(3, "OpportunityId"), (4, "AccountToId"), (5, "Role"), (5, "IsPrimary")]
    assert "no opportunity with the id '006-missing'" in report.errors[0].message
    assert "Lender" in report.errors[2].message and "VAR/Reseller" in report.errors[2].message
    assert snapshot() == before


def test_two_primaries_on_one_deal_are_refused(book, tmp_path):
    opp = Opportunity.objects.filter(external_id__isnull=False).first()
    path = tmp_path / "partners.csv"
    path.write_text(
        "opportunity_external_id,partner_id,role,is_primary\n"
        f"{opp.external_id},{book.partner_a.public_id},reseller,true\n"
        f"{opp.external_id},{book.partner_b.public_id},referral,true\n",
        encoding="utf-8",
    )
    report = import_partner_links(path)
    assert [e.column for e in report.errors] == ["is_primary", "is_primary"] and not report.applied


def test_a_new_primary_from_a_file_demotes_the_old_one(book, tmp_path):
    opp = OpportunityPartner.objects.filter(partner=book.partner_a, is_primary=True).first().opportunity
    path = tmp_path / "partners.csv"
    ident = opp.external_id or opp.public_id
    path.write_text(
        f"Deal Record ID,Company Record ID,Association labels\n{ident},{book.partner_b.public_id},Referral;Primary\n",
        encoding="utf-8",
    )
    report = import_partner_links(path)

    assert report.applied, [str(e) for e in report.errors]
    assert list(opp.partner_links.values_list("partner__public_id", "is_primary").order_by("-is_primary")) == [
        (book.partner_b.public_id, True), (book.partner_a.public_id, False),
    ]
