from django.apps import AppConfig


class CosellConfig(AppConfig):
    name = "covey.cosell"
    label = "cosell"
    verbose_name = "Co-selling"
