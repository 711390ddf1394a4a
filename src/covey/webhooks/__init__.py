"""Outgoing webhooks: subscriptions to Covey's events, signed deliveries with retries, and their log."""
