"""The one place that decides what each side sees of account mapping.

Every page, API endpoint and CSV export of mapping results goes through ``mapping_view(user=…,
their_list=…)`` and the functions taking its answer. The rules:

- A person sees their own side's populations and records in full (the vendor's staff: the vendor's
  list; a partner's members: their partner's list). They never reach another partner's list at
  all: ``their_list`` is fetched through ``AccountList.objects.visible_to`` (404 otherwise).
- Of the other side they see each population as its owner shares it with them (``SharingRule``;
  no rule = counts only): *hidden* — the population does not appear; *counts only* — its row or
  column of the matrix, numbers only; *overlapping records* — also the overlapping records, with
  the name and the chosen fields; *all records* — every field, and every record of the population
  (overlapping or not).
- A drill-down into a cell lists records only when the other side's population shares at least
  overlapping records; a partner can never learn which of its own accounts fall in a vendor
  population shared as counts.
- Results come from the latest finished run, so a re-run in progress never shows half an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count
from django.http import Http404

from covey.accountmaps.models import (
    LEVEL_ORDER,
    SHAREABLE,
    AccountList,
    ListRow,
    MappingRun,
    MatchedPair,
    Population,
    RunStatus,
    SharingLevel,
    SharingRule,
)
from covey.core.access import get_for_user

NOT_SHARED = "{owner} shares “{population}” as {level}: the records are not shown."
ROW_FIELDS = ("name",) + SHAREABLE


@dataclass(frozen=True)
class PopulationView:
    population: Population
    side: str  # "ours" (the vendor's list) or "theirs" (the partner's)
    level: str  # what the viewer may see of it
    fields: tuple[str, ...]  # record fields the viewer may see (name first)
    own: bool  # the viewer's own side

    @property
    def public_id(self) -> str:
        return self.population.public_id

    @property
    def level_label(self) -> str:
        return SharingLevel(self.level).label.lower()

    @property
    def shows_records(self) -> bool:
        return LEVEL_ORDER[self.level] >= LEVEL_ORDER[SharingLevel.OVERLAPS]


@dataclass
class MappingView:
    user: object
    their_list: AccountList
    our_list: AccountList | None
    run: MappingRun | None  # the latest finished run: the results shown
    active_run: MappingRun | None  # a run queued or in progress
    ours: list[PopulationView] = field(default_factory=list)
    theirs: list[PopulationView] = field(default_factory=list)

    @property
    def partner(self):
        return self.their_list.partner

    @property
    def viewer_is_vendor(self) -> bool:
        return bool(self.user.is_vendor)

    def population(self, public_id: str | None, side: str) -> PopulationView:
        for view in self.ours if side == "ours" else self.theirs:
            if view.public_id == public_id:
                return view
        raise Http404("No population with that id")


def _rules(populations: list[Population], partner_id: int) -> dict[int, SharingRule]:
    return {r.population_id: r for r in SharingRule.objects.filter(population__in=populations, partner_id=partner_id)}


def _views(populations: list[Population], *, side: str, own: bool, partner_id: int) -> list[PopulationView]:
    if own:
        return [PopulationView(p, side, SharingLevel.ALL, ROW_FIELDS, True) for p in populations]
    rules = _rules(populations, partner_id)
    out = []
    for p in populations:
        rule = rules.get(p.pk)
        level = rule.level if rule else SharingLevel.COUNTS
        if level == SharingLevel.HIDDEN:
            continue
        if level == SharingLevel.ALL:
            fields = ROW_FIELDS
        elif level == SharingLevel.OVERLAPS:
            fields = ("name",) + tuple(f for f in SHAREABLE if f in (rule.fields or []))
        else:
            fields = ()
        out.append(PopulationView(p, side, level, fields, False))
    return out


def our_list() -> AccountList | None:
    return AccountList.objects.filter(partner__isnull=True).first()


def partner_lists(*, user):
    """Partner lists the user may map (a partner user: its own partner's)."""
    return AccountList.objects.visible_to(user).filter(partner__isnull=False).select_related("partner")


def mapping_view(*, user, their_list: AccountList | str) -> MappingView:
    if isinstance(their_list, str):
        their_list = get_for_user(AccountList, user, their_list, select=("partner",))
    elif not AccountList.objects.visible_to(user).filter(pk=their_list.pk).exists():
        raise Http404("No account list with that id")
    if their_list.partner_id is None:
        raise Http404("The mapping pages are per partner list")
    ours = our_list()
    runs = MappingRun.objects.filter(their_list=their_list)
    view = MappingView(
        user=user, their_list=their_list, our_list=ours,
        run=runs.filter(status=RunStatus.DONE).order_by("-finished_at", "-id").first(),
        active_run=runs.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).first(),
    )
    vendor = bool(user.is_vendor)
    partner_id = their_list.partner_id
    if ours is not None:
        view.ours = _views(list(ours.populations.all()), side="ours", own=vendor, partner_id=partner_id)
    view.theirs = _views(list(their_list.populations.all()), side="theirs", own=not vendor, partner_id=partner_id)
    return view


def _pairs(view: MappingView):
    if view.run is None:
        return MatchedPair.objects.none()
    return MatchedPair.objects.filter(run=view.run)


def matrix(view: MappingView) -> dict[tuple[str, str], int]:
    """(our population id, their population id) → overlapping pairs, for the populations the viewer
    sees (hidden ones are not in the view at all)."""
    cells: dict[tuple[str, str], int] = {}
    if view.run is None or not view.ours or not view.theirs:
        return cells
    pairs = _pairs(view)
    aggregates = {}
    for o in view.ours:
        for t in view.theirs:
            aggregates[f"c_{o.population.pk}_{t.population.pk}"] = Count(
                "pk", filter=o.population.row_filter("our_row__") & t.population.row_filter("their_row__"),
            )
    counted = pairs.aggregate(**aggregates)
    for o in view.ours:
        for t in view.theirs:
            cells[(o.public_id, t.public_id)] = counted[f"c_{o.population.pk}_{t.population.pk}"]
    return cells


def totals(view: MappingView) -> dict[str, int]:
    """Rows per population the viewer sees (of the version the shown run used)."""
    out = {}
    for _side, views, account_list, version in (
        ("ours", view.ours, view.our_list, view.run.our_version if view.run else None),
        ("theirs", view.theirs, view.their_list, view.run.their_version if view.run else None),
    ):
        if account_list is None:
            continue
        version = version if version is not None else account_list.version
        rows = ListRow.objects.filter(account_list=account_list, version=version)
        for p in views:
            out[p.public_id] = rows.filter(p.population.row_filter()).count()
    return out


class NotShared(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _owner_name(view: MappingView, pop: PopulationView) -> str:
    from covey.core.models import VendorSettings

    return VendorSettings.current().company_name if pop.side == "ours" else view.partner.name


def _record(row: ListRow, fields: tuple[str, ...]) -> dict:
    return {name: getattr(row, name) for name in fields}


def other_side(view: MappingView, o: PopulationView, t: PopulationView) -> PopulationView:
    return t if view.viewer_is_vendor else o


def overlap_records(view: MappingView, *, ours: str | None, theirs: str | None, limit: int | None = None,
                    offset: int = 0) -> list[dict]:
    """The overlapping pairs of one matrix cell, each ``{"id", "kind", "score", "ours": {…}, "theirs": {…}}``
    with exactly the fields the viewer may see; ``NotShared`` when the other side shares counts only."""
    o, t = view.population(ours, "ours"), view.population(theirs, "theirs")
    other = other_side(view, o, t)
    if not other.shows_records:
        raise NotShared(NOT_SHARED.format(owner=_owner_name(view, other), population=other.population.name,
                                          level=SharingLevel(other.level).label.lower()))
    pairs = (_pairs(view).filter(o.population.row_filter("our_row__") & t.population.row_filter("their_row__"))
             .select_related("our_row", "their_row").order_by("our_row__name", "pk"))
    pairs = pairs[offset:] if limit is None else pairs[offset: offset + limit]
    return [
        {"id": p.public_id, "kind": p.kind, "score": p.score,
         "ours": _record(p.our_row, o.fields), "theirs": _record(p.their_row, t.fields)}
        for p in pairs
    ]


def population_records(view: MappingView, *, population: str, side: str, limit: int | None = None) -> list[dict]:
    """Every record of one population: the viewer's own, or the other side's shared as all records."""
    pop = view.population(population, side)
    if pop.level != SharingLevel.ALL:
        raise NotShared(NOT_SHARED.format(owner=_owner_name(view, pop), population=pop.population.name,
                                          level=SharingLevel(pop.level).label.lower()))
    account_list = view.our_list if side == "ours" else view.their_list
    version = (view.run.our_version if side == "ours" else view.run.their_version) if view.run else account_list.version
    rows = ListRow.objects.filter(account_list=account_list, version=version).filter(pop.population.row_filter()).order_by("name", "pk")
    if limit is not None:
        rows = rows[:limit]
    return [_record(row, pop.fields) for row in rows]


def pair_for_user(*, user, public_id: str) -> tuple[MatchedPair, MappingView]:
    """A pair of the latest finished run of a list the user sees, and whose other-side record the
    user may see in at least one population (what the co-sell actions need); 404 otherwise."""
    key = MatchedPair.key_of(public_id)
    pair = MatchedPair.objects.select_related("run__their_list__partner", "our_row", "their_row").filter(pk=key).first() if key else None
    if pair is None:
        raise Http404("No overlap with that id")
    try:
        view = mapping_view(user=user, their_list=pair.run.their_list)
    except Http404:
        raise Http404("No overlap with that id") from None
    if view.run is None or view.run.pk != pair.run_id:
        raise Http404("No overlap with that id")
    others = view.theirs if view.viewer_is_vendor else view.ours
    row = pair.their_row if view.viewer_is_vendor else pair.our_row
    shared = [p for p in others if p.shows_records]
    if not any(ListRow.objects.filter(pk=row.pk).filter(p.population.row_filter()).exists() for p in shared):
        raise Http404("No overlap with that id")
    return pair, view


def registration_prefill(*, user, public_id: str) -> dict:
    """What a deal registration started from a co-sell target is prefilled with: the company's name
    and domain, from the viewer's own record of the pair, and from the other side's record only the
    fields its sharing shows the viewer (the name always comes with a shown record; the website only
    when it is a chosen field). 404 when the viewer may not see the other side's record at all."""
    pair, view = pair_for_user(user=user, public_id=public_id)
    own, other = (pair.our_row, pair.their_row) if view.viewer_is_vendor else (pair.their_row, pair.our_row)
    others = view.theirs if view.viewer_is_vendor else view.ours
    shown: set[str] = set()
    for p in others:
        if p.shows_records and ListRow.objects.filter(pk=other.pk).filter(p.population.row_filter()).exists():
            shown.update(p.fields)
    own_domains = " ".join(filter(None, (own.website, own.domains))).replace(",", " ").replace(";", " ").split()
    domain = own_domains[0] if own_domains else (other.website if "website" in shown else "")
    return {"company_name": own.name or (other.name if "name" in shown else ""), "domain": domain or "",
            "overlap": pair.public_id}
