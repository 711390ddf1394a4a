from __future__ import annotations

from django.urls import path

from covey.cosell import views

urlpatterns = [
    path("opportunities/<str:public_id>/room/", views.deal_room, name="deal_room"),
    path("opportunities/<str:public_id>/room/start/", views.engagement_start, name="engagement_start"),
    path("engagements/<str:public_id>/model/", views.engagement_change_model, name="engagement_change_model"),
    path("engagements/<str:public_id>/team/add/", views.deal_team_add, name="deal_team_add"),
    path("engagements/<str:public_id>/team/<str:member_id>/remove/", views.deal_team_remove, name="deal_team_remove"),
    path("engagements/<str:public_id>/notes/add/", views.deal_note_add, name="deal_note_add"),
    path("engagements/<str:public_id>/meetings/new/", views.meeting_record_create, name="meeting_record_create"),
    path("engagements/<str:public_id>/questions/ask/", views.question_ask, name="question_ask"),
    path("engagements/<str:public_id>/escalate/", views.escalation_raise, name="escalation_raise"),
    path("questions/<str:public_id>/answer/", views.question_answer, name="question_answer"),
    path("escalations/", views.escalation_list, name="escalation_list"),
    path("escalations/<str:public_id>/", views.escalation_detail, name="escalation_detail"),
    path("escalations/<str:public_id>/take/", views.escalation_take, name="escalation_take"),
    path("escalations/<str:public_id>/status/", views.escalation_status, name="escalation_status"),
    path("escalations/<str:public_id>/resolve/", views.escalation_resolve, name="escalation_resolve"),
    path("cosell/settings/", views.cosell_settings, name="cosell_settings"),
]
