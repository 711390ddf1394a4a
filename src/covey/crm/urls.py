from __future__ import annotations

from django.urls import path

from covey.crm import views

urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/export.csv", views.account_export, name="account_export"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<str:public_id>/", views.account_detail, name="account_detail"),
    path("accounts/<str:public_id>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<str:public_id>/delete/", views.account_delete, name="account_delete"),
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/export.csv", views.opportunity_export, name="opportunity_export"),
    path("opportunities/partners/export.csv", views.opportunity_partner_export, name="opportunity_partner_export"),
    path("opportunities/new/", views.opportunity_create, name="opportunity_create"),
    path("opportunities/<str:public_id>/", views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<str:public_id>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<str:public_id>/delete/", views.opportunity_delete, name="opportunity_delete"),
    path("opportunities/<str:public_id>/lines/add/", views.opportunity_line_add, name="opportunity_line_add"),
    path("opportunities/<str:public_id>/lines/<str:line_id>/remove/", views.opportunity_line_remove, name="opportunity_line_remove"),
    path("opportunities/<str:public_id>/partners/add/", views.opportunity_partner_add, name="opportunity_partner_add"),
    path(
        "opportunities/<str:public_id>/partners/<str:link_id>/remove/",
        views.opportunity_partner_remove, name="opportunity_partner_remove",
    ),
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/<str:public_id>/", views.activity_detail, name="activity_detail"),
    path("activities/<str:public_id>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<str:public_id>/delete/", views.activity_delete, name="activity_delete"),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<str:public_id>/edit/", views.product_edit, name="product_edit"),
]
