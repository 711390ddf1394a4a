"""The QBR pack as a PDF: WeasyPrint with the agreements' refuse-everything URL fetcher (charts are
inline SVG, so nothing needs fetching)."""

from __future__ import annotations

from django.template.loader import render_to_string


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    from covey.agreements.render import _refuse
    from covey.core.models import VendorSettings

    html = render_to_string(template, {**context, "vendor": VendorSettings.current()})
    return HTML(string=html, url_fetcher=_refuse).write_pdf()
