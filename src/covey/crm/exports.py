"""Export accounts and opportunities as CSV (generic, Salesforce, HubSpot) or a Salesforce data tree.

Design
- Streaming: rows are read with ``.values(…).iterator()`` and written one at a time, so an export of
  a million opportunities never holds them all in memory.
- Ids: a record is exported under its ``external_id``, or its ``public_id`` when it has none; the
  importer matches an id against both, so an export re-imports onto the same records, unchanged.
  Opportunities name their account the same way (``account_external_id`` / ``AccountId`` /
  "Associated Company IDs"; ``"@<id>"`` in a data tree).
- CSV text cells go through ``core.csvsafe.safe_cell`` (a leading apostrophe before ``=``, ``+``,
  ``-``, ``@``) so a spreadsheet never runs a customer's name as a formula; the importer removes
  it again. Numbers (amounts, employees) are written as numbers and left alone, so they stay numbers.
- Amounts are major units with exactly the currency's decimals (``48000.00`` USD, ``5000`` JPY),
  computed from the integer minor units; no float is involved.
- The data tree mirrors ``sf data tree export``: ``{"records": [{"attributes": {"type": …,
  "referenceId": …}, …}]}``, empty fields left out, amounts as JSON numbers.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from covey.core.csvsafe import safe_cell
from covey.core.money import currency_exponent
from covey.crm.formats import (
    FORMATS,
    KIND_SOBJECTS,
    LAYOUTS,
    TREE_FORMAT,
    Layout,
    canonical_format,
    country_name,
    layout,
)

ITERATOR_CHUNK = 2000

_VALUES = {
    "accounts": (
        "public_id", "external_id", "name", "domain", "website", "industry", "region", "country", "city",
        "phone", "segment", "employees", "status", "owner__email", "description",
    ),
    "opportunities": (
        "public_id", "external_id", "name", "account__external_id", "account__public_id", "stage", "type",
        "amount_minor", "currency", "close_date", "lost_reason", "lead_source", "description", "owner__email",
        "campaign_code",
    ),
}


def _amount(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-currency_exponent(currency))


def _canonical(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """A database row as canonical fields (the generic format's values, numbers as numbers)."""
    out = {k: v for k, v in row.items() if "__" not in k and k not in ("public_id", "amount_minor")}
    out["external_id"] = row["external_id"] or row["public_id"]
    out["owner_email"] = row["owner__email"] or ""
    if kind == "opportunities":
        out["account_external_id"] = row["account__external_id"] or row["account__public_id"]
        out["amount"] = _amount(row["amount_minor"], row["currency"])
        out["close_date"] = row["close_date"].isoformat() if row["close_date"] else ""
    return out


def _encoded(lay: Layout, canonical: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(header, value) pairs in the layout's order, with its vocabulary applied."""
    for column in lay.columns:
        value = canonical.get(column.field)
        if value is None:
            value = ""
        elif column.vocab is not None:
            value = column.vocab.encode(value)
        elif column.field == "country" and lay.country_names:
            value = country_name(value)
        yield column.header, value


def _rows(kind: str, queryset: QuerySet) -> Iterator[dict[str, Any]]:
    for row in queryset.values(*_VALUES[kind]).iterator(chunk_size=ITERATOR_CHUNK):
        yield _canonical(kind, row)


def write_csv(kind: str, queryset: QuerySet, fh: IO[str], fmt: str = "generic") -> int:
    """Write ``queryset`` (accounts or opportunities) to the text stream ``fh``; returns rows written.

    ``fmt`` is generic, salesforce or hubspot (sf-tree writes the data tree JSON instead).
    """
    fmt = canonical_format(fmt)
    if fmt == TREE_FORMAT:
        return write_tree(kind, queryset, fh)
    lay = layout(fmt, kind)
    writer = csv.writer(fh)
    writer.writerow(lay.headers)
    count = 0
    for canonical in _rows(kind, queryset):
        writer.writerow([safe_cell(v) for _h, v in _encoded(lay, canonical)])
        count += 1
    return count


def _json_value(value: Any) -> str:
    # Decimal amounts go out as JSON numbers written digit for digit, never through a float.
    return str(value) if isinstance(value, Decimal) else json.dumps(value, ensure_ascii=False)


def write_tree(kind: str, queryset: QuerySet, fh: IO[str]) -> int:
    """Write a Salesforce data tree file (``{"records": […]}``) for one kind; returns records written."""
    lay = LAYOUTS[(TREE_FORMAT, kind)]
    sobject = KIND_SOBJECTS[kind]
    fh.write('{\n    "records": [')
    count = 0
    for canonical in _rows(kind, queryset):
        parts = [
            f'"attributes": {{"type": {json.dumps(sobject)}, "referenceId": {json.dumps(canonical["external_id"], ensure_ascii=False)}}}'
        ]
        for header, value in _encoded(lay, canonical):
            if header == "Id" or (value in ("", None) and not (header == "Domain__c" and canonical["website"])):
                # The referenceId is the id; sf data tree leaves empty fields out. An empty Domain__c
                # next to a website is kept: without it the importer takes the domain from the website.
                continue
            if header == "AccountId":
                value = "@" + value
            parts.append(f"{json.dumps(header)}: {_json_value(value)}")
        fh.write(("," if count else "") + "\n        {\n            " + ",\n            ".join(parts) + "\n        }")
        count += 1
    fh.write("\n    ]\n}\n")
    return count


SPOOL_IN_MEMORY = 8 * 1024 * 1024
DOWNLOAD_KINDS = ("accounts", "opportunities", "opportunity-partners")


def download(kind: str, queryset: QuerySet, fmt: str = "generic") -> StreamingHttpResponse:
    """An export as a file download, for the pages and the API alike.

    ``kind`` is one of DOWNLOAD_KINDS (for opportunity-partners, ``queryset`` holds
    OpportunityPartner rows), ``fmt`` one of FORMATS or their aliases. The file is written first to a
    spooled temporary file (memory up to 8 MB, then disk), so a large export neither holds the
    database cursor open for the whole download nor fills the memory.
    """
    from covey.crm.partner_links import write_partner_links

    fmt = canonical_format(fmt)
    if kind not in DOWNLOAD_KINDS or fmt not in FORMATS:
        raise ValueError(f"cannot export {kind!r} as {fmt!r}")
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+", encoding="utf-8", newline="")
    if kind == "opportunity-partners":
        write_partner_links(queryset, spool, fmt)
    else:
        write_csv(kind, queryset, spool, fmt)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(64 * 1024):
                yield chunk.encode("utf-8")

    tree = fmt == TREE_FORMAT
    response = StreamingHttpResponse(chunks(), content_type="application/json" if tree else "text/csv; charset=utf-8")
    suffix = "" if fmt == "generic" else f"-{fmt}"
    response["Content-Disposition"] = (
        f'attachment; filename="covey-{kind}{suffix}-{timezone.localdate().isoformat()}.{"json" if tree else "csv"}"')
    return response
