"""The MDF API: a request, its decision, a claim with a base64 invoice and finance's approval; bad
input is a 422 that changes nothing; creates are idempotent; the ROI endpoint matches the pages."""

from __future__ import annotations

import base64

import pytest

from covey.mdf.models import Claim, FundRequest, RequestStatus
from tests.mdf_world import PDF, build_mdf
from tests.test_api import as_user


@pytest.fixture
def mdf(world):
    return build_mdf(world)


def _request_body(w, **overrides):
    from datetime import timedelta

    from django.utils import timezone

    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    body = {"allocation": w.mdf_alloc_a.public_id, "activity_type": "webinar", "title": "API webinar", "starts_on": day,
            "ends_on": day, "planned_cost": {"amount": "10000.00"}, "co_investment_percent": "30",
            "expected_leads": 30, "campaign_code": "API-WEB"}
    body.update(overrides)
    return body


def test_request_decide_claim_and_reimburse_over_the_api(mdf):
    rep, manager, finance = as_user(mdf.a_rep), as_user(mdf.partner_manager), as_user(mdf.finance)
    created = rep.send("POST", "/api/mdf/requests", _request_body(mdf))
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    assert created.json()["requested"] == {"amount_minor": 700_000, "currency": "USD", "amount": "7000.00"}

    decided = manager.send("POST", f"/api/mdf/requests/{request_id}/decide",
                           {"approve": True, "approved_amount": {"amount": "5000.00"}, "reason": "Part"})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"

    pdf = base64.b64encode(PDF).decode()
    claimed = rep.send("POST", f"/api/mdf/requests/{request_id}/claims",
                       {"actual_cost": {"amount": "6000.00"}, "leads_count": 9,
                        "files": [{"kind": "invoice", "name": "inv.pdf", "content_base64": pdf}]})
    assert claimed.status_code == 201, claimed.content
    assert claimed.json()["reimbursement"]["amount_minor"] == 420_000

    approved = finance.send("POST", f"/api/mdf/claims/{claimed.json()['id']}/decide", {"approve": True})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["ledger_entry"].startswith("led_")

    [allocation] = rep.get("/api/mdf/allocations").json()["items"]
    assert allocation["spent"]["amount_minor"] == 420_000 and allocation["available"]["amount_minor"] == 580_000
    [row] = rep.get("/api/mdf/roi").json()["items"]
    assert row["cost"]["amount_minor"] == 420_000 and row["leads"] == 9 and row["cost_per_lead"]["amount"] == "466.67"


def test_over_the_balance_and_floats_are_refused_with_nothing_changed(mdf):
    rep = as_user(mdf.a_rep)
    over = rep.send("POST", "/api/mdf/requests", _request_body(mdf, planned_cost={"amount": "20000.00"}))
    assert over.status_code == 422 and "available balance" in over.json()["detail"]
    floated = rep.send("POST", "/api/mdf/requests", _request_body(mdf, planned_cost={"amount_minor": 1000.5}))
    assert floated.status_code == 422
    backwards = rep.send("POST", "/api/mdf/requests", _request_body(mdf, ends_on="2020-01-01"))
    assert backwards.status_code == 422 and "end date is before" in backwards.json()["detail"]
    assert not FundRequest.objects.exists()


def test_a_claim_with_a_wrong_file_or_above_the_approval_is_refused(mdf):
    from covey.mdf import services
    from tests.mdf_world import webinar

    request = webinar(mdf)
    services.request_decide(request=request, actor=mdf.partner_manager, approve=True, approved_minor=500_000, reason="Part")
    rep = as_user(mdf.a_rep)
    path = f"/api/mdf/requests/{request.public_id}/claims"
    exe = base64.b64encode(b"MZ\x90\x00").decode()
    wrong = rep.send("POST", path, {"actual_cost": {"amount": "10.00"},
                                    "files": [{"name": "tool.exe", "content_base64": exe}]})
    assert wrong.status_code == 422 and "attach a PDF" in wrong.json()["detail"]
    garbled = rep.send("POST", path, {"actual_cost": {"amount": "10.00"},
                                      "files": [{"name": "a.pdf", "content_base64": "%%%"}]})
    assert garbled.status_code == 422
    pdf = base64.b64encode(PDF).decode()
    above = rep.send("POST", path, {"actual_cost": {"amount": "9000.00"}, "claimed_amount": {"amount": "6000.00"},
                                    "files": [{"name": "a.pdf", "content_base64": pdf}]})
    assert above.status_code == 422 and "more than the approved amount" in above.json()["detail"]
    assert not Claim.objects.exists()
    assert FundRequest.objects.get(pk=request.pk).status == RequestStatus.APPROVED


def test_creating_a_request_twice_with_one_idempotency_key_creates_one(mdf):
    rep = as_user(mdf.a_rep)
    first = rep.send("POST", "/api/mdf/requests", _request_body(mdf), headers={"Idempotency-Key": "mdf-1"})
    again = rep.send("POST", "/api/mdf/requests", _request_body(mdf), headers={"Idempotency-Key": "mdf-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert FundRequest.objects.count() == 1
