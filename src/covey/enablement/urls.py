from __future__ import annotations

from django.urls import path

from covey.enablement import views

urlpatterns = [
    path("training/", views.training_home, name="training_home"),
    path("training/courses/new/", views.course_create, name="course_create"),
    path("training/courses/<str:public_id>/", views.course_detail, name="course_detail"),
    path("training/courses/<str:public_id>/edit/", views.course_edit, name="course_edit"),
    path("training/completions/new/", views.completion_create, name="completion_create"),
    path("training/completions/<str:public_id>/remove/", views.completion_remove, name="completion_remove"),
    path("library/", views.library, name="library"),
    path("library/new/", views.resource_create, name="resource_create"),
    path("library/<str:public_id>/", views.resource_detail, name="resource_detail"),
    path("library/<str:public_id>/edit/", views.resource_edit, name="resource_edit"),
    path("library/<str:public_id>/versions/", views.resource_version_add, name="resource_version_add"),
    path("library/<str:public_id>/download/<str:version_id>/", views.resource_download, name="resource_download"),
    path("news/", views.announcement_list, name="announcement_list"),
    path("news/new/", views.announcement_create, name="announcement_create"),
    path("news/newsletters/new/", views.newsletter_create, name="newsletter_create"),
    path("news/newsletters/<str:public_id>/", views.newsletter_detail, name="newsletter_detail"),
    path("news/<str:public_id>/", views.announcement_detail, name="announcement_detail"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
