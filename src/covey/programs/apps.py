from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "covey.programs"
    label = "programs"
    verbose_name = "Incentive programs"
