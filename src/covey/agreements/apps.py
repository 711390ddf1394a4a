from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "covey.agreements"
    label = "agreements"
    verbose_name = "Agreements"
