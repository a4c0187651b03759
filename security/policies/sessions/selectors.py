"""Reads of the session policy; none of them writes."""

from __future__ import annotations

from security.policies.sessions.models import SessionPolicy
from security.policies.sessions.rules import SessionRules
from security.policies.support import policy_or_defaults, policy_saved
from tenants.models import Tenant


def session_policy_get(*, tenant: Tenant) -> SessionPolicy:
    """The tenant's session policy, or the defaults (60 minutes idle, 12 hours) when none is saved yet."""
    return policy_or_defaults(SessionPolicy, tenant=tenant)


def session_rules_for(*, tenant: Tenant | None) -> SessionRules:
    policy = policy_saved(SessionPolicy, tenant=tenant) if tenant is not None else None
    return SessionRules.from_policy(policy) if policy is not None else SessionRules()
