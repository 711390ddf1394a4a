from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "covey.crm"
    label = "crm"
    verbose_name = "CRM"
