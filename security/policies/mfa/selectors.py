"""Reads of the MFA policy; none of them writes."""

from __future__ import annotations

from security.policies.mfa.models import MfaPolicy
from security.policies.mfa.rules import MfaRules
from security.policies.support import policy_or_defaults, policy_saved
from tenants.models import Tenant


def mfa_policy_get(*, tenant: Tenant) -> MfaPolicy:
    """The tenant's MFA policy, or the defaults (optional, 7 days of grace) when none is saved yet."""
    return policy_or_defaults(MfaPolicy, tenant=tenant)


def mfa_rules_for(*, tenant: Tenant | None) -> MfaRules:
    policy = policy_saved(MfaPolicy, tenant=tenant) if tenant is not None else None
    return MfaRules.from_policy(policy) if policy is not None else MfaRules()
