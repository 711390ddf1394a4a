"""First valid registration wins, under real concurrency, enforced by the database.

Sixteen partners register the same company at the same instant (a barrier releases them together),
each on its own database connection, with different spellings of the name and the web address but
the same registrable domain. Exactly one may hold the account; every other one must be stored as a
conflict pointing at it. On PostgreSQL this is the partial unique index at work, so the test runs
there; SQLite runs one writer at a time, which proves nothing about races.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections

from covey.core.money import Money
from covey.registrations import rules, services
from covey.registrations.models import Registration, Status

THREADS = 16
SPELLINGS = ["Globex GmbH", "GLOBEX", "Globex Gmbh.", "globex", "The Globex GmbH", "Globex  GmbH", "Globex, GmbH", "Globex Ltd"]
ADDRESSES = ["https://www.globex.de/", "globex.de", "WWW.GLOBEX.DE/path", "http://shop.globex.de/?x=1", "globex.de:443"]


@pytest.mark.django_db(transaction=True)
def test_many_partners_registering_one_company_at_once_leave_exactly_one_owner():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so it cannot show a race being settled by the index")
    from covey.core.models import User
    from covey.partners.models import Membership, Partner

    manager = User.objects.create_user("pm@vendor.example", staff_role="partner_manager")
    reps = []
    for i in range(THREADS):
        partner = Partner.objects.create(name=f"Partner {i:02d}", owner=manager)
        rep = User.objects.create_user(f"rep{i}@partner{i}.example")
        Membership.objects.create(user=rep, partner=partner, role="rep")
        reps.append((partner, rep))

    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = []
    lock = threading.Lock()

    def register(i: int) -> None:
        partner, rep = reps[i]
        submission = services.Submission(
            company_name=SPELLINGS[i % len(SPELLINGS)], domain=ADDRESSES[i % len(ADDRESSES)],
            value=Money(5_000_000, "EUR"), expected_close=date.today() + timedelta(days=60),
        )
        try:
            barrier.wait(timeout=30)
            reg = services.submit(partner=partner, actor=rep, submission=submission, source="api")
            with lock:
                outcomes.append(reg.pk)
        except Exception as exc:  # recorded, so the assertion shows what went wrong
            with lock:
                outcomes.append(exc)
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=register, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    assert len(outcomes) == THREADS
    regs = list(Registration.objects.filter(claim_domain="globex.de"))
    assert len(regs) == THREADS
    owners = [r for r in regs if r.holds_claim]
    assert len(owners) == 1
    owner = owners[0]
    assert owner.status == Status.SUBMITTED
    others = [r for r in regs if r.pk != owner.pk]
    assert all(r.status == Status.CONFLICT and r.conflict_with_id == owner.pk for r in others)
    assert all(r.reason == rules.ALREADY_REGISTERED and not r.holds_claim for r in others)
