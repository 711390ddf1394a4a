from django.urls import path

from covey.recognition import views

urlpatterns = [
    path("", views.awards_page, name="recognition_awards"),
    path("give/", views.awards_give, name="recognition_give"),
    path("rules/<str:kind>/", views.rule_save, name="recognition_rule_save"),
]
