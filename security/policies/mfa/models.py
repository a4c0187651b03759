"""The MFA policy row: one ``MfaPolicy`` per tenant."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.mfa.rules import GRACE_MAX_DAYS, MfaRequirement
from security.policies.models import TenantPolicy, one_per_tenant


class MfaPolicy(TenantPolicy):
    """A tenant's MFA requirement (one row per tenant)."""

    requirement = models.CharField(gettext_lazy("requirement"), max_length=16,
                                   choices=MfaRequirement.choices, default=MfaRequirement.OPTIONAL)
    grace_days = models.PositiveSmallIntegerField(gettext_lazy("grace period (days)"), default=7,
                                                  validators=[MaxValueValidator(GRACE_MAX_DAYS)])
    grace_started_at = models.DateTimeField(gettext_lazy("grace period started"), null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("two-step sign-in policy")
        verbose_name_plural = gettext_lazy("two-step sign-in policies")
        constraints = [one_per_tenant("mfa_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"MFA policy of tenant {self.tenant_id}"
