"""Lockout policy: how many failed sign-ins lock an account, and for how long.

Design: django-axes does the counting (on the normalised address and the client IP, see
``security.lockout``); this module holds the tenant's numbers. A lockout always ends by itself
after the cool-off: axes' permanent lockout is never reachable (``cooloff_minutes`` ≥ 1), so an
attacker cannot lock a person out for good by guessing wrong on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy

from tenants.models import TenantOwned

FAILURE_LIMIT_MIN, FAILURE_LIMIT_MAX, FAILURE_LIMIT_DEFAULT = 3, 50, 5
COOLOFF_MIN, COOLOFF_MAX, COOLOFF_DEFAULT = 1, 1440, 15


class LockoutPolicy(TenantOwned):
    """A tenant's lockout thresholds (one row per tenant)."""

    failure_limit = models.PositiveSmallIntegerField(
        gettext_lazy("failed attempts before lockout"), default=FAILURE_LIMIT_DEFAULT,
        validators=[MinValueValidator(FAILURE_LIMIT_MIN), MaxValueValidator(FAILURE_LIMIT_MAX)])
    cooloff_minutes = models.PositiveSmallIntegerField(
        gettext_lazy("lockout duration (minutes)"), default=COOLOFF_DEFAULT,
        validators=[MinValueValidator(COOLOFF_MIN), MaxValueValidator(COOLOFF_MAX)])
    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=gettext_lazy("updated by"))

    class Meta:
        verbose_name = gettext_lazy("lockout policy")
        verbose_name_plural = gettext_lazy("lockout policies")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="lockout_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"lockout policy of tenant {self.tenant_id}"


@dataclass(frozen=True, slots=True)
class LockoutRules:
    failure_limit: int = FAILURE_LIMIT_DEFAULT
    cooloff_minutes: int = COOLOFF_DEFAULT

    @classmethod
    def from_policy(cls, policy: LockoutPolicy) -> LockoutRules:
        return cls(failure_limit=policy.failure_limit, cooloff_minutes=policy.cooloff_minutes)

    @property
    def cooloff(self) -> timedelta:
        # Clamped again here: a row edited behind the validators must not become permanent.
        return timedelta(minutes=min(max(self.cooloff_minutes, COOLOFF_MIN), COOLOFF_MAX))

    @property
    def limit(self) -> int:
        return min(max(self.failure_limit, FAILURE_LIMIT_MIN), FAILURE_LIMIT_MAX)


DEFAULT_RULES = LockoutRules()
