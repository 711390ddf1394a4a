from django.apps import AppConfig


class JointConfig(AppConfig):
    name = "covey.joint"
    label = "joint"
    verbose_name = "Joint proposals and account plans"

    def ready(self) -> None:
        # A mistyped discount threshold must stop start-up, not surface as an error on the first submission.
        from django.core.exceptions import ImproperlyConfigured

        from covey.joint.rules import PricingError
        from covey.joint.services import discount_threshold

        try:
            discount_threshold()
        except PricingError as exc:
            raise ImproperlyConfigured(f"COVEY_PROPOSAL_DISCOUNT_THRESHOLD: {exc}") from None
