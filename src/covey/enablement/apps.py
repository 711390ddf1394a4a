from django.apps import AppConfig


class EnablementConfig(AppConfig):
    name = "covey.enablement"
    label = "enablement"
    verbose_name = "Enablement and training"
