"""The default evaluation criteria: the four Cs (capacity, capability, commitment, customer fit) plus
market overlap and technical fit. Installed by the data migration ``0003_default_criteria`` and by
``install_current`` (idempotent, keyed by code), so admins start from a sensible matrix and edit it."""

from __future__ import annotations

from decimal import Decimal

DEFAULT_CRITERIA = [
    ("capacity", "Capacity", "People and time the partner can put behind our product: sellers, engineers, delivery.", "2", "numeric"),
    ("capability", "Capability", "Skills and experience to sell, implement and support our product well.", "2", "numeric"),
    ("commitment", "Commitment", "Willingness to invest: an executive sponsor, training, a marketing budget.", "1.5", "levels"),
    ("customer_fit", "Customer fit", "Their customers are the buyers we want to reach, in size, industry and role.", "2", "numeric"),
    ("market_overlap", "Market overlap", "How many of our target accounts and regions they already serve.", "1.5", "levels"),
    ("technical_fit", "Technical fit", "How well their offering and stack combine with ours.", "1", "numeric"),
]


def install(Criterion) -> int:  # noqa: N803 (a model class, possibly historical)
    created = 0
    for order, (code, name, description, weight, scale) in enumerate(DEFAULT_CRITERIA):
        _, made = Criterion.objects.get_or_create(code=code, defaults={
            "name": name, "description": description, "weight": Decimal(weight), "scale": scale, "order": order,
            "public_id": _public_id(),
        })
        created += made
    return created


def _public_id() -> str:
    from covey.core.ids import new_public_id

    return new_public_id("crt")


def install_current() -> int:
    from covey.lifecycle.models import Criterion

    return install(Criterion)
