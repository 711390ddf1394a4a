from django.apps import AppConfig


class TierReviewsConfig(AppConfig):
    name = "covey.tierreviews"
    label = "tierreviews"
    verbose_name = "Tier reviews"

    def ready(self) -> None:
        from covey.tierreviews import jobs  # noqa: F401  (registers the quarterly review)
