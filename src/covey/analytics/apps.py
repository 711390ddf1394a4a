from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "covey.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        # The outcome metrics live in their own module and join the registry here.
        from covey.analytics import metrics, outcomes

        metrics.METRICS.update({m.key: m for m in outcomes.METRICS})
