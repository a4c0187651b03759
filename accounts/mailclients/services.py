"""Writing client-specific passwords: create (the plaintext is returned once), revoke, record use.

Each service checks what it needs itself: a person manages only their own passwords
(``Cap.SELF_SERVICE``), and ``mail_client_passwords_revoke_all`` is for the flows that secure an
account (offboarding, a password reset, "This wasn't me"), which call it with their own actor.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.mailclients.models import (
    MAX_ACTIVE_PER_PERSON,
    NAME_MAX_LENGTH,
    PASSWORD_ALPHABET,
    PASSWORD_GROUP,
    PASSWORD_LENGTH,
    MailClientPassword,
)
from accounts.models import User
from tenants.models import Tenant
from tenants.roles import Cap


def _tenant(user: User) -> Tenant:
    if user.tenant is None:  # platform operators have no mailbox here
        raise PermissionDenied
    return user.tenant


def password_digest(password: str) -> str:
    """The stored form: hex SHA-256 of the UTF-8 bytes (what Dovecot's ``%{sha256:password}`` gives)."""
    return hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()


def password_generate() -> str:
    chars = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
    return "-".join(chars[i:i + PASSWORD_GROUP] for i in range(0, PASSWORD_LENGTH, PASSWORD_GROUP))


def _clean_name(name: str) -> str:
    # Control and format characters (bidi overrides) would make the name lie on the page.
    visible = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch
                      for ch in unicodedata.normalize("NFC", name or ""))
    cleaned = " ".join(visible.split())
    if not cleaned:
        raise ValidationError(_("Name the mail client, for example “Outlook on my laptop”."),
                              code="name_required")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise ValidationError(_("The name can have at most %(n)d characters.") % {"n": NAME_MAX_LENGTH},
                              code="name_too_long")
    return cleaned


def mail_client_password_create(*, user: User, name: str) -> tuple[MailClientPassword, str]:
    """Create a password for the mail client ``name`` of ``user``; returns it and its plaintext (shown once)."""
    if not user.can(Cap.SELF_SERVICE) or not user.is_active:
        raise PermissionDenied
    cleaned = _clean_name(name)
    with transaction.atomic():
        # Serialise one person's creations so the bound and the name check hold under races.
        User.objects.select_for_update().filter(pk=user.pk).first()
        active = MailClientPassword.objects.for_tenant(_tenant(user)).filter(
            user=user, revoked_at__isnull=True)
        if active.count() >= MAX_ACTIVE_PER_PERSON:
            raise ValidationError(
                _("You have %(n)d client-specific passwords; revoke one you no longer use first.")
                % {"n": MAX_ACTIVE_PER_PERSON}, code="too_many")
        if active.filter(name__iexact=cleaned).exists():
            raise ValidationError(_("A mail client with this name already has a password."),
                                  code="name_taken")
        plaintext = password_generate()
        row = MailClientPassword.objects.create(tenant=_tenant(user), user=user, name=cleaned,
                                                digest=password_digest(plaintext))
    return row, plaintext


def mail_client_password_revoke(*, user: User, password_id: int) -> MailClientPassword:
    """Revoke one of ``user``'s own passwords (another person's id is DoesNotExist); idempotent."""
    if not user.can(Cap.SELF_SERVICE):
        raise PermissionDenied
    with transaction.atomic():
        row = (MailClientPassword.objects.for_tenant(_tenant(user)).select_for_update()
               .get(pk=password_id, user=user))
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
    return row


def mail_client_passwords_revoke_all(*, user: User, actor: User | None) -> int:
    """Revoke every active password of ``user`` (offboarding, reset, "This wasn't me"); returns how many.

    ``actor`` is the person themselves or an admin of their tenant holding ``PEOPLE_SUSPEND``.
    """
    if actor is not None and actor.pk != user.pk and not (
            actor.tenant_id == user.tenant_id and actor.can(Cap.PEOPLE_SUSPEND)):
        raise PermissionDenied
    return (MailClientPassword.objects.for_tenant(_tenant(user))
            .filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def mail_client_password_use(*, user: User, password_id: int, ip: str, at: datetime | None = None) -> bool:
    """Note that the mail server accepted ``user``'s password ``password_id`` from ``ip`` (one UPDATE)."""
    return bool(MailClientPassword.objects.for_tenant(_tenant(user))
                .filter(pk=password_id, user=user, revoked_at__isnull=True)
                .update(last_used_at=at or timezone.now(), last_used_ip=ip or None))
