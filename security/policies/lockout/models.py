"""The lockout row: one ``LockoutPolicy`` per tenant."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.lockout.rules import (
    CEILING_DEFAULT,
    CEILING_HOURS_DEFAULT,
    CEILING_HOURS_MAX,
    CEILING_HOURS_MIN,
    CEILING_MAX,
    CEILING_MIN,
    COOLOFF_DEFAULT,
    COOLOFF_MAX,
    COOLOFF_MIN,
    FAILURE_LIMIT_DEFAULT,
    FAILURE_LIMIT_MAX,
    FAILURE_LIMIT_MIN,
)
from security.policies.models import TenantPolicy, one_per_tenant


class LockoutPolicy(TenantPolicy):
    """A tenant's lockout thresholds (one row per tenant)."""

    failure_limit = models.PositiveSmallIntegerField(
        gettext_lazy("failed attempts before lockout"), default=FAILURE_LIMIT_DEFAULT,
        validators=[MinValueValidator(FAILURE_LIMIT_MIN), MaxValueValidator(FAILURE_LIMIT_MAX)])
    cooloff_minutes = models.PositiveSmallIntegerField(
        gettext_lazy("lockout duration (minutes)"), default=COOLOFF_DEFAULT,
        validators=[MinValueValidator(COOLOFF_MIN), MaxValueValidator(COOLOFF_MAX)])
    account_ceiling = models.PositiveSmallIntegerField(
        gettext_lazy("failed attempts per account from unrecognised browsers"), default=CEILING_DEFAULT,
        validators=[MinValueValidator(CEILING_MIN), MaxValueValidator(CEILING_MAX)])
    ceiling_hours = models.PositiveSmallIntegerField(
        gettext_lazy("ceiling window (hours)"), default=CEILING_HOURS_DEFAULT,
        validators=[MinValueValidator(CEILING_HOURS_MIN), MaxValueValidator(CEILING_HOURS_MAX)])

    class Meta:
        verbose_name = gettext_lazy("lockout policy")
        verbose_name_plural = gettext_lazy("lockout policies")
        constraints = [one_per_tenant("lockout_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"lockout policy of tenant {self.tenant_id}"
