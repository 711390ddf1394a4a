"""Tier reviews: each quarter, every enrolled partner's standing against every tier's requirements,
proposed promotions and demotions with their evidence, and a partner manager's decision."""
