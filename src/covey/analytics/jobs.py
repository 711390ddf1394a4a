"""Analytics' periodic job: keep the rollups the dashboards read within a minute of the deals."""

from __future__ import annotations

from datetime import datetime

from covey.core.schedule import periodic


@periodic("analytics.refresh_rollups")
def refresh_rollups(now: datetime) -> int:
    """Apply the logged deal and partner-link changes to the rollups (building them the first time);
    returns how many logged changes it applied."""
    from covey.analytics.rollups import refresh

    return refresh().get("changes", 0)


@periodic("analytics.snapshot_outcomes")
def snapshot_outcomes(now: datetime) -> int:
    """Recompute the slow outcome figures (retention, new partner-sourced customers) of the program
    dashboard's standard views — this quarter, the last and the one before (the change column) — so
    those pages read them instead of scanning a year of customers; returns how many it kept."""
    from types import SimpleNamespace

    from django.utils import timezone

    from covey.analytics import metrics as M
    from covey.analytics import outcomes as O
    from covey.core.models import VendorSettings

    calendar = VendorSettings.current().calendar
    period = M.default_period(timezone.localdate(now))
    kept = 0
    for _ in range(3):
        # The slow figures read only the filters (and name missing rates): no cube to build.
        O.Outcomes(SimpleNamespace(filters=M.Filters(period=period), missing_rates=[])).snapshot()
        kept += 1
        period = calendar.previous(period)
    return kept
