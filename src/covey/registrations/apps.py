from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "covey.registrations"
    label = "registrations"
    verbose_name = "Deal registrations"
