from __future__ import annotations

from django.urls import include, path

from security.signin import views

urlpatterns = [
    path("signin/", views.signin_view, name="signin"),
    path("signin/mfa/", views.signin_mfa_view, name="signin_mfa"),
    path("signin/mfa/enroll/", views.signin_mfa_enroll_view, name="signin_mfa_enroll"),
    path("signout/", views.signout_view, name="signout"),
    path("", include("security.recovery.urls")),  # "Forgot password?"
]
