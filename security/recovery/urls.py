from __future__ import annotations

from django.urls import path

from security.recovery import views

urlpatterns = [
    path("signin/forgot/", views.reset_request_view, name="password_reset_request"),
    path("signin/forgot/sent/", views.reset_sent_view, name="password_reset_sent"),
    path("signin/reset/<int:reset_id>/<str:token>/", views.reset_confirm_view,
         name="password_reset_confirm"),
]
