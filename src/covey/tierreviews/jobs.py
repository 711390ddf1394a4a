"""The quarterly tier review: once a quarter is over, each program with tiers gets its review.

The job runs every sweep but does work only when a program lacks the review of the last complete
quarter — one indexed lookup per program — so the first sweep of a quarter takes the reviews and
later sweeps find them. ``review_run`` is idempotent, so two workers at once do no harm.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from covey.core.schedule import periodic
from covey.programs.models import Program
from covey.tierreviews.services import review_run, reviewed_quarter


@periodic("tierreviews.quarterly")
def quarterly(now: datetime) -> int:
    today = timezone.localdate(now)
    key = reviewed_quarter(today).key
    taken = 0
    for program in Program.objects.exclude(tier_reviews__period_key=key).filter(enrolments__isnull=False).distinct():
        try:
            review_run(program=program, today=today, source="job")
        except ValidationError:  # no published version with tiers yet: nothing to review against
            continue
        taken += 1
    return taken

