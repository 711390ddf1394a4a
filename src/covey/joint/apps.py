from django.apps import AppConfig


class JointConfig(AppConfig):
    name = "covey.joint"
    label = "joint"
    verbose_name = "Joint proposals and account plans"
