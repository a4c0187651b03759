"""MFA policy: who must use a second factor, and how long they have to enrol.

Design: one ``MfaPolicy`` per tenant. Requirement off / optional / required for admin roles /
required for everyone. When an admin *raises* the requirement, ``grace_started_at`` is set and
the people newly concerned may still sign in without a device for ``grace_days`` (a banner counts
down); after that the pipeline sends them to enrolment before anything else.

A person who has a device is always challenged for it, whatever the requirement: turning the
policy down must not silently strip the second factor from someone who set one up.

``mfa_requirement`` is pure; the devices themselves live in ``accounts.mfa`` and arrive here as
``has_device``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.base import Decision, Verdict
from tenants.models import TenantOwned
from tenants.roles import ADMIN_ROLES

CHALLENGE = "mfa_challenge"
ENROLLMENT_REQUIRED = "mfa_enrollment_required"
# Allowed, but the person has no device and must enrol before the grace period ends.
IN_GRACE = "mfa_enrollment_grace"

GRACE_MAX_DAYS = 90


class MfaRequirement(models.TextChoices):
    OFF = "off", gettext_lazy("Off")
    OPTIONAL = "optional", gettext_lazy("Optional")
    REQUIRED_ADMINS = "required_admins", gettext_lazy("Required for owners and administrators")
    REQUIRED_ALL = "required_all", gettext_lazy("Required for everyone")


# Strictness order: moving up this list is "raising" the requirement and starts a grace period.
STRICTNESS = [MfaRequirement.OFF, MfaRequirement.OPTIONAL, MfaRequirement.REQUIRED_ADMINS,
              MfaRequirement.REQUIRED_ALL]


class MfaPolicy(TenantOwned):
    """A tenant's MFA requirement (one row per tenant)."""

    requirement = models.CharField(gettext_lazy("requirement"), max_length=16,
                                   choices=MfaRequirement.choices, default=MfaRequirement.OPTIONAL)
    grace_days = models.PositiveSmallIntegerField(gettext_lazy("grace period (days)"), default=7,
                                                  validators=[MaxValueValidator(GRACE_MAX_DAYS)])
    grace_started_at = models.DateTimeField(gettext_lazy("grace period started"), null=True, blank=True)
    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=gettext_lazy("updated by"))

    class Meta:
        verbose_name = gettext_lazy("MFA policy")
        verbose_name_plural = gettext_lazy("MFA policies")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="mfa_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"MFA policy of tenant {self.tenant_id}"


@dataclass(frozen=True, slots=True)
class MfaRules:
    requirement: str = MfaRequirement.OPTIONAL
    grace_days: int = 7
    grace_started_at: datetime | None = None

    @classmethod
    def from_policy(cls, policy: MfaPolicy) -> MfaRules:
        return cls(requirement=policy.requirement, grace_days=policy.grace_days,
                   grace_started_at=policy.grace_started_at)

    @property
    def grace_ends_at(self) -> datetime | None:
        if self.grace_started_at is None:
            return None
        return self.grace_started_at + timedelta(days=self.grace_days)


def mfa_required_for(role: str, rules: MfaRules) -> bool:
    if rules.requirement == MfaRequirement.REQUIRED_ALL:
        return True
    return rules.requirement == MfaRequirement.REQUIRED_ADMINS and role in ADMIN_ROLES


def is_raise(old: str, new: str) -> bool:
    """True when ``new`` requires MFA of people ``old`` did not."""
    return STRICTNESS.index(MfaRequirement(new)) > STRICTNESS.index(MfaRequirement(old)) and new in (
        MfaRequirement.REQUIRED_ADMINS, MfaRequirement.REQUIRED_ALL)


def grace_days_left(role: str, has_device: bool, now: datetime, rules: MfaRules) -> int | None:
    """Whole days (rounded up) left to enrol, for the banner; None when no banner applies."""
    if has_device or not mfa_required_for(role, rules):
        return None
    ends = rules.grace_ends_at
    if ends is None or now >= ends:
        return 0
    return math.ceil((ends - now).total_seconds() / 86400)


def mfa_requirement(role: str, has_device: bool, now: datetime, rules: MfaRules) -> Decision:
    """The MFA step: challenge a device, force enrolment after the grace period, or allow."""
    if has_device:
        return Decision.challenge(CHALLENGE)
    if not mfa_required_for(role, rules):
        return Decision.allow()
    if grace_days_left(role, has_device, now, rules):
        return Decision(Verdict.ALLOW, IN_GRACE)
    return Decision.challenge(ENROLLMENT_REQUIRED)
