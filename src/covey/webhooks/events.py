"""The events a webhook can subscribe to. Producers call ``covey.webhooks.services.emit`` with one of these."""

from __future__ import annotations

EVENTS: dict[str, str] = {
    "registration.submitted": "A partner registered a deal (including ones the rules rejected on the spot or that conflict)",
    "registration.approved": "A registration was approved and its protection started",
    "registration.rejected": "A registration was rejected, with the reason",
    "registration.expired": "A registration's protection period ran out",
    "opportunity.won": "An opportunity moved to Closed Won",
    "opportunity.lost": "An opportunity moved to Closed Lost",
    "tier.changed": "A tier review decision changed a partner's tier (from the next quarter)",
    "webhook.ping": "A test event sent from the webhook's page",
}
