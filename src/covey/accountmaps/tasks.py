"""Mapping runs in the background (django-tasks): queued by ``services.run_request`` when a list is
uploaded or refreshed, or on request; ``covey worker`` runs them, tests run them inline."""

from __future__ import annotations

from django_tasks import task


@task()
def run_mapping(run_id: int) -> str:
    from covey.accountmaps.services import run_execute

    run = run_execute(run_id=run_id)
    return run.status if run is not None else "skipped"
