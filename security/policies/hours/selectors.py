"""Reads of the sign-in hours; none of them writes."""

from __future__ import annotations

from security.policies.base import Mode
from security.policies.hours.models import SignInHoursPolicy
from security.policies.hours.rules import HoursRules, Interval, intervals_stored, zone_for
from security.policies.support import policy_or_defaults
from tenants.models import Tenant


def hours_policy_get(*, tenant: Tenant) -> SignInHoursPolicy:
    """The tenant's sign-in hours policy, or the safe defaults (off, no hours) when none is saved yet."""
    return policy_or_defaults(SignInHoursPolicy, tenant=tenant)


def hours_policy_intervals(policy: SignInHoursPolicy) -> list[Interval]:
    return intervals_stored(policy.schedule)


def hours_rules_for(*, tenant: Tenant) -> HoursRules:
    """The tenant's sign-in hours as pure rules (one query, no writes)."""
    policy = SignInHoursPolicy.objects.filter(tenant=tenant).first()
    if policy is None or policy.mode == Mode.OFF:
        return HoursRules(mode=Mode.OFF, tz=zone_for(tenant.timezone))
    return HoursRules.build(mode=policy.mode, scope=policy.scope, channels=policy.channels,
                            timezone_name=tenant.timezone, intervals=intervals_stored(policy.schedule))
