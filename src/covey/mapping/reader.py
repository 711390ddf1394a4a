"""Reading account lists: CSV or XLSX in, an account frame and an import report out.

``read_accounts(source)`` never raises for bad content: whatever is wrong ends up in the
``ImportReport`` — per-row problems (row number, column, message) and counts — so the web upload
page can show it and the CLI can print it. Only a file that cannot be read at all, or has no
column that could identify a company, is *fatal* (``report.fatal``; the frame is then empty).

- **Encodings.** UTF-8 (with or without a byte-order mark), UTF-16 with a BOM (Excel's "Unicode
  text"), otherwise Windows-1252 (a superset of Latin-1 for text); the report names the one used.
- **Delimiters.** Comma, semicolon (European Excel), tab or pipe, whichever the header line uses
  most outside quotes.
- **Headers.** Matched after folding case and dropping everything but letters and digits, against
  the names generic exports, Salesforce (``Id``, ``Name``, ``Website``, ``BillingCountry``…) and
  HubSpot (``Record ID``, ``Company name``, ``Company Domain Name``, ``Website URL``,
  ``Country/Region``…) use. Every further column that holds domains (a second website column,
  ``Additional Domains``, an e-mail column) feeds ``domains``: all of an account's domains count.
- **Rows.** Row numbers are spreadsheet rows: the header is row 1. A cell longer than
  ``max_cell_chars`` is dropped (a pasted document is not a company name); rows sharing an id are
  one account (reported, since it may also be an export mistake); a row without an id gets one made
  from its row number; a row with neither a name nor a usable domain cannot match (reported).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

from covey.mapping.domains import NEVER_ALONE
from covey.mapping.engine import COLUMNS
from covey.mapping.keys import domain_keys

__all__ = ["ImportReport", "Problem", "accounts_from_table", "detect_columns", "read_accounts", "read_table", "write_matches"]

MAX_CELL_CHARS = 2_000
MAX_LISTED_PROBLEMS = 1_000  # in all…
MAX_LISTED_PER_KIND = 200  # …and of one kind, so 20,000 duplicate ids do not hide the rest

UNREADABLE = "Cannot read {source}: {reason}"
NOT_A_TABLE = "{source} is not a CSV or XLSX file ({reason})."
NO_ROWS = "{source} has a header but no rows."
NO_HEADER = "{source} is empty."
NO_NAME_OR_DOMAIN = (
    "No column looks like a company name or a web domain; the headers are: {headers}. "
    "Name one column e.g. 'Name' or 'Company name', or 'Website' or 'Domain'."
)
CELL_TOO_LONG = "{length:,} characters (more than {limit:,}): the cell is ignored."
NOT_A_DOMAIN = "{value!r} is not a web domain: it is ignored."
NEVER_ALONE_DOMAIN = "{domain} is a free-mail, placeholder or platform domain: it never matches by itself."
DUPLICATE_ID = "Id {id!r} is also on row {first}: the rows are read as one account."
NO_ID = "No id: the row is given the id {id!r}."
CANNOT_MATCH = "Neither a company name nor a usable domain: the row cannot match."
NO_ID_COLUMN = "No id column: rows are identified by their row number."

# Header aliases, folded (lower case, letters and digits only), best first.
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "recordid", "accountid", "companyid", "hsobjectid", "objectid", "externalid", "crmid",
           "accountnumber", "customerid", "key"),
    "name": ("name", "accountname", "companyname", "company", "organizationname", "organisationname",
             "organization", "organisation", "businessname", "legalname", "customername", "customer",
             "account", "firm"),
    "website": ("website", "companydomainname", "domain", "domainname", "websiteurl", "url", "web",
                "webaddress", "homepage", "site", "webdomain", "companywebsite", "companydomain"),
    "domains": ("additionaldomains", "hsadditionaldomains", "domains", "otherdomains", "secondarydomains",
                "alternatedomains", "aliasdomains", "emaildomain", "email", "emailaddress", "companyemail"),
    "country": ("billingcountry", "country", "countryregion", "billingcountrycode", "countrycode",
                "shippingcountry", "shippingcountrycode", "hqcountry", "nation", "countryname"),
    "city": ("billingcity", "city", "shippingcity", "town", "locality", "hqcity", "cityname"),
    "phone": ("phone", "phonenumber", "companyphone", "mainphone", "telephone", "tel", "billingphone",
              "phonenum", "telephonenumber", "officephone"),
}
_DOMAIN_HINTS = ("domain", "website", "url", "email")


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row (header = 1); None for the whole file
    column: str | None  # the file's header
    message: str
    code: str = ""


@dataclass
class ImportReport:
    source: str
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    accounts: int = 0
    rows_that_can_match: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # field → header used
    domain_columns: list[str] = field(default_factory=list)  # further headers read into domains
    ignored_columns: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)  # problem code → how many
    problems: list[Problem] = field(default_factory=list)  # the first few of each kind (see the caps)
    fatal: str | None = None

    @property
    def ok(self) -> bool:
        return self.fatal is None

    def add(self, code: str, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self.counts[code] += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(Problem(row=row, column=column, message=message, code=code))

    def add_rows(self, code: str, rows: pl.DataFrame, message, *, column: str | None = None) -> None:
        """One problem per row of ``rows`` (counted in full, listed up to the cap); ``message``
        makes the text from the row as a dict."""
        if not rows.height:
            return
        self.counts[code] += rows.height
        room = min(MAX_LISTED_PROBLEMS - len(self.problems), MAX_LISTED_PER_KIND)
        for record in rows.head(max(room, 0)).iter_rows(named=True):
            self.problems.append(Problem(row=record.get("row"), column=record.get("column", column),
                                         message=message(record), code=code))

    def as_dict(self) -> dict:
        return {
            "source": self.source, "encoding": self.encoding, "delimiter": self.delimiter, "rows": self.rows,
            "accounts": self.accounts, "rows_that_can_match": self.rows_that_can_match,
            "columns": self.columns, "domain_columns": self.domain_columns,
            "ignored_columns": self.ignored_columns, "counts": dict(self.counts), "fatal": self.fatal,
            "problems": [p.__dict__ for p in self.problems],
        }


def _fold_header(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text).casefold())


def detect_columns(headers: list[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """(field → header, further domain headers, ignored headers) for a file's header row."""
    folded = {h: _fold_header(h) for h in headers}
    chosen: dict[str, str] = {}
    for name, aliases in HEADERS.items():
        for alias in aliases:
            hit = next((h for h in headers if folded[h] == alias and h not in chosen.values()), None)
            if hit is not None:
                chosen[name] = hit
                break
    used = set(chosen.values())
    if "name" not in chosen:  # "Company Name (legal)", "Account_Name__c"…
        hit = next((h for h in headers if h not in used and folded[h].startswith(("company", "account", "organi"))
                    and "name" in folded[h]), None)
        if hit is not None:
            chosen["name"] = hit
            used.add(hit)
    extra = [h for h in headers if h not in used and any(hint in folded[h] for hint in _DOMAIN_HINTS)]
    if "website" not in chosen and extra:
        chosen["website"] = extra.pop(0)
    if "domains" in chosen:
        extra.insert(0, chosen.pop("domains"))
    ignored = [h for h in headers if h not in chosen.values() and h not in extra]
    return chosen, extra, ignored


# --- decoding -------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return data.decode("latin-1"), "latin-1"


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    outside = re.sub(r'"[^"]*"', "", first)
    counts = {d: outside.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_frame(text: str, delimiter: str) -> pl.DataFrame:
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")), separator=delimiter, infer_schema=False, truncate_ragged_lines=True,
            raise_if_empty=True,
        )
    except pl.exceptions.NoDataError:
        return pl.DataFrame()
    except pl.exceptions.PolarsError:  # what Polars' fast reader refuses, the csv module tries
        csv.field_size_limit(sys.maxsize)
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=False))
        if not records:
            return pl.DataFrame()
        header, body = _unique_headers(records[0]), records[1:]
        width = len(header)
        body = [(r + [""] * width)[:width] for r in body]
        frame = pl.DataFrame({h: [r[i] or None for r in body] for i, h in enumerate(header)},
                             schema={h: pl.String for h in header})
    return frame


def _unique_headers(headers: list) -> list[str]:
    seen: Counter = Counter()
    out = []
    for index, header in enumerate(headers):
        text = str(header).strip() if header is not None else ""
        text = text or f"column {index + 1}"
        seen[text] += 1
        out.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return out


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _xlsx_frame(data: bytes) -> pl.DataFrame:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = None
        for row in rows:  # the first row with anything in it
            if any(v is not None and str(v).strip() for v in row):
                header = _unique_headers(list(row))
                break
        if header is None:
            return pl.DataFrame()
        width = len(header)
        columns: list[list] = [[] for _ in header]
        for row in rows:
            values = list(row)[:width] + [None] * (width - len(row))
            for i, v in enumerate(values):
                columns[i].append(_cell(v))
        return pl.DataFrame({h: columns[i] for i, h in enumerate(header)}, schema={h: pl.String for h in header})
    finally:
        book.close()


# --- the reader -----------------------------------------------------------------------------


def _read_bytes(source, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), filename or "the upload"
    if isinstance(source, (str, Path)):
        path = Path(source)
        return path.read_bytes(), filename or str(path)
    return source.read(), filename or getattr(source, "name", "the upload")


def read_table(source: str | Path | bytes | BinaryIO, *, filename: str | None = None) -> tuple[pl.DataFrame, ImportReport]:
    """The file as a frame of text columns under its (made unique) headers, and a report with the
    encoding and delimiter used — or ``report.fatal`` and an empty frame. The web app shows the
    headers for the column mapping before it reads the accounts (``accounts_from_table``)."""
    try:
        data, label = _read_bytes(source, filename)
    except OSError as exc:
        label = filename or str(source)
        return pl.DataFrame(), ImportReport(source=label, fatal=UNREADABLE.format(source=label, reason=exc.strerror or exc))
    report = ImportReport(source=label)
    is_xlsx = data[:4] == b"PK\x03\x04" or label.lower().endswith((".xlsx", ".xlsm"))
    try:
        if is_xlsx:
            frame = _xlsx_frame(data)
            report.encoding, report.delimiter = "xlsx", ""
        else:
            if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                report.fatal = NOT_A_TABLE.format(source=label, reason="binary content")
                return pl.DataFrame(), report
            text, report.encoding = _decode(data)
            report.delimiter = _delimiter(text)
            frame = _csv_frame(text, report.delimiter)
    except Exception as exc:  # noqa: BLE001 - a corrupt workbook raises anything
        report.fatal = NOT_A_TABLE.format(source=label, reason=f"{type(exc).__name__}: {exc}")
        return pl.DataFrame(), report
    if not frame.width:
        report.fatal = NO_HEADER.format(source=label)
        return pl.DataFrame(), report
    return frame.rename(dict(zip(frame.columns, _unique_headers(frame.columns), strict=True))), report


def accounts_from_table(
    frame: pl.DataFrame,
    report: ImportReport,
    *,
    columns: dict[str, str] | None = None,
    max_cell_chars: int = MAX_CELL_CHARS,
) -> pl.DataFrame:
    """The account frame of a table ``read_table`` gave. ``columns`` (field → header) replaces the
    detected choice of columns (a person adjusted the mapping); further domain columns are then only
    those the detection found and the person did not assign."""
    chosen, extra, ignored = detect_columns(frame.columns)
    if columns is not None:
        chosen = {name: header for name, header in columns.items() if header in frame.columns and name in HEADERS}
        extra = [h for h in extra if h not in chosen.values()]
        if "domains" in chosen:
            extra.insert(0, chosen.pop("domains"))
        ignored = [h for h in frame.columns if h not in chosen.values() and h not in extra]
    report.columns, report.domain_columns, report.ignored_columns = chosen, extra, ignored
    if "name" not in chosen and "website" not in chosen:
        report.fatal = NO_NAME_OR_DOMAIN.format(headers=", ".join(repr(h) for h in frame.columns) or "none")
        return _empty_accounts()
    if not frame.height:
        report.fatal = NO_ROWS.format(source=report.source)
        return _empty_accounts()
    return _accounts(frame, report, chosen, extra, max_cell_chars)


def _empty_accounts() -> pl.DataFrame:
    return pl.DataFrame(schema={**{c: pl.String for c in COLUMNS}, "row": pl.Int64})


def read_accounts(
    source: str | Path | bytes | BinaryIO,
    *,
    filename: str | None = None,
    max_cell_chars: int = MAX_CELL_CHARS,
) -> tuple[pl.DataFrame, ImportReport]:
    """An account frame (``COLUMNS`` plus ``row``, the spreadsheet row) and its import report."""
    frame, report = read_table(source, filename=filename)
    if report.fatal:
        return _empty_accounts(), report
    return accounts_from_table(frame, report, max_cell_chars=max_cell_chars), report


def _accounts(frame: pl.DataFrame, report: ImportReport, chosen: dict[str, str], extra: list[str],
              limit: int) -> pl.DataFrame:
    report.rows = frame.height
    frame = frame.with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    used = [h for h in [*chosen.values(), *extra]]
    # Oversized cells first: nothing else should look at them.
    for header in used:
        long = frame.filter(pl.col(header).str.len_chars() > limit).select("row", length=pl.col(header).str.len_chars())
        report.add_rows("cell_too_long", long, lambda r: CELL_TOO_LONG.format(length=r["length"], limit=limit),
                        column=header)
    if used:
        frame = frame.with_columns(
            [pl.when(pl.col(h).str.len_chars() > limit).then(None).otherwise(pl.col(h).str.strip_chars()).alias(h)
             for h in used]
        ).with_columns([pl.when(pl.col(h) == "").then(None).otherwise(pl.col(h)).alias(h) for h in used])

    def column(name: str) -> pl.Expr:
        return pl.col(chosen[name]) if name in chosen else pl.lit(None, dtype=pl.String)

    domains = pl.concat_str([pl.col(h) for h in extra], separator=" ", ignore_nulls=True) if extra else pl.lit(None)
    out = frame.select(
        id=column("id"), name=column("name"), website=column("website"),
        domains=pl.when(domains.cast(pl.String) != "").then(domains.cast(pl.String)),
        country=column("country"), city=column("city"), phone=column("phone"), row="row",
    )
    if "id" not in chosen:
        report.add("no_id_column", NO_ID_COLUMN)
    missing = out.filter(pl.col("id").is_null())
    if missing.height:
        if "id" in chosen:
            report.add_rows("no_id", missing, lambda r: NO_ID.format(id=f"row {r['row']}"), column=chosen["id"])
        out = out.with_columns(id=pl.coalesce("id", pl.concat_str([pl.lit("row "), pl.col("row").cast(pl.String)])))
    first = out.group_by("id").agg(first=pl.col("row").min())
    dupes = out.join(first, on="id").filter(pl.col("row") != pl.col("first"))
    report.add_rows("duplicate_id", dupes.sort("row"), lambda r: DUPLICATE_ID.format(id=r["id"], first=r["first"]),
                    column=chosen.get("id"))

    # Domains: say which cells give nothing to match on.
    pieces = (
        out.select("row", "website", "domains")
        .unpivot(index="row", variable_name="field", value_name="value")
        .filter(pl.col("value").is_not_null())
        .with_columns(piece=pl.col("value").str.replace_all(r"[;,|\s]+", " ").str.strip_chars().str.split(" "))
        .explode("piece").filter(pl.col("piece") != "")
    )
    pieces = pieces.with_columns(domain=domain_keys(pieces["piece"]))
    never = pl.Series(sorted(NEVER_ALONE), dtype=pl.String).implode()
    pieces = pieces.with_columns(usable=(pl.col("domain") != "") & ~pl.col("domain").is_in(never))
    header_of = {"website": chosen.get("website"), "domains": ", ".join(extra) or None}
    pieces = pieces.with_columns(column=pl.col("field").replace_strict(header_of, return_dtype=pl.String))
    bad = pieces.filter((pl.col("domain") == "") & (pl.col("field") == "website")).sort("row")
    report.add_rows("not_a_domain", bad, lambda r: NOT_A_DOMAIN.format(value=r["piece"][:80]))
    free = pieces.filter((pl.col("domain") != "") & ~pl.col("usable")).sort("row")
    report.add_rows("never_alone_domain", free, lambda r: NEVER_ALONE_DOMAIN.format(domain=r["domain"]))
    with_domain = pieces.filter(pl.col("usable"))["row"].unique().implode()
    can_match = (pl.col("name").is_not_null() & (pl.col("name").str.contains(r"\w"))) | pl.col("row").is_in(with_domain)
    out = out.with_columns(can_match=can_match)
    report.add_rows("cannot_match", out.filter(~pl.col("can_match")), lambda r: CANNOT_MATCH)
    report.problems.sort(key=lambda p: (p.row or 0))
    report.rows_that_can_match = int(out["can_match"].sum())
    report.accounts = out["id"].n_unique()
    return out.drop("can_match")


def write_matches(matches: pl.DataFrame, path: str | Path) -> None:
    """The matches file: ``our_id, their_id, kind, score``, one row per matched pair."""
    matches.select("our_id", "their_id", "kind", "score").write_csv(path)
