"""Writes of the network allowlist."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.base import Mode, SignInContext
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from security.policies.network.rules import (
    NetworkRules,
    NetworkScope,
    evaluate,
    network_entries_clean,
)
from security.policies.support import choice, policy_actor_check, policy_for_update
from tenants.models import Tenant


@transaction.atomic
def network_policy_update(
    *, tenant: Tenant, actor: User, entries: list[tuple[str, str]], mode: str, scope: str,
    confirm_self_lockout: bool, actor_ip: str, now: datetime | None = None,
) -> NetworkPolicy:
    """Replace the tenant's allowlist and settings; refuses to lock out the actor unless confirmed."""
    policy_actor_check(tenant=tenant, actor=actor)
    choice(mode, Mode.values, _("mode"))
    choice(scope, NetworkScope.values, _("scope"))
    cleaned = network_entries_clean(entries, mode=mode)
    rules = NetworkRules.build(mode=mode, scope=scope, networks=(e.network for e in cleaned))
    ctx = SignInContext(ip=actor_ip, now=now or timezone.now(), role=actor.role, user_id=actor.pk)
    if mode == Mode.ENFORCE and not evaluate(ctx, rules).allowed and not confirm_self_lockout:
        raise ValidationError(
            _("Your current address %(ip)s is not in this allowlist: once saved, you would no longer "
              "be able to sign in from here. Confirm to save anyway."),
            code="self_lockout", params={"ip": actor_ip})

    policy = policy_for_update(NetworkPolicy, tenant=tenant)
    current = {e.cidr: e for e in NetworkAllowEntry.objects.filter(tenant=tenant, policy=policy)}
    wanted = {e.cidr: e for e in cleaned}
    changed = policy.mode != mode or policy.scope != scope
    # Row by row rather than delete-all/insert-all, so the audit trail shows what really changed.
    for cidr, stale in current.items():
        if cidr not in wanted:
            stale.delete()
            changed = True
    for cidr, entry in wanted.items():
        row = current.get(cidr)
        if row is None:
            NetworkAllowEntry.objects.create(tenant=tenant, policy=policy, cidr=cidr, label=entry.label)
            changed = True
        elif row.label != entry.label:
            row.label = entry.label
            row.save(update_fields=["label"])
            changed = True
    if changed:
        policy.mode, policy.scope, policy.updated_by = mode, scope, actor
        policy.save()
    return policy
