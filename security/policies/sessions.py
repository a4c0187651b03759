"""Session policy: how long a signed-in session may sit idle, and how long it may live at all.

``session_state`` is pure and cheap: it runs on every request of an open session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.base import Decision
from tenants.models import TenantOwned

IDLE_TIMEOUT = "session_idle_timeout"
LIFETIME_ENDED = "session_lifetime_ended"

IDLE_MIN, IDLE_MAX, IDLE_DEFAULT = 5, 1440, 60
LIFETIME_MIN, LIFETIME_MAX, LIFETIME_DEFAULT = 1, 720, 12


class SessionPolicy(TenantOwned):
    """A tenant's session limits (one row per tenant)."""

    idle_timeout_minutes = models.PositiveSmallIntegerField(
        gettext_lazy("idle timeout (minutes)"), default=IDLE_DEFAULT,
        validators=[MinValueValidator(IDLE_MIN), MaxValueValidator(IDLE_MAX)])
    absolute_lifetime_hours = models.PositiveSmallIntegerField(
        gettext_lazy("maximum session length (hours)"), default=LIFETIME_DEFAULT,
        validators=[MinValueValidator(LIFETIME_MIN), MaxValueValidator(LIFETIME_MAX)])
    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=gettext_lazy("updated by"))

    class Meta:
        verbose_name = gettext_lazy("session policy")
        verbose_name_plural = gettext_lazy("session policies")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="session_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"session policy of tenant {self.tenant_id}"


@dataclass(frozen=True, slots=True)
class SessionRules:
    idle_timeout_minutes: int = IDLE_DEFAULT
    absolute_lifetime_hours: int = LIFETIME_DEFAULT

    @classmethod
    def from_policy(cls, policy: SessionPolicy) -> SessionRules:
        return cls(idle_timeout_minutes=policy.idle_timeout_minutes,
                   absolute_lifetime_hours=policy.absolute_lifetime_hours)

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.idle_timeout_minutes)

    @property
    def absolute_lifetime(self) -> timedelta:
        return timedelta(hours=self.absolute_lifetime_hours)


def session_state(started_at: datetime, last_seen_at: datetime, now: datetime,
                  rules: SessionRules) -> Decision:
    """Allow while the session is within both limits; the lifetime wins when both have passed."""
    if now - started_at >= rules.absolute_lifetime:
        return Decision.deny(LIFETIME_ENDED)
    if now - last_seen_at >= rules.idle_timeout:
        return Decision.deny(IDLE_TIMEOUT)
    return Decision.allow()
