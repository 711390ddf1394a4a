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
