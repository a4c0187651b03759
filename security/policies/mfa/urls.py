from __future__ import annotations

from django.urls import path

from security.policies.mfa import views

urlpatterns = [
    path("mfa/", views.mfa_policy_view, name="policy_mfa"),
]
