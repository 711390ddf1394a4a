from django.apps import AppConfig


class InterchangeConfig(AppConfig):
    name = "covey.interchange"
    label = "interchange"
    verbose_name = "Co-sell interchange"
