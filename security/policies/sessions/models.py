"""The session policy row: one ``SessionPolicy`` per tenant."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.models import TenantPolicy, one_per_tenant
from security.policies.sessions.rules import (
    IDLE_DEFAULT,
    IDLE_MAX,
    IDLE_MIN,
    LIFETIME_DEFAULT,
    LIFETIME_MAX,
    LIFETIME_MIN,
)


class SessionPolicy(TenantPolicy):
    """A tenant's session limits (one row per tenant)."""

    idle_timeout_minutes = models.PositiveSmallIntegerField(
        gettext_lazy("idle timeout (minutes)"), default=IDLE_DEFAULT,
        validators=[MinValueValidator(IDLE_MIN), MaxValueValidator(IDLE_MAX)])
    absolute_lifetime_hours = models.PositiveSmallIntegerField(
        gettext_lazy("maximum session length (hours)"), default=LIFETIME_DEFAULT,
        validators=[MinValueValidator(LIFETIME_MIN), MaxValueValidator(LIFETIME_MAX)])

    class Meta:
        verbose_name = gettext_lazy("session policy")
        verbose_name_plural = gettext_lazy("session policies")
        constraints = [one_per_tenant("session_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"session policy of tenant {self.tenant_id}"
