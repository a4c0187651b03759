"""The "Forgot password?" pages: ask for a link, the one page every request ends on, use a link."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from activity.capture import client_info
from security.policies.password.validators import password_validators_for
from security.recovery.forms import ResetPasswordForm, ResetRequestForm
from security.recovery.services import (
    ResetLinkInvalid,
    ResetThrottled,
    password_reset_complete,
    password_reset_get_valid,
    password_reset_request,
)
from tenants.access import PUBLIC, requires


@requires(PUBLIC)
@csrf_protect
@never_cache
def reset_request_view(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_request(email=form.cleaned_data["email"], client=client_info(request))
        except ResetThrottled:
            return render(request, "security/recovery/request.html",
                          {"form": form, "public_page": True, "error": _(
                              "Too many requests from your network. Wait an hour and try again, "
                              "or ask your administrator to send you a link.")}, status=429)
        # Every address, known or not, ends here: the same redirect to the same page.
        return redirect("password_reset_sent")
    return render(request, "security/recovery/request.html", {"form": form, "public_page": True})


@requires(PUBLIC)
@never_cache
def reset_sent_view(request: HttpRequest) -> HttpResponse:
    return render(request, "security/recovery/sent.html",
                  {"minutes": settings.PASSWORD_RESET_TTL_MINUTES, "public_page": True})


@requires(PUBLIC)  # the link itself is the credential
@sensitive_variables("token")
@sensitive_post_parameters("new_password", "confirm_password")
@csrf_protect
@never_cache
def reset_confirm_view(request: HttpRequest, reset_id: int, token: str) -> HttpResponse:
    client = client_info(request)
    try:
        reset = password_reset_get_valid(reset_id=reset_id, token=token, client=client)
    except ResetLinkInvalid as exc:
        return _invalid(request, exc)
    form = ResetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_complete(
                reset_id=reset_id, token=token, password=form.cleaned_data["new_password"],
                client=client, sign_out_mail_clients=form.cleaned_data["sign_out_mail_clients"])
        except ResetLinkInvalid as exc:
            return _invalid(request, exc)
        except ValidationError as exc:
            form.add_error("new_password", exc)
        else:
            messages.success(request, _("Your password has been changed. Sign in with it now."))
            return redirect("signin")
    help_texts = [v.get_help_text() for v in password_validators_for(reset.user)]
    return render(request, "security/recovery/confirm.html",
                  {"form": form, "person": reset.user, "help_texts": help_texts,
                   "public_page": True})


def _invalid(request: HttpRequest, exc: ResetLinkInvalid) -> HttpResponse:
    # Unknown, tampered, used, replaced or expired: one page, one message, one status.
    return render(request, "security/recovery/invalid.html",
                  {"message": exc.message, "public_page": True}, status=400)
