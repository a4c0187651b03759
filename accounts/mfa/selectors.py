"""Read-only MFA queries for pages: a person's devices and how many backup codes remain."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.mfa.models import BackupCode, EncryptedTOTPDevice
from accounts.models import User
from tenants.models import Tenant


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
