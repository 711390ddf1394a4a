"""Badge colours for registration states."""

from __future__ import annotations

from django import template

register = template.Library()

_TONE = {
    "submitted": "badge-info", "under_review": "badge-brand", "approved": "badge-ok", "converted": "badge-ok",
    "won": "badge-ok", "rejected": "badge-danger", "lost": "badge-danger", "expired": "badge-warn",
    "conflict": "badge-warn",
}


@register.filter
def reg_tone(status) -> str:
    """``<span class="badge {{ reg.status|reg_tone }}">``."""
    return _TONE.get(str(status), "")
