"""The quarterly awards: once a quarter is over, its awards are given. The job marks the quarter
taken (``AwardRun``), so later sweeps do one indexed lookup; ``awards_run`` only fills in missing
awards, so a second worker or the button on the page cannot give an award twice."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from covey.core.schedule import periodic
from covey.recognition.models import AwardRun
from covey.recognition.services import awards_run, last_complete_quarter


@periodic("recognition.quarterly")
def quarterly(now: datetime) -> int:
    quarter = last_complete_quarter(timezone.localdate(now))
    if AwardRun.objects.filter(period_key=quarter.key).exists():
        return 0
    try:
        with transaction.atomic():
            AwardRun.objects.create(period_key=quarter.key, ran_at=now)
            return len(awards_run(quarter=quarter))
    except IntegrityError:  # another worker took the quarter
        return 0
