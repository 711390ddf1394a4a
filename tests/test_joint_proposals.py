"""Joint proposals: one per deal, who prices what, the approval workflow, escalation, pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from covey.core.models import AuditEvent, Notification
from covey.joint import services
from covey.joint.models import JointProposal, LineKind, ProposalLine, ProposalStatus


@pytest.fixture
def proposal(world):
    return services.proposal_create(opportunity=world.opportunity_a, partner=world.partner_a, actor=world.a_rep)


def _service(proposal, actor, *, quantity=4, unit_minor=150_000):
    return services.proposal_line_add(
        proposal=proposal, actor=actor, kind=LineKind.PARTNER_SERVICE, description="Implementation days",
        quantity=quantity, unit_price_minor=unit_minor,
    )


def _submitted(proposal, world):
    _service(proposal, world.a_rep)
    return services.proposal_submit(proposal=proposal, actor=world.a_rep)


# --- creation --------------------------------------------------------------------------------


def test_the_deals_product_lines_become_vendor_lines_at_list_price(world):
    from covey.crm.models import OpportunityLine

    # A second line sold at 10 % off: 2 × 12,000.00 less 2,400.00.
    OpportunityLine.objects.create(opportunity=world.opportunity_a, product=world.product, quantity=2,
                                   unit_price_minor=1_200_000, discount_minor=240_000)
    proposal = services.proposal_create(opportunity=world.opportunity_a, partner=world.partner_a, actor=world.a_rep)
    lines = list(proposal.lines.order_by("id"))
    assert [(ln.kind, ln.product_id, ln.quantity, ln.unit_price_minor, ln.discount_percent) for ln in lines] == [
        (LineKind.VENDOR_PRODUCT, world.product.pk, 2, 1_200_000, Decimal("0.00")),
        (LineKind.VENDOR_PRODUCT, world.product.pk, 2, 1_200_000, Decimal("10.00")),
    ]
    assert proposal.currency == "USD" and proposal.title == "Deal A — joint proposal"
    assert proposal.totals().vendor_subtotal.minor == 2_400_000 + 2_160_000


def test_a_deal_has_one_joint_proposal_per_partner(proposal, world):
    with pytest.raises(services.ProposalExists) as caught:
        services.proposal_create(opportunity=world.opportunity_a, partner=world.partner_a, actor=world.sales_rep)
    assert caught.value.existing == proposal
    # The database holds the line even for code that skips the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        JointProposal.objects.create(opportunity=world.opportunity_a, partner=world.partner_a, title="Again", currency="USD")
    assert JointProposal.objects.count() == 1


def test_a_proposal_needs_the_partner_on_the_deal(world):
    with pytest.raises(ValidationError) as caught:
        services.proposal_create(opportunity=world.opportunity_a, partner=world.partner_b, actor=world.sales_rep)
    assert "partner" in caught.value.message_dict
    assert not JointProposal.objects.exists()


def test_creating_a_second_proposal_in_the_browser_links_to_the_first(login, proposal, world):
    client = login(world.sales_rep)
    url = reverse("proposal_create") + f"?opportunity={world.opportunity_a.public_id}"
    page = client.get(url).content.decode()
    assert reverse("proposal_detail", kwargs={"public_id": proposal.public_id}) in page  # told before even trying
    response = client.post(url, {"opportunity": world.opportunity_a.public_id, "partner": world.partner_a.public_id})
    assert response.status_code == 200
    text = response.content.decode()
    assert "already has a joint proposal" in text
    assert reverse("proposal_detail", kwargs={"public_id": proposal.public_id}) in text
    assert JointProposal.objects.count() == 1


def test_a_partner_rep_creates_a_proposal_for_its_own_partner_in_the_browser(login, world):
    response = login(world.a_rep).post(reverse("proposal_create"), {"opportunity": world.opportunity_a.public_id, "title": "Alpha + Acme"})
    proposal = JointProposal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("proposal_detail", kwargs={"public_id": proposal.public_id})
    assert proposal.partner == world.partner_a and proposal.created_by == world.a_rep and proposal.lines.count() == 1


def test_a_partner_cannot_propose_on_a_deal_it_cannot_see(login, world):
    response = login(world.b_rep).post(reverse("proposal_create"), {"opportunity": world.opportunity_a.public_id})
    assert response.status_code == 200 and "Deal A" not in response.content.decode()
    assert not JointProposal.objects.exists()


# --- who prices what -------------------------------------------------------------------------


def test_each_side_prices_its_own_lines(proposal, world):
    _service(proposal, world.a_rep)
    with pytest.raises(PermissionDenied):
        _service(proposal, world.sales_rep)
    with pytest.raises(PermissionDenied):
        services.proposal_line_add(proposal=proposal, actor=world.a_admin, kind=LineKind.VENDOR_PRODUCT, product=world.product)
    vendor_line = services.proposal_line_add(
        proposal=proposal, actor=world.sales_rep, kind=LineKind.VENDOR_PRODUCT, product=world.product, quantity=1,
        discount_percent="12.5", unit_price_minor=1,  # a vendor line is always priced from the catalogue
    )
    assert vendor_line.unit_price_minor == world.product.unit_price_minor
    assert proposal.lines.filter(kind=LineKind.PARTNER_SERVICE).count() == 1


def test_line_input_is_checked(proposal, world):
    cases = [
        (world.sales_rep, {"kind": LineKind.VENDOR_PRODUCT, "product": world.product, "discount_percent": "100.5"}, "discount_percent"),
        (world.sales_rep, {"kind": LineKind.VENDOR_PRODUCT, "product": None}, "product"),
        (world.sales_rep, {"kind": LineKind.VENDOR_PRODUCT, "product": world.product, "quantity": 0}, "quantity"),
        (world.a_rep, {"kind": LineKind.PARTNER_SERVICE, "description": " ", "unit_price_minor": 100}, "description"),
        (world.a_rep, {"kind": LineKind.PARTNER_SERVICE, "description": "Days", "unit_price_minor": None}, "unit_price"),
        (world.a_rep, {"kind": LineKind.PARTNER_SERVICE, "description": "Days", "unit_price_minor": 10**14, "quantity": 1000}, "quantity"),
        (world.a_rep, {"kind": LineKind.PARTNER_SERVICE, "description": "Days", "unit_price_minor": 100, "discount_percent": "5"}, "discount_percent"),
    ]
    for actor, values, field in cases:
        with pytest.raises(ValidationError) as caught:
            services.proposal_line_add(proposal=proposal, actor=actor, **values)
        assert field in caught.value.message_dict, values
    assert proposal.lines.count() == 1


def test_a_product_priced_in_another_currency_cannot_join(proposal, world):
    from covey.crm.models import Product

    euro = Product.objects.create(name="Euro add-on", code="EUR1", unit_price_minor=10_000, currency="EUR")
    with pytest.raises(ValidationError, match="EUR"):
        services.proposal_line_add(proposal=proposal, actor=world.sales_rep, kind=LineKind.VENDOR_PRODUCT, product=euro)


# --- the workflow ----------------------------------------------------------------------------


def test_submitting_asks_the_partners_manager_and_the_admins_and_locks_the_lines(proposal, world):
    _submitted(proposal, world)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED and proposal.submitted_by == world.a_rep
    told = set(Notification.objects.filter(kind="joint.proposal_submitted").values_list("recipient__email", flat=True))
    assert told == {world.partner_manager.email, world.vendor_admin.email}  # not B's manager, not the submitter
    with pytest.raises(ValidationError, match="cannot change"):
        _service(proposal, world.a_rep)
    with pytest.raises(ValidationError, match="cannot change"):
        services.proposal_update(proposal=proposal, actor=world.a_rep, notes="Sneaky")


def test_an_empty_or_expired_proposal_cannot_be_submitted(world):
    from covey.crm.models import OpportunityLine

    OpportunityLine.objects.filter(opportunity=world.opportunity_a).delete()
    proposal = services.proposal_create(opportunity=world.opportunity_a, partner=world.partner_a, actor=world.a_rep)
    with pytest.raises(ValidationError, match="at least one line"):
        services.proposal_submit(proposal=proposal, actor=world.a_rep)
    _service(proposal, world.a_rep)
    services.proposal_update(proposal=proposal, actor=world.a_rep, valid_until=timezone.localdate() - timedelta(days=1))
    with pytest.raises(ValidationError) as caught:
        services.proposal_submit(proposal=proposal, actor=world.a_rep)
    assert "valid_until" in caught.value.message_dict
    assert JointProposal.objects.get().status == ProposalStatus.DRAFT


def test_only_an_admin_or_the_partners_manager_decides_the_pricing(proposal, world):
    _submitted(proposal, world)
    for outsider in (world.other_manager, world.sales_rep, world.a_admin):
        with pytest.raises(PermissionDenied):
            services.proposal_decide(proposal=proposal, actor=outsider, approve=True)
    services.proposal_decide(proposal=proposal, actor=world.partner_manager, approve=True, note="Standard terms")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.approved_by == world.partner_manager and proposal.decided_at is not None
    assert proposal.decision_note == "Standard terms"
    event = AuditEvent.objects.filter(object_id=proposal.public_id, action="transition").first()
    assert event.actor == world.partner_manager and event.changes["status"] == ["Awaiting pricing approval", "Pricing approved"]
    told = Notification.objects.get(kind="joint.proposal_decided")
    assert told.recipient == world.a_rep and "approved" in told.title.lower()


def test_asking_for_changes_needs_a_reason_and_reopens_the_proposal(proposal, world):
    _submitted(proposal, world)
    with pytest.raises(ValidationError) as caught:
        services.proposal_decide(proposal=proposal, actor=world.vendor_admin, approve=False, note="  ")
    assert "note" in caught.value.message_dict
    services.proposal_decide(proposal=proposal, actor=world.vendor_admin, approve=False, note="Drop the third licence")
    assert proposal.status == ProposalStatus.CHANGES_REQUESTED
    _service(proposal, world.a_rep, quantity=1)  # editable again
    services.proposal_submit(proposal=proposal, actor=world.a_admin)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED and proposal.decided_by is None


def test_a_change_after_approval_voids_it_and_says_so(proposal, world):
    _submitted(proposal, world)
    services.proposal_decide(proposal=proposal, actor=world.partner_manager, approve=True)
    line = proposal.lines.get(kind=LineKind.VENDOR_PRODUCT)
    line.proposal = proposal
    services.proposal_line_update(line=line, actor=world.sales_rep, discount_percent="5")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT
    assert proposal.decided_by is None and proposal.decided_at is None and proposal.approved_by is None
    voided = AuditEvent.objects.filter(object_id=proposal.public_id, action="transition").first()
    assert voided.changes["status"] == ["Pricing approved", "Draft"]
    assert "voided" in voided.changes["approval"][1] and "Paul Manager" in voided.changes["approval"][0]


def test_an_unchanged_save_keeps_the_approval(proposal, world):
    _submitted(proposal, world)
    services.proposal_decide(proposal=proposal, actor=world.partner_manager, approve=True)
    assert services.proposal_update(proposal=proposal, actor=world.a_rep, title=proposal.title) == {}
    assert JointProposal.objects.get().status == ProposalStatus.APPROVED


def test_the_customer_steps_follow_the_approval(proposal, world):
    _submitted(proposal, world)
    with pytest.raises(ValidationError, match="cannot be marked sent"):
        services.proposal_mark(proposal=proposal, actor=world.a_rep, status="sent")
    services.proposal_decide(proposal=proposal, actor=world.vendor_admin, approve=True)
    with pytest.raises(ValidationError):
        services.proposal_mark(proposal=proposal, actor=world.a_rep, status="accepted")
    services.proposal_mark(proposal=proposal, actor=world.a_rep, status="sent")
    services.proposal_mark(proposal=proposal, actor=world.sales_rep, status="accepted")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED and not proposal.is_editable
    assert proposal.approved_by == world.vendor_admin  # the approval stays on record


# --- non-standard pricing --------------------------------------------------------------------


def _deep_discount(proposal, world, percent="25"):
    line = proposal.lines.get(kind=LineKind.VENDOR_PRODUCT)
    line.proposal = proposal
    services.proposal_line_update(line=line, actor=world.sales_rep, discount_percent=percent)


def test_non_standard_pricing_goes_to_the_deal_desk_on_submission(proposal, world):
    from covey.cosell.models import Escalation

    _deep_discount(proposal, world)
    assert not Escalation.objects.exists()  # editing is not asking
    _submitted(proposal, world)
    escalation = Escalation.objects.get()
    assert escalation.opportunity == world.opportunity_a and escalation.level == 4
    assert escalation.trigger == "non_standard_pricing" and escalation.partner == world.partner_a
    assert "25.00%" in escalation.reason and "threshold 20%" in escalation.reason
    event = AuditEvent.objects.filter(object_id=proposal.public_id, action="transition").first()
    assert event.changes["non_standard_pricing"][1] == "25.00% > 20%"


def test_standard_pricing_raises_nothing(proposal, world):
    from covey.cosell.models import Escalation

    _deep_discount(proposal, world, "20")
    _submitted(proposal, world)
    assert not Escalation.objects.exists()


def test_the_threshold_is_a_setting(proposal, world, settings):
    from covey.cosell.models import Escalation

    settings.COVEY_PROPOSAL_DISCOUNT_THRESHOLD = "30"
    _deep_discount(proposal, world, "25")
    _submitted(proposal, world)
    assert not Escalation.objects.exists()
    assert services.discount_threshold() == Decimal("30.00")


def test_an_unusable_threshold_setting_is_refused(settings):
    from covey.joint.rules import PricingError

    settings.COVEY_PROPOSAL_DISCOUNT_THRESHOLD = "twenty"
    with pytest.raises(PricingError):
        services.discount_threshold()


# --- visibility ------------------------------------------------------------------------------


def test_a_partner_sees_only_its_own_proposals_on_deals_it_is_still_on(proposal, world):
    visible = JointProposal.objects.visible_to
    assert list(visible(world.a_readonly)) == [proposal]
    assert not visible(world.b_rep).exists()
    assert visible(world.finance).count() == 1
    world.link_a.delete()  # A is taken off the deal
    assert not visible(world.a_rep).exists()


# --- pages -----------------------------------------------------------------------------------


def test_the_detail_page_shows_both_sides_and_the_totals(login, proposal, world):
    _service(proposal, world.a_rep)  # 4 × 1,500.00
    text = login(world.a_readonly).get(reverse("proposal_detail", kwargs={"public_id": proposal.public_id})).content.decode()
    assert "Covey Cloud Platform" in text and "Implementation days" in text
    assert "24,000.00 USD" in text and "6,000.00 USD" in text and "30,000.00 USD" in text
    assert "Submit for pricing approval" not in text and "Add a service" not in text  # read only


def test_adding_a_line_with_htmx_swaps_the_workspace(login, proposal, world):
    client = login(world.a_rep)
    url = reverse("proposal_line_add", kwargs={"public_id": proposal.public_id})
    response = client.post(
        url, {"kind": "partner_service", "service-description": "Training", "service-quantity": "2", "service-unit_price": "1,000.50"},
        headers={"HX-Request": "true", "HX-Target": "proposal-workspace"}, follow=True,
    )
    assert response.status_code == 200 and 'id="proposal-workspace"' in response.content.decode()
    line = proposal.lines.get(kind=LineKind.PARTNER_SERVICE)
    assert (line.description, line.quantity, line.unit_price_minor) == ("Training", 2, 100_050)


def test_a_bad_line_shows_its_error_next_to_the_field(login, proposal, world):
    response = login(world.sales_rep).post(
        reverse("proposal_line_add", kwargs={"public_id": proposal.public_id}),
        {"kind": "vendor_product", "vendor-product": world.product.public_id, "vendor-quantity": "1", "vendor-discount_percent": "12.345"},
    )
    assert response.status_code == 200 and "at most two decimals" in response.content.decode()
    assert proposal.lines.count() == 1


def test_the_whole_flow_in_the_browser(login, proposal, world, client):
    detail = reverse("proposal_detail", kwargs={"public_id": proposal.public_id})
    login(world.a_rep).post(reverse("proposal_submit", kwargs={"public_id": proposal.public_id}))
    assert JointProposal.objects.get().status == ProposalStatus.SUBMITTED
    client.force_login(world.partner_manager)
    page = client.get(detail).content.decode()
    assert "Record decision" in page
    client.post(reverse("proposal_decide", kwargs={"public_id": proposal.public_id}), {"decision": "changes"})
    assert JointProposal.objects.get().status == ProposalStatus.SUBMITTED  # no reason given: nothing happened
    client.post(reverse("proposal_decide", kwargs={"public_id": proposal.public_id}), {"decision": "approve", "note": "OK"})
    assert JointProposal.objects.get().status == ProposalStatus.APPROVED
    client.post(reverse("proposal_mark", kwargs={"public_id": proposal.public_id}), {"status": "sent"})
    assert JointProposal.objects.get().status == ProposalStatus.SENT
    assert "Customer accepted" in client.get(detail).content.decode()


def test_the_printable_version_is_plain_html_marked_draft_until_approved(login, proposal, world):
    text = login(world.a_rep).get(reverse("proposal_print", kwargs={"public_id": proposal.public_id})).content.decode()
    assert "@media print" in text and "not for the customer" in text and "24,000.00 USD" in text
    assert "<script" not in text


def test_the_list_filters_by_status(login, proposal, world):
    client = login(world.sales_rep)
    assert proposal.title in client.get(reverse("proposal_list") + "?status=draft").content.decode()
    assert proposal.title not in client.get(reverse("proposal_list") + "?status=submitted").content.decode()


def test_removing_a_line_the_other_side_owns_is_refused(login, proposal, world):
    line = ProposalLine.objects.get(proposal=proposal)
    response = login(world.a_admin).post(reverse("proposal_line_remove", kwargs={"public_id": proposal.public_id, "line_id": line.public_id}))
    assert response.status_code == 403 and ProposalLine.objects.filter(pk=line.pk).exists()


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_people_creating_the_deals_proposal_at_once_get_one(world):
    """Both see no proposal, both insert: the database lets one through and the other is told which."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs a database that runs the two transactions concurrently")
    barrier = threading.Barrier(2)
    outcomes: list = []

    def create(actor):
        try:
            barrier.wait(timeout=10)
            outcomes.append(services.proposal_create(opportunity=world.opportunity_a, partner=world.partner_a, actor=actor))
        except services.ProposalExists as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(who,)) for who in (world.a_rep, world.sales_rep)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    made = [o for o in outcomes if isinstance(o, JointProposal)]
    refused = [o for o in outcomes if isinstance(o, services.ProposalExists)]
    assert len(made) == 1 and len(refused) == 1
    assert refused[0].existing.pk == made[0].pk == JointProposal.objects.get().pk
    assert ProposalLine.objects.count() == 1  # the loser left no lines behind
