"""Reading client-specific passwords (never the digests)."""

from __future__ import annotations

from django.db.models import F, QuerySet

from accounts.mailclients.models import MailClientPassword
from accounts.models import User


def mail_client_password_list(*, user: User) -> QuerySet[MailClientPassword]:
    """``user``'s passwords, active ones first, newest first."""
    if user.tenant is None:
        return user.mail_client_passwords.none()
    return (MailClientPassword.objects.for_tenant(user.tenant).filter(user=user)
            .defer("digest").order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id"))


def mail_client_password_active_exists(*, user: User) -> bool:
    if user.tenant is None:
        return False
    return MailClientPassword.objects.for_tenant(user.tenant).filter(
        user=user, revoked_at__isnull=True).exists()
