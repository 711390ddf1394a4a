"""``{% partner_programs partner as enrolments %}``: the partner page's programs, through the selectors."""

from __future__ import annotations

from django import template

from covey.programs import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def partner_programs(context, partner):
    return list(selectors.partner_enrolments(context["request"].user, partner)[:50])
