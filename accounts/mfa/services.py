"""MFA services: enrol an authenticator, verify a code once, backup codes, removal and reset.

Design notes
- A code is accepted only through ``django_otp.verify_token`` (one transaction, device row
  locked), device by device, so one code works once even when twenty requests race.
- Enrolment never trusts the browser with the key: the pending key lives in the session as
  Fernet ciphertext (``FIELD_ENCRYPTION_KEYS``) with a 10-minute expiry; the form carries only a
  random step token that must match it. Works the same for a signed-in person and for the
  pre-MFA session of the sign-in pipeline, because every function takes the user explicitly.
- Sensitive changes (add/remove a device, regenerate codes) need a confirmation less than five
  minutes old (``mfa_recent_auth_*``). They send ``accounts.mfa.signals.mfa_changed`` (an
  administrator's reset: ``mfa_reset``) inside their transaction: the audit trail (``activity``)
  and the e-mail to the person (``notifications``, through the outbox), layers above, act on it.
- Nothing here calls ``login()``; failed codes are reported to django-axes through
  ``mfa_failure_signal`` by the caller that owns the request.
- A person's devices are their authenticator apps and their passkeys (django-otp-webauthn's
  ``WebAuthnCredential``, ceremonies in ``accounts.mfa.passkeys``). Backup codes only back them up.
- The first enrolment (no unused backup codes yet) creates backup codes in its transaction; the
  plain codes wait in the session as Fernet ciphertext until the confirmation page shows them
  once (``backup_codes_once_pop``).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from binascii import unhexlify
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import verify_token
from django_otp.oath import TOTP
from django_otp_webauthn.models import WebAuthnCredential

from accounts.fields import FieldDecryptionError, decrypt_bytes, encrypt_bytes
from accounts.mfa.models import (
    BACKUP_CODE_COUNT,
    TOTP_DIGITS,
    TOTP_KEY_BYTES,
    BackupCode,
    BackupCodeDevice,
    EncryptedTOTPDevice,
    format_backup_code,
    generate_backup_code,
    normalize_backup_code,
    normalize_totp_code,
)
from accounts.mfa.signals import mfa_changed, mfa_reset
from accounts.models import User
from tenants.models import Tenant

Method = Literal["totp", "backup_code"]

ENROLLMENT_SESSION_KEY = "mailadmin.mfa_totp_enrollment"
# The backup codes made by a first enrolment, encrypted, until the confirmation page shows them.
BACKUP_CODES_ONCE_SESSION_KEY = "mailadmin.mfa_backup_codes_once"
BACKUP_CODES_ONCE_TTL_SECONDS = 30 * 60
ENROLLMENT_TTL_SECONDS = 10 * 60
# A pending enrolment this close to expiry is replaced rather than shown again.
ENROLLMENT_REUSE_MARGIN_SECONDS = 60
RECENT_AUTH_SESSION_KEY = "mailadmin.mfa_recent_auth"
RECENT_AUTH_SECONDS = 5 * 60
MAX_TOTP_DEVICES = 5
TOTP_STEP = 30

ENROLLMENT_INVALID = gettext_lazy(
    "This enrolment step is not valid any more (it was changed or replaced in another tab). "
    "Scan the code below and enter a fresh code."
)
ENROLLMENT_EXPIRED = gettext_lazy(
    "This enrolment step has expired. Scan the new code below; the previous key no longer works."
)
CODE_FORMAT = gettext_lazy("Enter the 6-digit code shown by your authenticator app.")
CODE_INCORRECT = gettext_lazy(
    "That code is not correct. Check that your phone's clock is right and enter the current code."
)


# --- Enrolment ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrollment:
    """What an enrolment page shows; ``step_token`` goes in the form, the key never does."""

    step_token: str
    otpauth_uri: str
    qr_svg: SafeString
    key_text: str
    expires_at: datetime


def _require_tenant_user(user: User) -> None:
    if user.pk is None or user.tenant_id is None:
        raise ValidationError(_("Two-step sign-in is available to company accounts only."),
                              code="no_tenant")


def _otpauth_uri(*, user: User, key: bytes) -> str:
    issuer = str(settings.OTP_TOTP_ISSUER).replace(":", "")
    label = f"{issuer}:{user.email}" if issuer else user.email
    params = {"secret": base64.b32encode(key).decode("ascii").rstrip("="), "algorithm": "SHA1",
              "digits": TOTP_DIGITS, "period": TOTP_STEP}
    query = urlencode(params)
    if issuer:
        query += f"&issuer={quote(issuer)}"
    return f"otpauth://totp/{quote(label)}?{query}"


def _qr_svg(uri: str) -> SafeString:
    # Rendered here, inline: no CDN, no image URL, no style attribute (strict CSP). segno is
    # imported here, on the enrolment page only: it costs ~5 MB in every worker otherwise.
    import segno

    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", svgclass="qr-code",
        title=_("QR code for your authenticator app"),
    )
    return mark_safe(svg)  # noqa: S308 - segno's own markup; the URI is encoded as modules  # nosec


def _key_text(key: bytes) -> str:
    text = base64.b32encode(key).decode("ascii").rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def _enrollment_view(*, user: User, key: bytes, step: str, expires: float) -> TotpEnrollment:
    uri = _otpauth_uri(user=user, key=key)
    return TotpEnrollment(step_token=step, otpauth_uri=uri, qr_svg=_qr_svg(uri),
                          key_text=_key_text(key),
                          expires_at=datetime.fromtimestamp(expires, tz=UTC))


def _pending_load(session: SessionBase, user: User) -> dict[str, Any]:
    """The decrypted pending enrolment of this user, or ValidationError (invalid / expired)."""
    blob = session.get(ENROLLMENT_SESSION_KEY)
    if not isinstance(blob, str):
        raise ValidationError(ENROLLMENT_INVALID, code="enrollment_invalid")
    try:
        data = json.loads(decrypt_bytes(blob))
    except (FieldDecryptionError, ValueError):
        session.pop(ENROLLMENT_SESSION_KEY, None)
        raise ValidationError(ENROLLMENT_INVALID, code="enrollment_invalid") from None
    if not isinstance(data, dict) or data.get("uid") != user.pk:
        session.pop(ENROLLMENT_SESSION_KEY, None)
        raise ValidationError(ENROLLMENT_INVALID, code="enrollment_invalid")
    if time.time() >= float(data.get("exp", 0)):
        session.pop(ENROLLMENT_SESSION_KEY, None)
        raise ValidationError(ENROLLMENT_EXPIRED, code="enrollment_expired")
    return data


def totp_enrollment_begin(*, session: SessionBase, user: User, restart: bool = False) -> TotpEnrollment:
    """Start (or show again) enrolling an authenticator app; the key waits in the session, encrypted.

    A still-valid pending enrolment is shown again, so reloading the page does not invalidate a
    QR code the person already scanned; ``restart=True`` always draws a fresh key.
    """
    _require_tenant_user(user)
    if not restart:
        try:
            data = _pending_load(session, user)
        except ValidationError:
            pass
        else:
            if float(data["exp"]) - time.time() > ENROLLMENT_REUSE_MARGIN_SECONDS:
                return _enrollment_view(user=user, key=unhexlify(data["key"]), step=data["step"],
                                        expires=float(data["exp"]))
    key = secrets.token_bytes(TOTP_KEY_BYTES)
    step = secrets.token_urlsafe(24)
    expires = time.time() + ENROLLMENT_TTL_SECONDS
    payload = {"uid": user.pk, "key": key.hex(), "step": step, "exp": expires}
    session[ENROLLMENT_SESSION_KEY] = encrypt_bytes(json.dumps(payload).encode())
    return _enrollment_view(user=user, key=key, step=step, expires=expires)


def totp_enrollment_confirm(*, session: SessionBase, user: User, step_token: str, code: str,
                            name: str = "") -> EncryptedTOTPDevice:
    """Check a code against the pending key and save the device; on any error nothing is stored."""
    _require_tenant_user(user)
    data = _pending_load(session, user)
    if not hmac.compare_digest(str(data.get("step", "")), str(step_token or "")):
        raise ValidationError(ENROLLMENT_INVALID, code="enrollment_invalid")
    normalized = normalize_totp_code(code)
    if normalized is None:
        raise ValidationError(CODE_FORMAT, code="code_format")
    totp = TOTP(unhexlify(data["key"]), TOTP_STEP, 0, TOTP_DIGITS, 0)
    totp.time = time.time()
    if not totp.verify(int(normalized), tolerance=1):
        raise ValidationError(CODE_INCORRECT, code="code_incorrect")
    with transaction.atomic():
        # Serialises a double-submitted form: the second one finds the session state gone.
        User.objects.select_for_update().filter(pk=user.pk).first()
        count = EncryptedTOTPDevice.objects.for_tenant(user.tenant).filter(user=user).count()
        if count >= MAX_TOTP_DEVICES:
            raise ValidationError(
                _("You already have %(n)s authenticator apps. Remove one before adding another."),
                code="too_many", params={"n": count},
            )
        device = EncryptedTOTPDevice.objects.create(
            tenant_id=user.tenant_id, user=user, confirmed=True, key=data["key"],
            name=(name or "").strip()[:64] or str(_("Authenticator app")),
            step=TOTP_STEP, digits=TOTP_DIGITS, drift=totp.drift,
            # The confirming code is spent: it cannot also open the next sign-in.
            last_t=totp.t(),
        )
        _changed(user=user, change="totp_added", detail=device.name)
        codes = backup_codes_after_enrolment(user=user)
    session.pop(ENROLLMENT_SESSION_KEY, None)
    if codes:
        backup_codes_once_stash(session=session, user=user, codes=codes)
    return device


# --- Verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MfaMatch:
    method: Method
    device: EncryptedTOTPDevice | BackupCodeDevice


def _device_ids(model: type[EncryptedTOTPDevice | BackupCodeDevice], user: User) -> list[int]:
    return list(model.objects.for_tenant(user.tenant).filter(user=user, confirmed=True)
                .order_by("pk").values_list("pk", flat=True))


def mfa_verify_match(*, user: User, code: str) -> MfaMatch | None:
    """The device that accepted ``code`` (consuming it), or None; see ``mfa_verify``."""
    if user.pk is None or user.tenant_id is None or not isinstance(code, str) or len(code) > 64:
        return None
    if normalize_totp_code(code) is not None:
        model: type[EncryptedTOTPDevice | BackupCodeDevice] = EncryptedTOTPDevice
        method: Method = "totp"
    elif normalize_backup_code(code) is not None:
        model, method = BackupCodeDevice, "backup_code"
    else:
        # Wrong length or not a code at all: refused before any lock or hash.
        return None
    for pk in _device_ids(model, user):
        device = verify_token(user, f"{model.model_label()}/{pk}", code)
        if device is not None:
            return MfaMatch(method=method, device=device)
    return None


def mfa_verify(*, user: User, code: str) -> Method | None:
    """Check a TOTP or backup code through ``django_otp.verify_token``: "totp", "backup_code" or None.

    A code is accepted once: concurrent submissions serialise on the device row.
    """
    match = mfa_verify_match(user=user, code=code)
    return match.method if match else None


def passkeys_of(user: User) -> Any:
    """The person's passkeys: the package's model has no tenant column, the person is the scope
    (and their tenant with them, so a passkey never outlives a move between tenants)."""
    return WebAuthnCredential.objects.filter(user=user, user__tenant_id=user.tenant_id)


def mfa_user_has_device(*, user: User) -> bool:
    """True when the person has a confirmed authenticator app or passkey (backup codes alone do not
    count)."""
    if user.pk is None or user.tenant_id is None:
        return False
    return (EncryptedTOTPDevice.objects.for_tenant(user.tenant).filter(user=user, confirmed=True).exists()
            or passkeys_of(user).filter(confirmed=True).exists())


def mfa_device_count(*, user: User) -> int:
    """How many confirmed authenticator apps and passkeys the person has."""
    if user.pk is None or user.tenant_id is None:
        return 0
    return (EncryptedTOTPDevice.objects.for_tenant(user.tenant).filter(user=user, confirmed=True).count()
            + passkeys_of(user).filter(confirmed=True).count())


def mfa_device_exists() -> RawSQL:
    """An annotation for User queries: ``mfa_user_has_device`` in the query that finds the person.

    Raw SQL because this sits on the sign-in hot path, where compiling an ``Exists`` subquery
    costs more than running it; the table and column names come from the models. An
    authenticator app of the person's tenant, or a passkey of the person (its table has no tenant;
    the person has one).
    """
    meta = EncryptedTOTPDevice._meta
    table, user_col = meta.db_table, meta.get_field("user").column
    tenant_col, confirmed_col = meta.get_field("tenant").column, meta.get_field("confirmed").column
    pmeta = WebAuthnCredential._meta
    ptable, puser_col = pmeta.db_table, pmeta.get_field("user").column
    pconfirmed_col = pmeta.get_field("confirmed").column
    users = User._meta.db_table
    # Only identifiers from the models' own metadata are interpolated: no input reaches this SQL.
    return RawSQL(  # noqa: S611  # nosec B611
        f'(EXISTS (SELECT 1 FROM "{table}" d WHERE d."{user_col}" = "{users}"."id" '  # noqa: S608  # nosec B608
        f'AND d."{tenant_col}" = "{users}"."tenant_id" AND d."{confirmed_col}") '
        f'OR EXISTS (SELECT 1 FROM "{ptable}" p WHERE p."{puser_col}" = "{users}"."id" '
        f'AND p."{pconfirmed_col}"))',
        (), output_field=BooleanField(),
    )


def mfa_failure_signal(*, request: HttpRequest, user: User) -> None:
    """Report a wrong code as a failed sign-in, so django-axes counts it toward the lockout."""
    user_login_failed.send(sender=__name__, credentials={"email": user.email}, request=request)


# --- Recent confirmation -----------------------------------------------------------------------


def mfa_recent_auth_mark(request: HttpRequest, *, user: User | None = None) -> None:
    """Remember that the person just proved it is them (password or code), for five minutes.

    The sign-in pipeline calls this after a completed sign-in, passing the user because
    ``request.user`` may still be anonymous at that moment.
    """
    who = user if user is not None else request.user
    request.session[RECENT_AUTH_SESSION_KEY] = {"uid": who.pk, "at": time.time()}


def mfa_recent_auth_ok(request: HttpRequest) -> bool:
    """True when this person confirmed their identity in this session less than 5 minutes ago."""
    data = request.session.get(RECENT_AUTH_SESSION_KEY)
    if not isinstance(data, dict) or not request.user.is_authenticated:
        return False
    if data.get("uid") != request.user.pk:
        return False
    try:
        age = time.time() - float(data.get("at", 0))
    except (TypeError, ValueError):
        return False
    return 0 <= age < RECENT_AUTH_SECONDS


def mfa_recent_auth_confirm(*, request: HttpRequest, user: User, secret: str) -> str:
    """Confirm identity with the password or a code; returns the method, else ValidationError.

    Counts one failure toward the lockout per wrong attempt, and refuses while locked out.
    """
    from axes.handlers.proxy import AxesProxyHandler

    credentials = {"email": user.email}
    if not AxesProxyHandler.is_allowed(request, credentials=credentials):
        raise ValidationError(_("Too many failed attempts. Try again later."), code="locked")
    secret = secret or ""
    method: str | None = None
    if len(secret) <= 64 and mfa_user_has_device(user=user) and (
        normalize_totp_code(secret) is not None or normalize_backup_code(secret) is not None
    ):
        method = mfa_verify(user=user, code=secret)
    if method is None and user.check_password(secret):
        method = "password"
    if method is None:
        mfa_failure_signal(request=request, user=user)
        raise ValidationError(_("That password or code is not correct."), code="incorrect")
    mfa_recent_auth_mark(request, user=user)
    return method


# --- Backup codes, removal, reset --------------------------------------------------------------


def backup_codes_regenerate(*, user: User) -> list[str]:
    """Replace the person's backup codes; the plain codes are returned once and never stored."""
    _require_tenant_user(user)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if not mfa_user_has_device(user=user):
            raise ValidationError(
                _("Add an authenticator app or a passkey before creating backup codes."),
                code="no_device")
        codes = _backup_codes_replace(user=user)
        _changed(user=user, change="backup_codes_regenerated")
    return codes


def backup_codes_after_enrolment(*, user: User) -> list[str]:
    """Called inside an enrolment's transaction: a person without unused backup codes (their first
    device, or every code used) gets a set now, returned once; otherwise ``[]``. The enrolment's
    own audit entry and e-mail cover it."""
    if BackupCode.objects.for_tenant(user.tenant).filter(device__user=user).exists():  # type: ignore[arg-type]
        return []
    return _backup_codes_replace(user=user)


def backup_codes_once_stash(*, session: SessionBase, user: User, codes: list[str]) -> None:
    """Keep the codes, encrypted, for the one page that shows them (``backup_codes_once_pop``)."""
    payload = {"uid": user.pk, "codes": codes, "exp": time.time() + BACKUP_CODES_ONCE_TTL_SECONDS}
    session[BACKUP_CODES_ONCE_SESSION_KEY] = encrypt_bytes(json.dumps(payload).encode())


def backup_codes_once_pending(*, session: SessionBase, user: User) -> bool:
    """True while a first enrolment's backup codes wait to be shown in this session."""
    return _backup_codes_once_load(session=session, user=user) is not None


def backup_codes_once_pop(*, session: SessionBase, user: User) -> list[str] | None:
    """The first enrolment's backup codes, once: the session forgets them as they are read."""
    codes = _backup_codes_once_load(session=session, user=user)
    session.pop(BACKUP_CODES_ONCE_SESSION_KEY, None)
    return codes


def _backup_codes_once_load(*, session: SessionBase, user: User) -> list[str] | None:
    blob = session.get(BACKUP_CODES_ONCE_SESSION_KEY)
    if not isinstance(blob, str):
        return None
    try:
        data = json.loads(decrypt_bytes(blob))
    except (FieldDecryptionError, ValueError):
        return None
    if (not isinstance(data, dict) or data.get("uid") != user.pk
            or time.time() >= float(data.get("exp", 0)) or not isinstance(data.get("codes"), list)):
        return None
    return [str(code) for code in data["codes"]]


def _backup_codes_replace(*, user: User) -> list[str]:
    """A fresh set of backup codes for the person (inside the caller's transaction)."""
    codes = [generate_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    device = BackupCodeDevice.objects.for_tenant(user.tenant).filter(user=user).first()
    if device is None:
        device = BackupCodeDevice(tenant=user.tenant, user=user,
                                  name=str(_("Backup codes")), confirmed=True)
    # A fresh salt: digests of the old set say nothing about the new one.
    device.salt = secrets.token_hex(16)
    device.throttle_reset(commit=False)
    device.save()
    device.codes.all().delete()
    BackupCode.objects.bulk_create([
        BackupCode(tenant=device.tenant, device=device, code_hash=device.hash_code(code))
        for code in codes
    ])
    return [format_backup_code(code) for code in codes]


LAST_DEVICE_REQUIRED = gettext_lazy(
    "Your company requires two-step sign-in, so your last authenticator app or passkey cannot be "
    "removed. Add another one first."
)


def mfa_device_remove(*, user: User, device_id: int, mfa_required: bool = False) -> None:
    """Remove one of the person's authenticator apps; with the last device go the backup codes.

    ``mfa_required``: the tenant's policy requires a second factor of this person (the caller,
    above the policies, says so); then the last device is refused (``last_device``).
    Raises ``EncryptedTOTPDevice.DoesNotExist`` for a device that is not theirs.
    """
    _require_tenant_user(user)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        device = (EncryptedTOTPDevice.objects.for_tenant(user.tenant).filter(user=user)
                  .select_for_update().get(pk=device_id))
        name = device.name
        _device_removed(user=user, mfa_required=mfa_required, remove=device.delete)
        _changed(user=user, change="totp_removed", detail=name)


def _device_removed(*, user: User, mfa_required: bool, remove: Any) -> None:
    """Remove one device (``remove()``), refusing the last one under a policy that requires MFA;
    inside the caller's transaction, the person's row locked (two tabs cannot each remove one of
    the last two devices)."""
    if mfa_required and mfa_device_count(user=user) <= 1:
        raise ValidationError(LAST_DEVICE_REQUIRED, code="last_device")
    remove()
    if not mfa_user_has_device(user=user):
        # Backup codes exist to recover a device; alone they would be a second factor nobody set up.
        BackupCodeDevice.objects.for_tenant(user.tenant).filter(user=user).delete()


def mfa_devices_reset(*, person: User) -> int:
    """Delete every MFA device of a person and e-mail them; they enrol again at the next sign-in.

    Returns how many devices were removed. Who may do this, and its audit entry, are the caller's
    (``people.services.person_mfa_reset``).
    """
    _require_tenant_user(person)
    with transaction.atomic():
        removed = 0
        for model in (EncryptedTOTPDevice, BackupCodeDevice):
            devices = model.objects.for_tenant(person.tenant).filter(user=person)
            removed += devices.count()
            devices.delete()
        passkeys = passkeys_of(person)
        removed += passkeys.count()
        passkeys.delete()  # their attestations go with them (cascade)
        mfa_reset.send(sender=__name__, user=person)
    return removed


def _changed(*, user: User, change: str, detail: str = "") -> None:
    """A person's own change: the layers above audit it and e-mail the person (one signal)."""
    mfa_changed.send(sender=__name__, user=user, change=change, detail=detail)


def mfa_enrolled_count(*, tenant: Tenant) -> int:
    """Active people of the tenant with a confirmed authenticator app or passkey (dashboard
    coverage)."""
    return (User.objects.filter(tenant=tenant, status=User.Status.ACTIVE)
            .annotate(has_mfa=mfa_device_exists()).filter(has_mfa=True).count())
