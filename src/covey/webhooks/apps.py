from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "covey.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from covey.webhooks import jobs  # noqa: F401  (registers the delivery sweep)
        from covey.webhooks.models import Endpoint
        from covey.webhooks.services import forget_subscribers

        post_save.connect(forget_subscribers, sender=Endpoint, dispatch_uid="webhooks.forget.save")
        post_delete.connect(forget_subscribers, sender=Endpoint, dispatch_uid="webhooks.forget.delete")
