"""Importing accounts and opportunities: Salesforce data trees and CSVs, HubSpot, generic; bad input."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from covey.core.models import AuditEvent, User
from covey.crm import formats
from covey.crm.imports import EMPTY_FILE, NO_ROWS, import_records
from covey.crm.models import Account, Opportunity, Stage

FIXTURES = Path(__file__).parent / "fixtures" / "crm"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def db_state():
    """Everything an import could change, to prove a refused import changed nothing."""
    return (
        list(Account.objects.order_by("pk").values()),
        list(Opportunity.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


def messages(report) -> str:
    return "\n".join(str(e) for e in report.errors)


GENERIC_OPPS_HEADER = "external_id,name,account_external_id,stage,type,amount,currency,close_date\n"


@pytest.fixture
def acme(cast):
    """An account in Covey that generic opportunity files can point to."""
    return Account.objects.create(name="Acme Corp", external_id="ACC-1")


# --- the worked example: a Salesforce data tree ----------------------------------------------


def test_salesforce_data_tree_plan_imports_accounts_and_their_linked_opportunities(cast):
    users_before = User.objects.count()

    report = import_records("opportunities", FIXTURES / "plan.json", actor=cast.sales_rep)

    assert report.ok, messages(report)
    assert report.fmt == "sf-tree"
    assert (report.counts["accounts"].created, report.counts["opportunities"].created) == (4, 5)
    assert Account.objects.count() == 4 and Opportunity.objects.count() == 5
    amounts = Opportunity.objects.values_list("amount_minor", "currency")
    assert sum(minor for minor, _ in amounts) == 6_884_174  # 48,000.00 + 12,500.50 + 990 + 7,350.25 + 0.99
    assert {currency for _, currency in amounts} == {"USD"}  # no CurrencyIsoCode: the base currency

    by_name = {o.name: o for o in Opportunity.objects.select_related("account")}
    assert by_name["Northwind platform rollout 🚀"].account.name == "Northwind Analytics 🚀"
    assert by_name["Northwind analytics add-on"].account.external_id == "AccountRef1"
    assert by_name["توسعة المنصة"].account.name == "شركة الواحة للتقنية"
    assert by_name["הרחבת רישוי"].account.name == "מערכות גליל בע״מ"
    assert by_name["1;DROP TABLE users"].account.name == "1;DROP TABLE users"
    assert by_name["1;DROP TABLE users"].type == "renewal"
    assert by_name["توسعة المنصة"].type == "expansion"
    assert by_name["הרחבת רישוי"].stage == Stage.CLOSED_LOST
    assert User.objects.count() == users_before  # the table is still there, and untouched

    northwind = Account.objects.get(external_id="AccountRef1")
    assert (northwind.status, northwind.country, northwind.city, northwind.employees) == ("customer", "DE", "Berlin", 420)
    assert northwind.domain == "northwind-analytics.example"  # taken from the website
    assert Account.objects.get(external_id="AccountRef2").country == "AE"
    assert Account.objects.get(external_id="AccountRef2").city == "دبي"
    assert Account.objects.get(external_id="AccountRef3").status == "prospect"  # a "Technology Partner"

    events = AuditEvent.objects.filter(source="import")
    assert events.count() == 9
    assert set(events.values_list("action", flat=True)) == {"create"}
    assert set(events.values_list("actor_id", flat=True)) == {cast.sales_rep.pk}


def test_data_tree_files_imported_one_after_the_other_link_through_the_reference_ids(cast):
    accounts = import_records("accounts", FIXTURES / "Accounts.json")
    opportunities = import_records("opportunities", FIXTURES / "Opportunities.json")

    assert accounts.ok and opportunities.ok, messages(opportunities)
    assert opportunities.counts["opportunities"].created == 5
    assert Opportunity.objects.get(external_id="OpportunityRef4").account.external_id == "AccountRef4"


def test_importing_the_same_file_again_changes_nothing_and_records_nothing(cast):
    import_records("accounts", FIXTURES / "plan.json")
    before = db_state()

    again = import_records("accounts", FIXTURES / "plan.json")

    assert again.ok
    assert (again.counts["accounts"].unchanged, again.counts["opportunities"].unchanged) == (4, 5)
    assert again.total.created == again.total.updated == 0
    assert db_state() == before


def test_a_changed_row_updates_its_record_and_audits_only_what_changed(cast, tmp_path):
    import_records("accounts", FIXTURES / "plan.json")
    doc = json.loads((FIXTURES / "Opportunities.json").read_text())
    doc["records"][0]["StageName"] = "Negotiation/Review"
    doc["records"][0]["Amount"] = 50000
    path = write(tmp_path, "Opportunities.json", json.dumps(doc))

    report = import_records("opportunities", path, actor=cast.sales_rep)

    assert (report.counts["opportunities"].updated, report.counts["opportunities"].unchanged) == (1, 4)
    opp = Opportunity.objects.get(external_id="OpportunityRef1")
    assert (opp.stage, opp.amount_minor) == ("Negotiation/Review", 5_000_000)
    event = AuditEvent.objects.get(action="update", object_id=opp.public_id)
    assert event.changes == {"stage": ["Closed Won", "Negotiation/Review"], "amount_minor": [4_800_000, 5_000_000]}
    assert event.source == "import"


UPDATE_EVERY_FIELD = (
    "external_id,name,account_external_id,stage,type,amount,currency,close_date,lost_reason,lead_source,description,owner_email\n"
    "O-1,Renamed ✓,ACC-2,Closed Lost,renewal,0.5,EUR,2027-02-28,Price,Web,\"Long\nstory\",\n"
)


def _deal_to_update(cast):
    first = Account.objects.create(name="First", external_id="ACC-1", employees=10, owner=cast.sales_rep)
    Account.objects.create(name="Second", external_id="ACC-2")
    return Opportunity.objects.create(
        name="Deal", account=first, stage="Prospecting", type="new", amount_minor=100, currency="USD",
        close_date=date(2026, 1, 31), external_id="O-1", owner=cast.sales_rep,
    )


def test_an_update_can_change_every_kind_of_field(cast, tmp_path):
    deal = _deal_to_update(cast)

    report = import_records("opportunities", write(tmp_path, "o.csv", UPDATE_EVERY_FIELD), actor=cast.vendor_admin)

    assert report.counts["opportunities"].updated == 1, messages(report)
    deal.refresh_from_db()
    assert (deal.name, deal.account.name, deal.stage, deal.type) == ("Renamed ✓", "Second", "Closed Lost", "renewal")
    assert (deal.amount_minor, deal.currency, deal.close_date, deal.owner) == (50, "EUR", date(2027, 2, 28), None)
    assert (deal.lost_reason, deal.lead_source, deal.description) == ("Price", "Web", "Long\nstory")
    changes = AuditEvent.objects.get(action="update", object_id=deal.public_id).changes
    assert changes["account"] == ["First", "Second"] and changes["owner"] == ["rep@acmecloud.example", None]
    assert changes["close_date"] == ["2026-01-31", "2027-02-28"]


def test_updates_also_work_where_sqlite_is_too_old_for_update_from(cast, tmp_path, monkeypatch):
    from covey.crm import imports

    monkeypatch.setattr(imports, "_can_update_from", lambda: False)
    deal = _deal_to_update(cast)

    import_records("opportunities", write(tmp_path, "o.csv", UPDATE_EVERY_FIELD))

    deal.refresh_from_db()
    assert (deal.name, deal.account.name, deal.amount_minor, deal.owner) == ("Renamed ✓", "Second", 50, None)


def test_accounts_updated_with_an_owner_and_employees_keep_their_types(cast, tmp_path):
    account = Account.objects.create(name="Co", external_id="A-1")
    path = write(tmp_path, "a.csv", "external_id,name,owner_email,employees,status\nA-1,Co,pm@acmecloud.example,\"2,500\",former\n")

    import_records("accounts", path)

    account.refresh_from_db()
    assert (account.owner, account.employees, account.status) == (cast.partner_manager, 2500, "former")


def test_opportunities_nested_under_an_account_belong_to_it(cast, tmp_path):
    doc = {"records": [{
        "attributes": {"type": "Account", "referenceId": "AccountRef1"}, "Name": "Parent Co",
        "Opportunities": {"records": [{
            "attributes": {"type": "Opportunity", "referenceId": "OpportunityRef1"},
            "Name": "Child deal", "StageName": "Qualification", "CloseDate": "2026-02-01", "Amount": 10,
        }]},
    }]}
    report = import_records("accounts", write(tmp_path, "tree.json", json.dumps(doc)))

    assert report.ok, messages(report)
    assert Opportunity.objects.get().account == Account.objects.get(name="Parent Co")


def test_a_data_tree_Id_field_is_the_external_id_and_the_reference_still_links(cast, tmp_path):
    doc = {"records": [
        {"attributes": {"type": "Account", "referenceId": "AccountRef1"}, "Id": "001A000001", "Name": "Has Id"},
        {"attributes": {"type": "Opportunity", "referenceId": "OpportunityRef1"}, "AccountId": "@AccountRef1",
         "Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-01-31"},
    ]}
    report = import_records("accounts", write(tmp_path, "mixed.json", json.dumps(doc)))

    assert report.ok, messages(report)
    assert Opportunity.objects.get().account.external_id == "001A000001"


def test_other_salesforce_objects_in_a_tree_are_skipped_with_a_warning(cast, tmp_path):
    doc = {"records": [
        {"attributes": {"type": "Account", "referenceId": "AccountRef1"}, "Name": "Kept"},
        {"attributes": {"type": "Contact", "referenceId": "ContactRef1"}, "LastName": "Skipped"},
    ]}
    report = import_records("accounts", write(tmp_path, "tree.json", json.dumps(doc)))

    assert report.ok and Account.objects.count() == 1
    assert "Skipped 1 Contact record" in report.warnings[0]


def test_the_opportunities_import_refuses_a_file_of_accounts(cast):
    report = import_records("opportunities", FIXTURES / "Accounts.json")

    assert report.failed
    assert "holds no Opportunity records" in messages(report)
    assert "covey import accounts" in messages(report)
    assert Account.objects.count() == 0


def test_a_plan_uploaded_without_its_folder_is_refused_with_advice(cast):
    with open(FIXTURES / "plan.json", "rb") as fh:
        report = import_records("accounts", fh)

    assert report.failed
    assert "upload the data files themselves" in messages(report)


def test_a_data_tree_with_a_broken_reference_names_the_record_and_imports_nothing(cast, tmp_path):
    doc = json.loads((FIXTURES / "Opportunities.json").read_text())
    doc["records"][2]["AccountId"] = "@AccountRef99"
    path = write(tmp_path, "Opportunities.json", json.dumps(doc))
    import_records("accounts", FIXTURES / "Accounts.json")
    before = db_state()

    report = import_records("opportunities", path)

    assert report.failed
    assert [(e.row, e.column) for e in report.errors] == [(3, "AccountId")]
    assert "no account with the id AccountRef99" in report.errors[0].message
    assert db_state() == before


# --- Salesforce and HubSpot CSV --------------------------------------------------------------


def test_salesforce_csv_maps_account_types_countries_and_websites(cast):
    report = import_records("accounts", FIXTURES / "salesforce_accounts.csv")

    assert report.ok, messages(report)
    assert report.fmt == "salesforce"
    lakeside = Account.objects.get(external_id="0015g00000AbCdEAAV")
    assert (lakeside.status, lakeside.country, lakeside.employees) == ("customer", "US", 1200)
    assert lakeside.domain == "lakeside-logistics.example"
    assert lakeside.description == 'Regional 3PL, "white glove" service'
    assert lakeside.phone == "(312) 555-0147"
    fjord = Account.objects.get(external_id="0015g00000AbCdFAAV")
    assert (fjord.status, fjord.country, fjord.domain) == ("prospect", "NO", "fjordfoods.example")
    harbour = Account.objects.get(external_id="0015g00000AbCdGAAV")
    assert (harbour.status, harbour.country, harbour.domain, harbour.employees) == ("former", "GB", "oldharbour.example", None)


def test_salesforce_csv_maps_opportunity_types_stages_and_currencies(cast):
    import_records("accounts", FIXTURES / "salesforce_accounts.csv")

    report = import_records("opportunities", FIXTURES / "salesforce_opportunities.csv")

    assert report.ok, messages(report)
    wms, pilot, renewal = (Opportunity.objects.get(external_id=f"0065g00000XyZ0{i}AAB") for i in (1, 2, 3))
    assert (wms.type, wms.stage, wms.amount_minor, wms.currency) == ("new", "Value Proposition", 6_400_000, "USD")
    assert wms.account.name == "Lakeside Logistics" and wms.lead_source == "Partner"
    assert (pilot.type, pilot.amount_minor, pilot.currency, pilot.lost_reason) == ("expansion", 1_850_000, "NOK", "Budget frozen")
    assert (renewal.type, renewal.amount_minor, renewal.currency) == ("renewal", 0, "USD")
    assert renewal.close_date == date(2026, 8, 31)


def test_a_salesforce_file_leaves_the_fields_it_does_not_carry(cast, tmp_path):
    account = Account.objects.create(
        name="Old name", external_id="001X", region="emea", segment="enterprise", owner=cast.sales_rep, domain="keep.example",
    )
    path = write(tmp_path, "a.csv", "Id,Name,Website\n001X,New name,https://other.example\n")

    report = import_records("accounts", path)

    account.refresh_from_db()
    assert report.counts["accounts"].updated == 1
    assert account.name == "New name" and account.website == "https://other.example"
    assert (account.region, account.segment, account.owner, account.domain) == ("emea", "enterprise", cast.sales_rep, "keep.example")


def test_hubspot_companies_map_lifecycle_stages_and_country_names(cast):
    report = import_records("accounts", FIXTURES / "hubspot_companies.csv")

    assert report.ok, messages(report)
    assert report.fmt == "hubspot"
    brightpath = Account.objects.get(external_id="9011223344")
    assert (brightpath.status, brightpath.country, brightpath.domain, brightpath.phone) == ("customer", "CA", "brightpath.example", "+1 416 555 0100")
    kumo = Account.objects.get(external_id="9011223345")
    assert (kumo.status, kumo.country, kumo.city, kumo.description) == ("prospect", "JP", "大阪", "ロボットアーム")
    assert report.warnings == ["Ignored column Covey does not import: Create Date."]


def test_hubspot_deals_map_the_default_pipeline_to_salesforce_stages(cast):
    import_records("accounts", FIXTURES / "hubspot_companies.csv")

    report = import_records("opportunities", FIXTURES / "hubspot_deals.csv")

    assert report.ok, messages(report)
    rollout, automation, camp = (Opportunity.objects.get(external_id=i) for i in ("1501", "1502", "1503"))
    assert (rollout.stage, rollout.type, rollout.amount_minor, rollout.currency) == ("Value Proposition", "new", 3_600_000, "CAD")
    assert rollout.close_date == date(2026, 4, 30) and rollout.account.name == "Brightpath Learning"
    assert (automation.stage, automation.type, automation.amount_minor, automation.currency) == ("Negotiation/Review", "expansion", 4_200_000, "JPY")
    assert (camp.stage, camp.lost_reason, camp.type) == ("Closed Lost", "Chose a competitor", "new")


def test_a_hubspot_deal_with_several_companies_belongs_to_the_first(cast, tmp_path):
    import_records("accounts", FIXTURES / "hubspot_companies.csv")
    path = write(tmp_path, "deals.csv", (
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Associated Company IDs\n"
        "77,Joint bid,Qualified To Buy,1000,2026-05-01,9011223345;9011223344\n"
    ))
    report = import_records("opportunities", path)

    assert report.ok, messages(report)
    assert Opportunity.objects.get().account.name == "Kumo Robotics"


@pytest.mark.parametrize(("hubspot", "salesforce"), [
    ("Appointment Scheduled", "Prospecting"), ("appointmentscheduled", "Prospecting"),
    ("Qualified To Buy", "Qualification"), ("Presentation Scheduled", "Value Proposition"),
    ("Decision Maker Bought-In", "Id. Decision Makers"), ("Contract Sent", "Negotiation/Review"),
    ("closedwon", "Closed Won"), ("Closed Lost", "Closed Lost"), ("Needs Analysis", "Needs Analysis"),
])
def test_every_hubspot_default_deal_stage_maps_to_a_salesforce_stage(hubspot, salesforce):
    assert formats.HUBSPOT_STAGES.decode(hubspot) == salesforce


def test_every_covey_stage_survives_a_hubspot_round_trip():
    for stage in Stage:
        assert formats.HUBSPOT_STAGES.decode(formats.HUBSPOT_STAGES.encode(stage.value)) == stage.value


def test_generic_csv_sets_owner_region_segment_and_status(cast, tmp_path):
    path = write(tmp_path, "accounts.csv", (
        "external_id,name,domain,region,segment,status,owner_email,employees,country\n"
        "A-1,Zephyr GmbH,zephyr.example,EMEA,Mid-market,customer,REP@acmecloud.example,\"1,500\",de\n"
    ))
    report = import_records("accounts", path)

    assert report.ok, messages(report)
    zephyr = Account.objects.get(external_id="A-1")
    assert (zephyr.region, zephyr.segment, zephyr.status, zephyr.owner, zephyr.employees, zephyr.country) == (
        "emea", "mid_market", "customer", cast.sales_rep, 1500, "DE",
    )


def test_a_semicolon_separated_csv_from_a_european_spreadsheet_is_read(cast, tmp_path):
    path = write(tmp_path, "accounts.csv", "external_id;name;city\nA-1;Café Zürich;Zürich\n")

    report = import_records("accounts", path)

    assert report.ok and Account.objects.get().name == "Café Zürich"


def test_an_id_that_is_a_public_id_updates_that_record_without_giving_it_an_external_id(acme, tmp_path):
    plain = Account.objects.create(name="No CRM id")
    path = write(tmp_path, "a.csv", f"external_id,name\n{plain.public_id},Renamed\n")

    report = import_records("accounts", path)

    plain.refresh_from_db()
    assert report.counts["accounts"].updated == 1 and Account.objects.count() == 2
    assert (plain.name, plain.external_id) == ("Renamed", None)


def test_a_cell_neutralised_against_spreadsheet_formulas_is_restored(cast, tmp_path):
    path = write(tmp_path, "a.csv", "external_id,name,phone\nA-1,'=HYPERLINK(\"http://x.example\"),'+1 555 0100\n")

    import_records("accounts", path)

    account = Account.objects.get()
    assert (account.name, account.phone) == ('=HYPERLINK("http://x.example")', "+1 555 0100")


# --- bad input: a clear message and nothing imported -----------------------------------------


def test_a_windows_1252_file_is_refused_with_the_encoding_it_looks_like_and_the_fix(cast, tmp_path):
    path = write(tmp_path, "a.csv", "external_id,name\nA-1,Café Crème\n", encoding="cp1252")

    report = import_records("accounts", path)

    assert report.failed and Account.objects.count() == 0
    text = messages(report)
    assert "not UTF-8" in text and "Windows-1252" in text and "--encoding cp1252" in text and "line 2" in text

    fixed = import_records("accounts", path, encoding="cp1252")
    assert fixed.ok and Account.objects.get().name == "Café Crème"


def test_a_utf16_file_from_excel_is_recognised(cast, tmp_path):
    path = write(tmp_path, "a.csv", "external_id\tname\nA-1\tÅngström AB\n", encoding="utf-16")

    report = import_records("accounts", path)
    assert report.failed and "UTF-16" in messages(report)

    assert import_records("accounts", path, encoding="utf-16").ok
    assert Account.objects.get().name == "Ångström AB"


def test_missing_required_columns_are_listed_with_the_columns_found(acme, tmp_path):
    path = write(tmp_path, "o.csv", "external_id,name,amount\nO-1,Deal,10\n")

    report = import_records("opportunities", path, fmt="generic")

    assert report.failed
    assert "Missing required columns: account_external_id, stage, close_date" in messages(report)
    assert "Columns found: external_id, name, amount" in messages(report)


def test_a_file_of_opportunities_given_to_the_accounts_import_says_so(cast):
    report = import_records("accounts", FIXTURES / "salesforce_opportunities.csv")

    assert report.failed and Account.objects.count() == 0
    assert "look like opportunities" in messages(report)


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("amount", "12,34.5", "is not an amount"),
    ("amount", "ten", "is not an amount"),
    ("amount", "-5.00", "cannot be negative"),
    ("amount", "10.001", "more than 2 decimal places for USD"),
    ("close_date", "31/12/2026", "write it as YYYY-MM-DD"),
    ("close_date", "2026-02-30", "is not a date"),
    ("currency", "US$", "not an ISO 4217 currency code"),
    ("stage", "Won", "use one of: Prospecting, Qualification, Needs Analysis"),
    ("type", "upsell", "not a known opportunity type"),
    ("account_external_id", "NOPE", "no account with the id NOPE"),
])
def test_a_bad_value_is_reported_with_row_and_column_and_nothing_is_imported(acme, tmp_path, column, value, expected):
    good = {"external_id": "O-1", "name": "Fine", "account_external_id": "ACC-1", "stage": "Prospecting",
            "type": "new", "amount": "100.00", "currency": "USD", "close_date": "2026-01-31"}
    bad = good | {"external_id": "O-2", column: value}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(good))
    writer.writeheader()
    writer.writerows([good, bad])
    before = db_state()

    report = import_records("opportunities", write(tmp_path, "o.csv", out.getvalue()))

    assert report.failed
    assert [(e.row, e.column) for e in report.errors] == [(3, column)]
    assert expected in report.errors[0].message
    assert db_state() == before


def test_a_jpy_amount_with_decimals_is_refused(acme, tmp_path):
    path = write(tmp_path, "o.csv", GENERIC_OPPS_HEADER + "O-1,Deal,ACC-1,Prospecting,new,100.5,JPY,2026-01-31\n")

    report = import_records("opportunities", path)

    assert report.failed and "more than 0 decimal places for JPY" in messages(report)


def test_duplicate_ids_in_one_file_are_all_refused(acme, tmp_path):
    path = write(tmp_path, "o.csv", GENERIC_OPPS_HEADER + (
        "O-1,First,ACC-1,Prospecting,new,1,USD,2026-01-31\n"
        "O-2,Other,ACC-1,Prospecting,new,1,USD,2026-01-31\n"
        "O-1,Second,ACC-1,Prospecting,new,1,USD,2026-01-31\n"
    ))
    report = import_records("opportunities", path)

    assert report.failed and Opportunity.objects.count() == 0
    assert [e.row for e in report.errors] == [2, 4]
    assert "the id O-1 appears on rows 2 and 4" in report.errors[0].message


def test_oversized_text_is_refused_with_the_limit(cast, tmp_path):
    path = write(tmp_path, "a.csv", f"external_id,name,city\nA-1,Fine,{'x' * 101}\n")

    report = import_records("accounts", path)

    assert report.failed and report.errors[0].column == "city"
    assert "101 characters long; the limit is 100" in report.errors[0].message


def test_an_oversized_id_is_refused(cast, tmp_path):
    report = import_records("accounts", write(tmp_path, "a.csv", f"external_id,name\n{'9' * 65},Fine\n"))

    assert report.failed and "65 characters long; the limit is 64" in messages(report)


def test_a_nul_byte_in_a_cell_is_refused(cast, tmp_path):
    report = import_records("accounts", write(tmp_path, "a.csv", "external_id,name\nA-1,Bad\x00Name\n"))

    assert report.failed and Account.objects.count() == 0
    assert report.errors[0].row == 2 and "NUL character" in report.errors[0].message


@pytest.mark.parametrize(("text", "message"), [("", EMPTY_FILE), ("\n\n", EMPTY_FILE), ("external_id,name\n", NO_ROWS)])
def test_an_empty_file_is_refused(cast, tmp_path, text, message):
    report = import_records("accounts", write(tmp_path, "a.csv", text))

    assert report.failed and report.errors[0].message == message


def test_a_row_without_an_id_or_name_is_refused(cast, tmp_path):
    report = import_records("accounts", write(tmp_path, "a.csv", "external_id,name\n,Nameless id\nA-2,\n"))

    assert [(e.row, e.column) for e in report.errors] == [(2, "external_id"), (3, "name")]
    assert "so that importing again updates this record" in report.errors[0].message


def test_an_owner_must_be_a_known_member_of_staff(cast, tmp_path):
    path = write(tmp_path, "a.csv", (
        "external_id,name,owner_email\nA-1,One,nobody@example.com\nA-2,Two,rep@alpha.example\n"
    ))
    report = import_records("accounts", path)

    assert report.failed and Account.objects.count() == 0
    assert "no Covey user has the e-mail nobody@example.com" in report.errors[0].message
    assert "rep@alpha.example is a partner user" in report.errors[1].message


def test_broken_json_is_reported_with_its_line(cast, tmp_path):
    report = import_records("accounts", write(tmp_path, "a.json", '{"records": [\n  {"attributes": }\n]}'))

    assert report.failed and "not valid JSON" in messages(report) and "line 2" in messages(report)


def test_one_bad_row_keeps_every_good_row_out(acme, tmp_path):
    rows = "".join(f"O-{i},Deal {i},ACC-1,Prospecting,new,{i}.00,USD,2026-01-31\n" for i in range(1, 50))
    path = write(tmp_path, "o.csv", GENERIC_OPPS_HEADER + rows + "O-99,Bad,ACC-1,Prospecting,new,1,USD,someday\n")

    report = import_records("opportunities", path)

    assert report.failed and not report.applied
    assert Opportunity.objects.count() == 0
    assert report.counts["opportunities"].rejected == 1 and report.errors[0].row == 51


# --- importing the valid rows only -----------------------------------------------------------


def test_skip_invalid_imports_the_good_rows_and_writes_the_rest_to_a_rejects_file(acme, tmp_path):
    path = write(tmp_path, "deals.csv", GENERIC_OPPS_HEADER + (
        "O-1,Good,ACC-1,Prospecting,new,10.00,USD,2026-01-31\n"
        "O-2,=1+2,ACC-1,Won,new,10.00,USD,2026-01-31\n"
        "O-3,Also good,ACC-1,Qualification,new,20.00,USD,2026-02-28\n"
    ))

    report = import_records("opportunities", path, partial=True)

    assert report.applied and not report.failed
    assert (report.counts["opportunities"].created, report.counts["opportunities"].rejected) == (2, 1)
    assert report.rejects_path == tmp_path / "deals.rejects.csv"
    rejects = list(csv.reader(report.rejects_path.open(encoding="utf-8")))
    assert rejects[0] == ["external_id", "name", "account_external_id", "stage", "type", "amount", "currency", "close_date", "error"]
    assert rejects[1][:4] == ["O-2", "'=1+2", "ACC-1", "Won"]  # the formula stays harmless in the rejects file
    assert rejects[1][-1].startswith("stage: 'Won' is not a known stage")

    # Fix the stage in the rejects file and import it: the error column is simply ignored.
    fixed = report.rejects_path.read_text(encoding="utf-8").replace(",Won,", ",Closed Won,")
    again = import_records("opportunities", write(tmp_path, "fixed.csv", fixed))
    assert again.ok and again.warnings == []
    assert Opportunity.objects.get(external_id="O-2").name == "=1+2"


def test_skip_invalid_with_every_row_bad_imports_nothing_and_fails(acme, tmp_path):
    path = write(tmp_path, "deals.csv", GENERIC_OPPS_HEADER + "O-1,Bad,ACC-1,Won,new,1,USD,2026-01-31\n")

    report = import_records("opportunities", path, partial=True, rejects_path=tmp_path / "out.csv")

    assert report.failed and Opportunity.objects.count() == 0
    assert (tmp_path / "out.csv").exists()


def test_skip_invalid_rejects_opportunities_whose_account_was_rejected(cast, tmp_path):
    doc = json.loads((FIXTURES / "Accounts.json").read_text())
    doc["records"][0]["Name"] = ""
    (tmp_path / "Accounts.json").write_text(json.dumps(doc))
    (tmp_path / "Opportunities.json").write_bytes((FIXTURES / "Opportunities.json").read_bytes())
    (tmp_path / "plan.json").write_bytes((FIXTURES / "plan.json").read_bytes())

    report = import_records("accounts", tmp_path / "plan.json", partial=True)

    assert (report.counts["accounts"].created, report.counts["opportunities"].created) == (3, 3)
    assert report.counts["opportunities"].rejected == 2
    assert "the account AccountRef1 (record 1) is invalid" in messages(report)
    rejects = list(csv.DictReader((tmp_path / "plan.rejects.csv").open(encoding="utf-8")))
    assert [r["sobject"] for r in rejects] == ["Account", "Opportunity", "Opportunity"]


# --- the command line ------------------------------------------------------------------------


def run(*args: str):
    from covey.cli import app

    return CliRunner().invoke(app, list(args))


def test_covey_import_prints_a_summary_and_exits_zero(cast):
    result = run("import", "opportunities", str(FIXTURES / "plan.json"))

    assert result.exit_code == 0, result.output
    assert "created" in result.stdout and "accounts" in result.stdout and "opportunities" in result.stdout
    assert Opportunity.objects.count() == 5


def test_covey_import_exits_non_zero_and_lists_problems_when_nothing_was_imported(acme, tmp_path):
    path = write(tmp_path, "o.csv", GENERIC_OPPS_HEADER + "O-1,Deal,ACC-1,Won,new,1,USD,2026-01-31\n")

    result = run("import", "opportunities", str(path))

    assert result.exit_code == 1
    assert "is not a known stage" in result.output and "row 2" in result.output
    assert Opportunity.objects.count() == 0


def test_covey_import_skip_invalid_names_the_rejects_file(acme, tmp_path):
    path = write(tmp_path, "o.csv", GENERIC_OPPS_HEADER + (
        "O-1,Deal,ACC-1,Won,new,1,USD,2026-01-31\nO-2,Deal,ACC-1,Prospecting,new,1,USD,2026-01-31\n"
    ))
    rejects = tmp_path / "bad.csv"

    result = run("import", "opportunities", str(path), "--skip-invalid", "--rejects", str(rejects))

    assert result.exit_code == 0, result.output
    assert rejects.exists() and "bad.csv" in result.stdout
    assert Opportunity.objects.count() == 1


def test_covey_import_reads_other_encodings_when_told(cast, tmp_path):
    path = write(tmp_path, "a.csv", "external_id,name\nA-1,Café\n", encoding="cp1252")

    assert run("import", "accounts", str(path)).exit_code == 1
    result = run("import", "accounts", str(path), "--encoding", "cp1252", "--format", "generic")
    assert result.exit_code == 0, result.output
    assert Account.objects.get().name == "Café"


def test_covey_import_refuses_an_unknown_format(cast):
    result = run("import", "accounts", str(FIXTURES / "salesforce_accounts.csv"), "--format", "excel")

    assert result.exit_code == 2 and "Unknown format" in result.output


def test_covey_import_names_the_user_in_the_audit_trail(cast):
    result = run("import", "accounts", str(FIXTURES / "Accounts.json"), "--as", "rep@acmecloud.example")

    assert result.exit_code == 0, result.output
    assert set(AuditEvent.objects.filter(source="import").values_list("actor_label", flat=True)) == {"rep@acmecloud.example"}
