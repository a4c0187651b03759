from __future__ import annotations

from django.urls import path

from me.mfa import passkeys, views

urlpatterns = [
    path("", views.mfa_manage_view, name="mfa_manage"),
    path("confirm/", views.mfa_confirm_view, name="mfa_confirm"),
    path("totp/", views.mfa_totp_enroll_view, name="mfa_totp_enroll"),
    path("backup-codes/", views.mfa_backup_codes_view, name="mfa_backup_codes"),
    path("devices/<int:pk>/remove/", views.mfa_device_remove_view, name="mfa_device_remove"),
    path("enrolled/", views.mfa_enrolled_view, name="mfa_enrolled"),
    path("passkeys/add/", passkeys.mfa_passkey_add_view, name="mfa_passkey_add"),
    path("passkeys/register/begin/", passkeys.mfa_passkey_register_begin_view,
         name="mfa_passkey_register_begin"),
    path("passkeys/register/complete/", passkeys.mfa_passkey_register_complete_view,
         name="mfa_passkey_register_complete"),
    path("passkeys/<int:pk>/remove/", passkeys.mfa_passkey_remove_view, name="mfa_passkey_remove"),
]
