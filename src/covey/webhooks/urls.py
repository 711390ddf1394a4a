from django.urls import path

from covey.webhooks import views

urlpatterns = [
    path("", views.endpoint_list, name="webhook_list"),
    path("new/", views.endpoint_create, name="webhook_create"),
    path("<str:public_id>/", views.endpoint_detail, name="webhook_detail"),
    path("<str:public_id>/edit/", views.endpoint_edit, name="webhook_edit"),
    path("<str:public_id>/delete/", views.endpoint_delete, name="webhook_delete"),
    path("<str:public_id>/ping/", views.endpoint_ping, name="webhook_ping"),
    path("<str:public_id>/deliveries/<str:delivery_id>/replay/", views.delivery_replay, name="webhook_replay"),
]
