from __future__ import annotations

from django.urls import path

from security.policies.password import views

urlpatterns = [
    path("password/", views.password_policy_view, name="policy_password"),
    path("password/compliance/", views.password_compliance_view, name="password_compliance"),
]
