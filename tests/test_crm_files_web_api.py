"""CRM files from the pages and the API (the CLI's are in test_crm_roundtrip.py): the export menu's
formats, the deals' partner links out and in, and over the API every kind in every format exported
and imported again without a change; bad files answer 422 with the report and write nothing."""

from __future__ import annotations

import base64
import csv
import io
import json

import pytest
from django.urls import reverse

from covey.crm.models import Account, Opportunity, OpportunityPartner
from tests.test_api import as_user, assert_error

pytestmark = pytest.mark.django_db
FORMATS = ("generic", "salesforce", "hubspot", "sf-tree")
KINDS = ("accounts", "opportunities", "opportunity-partners")


def _body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def _everything() -> tuple:
    return (list(Account.objects.order_by("pk").values()), list(Opportunity.objects.order_by("pk").values()),
            list(OpportunityPartner.objects.order_by("pk").values()))


# --- the pages ------------------------------------------------------------------------------------


def test_the_export_menu_offers_every_format_and_the_partner_links(world, login):
    page = login(world.sales_rep).get(reverse("opportunity_list")).content.decode()
    for fmt in ("salesforce", "sf-tree", "hubspot"):
        assert f"{reverse('opportunity_export')}?fmt={fmt}" in page
        assert f"{reverse('opportunity_partner_export')}?fmt={fmt}" in page
    assert reverse("opportunity_partner_import") in page
    partner_page = login(world.a_rep).get(reverse("opportunity_list")).content.decode()
    assert "sf-tree" not in partner_page and reverse("opportunity_partner_export") not in partner_page


def test_the_data_tree_and_the_partner_links_follow_the_list_filters(world, login):
    client = login(world.vendor_admin)
    tree = client.get(reverse("opportunity_export"), {"fmt": "sf-tree", "q": "Deal A"})
    assert tree["Content-Type"] == "application/json" and tree["Content-Disposition"].endswith('.json"')
    records = json.loads(_body(tree))["records"]
    assert [r["Name"] for r in records] == ["Deal A"] and records[0]["attributes"]["type"] == "Opportunity"

    links = client.get(reverse("opportunity_partner_export"), {"fmt": "salesforce", "q": "Deal B"})
    assert links["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(_body(links))))
    assert rows == [{"OpportunityId": world.opportunity_b.public_id, "AccountToId": world.partner_b.public_id,
                     "Role": "VAR/Reseller", "IsPrimary": "1"}]
    assert login(world.a_admin).get(reverse("opportunity_partner_export")).status_code == 404


def test_importing_partner_links_on_the_page_adds_them_and_a_bad_row_imports_nothing(world, login):
    client = login(world.partner_manager)
    assert "Import valid rows only" not in client.get(reverse("opportunity_partner_import")).content.decode()
    good = io.BytesIO(f"opportunity_external_id,partner_id,role,is_primary\n"
                      f"{world.opportunity_b.public_id},{world.partner_a.public_id},integrator,false\n".encode())
    good.name = "links.csv"
    page = client.post(reverse("opportunity_partner_import"), {"file": good, "format": "auto"}).content.decode()
    assert "Import finished" in page and "Opportunity partners" in page
    assert OpportunityPartner.objects.filter(opportunity=world.opportunity_b, partner=world.partner_a, role="integrator").exists()

    before = _everything()
    bad = io.BytesIO(f"opportunity_external_id,partner_id,role,is_primary\n"
                     f"{world.opportunity_a.public_id},{world.partner_b.public_id},broker,false\n"
                     f"OPP-NOWHERE,{world.partner_b.public_id},reseller,false\n".encode())
    bad.name = "bad.csv"
    page = client.post(reverse("opportunity_partner_import"), {"file": bad, "format": "generic"}).content.decode()
    assert "Nothing was imported" in page and "Row 2" in page and "OPP-NOWHERE" in page
    assert _everything() == before


# --- the API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_kind_exported_over_the_api_imports_again_without_a_change(world, fmt):
    admin = as_user(world.vendor_admin)
    before = _everything()
    for kind in KINDS:
        exported = admin.get(f"/api/exports/{kind}", {"fmt": fmt})
        assert exported.status_code == 200
        assert exported["Content-Type"].startswith("application/json" if fmt == "sf-tree" else "text/csv")
        answer = admin.post(f"/api/imports/{kind}", {"content": _body(exported), "format": fmt, "filename": f"{kind}.txt"})
        assert answer.status_code == 200, answer.content[:500]
        report = answer.json()
        assert report["applied"] and report["errors"] == [] and report["format"] == fmt
        counts = list(report["counts"].values())
        assert sum(c["unchanged"] for c in counts) == 2 and sum(c["created"] + c["updated"] for c in counts) == 0
    assert _everything() == before


def test_a_partner_exports_only_what_it_sees(world):
    body = _body(as_user(world.a_rep).get("/api/exports/opportunities", {"fmt": "hubspot"}))
    assert "Deal A" in body and "Deal B" not in body
    assert_error(as_user(world.a_rep).get("/api/exports/opportunity-partners"), 404, "not_found")


def test_an_import_over_the_api_creates_and_reports(world):
    rep = as_user(world.sales_rep)
    csv_text = ("external_id,name,account_external_id,stage,close_date,amount,currency\n"
                f"OPP-NEW,Fresh deal,{world.opportunity_a.account.public_id},Prospecting,2027-01-31,1200.50,EUR\n")
    report = rep.post("/api/imports/opportunities", {"content": csv_text}).json()
    assert report["counts"]["opportunities"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    fresh = Opportunity.objects.get(external_id="OPP-NEW")
    assert (fresh.amount_minor, fresh.currency, fresh.account) == (120_050, "EUR", world.opportunity_a.account)

    latin = "external_id,name\nACC-CP,Café Müller\n".encode("cp1252")
    answer = rep.post("/api/imports/accounts", {"content_base64": base64.b64encode(latin).decode(), "encoding": "cp1252"})
    assert answer.status_code == 200 and Account.objects.get(external_id="ACC-CP").name == "Café Müller"


def test_bad_files_answer_422_with_the_report_and_write_nothing(world, settings):
    rep = as_user(world.sales_rep)
    before = _everything()
    bad_rows = ("external_id,name,account_external_id,stage,close_date\n"
                f"OPP-OK,Fine,{world.opportunity_a.account.public_id},Prospecting,2027-01-31\n"
                "OPP-BAD,Broken,ACC-NOWHERE,Prospecting,not-a-date\n")
    body = assert_error(rep.post("/api/imports/opportunities", {"content": bad_rows}), 422, "validation_error", "content")
    assert "Nothing was imported" in body["detail"] and not body["report"]["applied"]
    assert {e["where"] for e in body["report"]["errors"]} == {"row 3"}
    assert _everything() == before

    partial = rep.post("/api/imports/opportunities", {"content": bad_rows, "skip_invalid": True}).json()
    assert partial["counts"]["opportunities"]["created"] == 1 and partial["counts"]["opportunities"]["rejected"] == 1
    after_partial = _everything()

    assert_error(rep.post("/api/imports/opportunity-partners", {"content": "x", "skip_invalid": True}),
                 422, "validation_error", "skip_invalid")
    assert_error(rep.post("/api/imports/accounts", {"content": "a", "content_base64": "YQ=="}), 422, "validation_error", "content")
    assert_error(rep.post("/api/imports/accounts", {"content_base64": "not base64!"}), 422, "validation_error", "content_base64")
    assert_error(rep.post("/api/imports/accounts", {"content": ""}), 422, "validation_error", "content")
    assert_error(rep.post("/api/imports/accounts", {"content": "{not json", "format": "sf-tree"}), 422, "validation_error")
    assert_error(rep.post("/api/imports/accounts", {"content": "external_id,name\n", "format": "excel"}), 422, "validation_error")
    assert_error(rep.post("/api/imports/contacts", {"content": "external_id,name\n"}), 422, "validation_error")
    assert_error(rep.get("/api/exports/accounts", {"fmt": "xlsx"}), 422, "validation_error")
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    assert_error(rep.post("/api/imports/accounts", {"content": "external_id,name\n" + "ACC-X,Big Co\n" * 20}), 413, "too_large")
    assert_error(as_user(world.finance).post("/api/imports/accounts", {"content": "external_id,name\nA,B\n"}), 403, "forbidden")
    assert _everything() == after_partial
