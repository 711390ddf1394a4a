from django.urls import path

from covey.surveys import views

urlpatterns = [
    path("", views.campaign_list, name="survey_campaign_list"),
    path("mine/", views.my_surveys, name="survey_mine"),
    path("answers/", views.answer_list, name="survey_answers"),
    path("answer/<str:token>/", views.answer_link, name="survey_answer_link"),
    path("<str:public_id>/", views.campaign_detail, name="survey_campaign"),
    path("<str:public_id>/send/", views.campaign_send, name="survey_campaign_send"),
    path("<str:public_id>/close/", views.campaign_close, name="survey_campaign_close"),
    path("<str:public_id>/answer/", views.answer_signed_in, name="survey_answer"),
]
