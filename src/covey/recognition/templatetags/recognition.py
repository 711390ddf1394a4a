"""``{% awards_card %}`` on the program dashboard (the latest quarter's awards) and
``{% awards_card partner %}`` on a partner's own dashboard (its awards, as badges)."""

from __future__ import annotations

from django import template

from covey.recognition.models import Award

register = template.Library()


@register.inclusion_tag("recognition/_card.html")
def awards_card(partner=None):
    awards = Award.objects.select_related("partner").order_by("-period_key", "kind")
    if partner is not None:
        return {"awards": list(awards.filter(partner=partner)[:8]), "own": True}
    latest = awards.values_list("period_key", flat=True).first()
    return {"awards": list(awards.filter(period_key=latest)) if latest else [], "own": False}
