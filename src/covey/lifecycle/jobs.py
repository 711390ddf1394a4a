"""The lifecycle's clock: keeping each partner's first-deal dates current, and forgetting old rate-limit rows.

``lifecycle.milestones`` refreshes a batch of the partners checked longest ago (and every partner
that has no journey row yet), so each sweep is a few small indexed queries whatever the number of
partners, and every partner is refreshed within an hour at the worker's one-minute sweep for up to
``BATCH × 60`` partners. Recomputing is idempotent, so two workers at once do no harm.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F

from covey.core.schedule import periodic
from covey.lifecycle.models import ApplicationAttempt, PartnerJourney
from covey.lifecycle.services import refresh_milestones
from covey.partners.models import Partner

BATCH = 500
ATTEMPTS_KEPT = timedelta(days=1)


@periodic("lifecycle.milestones")
def milestones(now: datetime) -> int:
    new = list(Partner.objects.filter(journey__isnull=True).values_list("pk", flat=True)[:BATCH])
    due = list(
        PartnerJourney.objects.order_by(F("milestones_checked_at").asc(nulls_first=True), "pk")
        .values_list("partner_id", flat=True)[: max(BATCH - len(new), 0)]
    )
    ids = new + [pk for pk in due if pk not in new]
    return refresh_milestones(partner_ids=ids, now=now) if ids else 0


@periodic("lifecycle.purge_application_attempts")
def purge_application_attempts(now: datetime) -> int:
    deleted, _ = ApplicationAttempt.objects.filter(at__lt=now - ATTEMPTS_KEPT).delete()
    return deleted
