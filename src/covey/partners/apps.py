from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "covey.partners"
    label = "partners"
    verbose_name = "Partners"
