from __future__ import annotations

from django.urls import include, path

from security.signin import passkeys, views

urlpatterns = [
    path("signin/", views.signin_view, name="signin"),
    path("signin/mfa/", views.signin_mfa_view, name="signin_mfa"),
    path("signin/mfa/enroll/", views.signin_mfa_enroll_view, name="signin_mfa_enroll"),
    path("signin/mfa/passkey/begin/", passkeys.signin_passkey_begin_view, name="signin_passkey_begin"),
    path("signin/mfa/passkey/complete/", passkeys.signin_passkey_complete_view,
         name="signin_passkey_complete"),
    path("signin/passkey-i18n.js", passkeys.passkey_js_catalog, name="passkey_js_catalog"),
    path("signout/", views.signout_view, name="signout"),
    path("", include("security.recovery.urls")),  # "Forgot password?"
]
