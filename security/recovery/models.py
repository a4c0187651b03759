"""Password recovery: reset links and the request throttle.

A ``PasswordReset`` is one e-mailed link. The link carries the row's id and a random token; the
row keeps only the token's SHA-256, so a copy of the table cannot reset anybody's password. A link
works once, until ``expires_at``, and only while it is the person's newest one (a newer request,
the person's use of any link, offboarding and an administrator's action set ``revoked_at``).

``PasswordResetThrottle`` counts requests per address and per IP for the rate limits. It is a
platform-wide table like django-axes' attempts (an address on no tenant's domain, an IP, belong
to no tenant), keeps no address in clear (a keyed digest) and is emptied of rows older than a day
by the retention sweep.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantOwned


class PasswordReset(TenantOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("person"))
    token_hash = models.CharField(max_length=64)  # SHA-256 (hex) of the link's token
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+", verbose_name=_("sent by"))
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("password reset link")
        verbose_name_plural = _("password reset links")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "user", "-created_at"], name="password_reset_user"),
            models.Index(fields=["tenant", "expires_at"], name="password_reset_expiry"),
        ]

    def __str__(self) -> str:
        return f"password reset {self.pk} of {self.user_id}"


class PasswordResetThrottle(models.Model):
    """One row per request and limit: ``key`` is a keyed digest of ``address:…`` or ``ip:…``."""

    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")
        indexes = [models.Index(fields=["key", "at"], name="password_reset_throttle_key")]

    def __str__(self) -> str:
        return f"password reset request at {self.at:%Y-%m-%d %H:%M}"
