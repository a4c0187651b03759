from __future__ import annotations

from django.urls import path

from security import views

urlpatterns = [
    path("signin/", views.signin_view, name="signin"),
    path("signout/", views.signout_view, name="signout"),
]
