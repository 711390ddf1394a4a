"""Upload pages for CRM imports; included at the site root (``accounts/import/``, ``opportunities/import/``, ``opportunities/partners/import/``)."""

from __future__ import annotations

from django.urls import path

from covey.crm import import_views

urlpatterns = [
    path("accounts/import/", import_views.account_import, name="account_import"),
    path("opportunities/import/", import_views.opportunity_import, name="opportunity_import"),
    path("opportunities/partners/import/", import_views.opportunity_partner_import, name="opportunity_partner_import"),
]
