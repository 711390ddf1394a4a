"""MDF pages: the partner requests and claims, managers and finance decide, bad input is explained
and changes nothing, the outsider sees nothing, and the ROI page draws its chart."""

from __future__ import annotations

import pytest
from django.urls import reverse

from covey.mdf import services
from covey.mdf.models import Allocation, Claim, ClaimFile, FundRequest, RequestStatus
from tests.mdf_world import PDF, build_mdf, invoice, webinar


@pytest.fixture
def mdf(world):
    return build_mdf(world)


@pytest.fixture
def approved(mdf):
    request = webinar(mdf)
    services.request_decide(request=request, actor=mdf.partner_manager, approve=True, approved_minor=500_000, reason="Part")
    return request


def _form(w, **overrides):
    from datetime import timedelta

    from django.utils import timezone

    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    data = {"allocation": w.mdf_alloc_a.public_id, "activity_type": "webinar", "title": "Webinar", "starts_on": day,
            "ends_on": day, "planned_cost": "10,000.00", "co_investment_percent": "30", "expected_leads": "10",
            "expected_pipeline": "", "campaign_code": "WEB-1"}
    data.update(overrides)
    return data


def test_a_partner_rep_requests_funds_from_its_allocation(client, mdf):
    client.force_login(mdf.a_rep)
    page = client.get(reverse("mdf_request_create"))
    assert "10,000.00 USD available" in page.content.decode()
    response = client.post(reverse("mdf_request_create"), _form(mdf))
    request = FundRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("mdf_request_detail", args=[request.public_id])
    assert request.requested_minor == 700_000 and request.created_by == mdf.a_rep


@pytest.mark.parametrize("overrides, message", [
    ({"planned_cost": "20,000.00"}, "more than the available balance of 10,000.00 USD"),
    ({"ends_on": "2020-01-01"}, "The end date is before the start date."),
    ({"co_investment_percent": "120"}, "percent from 0 up to"),
    ({"planned_cost": "12.345"}, "more than 2 decimal places"),
    ({"campaign_code": "no spaces please"}, "letters, digits, dashes"),
])
def test_bad_requests_are_explained_and_change_nothing(client, mdf, overrides, message):
    client.force_login(mdf.a_rep)
    response = client.post(reverse("mdf_request_create"), _form(mdf, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FundRequest.objects.exists()


def test_nul_characters_in_a_form_are_refused_before_anything_changes(client, mdf):
    client.force_login(mdf.a_rep)
    response = client.post(reverse("mdf_request_create"), _form(mdf, title="Web\x00inar"))
    assert response.status_code == 400
    assert not FundRequest.objects.exists()


def test_the_partner_cannot_request_from_another_partners_allocation(client, mdf):
    client.force_login(mdf.a_rep)
    response = client.post(reverse("mdf_request_create"), _form(mdf, allocation=mdf.mdf_alloc_b.public_id))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not FundRequest.objects.exists()


def test_the_manager_approves_part_and_the_balance_shows_it(client, mdf):
    request = webinar(mdf)
    client.force_login(mdf.partner_manager)
    url = reverse("mdf_request_decide", args=[request.public_id])
    no_reason = client.post(url, {"decision": "approve", "approved_amount": "5,000.00", "reason": ""})
    assert "Say why you approve less" in no_reason.content.decode()
    client.post(url, {"decision": "approve", "approved_amount": "5,000.00", "reason": "Smaller audience"})
    assert FundRequest.objects.get(pk=request.pk).status == RequestStatus.APPROVED
    budget_page = client.get(reverse("mdf_budget_detail", args=[mdf.mdf_budget.public_id])).content.decode()
    assert "5,000.00 USD" in budget_page  # reserved


def test_a_claim_with_an_invoice_then_finance_approves(client, mdf, approved):
    client.force_login(mdf.a_rep)
    url = reverse("mdf_claim_create", args=[approved.public_id])
    response = client.post(url, {"actual_cost": "6,000.00", "invoices": [invoice()], "leads_count": "12"})
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert claim.reimbursable_minor == 420_000
    proof = ClaimFile.objects.get()
    download = client.get(reverse("mdf_claim_file", args=[proof.public_id]))
    assert b"".join(download.streaming_content) == PDF
    client.force_login(mdf.finance)
    client.post(reverse("mdf_claim_decide", args=[claim.public_id]), {"decision": "approve", "note": ""})
    assert FundRequest.objects.get(pk=approved.pk).status == RequestStatus.REIMBURSED
    assert Allocation.objects.get(pk=mdf.mdf_alloc_a.pk).spent_minor == 420_000


@pytest.mark.parametrize("data, message", [
    ({"actual_cost": "6,000.00", "claimed_amount": "6,000.00"}, "more than the approved amount of 5,000.00 USD"),
    ({"actual_cost": "6,000.00"}, "Attach proof of performance"),
    ({"actual_cost": "6,000.00", "file": ("invoice.exe", b"MZ\x90")}, "attach a PDF"),
    ({"actual_cost": "6,000.00", "file": ("fake.pdf", b"not a pdf at all")}, "attach a PDF"),
])
def test_bad_claims_are_explained_and_change_nothing(client, mdf, approved, data, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(mdf.a_rep)
    data = dict(data)
    name_content = data.pop("file", None)
    data["invoices"] = [SimpleUploadedFile(*name_content)] if name_content else ([invoice()] if "claimed_amount" in data else [])
    response = client.post(reverse("mdf_claim_create", args=[approved.public_id]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Claim.objects.exists() and not ClaimFile.objects.exists()
    assert FundRequest.objects.get(pk=approved.pk).status == RequestStatus.APPROVED


def test_a_claim_for_another_partners_request_is_not_found(client, mdf, approved):
    client.force_login(mdf.b_rep)
    response = client.post(reverse("mdf_claim_create", args=[approved.public_id]),
                           {"actual_cost": "1.00", "invoices": [invoice()]})
    assert response.status_code == 404
    assert not Claim.objects.exists()


def test_the_outsider_sees_neither_requests_nor_their_roi(client, mdf, approved):
    client.force_login(mdf.b_rep)
    for name in ("mdf_request_list", "mdf_roi"):
        text = client.get(reverse(name)).content.decode()
        assert approved.title not in text and approved.campaign_code not in text
    assert client.get(reverse("mdf_budget_list")).status_code == 404


def test_the_roi_page_draws_a_chart_per_partner_and_program(client, mdf, approved):
    client.force_login(mdf.vendor_admin)
    text = client.get(reverse("mdf_roi")).content.decode()
    assert text.count("<svg") == 2 and "Alpha Integrations" in text and "Summary per program" in text


def test_the_admin_creates_a_budget_and_generates_allocations(client, mdf):
    from covey.mdf.models import Budget

    client.force_login(mdf.vendor_admin)
    response = client.post(reverse("mdf_budget_create"), {"program": mdf.mdf_program.public_id, "period_key": "2030q2",
                                                          "amount": "25,000.00", "second_approval_above": "",
                                                          "claim_days": "45"})
    budget = Budget.objects.get(period_key="2030Q2")
    assert response.status_code == 302 and budget.amount_minor == 2_500_000 and budget.claim_days == 45
    duplicate = client.post(reverse("mdf_budget_create"), {"program": mdf.mdf_program.public_id, "period_key": "2030Q2",
                                                           "amount": "1.00", "claim_days": "45"})
    assert "already has a budget for 2030Q2" in duplicate.content.decode()
    client.post(reverse("mdf_allocations_generate", args=[budget.public_id]))
    assert budget.allocations.count() == 2


def test_adjusting_an_allocation_needs_a_reason(client, mdf):
    client.force_login(mdf.partner_manager)
    url = reverse("mdf_allocation_adjust", args=[mdf.mdf_alloc_a.public_id])
    response = client.post(url, {"amount": "12,000.00", "reason": ""}, follow=True)
    assert "This field is required" in response.content.decode()
    assert Allocation.objects.get(pk=mdf.mdf_alloc_a.pk).amount_minor == 1_000_000
    client.post(url, {"amount": "12,000.00", "reason": "Launch quarter"})
    assert Allocation.objects.get(pk=mdf.mdf_alloc_a.pk).amount_minor == 1_200_000
