"""Reads of the lockout policy; none of them writes."""

from __future__ import annotations

from security.policies.lockout.models import LockoutPolicy
from security.policies.lockout.rules import DEFAULT_RULES, LockoutRules
from security.policies.support import policy_or_defaults, policy_saved
from tenants.models import Tenant


def lockout_policy_get(*, tenant: Tenant) -> LockoutPolicy:
    """The tenant's lockout policy, or the defaults (5 failures, 15 minutes; 30 per
    account in 12 hours) when none is saved yet."""
    return policy_or_defaults(LockoutPolicy, tenant=tenant)


def lockout_rules_for(*, tenant: Tenant | None) -> LockoutRules:
    policy = policy_saved(LockoutPolicy, tenant=tenant) if tenant is not None else None
    return LockoutRules.from_policy(policy) if policy is not None else DEFAULT_RULES


def lockout_rules_for_domain(*, domain: str) -> LockoutRules:
    """The rules of the tenant owning this mail domain (one query, no writes), else the defaults."""
    if not domain:
        return DEFAULT_RULES
    row = (LockoutPolicy.objects.filter(tenant__maildomain__domain=domain)
           .values_list("failure_limit", "cooloff_minutes", "account_ceiling", "ceiling_hours").first())
    if row is None:
        return DEFAULT_RULES
    return LockoutRules(failure_limit=row[0], cooloff_minutes=row[1], account_ceiling=row[2],
                        ceiling_hours=row[3])
