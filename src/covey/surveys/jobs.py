"""The surveys' sweep: send scheduled campaigns on their open date, send each open campaign's one
reminder, close campaigns whose close date has passed. Each step claims its rows (``SKIP LOCKED``,
conditional updates), so two workers at once do each thing once."""

from __future__ import annotations

from datetime import datetime

from covey.core.schedule import periodic
from covey.surveys import services


@periodic("surveys.sweep")
def sweep(now: datetime) -> int:
    return services.send_due(now) + services.remind_due(now) + services.close_due(now)
