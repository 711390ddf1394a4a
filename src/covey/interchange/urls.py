from __future__ import annotations

from django.urls import path

from covey.interchange import views

urlpatterns = [
    path("interchange/", views.interchange_home, name="interchange_home"),
    path("interchange/invitations/<str:public_id>/decide/", views.invitation_decide, name="interchange_invitation_decide"),
    path("opportunities/<str:public_id>/export/ace.json", views.ace_export, name="opportunity_ace_export"),
    path("opportunities/<str:public_id>/export/referral.json", views.referral_export, name="opportunity_referral_export"),
]
