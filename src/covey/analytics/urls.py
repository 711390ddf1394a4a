from django.urls import path

from covey.analytics import views

urlpatterns = [
    path("", views.program_dashboard, name="analytics_dashboard"),
    path("ours/", views.partner_dashboard, name="analytics_partner_dashboard"),
    path("definitions/", views.definitions, name="analytics_definitions"),
    path("metrics/<str:key>/", views.metric_records, name="analytics_records"),
    path("scorecards/ours/", views.my_scorecard, name="analytics_my_scorecard"),
    path("scorecards/<str:public_id>/<str:quarter>/", views.scorecard_page, name="analytics_scorecard"),
    path("scorecards/<str:public_id>/<str:quarter>/qbr.pdf", views.scorecard_pdf, name="analytics_qbr_pdf"),
    path("scorecards/<str:public_id>/<str:quarter>/notes/", views.scorecard_note, name="analytics_scorecard_note"),
    path("targets/", views.target_list, name="analytics_targets"),
    path("targets/<str:public_id>/edit/", views.target_edit, name="analytics_target_edit"),
    path("targets/<str:public_id>/delete/", views.target_delete, name="analytics_target_delete"),
    path("settings/", views.settings_page, name="analytics_settings"),
]
