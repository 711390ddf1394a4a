from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _guard_ledger(sender, using="default", **kwargs) -> None:
    # After every migrate: a migration that rebuilds the ledger table (SQLite does to alter a column)
    # drops its triggers; put them back. Idempotent.
    from django.db import connections

    from covey.payouts.ledger import ensure_append_only

    ensure_append_only(connections[using])


class PayoutsConfig(AppConfig):
    name = "covey.payouts"
    label = "payouts"
    verbose_name = "Payouts and the ledger"

    def ready(self) -> None:
        post_migrate.connect(_guard_ledger, sender=self, dispatch_uid="covey.payouts.guard_ledger")
