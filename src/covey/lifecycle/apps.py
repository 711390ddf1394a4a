from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "covey.lifecycle"
    label = "lifecycle"
    verbose_name = "Partner lifecycle"
