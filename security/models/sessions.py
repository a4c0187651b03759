"""Sessions index: which session keys belong to whom, so they can be listed and ended."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantOwned


class UserSession(TenantOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=64, unique=True)
    ip = models.GenericIPAddressField(_("IP address"))
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["tenant", "user", "-last_seen_at"])]

    def __str__(self) -> str:
        return f"session of {self.user_id}"
