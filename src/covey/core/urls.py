from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from covey.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("lookup/<str:kind>/", views.lookup, name="lookup"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("notifications/<str:public_id>/open/", views.notification_open, name="notification_open"),
    path("settings/", views.vendor_settings, name="vendor_settings"),
    path("settings/tokens/", views.token_list, name="token_list"),
    path("settings/tokens/<str:public_id>/revoke/", views.token_revoke, name="token_revoke"),
]
