"""The records behind a metric: the drill-down lists, built with the same rules as ``metrics``."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from covey.analytics import metrics as M


def opportunities(f: M.Filters, records: str) -> QuerySet:
    """Deals behind a "pipeline:…", "won:…" or "closed:…" metric, for the given motions."""
    from covey.crm.models import Opportunity, OpportunityPartner

    kind, _, motions_text = records.partition(":")
    motions = set(motions_text.split(",")) if motions_text else set(M.MOTIONS)
    qs = Opportunity.objects.select_related("account")
    if kind == "pipeline":
        qs = qs.filter(created_at__gte=M._aware(f.period.start), created_at__lt=M._aware(f.period.end + timedelta(days=1)))
    elif kind == "won":
        qs = qs.filter(stage=M.WON, close_date__range=(f.period.start, f.period.end))
    else:
        qs = qs.filter(stage__in=(M.WON, M.LOST), close_date__range=(f.period.start, f.period.end))
    if f.opportunity_ids:
        qs = qs.filter(pk__range=f.opportunity_ids)
    counted = OpportunityPartner.objects.filter(opportunity=OuterRef("pk"))
    if f.narrows_partners:
        counted = counted.filter(partner__in=M.partner_queryset(f).values("pk"))
    src = Exists(counted.filter(role__in=M.SOURCING_ROLES))
    on = Exists(counted)
    anyone = Exists(OpportunityPartner.objects.filter(opportunity=OuterRef("pk")))
    condition = Q(pk__in=[])
    if "sourced" in motions:
        condition |= Q(src)
    if "influenced" in motions:
        condition |= Q(on) & ~Q(src)
    if "direct" in motions:
        condition |= ~Q(anyone)
    return qs.filter(condition).order_by("-amount_minor", "id")


def ledger(f: M.Filters) -> QuerySet:
    from covey.payouts.models import LedgerEntry

    qs = LedgerEntry.objects.filter(period_key__in=[q.key for q in M.period_quarters(f.period)]).select_related("partner")
    if f.narrows_partners:
        qs = qs.filter(partner__in=M.partner_queryset(f).values("pk"))
    return qs.order_by("-posted_at", "-id")


def partner_rows(cube: M.Cube) -> list[tuple[object, bool, int, int]]:
    """(partner, active, revenue on, sourced revenue) for every partner active or with revenue."""
    from covey.partners.models import Partner

    ids = set(cube.active_partner_ids) | set(cube.partner_revenue)
    partners = {p.pk: p for p in Partner.objects.filter(pk__in=ids)}
    rows = [(partners[pid], pid in cube.active_partner_ids, cube.partner_revenue.get(pid, 0), cube.partner_sourced.get(pid, 0))
            for pid in ids if pid in partners]
    return sorted(rows, key=lambda r: (-r[2], r[0].name))
