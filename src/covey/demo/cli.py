def demo() -> None:
    """Placeholder until the demo generator lands."""


def seed() -> None:
    """Placeholder until the generator lands."""
