"""Enablement's clock: certification expiry reminders and scheduled newsletters.

Both are idempotent and safe to run twice at once: reminders claim rows with ``SKIP LOCKED`` and
stamp ``reminded_at``; a newsletter is locked and sent only while ``sent_at`` is empty.
"""

from __future__ import annotations

from datetime import datetime

from covey.core.schedule import periodic
from covey.enablement import services


@periodic("enablement.certification_reminders")
def certification_reminders(now: datetime) -> int:
    return services.remind_expiring(now=now)


@periodic("enablement.newsletters")
def newsletters(now: datetime) -> int:
    return services.send_due_newsletters(now=now)
