"""Reads of joint proposals and account plans, always through the caller's ``visible_to`` scope."""

from __future__ import annotations

from django.db.models import QuerySet

from covey.crm.models import Opportunity
from covey.joint.models import JointAccountPlan, JointProposal, ProposalLine


def proposal_list(*, user) -> QuerySet[JointProposal]:
    return JointProposal.objects.visible_to(user).select_related("opportunity__account", "partner", "created_by")


def proposal_lines(proposal: JointProposal) -> list[ProposalLine]:
    lines = list(proposal.lines.select_related("product"))
    for line in lines:
        line.proposal = proposal  # labels and totals without a query per line
    return lines


def proposals_of_opportunity(*, opportunity: Opportunity, user) -> QuerySet[JointProposal]:
    return JointProposal.objects.visible_to(user).filter(opportunity=opportunity).select_related("partner")


def plan_list(*, user) -> QuerySet[JointAccountPlan]:
    return JointAccountPlan.objects.visible_to(user).select_related("account", "partner", "vendor_owner", "partner_owner")


def plan_opportunities(*, plan: JointAccountPlan, user) -> QuerySet[Opportunity]:
    """The plan's linked deals the caller may see (a vendor may link a deal the partner is not on)."""
    return Opportunity.objects.visible_to(user).filter(pk__in=plan.opportunities.values("pk")).select_related("account")


def partner_sees_account(plan: JointAccountPlan) -> bool:
    """Whether the plan's partner can see its account (and so the plan): it is on a deal there."""
    return Opportunity.objects.filter(account_id=plan.account_id, partner_links__partner_id=plan.partner_id).exists()
