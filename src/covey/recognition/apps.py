from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "covey.recognition"
    label = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        from covey.recognition import jobs  # noqa: F401  (the quarterly awards)
