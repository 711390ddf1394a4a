"""MDF's clock: reminders before a claim deadline, and lapsing approvals nobody claimed in time
(their reservation returns to the allocation and the budget). Both are idempotent and lock the rows
they change, so two workers sweeping at once do no harm."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from covey.core.schedule import periodic
from covey.mdf.services import lapse_overdue, remind_due


@periodic("mdf.claim_reminders")
def claim_reminders(now: datetime) -> int:
    return remind_due(now=now)


@periodic("mdf.lapse_unclaimed")
def lapse_unclaimed(now: datetime) -> int:
    return lapse_overdue(today=timezone.localdate(now))
