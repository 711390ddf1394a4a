from __future__ import annotations

from django.urls import path

from covey.joint import views

urlpatterns = [
    path("proposals/", views.proposal_list, name="proposal_list"),
    path("proposals/new/", views.proposal_create, name="proposal_create"),
    path("proposals/<str:public_id>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<str:public_id>/edit/", views.proposal_edit, name="proposal_edit"),
    path("proposals/<str:public_id>/print/", views.proposal_print, name="proposal_print"),
    path("proposals/<str:public_id>/lines/add/", views.proposal_line_add, name="proposal_line_add"),
    path("proposals/<str:public_id>/lines/<str:line_id>/edit/", views.proposal_line_edit, name="proposal_line_edit"),
    path("proposals/<str:public_id>/lines/<str:line_id>/remove/", views.proposal_line_remove, name="proposal_line_remove"),
    path("proposals/<str:public_id>/submit/", views.proposal_submit, name="proposal_submit"),
    path("proposals/<str:public_id>/decide/", views.proposal_decide, name="proposal_decide"),
    path("proposals/<str:public_id>/mark/", views.proposal_mark, name="proposal_mark"),
    path("account-plans/", views.plan_list, name="joint_plan_list"),
    path("account-plans/new/", views.plan_create, name="joint_plan_create"),
    path("account-plans/<str:public_id>/", views.plan_detail, name="joint_plan_detail"),
    path("account-plans/<str:public_id>/edit/", views.plan_edit, name="joint_plan_edit"),
    path("account-plans/<str:public_id>/steps/add/", views.plan_step_add, name="joint_plan_step_add"),
    path("account-plans/<str:public_id>/steps/<str:step_id>/toggle/", views.plan_step_toggle, name="joint_plan_step_toggle"),
    path("account-plans/<str:public_id>/opportunities/link/", views.plan_link, name="joint_plan_link"),
    path(
        "account-plans/<str:public_id>/opportunities/<str:opportunity_id>/unlink/",
        views.plan_unlink, name="joint_plan_unlink",
    ),
]
