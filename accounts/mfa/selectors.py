"""Read-only MFA queries for pages: a person's devices (authenticator apps, passkeys) and how many
backup codes remain."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from django.apps import apps
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django_otp_webauthn.models import WebAuthnCredential

from accounts.mfa.models import BackupCode, EncryptedTOTPDevice
from accounts.models import User
from tenants.models import Tenant

# The method codes ``mfa_methods_by_user`` returns, in the order a page shows them.
METHOD_TOTP = "totp"
METHOD_PASSKEY = "passkey"
METHOD_BACKUP_CODES = "backup_codes"
METHODS = (METHOD_TOTP, METHOD_PASSKEY, METHOD_BACKUP_CODES)


def _tenant(user: User) -> Tenant:
    # Only company accounts have MFA devices; an operator's queries match nothing.
    return user.tenant  # type: ignore[return-value]


def mfa_totp_device_list(*, user: User) -> QuerySet[EncryptedTOTPDevice]:
    """The person's authenticator apps, oldest first."""
    return (EncryptedTOTPDevice.objects.for_tenant(_tenant(user)).filter(user=user, confirmed=True)
            .order_by("created_at", "pk"))


def mfa_backup_codes_remaining(*, user: User) -> int:
    """How many unused backup codes the person has left."""
    return BackupCode.objects.for_tenant(_tenant(user)).filter(device__user=user).count()


def passkey_model() -> type[Model] | None:
    """django-otp-webauthn's credential model when the app is installed, else None."""
    if not apps.is_installed("django_otp_webauthn"):
        return None
    try:
        utils = importlib.import_module("django_otp_webauthn.utils")
        model: type[Model] = utils.get_credential_model()
    except (ImportError, AttributeError, LookupError):
        return None
    return model


def _passkeys(tenant: Tenant) -> QuerySet[Model] | None:
    model = passkey_model()
    if model is None:
        return None
    fields = {field.name for field in model._meta.get_fields()}
    # The package's own model carries no tenant: its people's do.
    rows = model._default_manager.filter(**{"tenant" if "tenant" in fields else "user__tenant": tenant})
    if "confirmed" in fields:
        rows = rows.filter(confirmed=True)
    return rows


def mfa_methods_by_user(*, tenant: Tenant, user_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each person's two-step methods (``METHODS`` codes, in that order) for a page of people.

    Only confirmed authenticator apps and passkeys count, and backup codes while some remain;
    a person without any is absent. One query per kind of device, whatever the page's size.
    """
    ids = list(user_ids)
    found: dict[int, set[str]] = {}
    if not ids:
        return {}
    for user_id in (EncryptedTOTPDevice.objects.for_tenant(tenant)
                    .filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True)):
        found.setdefault(user_id, set()).add(METHOD_TOTP)
    passkeys = _passkeys(tenant)
    if passkeys is not None:
        for user_id in passkeys.filter(user_id__in=ids).values_list("user_id", flat=True):
            found.setdefault(user_id, set()).add(METHOD_PASSKEY)
    for user_id in (BackupCode.objects.for_tenant(tenant).filter(device__user_id__in=ids)
                    .values_list("device__user_id", flat=True).distinct()):
        found.setdefault(user_id, set()).add(METHOD_BACKUP_CODES)
    return {user_id: [m for m in METHODS if m in methods] for user_id, methods in found.items()}


def mfa_second_factor_exists(*, tenant: Tenant) -> Q:
    """A filter for User querysets: the person has a second factor that signs in (a confirmed
    authenticator app or passkey; backup codes alone do not count, as ``mfa_user_has_device``)."""
    condition = Q(Exists(EncryptedTOTPDevice.objects.for_tenant(tenant)
                         .filter(user=OuterRef("pk"), confirmed=True)))
    passkeys = _passkeys(tenant)
    if passkeys is not None:
        condition |= Q(Exists(passkeys.filter(user=OuterRef("pk"))))
    return condition


def mfa_passkey_list(*, user: User) -> QuerySet[WebAuthnCredential]:
    """The person's passkeys, oldest first (scoped by the person and their tenant)."""
    if user.tenant_id is None:
        return WebAuthnCredential.objects.none()
    return (WebAuthnCredential.objects.filter(user=user, user__tenant_id=user.tenant_id, confirmed=True)
            .order_by("created_at", "pk"))


def mfa_has_passkey(*, user: User) -> bool:
    """True when the person has a passkey to offer at the sign-in's second step."""
    return mfa_passkey_list(user=user).exists()
