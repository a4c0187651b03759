"""Self-service MFA pages under /me/mfa/: thin views over ``accounts.mfa.services``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.mfa import selectors, services
from accounts.mfa.decorators import recent_auth_required
from accounts.mfa.flows import totp_enroll_step
from accounts.mfa.forms import MfaConfirmForm
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User
from accounts.requests import ConsoleRequest
from security.policies.mfa.rules import mfa_required_for
from security.policies.mfa.selectors import mfa_rules_for
from tenants.access import requires
from tenants.roles import Cap


def _me(request: HttpRequest) -> User:
    # ``requires(Cap.SELF_SERVICE)`` already turned anonymous requests away.
    return request.user  # type: ignore[return-value]


def mfa_required_of(user: User) -> bool:
    """The tenant's MFA policy requires a second factor of this person (their last device stays)."""
    return mfa_required_for(user.role, mfa_rules_for(tenant=user.tenant))


def safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@requires(Cap.SELF_SERVICE)
@never_cache
def mfa_manage_view(request: ConsoleRequest) -> HttpResponse:
    user = _me(request)
    devices = list(selectors.mfa_totp_device_list(user=user))
    passkey_list = list(selectors.mfa_passkey_list(user=user))
    return render(request, "me/mfa/manage.html", {
        "devices": devices,
        "passkeys": passkey_list,
        "device_count": len(devices) + len(passkey_list),
        "mfa_required": mfa_required_of(user),
        "backup_codes_remaining": selectors.mfa_backup_codes_remaining(user=user),
        "backup_codes_waiting": services.backup_codes_once_pending(session=request.session, user=user),
    })


@requires(Cap.SELF_SERVICE)
@never_cache
def mfa_enrolled_view(request: ConsoleRequest) -> HttpResponse:
    """Right after the first enrolment: its backup codes, shown this once (never cached)."""
    codes = services.backup_codes_once_pop(session=request.session, user=_me(request))
    if not codes:
        return redirect(safe_next(request) or "mfa_manage")
    return render(request, "me/mfa/enrolled.html", {"codes": codes,
                                                    "next": safe_next(request) or reverse("mfa_manage")})


@requires(Cap.SELF_SERVICE)
@sensitive_post_parameters("secret")
@never_cache
def mfa_confirm_view(request: ConsoleRequest) -> HttpResponse:
    form = MfaConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mfa_recent_auth_confirm(request=request, user=_me(request),
                                             secret=form.cleaned_data["secret"])
        except ValidationError as exc:
            form.add_error("secret", exc)
        else:
            return redirect(safe_next(request) or "mfa_manage")
    return render(request, "me/mfa/confirm.html", {"form": form, "next": safe_next(request)})


@requires(Cap.SELF_SERVICE)
@sensitive_post_parameters("code")
@never_cache
@recent_auth_required(after_post="mfa_manage")
def mfa_totp_enroll_view(request: ConsoleRequest) -> HttpResponse:
    step = totp_enroll_step(request=request, user=_me(request))
    if step.device is not None:
        messages.success(request, _("Your authenticator app is set up."))
        if services.backup_codes_once_pending(session=request.session, user=_me(request)):
            return redirect("mfa_enrolled")  # the first device: its backup codes, once
        return redirect("mfa_manage")
    return render(request, "me/mfa/totp_enroll.html", step.context)


@requires(Cap.SELF_SERVICE)
@never_cache
def mfa_backup_codes_view(request: ConsoleRequest) -> HttpResponse:
    if request.method == "POST":
        return _backup_codes_regenerate(request)
    return render(request, "me/mfa/backup_codes.html", {
        "remaining": selectors.mfa_backup_codes_remaining(user=_me(request)),
        "has_device": services.mfa_user_has_device(user=_me(request)),
    })


@recent_auth_required(after_post="mfa_manage")
def _backup_codes_regenerate(request: HttpRequest) -> HttpResponse:
    try:
        codes = services.backup_codes_regenerate(user=_me(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("mfa_manage")
    # Shown once, in this response only (never_cache): nothing to reload later.
    return render(request, "me/mfa/backup_codes.html", {"codes": codes})


@requires(Cap.SELF_SERVICE)
@require_POST
@recent_auth_required(after_post="mfa_manage")
def mfa_device_remove_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    user = _me(request)
    try:
        services.mfa_device_remove(user=user, device_id=pk, mfa_required=mfa_required_of(user))
    except EncryptedTOTPDevice.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(safe_next(request) or "mfa_manage")
    messages.success(request, _("The authenticator app was removed."))
    return redirect(safe_next(request) or "mfa_manage")  # My security's button comes back there
