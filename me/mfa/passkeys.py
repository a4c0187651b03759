"""Adding and removing a passkey under /me/mfa/passkeys/: thin views over ``accounts.mfa.passkeys``.

The add page takes the name (a form, checked here), then shows the button the package's JS
(``django_otp_webauthn/otp_webauthn_register.js``, served by the app) drives: it POSTs to the
two JSON views below, and ``static/js/passkeys.js`` goes on to the confirmation page when the
passkey is saved. Both JSON views need the same recent confirmation as every MFA change.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp_webauthn.models import WebAuthnCredential

from accounts.mfa import passkeys, services
from accounts.mfa.decorators import recent_auth_required
from accounts.mfa.forms import PasskeyNameForm
from accounts.mfa.passkeys import passkey_config
from accounts.models import User
from accounts.requests import ConsoleRequest
from me.mfa.views import mfa_required_of, safe_next
from tenants.access import requires
from tenants.roles import Cap

NAME_SESSION_KEY = "mailadmin.passkey_name"


def _me(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _json_error(message: str, code: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": message, "code": code}, status=status)


@requires(Cap.SELF_SERVICE)
@never_cache
@recent_auth_required(after_post="mfa_manage")
def mfa_passkey_add_view(request: ConsoleRequest) -> HttpResponse:
    """GET: the name form. POST: the name is kept and the page offers to create the passkey."""
    form = PasskeyNameForm(request.POST or None)
    ready = False
    if request.method == "POST" and form.is_valid():
        request.session[NAME_SESSION_KEY] = form.cleaned_data["name"]
        ready = True
    return render(request, "me/mfa/passkey_add.html", {
        "form": form, "ready": ready,
        "name": form.cleaned_data.get("name") if ready else "",
        "passkey_config": passkey_config(
            request,
            beginRegistrationUrl=reverse("mfa_passkey_register_begin"),
            completeRegistrationUrl=reverse("mfa_passkey_register_complete"),
        ),
    })


@requires(Cap.SELF_SERVICE)
@require_POST
@never_cache
def mfa_passkey_register_begin_view(request: ConsoleRequest) -> HttpResponse:
    if not services.mfa_recent_auth_ok(request):
        return _json_error(_("Confirm it is you, then try again."), "recent_auth_required", 403)
    try:
        options = passkeys.passkey_registration_begin(
            request=request, user=_me(request), name=str(request.session.get(NAME_SESSION_KEY, "")),
        )
    except ValidationError as exc:
        return _json_error(" ".join(exc.messages), str(exc.code or "invalid"))
    return JsonResponse(options)


@requires(Cap.SELF_SERVICE)
@require_POST
@never_cache
def mfa_passkey_register_complete_view(request: ConsoleRequest) -> HttpResponse:
    if not services.mfa_recent_auth_ok(request):
        return _json_error(_("Confirm it is you, then try again."), "recent_auth_required", 403)
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _json_error(str(passkeys.REGISTRATION_FAILED), "malformed_request")
    try:
        enrolled = passkeys.passkey_registration_complete(request=request, user=_me(request), data=data)
    except ValidationError as exc:
        return _json_error(" ".join(exc.messages), str(exc.code or "invalid"))
    request.session.pop(NAME_SESSION_KEY, None)
    messages.success(request, _("Your passkey “%(name)s” is set up.") % {"name": enrolled.device.name})
    target = reverse("mfa_enrolled") if enrolled.first_backup_codes else reverse("mfa_manage")
    return JsonResponse({"id": enrolled.device.pk, "redirect_url": target})


@requires(Cap.SELF_SERVICE)
@require_POST
@recent_auth_required(after_post="mfa_manage")
def mfa_passkey_remove_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    user = _me(request)
    try:
        passkeys.passkey_remove(user=user, device_id=pk, mfa_required=mfa_required_of(user))
    except WebAuthnCredential.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(safe_next(request) or "mfa_manage")
    messages.success(request, _("The passkey was removed."))
    return redirect(safe_next(request) or "mfa_manage")  # My security's button comes back there
