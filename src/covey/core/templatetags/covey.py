"""Template helpers shared by every page: money display and sortable column headers."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from covey.core.money import Money, MoneyError

register = template.Library()


@register.filter
def money(value, currency: str | None = None) -> str:
    """``{{ opp.amount|money }}`` or ``{{ row.total|money:row.currency }}`` → ``48,000.00 USD``.

    Minor units must be an int (never a float); anything unusable shows a dash rather than a
    made-up number.
    """
    if isinstance(value, Money):
        return str(value)
    if value is None or value == "" or currency is None:
        return "—"
    try:
        return str(Money(value, str(currency)))
    except MoneyError:
        return "—"


@register.simple_tag
def sort_th(listing, key: str, label: str, css: str = "") -> str:
    """A column header that sorts the list by ``key`` (and says so to screen readers)."""
    state = listing.sort_state(key)
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(state or "", "")
    aria = format_html(' aria-sort="{}"', state) if state else ""
    url = listing.sort_url(key)
    return format_html(
        '<th scope="col"{}{}><a href="{}" hx-get="{}" hx-target="#list-results" hx-push-url="true">{}{}</a></th>',
        format_html(' class="{}"', css) if css else "", aria, url, url, label, arrow,
    )


@register.filter
def get_item(mapping, key):
    """``{{ counts|get_item:code }}``: dictionary lookup with a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


_TONE = {
    # partner lifecycle
    "active": "badge-ok", "onboarding": "badge-brand", "evaluating": "badge-brand", "applied": "badge-brand",
    "inactive": "badge-warn", "terminated": "badge-danger",
    # account status
    "customer": "badge-ok", "former": "badge-warn",
    # opportunity stages
    "Closed Won": "badge-ok", "Closed Lost": "badge-danger",
    "Negotiation/Review": "badge-brand", "Proposal/Price Quote": "badge-brand",
}


@register.filter
def tone(value) -> str:
    """The badge colour for a status value: ``<span class="badge {{ p.lifecycle|tone }}">``."""
    return _TONE.get(str(value), "")


@register.filter
def seen_by(opportunity, user):
    """``{% with opp=a.opportunity|seen_by:user %}``: the opportunity, or None if ``user`` may not see it.

    For lists the views annotate in bulk (``crm.views.with_visible_opportunities``); this is for the
    few rows of a dashboard.
    """
    if opportunity is None or getattr(user, "is_vendor", False):
        return opportunity
    from covey.crm.models import Opportunity

    return opportunity if Opportunity.objects.visible_to(user).filter(pk=opportunity.pk).exists() else None
