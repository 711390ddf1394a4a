from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _log_deal_changes(sender, using="default", **kwargs) -> None:
    # After every migrate: a migration that rebuilds the deal tables (SQLite does to alter a column)
    # drops their triggers; put them back. Idempotent.
    from django.db import connections

    from covey.analytics.rollups import install_triggers

    install_triggers(connections[using])


class AnalyticsConfig(AppConfig):
    name = "covey.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        # The outcome metrics live in their own module and join the registry here.
        from covey.analytics import metrics, outcomes

        metrics.METRICS.update({m.key: m for m in outcomes.METRICS})
        post_migrate.connect(_log_deal_changes, sender=self, dispatch_uid="covey.analytics.rollup_triggers")
