"""Opportunity partners (which partner took part in a deal, in which role) to and from CRM files.

Formats (the same names as accounts and opportunities; see ``covey.crm.formats``)
- ``generic`` CSV: ``opportunity_external_id, partner_id, role, is_primary`` with Covey's values.
- ``salesforce`` CSV: Salesforce's ``Partner`` object, ``OpportunityId, AccountToId, Role, IsPrimary``.
- ``sf-tree``: the same fields as ``sf data tree`` records of type ``Partner``, the opportunity as
  a reference (``"OpportunityId": "@OPP-1"``), ``IsPrimary`` as a JSON boolean.
- ``hubspot`` CSV: deal ↔ company associations, ``Deal Record ID, Company Record ID, Association
  labels``; the role is a custom association label and HubSpot's own "Primary" label marks the
  primary partner (``"Reseller;Primary"``).

Ids: an opportunity is written as its external_id, else its public_id, exactly as the opportunity
export writes it, so the files link up; a partner is its public id (``ptn_…``), since partners are
Covey's own records. Roles map one to one (export writes the first spelling; import reads any):

    sourced      Sourced (custom value)           referral    Referral (custom value)
    reseller     VAR/Reseller, Dealer             distributor Distributor
    integrator   System Integrator, Contractor    technology  Developer, Supplier
    influencer   Consultant, Agency, Advertiser

Salesforce standard PartnerRole values with no Covey meaning (Broker, Lender, Institution) are
refused with the accepted list. Covey's own values and labels are accepted in every format.

Import: every row is checked first; a bad row (unknown opportunity or partner, unknown role, the
same pair twice, two primaries on one deal) is reported with its row and column and nothing is
written. Then one transaction adds the missing links and updates the changed ones (a new primary
demotes the old one); links not in the file are left alone, and an unchanged row writes nothing.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import IO

from django.db import IntegrityError, transaction

from covey.core import audit
from covey.core.csvsafe import safe_cell, unneutralise
from covey.crm.formats import CSV_FORMATS, FORMATS, TREE_FORMAT, Vocabulary, canonical_format
from covey.crm.imports import (
    CONCURRENT_CHANGE,
    EMPTY_FILE,
    NO_ROWS,
    Counts,
    ImportFileError,
    ImportReport,
    RowError,
    Source,
    _chunks,
    _csv_records,
    _load_json,
    _match,
    _read_bytes,
    _tree_records,
    decode,
)
from covey.crm.models import OpportunityPartner, PartnerInvolvement

KIND = "opportunity_partners"
SOBJECT = "Partner"
FIELDS = ("opportunity", "partner", "role", "is_primary")
HEADERS = {
    "generic": ("opportunity_external_id", "partner_id", "role", "is_primary"),
    "salesforce": ("OpportunityId", "AccountToId", "Role", "IsPrimary"),
    "sf-tree": ("OpportunityId", "AccountToId", "Role", "IsPrimary"),
    "hubspot": ("Deal Record ID", "Company Record ID", "Association labels"),
}
HUBSPOT_PRIMARY = "Primary"

R = PartnerInvolvement
_COVEY_WORDS = {str(c.value): str(c.value) for c in R} | {str(c.label): str(c.value) for c in R}
SALESFORCE_ROLES = Vocabulary(
    label="partner role",
    read=_COVEY_WORDS | {
        "Sourced": R.SOURCED, "Referral": R.REFERRAL, "VAR/Reseller": R.RESELLER, "Dealer": R.RESELLER,
        "Distributor": R.DISTRIBUTOR, "System Integrator": R.INTEGRATOR, "Contractor": R.INTEGRATOR,
        "Developer": R.TECHNOLOGY, "Supplier": R.TECHNOLOGY, "Consultant": R.INFLUENCER,
        "Agency": R.INFLUENCER, "Advertiser": R.INFLUENCER,
    },
    write={R.SOURCED: "Sourced", R.REFERRAL: "Referral", R.RESELLER: "VAR/Reseller", R.DISTRIBUTOR: "Distributor",
           R.INTEGRATOR: "System Integrator", R.TECHNOLOGY: "Developer", R.INFLUENCER: "Consultant"},
    shown=["Sourced", "Referral", "VAR/Reseller", "Dealer", "Distributor", "System Integrator", "Contractor",
           "Developer", "Supplier", "Consultant", "Agency", "Advertiser"],
)
COVEY_ROLES = Vocabulary(label="partner role", read=_COVEY_WORDS, write={}, shown=list(R.values))
HUBSPOT_ROLES = Vocabulary(
    label="association label", read=_COVEY_WORDS, write={str(c.value): str(c.label) for c in R},
    shown=[str(c.label) for c in R],
)
ROLES = {"generic": COVEY_ROLES, "salesforce": SALESFORCE_ROLES, "sf-tree": SALESFORCE_ROLES, "hubspot": HUBSPOT_ROLES}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


# --- export ----------------------------------------------------------------------------------


def _links(queryset):
    yield from queryset.order_by("opportunity_id", "id").values_list(
        "opportunity__external_id", "opportunity__public_id", "partner__public_id", "role", "is_primary",
    ).iterator(chunk_size=2000)


def write_partner_links(queryset, fh: IO[str], fmt: str = "generic") -> int:
    """Write ``queryset`` (OpportunityPartner rows) in ``fmt``; returns the number written."""
    fmt = canonical_format(fmt)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    roles = ROLES[fmt]
    count = 0
    if fmt == TREE_FORMAT:
        fh.write('{\n    "records": [')
    else:
        writer = csv.writer(fh)
        writer.writerow(HEADERS[fmt])
    for external_id, public_id, partner, role, is_primary in _links(queryset):
        opportunity = external_id or public_id
        count += 1
        if fmt == TREE_FORMAT:
            record = {
                "attributes": {"type": SOBJECT, "referenceId": f"PartnerRef{count}"},
                "OpportunityId": "@" + opportunity, "AccountToId": partner,
                "Role": roles.encode(role), "IsPrimary": is_primary,
            }
            text = json.dumps(record, ensure_ascii=False, indent=4).replace("\n", "\n        ")
            fh.write(("," if count > 1 else "") + "\n        " + text)
        elif fmt == "hubspot":
            labels = roles.encode(role) + (f";{HUBSPOT_PRIMARY}" if is_primary else "")
            writer.writerow([safe_cell(opportunity), partner, labels])
        else:
            flag = ("true" if is_primary else "false") if fmt == "generic" else ("1" if is_primary else "0")
            writer.writerow([safe_cell(opportunity), partner, roles.encode(role), flag])
    if fmt == TREE_FORMAT:
        fh.write("\n    ]\n}\n")
    return count


# --- import ----------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    cells: dict[str, str]  # canonical field → text
    headers: dict[str, str]  # canonical field → column name, for messages
    unit: str


def _read(source: Source, fmt: str, encoding: str | None) -> tuple[str, list[_Row]]:
    data, label, _path = _read_bytes(source)
    text = decode(data, encoding) if data.strip() else ""
    if not text.strip():
        raise ImportFileError(EMPTY_FILE)
    looks_json = text.lstrip()[:1] in ("{", "[")
    if fmt == TREE_FORMAT or (fmt == "auto" and looks_json):
        records = _tree_records(_load_json(text, label), label)
        rows = []
        for number, record in enumerate(records, start=1):
            attributes = record.get("attributes") if isinstance(record, dict) else None
            if not isinstance(attributes, dict) or attributes.get("type") != SOBJECT:
                raise ImportFileError(f"Record {number} of {label} is not a {SOBJECT} record (attributes.type).")
            cells = {}
            for name, key in zip(FIELDS, HEADERS[TREE_FORMAT], strict=True):
                value = record.get(key)
                cells[name] = ("true" if value else "false") if isinstance(value, bool) else str(value or "")
            cells["opportunity"] = cells["opportunity"].removeprefix("@")
            rows.append(_Row(number, cells, dict(zip(FIELDS, HEADERS[TREE_FORMAT], strict=True)), "record"))
        if not rows:
            raise ImportFileError("The file has no records.")
        return TREE_FORMAT, rows
    records = _csv_records(text)
    records = [r for r in records if any(c.strip() for c in r)]
    if not records:
        raise ImportFileError(EMPTY_FILE)
    headers = [h.strip().casefold() for h in records[0]]
    if fmt == "auto":
        fmt = next((f for f in CSV_FORMATS if {h.casefold() for h in HEADERS[f]} <= set(headers)), "")
        if not fmt:
            raise ImportFileError(
                "The columns are not ones Covey knows for opportunity partners. Columns found: "
                f"{', '.join(records[0])}. Expected {'; or '.join(', '.join(h) for h in HEADERS.values())}."
            )
    wanted = HEADERS[fmt]
    missing = [h for h in wanted if h.casefold() not in headers]
    if missing:
        raise ImportFileError(f"Missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                              f"Columns found: {', '.join(records[0])}.")
    index = {h: headers.index(h.casefold()) for h in wanted}
    rows = []
    for number, cells in enumerate(records[1:], start=2):
        values = {name: cells[index[h]] if index[h] < len(cells) else "" for name, h in zip(FIELDS, wanted, strict=False)}
        if fmt == "hubspot":
            labels = [part.strip() for part in values.pop("role").split(";") if part.strip()]
            primary = [p for p in labels if p.casefold() == HUBSPOT_PRIMARY.casefold()]
            others = [p for p in labels if p not in primary]
            values["role"] = ";".join(others)
            values["is_primary"] = "true" if primary else "false"
        names = dict(zip(FIELDS, wanted, strict=False)) | ({"is_primary": wanted[2]} if fmt == "hubspot" else {})
        rows.append(_Row(number, {k: unneutralise(v) for k, v in values.items()}, names, "row"))
    if not rows:
        raise ImportFileError(NO_ROWS)
    return fmt, rows


def import_partner_links(source: Source, *, fmt: str = "auto", actor=None, encoding: str | None = None) -> ImportReport:
    """Import opportunity partners; all or nothing. Never raises for bad input: read the report."""
    from covey.partners.models import Partner

    fmt = canonical_format(fmt)
    report = ImportReport(kind=KIND, fmt=fmt)
    if fmt != "auto" and fmt not in FORMATS:
        report.errors.append(RowError(None, "", f"Unknown format {fmt!r}; use auto, {', '.join(FORMATS)}.", kind=KIND))
        return report
    try:
        fmt, rows = _read(source, fmt, encoding)
    except ImportFileError as exc:
        report.errors.append(RowError(None, exc.column, exc.message, kind=KIND))
        return report
    report.fmt, report.rows = fmt, len(rows)
    counts = report.counts[KIND] = Counts()
    roles = ROLES[fmt]

    opportunities = _match("opportunities", (r.cells["opportunity"].strip() for r in rows), ("name",))
    partner_ids = sorted({r.cells["partner"].strip() for r in rows})
    partners = {}
    for chunk in _chunks(partner_ids, 1000):
        partners.update({p.public_id: p for p in Partner.objects.filter(public_id__in=chunk)})

    def fail(row: _Row, name: str, message: str) -> None:
        report.errors.append(RowError(row.number, row.headers[name], message, kind=KIND, unit=row.unit))

    wanted: dict[tuple[int, int], tuple[_Row, str, bool]] = {}
    primaries: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        opp_id, partner_id = row.cells["opportunity"].strip(), row.cells["partner"].strip()
        opportunity, partner = opportunities.get(opp_id), partners.get(partner_id)
        ok = True
        if opportunity is None:
            fail(row, "opportunity", f"no opportunity with the id {opp_id!r} in Covey" if opp_id else "is required")
            ok = False
        if partner is None:
            fail(row, "partner", f"no partner with the id {partner_id!r} in Covey" if partner_id else "is required")
            ok = False
        try:
            role = roles.decode(row.cells["role"])
            if not role:
                raise ValueError(f"a role is required; use one of: {', '.join(roles.shown)}")
        except ValueError as exc:
            fail(row, "role", str(exc))
            ok = False
        flag = row.cells["is_primary"].strip().casefold()
        if flag not in _TRUE | _FALSE:
            fail(row, "is_primary", f"{row.cells['is_primary']!r} is not true or false")
            ok = False
        if not ok:
            counts.rejected += 1
            continue
        key = (opportunity["pk"], partner.pk)  # type: ignore[index,union-attr]
        if key in wanted:
            fail(row, "partner", f"the partner {partner_id} is on {opp_id} twice (also {wanted[key][0].unit} {wanted[key][0].number})")
            counts.rejected += 1
            continue
        wanted[key] = (row, role, flag in _TRUE)
        if flag in _TRUE:
            primaries[key[0]].append(row)
    for group in primaries.values():
        if len(group) > 1:
            for row in group:
                fail(row, "is_primary", f"{len(group)} rows make partners primary on {row.cells['opportunity'].strip()}; a deal has one")
    if report.errors:
        return report

    try:
        with transaction.atomic():
            names = {
                "opportunity": {o["pk"]: o["name"] for o in opportunities.values()},
                "partner": {p.pk: p.name for p in partners.values()},
            }
            _write(wanted, counts, actor, names)
    except IntegrityError:
        report.errors.append(RowError(None, "", CONCURRENT_CHANGE, kind=KIND))
        report.counts[KIND] = Counts()
        return report
    report.applied = True
    return report


def _write(wanted: dict[tuple[int, int], tuple[_Row, str, bool]], counts: Counts, actor, names: dict) -> None:
    opp_ids = sorted({o for o, _p in wanted})
    existing: dict[tuple[int, int], OpportunityPartner] = {}
    for chunk in _chunks(opp_ids, 1000):
        for link in OpportunityPartner.objects.filter(opportunity_id__in=chunk).select_for_update():
            existing[(link.opportunity_id, link.partner_id)] = link
    new_primary = {o for (o, _p), (_r, _role, primary) in wanted.items() if primary}
    demote = [
        link.pk for key, link in existing.items()
        if link.is_primary and link.opportunity_id in new_primary and not wanted.get(key, (None, "", False))[2]
    ]
    if demote:
        OpportunityPartner.objects.filter(pk__in=demote).update(is_primary=False)
    creates, changed = [], []
    for (opp, partner), (_row, role, primary) in wanted.items():
        link = existing.get((opp, partner))
        if link is None:
            creates.append(OpportunityPartner(opportunity_id=opp, partner_id=partner, role=role, is_primary=primary))
        elif (link.role, link.is_primary) != (role, primary):
            link.role, link.is_primary = role, primary
            changed.append(link)
        else:
            counts.unchanged += 1
    if changed:
        OpportunityPartner.objects.bulk_update(changed, ["role", "is_primary"], batch_size=1000)
    if creates:
        OpportunityPartner.objects.bulk_create(creates, batch_size=1000)
    counts.created, counts.updated = len(creates), len(changed)
    for action, objs in (("create", creates), ("update", changed)):
        # The names are looked up before the (COPY) insert: it cannot query while it streams.
        subjects = [_Subject(o, f"{names['partner'][o.partner_id]} ({o.role}) on {names['opportunity'][o.opportunity_id]}")
                    for o in objs]
        audit.record_many(
            actor=actor, action=action, objs=subjects, source="import",
            changes_for=lambda s: {"role": [None, s.link.role], "is_primary": [None, s.link.is_primary]},
        )


@dataclass
class _Subject:
    """What an audit event names (type, public id, text) for a link, without a query."""

    link: OpportunityPartner
    text: str
    _meta = OpportunityPartner._meta

    @property
    def pk(self):
        return self.link.pk

    @property
    def public_id(self) -> str:
        return self.link.public_id

    def __str__(self) -> str:
        return self.text
