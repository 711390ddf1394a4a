"""Badge colours of joint proposal and account plan states."""

from __future__ import annotations

from django import template

register = template.Library()

_TONE = {
    "draft": "", "submitted": "badge-info", "approved": "badge-ok", "changes_requested": "badge-warn",
    "sent": "badge-brand", "accepted": "badge-ok", "declined": "badge-danger",
    "active": "badge-ok", "archived": "badge-warn",
}


@register.filter
def joint_tone(status) -> str:
    return _TONE.get(str(status), "")
