"""The sign-in pages: e-mail and password, the second factor, enrolment at sign-in, sign-out."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.mfa.flows import totp_enroll_step
from accounts.mfa.forms import MfaCodeForm
from accounts.mfa.passkeys import passkey_config
from accounts.mfa.selectors import mfa_has_passkey, mfa_totp_device_list
from accounts.mfa.services import backup_codes_once_pending
from security.signin.device_cookies import device_cookie_apply
from security.signin.forms import SignInForm
from security.signin.pending import PASSWORD_CHANGE_SESSION_KEY, pending_clear, pending_get
from security.signin.pipeline import (
    SignInResult,
    mfa_attempt,
    mfa_complete,
    signin_attempt,
    signout,
)
from security.signin.refusal import render_signin_failure, safe_next
from tenants.access import PUBLIC, requires

NEXT_SESSION_KEY = "mailadmin.signin_next"


def _after(request: HttpRequest, result: SignInResult) -> HttpResponse:
    if result.status == "mfa_verify":
        return redirect("signin_mfa")
    if result.status == "mfa_enroll":
        return redirect("signin_mfa_enroll")
    if result.password_change_required or request.session.get(PASSWORD_CHANGE_SESSION_KEY):
        response = redirect("password_change")
    else:
        response = redirect(request.session.pop(NEXT_SESSION_KEY, None) or "home")
    return device_cookie_apply(request=request, response=response)  # issued by a completed sign-in


@requires(PUBLIC)
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signin_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("home")
    form = SignInForm(request.POST or None)
    if request.method == "POST":
        pending_clear(request)  # a new attempt replaces any half-finished one
        if not form.is_valid():
            return render_signin_failure(request)
        result = signin_attempt(request=request, email=form.cleaned_data["email"],
                                password=form.cleaned_data["password"])
        if result.status == "refused":
            return render_signin_failure(request, result.message)
        if target := safe_next(request):
            request.session[NEXT_SESSION_KEY] = target
        return _after(request, result)
    pending = pending_get(request)
    if pending is not None:  # half-way through: continue with the second step
        return redirect("signin_mfa_enroll" if pending.stage == "enroll" else "signin_mfa")
    response = render(request, "security/signin.html",
                      {"form": form, "next": safe_next(request), "public_page": True})
    # Chromium freezes the OS version in its User-Agent; ask for the real one on the POST.
    response["Accept-CH"] = "Sec-CH-UA-Platform-Version"
    return response


@requires(PUBLIC)  # the pre-MFA state is checked inside: only a pending sign-in gets through
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def signin_mfa_view(request: HttpRequest) -> HttpResponse:
    pending = pending_get(request)
    if pending is None:
        messages.info(request, _("Please sign in again."))
        return redirect("signin")
    if pending.stage == "enroll":
        return redirect("signin_mfa_enroll")
    form = MfaCodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        result = mfa_attempt(request=request, pending=pending, code=form.cleaned_data["code"])
        if result.status == "refused":
            return render_signin_failure(request, result.message)
        if result.status == "signed_in":
            return _after(request, result)
        error = result.message
    has_passkey = mfa_has_passkey(user=pending.user)
    return render(request, "security/signin_mfa.html", {
        "form": form, "error": error, "person": pending.user, "public_page": True,
        "has_passkey": has_passkey,
        "has_totp": not has_passkey or mfa_totp_device_list(user=pending.user).exists(),
        "passkey_config": passkey_config(
            request, beginAuthenticationUrl=reverse("signin_passkey_begin"),
            completeAuthenticationUrl=reverse("signin_passkey_complete"),
        ) if has_passkey else None,
    })


@requires(PUBLIC)  # the pre-MFA state is checked inside
@csrf_protect
@never_cache
def signin_mfa_enroll_view(request: HttpRequest) -> HttpResponse:
    pending = pending_get(request)
    if pending is None:
        messages.info(request, _("Please sign in again."))
        return redirect("signin")
    step = totp_enroll_step(request=request, user=pending.user)
    if step.device is not None:
        mfa_complete(request=request, pending=pending, method="totp")
        messages.success(request, _("Two-step sign-in is on. Keep your authenticator app with you."))
        result = SignInResult(status="signed_in", user=pending.user,
                              password_change_required=pending.password_change_required)
        response = _after(request, result)
        if (backup_codes_once_pending(session=request.session, user=pending.user)
                and response["Location"] != reverse("password_change")):
            # The first device: its backup codes, once, on the way to where the person was going.
            response["Location"] = f"{reverse('mfa_enrolled')}?{urlencode({'next': response['Location']})}"
        return response
    return render(request, "security/signin_mfa_enroll.html",
                  {**step.context, "person": pending.user, "public_page": True})


@requires(PUBLIC)
@require_POST
def signout_view(request: HttpRequest) -> HttpResponse:
    signout(request=request)
    messages.info(request, _("You have signed out."))
    return redirect("signin")
