"""The retry sweep: every minute, send the deliveries whose next try is due (after a back-off, or
whose immediate task was lost with a worker)."""

from __future__ import annotations

from datetime import datetime

from covey.core.schedule import periodic
from covey.webhooks.services import deliver_due


@periodic("webhooks.deliver")
def deliver(now: datetime) -> int:
    return deliver_due(now=now)
