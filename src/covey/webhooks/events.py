"""The events a webhook can subscribe to. Producers call ``covey.webhooks.services.emit`` with one of these."""

from __future__ import annotations

EVENTS: dict[str, str] = {
    "registration.submitted": "A partner registered a deal (including ones the rules rejected on the spot or that conflict)",
    "registration.approved": "A registration was approved and its protection started",
    "registration.rejected": "A registration was rejected, with the reason",
    "registration.expired": "A registration's protection period ran out",
    "opportunity.won": "An opportunity moved to Closed Won",
    "opportunity.lost": "An opportunity moved to Closed Lost",
    "statement.ready": "A partner's draft statement got new payable lines (a statement refresh)",
    "statement.approved": "Finance approved a statement",
    "statement.paid": "A payout batch with the statement was marked paid",
    "mdf.request.decided": "An MDF request was approved (in full or in part, or pending a second approval) or rejected",
    "mapping.run.finished": "An account-mapping run finished (done or failed)",
    "tier.changed": "A tier review decision changed a partner's tier (from the next quarter)",
    "webhook.ping": "A test event sent from the webhook's page",
}
