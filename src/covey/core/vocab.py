"""Vocabulary shared by partners, accounts and later features."""

from __future__ import annotations

from django.db import models


class Region(models.TextChoices):
    NORTH_AMERICA = "na", "North America"
    LATAM = "latam", "Latin America"
    EMEA = "emea", "Europe, Middle East & Africa"
    APAC = "apac", "Asia Pacific"


class Segment(models.TextChoices):
    SMB = "smb", "Small business"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"
    PUBLIC_SECTOR = "public_sector", "Public sector"


class EngagementModel(models.TextChoices):
    """Who leads a deal a partner is on (the co-selling models), plus the light playbook for small deals."""

    PARTNER_LED = "partner_led", "Partner-led, vendor-supported"
    VENDOR_LED = "vendor_led", "Vendor-led, partner-supported"
    CO_SELL = "co_sell", "True co-sell"
    SIMPLIFIED = "simplified", "Simplified (small deal)"
