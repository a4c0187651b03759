from __future__ import annotations

from django.urls import path

from security.policies.hours import views

urlpatterns = [
    path("hours/", views.hours_policy_view, name="policy_hours"),
]
