from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "covey.analytics"
    label = "analytics"
    verbose_name = "Analytics"
