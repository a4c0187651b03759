from __future__ import annotations

from django.urls import path

from security.policies.sessions import views

urlpatterns = [
    path("sessions/", views.session_policy_view, name="policy_sessions"),
]
