from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "covey.plans"
    label = "plans"
    verbose_name = "Plans and playbooks"
