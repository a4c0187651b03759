"""Reads of the network allowlist; none of them writes."""

from __future__ import annotations

from security.policies.base import Mode
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from security.policies.network.rules import NetworkRules, NetworkScope, networks_from
from security.policies.support import policy_or_defaults
from tenants.models import Tenant


def network_policy_get(*, tenant: Tenant) -> NetworkPolicy:
    """The tenant's network policy, or the safe defaults (off, everyone) when none is saved yet."""
    return policy_or_defaults(NetworkPolicy, tenant=tenant)


def network_entries_list(*, tenant: Tenant, policy: NetworkPolicy) -> list[NetworkAllowEntry]:
    if policy.pk is None:
        return []  # the defaults: no entries yet
    return list(NetworkAllowEntry.objects.filter(tenant=tenant, policy=policy).order_by("id"))


def network_rules_for(*, tenant: Tenant) -> NetworkRules:
    """The tenant's allowlist as pure rules for ``evaluate`` (two queries at most, no writes)."""
    policy = NetworkPolicy.objects.filter(tenant=tenant).first()
    if policy is None or policy.mode == Mode.OFF:
        return NetworkRules(mode=Mode.OFF, scope=policy.scope if policy else NetworkScope.EVERYONE)
    cidrs = NetworkAllowEntry.objects.filter(tenant=tenant, policy=policy).values_list("cidr", flat=True)
    return NetworkRules.build(mode=policy.mode, scope=policy.scope, channels=policy.channels,
                              networks=networks_from(cidrs))
