"""Two approvals racing for the last of the money: exactly one wins, on PostgreSQL.

Each approval runs on its own database connection and a barrier releases both at the same instant.
The services lock the budget row, then the allocation row (``SELECT … FOR UPDATE``), so the second
approval waits for the first to commit, re-reads the smaller balance and is refused; the CHECK
constraints on the stored balances would stop an overspend even if that check were missing. SQLite
runs one writer at a time, which proves nothing about races, so the test needs PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from covey.mdf import services
from covey.mdf.models import Allocation, Budget, FundRequest, RequestStatus
from tests.conftest import make_cast, make_world
from tests.mdf_world import build_mdf, webinar


def _race(decisions) -> list[object]:
    barrier = threading.Barrier(len(decisions))
    outcomes: list[object] = []
    lock = threading.Lock()

    def decide(request, actor) -> None:
        try:
            barrier.wait(timeout=30)
            services.request_decide(request=request, actor=actor, approve=True)
            with lock:
                outcomes.append(request.pk)
        except Exception as exc:  # recorded, so the assertion shows what happened
            with lock:
                outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=pair) for pair in decisions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _one_winner(outcomes, requests) -> None:
    assert len(outcomes) == 2
    wins = [o for o in outcomes if not isinstance(o, Exception)]
    losses = [o for o in outcomes if isinstance(o, Exception)]
    assert len(wins) == 1, outcomes
    assert len(losses) == 1 and isinstance(losses[0], ValidationError), losses
    statuses = sorted(FundRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("status", flat=True))
    assert statuses == sorted([RequestStatus.APPROVED, RequestStatus.SUBMITTED])


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_cannot_overspend_one_allocation():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so it cannot show two approvals racing")
    w = build_mdf(make_world(make_cast()), second_above=None)
    first = webinar(w, cost=1_000_000, code="RACE-1")  # 7,000.00 each of Alpha's 10,000.00
    second = webinar(w, cost=1_000_000, code="RACE-2")
    outcomes = _race([(first, w.partner_manager), (second, w.vendor_admin)])
    _one_winner(outcomes, [first, second])
    allocation = Allocation.objects.get(pk=w.mdf_alloc_a.pk)
    assert allocation.reserved_minor == 700_000 and allocation.available_minor == 300_000


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_cannot_overspend_one_budget():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so it cannot show two approvals racing")
    w = build_mdf(make_world(make_cast()), budget_minor=1_000_000, second_above=None)
    a = webinar(w, cost=1_000_000, code="RACE-A")  # 7,000.00 from Alpha's allocation
    b = webinar(w, allocation=w.mdf_alloc_b, actor=w.b_rep, cost=500_000, code="RACE-B")  # 3,500.00 from Beta's
    outcomes = _race([(a, w.partner_manager), (b, w.other_manager)])  # 10,500.00 > the 10,000.00 budget
    _one_winner(outcomes, [a, b])
    budget = Budget.objects.get(pk=w.mdf_budget.pk)
    assert budget.reserved_minor in (700_000, 350_000) and budget.available_minor >= 0
