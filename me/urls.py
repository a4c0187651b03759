from __future__ import annotations

from django.urls import include, path

from me import views

urlpatterns = [
    path("", views.home_view, name="home"),
    path("me/", views.profile_view, name="profile"),
    path("me/password/", views.password_change_view, name="password_change"),
    path("me/sessions/", views.my_sessions_view, name="my_sessions"),
    path("me/security/", include("me.security.urls")),
    path("me/mfa/", include("me.mfa.urls")),
    path("me/mail-clients/", include("me.mailclients.urls")),
]
