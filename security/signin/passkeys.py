"""The sign-in's second step with a passkey: two JSON views the package's auth JS calls.

Only a pending sign-in (password and every policy passed, ``security.signin.pending``) whose
person has a passkey gets a challenge. The assertion goes through ``pipeline.passkey_attempt``:
the same lockout, account ceiling, failure counting and record as a wrong TOTP code. On success
the answer carries where to go next and the device cookie, as the code form's redirect does.
Also the package's JS translations (``passkey_js_catalog``), public because the sign-in page is.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog

from accounts.mfa.passkeys import passkey_authentication_begin
from accounts.mfa.selectors import mfa_has_passkey
from security.signin.pending import PendingSignIn, pending_get
from security.signin.pipeline import passkey_attempt
from security.signin.views import _after
from tenants.access import PUBLIC, requires

# The package's JS calls gettext(); its catalogue is served here, from our origin.
passkey_js_catalog = requires(PUBLIC)(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]))


def _pending_with_passkey(request: HttpRequest) -> PendingSignIn | None:
    pending = pending_get(request)
    if pending is None or pending.stage != "verify" or not mfa_has_passkey(user=pending.user):
        return None
    return pending


def _again() -> JsonResponse:
    return JsonResponse({"detail": _("Please sign in again."), "code": "no_pending_signin",
                         "redirect_url": reverse("signin")}, status=403)


@requires(PUBLIC)  # the pending sign-in is checked inside
@require_POST
@csrf_protect
@never_cache
def signin_passkey_begin_view(request: HttpRequest) -> HttpResponse:
    pending = _pending_with_passkey(request)
    if pending is None:
        return _again()
    return JsonResponse(passkey_authentication_begin(request=request, user=pending.user))


@requires(PUBLIC)  # the pending sign-in is checked inside
@require_POST
@csrf_protect
@never_cache
def signin_passkey_complete_view(request: HttpRequest) -> HttpResponse:
    pending = _pending_with_passkey(request)
    if pending is None:
        return _again()
    try:
        data: object = json.loads(request.body or b"null")
    except ValueError:
        data = None  # recorded and counted like any wrong answer
    result = passkey_attempt(request=request, pending=pending, data=data)
    if result.status == "refused":
        return JsonResponse({"detail": result.message, "code": "refused",
                             "redirect_url": reverse("signin")}, status=403)
    if result.status != "signed_in":
        return JsonResponse({"detail": result.message, "code": "passkey_not_accepted"}, status=400)
    redirect = _after(request, result)  # where the code form would go, with the device cookie
    response = JsonResponse({"id": True, "redirect_url": redirect["Location"]})
    response.cookies = redirect.cookies
    return response
