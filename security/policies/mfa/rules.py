"""MFA rules: who must use a second factor, and how long they have to enrol.

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
from typing import Protocol

from django.db import models
from django.utils.translation import gettext_lazy

from activity.models import Reason
from security.policies.base import Decision
from tenants.roles import ADMIN_ROLES

GRACE_MAX_DAYS = 90


class MfaRequirement(models.TextChoices):
    OFF = "off", gettext_lazy("Off")
    OPTIONAL = "optional", gettext_lazy("Optional")
    REQUIRED_ADMINS = "required_admins", gettext_lazy("Required for owners and administrators")
    REQUIRED_ALL = "required_all", gettext_lazy("Required for everyone")


# Strictness order: moving up this list is "raising" the requirement and starts a grace period.
STRICTNESS = [MfaRequirement.OFF, MfaRequirement.OPTIONAL, MfaRequirement.REQUIRED_ADMINS,
              MfaRequirement.REQUIRED_ALL]


class MfaSettings(Protocol):
    """What the rules read from an ``MfaPolicy`` row (the model imports this module)."""

    requirement: str
    grace_days: int
    grace_started_at: datetime | None


@dataclass(frozen=True, slots=True)
class MfaRules:
    requirement: str = MfaRequirement.OPTIONAL
    grace_days: int = 7
    grace_started_at: datetime | None = None

    @classmethod
    def from_policy(cls, policy: MfaSettings) -> MfaRules:
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
    """The MFA step: challenge a device, force enrolment after the grace period, or allow
    (``grace_days`` set while a person who must enrol is still in the grace period)."""
    if has_device:
        return Decision.challenge(Reason.MFA_CHALLENGE)
    if not mfa_required_for(role, rules):
        return Decision.allow()
    days = grace_days_left(role, has_device, now, rules)
    if days:
        return Decision.allow_in_grace(days)
    return Decision.challenge(Reason.MFA_ENROLLMENT_REQUIRED)
