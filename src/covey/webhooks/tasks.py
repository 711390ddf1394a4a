"""Sending a delivery as soon as its transaction commits (the worker runs it; tests run it inline)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_now(ids: list[int]) -> int:
    from covey.webhooks.services import deliver_due

    return deliver_due(ids=ids)
