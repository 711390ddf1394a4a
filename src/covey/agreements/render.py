"""Agreement text to HTML (Markdown, raw HTML switched off) and the signed document to PDF.

WeasyPrint renders the PDF in-process with the system's fonts. Its URL fetcher is replaced by one
that refuses everything: an agreement's text is typed by people, and a link to an image on some
server must neither be fetched (Covey never calls out) nor leak that someone opened the document.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def body_html(text: str) -> SafeString:
    """Markdown to HTML; typed HTML is shown as text and images are not rendered."""
    return mark_safe(_markdown.render(text or ""))  # noqa: S308 (html is off: markdown-it escapes input)


def _refuse(url: str, *args, **kwargs):
    raise ValueError(f"external resources are not loaded in agreements: {url[:80]}")


def html_to_pdf(html: str) -> bytes:
    """Self-contained HTML to PDF, fetching nothing (also used for payout statements)."""
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_refuse).write_pdf()


def render_pdf(agreement) -> bytes:
    from covey.core.models import VendorSettings

    html = render_to_string("agreements/agreement_pdf.html", {
        "agreement": agreement, "body": body_html(agreement.body), "vendor": VendorSettings.current(),
    })
    return html_to_pdf(html)
