"""List pages: search, whitelisted filters, sorting and pagination from GET parameters.

A list view describes what may be searched, filtered and sorted; ``build_listing`` reads the request,
applies only what the description allows and returns a ``Listing`` with everything a template needs
(page of objects, filter widgets with their current values, links for sorting and paging that keep
the other parameters). Anything it does not recognise - an unknown sort key, a filter value outside
its choices, a malformed date, a page number past the end - is ignored, so a hand-edited or stale
URL shows a sensible page instead of an error.

The queryset passed in is already scoped (``Model.objects.visible_to(user)``); this module narrows
it and never widens it. ``Listing.queryset`` is the filtered, sorted, unpaginated set, which CSV
exports and totals use so they match what the page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

PER_PAGE = 25
MAX_QUERY_LENGTH = 200
RESULTS_ID = "list-results"  # the element htmx swaps; views answer it with the results partial only
FORM_ID = "list-filters"

Choices = Sequence[tuple[str, str]]


@dataclass
class Filter:
    """One GET parameter that narrows the list.

    ``choices`` (or a callable returning them) whitelists the values of a select filter; ``kind="date"``
    accepts an ISO date. The value goes to ``lookup`` (``qs.filter(**{lookup: value})``), or to
    ``apply(qs, value)`` when a filter needs more than one lookup.
    """

    name: str
    label: str
    lookup: str | None = None
    choices: Choices | Callable[[], Choices] | None = None
    kind: str = "select"  # "select", "date", or "lookup" (type-to-search, see core.lookup)
    lookup_kind: str = ""  # for kind="lookup": which /lookup/<kind>/ suggests values
    apply: Callable[[QuerySet, Any], QuerySet] | None = None
    any_label: str = "Any"
    _resolved: list[tuple[str, str]] | None = field(default=None, init=False, repr=False)

    def options(self) -> list[tuple[str, str]]:
        if self._resolved is None:
            raw = self.choices() if callable(self.choices) else (self.choices or ())
            self._resolved = [(str(v), str(label)) for v, label in raw]
        return self._resolved

    def clean(self, raw: str | None) -> Any:
        """The accepted value for ``raw``, or None when it is empty or not allowed."""
        raw = (raw or "").strip()
        if not raw:
            return None
        if self.kind == "date":
            try:
                return date.fromisoformat(raw)
            except ValueError:
                return None
        if self.kind == "lookup":
            # Any id is safe to try: it only narrows a queryset already scoped by visible_to.
            return raw[:40]
        allowed = {v for v, _ in self.options()}
        return raw if raw in allowed else None

    def narrow(self, qs: QuerySet, value: Any) -> QuerySet:
        if self.apply is not None:
            return self.apply(qs, value)
        if self.lookup is None:
            raise ValueError(f"filter {self.name!r} needs a lookup or an apply function")
        return qs.filter(**{self.lookup: value})


@dataclass
class Sort:
    """A sort key offered to the user: ``key`` in the URL, ``fields`` the ordering it means.

    Fields are field names or expressions (``Case(...)``); ``-key`` in the URL reverses each one.
    """

    key: str
    fields: Sequence[Any]


def _ordering(fields: Sequence[Any], descending: bool) -> list[Any]:
    out: list[Any] = []
    for f in fields:
        if isinstance(f, str):
            plain = f.removeprefix("-")
            f_desc = f.startswith("-") != descending
            out.append(f"-{plain}" if f_desc else plain)
        else:
            out.append(f.desc() if descending else f.asc())
    return out


@dataclass
class FilterWidget:
    """What the filter form renders for one filter."""

    name: str
    label: str
    kind: str
    value: str
    options: list[tuple[str, str, bool]]  # (value, label, selected)
    any_label: str
    lookup_url: str = ""


@dataclass
class PageLink:
    number: int | None  # None for an ellipsis
    url: str
    current: bool


@dataclass
class Listing:
    page: Page
    queryset: QuerySet
    q: str
    values: dict[str, Any]
    raw_values: dict[str, str]
    sort: str
    default_sort: str
    sort_keys: set[str]
    widgets: list[FilterWidget]
    has_search: bool
    path: str = ""

    # --- the set --------------------------------------------------------------------------
    @property
    def objects(self):
        return self.page.object_list

    @property
    def total(self) -> int:
        return self.page.paginator.count

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.values)

    # --- links ----------------------------------------------------------------------------
    def params(self, *, page: int | None = None, sort: str | None = None, keep_sort: bool = True) -> list[tuple[str, str]]:
        """The current search/filter parameters (only accepted ones), with overrides."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        pairs.extend((k, v) for k, v in self.raw_values.items())
        chosen = sort if sort is not None else (self.sort if keep_sort else self.default_sort)
        if chosen != self.default_sort:
            pairs.append(("sort", chosen))
        if page and page > 1:
            pairs.append(("page", str(page)))
        return pairs

    def url(self, **kwargs) -> str:
        pairs = self.params(**kwargs)
        return f"{self.path}?{urlencode(pairs)}" if pairs else (self.path or "?")

    @property
    def query(self) -> str:
        """``?q=…&stage=…`` without page or sort, for export links."""
        pairs = self.params(keep_sort=False)
        return f"?{urlencode(pairs)}" if pairs else ""

    @property
    def export_query(self) -> str:
        """Filters and sort (no page): an export lists the whole filtered set in page order."""
        pairs = self.params()
        return f"?{urlencode(pairs)}" if pairs else ""

    @property
    def clear_url(self) -> str:
        return self.path or "?"

    def sort_url(self, key: str) -> str:
        """Clicking a column header: ascending first, then toggles."""
        return self.url(sort=f"-{key}" if self.sort == key else key)

    def sort_state(self, key: str) -> str | None:
        if self.sort == key:
            return "ascending"
        if self.sort == f"-{key}":
            return "descending"
        return None

    @property
    def prev_url(self) -> str | None:
        return self.url(page=self.page.previous_page_number()) if self.page.has_previous() else None

    @property
    def next_url(self) -> str | None:
        return self.url(page=self.page.next_page_number()) if self.page.has_next() else None

    @property
    def page_links(self) -> list[PageLink]:
        paginator = self.page.paginator
        links = []
        for n in paginator.get_elided_page_range(self.page.number, on_each_side=2, on_ends=1):
            if n == paginator.ELLIPSIS:
                links.append(PageLink(None, "", False))
            else:
                links.append(PageLink(int(n), self.url(page=int(n)), int(n) == self.page.number))
        return links


def build_listing(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    search: Iterable[str] = (),
    filters: Iterable[Filter] = (),
    sorts: Iterable[Sort] | Mapping[str, Sequence[Any]] = (),
    default_sort: str,
    per_page: int = PER_PAGE,
) -> Listing:
    """Apply the request's search, filters and sort to ``queryset`` and take one page of it."""
    get = request.GET
    search = tuple(search)
    filters = list(filters)
    if isinstance(sorts, Mapping):
        sorts = [Sort(k, v) for k, v in sorts.items()]
    sort_map = {s.key: s for s in sorts}

    qs = queryset
    q = (get.get("q") or "").strip()[:MAX_QUERY_LENGTH] if search else ""
    if q:
        condition = Q()
        for name in search:
            condition |= Q(**{f"{name}__icontains": q})
        qs = qs.filter(condition)

    values: dict[str, Any] = {}
    raw_values: dict[str, str] = {}
    widgets: list[FilterWidget] = []
    for f in filters:
        raw = get.get(f.name)
        value = f.clean(raw)
        if value is not None:
            values[f.name] = value
            raw_values[f.name] = value.isoformat() if isinstance(value, date) else str(value)
            qs = f.narrow(qs, value)
        current = raw_values.get(f.name, "")
        options = [(v, label, v == current) for v, label in f.options()] if f.kind == "select" else []
        lookup_url = reverse("lookup", kwargs={"kind": f.lookup_kind}) if f.kind == "lookup" else ""
        widgets.append(FilterWidget(f.name, f.label, f.kind, current, options, f.any_label, lookup_url))

    sort = get.get("sort") or default_sort
    if sort.removeprefix("-") not in sort_map:
        sort = default_sort
    chosen = sort_map.get(sort.removeprefix("-"))
    if chosen is not None:
        # The primary key last keeps the order total, so pages never repeat or skip a row.
        descending = sort.startswith("-")
        qs = qs.order_by(*_ordering(chosen.fields, descending), "-pk" if descending else "pk")

    paginator = Paginator(qs, per_page)
    page = paginator.get_page(get.get("page"))  # non-numbers → first page, past the end → last
    return Listing(
        page=page, queryset=qs, q=q, values=values, raw_values=raw_values, sort=sort,
        default_sort=default_sort, sort_keys=set(sort_map), widgets=widgets, has_search=bool(search),
        path=request.path,
    )


def wants_results_only(request: HttpRequest) -> bool:
    """An htmx request aimed at the results container (not a history restore) gets the partial."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == RESULTS_ID


def render_list(request: HttpRequest, template: str, partial: str, context: dict) -> HttpResponse:
    """Render the whole page, or only the results partial for a live filter/sort/page request."""
    partial_only = wants_results_only(request)
    response = render(request, partial if partial_only else template, context)
    listing = context.get("listing")
    if partial_only and isinstance(listing, Listing):
        # The address bar shows the clean URL (accepted parameters only, no empty ones), so it can be
        # bookmarked and shared; htmx uses this instead of the raw form submission.
        response["HX-Push-Url"] = listing.url(page=listing.page.number)
    # The same URL answers with a fragment or a page; caches and the back button must tell them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def count_per_row(queryset: QuerySet, outer_field: str) -> Coalesce:
    """An annotation counting ``queryset`` rows whose ``outer_field`` is the outer row.

    A correlated subquery rather than JOIN + COUNT: the database counts only for the rows of the
    page shown (unless the list is sorted by the count), which keeps directories fast at a
    million related rows.
    """
    counted = (
        queryset.filter(**{outer_field: OuterRef("pk")}).order_by().values(outer_field)
        .annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)
