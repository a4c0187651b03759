"""Device cookies: the browsers a person signed in from, trusted past the account's ceiling.

One row per browser that completed a sign-in (OWASP "Slow Down Online Guessing Attacks with
Device Cookies"). The cookie carries the person's id and a random nonce, signed; the row keeps
only the nonce's SHA-256, so a copy of the table cannot be turned into cookies. Deleting a
person's rows revokes every one of their cookies at once (compromise, offboarding, reset).
A cookie's own failures count here (``failures`` since ``failures_since``), so a stolen cookie
is locked out after a few wrong passwords like a guessing botnet is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantOwned


class DeviceCookie(TenantOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("person"))
    token_hash = models.CharField(max_length=64)  # SHA-256 (hex) of the cookie's nonce
    created_at = models.DateTimeField(_("first signed in"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last signed in"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    failures = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    failures_since = models.DateTimeField(null=True, blank=True)
    browser = models.CharField(_("browser"), max_length=80, blank=True)
    os = models.CharField(_("operating system"), max_length=80, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("device cookie")
        verbose_name_plural = _("device cookies")
        ordering = ["-last_used_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "token_hash"], name="device_cookie_token_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "user", "-last_used_at"], name="device_cookie_user")]

    def __str__(self) -> str:
        return f"device cookie {self.pk} of {self.user_id}"


class CeilingLift(TenantOwned):
    """When the account's ceiling was last lifted by an unlock: failures before it no longer count.

    The ceiling counts the record, which is never edited; an unlock moves this mark instead.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("person"))
    lifted_at = models.DateTimeField(_("lifted"), default=timezone.now)

    class Meta:
        verbose_name = _("account ceiling lift")
        verbose_name_plural = _("account ceiling lifts")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="ceiling_lift_one_per_person")]

    def __str__(self) -> str:
        return f"ceiling lifted for {self.user_id} at {self.lifted_at:%Y-%m-%d %H:%M}"
