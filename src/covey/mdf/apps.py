from django.apps import AppConfig


class MdfConfig(AppConfig):
    name = "covey.mdf"
    label = "mdf"
    verbose_name = "Market development funds"

    def ready(self) -> None:
        from covey.mdf import jobs  # noqa: F401  (registers the claim-deadline sweep)
