from __future__ import annotations

from django.urls import include, path

from covey.api import api
from covey.payouts import views as payout_views

urlpatterns = [
    path("api/", api.urls),  # first: API clients are the busiest callers, and the resolver tries in order
    path("", include("covey.core.urls")),
    path("partners/", include("covey.partners.urls")),
    path("", include("covey.crm.import_urls")),
    path("", include("covey.interchange.urls")),  # before crm.urls, like the imports  # before crm.urls: "accounts/import/" is not an account id
    path("", include("covey.crm.urls")),
    path("registrations/", include("covey.registrations.urls")),
    path("plans/", include("covey.plans.urls")),
    path("", include("covey.cosell.urls")),
    path("", include("covey.joint.urls")),
    path("", include("covey.lifecycle.urls")),
    path("agreements/", include("covey.agreements.urls")),
    path("programs/", include("covey.programs.urls")),
    path("", include("covey.enablement.urls")),
    path("", include("covey.tierreviews.urls")),
    path("settings/webhooks/", include("covey.webhooks.urls")),
    path("payouts/", include("covey.payouts.urls")),
    path("opportunities/<str:public_id>/events/add/", payout_views.deal_event_add, name="deal_event_add"),
    path("", include("covey.accountmaps.urls")),
    path("", include("covey.mdf.urls")),
    path("analytics/ecosystem/", include("covey.ecosystem.urls")),  # before analytics/
    path("analytics/", include("covey.analytics.urls")),
    path("surveys/", include("covey.surveys.urls")),
    path("recognition/", include("covey.recognition.urls")),
]

handler400 = "covey.core.views.bad_request"
handler403 = "covey.core.views.permission_denied"
handler404 = "covey.core.views.page_not_found"
handler500 = "covey.core.views.server_error"
