"""The QBR pack's extras: the goals of the partner's joint business plans that overlap the quarter
(with the actuals the plans page shows), and its open issues — live escalations on its deals (those
naming it, or naming no partner) and open disputes on its statements. Everything is the partner's
own (the scorecard page already checked that the viewer may see the partner)."""

from __future__ import annotations

from covey.core.periods import Period


def goals(partner, period: Period) -> list[tuple[object, list]]:
    from covey.lifecycle.models import BusinessPlan
    from covey.lifecycle.selectors import goal_actuals

    plans = (BusinessPlan.objects.filter(partner=partner, starts_on__lte=period.end, ends_on__gte=period.start)
             .prefetch_related("goals").order_by("starts_on", "id"))
    return [(plan, goal_actuals(plan)) for plan in plans]


def open_escalations(partner) -> list:
    from django.db.models import Q

    from covey.cosell.models import Escalation
    from covey.crm.models import OpportunityPartner

    on_deals = OpportunityPartner.objects.filter(partner=partner).values("opportunity_id")
    return list(Escalation.objects.live().filter(Q(partner__isnull=True) | Q(partner=partner), opportunity_id__in=on_deals)
                .select_related("opportunity").order_by("-level", "created_at")[:20])


def open_disputes(partner) -> list:
    from covey.payouts.models import Dispute, DisputeStatus

    return list(Dispute.objects.filter(statement__partner=partner, status=DisputeStatus.OPEN)
                .select_related("statement", "entry").order_by("created_at")[:20])
