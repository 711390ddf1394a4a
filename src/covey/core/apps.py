from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "covey.core"
    label = "core"
    verbose_name = "Core"
