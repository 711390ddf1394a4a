"""Read-side helpers of the deal room: what one person sees of one engagement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from covey.cosell.models import SYNC_WARNING_AFTER, Engagement, Escalation, MeetingRecord
from covey.crm.models import Activity, ActivityKind

SYNC_KINDS = (ActivityKind.MEETING, ActivityKind.CALL)


@dataclass
class SyncState:
    """When the two sides last synced on the deal, and whether that is too long ago."""

    last: datetime | None
    warn: bool

    @property
    def days(self) -> int | None:
        return None if self.last is None else (timezone.now() - self.last).days


def last_sync(engagement: Engagement, *, now: datetime | None = None) -> SyncState:
    """The latest joint meeting or call logged for this engagement's partner on the deal, or meeting
    record of the engagement; a warning when there is none in the last seven days."""
    now = now or timezone.now()
    activity = (
        Activity.objects.filter(
            opportunity_id=engagement.opportunity_id, partner_id=engagement.partner_id, is_joint=True,
            kind__in=SYNC_KINDS, occurred_at__lte=now,
        ).order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    )
    record = (
        MeetingRecord.objects.filter(engagement=engagement, created_at__lte=now)
        .order_by("-created_at").values_list("created_at", flat=True).first()
    )
    last = max((t for t in (activity, record) if t is not None), default=None)
    return SyncState(last=last, warn=last is None or now - last > SYNC_WARNING_AFTER)


def escalations_of(engagement: Engagement, user):
    """The escalations of the engagement's deal that concern this partner (or no partner in particular)."""
    return (
        Escalation.objects.visible_to(user)
        .filter(Q(partner__isnull=True) | Q(partner_id=engagement.partner_id), opportunity_id=engagement.opportunity_id)
        .select_related("owner", "raised_by")
    )


def timeline(engagement: Engagement, user, limit: int = 30) -> list[Activity]:
    """The deal's activities this person may see, newest first (joint ones marked in the template)."""
    return list(
        Activity.objects.visible_to(user).filter(opportunity_id=engagement.opportunity_id)
        .select_related("partner", "created_by")[:limit]
    )
