from __future__ import annotations

from django.urls import path

from covey.programs import views

urlpatterns = [
    path("", views.program_list, name="program_list"),
    path("new/", views.program_create, name="program_create"),
    path("versions/<str:public_id>/edit/", views.version_edit, name="version_edit"),
    path("versions/<str:public_id>/publish/", views.version_publish, name="version_publish"),
    path("versions/<str:public_id>/pilot/", views.version_pilot, name="version_pilot"),
    path("versions/<str:public_id>/roll-out/", views.version_roll_out, name="version_roll_out"),
    path("versions/<str:public_id>/tiers/new/", views.tier_create, name="tier_create"),
    path("versions/<str:public_id>/rules/new/", views.rule_create, name="rule_create"),
    path("tiers/<str:public_id>/edit/", views.tier_edit, name="tier_edit"),
    path("tiers/<str:public_id>/delete/", views.tier_delete, name="tier_delete"),
    path("rules/<str:public_id>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<str:public_id>/delete/", views.rule_delete, name="rule_delete"),
    path("<str:public_id>/", views.program_detail, name="program_detail"),
    path("<str:public_id>/edit/", views.program_edit, name="program_edit"),
    path("<str:public_id>/versions/", views.version_create, name="version_create"),
    path("<str:public_id>/enrol/", views.enrolment_create, name="enrolment_create"),
    path("<str:public_id>/guide/", views.program_guide, name="program_guide"),
    path("<str:public_id>/guide.pdf", views.program_guide_pdf, name="program_guide_pdf"),
]
