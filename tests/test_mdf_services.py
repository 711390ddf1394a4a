"""MDF services: a worked example from allocation to statement, the balance rules, claims, deadlines, ROI."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from covey.mdf import rules, services
from covey.mdf.models import Allocation, Budget, ClaimStatus, FundRequest, RequestStatus
from tests.mdf_world import build_mdf, invoice, leads_csv, webinar


@pytest.fixture
def mdf(world):
    return build_mdf(world)


def _balances(w):
    budget = Budget.objects.get(pk=w.mdf_budget.pk)
    alloc = Allocation.objects.get(pk=w.mdf_alloc_a.pk)
    return budget.available_minor, alloc.available_minor


# --- pure rules ----------------------------------------------------------------------------------

@pytest.mark.pure
def test_vendor_share_rounds_half_up_once():
    assert rules.vendor_share(1_000_000, Decimal("30")) == 700_000
    assert rules.vendor_share(1_001, Decimal("50")) == 501  # 500.5 → 501
    assert rules.vendor_share(333, Decimal("33.33")) == 222  # 222.0111 → 222


@pytest.mark.pure
def test_reimbursement_is_the_smallest_of_approved_vendor_share_and_claimed():
    assert rules.reimbursement(approved_minor=500_000, actual_cost_minor=900_000, co_investment_percent=Decimal("30")) == 500_000
    assert rules.reimbursement(approved_minor=500_000, actual_cost_minor=600_000, co_investment_percent=Decimal("30")) == 420_000
    assert rules.reimbursement(approved_minor=500_000, actual_cost_minor=900_000, co_investment_percent=Decimal("30"),
                               claimed_minor=450_000) == 450_000


@pytest.mark.pure
def test_rules_refuse_floats():
    with pytest.raises(TypeError):
        rules.vendor_share(1000, 30.0)  # type: ignore[arg-type]


# --- worked example --------------------------------------------------------------------------

def test_worked_example_webinar_from_request_to_statement(mdf):
    """Alpha (Gold, 10,000.00 a quarter) plans a 10,000.00 webinar and puts in 30 %: it asks for
    7,000.00. Its manager approves 5,000.00. The webinar cost 6,000.00; 70 % of that is 4,200.00,
    less than the 5,000.00 approved, so finance reimburses 4,200.00 and 800.00 returns to the balance."""
    from covey.payouts.models import LedgerEntry, Source, StatementLine

    w = mdf
    assert w.mdf_alloc_a.amount_minor == 1_000_000 and w.mdf_alloc_a.tier_code == "gold"
    assert w.mdf_alloc_b.amount_minor == 400_000
    start = _balances(w)
    request = webinar(w)
    assert request.requested_minor == 700_000 and request.status == RequestStatus.SUBMITTED
    services.request_decide(request=request, actor=w.partner_manager, approve=True, approved_minor=500_000,
                            reason="Half the list is outside our segment")
    assert request.status == RequestStatus.APPROVED
    assert request.claim_due_on == request.ends_on + timedelta(days=60)
    assert _balances(w) == (start[0] - 500_000, start[1] - 500_000)

    claim = services.claim_create(request=request, actor=w.a_rep, actual_cost_minor=600_000,
                                  files=[("invoice", invoice())], leads_file=leads_csv(24))
    assert claim.reimbursable_minor == 420_000 and claim.leads_count == 24
    services.claim_decide(claim=claim, actor=w.finance, approve=True)
    assert claim.status == ClaimStatus.APPROVED
    assert _balances(w) == (start[0] - 420_000, start[1] - 420_000)

    entry = LedgerEntry.objects.get(source=Source.MDF, partner=w.partner_a)
    assert entry.amount_minor == 420_000 and entry.program_id == w.mdf_program.pk
    assert entry.period_key == w.mdf_budget.period_key
    assert "min(approved 5,000.00 USD, 70% of actual cost 6,000.00 USD = 4,200.00 USD) = 4,200.00 USD" in entry.explanation
    line = StatementLine.objects.select_related("statement").get(entry=entry)
    assert line.statement.partner_id == w.partner_a.pk and line.statement.total_minor == 420_000
    assert FundRequest.objects.get(pk=request.pk).status == RequestStatus.REIMBURSED


def test_roi_of_a_seeded_activity_matches_a_hand_calculation(mdf):
    """Reimbursed 4,200.00; 24 leads; opportunities with the campaign code: two open (30,000.00 and
    12,000.00), one won (21,000.00), one lost (9,000.00, not counted), one in EUR (named, not added).
    Cost per lead = 4,200.00 / 24 = 175.00; pipeline per dollar = 42,000 / 4,200 = 10.00;
    return per dollar = 21,000 / 4,200 = 5.00."""
    from covey.crm.models import Opportunity
    from covey.mdf.selectors import activity_rois, summarise

    w = mdf
    request = webinar(w)
    services.request_decide(request=request, actor=w.partner_manager, approve=True, approved_minor=500_000, reason="Part")
    claim = services.claim_create(request=request, actor=w.a_rep, actual_cost_minor=600_000,
                                  files=[("invoice", invoice())], leads_count=24)
    services.claim_decide(claim=claim, actor=w.finance, approve=True)
    for name, stage, amount, currency in (("Open 1", "Qualification", 3_000_000, "USD"), ("Open 2", "Proposal/Price Quote", 1_200_000, "USD"),
                                          ("Won", "Closed Won", 2_100_000, "USD"), ("Lost", "Closed Lost", 900_000, "USD"),
                                          ("Euro", "Qualification", 500_000, "EUR")):
        Opportunity.objects.create(name=name, account=w.account_a, stage=stage, amount_minor=amount, currency=currency,
                                   close_date=timezone.localdate(), campaign_code="WEB-ALPHA-1", lost_reason="x" if stage == "Closed Lost" else "")
    [row] = activity_rois(user=w.vendor_admin)
    assert (row.roi.cost_minor, row.roi.leads, row.roi.pipeline_minor, row.roi.won_minor) == (420_000, 24, 4_200_000, 2_100_000)
    assert row.roi.cost_per_lead_minor == 17_500
    assert row.roi.pipeline_per_unit == Decimal("10.00")
    assert row.roi.return_per_unit == Decimal("5.00")
    assert row.other_currencies == ["EUR"]
    [per_partner] = summarise([row], by="partner")
    assert per_partner.label == "Alpha Integrations" and per_partner.roi.won_minor == 2_100_000
    assert activity_rois(user=w.b_rep) == []


# --- balances ----------------------------------------------------------------------------------

def test_a_request_over_the_available_balance_is_refused_and_nothing_changes(mdf):
    w = mdf
    with pytest.raises(ValidationError) as exc:
        webinar(w, cost=1_500_000)  # 70 % = 10,500.00 > 10,000.00
    assert "more than the available balance of 10,000.00 USD" in str(exc.value)
    assert FundRequest.objects.count() == 0


def test_an_end_date_before_the_start_is_refused(mdf):
    w = mdf
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.request_create(allocation=w.mdf_alloc_a, actor=w.a_rep, activity_type="event", title="Expo",
                                starts_on=today, ends_on=today - timedelta(days=1), planned_cost_minor=100_000,
                                co_investment_percent="0", campaign_code="EXPO-1")
    assert exc.value.message_dict["ends_on"] == [services.END_BEFORE_START]
    assert FundRequest.objects.count() == 0


def test_nul_bytes_and_bad_shares_are_refused(mdf):
    w = mdf
    with pytest.raises(ValidationError):
        webinar(w, title="Web\x00inar")
    with pytest.raises(ValidationError) as exc:
        webinar(w, share="100")
    assert services.SHARE_RANGE in exc.value.message_dict["co_investment_percent"]
    assert FundRequest.objects.count() == 0


def test_approvals_cannot_overspend_the_allocation(mdf):
    w = mdf
    first, second = webinar(w, cost=1_000_000, code="W-1"), webinar(w, cost=1_000_000, code="W-2")
    services.request_decide(request=first, actor=w.partner_manager, approve=True)
    with pytest.raises(ValidationError) as exc:
        services.request_decide(request=second, actor=w.partner_manager, approve=True)
    assert "available balance of 3,000.00 USD" in str(exc.value)
    assert FundRequest.objects.get(pk=second.pk).status == RequestStatus.SUBMITTED
    services.request_decide(request=second, actor=w.partner_manager, approve=True, approved_minor=300_000, reason="What is left")
    assert Allocation.objects.get(pk=w.mdf_alloc_a.pk).available_minor == 0


def test_approvals_cannot_overspend_the_budget(world):
    w = build_mdf(world, budget_minor=600_000)
    request = webinar(w, cost=1_000_000)
    with pytest.raises(ValidationError) as exc:
        services.request_decide(request=request, actor=w.partner_manager, approve=True)
    assert "The budget has only 6,000.00 USD left" in str(exc.value)


def test_the_database_refuses_a_negative_balance_whatever_the_code_does(mdf):
    from django.db import IntegrityError, transaction
    from django.db.models import F

    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.filter(pk=mdf.mdf_budget.pk).update(reserved_minor=F("amount_minor") + 1)


def test_only_the_partners_manager_or_an_admin_decides(mdf):
    w = mdf
    request = webinar(w)
    for who in (w.other_manager, w.finance, w.a_admin):
        with pytest.raises(PermissionDenied):
            services.request_decide(request=request, actor=who, approve=True)


def test_a_large_approval_waits_for_a_different_admin(mdf):
    w = mdf
    request = webinar(w, cost=1_200_000, code="BIG-1", title="Big event")  # vendor share 8,400.00
    services.request_decide(request=request, actor=w.vendor_admin, approve=True)
    assert request.status == RequestStatus.SECOND_APPROVAL
    with pytest.raises(ValidationError):
        services.request_second_approve(request=request, actor=w.vendor_admin, approve=True)
    from tests.conftest import _user

    second_admin = _user("admin2@acmecloud.example", role="admin")
    with pytest.raises(ValidationError):
        services.claim_create(request=request, actor=w.a_rep, actual_cost_minor=1, files=[("invoice", invoice())])
    services.request_second_approve(request=request, actor=second_admin, approve=False, reason="Too big this quarter")
    assert request.status == RequestStatus.REJECTED
    assert Allocation.objects.get(pk=w.mdf_alloc_a.pk).reserved_minor == 0


def test_allocation_adjustment_needs_a_reason_and_cannot_go_below_what_is_committed(mdf):
    from covey.core.models import AuditEvent

    w = mdf
    request = webinar(w)
    services.request_decide(request=request, actor=w.partner_manager, approve=True)
    with pytest.raises(ValidationError):
        services.allocation_adjust(allocation=w.mdf_alloc_a, amount_minor=1_200_000, reason="", actor=w.partner_manager)
    with pytest.raises(ValidationError) as exc:
        services.allocation_adjust(allocation=w.mdf_alloc_a, amount_minor=600_000, reason="Cut", actor=w.partner_manager)
    assert "7,000.00 USD" in str(exc.value)
    with pytest.raises(PermissionDenied):
        services.allocation_adjust(allocation=w.mdf_alloc_a, amount_minor=1_200_000, reason="More", actor=w.other_manager)
    services.allocation_adjust(allocation=w.mdf_alloc_a, amount_minor=1_200_000, reason="Launch quarter", actor=w.partner_manager)
    assert w.mdf_alloc_a.amount_minor == 1_200_000 and w.mdf_alloc_a.adjusted
    event = AuditEvent.objects.filter(object_type="mdf.allocation").latest("id")
    assert event.changes["reason"] == [None, "Launch quarter"]
    assert services.allocations_generate(budget=w.mdf_budget, actor=w.vendor_admin) == 0  # existing ones stay


# --- claims --------------------------------------------------------------------------------------

@pytest.fixture
def approved(mdf):
    request = webinar(mdf)
    services.request_decide(request=request, actor=mdf.partner_manager, approve=True, approved_minor=500_000, reason="Part")
    return request


def test_a_claim_above_the_approved_amount_is_refused(mdf, approved):
    with pytest.raises(ValidationError) as exc:
        services.claim_create(request=approved, actor=mdf.a_rep, actual_cost_minor=900_000, claimed_minor=600_000,
                              files=[("invoice", invoice())])
    assert "more than the approved amount of 5,000.00 USD" in str(exc.value)
    assert not approved.claims.exists()


@pytest.mark.parametrize("upload, message", [
    (("invoice", invoice("invoice.exe")), "attach a PDF"),
    (("invoice", invoice("invoice.pdf", b"MZ\x90\x00 not a pdf")), "attach a PDF"),
    (("invoice", invoice("big.pdf", b"%PDF" + b"0" * (5 * 1024 * 1024 + 1))), "larger than 5 MB"),
])
def test_wrong_or_too_large_files_are_refused(mdf, approved, upload, message):
    with pytest.raises(ValidationError) as exc:
        services.claim_create(request=approved, actor=mdf.a_rep, actual_cost_minor=600_000, files=[upload])
    assert message in str(exc.value)
    assert not approved.claims.exists()
    assert FundRequest.objects.get(pk=approved.pk).status == RequestStatus.APPROVED


def test_a_claim_needs_proof(mdf, approved):
    with pytest.raises(ValidationError) as exc:
        services.claim_create(request=approved, actor=mdf.a_rep, actual_cost_minor=600_000, files=[])
    assert services.PROOF_REQUIRED in str(exc.value)


def test_another_partner_cannot_claim_a_request(mdf, approved):
    with pytest.raises(PermissionDenied):
        services.claim_create(request=approved, actor=mdf.b_rep, actual_cost_minor=600_000, files=[("invoice", invoice())])
    with pytest.raises(PermissionDenied):
        services.claim_create(request=approved, actor=mdf.a_readonly, actual_cost_minor=600_000, files=[("invoice", invoice())])


def test_a_claim_before_the_activity_ends_is_refused(mdf):
    request = webinar(mdf, days_ago=-3)
    services.request_decide(request=request, actor=mdf.partner_manager, approve=True)
    with pytest.raises(ValidationError) as exc:
        services.claim_create(request=request, actor=mdf.a_rep, actual_cost_minor=1, files=[("invoice", invoice())])
    assert "once the activity has ended" in str(exc.value)


def test_a_rejected_claim_can_be_made_again_and_only_finance_decides(mdf, approved):
    claim = services.claim_create(request=approved, actor=mdf.a_rep, actual_cost_minor=600_000, files=[("invoice", invoice())])
    with pytest.raises(PermissionDenied):
        services.claim_decide(claim=claim, actor=mdf.partner_manager, approve=True)
    with pytest.raises(ValidationError):
        services.claim_decide(claim=claim, actor=mdf.finance, approve=False)  # needs a note
    services.claim_decide(claim=claim, actor=mdf.finance, approve=False, note="The invoice is for another event")
    assert FundRequest.objects.get(pk=approved.pk).status == RequestStatus.APPROVED
    again = services.claim_create(request=approved, actor=mdf.a_rep, actual_cost_minor=600_000, files=[("invoice", invoice())])
    assert again.status == ClaimStatus.SUBMITTED


# --- deadlines -----------------------------------------------------------------------------------

def test_unclaimed_approvals_lapse_after_the_deadline_and_return_to_the_budget(mdf, approved):
    from covey.core.models import Notification
    from covey.core.schedule import run_jobs

    due = approved.claim_due_on
    start_of_day = timezone.make_aware(timezone.datetime.combine(due - timedelta(days=3), timezone.datetime.min.time()))
    assert run_jobs(now=start_of_day, only="mdf.claim_reminders") == {"mdf.claim_reminders": 1}
    assert run_jobs(now=start_of_day, only="mdf.claim_reminders") == {"mdf.claim_reminders": 0}
    assert Notification.objects.filter(kind="mdf.claim_due", recipient=mdf.a_rep).exists()
    assert Allocation.objects.get(pk=mdf.mdf_alloc_a.pk).reserved_minor == 500_000
    after = start_of_day + timedelta(days=4)
    assert run_jobs(now=after, only="mdf.lapse_unclaimed") == {"mdf.lapse_unclaimed": 1}
    assert FundRequest.objects.get(pk=approved.pk).status == RequestStatus.LAPSED
    assert Allocation.objects.get(pk=mdf.mdf_alloc_a.pk).reserved_minor == 0
    assert Budget.objects.get(pk=mdf.mdf_budget.pk).reserved_minor == 0
    with pytest.raises(ValidationError):
        services.claim_create(request=approved, actor=mdf.a_rep, actual_cost_minor=1, files=[("invoice", invoice())],
                              today=due + timedelta(days=1))
