from __future__ import annotations

from django.urls import path

from security import views_account

# Mounted under /policies/ (security.policy_urls).
urlpatterns = [
    path("password/", views_account.password_policy_view, name="policy_password"),
    path("password/compliance/", views_account.password_compliance_view, name="password_compliance"),
    path("mfa/", views_account.mfa_policy_view, name="policy_mfa"),
    path("lockout/", views_account.lockout_policy_view, name="policy_lockout"),
    path("sessions/", views_account.session_policy_view, name="policy_sessions"),
]
