"""Client-specific passwords (客户端专用密码): one generated password per mail client.

Design: a mail client (Outlook, Foxmail, a phone) signs in over IMAP, POP3 or SMTP submission
with a password the person generated for it on "My security", never with the account password.
The password is generated (``PASSWORD_LENGTH`` characters of a 31-letter alphabet, ~119 bits,
in groups of four joined by dashes that are part of it, so a copy works as shown), shown once, and only its SHA-256 is stored. A fast, unsalted digest is enough for a random
120-bit secret (as for API tokens: there is no dictionary to search), and it is what lets the
mail server check it itself: Dovecot's SQL passdb looks the row up by the person's address and
``%{sha256:password}`` and verifies the returned ``{SHA256.HEX}`` hash with its own scheme,
without the plaintext ever reaching the database (see security/mailauth and docker/dovecot/).

Revoking sets ``revoked_at``; the passdb view (migration 0006) hides revoked rows, so a revoked
password stops working on the next sign-in. Imported from ``accounts.models`` so Django
registers the model under the ``accounts`` app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantOwned

__all__ = ["MailClientPassword"]

# No 0/o, 1/l/i: read off a screen and typed into a phone.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105  # an alphabet, not a password
PASSWORD_LENGTH = 24
PASSWORD_GROUP = 4
NAME_MAX_LENGTH = 64
# Enough for every client a person uses; a bound keeps the page and the passdb small.
MAX_ACTIVE_PER_PERSON = 20


class MailClientPassword(TenantOwned):
    """One mail client's password of one person; only its SHA-256 is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="mail_client_passwords", verbose_name=_("person"))
    name = models.CharField(_("mail client"), max_length=NAME_MAX_LENGTH)
    # Lower-case hex SHA-256 of the password's UTF-8 (64 characters), dashes included.
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True,
                                                unpack_ipv4=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("client-specific password")
        verbose_name_plural = _("client-specific passwords")
        indexes = [
            models.Index(fields=["tenant", "user", "digest"], name="mailclient_tenant_user_digest"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "digest"], name="mailclient_digest_unique"),
            models.CheckConstraint(condition=models.Q(digest__regex=r"^[0-9a-f]{64}$"),
                                   name="mailclient_digest_hex"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
