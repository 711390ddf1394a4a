"""JSON shapes of the account mapping API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field
from pydantic import field_validator

from covey.accountmaps.models import SHAREABLE, SharingLevel
from covey.core.schemas import InputSchema, OutSchema, Paging, Ref, id_filter
from covey.partners.models import Partner

NUL_REFUSED = "Text may not contain NUL characters."


def _no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(NUL_REFUSED)
    if isinstance(value, dict):
        for v in value.values():
            _no_nul(v)
    return value


class ListFilters(Paging):
    q: str | None = Field(None, max_length=200, description="Part of the list's or its partner's name")
    partner: str | None = id_filter(Partner)


class UploadIn(InputSchema):
    filename: str = Field(..., min_length=1, max_length=255, description="The file's name (.csv or .xlsx)")
    content: str | None = Field(None, description="The file as text (CSV)")
    content_base64: str | None = Field(None, description="The file as base64 (XLSX, or CSV in another encoding)")
    name: str | None = Field(None, max_length=120, description="A name for a new list (default: the file name)")
    partner: str | None = Field(None, max_length=40, description="Vendor staff: whose list it is")
    columns: dict[str, str] | None = Field(None, description="Field → header, to replace the detected columns")

    _nul = field_validator("filename", "name", "partner", "columns")(_no_nul)


class ProblemOut(OutSchema):
    row: int | None
    column: str | None
    message: str
    code: str


class ReportOut(OutSchema):
    source: str = ""
    encoding: str = ""
    rows: int = 0
    accounts: int = 0
    rows_that_can_match: int = 0
    columns: dict[str, str] = {}
    counts: dict[str, int] = {}
    problems: list[ProblemOut] = []
    fatal: str | None = None


class RunOut(OutSchema):
    id: str
    status: str
    progress: int
    stage: str
    error: str
    counts: dict[str, Any]
    incremental: bool = Field(description="Only rows added or edited since the last run were normalised")
    rematched_rows: int = Field(description="Rows (distinct matching fields) normalised by this run")
    full_reason: str = Field(description="Why the run was a full one; empty for an incremental run")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ListOut(OutSchema):
    id: str
    name: str
    partner: Ref | None
    version: int
    rows: int
    filename: str
    columns: dict[str, str]
    imported_at: datetime | None
    report: ReportOut
    latest_run: RunOut | None


class ListPage(OutSchema):
    items: list[ListOut]
    count: int


class PopulationOut(OutSchema):
    id: str
    name: str
    side: str = Field(..., description="ours (the vendor's list) or theirs (the partner's)")
    kind: str
    filters: dict[str, Any]
    level: str = Field(..., description="What you see of it: hidden, counts, overlaps or all")
    fields: list[str]
    yours: bool


class PopulationIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    filters: dict[str, str | int] = Field(..., description="status, industry, country, region, owner, employees_min, employees_max")

    _nul = field_validator("name", "filters")(_no_nul)


class SharingIn(InputSchema):
    level: SharingLevel
    fields: list[str] = Field(default_factory=list, description=f"With overlaps: any of {', '.join(SHAREABLE)}")
    partner: str | None = Field(None, max_length=40, description="For a vendor population: the partner it is shared with")


class SharingOut(OutSchema):
    population: str
    partner: Ref
    level: str
    fields: list[str]


class CellOut(OutSchema):
    ours: str
    theirs: str
    count: int


class MatrixOut(OutSchema):
    run: RunOut | None
    ours: list[PopulationOut]
    theirs: list[PopulationOut]
    cells: list[CellOut]


class OverlapOut(OutSchema):
    id: str
    kind: str
    score: float
    ours: dict[str, Any]
    theirs: dict[str, Any]


class OverlapFilters(Paging):
    """Paged like every list (limit ≤ 500, offset); ``count`` is the cell's whole count."""

    ours: str = Field(..., max_length=40, description="Your or the vendor's population id (a matrix row)")
    theirs: str = Field(..., max_length=40, description="The partner's population id (a matrix column)")


class OverlapPage(OutSchema):
    items: list[OverlapOut]
    count: int


class IntroductionIn(InputSchema):
    note: str = Field("", max_length=1000)

    _nul = field_validator("note")(_no_nul)


class IntroductionOut(OutSchema):
    id: str
    partner: Ref
    account: str
    note: str
    requested_at: datetime
