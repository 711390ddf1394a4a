from __future__ import annotations

from django.urls import include, path

from covey.api import api

urlpatterns = [
    path("api/", api.urls),  # first: API clients are the busiest callers, and the resolver tries in order
    path("", include("covey.core.urls")),
    path("partners/", include("covey.partners.urls")),
    path("", include("covey.crm.import_urls")),  # before crm.urls: "accounts/import/" is not an account id
    path("", include("covey.crm.urls")),
    path("registrations/", include("covey.registrations.urls")),
    path("plans/", include("covey.plans.urls")),
    path("", include("covey.cosell.urls")),
    path("", include("covey.joint.urls")),
    path("", include("covey.lifecycle.urls")),
    path("agreements/", include("covey.agreements.urls")),
    path("", include("covey.enablement.urls")),
    path("", include("covey.tierreviews.urls")),
    path("analytics/", include("covey.analytics.urls")),
]

handler400 = "covey.core.views.bad_request"
handler403 = "covey.core.views.permission_denied"
handler404 = "covey.core.views.page_not_found"
handler500 = "covey.core.views.server_error"
