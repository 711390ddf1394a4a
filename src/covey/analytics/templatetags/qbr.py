"""``{% qbr_extras %}``: the joint-business-plan goals and open issues of the scorecard's partner
and quarter, on the scorecard page and in the QBR PDF (``{% qbr_extras pdf=True %}``)."""

from __future__ import annotations

from django import template

from covey.analytics import qbr

register = template.Library()


@register.inclusion_tag("analytics/_qbr_extras.html", takes_context=True)
def qbr_extras(context, pdf: bool = False):
    partner, period = context["partner"], context["period"]
    return {"plans": qbr.goals(partner, period), "escalations": qbr.open_escalations(partner),
            "disputes": qbr.open_disputes(partner), "pdf": pdf}
