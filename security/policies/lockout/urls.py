from __future__ import annotations

from django.urls import path

from security.policies.lockout import views

urlpatterns = [
    path("lockout/", views.lockout_policy_view, name="policy_lockout"),
]
