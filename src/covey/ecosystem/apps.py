from django.apps import AppConfig


class EcosystemConfig(AppConfig):
    name = "covey.ecosystem"
    label = "ecosystem"
    verbose_name = "Ecosystem map"
