"""Reads of the enablement data that other features call.

``certified_people(partner, on=date) -> int`` is the figure tier requirements use: the number of
distinct people of ``partner`` holding at least one certification valid on ``on`` (completed on or
before it, expiring on or after it, or never). A person is counted once however many certifications
they hold; people without accounts count by e-mail, or by name when there is no e-mail.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from covey.core.access import PARTNER_CREATORS, is_admin
from covey.enablement.models import Completion


def certified_people(partner, *, on: date) -> int:
    return Completion.objects.filter(partner=partner).certified_on(on).values("person_key").distinct().count()


def certified_people_by_partner(partner_ids, *, on: date) -> dict[int, int]:
    """``certified_people`` for many partners in one query: {partner id: count} (absent = 0)."""
    rows = (
        Completion.objects.filter(partner_id__in=list(partner_ids)).certified_on(on)
        .order_by().values("partner_id").annotate(n=Count("person_key", distinct=True))
    )
    return {r["partner_id"]: r["n"] for r in rows}


def partner_tier_code(partner) -> str | None:
    """The partner's tier today: that of its current enrolment (the first program by name when it
    is in several); None when it is not enrolled, so tier-restricted resources stay hidden from it."""
    from covey.programs.models import Enrolment

    return (Enrolment.objects.filter(partner=partner).on(timezone.localdate()).order_by("program__name")
            .values_list("tier_code", flat=True).first())


def resources_for(qs: QuerySet, partner) -> QuerySet:
    """Published resources meant for ``partner``: its types intersect the resource's (or the resource
    names none), and its tier is listed (or the resource names none)."""
    qs = qs.filter(is_published=True)
    types = list(partner.types.values_list("code", flat=True))
    type_match = Q(partner_types=[])
    for code in types:
        type_match |= Q(partner_types__contains=[code]) if _json_contains_supported() else Q(partner_types__icontains=f'"{code}"')
    tier = partner_tier_code(partner)
    tier_match = Q(tier_codes=[])
    if tier:
        tier_match |= Q(tier_codes__contains=[tier]) if _json_contains_supported() else Q(tier_codes__icontains=f'"{tier}"')
    return qs.filter(type_match, tier_match)


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def for_audience_of(qs: QuerySet, partner) -> QuerySet:
    """Items whose audience includes ``partner``: each of types, regions and lifecycles either empty
    or matching the partner."""
    contains = _json_contains_supported()

    def any_of(field: str, codes: list[str]) -> Q:
        match = Q(**{field: []})
        for code in codes:
            match |= Q(**{f"{field}__contains": [code]}) if contains else Q(**{f"{field}__icontains": f'"{code}"'})
        return match

    types = list(partner.types.values_list("code", flat=True))
    return qs.filter(any_of("partner_types", types), any_of("regions", [partner.region]), any_of("lifecycles", [partner.lifecycle]))


def audience_matches(item, partner, types: list[str]) -> bool:
    """The same test as ``for_audience_of`` for one partner in Python (the sending jobs use it)."""
    return (
        (not item.partner_types or bool(set(item.partner_types) & set(types)))
        and (not item.regions or partner.region in item.regions)
        and (not item.lifecycles or partner.lifecycle in item.lifecycles)
    )


# --- who may do what -------------------------------------------------------------------------


def can_manage_courses(user) -> bool:
    return is_admin(user)


def can_record_completion(user, partner=None) -> bool:
    """Admins and partner managers record completions for any partner; a partner admin for its own."""
    if not user.is_authenticated:
        return False
    if user.staff_role in PARTNER_CREATORS:
        return True
    membership = None if user.is_vendor else user.membership
    if membership is None or membership.role != "admin":
        return False
    return partner is None or membership.partner_id == partner.pk


def can_manage_library(user) -> bool:
    return user.is_authenticated and user.staff_role in PARTNER_CREATORS


def can_send_news(user) -> bool:
    return user.is_authenticated and user.staff_role in PARTNER_CREATORS
