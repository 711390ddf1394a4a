from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "covey.surveys"
    label = "surveys"
    verbose_name = "Partner surveys"

    def ready(self) -> None:
        from covey.surveys import jobs, nps  # noqa: F401  (the periodic sweep; the partner_nps metric)

        nps.register_metric()
