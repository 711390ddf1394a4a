from __future__ import annotations

from django.urls import path

from covey.lifecycle import views

urlpatterns = [
    path("partner-with-us/", views.apply, name="apply"),
    path("partner-with-us/thanks/", views.apply_thanks, name="apply_thanks"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("partners/<str:public_id>/journey/", views.partner_journey, name="partner_journey"),
    path("partners/<str:public_id>/journey/lifecycle/", views.partner_lifecycle_change, name="partner_lifecycle_change"),
    path("partners/<str:public_id>/journey/approve/", views.application_approve, name="application_approve"),
    path("partners/<str:public_id>/journey/decline/", views.application_decline, name="application_decline"),
    path("partners/<str:public_id>/journey/launch-plan/", views.launch_plan_start, name="launch_plan_start"),
    path("evaluation/", views.evaluation_ranking, name="evaluation_ranking"),
    path("evaluation/compare/", views.evaluation_compare, name="evaluation_compare"),
    path("evaluation/criteria/", views.criteria_list, name="evaluation_criteria"),
    path("evaluation/criteria/new/", views.criterion_create, name="evaluation_criterion_create"),
    path("evaluation/criteria/<str:public_id>/", views.criterion_edit, name="evaluation_criterion_edit"),
    path("evaluation/profile/", views.ideal_profile, name="evaluation_profile"),
    path("evaluation/candidates/<str:public_id>/", views.evaluation_candidate, name="evaluation_candidate"),
    path("evaluation/candidates/<str:public_id>/rounds/", views.evaluation_round_open, name="evaluation_round_open"),
    path("evaluation/rounds/<str:public_id>/score/", views.evaluation_score, name="evaluation_score"),
    path("evaluation/rounds/<str:public_id>/close/", views.evaluation_round_close, name="evaluation_round_close"),
    path("business-plans/", views.business_plan_list, name="business_plan_list"),
    path("business-plans/new/", views.business_plan_create, name="business_plan_create"),
    path("business-plans/<str:public_id>/", views.business_plan_detail, name="business_plan_detail"),
    path("business-plans/<str:public_id>/edit/", views.business_plan_edit, name="business_plan_edit"),
    path("business-plans/<str:public_id>/goals/", views.business_goal_add, name="business_goal_add"),
    path("business-plans/<str:public_id>/goals/<str:goal_id>/remove/", views.business_goal_remove, name="business_goal_remove"),
]
