"""Upload a CRM file and see what importing it did (or why nothing was imported).

Only vendor staff who may edit the CRM (``access.can_edit_crm``) reach these pages; everyone else,
partner users included, gets 403. The work is ``covey.crm.imports.import_records``; this page only
checks the upload and shows the report.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

from covey.core.access import can_edit_crm, require
from covey.crm.formats import FORMAT_LABELS, LAYOUTS
from covey.crm.imports import import_records
from covey.crm.partner_links import HEADERS as PARTNER_LINK_HEADERS
from covey.crm.partner_links import import_partner_links

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ERRORS_SHOWN = 200
KIND_LABELS = {"accounts": ("Import accounts", "companies"), "opportunities": ("Import opportunities", "deals"),
               "opportunity-partners": ("Import opportunity partners", "deal partners")}
LIST_URLS = {"accounts": "account_list", "opportunities": "opportunity_list", "opportunity-partners": "opportunity_list"}
TREE_NOTES = {
    "accounts": "",
    "opportunities": 'opportunities link to accounts with <code>"AccountId": "@AccountRef1"</code>.',
    "opportunity-partners": 'records of type <code>Partner</code> name the deal with <code>"OpportunityId": "@OPP-1"</code> '
                            'and the partner by its Covey id in <code>AccountToId</code>.',
}
ENCODINGS = [
    ("", "UTF-8 (recommended)"),
    ("cp1252", "Windows-1252 (Excel “CSV” on Windows)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
    ("utf-16", "UTF-16 (Excel “Unicode Text”)"),
    ("mac_roman", "Mac Roman"),
]


def max_upload_bytes() -> int:
    """Uploads above this are refused; bigger files go through ``covey import`` on the server."""
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, or Salesforce data tree JSON.")
    format = forms.ChoiceField(
        choices=[("auto", "Automatic")] + list(FORMAT_LABELS.items()), initial="auto",
    )
    encoding = forms.ChoiceField(choices=ENCODINGS, required=False, help_text="Only needed for files not saved as UTF-8.")
    skip_invalid = forms.BooleanField(
        required=False, label="Import valid rows only",
        help_text="Without this, nothing is imported when any row has a problem.",
    )

    def __init__(self, *args, partial_allowed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not partial_allowed:  # opportunity partners are checked as a whole: all or nothing
            del self.fields["skip_invalid"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                f"“{upload.name}” is {filesizeformat(upload.size)}; uploads are limited to {filesizeformat(limit)}. "
                f"Split the file, or import it on the server with “covey import”."
            )
        return upload


def _import_page(request: HttpRequest, kind: str) -> HttpResponse:
    require(can_edit_crm(request.user), "Only admins, partner managers and sales reps can import CRM data.")
    links = kind == "opportunity-partners"
    form = ImportForm(request.POST or None, request.FILES or None, partial_allowed=not links)
    report = None
    if request.method == "POST" and form.is_valid():
        upload, fmt, encoding = form.cleaned_data["file"], form.cleaned_data["format"], form.cleaned_data["encoding"] or None
        if links:
            report = import_partner_links(upload, fmt=fmt, actor=request.user, encoding=encoding)
        else:
            report = import_records(kind, upload, fmt=fmt, actor=request.user,
                                    partial=form.cleaned_data["skip_invalid"], encoding=encoding)
    title, noun = KIND_LABELS[kind]
    context = {
        "form": form, "report": report, "kind": kind, "title": title, "noun": noun,
        "errors": report.errors[:MAX_ERRORS_SHOWN] if report else [],
        "count_rows": [(name.replace("_", " "), c) for name, c in report.counts.items()] if report else [],
        "more_errors": max(0, len(report.errors) - MAX_ERRORS_SHOWN) if report else 0,
        "limit": max_upload_bytes(),
        "fmt_label": FORMAT_LABELS.get(report.fmt, report.fmt) if report else "",
        "list_url": LIST_URLS[kind], "tree_note": TREE_NOTES[kind],
        "layouts": [
            (FORMAT_LABELS[fmt], PARTNER_LINK_HEADERS[fmt] if links else [c.header for c in LAYOUTS[(fmt, kind)].columns])
            for fmt in ("generic", "salesforce", "hubspot")
        ],
    }
    return render(request, "crm/import_form.html", context)


@login_required
def account_import(request: HttpRequest) -> HttpResponse:
    return _import_page(request, "accounts")


@login_required
def opportunity_import(request: HttpRequest) -> HttpResponse:
    return _import_page(request, "opportunities")


@login_required
def opportunity_partner_import(request: HttpRequest) -> HttpResponse:
    return _import_page(request, "opportunity-partners")
