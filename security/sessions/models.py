"""Sessions index: which session keys belong to whom, so they can be listed, timed out and ended.

The key itself lives in Django's session store; this row carries what a person and an admin
need to recognise a session (device, browser, OS, IP, country, when) and what the session
policy needs (started, last seen).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from activity.capture.types import DeviceType
from tenants.models import TenantOwned


class UserSession(TenantOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=64, unique=True)
    ip = models.GenericIPAddressField(_("IP address"))
    country = models.CharField(_("country"), max_length=2, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    browser = models.CharField(_("browser"), max_length=80, blank=True)
    os = models.CharField(_("operating system"), max_length=80, blank=True)
    device_type = models.CharField(_("device"), max_length=16, blank=True, choices=DeviceType.choices)
    mfa_method = models.CharField(_("second factor"), max_length=16, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["tenant", "user", "-last_seen_at"])]

    def __str__(self) -> str:
        return f"session of {self.user_id}"
