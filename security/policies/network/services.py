"""Writes of the network allowlist.

One save is one audit entry on the policy, in the save's transaction: the mode, scope and
channels that changed, and the whole list before and after under ``allowlist`` (one ``cidr label`` a line; not
``entries``, the reverse relation the audit page hides). An unchanged save writes nothing. The
entries are not registered with auditlog: a row per entry would tell one decision as many.
"""

from __future__ import annotations

from datetime import datetime

from auditlog.context import disable_auditlog
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from activity.services import audit_entry_record
from security.policies.base import Channels, Mode, SignInContext
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from security.policies.network.rules import (
    NetworkRules,
    NetworkScope,
    entries_text,
    evaluate,
    network_entries_clean,
)
from security.policies.support import choice, policy_actor_check, policy_for_update
from tenants.models import Tenant


@transaction.atomic
def network_policy_update(
    *, tenant: Tenant, actor: User, entries: list[tuple[str, str]], mode: str, scope: str,
    confirm_self_lockout: bool, actor_ip: str, now: datetime | None = None,
    channels: str = Channels.BOTH,
) -> NetworkPolicy:
    """Replace the tenant's allowlist and settings; refuses to lock out the actor unless confirmed."""
    policy_actor_check(tenant=tenant, actor=actor)
    choice(mode, Mode.values, _("mode"))
    choice(scope, NetworkScope.values, _("scope"))
    choice(channels, Channels.values, _("sign-ins covered"))
    cleaned = network_entries_clean(entries, mode=mode)
    rules = NetworkRules.build(mode=mode, scope=scope, channels=channels,
                               networks=(e.network for e in cleaned))
    ctx = SignInContext(ip=actor_ip, now=now or timezone.now(), role=actor.role, user_id=actor.pk)
    if mode == Mode.ENFORCE and not evaluate(ctx, rules).allowed and not confirm_self_lockout:
        raise ValidationError(
            _("Your current address %(ip)s is not in this allowlist: once saved, you would no longer "
              "be able to sign in from here. Confirm to save anyway."),
            code="self_lockout", params={"ip": actor_ip})

    policy = policy_for_update(NetworkPolicy, tenant=tenant)
    current = list(NetworkAllowEntry.objects.filter(tenant=tenant, policy=policy).order_by("id"))
    wanted = {e.cidr: e for e in cleaned}
    changes: dict[str, list[str]] = {
        name: [getattr(policy, name), value]
        for name, value in (("mode", mode), ("scope", scope), ("channels", channels))
        if getattr(policy, name) != value}
    before = entries_text(current)
    # Row by row, so unchanged entries keep their rows; the one entry below tells the change.
    with disable_auditlog():
        kept: list[NetworkAllowEntry] = []
        for row in current:
            entry = wanted.get(row.cidr)
            if entry is None:
                row.delete()
                continue
            if row.label != entry.label:
                row.label = entry.label
                row.save(update_fields=["label"])
            kept.append(row)
        known = {row.cidr for row in current}
        added = [NetworkAllowEntry.objects.create(tenant=tenant, policy=policy, cidr=cidr, label=entry.label)
                 for cidr, entry in wanted.items() if cidr not in known]
        after = entries_text([*kept, *added])
        if after != before:
            changes["allowlist"] = [before, after]
        if changes:
            policy.mode, policy.scope, policy.channels, policy.updated_by = mode, scope, channels, actor
            policy.save()
    if changes:
        audit_entry_record(obj=policy, actor=actor, changes=changes)
    return policy
