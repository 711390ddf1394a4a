from __future__ import annotations

from django.urls import path

from covey.partners import views

urlpatterns = [
    path("", views.partner_list, name="partner_list"),
    path("new/", views.partner_create, name="partner_create"),
    path("<str:public_id>/", views.partner_detail, name="partner_detail"),
    path("<str:public_id>/edit/", views.partner_edit, name="partner_edit"),
    path("<str:public_id>/members/add/", views.partner_member_add, name="partner_member_add"),
    path("<str:public_id>/members/<str:user_id>/role/", views.partner_member_role, name="partner_member_role"),
    path("<str:public_id>/members/<str:user_id>/remove/", views.partner_member_remove, name="partner_member_remove"),
]
