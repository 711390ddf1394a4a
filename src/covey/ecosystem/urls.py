from django.urls import path

from covey.ecosystem import views

urlpatterns = [path("", views.ecosystem_map, name="analytics_ecosystem")]
