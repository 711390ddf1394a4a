from __future__ import annotations

from django.urls import path

from covey.registrations import views

urlpatterns = [
    path("", views.registration_list, name="registration_list"),
    path("new/", views.registration_create, name="registration_create"),
    path("conflicts/", views.conflict_queue, name="registration_conflicts"),
    path("conflicts/resolve/", views.conflict_resolve, name="registration_conflict_resolve"),
    path("settings/", views.program_settings, name="registration_settings"),
    path("<str:public_id>/", views.registration_detail, name="registration_detail"),
    path("<str:public_id>/submitted/", views.registration_submitted, name="registration_submitted"),
    path("<str:public_id>/review/", views.registration_start_review, name="registration_start_review"),
    path("<str:public_id>/approve/", views.registration_approve, name="registration_approve"),
    path("<str:public_id>/reject/", views.registration_reject, name="registration_reject"),
    path("<str:public_id>/convert/", views.registration_convert, name="registration_convert"),
    path("<str:public_id>/extension/", views.registration_extension_request, name="registration_extension_request"),
    path("<str:public_id>/extension/decide/", views.registration_extension_decide, name="registration_extension_decide"),
]
