from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "covey.payouts"
    label = "payouts"
    verbose_name = "Payouts and the ledger"
