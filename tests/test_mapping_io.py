"""Reading account lists (CSV, XLSX; headers, encodings, bad rows) and ``covey map``."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from covey.cli import app
from covey.mapping.reader import (
    CANNOT_MATCH,
    MAX_LISTED_PER_KIND,
    MAX_LISTED_PROBLEMS,
    NO_NAME_OR_DOMAIN,
    detect_columns,
    read_accounts,
)

SALESFORCE = ["Id", "Name", "Website", "BillingCountry", "BillingCity", "Phone"]
HUBSPOT = ["Record ID", "Company name", "Company Domain Name", "Website URL", "Country/Region", "City", "Phone Number"]


def csv_bytes(rows: list[list], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


# --- headers -------------------------------------------------------------------------------


def test_salesforce_headers_are_recognised():
    chosen, extra, ignored = detect_columns(SALESFORCE + ["AnnualRevenue"])
    assert chosen == {"id": "Id", "name": "Name", "website": "Website", "country": "BillingCountry",
                      "city": "BillingCity", "phone": "Phone"}
    assert extra == [] and ignored == ["AnnualRevenue"]


def test_hubspot_headers_are_recognised_and_the_second_website_column_adds_domains():
    chosen, extra, _ = detect_columns(HUBSPOT)
    assert chosen == {"id": "Record ID", "name": "Company name", "website": "Company Domain Name",
                      "country": "Country/Region", "city": "City", "phone": "Phone Number"}
    assert extra == ["Website URL"]


@pytest.mark.parametrize("headers, field, header", [
    (["account_id", "Company", "URL"], "name", "Company"),
    (["ID", "ORGANISATION NAME", "Domain"], "website", "Domain"),
    (["key", "Account Name", "country code", "town", "Telephone"], "city", "town"),
    (["Company Name (legal)", "Homepage"], "name", "Company Name (legal)"),
])
def test_generic_headers_are_recognised(headers, field, header):
    chosen, _, _ = detect_columns(headers)
    assert chosen[field] == header


def test_a_file_without_a_name_or_domain_column_is_refused_with_its_headers():
    frame, report = read_accounts(csv_bytes([["Revenue", "Owner"], ["10", "Ann"]]), filename="x.csv")
    assert not report.ok and frame.height == 0
    assert report.fatal == NO_NAME_OR_DOMAIN.format(headers="'Revenue', 'Owner'")


# --- encodings and layouts ------------------------------------------------------------------


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                ("cp1252", "cp1252"), ("utf-16", "utf-16")])
def test_encodings_are_detected(encoding, expected):
    data = csv_bytes([["Id", "Name"], ["1", "Société Générale"], ["2", "Müller – Café"]], encoding=encoding)
    frame, report = read_accounts(data, filename="list.csv")
    assert report.encoding == expected
    assert frame["name"].to_list() == ["Société Générale", "Müller – Café"]
    assert report.columns["id"] == "Id"  # a byte-order mark does not stick to the first header


def test_latin1_bytes_cp1252_leaves_undefined_still_read():
    frame, report = read_accounts(b"Id,Name\n1,Caf\xe9 \x81\n", filename="x.csv")
    assert report.encoding == "latin-1" and frame["name"].to_list() == ["Café \x81"]


def test_semicolon_and_tab_separated_files_are_read():
    for delimiter in (";", "\t"):
        frame, report = read_accounts(csv_bytes([["Id", "Name", "Website"], ["1", "Acme, Inc.", "acme.com"]],
                                                 delimiter=delimiter), filename="x.csv")
        assert report.delimiter == delimiter and frame["name"].to_list() == ["Acme, Inc."]


def test_xlsx_is_read_with_numbers_as_ids(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HUBSPOT)
    sheet.append([1234.0, "Globex GmbH", "globex.de", "https://globex.com", "Germany", "Berlin", None])
    sheet.append([1235, "Initech", None, None, "US", None, "555 0100"])
    path = tmp_path / "theirs.xlsx"
    book.save(path)
    frame, report = read_accounts(path)
    assert report.ok and report.encoding == "xlsx"
    assert frame.select("id", "name", "website", "domains").rows() == [
        ("1234", "Globex GmbH", "globex.de", "https://globex.com"), ("1235", "Initech", None, None)]


def test_an_unreadable_file_is_fatal_not_a_crash(tmp_path):
    _, report = read_accounts(tmp_path / "missing.csv")
    assert not report.ok and "missing.csv" in report.fatal
    _, report = read_accounts(b"PK\x03\x04 not really a workbook", filename="x.xlsx")
    assert not report.ok and "not a CSV or XLSX" in report.fatal
    _, report = read_accounts(b"", filename="empty.csv")
    assert not report.ok


def test_a_header_without_rows_is_fatal():
    _, report = read_accounts(b"Id,Name\n", filename="x.csv")
    assert not report.ok and "no rows" in report.fatal


# --- bad rows -------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_row_column_and_counts():
    huge = "x" * 10_000_000  # a 10 MB cell
    data = csv_bytes([
        SALESFORCE,
        ["1", "Acme Inc", "https://www.acme.com", "US", "Austin", ""],  # row 2: fine
        ["2", "", "jane@gmail.com", "US", "", ""],  # row 3: blank name, free-mail only
        ["2", "Globex", "localhost", "", "", ""],  # row 4: duplicate id, not a domain
        ["", "Initech", "initech.com", "", "", ""],  # row 5: no id
        ["5", huge, "example.com", "", "", ""],  # row 6: 10 MB name, placeholder domain
    ])
    frame, report = read_accounts(data, filename="ours.csv")
    assert report.ok and report.rows == 5 and frame.height == 5
    assert dict(report.counts) == {"never_alone_domain": 2, "cannot_match": 2, "duplicate_id": 1,
                                   "not_a_domain": 1, "no_id": 1, "cell_too_long": 1}
    listed = {(p.row, p.column, p.code) for p in report.problems}
    assert (3, "Website", "never_alone_domain") in listed
    assert (3, None, "cannot_match") in listed
    assert (4, "Id", "duplicate_id") in listed
    assert (4, "Website", "not_a_domain") in listed
    assert (5, "Id", "no_id") in listed
    assert (6, "Name", "cell_too_long") in listed
    assert (6, None, "cannot_match") in listed
    assert CANNOT_MATCH in {p.message for p in report.problems}
    assert frame.filter(pl.col("row") == 5)["id"].to_list() == ["row 5"]
    assert frame.filter(pl.col("row") == 6)["name"].to_list() == [None]
    assert report.rows_that_can_match == 3 and report.accounts == 4
    assert report.as_dict()["counts"]["duplicate_id"] == 1


def test_the_listed_problems_are_capped_per_kind_but_the_counts_are_not():
    rows = [["Id", "Name", "Website"]] + [[str(i), f"Shop {i}", "gmail.com"] for i in range(MAX_LISTED_PROBLEMS + 50)]
    rows.append(["x", "Acme", "localhost"])
    _, report = read_accounts(csv_bytes(rows), filename="x.csv")
    assert report.counts["never_alone_domain"] == MAX_LISTED_PROBLEMS + 50
    assert sum(p.code == "never_alone_domain" for p in report.problems) == MAX_LISTED_PER_KIND
    assert [p.row for p in report.problems if p.code == "not_a_domain"] == [len(rows)]


def test_ragged_rows_and_stray_quotes_do_not_crash_the_reader():
    data = b'Id,Name,Website\n1,Acme,acme.com,extra,cells\n2,"Glob"ex",globex.de\n3\n'
    frame, report = read_accounts(data, filename="x.csv")
    assert report.ok and frame.height == 3
    assert frame["name"][0] == "Acme"


# --- covey map -----------------------------------------------------------------------------


def test_covey_map_writes_one_row_per_matched_pair(tmp_path):
    ours, theirs, out = tmp_path / "ours.csv", tmp_path / "theirs.csv", tmp_path / "matches.csv"
    ours.write_bytes(csv_bytes([SALESFORCE, ["001A", "Acme Inc", "https://www.acme.com", "US", "Austin", ""],
                                ["001B", "Globex GmbH", "", "Germany", "Berlin", ""],
                                ["001C", "Jane's Bakery", "jane@gmail.com", "US", "", ""]]))
    theirs.write_bytes(csv_bytes([HUBSPOT, ["9", "ACME Corporation", "acme.com", "", "USA", "", ""],
                                  ["8", "Globex", "", "", "DE", "Berlin", ""],
                                  ["7", "Other Bakery", "", "bob@gmail.com", "US", "", ""]], encoding="utf-8-sig"))
    result = CliRunner().invoke(app, ["map", "--ours", str(ours), "--theirs", str(theirs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 matched pairs" in result.output and "never_alone_domain" in result.output
    assert out.read_text().splitlines() == [
        "our_id,their_id,kind,score", "001A,9,domain,100.0", "001B,8,name_exact,100.0"]


def test_covey_map_exits_2_with_a_message_for_an_unreadable_file(tmp_path):
    theirs = tmp_path / "theirs.csv"
    theirs.write_bytes(csv_bytes([["Id", "Name"], ["1", "Acme"]]))
    result = CliRunner().invoke(app, ["map", "--ours", str(tmp_path / "nope.csv"), "--theirs", str(theirs),
                                      "--out", str(tmp_path / "m.csv")])
    assert result.exit_code == 2 and "Cannot read" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["Revenue"], ["1"]]))
    result = CliRunner().invoke(app, ["map", "--ours", str(bad), "--theirs", str(theirs), "--out", str(tmp_path / "m.csv")])
    assert result.exit_code == 2 and "No column looks like a company name" in result.output
