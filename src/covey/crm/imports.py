"""Import accounts and opportunities from CSV (generic, Salesforce, HubSpot) or Salesforce data trees.

Design
- Read → check → write, set-based. Every row is read and checked in plain Python first; the ids,
  account references and owner e-mails of the whole file are then resolved with one ``IN`` query
  each (chunked to 1,000 values); the writes go in batches inside one transaction, with one audit
  event per created or updated record (``audit.record_many``, source "import"). There is no
  per-row query. New rows go in through ``core.bulk.bulk_insert`` (``COPY`` on PostgreSQL,
  ``executemany`` on SQLite) and changed rows with one ``UPDATE … FROM (VALUES …)`` per batch:
  Django's ``bulk_create`` / ``bulk_update`` spend about ten microseconds of Python per value,
  most of a large import's time.
- Matching. A row's id is looked up as an ``external_id`` first and then as a ``public_id``.
  Exports write a record's external_id, or its public_id when it has none, so an export re-imports
  onto the same records; a match on the public_id leaves the external_id empty. An id that matches
  nothing creates a record with that id as its external_id.
- A file changes only the fields its columns carry: a Salesforce file without ``Region__c``,
  ``Segment__c`` or ``Owner.Email`` columns never clears them. When a format has a website but no domain column, a
  *new* account's domain is taken from the website's host. A file without currencies is in the
  vendor's base currency.
- Unchanged rows are counted and not written (no update, no audit event): importing a file twice
  changes nothing the second time.
- All or nothing by default: if any row is bad nothing is written and every problem is reported
  with its row, column and message. ``partial=True`` writes the good rows and copies the bad ones,
  with an ``error`` column, to a rejects CSV (default: ``deals.csv`` → ``deals.rejects.csv``).
- Text is stored verbatim (emoji, right-to-left scripts, ``1;DROP TABLE users``); a cell that an
  export neutralised against spreadsheet formulas (``'=…``) is restored. Ids, codes, numbers and
  dates are trimmed. Closed Lost rows may lack a lost reason: CRMs that never asked for one would
  otherwise be impossible to import.
- Salesforce data tree (``sf data tree export``): ``{"records": [{"attributes": {"type": "Account",
  "referenceId": "AccountRef1"}, …}]}``. A record's id is its ``Id`` field, else its referenceId.
  ``"AccountId": "@AccountRef1"`` links to the account with that referenceId in the same import, or
  else to the account whose external_id (or public_id) is ``AccountRef1``. Opportunities nested
  under an account (``"Opportunities": {"records": […]}``) belong to it. A *plan* file (a JSON list
  of ``{"sobject": "Account", "files": ["Accounts.json"]}``) imports its files, found next to the
  plan, as one import; the file given must hold records of the kind asked for, and every account
  and opportunity in it is imported (opportunities need their accounts).
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from covey.core import audit
from covey.core.bulk import bulk_insert
from covey.core.csvsafe import safe_cell, unneutralise
from covey.core.ids import new_public_ids
from covey.core.models import User, VendorSettings
from covey.core.money import MoneyError, is_currency, parse_amount
from covey.crm.formats import (
    CSV_FORMATS,
    FIELDS,
    FORMATS,
    KIND_SOBJECTS,
    KINDS,
    LAYOUTS,
    REJECTS_COLUMN,
    SOBJECT_KINDS,
    TREE_FORMAT,
    Layout,
    canonical_format,
    country_from_text,
    detect_csv_format,
    domain_from_website,
)
from covey.crm.models import Account, Opportunity

Progress = Callable[[str, int, int], None]
Source = str | Path | IO[bytes]

BATCH = 2000
MAX_EMPLOYEES = 2_147_483_647  # PositiveIntegerField
MAX_MINOR = 9_223_372_036_854_775_807  # BigIntegerField

# Messages tests and the UI refer to.
EMPTY_FILE = "The file is empty."
NO_ROWS = "The file has a header row but no data rows."
NOTHING_IMPORTED = "Nothing was imported because some rows are invalid."
CONCURRENT_CHANGE = (
    "Someone changed the same records while the import ran; nothing was imported. Run the import again."
)


class ImportFileError(Exception):
    """A problem with the file as a whole (encoding, JSON syntax, missing columns…)."""

    def __init__(self, message: str, column: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.column = column


# --- the report ------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int | None  # spreadsheet row (the header is row 1) or data-tree record number; None: the whole file
    column: str
    message: str
    kind: str = ""
    file: str = ""
    unit: str = "row"  # "row" in a CSV, "record" in a data tree

    @property
    def where(self) -> str:
        if self.row is None:
            return self.file or "file"
        place = f"{self.unit} {self.row}"
        return f"{place} of {self.file}" if self.file and self.unit == "record" else place

    def __str__(self) -> str:
        column = f", {self.column}" if self.column else ""
        return f"{self.where}{column}: {self.message}"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class ImportReport:
    kind: str
    fmt: str = ""
    counts: dict[str, Counts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    applied: bool = False  # the writes were committed (possibly none: every row unchanged)
    rejects_path: Path | None = None
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total(self) -> Counts:
        out = Counts()
        for c in self.counts.values():
            out.created += c.created
            out.updated += c.updated
            out.unchanged += c.unchanged
            out.rejected += c.rejected
        return out

    @property
    def failed(self) -> bool:
        """Errors kept anything from being imported (the CLI exits non-zero)."""
        t = self.total
        return bool(self.errors) and (not self.applied or t.created + t.updated + t.unchanged == 0)


# --- reading ---------------------------------------------------------------------------------


@dataclass
class SourceRow:
    kind: str
    number: int
    values: dict[str, str]  # canonical field → text as read
    carried: frozenset[str]  # canonical fields this row's file carries
    headers: dict[str, str]  # canonical field → the column (or key) it came from, for messages
    file: str
    unit: str
    cells: list[str] | dict[str, str]  # the row as read, for the rejects file
    ref: str = ""  # data-tree referenceId
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message) found while reading


@dataclass
class Bundle:
    fmt: str
    rows: dict[str, list[SourceRow]]
    warnings: list[str]
    csv_headers: list[str] | None = None  # for the rejects file of a CSV import


def _read_bytes(source: Source) -> tuple[bytes, str, Path | None]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            return path.read_bytes(), path.name, path
        except OSError as exc:
            raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    data = source.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    name = Path(str(getattr(source, "name", "") or "upload")).name
    return data, name, None


def _guess_encoding(data: bytes) -> tuple[str, str]:
    """(description, codec) of what a non-UTF-8 file most likely is."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 (Excel's “Unicode Text”)", "utf-16"
    sample = data[:4000]
    if sample and sample.count(0) * 4 >= len(sample):
        return "UTF-16 (Excel's “Unicode Text”)", "utf-16"
    try:
        data.decode("cp1252")
        return "Windows-1252 (what Excel on Windows saves as plain “CSV”)", "cp1252"
    except UnicodeDecodeError:
        return "Latin-1 (ISO-8859-1)", "latin-1"


def decode(data: bytes, encoding: str | None = None) -> str:
    """The file's text. Without ``encoding`` it must be UTF-8 (a byte-order mark is fine)."""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ImportFileError(
                f"Unknown encoding {encoding!r}; use one such as utf-8, cp1252, latin-1 or utf-16."
            ) from None
        try:
            return data.decode("utf-8-sig" if codec == "utf-8" else codec)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ImportFileError(f"The file is not valid {encoding}: the bytes on line {line} cannot be read as {encoding}.") from None
    guess, codec = _guess_encoding(data)
    if codec == "utf-16":
        raise ImportFileError(_not_utf8(guess, codec, line=None))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(_not_utf8(guess, codec, line=line, byte=data[exc.start])) from None


def _not_utf8(guess: str, codec: str, *, line: int | None, byte: int | None = None) -> str:
    where = f" (byte 0x{byte:02X} on line {line} is not UTF-8)" if line is not None and byte is not None else ""
    return (
        f"The file is not UTF-8{where}; it looks like {guess}. Save it from your spreadsheet as "
        f"“CSV UTF-8”, or import it with the encoding {codec} (--encoding {codec} on the command line, "
        f"“Encoding” on the upload page)."
    )


def _csv_records(text: str) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in many European locales save "CSV" with semicolons; the header row tells.
    delimiter = max((",", ";", "\t"), key=first_line.count) if any(d in first_line for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [row for row in reader]
    except csv.Error as exc:
        raise ImportFileError(f"The CSV cannot be read near line {reader.line_num}: {exc}.") from None


def _read_csv(kind: str, text: str, fmt: str, label: str) -> Bundle:
    records = _csv_records(text)
    skipped = 0  # blank lines above the header, so row numbers match the spreadsheet's
    while skipped < len(records) and not any(cell.strip() for cell in records[skipped]):
        skipped += 1
    if skipped == len(records):
        raise ImportFileError(EMPTY_FILE)
    headers = records[skipped]
    detected, hint = detect_csv_format(kind, headers)
    if fmt == "auto":
        if detected is None:
            found = ", ".join(h for h in headers if h.strip()) or "none"
            raise ImportFileError(
                hint or (
                    f"The columns are not ones Covey knows for {kind} in the generic, Salesforce or HubSpot "
                    f"format. Columns found: {found}. Choose the format explicitly, or rename the columns."
                )
            )
        fmt = detected
    lay = LAYOUTS[(fmt, kind)]
    found_fields = lay.match(headers)
    missing = [lay.column(f).header for f in lay.required if f not in found_fields]  # type: ignore[union-attr]
    if missing:
        found = ", ".join(h for h in headers if h.strip()) or "none"
        message = (
            f"Missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
            f"Columns found: {found}."
        )
        if hint:
            message += " " + hint
        elif detected and detected != fmt:
            message += f" The columns look like the {detected} format; choose that format (or auto)."
        raise ImportFileError(message)
    used = set(found_fields.values())
    ignored = [h for i, h in enumerate(headers) if i not in used and h.strip() and h.strip().casefold() != REJECTS_COLUMN]
    warnings = [f"Ignored column{'s' if len(ignored) > 1 else ''} Covey does not import: {', '.join(ignored)}."] if ignored else []
    carried = frozenset(found_fields)
    header_of = {f: headers[i].strip() for f, i in found_fields.items()}
    rows: list[SourceRow] = []
    width = len(headers)
    field_index = list(found_fields.items())
    for index, cells in enumerate(records[skipped + 1:], start=skipped + 2):
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets leave blank lines at the end
        if len(cells) >= width:
            values = {f: cells[i] if cells[i][:1] != "'" else unneutralise(cells[i]) for f, i in field_index}
        else:
            values = {f: unneutralise(cells[i]) if i < len(cells) else "" for f, i in field_index}
        row = SourceRow(kind, index, values, carried, header_of, label, "row", cells)
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            row.problems.append(("", f"the row has {len(cells)} cells but the header has {width} columns; check the quoting"))
        rows.append(row)
    if not rows:
        raise ImportFileError(NO_ROWS)
    return Bundle(fmt, {kind: rows}, warnings, csv_headers=headers)


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, str)):
        return str(value)
    raise ValueError("expected a single value, not a nested object or list")


def _load_json(text: str, label: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)  # never a float near money
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{label} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None


def _tree_records(doc: Any, label: str) -> list[dict]:
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        raise ImportFileError(
            f"{label} is not a Salesforce data tree file: expected {{\"records\": […]}}, or a plan file "
            f"(a list of {{\"sobject\": …, \"files\": […]}})."
        )
    return doc["records"]


def _read_tree(kind: str, text: str, label: str, path: Path | None, encoding: str | None) -> Bundle:
    doc = _load_json(text, label)
    files: list[tuple[str, list[dict]]] = []
    if isinstance(doc, list):
        if path is None:
            raise ImportFileError(
                "This is a data tree plan, which names other files; upload the data files themselves "
                "(for example Accounts.json), or run “covey import” with the plan on the server."
            )
        for step, entry in enumerate(doc, start=1):
            if not isinstance(entry, dict) or not isinstance(entry.get("files"), list):
                raise ImportFileError(f"Step {step} of the plan {label} has no \"files\" list.")
            for name in entry["files"]:
                data_path = path.parent / str(name)
                if not data_path.is_file():
                    raise ImportFileError(f"The plan names {name}, which is not in {path.parent}.")
                data_text = decode(data_path.read_bytes(), encoding)
                files.append((data_path.name, _tree_records(_load_json(data_text, data_path.name), data_path.name)))
    else:
        files.append((label, _tree_records(doc, label)))

    rows: dict[str, list[SourceRow]] = defaultdict(list)
    skipped: dict[str, int] = defaultdict(int)
    for file_label, records in files:
        for number, (record, attributes, sobject, parent) in enumerate(_flatten(records, file_label), start=1):
            row_kind = SOBJECT_KINDS.get(sobject)
            if row_kind is None:
                skipped[sobject] += 1
            else:
                rows[row_kind].append(_tree_row(row_kind, record, attributes, parent, number, file_label))

    warnings = [
        f"Skipped {n} {sobject} record{'s' if n > 1 else ''}: Covey imports accounts and opportunities."
        for sobject, n in sorted(skipped.items())
    ]
    if not rows.get(kind):
        held = ", ".join(f"{KIND_SOBJECTS[k]} records" for k in KINDS if rows.get(k))
        if held:
            other = next(k for k in KINDS if rows.get(k))
            raise ImportFileError(
                f"The file holds no {KIND_SOBJECTS[kind]} records (it holds {held}); "
                f"import it with “covey import {other}”."
            )
        raise ImportFileError("The file has no records." if not skipped else "The file has no Account or Opportunity records.")
    return Bundle(TREE_FORMAT, dict(rows), warnings)


def _flatten(records: list, file_label: str) -> Iterator[tuple[dict, dict, str, tuple[str, str] | None]]:
    """Each record, then the records nested under it (``"Opportunities": {"records": […]}``)."""
    stack: list[tuple[Any, tuple[str, str] | None]] = [(r, None) for r in reversed(records)]
    number = 0
    while stack:
        record, parent = stack.pop()
        number += 1
        attributes = record.get("attributes") if isinstance(record, dict) else None
        sobject = attributes.get("type") if isinstance(attributes, dict) else None
        if not isinstance(sobject, str):
            raise ImportFileError(f"Record {number} of {file_label} has no attributes.type.")
        yield record, attributes, sobject, parent
        reference = (sobject, str(attributes.get("referenceId") or ""))
        children = [
            child for value in record.values() if isinstance(value, dict) and isinstance(value.get("records"), list)
            for child in value["records"]
        ]
        stack.extend((child, reference) for child in reversed(children))


def _tree_row(kind: str, record: dict, attributes: dict, parent, number: int, file_label: str) -> SourceRow:
    lay = LAYOUTS[(TREE_FORMAT, kind)]
    keys = {k.casefold(): k for k in record}
    values: dict[str, str] = {}
    headers: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for column in lay.columns:
        key = next((keys[n.casefold()] for n in column.names if n.casefold() in keys), column.header)
        headers[column.field] = key
        try:
            values[column.field] = _json_text(record.get(key))
        except ValueError as exc:
            values[column.field] = ""
            problems.append((key, str(exc)))
    ref = _json_text(attributes.get("referenceId")) if not isinstance(attributes.get("referenceId"), (dict, list)) else ""
    if not values["external_id"].strip() and ref:
        values["external_id"] = ref
        headers["external_id"] = "attributes.referenceId"
    if kind == "opportunities" and not values["account_external_id"].strip() and parent and parent[0] == "Account":
        values["account_external_id"] = "@" + parent[1]
    cells = {"sobject": KIND_SOBJECTS[kind]} | {c.header: values[c.field] for c in lay.columns}
    carried = set(values)
    if kind == "accounts" and not any(n.casefold() in keys for n in lay.column("domain").names):  # type: ignore[union-attr]
        carried.discard("domain")  # a tree without Domain__c: a new account's domain comes from its website
    return SourceRow(kind, number, values, frozenset(carried), headers, file_label, "record", cells, ref=ref, problems=problems)


def read_bundle(kind: str, source: Source, *, fmt: str = "auto", encoding: str | None = None) -> Bundle:
    """Read and decode ``source`` into rows of canonical fields (no database access)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {KINDS}")
    fmt = canonical_format(fmt)
    if fmt != "auto" and fmt not in FORMATS:
        raise ImportFileError(f"Unknown format {fmt!r}; use auto, {', '.join(FORMATS)}.")
    data, label, path = _read_bytes(source)
    if not data.strip():
        raise ImportFileError(EMPTY_FILE)
    text = decode(data, encoding)
    if not text.strip():
        raise ImportFileError(EMPTY_FILE)
    looks_json = text.lstrip()[:1] in ("{", "[")
    if fmt == TREE_FORMAT or (fmt == "auto" and looks_json):
        return _read_tree(kind, text, label, path, encoding)
    if fmt in CSV_FORMATS and looks_json:
        raise ImportFileError(f"This is a JSON file, not a {fmt} CSV; choose the sf-tree format (or auto).")
    return _read_csv(kind, text, fmt, label)


# --- checking rows (plain Python, no queries) ------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.+\-Z]*)?$")
_INT_RE = re.compile(r"^(\d+|\d{1,3}(,\d{3})+)$")
_VERBATIM = frozenset({"name", "industry", "city", "phone", "description", "lost_reason", "lead_source"})
_MODEL: dict[str, type[models.Model]] = {"accounts": Account, "opportunities": Opportunity}
NUL_MESSAGE = "contains a NUL character, which cannot be stored; remove it"


def _parse_date(text: str) -> date:
    match = _DATE_RE.match(text)
    try:
        if match:
            return date.fromisoformat(match.group(1))
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a date; write it as YYYY-MM-DD, for example 2026-03-31")


def _parse_int(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not _INT_RE.match(text):
        raise ValueError(f"{text!r} is not a whole number of employees")
    value = int(text.replace(",", ""))
    if value > MAX_EMPLOYEES:
        raise ValueError(f"{text} is larger than Covey can store ({MAX_EMPLOYEES:,})")
    return value


# A step turns one cell into one value or raises ValueError; a message starting with "is " is
# prefixed with the column's name when it is reported ("Name is required").
Step = tuple[str, str, Callable[[str], Any]]  # (canonical field, value key, convert)


def _text_step(limit: int | None, *, verbatim: bool, required: str = "") -> Callable[[str], str]:
    def convert(raw: str) -> str:
        text = raw if verbatim else raw.strip()
        if required and not text.strip():
            raise ValueError(required)
        if limit is not None and len(text) > limit:
            raise ValueError(f"is {len(text)} characters long; the limit is {limit}")
        return text

    return convert


def _vocab_step(vocab, *, required: bool) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        value = vocab.decode(raw)
        if required and not value:
            raise ValueError(f"is required; use one of: {', '.join(vocab.shown)}")
        return value

    return convert


def _account_ref(raw: str) -> str:
    text = raw.strip().removeprefix("@")  # data trees write "@AccountRef1"
    if not text:
        raise ValueError("is required: the id of the opportunity's account")
    return text


def _first_company(raw: str) -> str:
    """HubSpot lists every associated company ("123;456"); the first is the deal's account."""
    return _account_ref(raw.split(";", 1)[0])


def _close_date(raw: str) -> date:
    text = raw.strip()
    if not text:
        raise ValueError("is required (YYYY-MM-DD)")
    return _parse_date(text)


def _steps(lay: Layout, carried: frozenset[str]) -> tuple[Step, ...]:
    """The conversions for the fields a file carries, built once per layout and column set."""
    model = _MODEL[lay.kind]
    steps: list[Step] = []
    for name in FIELDS[lay.kind]:
        if name not in carried or name in ("amount", "currency"):
            continue  # amount and currency are read together (see _money)
        vocab = lay.vocab(name)
        if vocab is not None:
            steps.append((name, name, _vocab_step(vocab, required=name == "stage")))
        elif name == "country":
            steps.append((name, name, country_from_text))
        elif name == "employees":
            steps.append((name, name, _parse_int))
        elif name == "close_date":
            steps.append((name, name, _close_date))
        elif name == "owner_email":
            steps.append((name, name, lambda raw: raw.strip().lower()))
        elif name == "account_external_id":
            steps.append((name, "account_ref", _first_company if lay.fmt == "hubspot" else _account_ref))
        else:
            limit = model._meta.get_field(name).max_length
            steps.append((name, name, _text_step(limit, verbatim=name in _VERBATIM, required="is required" if name == "name" else "")))
    return tuple(steps)


@dataclass
class Checked:
    row: SourceRow
    key: str  # the id the row is matched by
    values: dict[str, Any]  # model attribute → value (owner_email / account_ref until resolved)
    errors: list[tuple[str, str]]  # (canonical field or column, message)


def _money(row: SourceRow, values: dict[str, Any], errors: list[tuple[str, str]], base_currency: str) -> None:
    carried = row.carried
    raw_currency = row.values.get("currency", "") if "currency" in carried else ""
    # Always set: a file without currencies is in the vendor's base currency.
    currency = raw_currency.strip().upper() or base_currency
    if not is_currency(currency):
        errors.append(("currency", f"{raw_currency.strip()!r} is not an ISO 4217 currency code such as USD or EUR"))
        return
    values["currency"] = currency
    if "amount" not in carried:
        return
    text = row.values.get("amount", "").strip()
    if not text:
        values["amount_minor"] = 0
        return
    if "\x00" in text:
        errors.append(("amount", NUL_MESSAGE))
        return
    try:
        minor = parse_amount(text, currency).minor
    except MoneyError as exc:
        errors.append(("amount", str(exc)))
        return
    if minor < 0:
        errors.append(("amount", f"{text} is negative; amounts cannot be negative"))
    elif minor > MAX_MINOR:
        errors.append(("amount", f"{text} is larger than Covey can store"))
    else:
        values["amount_minor"] = minor


def _check_row(row: SourceRow, steps: tuple[Step, ...], base_currency: str) -> Checked:
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = list(row.problems)
    cells = row.values
    for name, key, convert in steps:
        raw = cells.get(name, "")
        if "\x00" in raw:
            errors.append((name, NUL_MESSAGE))
            continue
        try:
            values[key] = convert(raw)
        except ValueError as exc:
            errors.append((name, str(exc)))
    if row.kind == "opportunities":
        _money(row, values, errors, base_currency)
    key = values.pop("external_id", "")
    if not key and "external_id" in row.carried and not any(f == "external_id" for f, _m in errors):
        errors.append(("external_id", "is required, so that importing again updates this record instead of adding a copy"))
    return Checked(row, key, values, errors)


def _column(row: SourceRow, name: str) -> str:
    return row.headers.get(name, name)


def _message(row: SourceRow, name: str, message: str) -> str:
    return f"{_column(row, name)} {message}" if message.startswith("is ") else message


# --- resolving references (one chunked query each) -------------------------------------------

# What is read of an existing record: enough to tell whether a row changes it and to say how.
_COMPARED = {
    "accounts": (
        "name", "domain", "website", "industry", "region", "country", "city", "phone", "segment",
        "employees", "status", "owner_id", "description",
    ),
    "opportunities": (
        "name", "account_id", "stage", "type", "amount_minor", "currency", "close_date", "lost_reason",
        "lead_source", "description", "owner_id", "campaign_code",
    ),
}
_RELATED = {"accounts": ("owner__email",), "opportunities": ("owner__email", "account__name")}


def _chunk_size(columns: int = 1) -> int:
    limit = connection.features.max_query_params or 10_000
    return max(50, min(1_000, limit // columns - 10))  # longer IN lists cost more to plan than they save


def _chunks(values: list, size: int) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _match(kind: str, ids: Iterable[str], fields: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """id → the record (as a dict of ``fields``), matching external_id first and public_id second."""
    model = _MODEL[kind]
    columns = ("pk", "external_id", "public_id", *fields)
    wanted = sorted(set(ids))
    found: dict[str, dict] = {}
    for chunk in _chunks(wanted, _chunk_size()):
        for record in model.objects.filter(external_id__in=chunk).order_by().values(*columns):
            found[record["external_id"]] = record
    # Only ids shaped like this model's public ids ("opp_…") can be one.
    prefix = model._meta.get_field("public_id").prefix + "_"  # type: ignore[attr-defined]
    public = [i for i in wanted if i not in found and i.startswith(prefix)]
    for chunk in _chunks(public, _chunk_size()):
        for record in model.objects.filter(public_id__in=chunk).order_by().values(*columns):
            found[record["public_id"]] = record
    return found


def _users(emails: Iterable[str]) -> dict[str, User]:
    wanted = sorted(set(emails))
    found: dict[str, User] = {}
    for chunk in _chunks(wanted, _chunk_size()):
        found.update({u.email.lower(): u for u in User.objects.filter(email__in=chunk)})
    return found


# --- writing ---------------------------------------------------------------------------------


@dataclass
class Plan:
    checked: Checked
    existing: dict[str, Any] | None  # the record to update, or None to create
    account_key: str = ""  # opportunities: the account in this import it links to, known after writing it


def _display(name: str, value: Any, names: dict[tuple[str, int], str]) -> Any:
    if name == "owner_id":
        return names.get(("user", value)) if value is not None else None
    if name == "account_id":
        return names.get(("account", value))
    if isinstance(value, date):
        return value.isoformat()
    return value


def _field_label(name: str) -> str:
    return {"owner_id": "owner", "account_id": "account"}.get(name, name)


def _update_rows(model: type[models.Model], fields: list[str], rows: list[tuple]) -> None:
    """Set ``fields`` of many rows with ``UPDATE … FROM (VALUES …)``, one statement per batch.

    ``rows`` are ``(pk, *values)``. Django's ``bulk_update`` builds a ``CASE WHEN pk = …`` expression
    per row and field, which costs about a millisecond each in Python: minutes for a large file.
    Both SQLite (3.33+) and PostgreSQL accept this form.
    """
    opts = model._meta
    qn = connection.ops.quote_name
    table = qn(opts.db_table)
    objs = [opts.get_field(f) for f in fields]
    postgres = connection.vendor == "postgresql"

    def value(i: int, field: models.Field) -> str:
        # PostgreSQL types a VALUES list from its parameters; say what each column is.
        return f"CAST(v.column{i} AS {field.db_type(connection)})" if postgres else f"v.column{i}"

    assignments = ", ".join(f"{qn(f.column)} = {value(i, f)}" for i, f in enumerate(objs, start=2))
    pk_value = "CAST(v.column1 AS bigint)" if postgres else "v.column1"
    width = len(fields) + 1
    per_statement = max(1, min(1000, (connection.features.max_query_params or 30_000) // width))
    row_sql = "(" + ", ".join(["%s"] * width) + ")"
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, per_statement):
            params: list[Any] = []
            for pk, *values in chunk:
                params.append(pk)
                params.extend(f.get_db_prep_save(v, connection) for f, v in zip(objs, values, strict=True))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v "
                f"WHERE {table}.{qn(opts.pk.column)} = {pk_value}",
                params,
            )


def _can_update_from() -> bool:
    return connection.vendor == "postgresql" or (
        connection.vendor == "sqlite" and connection.Database.sqlite_version_info >= (3, 33)
    )


def _insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT new rows through ``core.bulk.bulk_insert`` (COPY / executemany, no model instances).

    ``bulk_create`` compiles every value through Django's expression machinery, about ten
    microseconds each: most of a large import's time. ``bulk_insert`` applies no model defaults,
    so the columns a row leaves out get them here.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    defaults = [f.get_default() for f in fields]
    bulk_insert(model, names, (tuple(row.get(n, d) for n, d in zip(names, defaults, strict=True)) for row in rows))


def _write_kind(
    kind: str, plans: list[Plan], *, actor, names: dict[tuple[str, int], str], progress: Progress | None,
    done: list[int], total: int,
) -> tuple[Counts, dict[str, tuple[int, str]]]:
    """Create and update one kind's records; returns counts and id → (pk, name), unchanged ones too."""
    model = _MODEL[kind]
    now = timezone.now()
    counts = Counts()
    creates: list[dict[str, Any]] = []
    updates: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (existing, changed values)
    changed_fields: set[str] = set()
    by_key: dict[str, tuple[int, str]] = {}
    for plan in plans:
        values = plan.checked.values
        existing = plan.existing
        if existing is None:
            creates.append(values | {"external_id": plan.checked.key, "created_at": now, "updated_at": now})
            continue
        diff = {k: v for k, v in values.items() if existing[k] != v}
        by_key[plan.checked.key] = (existing["pk"], values.get("name", existing["name"]))
        if diff:
            updates.append((existing, diff))
            changed_fields.update(diff)
        else:
            counts.unchanged += 1

    changes: dict[int, dict] = {}
    done[0] += counts.unchanged  # nothing to write for them, but they are done

    def changes_for(o):
        return changes[id(o)]

    def advance(n: int) -> None:
        done[0] += n
        if progress:
            progress("write", done[0], total)

    prefix = model._meta.get_field("public_id").prefix  # type: ignore[attr-defined]
    for row, public_id in zip(creates, new_public_ids(prefix, len(creates)), strict=True):
        row["public_id"] = public_id
    for chunk in _chunks(creates, BATCH):
        _insert_rows(model, chunk)
        # Unsaved stand-ins carry what an audit event names: type, public id and display name.
        subjects = []
        for row in chunk:
            subject = model(public_id=row["public_id"], name=row["name"])
            changes[id(subject)] = {
                _field_label(k): [None, _display(k, v, names)]
                for k, v in row.items() if (k in _COMPARED[kind] or k == "external_id") and v not in (None, "")
            }
            subjects.append(subject)
        audit.record_many(actor=actor, action="create", objs=subjects, source="import", changes_for=changes_for)
        advance(len(chunk))
    if creates and kind == "accounts":  # their keys, for opportunities in the same import
        created = _match(kind, (row["external_id"] for row in creates), ("name",))
        by_key.update({key: (record["pk"], record["name"]) for key, record in created.items()})

    fields = sorted(changed_fields)
    for chunk in _chunks(updates, BATCH):
        subjects = []
        for existing, diff in chunk:
            subject = model(pk=existing["pk"], public_id=existing["public_id"], name=diff.get("name", existing["name"]))
            changes[id(subject)] = {
                _field_label(k): [_display(k, existing[k], names), _display(k, v, names)] for k, v in diff.items()
            }
            subjects.append(subject)
        if _can_update_from():
            _update_rows(
                model, [*fields, "updated_at"],
                [(e["pk"], *[d.get(f, e[f]) for f in fields], now) for e, d in chunk],
            )
        else:  # an old SQLite: Django's slower CASE-based bulk update
            objs = [model(pk=e["pk"], **{f: d.get(f, e[f]) for f in fields}, updated_at=now) for e, d in chunk]
            model.objects.bulk_update(objs, [*fields, "updated_at"])
        audit.record_many(actor=actor, action="update", objs=subjects, source="import", changes_for=changes_for)
        advance(len(chunk))
    counts.created, counts.updated = len(creates), len(updates)
    return counts, by_key


# --- the import ------------------------------------------------------------------------------


def import_records(
    kind: str,
    source: Source,
    *,
    fmt: str = "auto",
    actor=None,
    partial: bool = False,
    rejects_path: str | Path | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``kind`` ("accounts" or "opportunities") from a path or a binary file object.

    Returns a report; never raises for bad input. With ``partial`` the valid rows are imported
    and the others written to ``rejects_path`` (default: ``<stem>.rejects.csv`` next to a path
    input; no rejects file for a file object unless a path is given).
    """
    with _gc_paused():
        return _import(kind, source, fmt=fmt, actor=actor, partial=partial, rejects_path=rejects_path,
                       encoding=encoding, progress=progress)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while an import holds hundreds of thousands of small objects.

    Every collection walks all live containers, so with a large file it ran again and again over
    the rows already read: half of a 100,000-row import's time. Reference counting still frees
    everything the import drops; the collector resumes (and catches up) at the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(
    kind: str, source: Source, *, fmt: str, actor, partial: bool, rejects_path: str | Path | None,
    encoding: str | None, progress: Progress | None,
) -> ImportReport:
    report = ImportReport(kind=kind, fmt=fmt)
    try:
        bundle = read_bundle(kind, source, fmt=fmt, encoding=encoding)
    except ImportFileError as exc:
        report.errors.append(RowError(None, exc.column, exc.message, kind=kind))
        return report
    report.fmt = bundle.fmt
    report.warnings.extend(bundle.warnings)
    kinds = [k for k in KINDS if bundle.rows.get(k)]
    report.counts = {k: Counts() for k in kinds}
    report.rows = sum(len(bundle.rows[k]) for k in kinds)
    if progress:
        progress("read", report.rows, report.rows)

    base_currency = VendorSettings.current().base_currency
    checked: dict[str, list[Checked]] = {}
    seen = 0
    for k in kinds:
        lay = LAYOUTS[(bundle.fmt, k)]
        steps_for: dict[frozenset[str], tuple[Step, ...]] = {}  # rows of one file share their columns
        checked[k] = []
        for row in bundle.rows[k]:
            steps = steps_for.get(row.carried)
            if steps is None:
                steps = steps_for[row.carried] = _steps(lay, row.carried)
            checked[k].append(_check_row(row, steps, base_currency))
            seen += 1
            if progress and seen % 10_000 == 0:
                progress("check", seen, report.rows)
    if progress:
        progress("check", report.rows, report.rows)
    _flag_duplicates(checked)

    # Resolve ids, owners and accounts with one (chunked) query each.
    if progress:
        progress("match", 0, report.rows)
    existing = {k: _match(k, (c.key for c in checked[k] if c.key), _COMPARED[k] + _RELATED[k]) for k in kinds}
    _flag_same_record(checked, existing)
    emails = {c.values["owner_email"] for k in kinds for c in checked[k] if c.values.get("owner_email")}
    users = _users(emails) if emails else {}
    names: dict[tuple[str, int], str] = {("user", u.pk): u.email for u in users.values()}
    for k in kinds:
        for record in existing[k].values():
            if record["owner_id"]:
                names[("user", record["owner_id"])] = record["owner__email"]
            if k == "opportunities":
                names[("account", record["account_id"])] = record["account__name"]

    # Accounts this import brings, for the opportunities that link to them.
    bundle_accounts: dict[str, Checked] = {}
    bundle_refs: dict[str, Checked] = {}
    for c in checked.get("accounts", []):
        if c.key:
            bundle_accounts.setdefault(c.key, c)
        if c.row.ref:
            bundle_refs.setdefault(c.row.ref, c)
    refs = {c.values["account_ref"] for c in checked.get("opportunities", []) if c.values.get("account_ref")}
    db_accounts = _match("accounts", refs, ("name",)) if refs else {}
    names.update({("account", a["pk"]): a["name"] for a in db_accounts.values()})

    plans: dict[str, list[Plan]] = {k: [] for k in kinds}
    for k in kinds:
        for c in checked[k]:
            _resolve_owner(c, users)
            plan = Plan(c, existing[k].get(c.key) if c.key else None)
            if k == "accounts" and plan.existing is None and "domain" not in c.row.carried and c.values.get("website"):
                c.values["domain"] = domain_from_website(c.values["website"])[:253]
            if k == "opportunities" and "account_ref" in c.values:
                ref = c.values.pop("account_ref")
                target = bundle_refs.get(ref) or bundle_accounts.get(ref)
                if target is not None and not target.errors:
                    plan.account_key = target.key
                elif ref in db_accounts:
                    c.values["account_id"] = db_accounts[ref]["pk"]
                elif target is not None:
                    c.errors.append(("account_external_id", f"the account {ref} ({target.row.unit} {target.row.number}) is invalid"))
                else:
                    c.errors.append(("account_external_id", f"no account with the id {ref}, in Covey or in this file"))
            plans[k].append(plan)

    bad = [c for k in kinds for c in checked[k] if c.errors]
    for c in bad:
        report.counts[c.row.kind].rejected += 1
        for name, message in c.errors:
            report.errors.append(RowError(
                c.row.number, _column(c.row, name), _message(c.row, name, message),
                kind=c.row.kind, file=c.row.file, unit=c.row.unit,
            ))
    if bad and not partial:
        return report

    good = {k: [p for p in plans[k] if not p.checked.errors] for k in kinds}
    total = sum(len(v) for v in good.values())
    done = [0]
    try:
        with transaction.atomic():
            written_accounts: dict[str, tuple[int, str]] = {}
            for k in kinds:
                if k == "opportunities":
                    for plan in good[k]:
                        if plan.account_key:
                            pk, name = written_accounts[plan.account_key]
                            plan.checked.values["account_id"] = pk
                            names[("account", pk)] = name
                counts, by_key = _write_kind(k, good[k], actor=actor, names=names, progress=progress, done=done, total=total)
                if k == "accounts":
                    written_accounts = by_key
                report.counts[k].created = counts.created
                report.counts[k].updated = counts.updated
                report.counts[k].unchanged = counts.unchanged
    except IntegrityError:
        report.errors.append(RowError(None, "", CONCURRENT_CHANGE, kind=kind))
        for c in report.counts.values():
            c.created = c.updated = c.unchanged = 0
        return report
    report.applied = True

    if bad:
        target_path = Path(rejects_path) if rejects_path else _default_rejects(source)
        if target_path is not None:
            write_rejects(target_path, bad, bundle)
            report.rejects_path = target_path
    return report


def _resolve_owner(c: Checked, users: dict[str, User]) -> None:
    email = c.values.pop("owner_email", None)
    if email is None:
        return  # the file has no owner column
    user = users.get(email) if email else None
    if email and user is None:
        c.errors.append(("owner_email", f"no Covey user has the e-mail {email}"))
    elif user is not None and not user.is_vendor:
        c.errors.append(("owner_email", f"{email} is a partner user; an owner must be on your own staff"))
    else:
        c.values["owner_id"] = user.pk if user else None


def _rows_text(group: list[Checked]) -> str:
    unit = group[0].row.unit
    numbers = [str(c.row.number) for c in group]
    return f"{unit}s {', '.join(numbers[:-1])} and {numbers[-1]}"


def _flag_duplicates(checked: dict[str, list[Checked]]) -> None:
    """An id (or data-tree referenceId) twice in one import: every copy is refused."""
    for rows in checked.values():
        for attr in ("key", "ref"):
            groups: dict[str, list[Checked]] = defaultdict(list)
            for c in rows:
                value = c.key if attr == "key" else c.row.ref
                if value and (attr == "key" or value != c.key):  # a referenceId used as the id is checked once
                    groups[value].append(c)
            for value, group in groups.items():
                if len(group) > 1:
                    name = "external_id" if attr == "key" else "attributes.referenceId"
                    where = _rows_text(group)
                    for c in group:
                        c.errors.append((name, f"the id {value} appears on {where}; each record may appear only once"))


def _flag_same_record(checked: dict[str, list[Checked]], existing: dict[str, dict[str, dict]]) -> None:
    """Two rows that reach one record by different ids (its external and its public id)."""
    for k, rows in checked.items():
        by_record: dict[int, list[Checked]] = defaultdict(list)
        for c in rows:
            record = existing[k].get(c.key) if c.key else None
            if record is not None:
                by_record[record["pk"]].append(c)
        for group in by_record.values():
            if len(group) > 1 and len({c.key for c in group}) > 1:
                where = _rows_text(group)
                for c in group:
                    c.errors.append(("external_id", f"{where} are the same record; each record may appear only once"))


def _default_rejects(source: Source) -> Path | None:
    if isinstance(source, (str, Path)):
        path = Path(source)
        return path.with_name(f"{path.stem}.rejects.csv")
    return None


def write_rejects(target: Path, bad: list[Checked], bundle: Bundle) -> None:
    """The refused rows as they were read, plus an ``error`` column; cells made spreadsheet-safe."""
    with open(target, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        if bundle.csv_headers is not None:
            headers = bundle.csv_headers
            dropped = {i for i, h in enumerate(headers) if h.strip().casefold() == REJECTS_COLUMN}
            writer.writerow([safe_cell(h) for i, h in enumerate(headers) if i not in dropped] + [REJECTS_COLUMN])
            for c in sorted(bad, key=lambda c: c.row.number):
                cells = list(c.row.cells) + [""] * (len(headers) - len(c.row.cells))
                writer.writerow(
                    [safe_cell(cell) for i, cell in enumerate(cells) if i not in dropped] + [safe_cell(_error_text(c))]
                )
        else:
            columns: list[str] = ["sobject"]
            for k in KINDS:
                columns.extend(h for h in LAYOUTS[(TREE_FORMAT, k)].headers if h not in columns)
            writer.writerow([*columns, REJECTS_COLUMN])
            for c in bad:
                tree_cells: dict[str, str] = c.row.cells  # type: ignore[assignment]
                writer.writerow([safe_cell(tree_cells.get(h, "")) for h in columns] + [safe_cell(_error_text(c))])


def _error_text(c: Checked) -> str:
    parts = []
    for name, message in c.errors:
        column = _column(c.row, name)
        text = _message(c.row, name, message)
        parts.append(text if text.startswith(column) or not column else f"{column}: {text}")
    return "; ".join(parts)
