"""The thin adapter between ``covey.mapping.reader`` and the stored list rows.

``read_upload`` reads a file with the engine's reader (so the same headers are recognised, the same
cells refused and the same import report written) and adds the columns populations filter on —
industry, region, employees, owner, customer/prospect status and "open opportunity" — which the
engine does not need. ``rows_frame`` turns the result into the frame ``ListRow`` is written from:
text cleaned of NUL characters (PostgreSQL refuses them), cut to the column sizes, numbers parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from covey.mapping import reader
from covey.mapping.reader import HEADERS, ImportReport, accounts_from_table, read_table

# Fields a person can assign a column to (the engine's first, then the population attributes).
ENGINE_FIELDS = (
    ("id", "Id"), ("name", "Company name"), ("website", "Website / domain"), ("domains", "Further domains"),
    ("country", "Country"), ("city", "City"), ("phone", "Phone"),
)
ATTRIBUTE_HEADERS: dict[str, tuple[str, ...]] = {
    "industry": ("industry", "sector", "vertical"),
    "region": ("region", "salesregion", "territory", "geo", "geography"),
    "employees": ("numberofemployees", "employees", "employeecount", "companysize", "headcount", "size"),
    "owner": ("accountowner", "owner", "ownername", "companyowner", "hubspotowner", "ownerfullname", "ownerid"),
    "status": ("type", "accounttype", "status", "lifecyclestage", "customerstatus", "relationship", "accountstatus"),
    "open_opportunity": ("openopportunity", "openopportunities", "hasopenopportunity", "opendeals", "opendeal",
                         "numberofopendeals", "openpipeline", "opportunitystage", "dealstage"),
}
ATTRIBUTE_FIELDS = (
    ("industry", "Industry"), ("region", "Region"), ("employees", "Employees"), ("owner", "Owner"),
    ("status", "Customer or prospect"), ("open_opportunity", "Open opportunity"),
)
ALL_FIELDS = ENGINE_FIELDS + ATTRIBUTE_FIELDS
TEXT_LIMITS = {"external_id": 255, "country": 100, "city": 100, "phone": 60, "industry": 100, "region": 60, "owner": 200}
BIG_TEXT_LIMIT = 2_000
CLOSED_WORDS = ("closed", "lost", "won", "none", "no", "false", "0", "n")
CUSTOMER_WORDS = ("customer", "client", "active", "evangelist")
FORMER_WORDS = ("former", "churn", "lapsed", "inactive", "cancelled", "canceled")
NO_FILE = "Choose a CSV or XLSX file to upload."


def _fold(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(text).casefold())


def detect_attributes(headers: list[str], taken: set[str]) -> dict[str, str]:
    folded = {h: _fold(h) for h in headers}
    chosen: dict[str, str] = {}
    for name, aliases in ATTRIBUTE_HEADERS.items():
        for alias in aliases:
            hit = next((h for h in headers if folded[h] == alias and h not in taken and h not in chosen.values()), None)
            if hit is not None:
                chosen[name] = hit
                break
    return chosen


@dataclass
class Upload:
    report: ImportReport
    headers: list[str]
    columns: dict[str, str]  # field → header, every field that has one
    rows: pl.DataFrame | None  # None when the report is fatal

    @property
    def ok(self) -> bool:
        return self.report.ok and self.rows is not None


def read_upload(data: bytes, *, filename: str, columns: dict[str, str] | None = None) -> Upload:
    """Read a list; ``columns`` (field → header, "" for none) replaces the detected mapping."""
    table, report = read_table(data, filename=filename)
    if report.fatal:
        return Upload(report=report, headers=[], columns={}, rows=None)
    headers = list(table.columns)
    engine_override = None
    if columns is not None:
        engine_override = {k: v for k, v in columns.items() if k in HEADERS and v in headers}
    accounts = accounts_from_table(table, report, columns=engine_override)
    engine_columns = dict(report.columns)
    if report.domain_columns and "domains" not in engine_columns:
        engine_columns["domains"] = report.domain_columns[0]
    if columns is not None:
        attributes = {k: v for k, v in columns.items() if k in ATTRIBUTE_HEADERS and v in headers}
    else:
        attributes = detect_attributes(headers, set(engine_columns.values()) | set(report.domain_columns))
    chosen = {**engine_columns, **attributes}
    if report.fatal:
        return Upload(report=report, headers=headers, columns=chosen, rows=None)
    extra = table.with_row_index("row", offset=2).select(
        pl.col("row").cast(pl.Int64),
        *[pl.col(header).alias(f"attr_{name}") for name, header in attributes.items()],
    )
    return Upload(report=report, headers=headers, columns=chosen, rows=accounts.join(extra, on="row", how="left"))


def _text(name: str, limit: int) -> pl.Expr:
    return pl.col(name).cast(pl.String).str.replace_all("\x00", "", literal=True).str.strip_chars().fill_null("").str.slice(0, limit)


def _status(expr: pl.Expr) -> pl.Expr:
    folded = expr.cast(pl.String).str.to_lowercase().fill_null("")
    return (
        pl.when(folded.str.contains("|".join(FORMER_WORDS))).then(pl.lit("former"))
        .when(folded.str.contains("|".join(CUSTOMER_WORDS))).then(pl.lit("customer"))
        .when(folded != "").then(pl.lit("prospect"))
        .otherwise(pl.lit(""))
    )


def _open(expr: pl.Expr) -> pl.Expr:
    folded = expr.cast(pl.String).str.to_lowercase().str.strip_chars().fill_null("")
    closed = folded.is_in(list(CLOSED_WORDS)) | folded.str.starts_with("closed") | (folded == "")
    return ~closed


def rows_frame(upload_rows: pl.DataFrame, *, list_id: int, version: int) -> pl.DataFrame:
    """The ``ListRow`` columns for a read upload (one row per file row; rows sharing an id stay
    separate rows here, the engine reads them as one account)."""
    frame = upload_rows
    for name in ("industry", "region", "employees", "owner", "status", "open_opportunity"):
        if f"attr_{name}" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(f"attr_{name}"))
    employees = (
        pl.col("attr_employees").cast(pl.String).str.replace_all(r"[^0-9]", "").str.slice(0, 9)
        .cast(pl.Int64, strict=False)
    )
    return frame.select(
        account_list_id=pl.lit(list_id, dtype=pl.Int64),
        version=pl.lit(version, dtype=pl.Int64),
        external_id=_text("id", TEXT_LIMITS["external_id"]),
        row=pl.col("row").cast(pl.Int64),
        name=_text("name", BIG_TEXT_LIMIT),
        website=_text("website", BIG_TEXT_LIMIT),
        domains=_text("domains", BIG_TEXT_LIMIT),
        country=_text("country", TEXT_LIMITS["country"]),
        city=_text("city", TEXT_LIMITS["city"]),
        phone=_text("phone", TEXT_LIMITS["phone"]),
        industry=_text("attr_industry", TEXT_LIMITS["industry"]),
        region=_text("attr_region", TEXT_LIMITS["region"]),
        employees=employees,
        owner=_text("attr_owner", TEXT_LIMITS["owner"]),
        status=_status(pl.col("attr_status")),
        open_opportunity=_open(pl.col("attr_open_opportunity")),
    )


MAX_CELL_CHARS = reader.MAX_CELL_CHARS
