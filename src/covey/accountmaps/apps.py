from django.apps import AppConfig


class AccountMapsConfig(AppConfig):
    name = "covey.accountmaps"
    label = "accountmaps"
    verbose_name = "Account mapping"
