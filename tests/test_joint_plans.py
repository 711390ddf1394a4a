"""Joint account plans: goals, owners, next steps, linked deals, and who sees them."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from covey.core.models import AuditEvent, Notification
from covey.crm.models import Account, Opportunity
from covey.joint import services
from covey.joint.models import AccountPlanStep, JointAccountPlan


@pytest.fixture
def plan(world):
    return services.plan_create(account=world.account_a, partner=world.partner_a, actor=world.partner_manager, title="Customer A 2027")


def test_a_partner_rep_plans_an_account_it_works_on(login, world):
    response = login(world.a_rep).post(reverse("joint_plan_create"), {
        "title": "Win Customer A's EMEA rollout", "account": world.account_a.public_id, "status": "active",
        "partner_goals": "Deliver the rollout", "target_products": [world.product.public_id],
        "partner_owner": world.a_admin.public_id, "vendor_owner": world.partner_manager.public_id,
        "period_start": "2026-01-01", "period_end": "2026-12-31",
    })
    plan = JointAccountPlan.objects.get()
    assert response.status_code == 302
    assert plan.partner == world.partner_a and plan.created_by == world.a_rep
    assert list(plan.target_products.all()) == [world.product]
    assert (plan.vendor_owner, plan.partner_owner) == (world.partner_manager, world.a_admin)
    # Both new owners hear about it; the creator does not notify itself.
    assert set(Notification.objects.filter(kind="joint.plan_owner").values_list("recipient__email", flat=True)) == {
        world.partner_manager.email, world.a_admin.email}


def test_a_partner_cannot_plan_an_account_it_cannot_see(login, world):
    response = login(world.b_rep).post(reverse("joint_plan_create"), {"title": "Poach", "account": world.account_a.public_id, "status": "draft"})
    assert response.status_code == 200 and "Customer A" not in response.content.decode()
    assert not JointAccountPlan.objects.exists()


def test_owners_belong_to_their_side(world):
    with pytest.raises(ValidationError) as caught:
        services.plan_create(account=world.account_a, partner=world.partner_a, actor=world.sales_rep, title="X",
                             vendor_owner=world.a_rep, partner_owner=world.b_rep)
    assert set(caught.value.message_dict) == {"vendor_owner", "partner_owner"}
    with pytest.raises(ValidationError) as caught:
        services.plan_create(account=world.account_a, partner=world.partner_a, actor=world.sales_rep, title="X",
                             period_start=date(2026, 6, 1), period_end=date(2026, 1, 1))
    assert "period_end" in caught.value.message_dict
    assert not JointAccountPlan.objects.exists()


def test_assigning_a_step_tells_its_owner_and_ticking_it_records_who(plan, world):
    step = services.plan_step_add(plan=plan, actor=world.partner_manager, text="Map the buying committee", owner_side="partner",
                                  owner=world.a_rep, due_date=date(2020, 1, 1))
    told = Notification.objects.get(kind="joint.plan_step_assigned")
    assert told.recipient == world.a_rep and "Map the buying committee" in told.title
    assert step.is_overdue()
    services.plan_step_update(step=step, actor=world.a_rep, done=True)
    step.refresh_from_db()
    assert step.done and step.done_by == world.a_rep and step.done_at is not None and not step.is_overdue()
    services.plan_step_update(step=step, actor=world.a_rep, done=False)
    step.refresh_from_db()
    assert not step.done and step.done_by is None


def test_a_step_owner_comes_from_the_steps_side(plan, world):
    for side, owner in (("vendor", world.a_rep), ("partner", world.sales_rep), ("partner", world.b_rep)):
        with pytest.raises(ValidationError) as caught:
            services.plan_step_add(plan=plan, actor=world.sales_rep, text="Call", owner_side=side, owner=owner)
        assert "owner" in caught.value.message_dict
    assert not AccountPlanStep.objects.exists()


def test_reassigning_a_step_tells_the_new_owner(plan, world):
    step = services.plan_step_add(plan=plan, actor=world.sales_rep, text="Exec sponsor call", owner_side="vendor")
    assert not Notification.objects.exists()
    services.plan_step_update(step=step, actor=world.sales_rep, owner=world.partner_manager)
    assert Notification.objects.get().recipient == world.partner_manager


def test_only_deals_of_the_plans_account_can_be_linked(plan, world):
    with pytest.raises(ValidationError, match="another account"):
        services.plan_link_opportunity(plan=plan, opportunity=world.opportunity_b, actor=world.sales_rep)
    services.plan_link_opportunity(plan=plan, opportunity=world.opportunity_a, actor=world.sales_rep)
    with pytest.raises(ValidationError, match="already linked"):
        services.plan_link_opportunity(plan=plan, opportunity=world.opportunity_a, actor=world.sales_rep)
    services.plan_unlink_opportunity(plan=plan, opportunity=world.opportunity_a, actor=world.sales_rep)
    assert not plan.opportunities.exists()
    assert AuditEvent.objects.filter(object_id=plan.public_id, changes__has_key="opportunities").count() == 2


def test_a_partner_sees_only_the_linked_deals_it_is_on(login, plan, world):
    direct = Opportunity.objects.create(name="Direct upsell at A", account=world.account_a, close_date=date(2026, 9, 1))
    plan.opportunities.add(world.opportunity_a, direct)
    partner_page = login(world.a_rep).get(reverse("joint_plan_detail", kwargs={"public_id": plan.public_id})).content.decode()
    assert "Deal A" in partner_page and "Direct upsell at A" not in partner_page
    vendor_page = login(world.sales_rep).get(reverse("joint_plan_detail", kwargs={"public_id": plan.public_id})).content.decode()
    assert "Direct upsell at A" in vendor_page


def test_plans_follow_the_partners_view_of_the_account(plan, world):
    visible = JointAccountPlan.objects.visible_to
    assert list(visible(world.a_readonly)) == [plan]
    assert not visible(world.b_admin).exists()
    world.link_a.delete()  # A no longer works any deal at Customer A
    assert not visible(world.a_rep).exists()
    assert visible(world.executive).count() == 1


def test_the_vendor_is_told_when_the_partner_cannot_see_a_plan_yet(login, world):
    target = Account.objects.create(name="Target Co")
    plan = services.plan_create(account=target, partner=world.partner_a, actor=world.sales_rep, title="Target Co joint plan")
    text = login(world.sales_rep).get(reverse("joint_plan_detail", kwargs={"public_id": plan.public_id})).content.decode()
    assert "cannot see this plan yet" in text


def test_steps_and_links_in_the_browser(login, plan, world):
    client = login(world.a_admin)
    client.post(reverse("joint_plan_step_add", kwargs={"public_id": plan.public_id}),
                {"step-text": "Joint QBR", "step-owner_side": "vendor", "step-owner": world.partner_manager.public_id, "step-due_date": "2026-03-01"})
    step = AccountPlanStep.objects.get()
    assert step.owner == world.partner_manager
    client.post(reverse("joint_plan_step_toggle", kwargs={"public_id": plan.public_id, "step_id": step.public_id}))
    assert AccountPlanStep.objects.get().done
    client.post(reverse("joint_plan_link", kwargs={"public_id": plan.public_id}), {"link-opportunity": world.opportunity_a.public_id})
    assert list(plan.opportunities.all()) == [world.opportunity_a]
    response = client.post(reverse("joint_plan_link", kwargs={"public_id": plan.public_id}), {"link-opportunity": world.opportunity_b.public_id})
    assert response.status_code == 200 and "Deal B" not in response.content.decode()
    assert plan.opportunities.count() == 1


def test_editing_a_plan_replaces_its_target_products(login, plan, world):
    from covey.crm.models import Product

    extra = Product.objects.create(name="Analytics add-on", code="ANA", unit_price_minor=100_000)
    plan.target_products.add(world.product)
    response = login(world.sales_rep).post(reverse("joint_plan_edit", kwargs={"public_id": plan.public_id}), {
        "title": "Customer A 2027", "status": "active", "target_products": [extra.public_id],
    })
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "active" and list(plan.target_products.all()) == [extra]
    assert AuditEvent.objects.filter(object_id=plan.public_id, changes__has_key="target_products").exists()


def test_the_list_filters_by_owner(login, plan, world):
    services.plan_update(plan=plan, actor=world.sales_rep, partner_owner=world.a_admin)
    other = services.plan_create(account=world.account_b, partner=world.partner_b, actor=world.sales_rep, title="Customer B 2027",
                                 vendor_owner=world.sales_rep)
    client = login(world.executive)
    by_a_admin = client.get(reverse("joint_plan_list") + f"?owner={world.a_admin.public_id}").content.decode()
    assert plan.title in by_a_admin and other.title not in by_a_admin
    by_rep = client.get(reverse("joint_plan_list") + f"?owner={world.sales_rep.public_id}").content.decode()
    assert plan.title not in by_rep and other.title in by_rep
