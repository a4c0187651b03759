from __future__ import annotations

from django.urls import path

from me.mfa import views

urlpatterns = [
    path("", views.mfa_manage_view, name="mfa_manage"),
    path("confirm/", views.mfa_confirm_view, name="mfa_confirm"),
    path("totp/", views.mfa_totp_enroll_view, name="mfa_totp_enroll"),
    path("backup-codes/", views.mfa_backup_codes_view, name="mfa_backup_codes"),
    path("devices/<int:pk>/remove/", views.mfa_device_remove_view, name="mfa_device_remove"),
]
