"""Passkeys (WebAuthn) as a second factor, on django-otp-webauthn.

Design
- The package does the WebAuthn work: options, attestation and assertion checks (py_webauthn),
  the credential model (a django-otp ``Device`` with name, created and last used), user handles
  and the browser JS. Its URLs are not mounted: its views would sign a person in on their own
  (``login()`` outside our pipeline). Our views (``me/mfa/passkeys.py`` to enrol,
  ``security/signin/passkeys.py`` at the second step) call the functions here.
- Passwordless sign-in is off (``OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN``): a passkey is asked
  for only after the password and every policy, like a TOTP code.
- Each ceremony's challenge lives in the session between its two requests and is taken out
  before it is checked; a challenge is also claimed once in the cache, so two concurrent
  requests replaying one assertion cannot both pass.
- The package's model has no tenant column: every query is scoped by the person and their tenant
  (``services.passkeys_of``).
- Enrolment (name, recent re-authentication, the device limit, the ``mfa_changed`` signal and
  the first enrolment's backup codes) is ours, in one transaction with the package's save.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.middleware import csrf
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.settings import app_settings
from django_otp_webauthn.utils import rewrite_exceptions
from webauthn.helpers import exceptions as webauthn_errors

from accounts.mfa import services
from accounts.models import User

logger = logging.getLogger(__name__)

REGISTER_STATE_SESSION_KEY = "mailadmin.passkey_register"
AUTH_STATE_SESSION_KEY = "mailadmin.passkey_auth"
MAX_PASSKEYS = 10
NAME_MAX_LENGTH = 64

PASSKEY_NOT_ACCEPTED = gettext_lazy(
    "That passkey was not accepted. Try again, or use a code from your authenticator app."
)
REGISTRATION_FAILED = gettext_lazy(
    "The passkey could not be added. Start again from the two-step sign-in page."
)


def passkey_name_default() -> str:
    return str(_("Passkey"))


class PasskeyHelper(WebAuthnHelper):
    """The package's helper, told who the person is and what their new passkey is called.

    ``OTP_WEBAUTHN_HELPER_CLASS`` names it. The name comes from the registration state in the
    session (``passkey_registration_begin``).
    """

    def __init__(self, request: HttpRequest, *, name: str = "", tenant_id: int | None = None) -> None:
        super().__init__(request)
        self.name = name
        self.tenant_id = tenant_id

    def get_credential_name(self, user: Any) -> str:
        return str(user.email)

    def get_credential_display_name(self, user: Any) -> str:
        display = getattr(user, "display_name", "") or ""
        return f"{display} ({user.email})" if display else str(user.email)

    def create_credential(self, user: Any, response: Any, parsed_credential: Any,
                          original_data: dict[str, Any]) -> Any:
        device = super().create_credential(user, response, parsed_credential, original_data)
        device.name = (self.name or passkey_name_default())[:NAME_MAX_LENGTH]
        device.confirmed = True
        return device


def _require_tenant_user(user: User) -> None:
    if user.pk is None or user.tenant_id is None:
        raise ValidationError(_("Two-step sign-in is available to company accounts only."),
                              code="no_tenant")


def _claim_challenge(challenge: object) -> bool:
    """Claim a challenge once across every process (the cache is Redis in production)."""
    if not isinstance(challenge, str) or not challenge:
        return False
    timeout = int(app_settings.OTP_WEBAUTHN_TIMEOUT_SECONDS) + 60
    return bool(cache.add(f"mailadmin:passkey-challenge:{challenge}", 1, timeout=timeout))


def passkey_config(request: HttpRequest, **urls: str) -> dict[str, Any]:
    """What the package's JS reads from the page (``otp_webauthn_config``): our JSON views' URLs."""
    return {
        "csrfToken": csrf.get_token(request),
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "beginRegistrationUrl": "", "completeRegistrationUrl": "",
        "beginAuthenticationUrl": "", "completeAuthenticationUrl": "",
        **urls,
    }


# --- Enrolment --------------------------------------------------------------------------------


def passkey_registration_begin(*, request: HttpRequest, user: User, name: str) -> dict[str, Any]:
    """The options ``navigator.credentials.create()`` needs; the challenge waits in the session.

    Refused (ValidationError) for a person who already has ``MAX_PASSKEYS`` passkeys. The
    person's other passkeys are excluded, so one authenticator is not registered twice.
    """
    _require_tenant_user(user)
    count = services.passkeys_of(user).count()
    if count >= MAX_PASSKEYS:
        raise ValidationError(
            _("You already have %(n)s passkeys. Remove one before adding another."),
            code="too_many", params={"n": count},
        )
    helper = PasskeyHelper(request)
    options, state = helper.register_begin(user=user)
    request.session[REGISTER_STATE_SESSION_KEY] = {
        **state, "uid": user.pk, "name": (name or "").strip()[:NAME_MAX_LENGTH],
    }
    return options


@dataclass(frozen=True)
class PasskeyEnrolled:
    device: WebAuthnCredential
    first_backup_codes: bool


def passkey_registration_complete(*, request: HttpRequest, user: User,
                                  data: dict[str, Any]) -> PasskeyEnrolled:
    """Check the browser's attestation and save the passkey, named as asked; ValidationError else.

    The first device also gets backup codes, kept for the confirmation page
    (``services.backup_codes_once_pop``).
    """
    _require_tenant_user(user)
    state = request.session.pop(REGISTER_STATE_SESSION_KEY, None)
    # Saved now: even if what follows fails, this challenge is never accepted again.
    request.session.save()
    if (not isinstance(state, dict) or state.get("uid") != user.pk
            or not _claim_challenge(state.get("challenge"))):
        raise ValidationError(REGISTRATION_FAILED, code="state")
    helper = PasskeyHelper(request, name=str(state.get("name") or ""))
    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user.pk).first()
            if services.passkeys_of(user).count() >= MAX_PASSKEYS:
                raise ValidationError(
                    _("You already have %(n)s passkeys. Remove one before adding another."),
                    code="too_many", params={"n": MAX_PASSKEYS},
                )
            with rewrite_exceptions(logger=None):
                device = helper.register_complete(user=user, state=state, data=data)
            services._changed(user=user, change="passkey_added", detail=device.name)
            codes = services.backup_codes_after_enrolment(user=user)
    except (OTPWebAuthnApiError, webauthn_errors.WebAuthnException, IntegrityError, KeyError,
            TypeError, ValueError) as exc:
        # A malformed or forged response, or an authenticator registered already: nothing saved.
        logger.info("passkey registration refused: %s", type(exc).__name__)
        raise ValidationError(REGISTRATION_FAILED, code="invalid") from None
    if codes:
        services.backup_codes_once_stash(session=request.session, user=user, codes=codes)
    return PasskeyEnrolled(device=device, first_backup_codes=bool(codes))


# --- Verification (the sign-in's second step) --------------------------------------------------


def passkey_authentication_begin(*, request: HttpRequest, user: User) -> dict[str, Any]:
    """The options ``navigator.credentials.get()`` needs, naming only this person's passkeys."""
    _require_tenant_user(user)
    helper = PasskeyHelper(request)
    # A second factor after the password: possession is what is proved; the authenticator asks
    # for its PIN or fingerprint when it wants to.
    options, state = helper.authenticate_begin(user=user, require_user_verification=False)
    request.session[AUTH_STATE_SESSION_KEY] = {**state, "uid": user.pk}
    return options


def passkey_verify(*, request: HttpRequest, user: User, data: object) -> WebAuthnCredential | None:
    """The person's passkey that signed this session's challenge (its use recorded), or None.

    Every failure is None, so the caller records and counts it like a wrong code: no challenge,
    a replayed or foreign assertion, another person's passkey, a bad signature.
    """
    state = request.session.pop(AUTH_STATE_SESSION_KEY, None)
    request.session.save()
    if user.pk is None or user.tenant_id is None or not isinstance(data, dict):
        return None
    if (not isinstance(state, dict) or state.get("uid") != user.pk
            or not _claim_challenge(state.get("challenge"))):
        return None
    helper = PasskeyHelper(request)
    try:
        with rewrite_exceptions(logger=None):
            device = helper.authenticate_complete(user=user, state=state, data=data)
    except (OTPWebAuthnApiError, webauthn_errors.WebAuthnException, KeyError, TypeError,
            ValueError) as exc:
        logger.info("passkey assertion refused: %s", type(exc).__name__)
        return None
    if (not device.confirmed or device.user_id != user.pk
            or not services.passkeys_of(user).filter(pk=device.pk).exists()):
        return None
    return device


# --- Removal ----------------------------------------------------------------------------------


def passkey_remove(*, user: User, device_id: int, mfa_required: bool = False) -> None:
    """Remove one of the person's passkeys; with their last device go the backup codes.

    ``mfa_required`` as in ``services.mfa_device_remove``. Raises
    ``WebAuthnCredential.DoesNotExist`` for a passkey that is not theirs.
    """
    _require_tenant_user(user)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        device = services.passkeys_of(user).select_for_update().get(pk=device_id)
        name = device.name
        services._device_removed(user=user, mfa_required=mfa_required, remove=device.delete)
        services._changed(user=user, change="passkey_removed", detail=name)
