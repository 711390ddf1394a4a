"""The statement, MDF and account-mapping webhook events, received signed by a real loopback receiver."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from covey.crm.models import DealEvent
from covey.payouts import statements as S
from covey.payouts.services import quarter_run
from covey.webhooks import services
from covey.webhooks.models import Delivery
from covey.webhooks.signing import verify
from tests.mdf_world import build_mdf, webinar
from tests.test_payouts_ledger import AFTER_Q3, won
from tests.test_webhooks import receiver  # noqa: F401 - the fixture

Q3 = S.StatementPeriod("2026Q3", date(2026, 7, 1), date(2026, 9, 30))


def received(receiver, hook) -> list[dict]:  # noqa: F811
    out = []
    for headers, body in receiver.requests:
        assert verify(hook.secret, body, headers["Covey-Signature"], now=int(time.time()))
        payload = json.loads(body)
        assert headers["Covey-Event"] == payload["event"]
        out.append(payload)
    return out


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_announced_ready_approved_and_paid(world, gold_program, receiver):  # noqa: F811
    events = ["statement.ready", "statement.approved", "statement.paid"]
    hook = services.endpoint_create(url=receiver.url, events=events, actor=world.vendor_admin)
    opp = won(world)
    DealEvent.objects.create(opportunity=opp, kind="paid", occurred_on=date(2026, 8, 20), amount_minor=1_000_000)
    quarter_run(program=gold_program, period_key="2026Q3", now=AFTER_Q3)

    S.statements_refresh(program=gold_program, period=Q3, actor=world.finance)
    assert S.statements_refresh(program=gold_program, period=Q3)["lines_added"] == 0  # nothing new: no event
    statement = world.partner_a.statements.get()
    S.statement_approve(statement=statement, actor=world.finance)
    batch = S.batch_create(currency="USD", actor=world.finance)
    S.batch_mark_paid(batch=batch, actor=world.finance, reference="BANK-1")

    payloads = received(receiver, hook)
    assert [p["event"] for p in payloads] == events
    ready, approved, paid = (p["data"] for p in payloads)
    assert ready == ready | {"id": statement.public_id, "status": "draft", "period": "2026Q3", "lines": 1,
                             "partner": {"id": world.partner_a.public_id, "name": world.partner_a.name},
                             "total": {"amount_minor": 300_000, "currency": "USD", "amount": "3000.00"}}
    assert approved["status"] == "approved" and approved["approved_at"]
    assert (paid["status"], paid["batch"]) == ("paid", batch.public_id) and paid["paid_at"]
    assert Delivery.objects.filter(endpoint=hook, status="delivered").count() == 3


@pytest.mark.django_db(transaction=True)
def test_an_mdf_decision_is_announced_at_each_approval_and_on_rejection(world, receiver):  # noqa: F811
    from covey.mdf import services as mdf

    build_mdf(world, second_above=800_000)
    hook = services.endpoint_create(url=receiver.url, events=["mdf.request.decided"], actor=world.vendor_admin)
    big = webinar(world, cost=1_500_000, share="40")  # 900,000 is the vendor share: above the threshold
    mdf.request_decide(request=big, actor=world.partner_manager, approve=True)
    mdf.request_second_approve(request=big, actor=world.vendor_admin, approve=True)
    small = webinar(world, cost=100_000, code="WEB-ALPHA-2")
    mdf.request_decide(request=small, actor=world.partner_manager, approve=False, reason="Off-strategy")

    first, second, rejected = (p["data"] for p in received(receiver, hook))
    assert (first["id"], first["status"], first["decision"]) == (big.public_id, "second_approval", "first")
    assert first["approved"] == {"amount_minor": 900_000, "currency": "USD", "amount": "9000.00"}
    assert first["decided_by"] == world.partner_manager.email
    assert (second["status"], second["decision"]) == ("approved", "second") and second["second_approved_at"]
    assert (rejected["status"], rejected["reason"], rejected["approved"]) == ("rejected", "Off-strategy", None)
    assert rejected["partner"] == {"id": world.partner_a.public_id, "name": world.partner_a.name}


@pytest.mark.django_db(transaction=True)
def test_a_mapping_run_is_announced_when_it_finishes_or_fails(world, receiver, monkeypatch):  # noqa: F811
    import covey.mapping
    from covey.accountmaps import services as maps
    from tests.access_rows.mapping import build

    build(world)  # its first run happens before anyone listens
    hook = services.endpoint_create(url=receiver.url, events=["mapping.run.finished"], actor=world.vendor_admin)
    done = maps.run_request(account_list=world.map_list_a, actor=world.a_admin)
    monkeypatch.setattr(covey.mapping, "match_accounts", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("engine down")))
    failed = maps.run_request(account_list=world.map_list_a, actor=world.a_admin)

    ok, bad = (p["data"] for p in received(receiver, hook))
    assert (ok["id"], ok["status"], ok["error"]) == (done.public_id, "done", None)
    assert ok["counts"]["pairs"] == 4 and ok["list"] == {"id": world.map_list_a.public_id, "name": "Alpha accounts 2026"}
    assert (bad["id"], bad["status"]) == (failed.public_id, "failed") and "engine down" in bad["error"]
